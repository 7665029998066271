"""The static mass balance of a chain, vectorised over regions and years.

Given recipes (``A``, ``B``: t per unit of process activity), element compositions ``C``,
activities fixed by data, processes whose activity follows the region's own consumption
("self-supply"), final demand and import-origin shares, compute for every region,
material and year: production, consumption, net imports, imports by origin, exports, and
what the data leave unbalanced:

* ``unmet``  - a region's deficit no exporter's surplus covers (a gap);
* ``unsold`` - an exporter's surplus nobody in the model takes (stock or unmodelled use);
* ``unrecorded`` - exports beyond an origin's recorded surplus (supply the data miss).

Then, for every region, material and year, by construction of separate code paths::

    production + imports + unrecorded = consumption - unmet + exports + unsold

and for every process, region, element and year::

    activity * (A.C + N) = activity * (B.C + L)

:func:`check_mass_balance` verifies both (and that world imports equal world exports) to
a relative tolerance and raises :class:`~rareflow.errors.MassBalanceError` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rareflow.errors import MassBalanceError

MAX_SELF_SUPPLY_ITERATIONS = 100


@dataclass(frozen=True)
class FlowInputs:
    """Arrays for :func:`solve_flows`. R regions, P processes, M materials, E elements,
    G stages, Y years.

    inputs, outputs : [P, M]   t of material per unit of activity
    composition     : [M, E]   mass fraction
    from_nature     : [P, E]   t taken from outside the chain per unit of activity
    losses          : [P, E]   t lost per unit of activity
    material_stage  : [M]      stage index of each material
    external        : [M] bool materials supplied from outside the chain (not traded)
    fixed_activity  : [R, P, Y] activity set by data
    self_supply     : [R, P] bool activity follows own consumption
    residual_supply : [R, P] bool self-supplied and also covering other regions' deficits
    final_demand    : [R, M, Y]
    import_shares   : [R, G, R] origin shares of net imports (NaN = pro rata to surplus)
    fixed_trade     : [R, O, M, Y] bilateral trade given as data (into R from O), or None;
                      what is left of each region's net position after it is shared out
                      by ``import_shares``
    """

    inputs: np.ndarray
    outputs: np.ndarray
    composition: np.ndarray
    from_nature: np.ndarray
    losses: np.ndarray
    material_stage: np.ndarray
    external: np.ndarray
    fixed_activity: np.ndarray
    self_supply: np.ndarray
    final_demand: np.ndarray
    import_shares: np.ndarray
    residual_supply: np.ndarray | None = None
    fixed_trade: np.ndarray | None = None

    def fixed_net_exports(self) -> np.ndarray:
        """[R, M, Y] exports less imports of the fixed bilateral trade (0 if none)."""
        if self.fixed_trade is None:
            return np.zeros_like(self.final_demand)
        net: np.ndarray = self.fixed_trade.sum(axis=0) - self.fixed_trade.sum(axis=1)
        return net


@dataclass(frozen=True)
class FlowResult:
    """Solved flows, t/yr. Axes as named."""

    activity: np.ndarray      # [R, P, Y]
    production: np.ndarray    # [R, M, Y]
    process_use: np.ndarray   # [R, M, Y]  used by processes
    consumption: np.ndarray   # [R, M, Y]  process use + final demand
    imports: np.ndarray       # [R, O, M, Y]  into region R from origin O
    exports: np.ndarray       # [R, M, Y]
    unmet: np.ndarray         # [R, M, Y]
    unsold: np.ndarray        # [R, M, Y]
    unrecorded: np.ndarray    # [R, M, Y]
    boundary_in: np.ndarray   # [R, M, Y]  external materials drawn from outside


def _resolve_self_supply(x: FlowInputs) -> np.ndarray:
    """Activity [R, P, Y] with self-supplied processes sized to own consumption.

    Fixed-point iteration: each pass sizes every self-supplied process to the region's
    consumption of its main output less what other processes make; repeats until nothing
    changes (acyclic dependencies settle in as many passes as the chain is deep).
    """
    A, B = x.inputs, x.outputs
    act = x.fixed_activity.copy()
    R, P, Y = act.shape
    ss = x.self_supply
    if not ss.any():
        return act
    main = np.argmax(B, axis=1)                  # [P] main output of each process
    main_yield = B[np.arange(P), main]           # [P]
    procs = np.flatnonzero(ss.any(axis=0))
    residual = (x.residual_supply if x.residual_supply is not None
                else np.zeros_like(ss)) & ss
    external = x.external.astype(bool)
    fixed_out = x.fixed_net_exports()
    for _ in range(MAX_SELF_SUPPLY_ITERATIONS):
        prev = act.copy()
        for p in procs:
            m = main[p]
            use = (np.einsum("rpy,p->ry", act, A[:, m]) + x.final_demand[:, m, :]
                   + (0.0 if external[m] else fixed_out[:, m, :]))
            made = np.einsum("rpy,p->ry", act, B[:, m])
            others = made - act[:, p, :] * B[p, m]
            need = np.maximum(use - others, 0.0)
            if residual[:, p].any() and not external[m]:
                # residual suppliers share the rest of the world's deficit in proportion
                # to their own use (a single one takes it all)
                served = ~ss[:, p]
                world_gap = np.maximum(use - made, 0.0)[served].sum(axis=0)     # [Y]
                weight = np.where(residual[:, p, None], use + 1e-300, 0.0)
                weight = weight / weight.sum(axis=0, keepdims=True)
                need = need + weight * world_gap[None, :]
            need = need / main_yield[p]
            act[:, p, :] = np.where(ss[:, p, None], x.fixed_activity[:, p, :] + need, act[:, p, :])
        if np.allclose(act, prev, rtol=1e-13, atol=1e-12):
            break
    return act


def solve_flows(x: FlowInputs) -> FlowResult:
    """Solve the static balance for every region and year (see module docstring)."""
    act = _resolve_self_supply(x)
    production = np.einsum("rpy,pm->rmy", act, x.outputs)
    process_use = np.einsum("rpy,pm->rmy", act, x.inputs)
    consumption = process_use + x.final_demand
    external = x.external.astype(bool)

    boundary_in = np.where(external[None, :, None], np.maximum(consumption - production, 0), 0.0)
    fixed = x.fixed_trade
    net = np.where(external[None, :, None], 0.0,
                   consumption - production + x.fixed_net_exports())      # [R, M, Y]
    deficit = np.maximum(net, 0.0)
    surplus = np.maximum(-net, 0.0)

    R, M, Y = net.shape
    imports = np.zeros((R, R, M, Y))
    for m in range(M):  # one material at a time keeps memory at one [R, O, Y] block
        if not deficit[:, m].any():
            continue
        shares = x.import_shares[:, x.material_stage[m], :]          # [R, O]
        explicit = ~np.isnan(shares[:, 0])                          # [R]
        d = deficit[:, m]                                           # [R, Y]
        # explicit origins first
        imp = (d * explicit[:, None])[:, None, :] * np.nan_to_num(shares)[:, :, None]
        remaining = np.maximum(surplus[:, m] - imp.sum(axis=0), 0.0)  # [O, Y]
        total_remaining = remaining.sum(axis=0)                     # [Y]
        need_prorata = (d * (~explicit)[:, None]).sum(axis=0)       # [Y]
        with np.errstate(invalid="ignore", divide="ignore"):
            fill = np.where(need_prorata > 0,
                            np.minimum(1.0, total_remaining / need_prorata), 0.0)
            origin_share = np.where(total_remaining > 0, remaining / total_remaining, 0.0)
        served = d * (~explicit)[:, None] * fill[None, :]            # [R, Y]
        imp += served[:, None, :] * origin_share[None, :, :]
        imports[:, :, m, :] = imp
    unmet = deficit - imports.sum(axis=1)
    shared_exports = imports.sum(axis=0)                               # [O, M, Y]
    unsold = np.maximum(surplus - shared_exports, 0.0)
    unrecorded = np.maximum(shared_exports - surplus, 0.0)
    if fixed is not None:
        imports = imports + np.where(external[None, None, :, None], 0.0, fixed)
    exports = imports.sum(axis=0)
    return FlowResult(
        activity=act, production=production, process_use=process_use, consumption=consumption,
        imports=imports, exports=exports, unmet=np.maximum(unmet, 0.0), unsold=unsold,
        unrecorded=unrecorded, boundary_in=boundary_in,
    )


def mass_balance_errors(x: FlowInputs, f: FlowResult) -> dict[str, float]:
    """Largest relative imbalance of each identity (0 when exact)."""

    def rel(lhs: np.ndarray, rhs: np.ndarray) -> float:
        scale = np.maximum(np.maximum(np.abs(lhs), np.abs(rhs)), 1e-9)
        return float(np.max(np.abs(lhs - rhs) / scale)) if lhs.size else 0.0

    supplied = f.production + f.imports.sum(axis=1) + f.unrecorded + f.boundary_in
    used = f.consumption - f.unmet + f.exports + f.unsold
    ext = x.external.astype(bool)[None, :, None]
    used = np.where(ext, used + np.maximum(f.production - f.consumption, 0), used)
    regional = rel(supplied, used)

    # per process, element imbalances relative to the process's total mass throughput
    coef_in = x.inputs @ x.composition + x.from_nature            # [P, E]
    coef_out = x.outputs @ x.composition + x.losses               # [P, E]
    imbalance = np.abs(coef_in - coef_out).max(axis=1)             # [P] t per unit activity
    throughput = np.maximum(coef_in.sum(axis=1), coef_out.sum(axis=1))
    active = (f.activity > 0).any(axis=(0, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        per_process = np.where(throughput > 0, imbalance / throughput, imbalance)
    process = float(per_process[active].max()) if active.any() else 0.0

    world = rel(f.imports.sum(axis=(0, 1)), f.exports.sum(axis=0))

    mass_in = np.einsum("rpy,pm->rpy", f.activity, x.inputs) + np.einsum(
        "rpy,pe->rpy", f.activity, x.from_nature)
    mass_out = np.einsum("rpy,pm->rpy", f.activity, x.outputs) + np.einsum(
        "rpy,pe->rpy", f.activity, x.losses)
    total = rel(mass_in, mass_out)
    return {"regional": regional, "process_elements": process, "process_mass": total,
            "world_trade": world}


def check_mass_balance(x: FlowInputs, f: FlowResult, rtol: float = 1e-9) -> float:
    """Raise :class:`MassBalanceError` if any identity is off by more than ``rtol``;
    return the largest relative error."""
    errs = mass_balance_errors(x, f)
    worst = max(errs.values())
    if not np.isfinite(worst) or worst > rtol:
        detail = ", ".join(f"{k} {v:.3g}" for k, v in errs.items())
        raise MassBalanceError(f"mass is not conserved (relative errors: {detail}; "
                               f"tolerance {rtol:g})")
    return worst
