"""Compile one year of a scenario's world into a reconciliation problem, and run the world
on its answer.

What enters (every quantity of the reconciled year, t/yr):

* **variables**: the activity of every process a region runs that touches a balanced
  material (one holding an element of ``reconcile.elements``); each uncertain process
  parameter (a convert process's yield, as its inverse ``u = 1/yield``, or a split's
  recovery) - one per process, shared by every region; each demand record; and the
  bilateral trade of every balanced material of a traded stage from regions that make it
  (or are named as origins) to regions that use it (or are named as importers);
* **balances**: for every region and balanced material, production - process use + imports
  - exports - final demand = 0 (element balances of every process hold through the
  recipes, and world trade balances because each flow is an export of one region and an
  import of another);
* **figures**: the activity facilities and production records give (per region and
  process), each demand record, each uncertain parameter of a process that carries a
  confidence label, each import share, and each ``reconcile.reported`` figure. A figure's
  standard deviation is its record's ``uncertainty`` (relative), the half-width of its
  stated range over 1.96, or the section's rule for its confidence label.

The answer (:class:`WorldReconciliation`) is applied to the arrays the static balance runs
on: reported activities and demand records are scaled to their reconciled values for every
year, process parameters take their reconciled values, the reconciled year's bilateral
trade is given to the balance as data and its origin shares serve the other years.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from rareflow.errors import Problem, RareflowInputError
from rareflow.model.arrays import (
    ModelArrays,
    demand_series,
    facility_series,
    production_series,
)

Z95 = 1.959963984540054
TRADE_FLOOR = 1e-3      # t/yr: a reconciled flow below 1 kg/yr is solver dust, not trade
TRADE_TIEBREAK = 1e-6   # chi2 per t/yr of trade: picks the least trade among equal fits
MIN_SHARED_IMPORTS = 10.0   # t/yr: import shares of smaller flows are not figures


@dataclass(frozen=True)
class FigureInfo:
    id: str
    kind: str            # activity | demand | yield | recovery | import_share | reported
    label: str
    reported: float
    sigma: float
    unit: str


@dataclass(frozen=True)
class YearReconciliation:
    """Another model year, reconciled on the anchor year's answer."""

    year: int
    figures: tuple[FigureInfo, ...]
    result: Any
    balance_names: tuple[str, ...]

    def summary(self, top: int = 5) -> dict[str, Any]:
        r = self.result
        order = np.argsort(-np.abs(r.moved_sigma), kind="stable")[:top]
        return {"year": self.year, "chi2": _stat(r.chi2), "dof": r.dof,
                "p_value": _stat(r.p_value), "converged": r.success,
                "max_balance_residual": _num(r.max_balance_residual),
                "n_figures": len(self.figures), "n_flags": len(r.flags),
                "moved_most": [{"id": self.figures[i].id, "label": self.figures[i].label,
                                "reported": _num(self.figures[i].reported),
                                "reconciled": _num(r.reconciled[i]),
                                "moved_sigma": _stat(r.moved_sigma[i])} for i in order]}


def _num(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _stat(x: float, scale: float = 1.0) -> float | None:
    # statistics come from a pseudo-inverse whose last digits depend on the BLAS kernel,
    # not on the data: 4 significant digits, and rounding dust is 0
    if not np.isfinite(x):
        return None
    return 0.0 if abs(x) < 1e-9 * max(abs(scale), 1.0) else float(f"{float(x):.4g}")


@dataclass(frozen=True)
class WorldReconciliation:
    """A reconciled year (see the module docstring)."""

    year: int
    applied: bool
    figures: tuple[FigureInfo, ...]
    result: Any                          # rareflow.engines.reconcile.ReconcileResult
    variables: tuple[str, ...]
    balance_names: tuple[str, ...]
    parameters: dict[str, tuple[str, float, float]]   # process -> (field, reported, reconciled)
    years: tuple[YearReconciliation, ...] = ()          # the other model years, reconciled
    # compositions figure -> (material, elements, reported share, reconciled share)
    compositions: dict[str, tuple[str, str, float, float]] = field(default_factory=dict)

    def summary(self, top: int | None = None) -> dict[str, Any]:
        """``{"chi2", "dof", "p_value", "figures": [...], "flags": [...]}`` (figures sorted by
        how far they moved, in standard deviations)."""
        r = self.result
        order = np.argsort(-np.abs(r.moved_sigma), kind="stable")
        if top is not None:
            order = order[:top]

        num, stat = _num, _stat

        figs = []
        for i in order:
            f = self.figures[i]
            figs.append({"id": f.id, "kind": f.kind, "label": f.label, "unit": f.unit,
                         "reported": num(f.reported), "reconciled": num(r.reconciled[i]),
                         "sigma": num(f.sigma),
                         "reconciled_sigma": stat(r.reconciled_sigma[i], f.sigma),
                         "moved_sigma": stat(r.moved_sigma[i]),
                         "normalized_residual": stat(r.normalized_residual[i])})
        flags = [{"id": self.figures[i].id, "label": self.figures[i].label,
                  "reported": num(self.figures[i].reported), "reconciled": num(r.reconciled[i]),
                  "normalized_residual": stat(r.normalized_residual[i])} for i in r.flags]
        worst = np.argsort(-r.balance_chi2, kind="stable")[:10]
        return {"year": self.year, "applied": self.applied, "chi2": num(r.chi2), "dof": r.dof,
                "p_value": stat(r.p_value), "critical_normalized_residual": stat(r.critical),
                "converged": r.success, "max_balance_residual": num(r.max_balance_residual),
                "n_figures": len(self.figures), "n_variables": len(self.variables),
                "n_balances": len(self.balance_names),
                "figures": figs, "flags": flags,
                "balances": [{"balance": self.balance_names[k], "chi2": stat(r.balance_chi2[k]),
                              "figures": int(r.balance_figures[k])} for k in worst
                             if r.balance_figures[k] > 0],
                "compositions": [{"id": cid, "material": mid, "elements": els,
                                  "reported": num(rep), "reconciled": num(new)}
                                 for cid, (mid, els, rep, new) in self.compositions.items()],
                "other_years": [y.summary() for y in self.years]}


# ------------------------------------------------------------------------------- compile

class _Builder:
    """Variables, affine-bilinear rows and figures, built up one by one."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.start: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.index: dict[Any, int] = {}
        self.rows: dict[str, list[Any]] = {"bal": [], "fig": []}
        self.figs: list[FigureInfo] = []

    def var(self, key: Any, name: str, start: float, lower: float = 0.0,
            upper: float = np.inf) -> int:
        if key not in self.index:
            self.index[key] = len(self.names)
            self.names.append(name)
            self.start.append(start)
            self.lower.append(lower)
            self.upper.append(upper)
        return self.index[key]

    def row(self, kind: str) -> dict[str, Any]:
        r: dict[str, Any] = {"lin": {}, "bi": [], "const": 0.0}
        self.rows[kind].append(r)
        return r

    @staticmethod
    def add(r: dict[str, Any], i: int, c: float) -> None:
        if c:
            r["lin"][i] = r["lin"].get(i, 0.0) + c

    @staticmethod
    def add_bi(r: dict[str, Any], i: int, j: int, c: float) -> None:
        if c:
            r["bi"].append((i, j, c))

    def assemble(self, kind: str) -> Any:
        from rareflow.engines.reconcile import Rows

        rows = self.rows[kind]
        lin = np.zeros((len(rows), len(self.names)))
        const = np.zeros(len(rows))
        ri, ai, bi, co = [], [], [], []
        for k, r in enumerate(rows):
            for i, c in r["lin"].items():
                lin[k, i] += c
            const[k] = r["const"]
            for i, j, c in r["bi"]:
                ri.append(k)
                ai.append(i)
                bi.append(j)
                co.append(c)
        return Rows(lin, const, np.array(ri, int), np.array(ai, int), np.array(bi, int),
                    np.array(co, float))


@dataclass(frozen=True)
class Carried:
    """What the anchor year's reconciliation carries into another model year's problem."""

    year: int
    demand_scale: dict[str, float]            # demand record -> reconciled / reported
    active: tuple[tuple[int, int], ...] = ()  # (region, process) that run without a record


def _members(regions: list[str], arrays: ModelArrays, code: str | None, *,
             but: str | None = None) -> list[int]:
    """Indices of a region, a region group or ``world`` (every region but ``but``)."""
    if code is None or code == "world":
        return [i for i, rr in enumerate(regions) if rr != but]
    groups = {g: list(v) for g, v in arrays.groups.items()}
    if code in groups:
        return [regions.index(c) for c in groups[code] if c in regions]
    return [regions.index(code)]


def _family(chain: Any, process: str) -> list[str]:
    """A process and its grade variants."""
    return [process, *chain.grade_variants.get(process, {}).values()]


def _label(rep: Any) -> str:
    side = ""
    if rep.partner and rep.kind == "exports":
        side = f"->{rep.partner}"
    elif rep.partner and rep.kind == "imports":
        side = f" from {rep.partner}"
    what = rep.stage or ",".join(rep.materials or [])
    elements = f" ({'+'.join(rep.elements)})" if rep.elements else ""
    return f"{rep.kind} {rep.region}{side} {what}{elements}"


def _cv(rec: Any, rule: Any) -> float:
    if getattr(rec, "uncertainty", None) is not None:
        return float(rec.uncertainty)
    conf = getattr(rec, "confidence", None) or "low"
    return float(getattr(rule, conf))


def _parameter_coefficients(scenario: Any, arrays: ModelArrays, procs: list[int]
                            ) -> dict[int, tuple[str, float, np.ndarray, np.ndarray]]:
    """For each uncertain process: (field, value, alpha[M], beta[M]) with its net output
    coefficients ``B - A = alpha + beta * theta`` (theta = 1/yield or recovery)."""
    from rareflow.model.chain import compile_chain

    cf = scenario.chain_file
    chain = arrays.chain
    out: dict[int, tuple[str, float, np.ndarray, np.ndarray]] = {}
    for k in procs:
        pid = chain.processes[k]
        proc = cf.processes[pid]
        if proc.confidence is None:
            continue                      # an assumption, not a reported figure
        if proc.kind == "convert" and proc.yield_ is not None and proc.yield_ < 1.0:
            fld, value = "yield_", float(proc.yield_)
            theta0, value1 = 1.0 / value, value * 0.9
            theta1 = 1.0 / value1
        elif proc.kind == "split" and proc.recovery is not None:
            fld, value = "recovery", float(proc.recovery)
            theta0, value1 = value, value * 0.9
            theta1 = value1
        else:
            continue
        procs_changed = dict(cf.processes)
        procs_changed[pid] = proc.model_copy(update={fld: value1})
        other = compile_chain(cf.model_copy(update={"processes": procs_changed}))
        n0 = chain.outputs[k] - chain.inputs[k]
        n1 = other.outputs[k] - other.inputs[k]
        beta = (n1 - n0) / (theta1 - theta0)
        out[k] = (fld, value, n0 - beta * theta0, beta)
    return out


def _share_field(mat: Any, by_constituents: bool) -> str | None:
    if by_constituents:
        return "constituents" if mat.constituents is not None else None
    return "oxides" if mat.oxides is not None else (
        "composition" if mat.composition is not None else None)


def composition_share(mat: Any, parts: list[str], *, by_constituents: bool = False
                      ) -> float | None:
    """The share of ``parts`` in a chain material: elements of one given by ``oxides`` (t
    of their oxides per t REO) or ``composition``, or materials of one given by
    ``constituents`` (t per t); None where the material is given otherwise."""
    fld = _share_field(mat, by_constituents)
    if fld is None:
        return None
    return float(sum(v for e, v in getattr(mat, fld).items() if e in parts))


def scaled_material(mat: Any, parts: list[str], s0: float, s: float, *,
                    by_constituents: bool = False, against: list[str] | None = None) -> Any:
    """``mat`` with the share of ``parts`` moved from ``s0`` to ``s``: they scale by
    s/s0, and ``against`` (or, without it, every other part, including what the
    distribution leaves unsplit) makes up the difference in proportion, so the material
    still sums to what it did."""
    fld = _share_field(mat, by_constituents)
    assert fld is not None
    given = dict(getattr(mat, fld))
    rest = [e for e in given if e not in parts and (against is None or e in against)]
    t0 = (1.0 - s0) if against is None else sum(given[e] for e in rest)
    g_in, g_rest = s / s0, (t0 - (s - s0)) / t0
    return mat.model_copy(update={fld: {e: v * (g_in if e in parts else
                                                 g_rest if e in rest else 1.0)
                                        for e, v in given.items()}})


@dataclass(frozen=True)
class _Composition:
    cid: str
    material: str
    parts: tuple[str, ...]
    s0: float                  # the chain's share (where the problem is linearised)
    reported: float            # the figure
    sigma: float
    d_outputs: np.ndarray      # d(chain.outputs)/ds  [P, M]
    d_inputs: np.ndarray       # d(chain.inputs)/ds  [P, M]
    d_composition: np.ndarray  # d(chain.composition)/ds  [M, E]

    def scaled(self, mat: Any, s: float, comp: Any) -> Any:
        return scaled_material(mat, list(self.parts), self.s0, s,
                               by_constituents=comp.constituents is not None,
                               against=comp.against)


def _composition_coefficients(scenario: Any) -> dict[str, _Composition]:
    """Each ``reconcile.compositions`` figure, with how the chain's coefficients and
    material compositions move per unit of its share (all linear in it)."""
    from rareflow.model.chain import compile_chain

    sec = scenario.spec.reconcile
    cf = scenario.chain_file
    out: dict[str, _Composition] = {}
    if not sec.compositions:
        return out
    base = compile_chain(cf)
    for cid, comp in sec.compositions.items():
        if comp is None:
            continue
        # names, the share's range and `against` were checked when the scenario was built
        mat = cf.materials[comp.material]
        s0 = composition_share(mat, comp.parts, by_constituents=comp.constituents is not None)
        assert s0 is not None and 0.0 < s0 < 1.0
        proto = _Composition(cid, comp.material, tuple(comp.parts), s0, 0.0, 0.0,
                             np.zeros(0), np.zeros(0), np.zeros(0))
        s1 = s0 + 0.1 * min(s0, 1.0 - s0)
        other = compile_chain(cf.model_copy(update={"materials": {
            **cf.materials, comp.material: proto.scaled(mat, s1, comp)}}))
        reported = float(comp.value) if comp.value is not None else s0
        rel = _cv(comp, sec.rule)
        out[cid] = replace(proto, reported=reported, sigma=rel * reported,
                           d_outputs=(other.outputs - base.outputs) / (s1 - s0),
                           d_inputs=(other.inputs - base.inputs) / (s1 - s0),
                           d_composition=(other.composition - base.composition) / (s1 - s0))
    return out


def build_problem(scenario: Any, arrays: ModelArrays, base: Any, *,
                  carried: Carried | None = None) -> tuple[Any, _Builder, dict[str, Any]]:
    """The reconciliation problem of ``scenario.spec.reconcile.year``, or, with ``carried``,
    of another model year of the world the anchor year's reconciliation gave.

    ``base`` is the static balance of ``arrays`` (a FlowResult), used for the starting
    point and to know which flows exist. In another year (``carried``) ``arrays`` are the
    reconciled ones: process parameters are held at their reconciled values (no
    variables), the activity and demand figures are that year's values with the anchor
    year's corrections carried forward (same relative sigma), and the ``reported`` figures,
    which describe the anchor year, are left out.
    """
    from rareflow.engines.reconcile import ReconcileProblem

    sec = scenario.spec.reconcile
    chain = arrays.chain
    years = list(arrays.years)
    if sec.year not in years:
        raise RareflowInputError([Problem(f"reconcile.year {sec.year} is not a model year "
                                          f"({years[0]}..{years[-1]})", path="reconcile.year")])
    iy = years.index(sec.year if carried is None else carried.year)
    regions = list(arrays.regions)
    R, M = len(regions), len(chain.materials)
    el = [chain.elements.index(e) for e in sec.elements if e in chain.elements]
    unknown = [e for e in sec.elements if e not in chain.elements]
    if unknown:
        raise RareflowInputError([Problem(f"unknown element(s) {', '.join(unknown)}",
                                          path="reconcile.elements")])
    C = chain.composition
    balanced = (C[:, el].sum(axis=1) > 0) & ~np.array([m in chain.external_materials
                                                       for m in chain.materials])
    trade_stages = sec.trade_stages or [g for g in chain.stages
                                        if chain.stage_kind.get(g) in ("conversion", "extraction", None)
                                        or any(ms == g for ms in chain.material_stage)]
    traded = balanced & np.array([chain.material_stage[m] in trade_stages for m in range(M)])
    A, B = chain.inputs, chain.outputs
    touches = np.asarray(((A[:, balanced] > 0) | (B[:, balanced] > 0)).any(axis=1), bool)
    act0 = base.activity[:, :, iy]
    b = _Builder()

    # --- process activity --------------------------------------------------------------
    active = np.asarray((act0 > 0) | (arrays.fixed_activity[:, :, iy] > 0) | arrays.self_supply,
                        bool)
    active &= touches[None, :]
    x = {}
    for r, k in zip(*np.nonzero(active), strict=True):
        x[(r, k)] = b.var(("x", r, k), f"activity {regions[r]} {chain.processes[k]}",
                          float(act0[r, k]))
    for (r, k) in (carried.active if carried is not None else ()):
        if (r, k) not in x:
            x[(r, k)] = b.var(("x", r, k), f"activity {regions[r]} {chain.processes[k]}",
                              float(act0[r, k]))
    for rep in sec.reported.values():
        # a process a reported figure names runs where the figure is counted, even if no
        # record gives its activity (its start is what the figure implies, roughly)
        if carried is not None or rep is None or rep.process is None:
            continue
        for r in _members(regions, arrays, rep.region):
            for pid in _family(chain, rep.process):
                k = chain.p(pid)
                if (r, k) not in x:
                    x[(r, k)] = b.var(("x", r, k), f"activity {regions[r]} {pid}",
                                      float(rep.value))
    params = ({} if carried is not None
              else _parameter_coefficients(scenario, arrays, sorted({k for _, k in x})))
    # a process and its grade variants share one parameter where they state the same value
    # (one machining yield, one recovery), so the figure enters once
    base_of = {v: bb for bb, vs in chain.grade_variants.items() for v in vs.values()}
    theta: dict[int, int] = {}
    shared: dict[tuple[str, str, float], int] = {}
    owner: dict[int, int] = {}                 # theta variable -> the process naming it
    for k, (fld, value, _a, _b) in params.items():
        pid = chain.processes[k]
        root = (base_of.get(pid, pid), fld, value)
        if root in shared:
            theta[k] = shared[root]
            continue
        t0 = 1.0 / value if fld == "yield_" else value
        lo, hi = (1.0, np.inf) if fld == "yield_" else (1e-6, 1.0)
        name = root[0] if root[0] in chain.processes else pid
        theta[k] = shared[root] = b.var(
            ("theta", k), f"{'1/yield' if fld == 'yield_' else 'recovery'} {name}", t0, lo, hi)
        owner[theta[k]] = chain.p(name)

    # stand-in distributions whose share of some elements is estimated: one variable per
    # figure; a split fed by such a material makes its products in proportion to it (with
    # an uncertain recovery too, through y = recovery x activity, its recovered feed)
    comps = {} if carried is not None else _composition_coefficients(scenario)
    svar: dict[str, int] = {}
    comp_of: dict[int, list[str]] = {}
    for cid, cp in comps.items():
        svar[cid] = b.var(("s", cid), f"share of {'+'.join(cp.parts)} in {cp.material}",
                          cp.s0, 0.0, 1.0)
        moved = (np.abs(cp.d_outputs).sum(axis=1) + np.abs(cp.d_inputs).sum(axis=1)) > 1e-12
        for k in map(int, np.flatnonzero(moved)):
            if k in params and np.abs(cp.d_inputs[k]).sum() > 1e-12:
                raise RareflowInputError([Problem(
                    f"{chain.processes[k]}'s inputs depend on {cp.material}'s share and its "
                    f"{params[k][0].rstrip('_')} is uncertain too; estimate one of them",
                    path=f"reconcile.compositions.{cid}")])
            comp_of.setdefault(k, []).append(cid)
    aux: dict[tuple[int, int], int] = {}
    for (r, k) in x:
        if k in comp_of and k in params:
            aux[(r, k)] = b.var(("y", r, k), f"recovered feed {regions[r]} {chain.processes[k]}",
                                float(act0[r, k]) * params[k][1])

    def moved_terms(row: dict[str, Any], r: int, k: int, i: int, m: int, w_out: float,
                    w_in: float) -> None:
        """``w_out`` x output - ``w_in`` x input of material ``m`` by process ``k`` (activity
        variable ``i``) in region ``r``, where estimated shares move its coefficients."""
        if k in params:               # a split's recovery x share: via the recovered feed y
            _f, th0, _alpha, beta = params[k]
            assert chain.process_kind[k] == "split"
            yv = aux[(r, k)]
            _Builder.add(row, i, -w_in * A[k, m])
            lin_y = w_out * beta[m]
            for cid in comp_of[k]:
                cp = comps[cid]
                d = w_out * cp.d_outputs[k, m] / th0
                lin_y -= d * cp.s0
                _Builder.add_bi(row, yv, svar[cid], d)
            _Builder.add(row, yv, lin_y)
            return
        lin = w_out * B[k, m] - w_in * A[k, m]
        for cid in comp_of[k]:
            cp = comps[cid]
            d = w_out * cp.d_outputs[k, m] - w_in * cp.d_inputs[k, m]
            lin -= d * cp.s0
            _Builder.add_bi(row, i, svar[cid], d)
        _Builder.add(row, i, lin)

    # --- demand records -----------------------------------------------------------------
    d_rows: list[tuple[str, int, int, int, float, Any]] = []
    for did, d in scenario.spec.demand.items():
        if d is None:
            continue
        m = chain.m(d.material)
        if not balanced[m]:
            continue
        q = float(demand_series(chain, d, years)[iy])
        if carried is not None:
            q *= carried.demand_scale.get(did, 1.0)
        if q <= 0:
            continue
        r = regions.index(d.region)
        d_rows.append((did, r, arrays.sectors.index(d.sector), m, q, d))
    dvar = {did: b.var(("d", did), f"demand {did}", q) for did, _r, _s, _m, q, _d in d_rows}
    # a balanced material a region makes that no process in the model uses goes to the
    # sectors the chain says use it, with no figure: that use is named but not measured
    used_somewhere = np.zeros(M, bool)
    for (_r, k) in x:
        used_somewhere |= A[k] > 0
    for _did, _r, _s, m, _q, _d in d_rows:
        used_somewhere[m] = True
    # so may what a region makes that a sector the chain marks `unmeasured` uses, where no
    # demand record measures that use in the region (separated oxides' other uses)
    recorded = {(r, s, m) for _did, r, s, m, _q, _d in d_rows}
    unmeasured = [si for si, sec in enumerate(arrays.sectors) if sec in chain.unmeasured_sectors]
    open_use: dict[tuple[int, int, int], int] = {}

    def open_one(r: int, si: int, m: int) -> None:
        if (r, si, m) not in open_use and (r, si, m) not in recorded:
            open_use[(r, si, m)] = b.var(
                ("u", r, si, m),
                f"use of {chain.materials[m]} in {regions[r]} ({arrays.sectors[si]}, "
                "no figure)", float(base.production[r, m, iy]))

    for (r, k) in x:
        for m in map(int, np.flatnonzero((B[k] > 0) & balanced)):
            users = [si for si, sec in enumerate(arrays.sectors)
                     if chain.materials[m] in chain.sectors.get(sec, [])]
            if users and not used_somewhere[m]:
                open_one(r, users[0], m)
            for si in unmeasured:
                if si in users:
                    open_one(r, si, m)

    # --- trade ------------------------------------------------------------------------------
    uses = np.zeros((R, M), bool)
    makes = np.zeros((R, M), bool)
    for (r, k) in x:
        uses[r] |= A[k] > 0
        makes[r] |= B[k] > 0
    for _did, r, _s, m, _q, _d in d_rows:
        uses[r, m] = True
    # a stage's import shares are shares of its products, not of its scrap
    stage_of = {g: [m for m in range(M) if traded[m] and chain.material_stage[m] == g
                    and chain.materials[m] not in chain.scrap_materials]
                for g in chain.stages}
    named_origin = np.zeros((R, M), bool)
    named_dest = np.zeros((R, M), bool)

    def members(code: str | None, *, but: str | None = None) -> list[int]:
        return _members(regions, arrays, code, but=but)

    def measured(rep: Any) -> list[int]:
        if rep.materials is not None:
            return [chain.m(mm) for mm in rep.materials]
        return [m for m in range(M) if chain.material_stage[m] == rep.stage]

    for _tid, t in scenario.spec.trade.import_shares.items():
        if t is None:
            continue
        for m in stage_of.get(t.stage, []):
            named_dest[regions.index(t.region), m] = True
            for o in t.origins:
                named_origin[regions.index(o), m] = True
    for _rid, rep in sec.reported.items():
        if carried is not None or rep is None or rep.kind not in ("exports", "imports"):
            continue
        exp_side, imp_side = ((rep.region, rep.partner) if rep.kind == "exports"
                              else (rep.partner, rep.region))
        other = rep.region if rep.kind == "exports" else rep.partner
        for m in measured(rep):
            if traded[m]:
                for o in members(exp_side):
                    named_origin[o, m] = True
                for dd in members(imp_side, but=other if imp_side == "world" else None):
                    named_dest[dd, m] = True
    # a region a reported figure names as the exporter of a material does not import it
    # back unless a figure names it as an importer too: a round trip (out, and back in,
    # unmeasured) would let any gross export figure be met by trade alone
    exporter_only = np.zeros((R, M), bool)
    for _rid, rep in sec.reported.items():
        if carried is not None or rep is None or rep.kind != "exports":
            continue
        for m in measured(rep):
            if traded[m]:
                for o in members(rep.region):
                    exporter_only[o, m] = True
    origin = (makes | named_origin) & traded[None, :]
    dest = (uses | named_dest) & traded[None, :] & ~(exporter_only & ~named_dest)
    t = {}
    for m in map(int, np.flatnonzero(traded)):
        for o in map(int, np.flatnonzero(origin[:, m])):
            for dd in map(int, np.flatnonzero(dest[:, m])):
                if o != dd:
                    t[(o, dd, m)] = b.var(("t", o, dd, m),
                                          f"trade {chain.materials[m]} {regions[o]}->{regions[dd]}",
                                          float(base.imports[dd, o, m, iy]))

    # --- balances ------------------------------------------------------------------------
    bal_names: list[str] = []
    for r in range(R):
        for m in map(int, np.flatnonzero(balanced)):
            row: dict[str, Any] = {"lin": {}, "bi": [], "const": 0.0}
            for (rr, k), i in x.items():
                if rr != r:
                    continue
                if k in comp_of:
                    moved_terms(row, r, k, i, m, 1.0, 1.0)
                elif k in params:
                    _f, _v, alpha, beta = params[k]
                    _Builder.add(row, i, alpha[m])
                    _Builder.add_bi(row, i, theta[k], beta[m])
                else:
                    _Builder.add(row, i, B[k, m] - A[k, m])
            for (o, dd, mm), i in t.items():
                if mm == m and dd == r:
                    _Builder.add(row, i, 1.0)
                if mm == m and o == r:
                    _Builder.add(row, i, -1.0)
            for did, rr, _s, mm, _q, _d in d_rows:
                if rr == r and mm == m:
                    _Builder.add(row, dvar[did], -1.0)
            for (rr, _s, mm), i in open_use.items():
                if rr == r and mm == m:
                    _Builder.add(row, i, -1.0)
            if row["lin"] or row["bi"]:
                b.rows["bal"].append(row)
                bal_names.append(f"{regions[r]} {chain.materials[m]}")
    for (r, k), yv in aux.items():
        row = {"lin": {}, "bi": [], "const": 0.0}
        _Builder.add(row, yv, 1.0)
        _Builder.add_bi(row, x[(r, k)], theta[k], -1.0)
        b.rows["bal"].append(row)
        bal_names.append(f"{regions[r]} {chain.processes[k]} recovered feed")

    # --- figures -----------------------------------------------------------------------------
    rule = sec.rule
    spec = scenario.spec
    given: dict[tuple[int, int], list[tuple[str, float, float]]] = {}
    for section, records, series in (("facilities", spec.facilities, facility_series),
                                     ("production", spec.production, production_series)):
        for rid, rec in records.items():
            if rec is None:
                continue
            v = float(series(chain, rec, years)[iy])
            if v > 0:
                given.setdefault((regions.index(rec.region), chain.p(rec.process)), []).append(
                    (f"{section}.{rid}", v, _cv(rec, rule) * v))
    families: list[tuple[list[str], list[int], float]] = []
    for (r, k0), recs in given.items():
        # a base process's figure counts the activity of it and its grade variants
        family = [chain.p(pid) for pid in _family(chain, chain.processes[k0])]
        idx = [x[(r, k)] for k in family if (r, k) in x]
        if not idx:
            continue
        row = b.row("fig")
        for i in idx:
            _Builder.add(row, i, 1.0)
        total = sum(v for _, v, _ in recs)
        sigma = float(np.sqrt(sum(s ** 2 for _, _, s in recs)))
        if carried is not None and total > 0:
            # the anchor year's correction carried forward: the reconciled world's value
            now = float(sum(arrays.fixed_activity[r, k, iy] for k in family))
            sigma, total = sigma * now / total, now
        families.append(([i for i, _, _ in recs], idx, total))
        ids = " + ".join(i for i, _, _ in recs)
        b.figs.append(FigureInfo(ids, "activity", f"{regions[r]} {chain.processes[k0]}",
                                 total, sigma, f"t/yr ({chain.activity_basis[k0]})"))
    for did, _r, _s, _m, q, d in d_rows:
        row = b.row("fig")
        _Builder.add(row, dvar[did], 1.0)
        b.figs.append(FigureInfo(f"demand.{did}", "demand", f"{d.region} {d.sector} {d.material}",
                                 q, _cv(d, rule) * q, "t/yr"))
    seen: set[int] = set()
    for k, (fld, value, _a, _b) in params.items():
        if theta[k] in seen:
            continue
        seen.add(theta[k])
        pid = chain.processes[owner[theta[k]]]
        sharing = [chain.processes[kk] for kk in params if theta[kk] == theta[k]]
        also = (f" and its {len(sharing) - 1} grade variant(s)"
                if len(sharing) > 1 else "")
        proc = scenario.chain_file.processes[pid]
        sd = _cv(proc, rule) * value
        row = b.row("fig")
        _Builder.add(row, theta[k], 1.0)
        if fld == "yield_":
            b.figs.append(FigureInfo(f"processes.{pid}.yield", "yield",
                                     f"1/yield of {pid}{also} (yield {value:g})",
                                     1.0 / value, sd / value ** 2, "t input per t output"))
        else:
            b.figs.append(FigureInfo(f"processes.{pid}.recovery", "recovery",
                                     f"recovery of {pid}{also}", value, sd, "fraction"))
    for tid, tr in spec.trade.import_shares.items():
        if tr is None or carried is not None:
            continue      # shares describe the anchor year; other years may re-route
        dd = regions.index(tr.region)
        mats = stage_of.get(tr.stage, [])
        into = [(i, o) for (o, d2, mm), i in t.items() if d2 == dd and mm in mats]
        if not into:
            continue
        total0 = float(sum(base.imports[dd, o, mm, iy] for o in range(R) for mm in mats))
        if total0 < MIN_SHARED_IMPORTS:
            continue      # shares of (next to) nothing would pin flows to zero
        for o_code, share in tr.origins.items():
            o = regions.index(o_code)
            row = b.row("fig")
            for i, oo in into:
                _Builder.add(row, i, (1.0 if oo == o else 0.0) - share)
            sd = max(_cv(tr, rule) * max(share, 0.02), 1e-6) * max(total0, 1.0)
            b.figs.append(FigureInfo(f"trade.import_shares.{tid}.{o_code}", "import_share",
                                     f"{tr.region} {tr.stage} imports: share from {o_code} "
                                     f"{share:.3g} (as imports from {o_code} - share x total)",
                                     0.0, sd, "t/yr"))
    comp_mat: dict[int, list[str]] = {}
    for cid, cp in comps.items():
        row = b.row("fig")
        _Builder.add(row, svar[cid], 1.0)
        b.figs.append(FigureInfo(f"reconcile.compositions.{cid}", "composition",
                                 f"share of {'+'.join(cp.parts)} in {cp.material}",
                                 cp.reported, cp.sigma, "t per t"))
        for mm in map(int, np.flatnonzero(np.abs(cp.d_composition).sum(axis=1) > 1e-12)):
            comp_mat.setdefault(mm, []).append(cid)
    for rid, rep in sec.reported.items():
        if rep is None or carried is not None:
            continue
        mats = measured(rep)
        rep_el = [chain.elements.index(e) for e in rep.elements or []]
        w = C[:, rep_el].sum(axis=1) if rep.elements else np.ones(M)
        row = b.row("fig")
        if rep.kind in ("exports", "imports"):
            exp_side = members(rep.region if rep.kind == "exports" else rep.partner,
                               but=rep.partner if rep.kind == "imports" else None)
            imp_side = members(rep.partner if rep.kind == "exports" else rep.region,
                               but=rep.region if rep.kind == "exports" else None)
            for (o, dd, mm), i in t.items():
                if mm in mats and o in exp_side and dd in imp_side:
                    _Builder.add(row, i, w[mm])
        else:
            rs = members(rep.region)
            for (r, k), i in x.items():
                if r not in rs or (rep.process is not None
                                   and chain.processes[k] not in _family(chain, rep.process)):
                    continue
                for mm in mats:
                    if rep.kind == "production":
                        coef_b = B[k, mm]
                        if k in comp_of:
                            moved_terms(row, r, k, i, mm, float(w[mm]), 0.0)
                            continue
                        if rep.elements and coef_b and comp_mat.get(mm):
                            # the material's element content moves with its share
                            for cid in comp_mat[mm]:
                                cp = comps[cid]
                                dw = float(cp.d_composition[mm, rep_el].sum())
                                _Builder.add(row, i, -dw * cp.s0 * coef_b)
                                _Builder.add_bi(row, i, svar[cid], dw * coef_b)
                        if k in params and chain.process_kind[k] == "split":
                            _f, value, _a, _b = params[k]
                            _Builder.add_bi(row, i, theta[k], w[mm] * coef_b / value)
                            continue
                        _Builder.add(row, i, w[mm] * coef_b)
                    else:
                        if k in comp_of:
                            moved_terms(row, r, k, i, mm, 0.0, float(w[mm]))
                            continue
                        if k in params and chain.process_kind[k] == "convert":
                            _f, value, _a, _b = params[k]
                            _Builder.add_bi(row, i, theta[k], w[mm] * A[k, mm] * value)
                            continue
                        _Builder.add(row, i, w[mm] * A[k, mm])
            if rep.kind == "consumption":
                for did, r, _s, mm, _q, _d in d_rows:
                    if r in rs and mm in mats:
                        _Builder.add(row, dvar[did], w[mm])
        if rep.range is not None:
            sd = (rep.range[1] - rep.range[0]) / 2.0 / Z95
        else:
            sd = _cv(rep, rule) * rep.value
        b.figs.append(FigureInfo(f"reconcile.reported.{rid}", "reported", _label(rep),
                                 float(rep.value), max(float(sd), 1e-9), "t/yr"))

    sig = np.array([f.sigma for f in b.figs])
    # a flow figure of (next to) nothing is known to a floor (a millionth of the largest
    # flow figure); yields, recoveries and shares, on their own scale, to 1e-6
    flow = np.array([f.unit.startswith("t/yr") for f in b.figs], bool)
    floor = 1e-6 * max(float(np.max(np.abs([f.reported for f in b.figs] or [1.0]))), 1.0)
    sig = np.maximum(sig, np.where(flow, floor, 1e-6))
    # among states that reconcile the figures equally well, the one with the least trade:
    # 1e-6 of chi2 per t/yr of a flow, against 1 per sigma of a figure
    tiebreak = np.zeros(len(b.names))
    tiebreak[list(t.values())] = TRADE_TIEBREAK
    prob = ReconcileProblem(
        variables=tuple(b.names), start=np.array(b.start), lower=np.array(b.lower),
        upper=np.array(b.upper), balances=b.assemble("bal"), balance_names=tuple(bal_names),
        figures=b.assemble("fig"), figure_ids=tuple(f.id for f in b.figs),
        reported=np.array([f.reported for f in b.figs]), sigma=sig, tiebreak=tiebreak)
    ctx = {"iy": iy, "x": x, "theta": theta, "params": params, "t": t, "dvar": dvar,
           "comps": comps, "svar": svar,
           "d_rows": d_rows, "traded": traded, "open_use": open_use, "families": families}
    return prob, b, ctx


# ---------------------------------------------------------------------------------- apply

CACHE_SIZE = 8
_CACHE: dict[str, Any] = {}
_NOT_READ = {"name", "description", "stress", "plan", "economics", "world_summary"}


def _cache_key(scenario: Any, arrays: ModelArrays) -> str:
    """The same figures give the same reconciliation: key on what enters it."""
    import hashlib

    h = hashlib.sha256()
    # sections the reconciliation does not read (a sweep over stress settings or plan
    # options shares one reconciliation)
    h.update(scenario.spec.model_dump_json(exclude=_NOT_READ).encode())
    if scenario.chain_file is not None:
        h.update(scenario.chain_file.model_dump_json().encode())
    for a in (arrays.fixed_activity, arrays.final_demand, arrays.import_shares):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _solve(scenario: Any, arrays: ModelArrays, base: Any) -> Any:
    """Build and solve every reconciliation of ``scenario`` (cached on its inputs)."""
    from rareflow.engines.flows import solve_flows
    from rareflow.engines.reconcile import reconcile
    from rareflow.model.arrays import flow_inputs

    sec = scenario.spec.reconcile
    key = _cache_key(scenario, arrays)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    prob, b, ctx = build_problem(scenario, arrays, base)
    res = reconcile(prob, alpha=sec.alpha)
    out, carried = _apply_anchor(scenario, arrays, prob, b, ctx, res)
    years: list[tuple[int, Any, Any, dict[str, Any], Any]] = []
    if sec.apply and sec.every_year:
        base_all = solve_flows(flow_inputs(out))
        for y in arrays.years:
            if y == sec.year:
                continue
            cy = replace(carried, year=int(y))
            py, by, cty = build_problem(scenario, out, base_all, carried=cy)
            years.append((int(y), py, by, cty, reconcile(py, alpha=sec.alpha)))
    hit = (prob, b, ctx, res, out, carried, years)
    if len(_CACHE) >= CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = hit
    return hit


def _apply_anchor(scenario: Any, arrays: ModelArrays, prob: Any, b: _Builder,
                  ctx: dict[str, Any], res: Any) -> tuple[ModelArrays, Carried]:
    """The arrays of the reconciled anchor year, and what it carries into other years."""
    from rareflow.model.chain import compile_chain

    sec = scenario.spec.reconcile
    chain = arrays.chain
    z = res.z
    parameters = {}
    for k, (fld, value, _a, _b) in ctx["params"].items():
        th = float(z[ctx["theta"][k]])
        new = 1.0 / th if fld == "yield_" else th
        parameters[chain.processes[k]] = ("yield" if fld == "yield_" else fld, value, new)
    compositions = {}
    for cid, cp in ctx["comps"].items():
        s_new = float(np.clip(z[ctx["svar"][cid]], 1e-6, 1.0 - 1e-6))
        compositions[cid] = (cp.material, "+".join(cp.parts), cp.reported, s_new)
    rec = WorldReconciliation(year=sec.year, applied=bool(sec.apply), figures=tuple(b.figs),
                              result=res, variables=prob.variables,
                              balance_names=prob.balance_names, parameters=parameters,
                              compositions=compositions)
    demand_scale = {did: float(z[ctx["dvar"][did]] / q) for did, _r, _s, _m, q, _d
                    in ctx["d_rows"]}
    if not sec.apply:
        return replace(arrays, reconciliation=rec), Carried(sec.year, demand_scale)

    # process parameters
    cf = scenario.chain_file
    procs = dict(cf.processes)
    for pid, (fld, _old, new) in parameters.items():
        key = "yield_" if fld == "yield" else fld
        procs[pid] = procs[pid].model_copy(update={key: float(np.clip(new, 1e-9, 1.0))})
    materials = dict(cf.materials)
    for cid, (mid, _els, _rep, s_new) in compositions.items():
        materials[mid] = ctx["comps"][cid].scaled(materials[mid], s_new, sec.compositions[cid])
    new_chain = (compile_chain(cf.model_copy(update={"processes": procs,
                                                     "materials": materials}))
                 if parameters or compositions else chain)
    new_chain = replace(new_chain, grade_variants=chain.grade_variants)

    # each record the anchor year measured is corrected by its figure's factor in every
    # year (a facility that starts later is not); the anchor year itself takes the
    # reconciled activities exactly (grade variants included)
    from rareflow.model.arrays import build_arrays

    iy = ctx["iy"]
    scale: dict[str, float] = {}
    for rec_ids, idx, total in ctx["families"]:
        f = float(sum(z[i] for i in idx)) / total if total > 0 else 1.0
        scale.update({rid: f for rid in rec_ids})
    scale.update({f"demand.{did}": v for did, v in demand_scale.items()})
    rebuilt = build_arrays(scenario, chain=new_chain, record_scale=scale)
    fixed = rebuilt.fixed_activity
    active = []
    for (r, k), i in ctx["x"].items():
        if arrays.self_supply[r, k]:
            continue
        if fixed[r, k, iy] > 0:
            fixed[r, k, iy] = z[i]
        elif z[i] > TRADE_FLOOR:
            fixed[r, k, :] = z[i]        # runs only because a reported figure counts it
            active.append((int(r), int(k)))
    demand = rebuilt.final_demand
    years = list(arrays.years)
    for (r, s_i, m), i in ctx["open_use"].items():
        demand[r, s_i, m, :] += z[i]     # held at its reconciled level
    R = len(arrays.regions)
    M = len(chain.materials)
    trade = np.zeros((R, R, M, len(years)))
    for (o, dd, m), i in ctx["t"].items():
        trade[dd, o, m, iy] = z[i] if z[i] > TRADE_FLOOR else 0.0   # solver dust is no flow
    # import shares the data give are replaced by the reconciled ones; other regions keep
    # drawing on the world's surplus pro rata in the years that are not reconciled
    shares = arrays.import_shares.copy()
    for g_i, g in enumerate(chain.stages):
        mats = [m for m in range(M) if chain.material_stage[m] == g]
        into = trade[:, :, mats, iy].sum(axis=2)          # [dest, origin]
        tot = into.sum(axis=1)
        for dd in np.flatnonzero(tot > 0):
            if not np.isnan(arrays.import_shares[dd, g_i, 0]):
                shares[dd, g_i] = into[dd] / tot[dd]
    out = replace(arrays, chain=new_chain, fixed_activity=fixed, final_demand=demand,
                  facility_activity=rebuilt.facility_activity,
                  import_shares=shares, fixed_trade=trade, reconciliation=rec)
    return out, Carried(sec.year, demand_scale, tuple(active))


def _apply_year(out: ModelArrays, y: int, carried: Carried, anchor_ctx: dict[str, Any],
                ctx: dict[str, Any], z: np.ndarray) -> None:
    """Write one other year's reconciled activities, demand and trade into ``out``
    (its arrays, in place: they are this function's own copies)."""
    iy = ctx["iy"]
    fixed, demand, trade = out.fixed_activity, out.final_demand, out.fixed_trade
    assert trade is not None
    for (r, k), i in ctx["x"].items():
        if fixed[r, k, iy] > 0 and not out.self_supply[r, k]:
            fixed[r, k, iy] = z[i]
    for did, r, s, m, q, _d in ctx["d_rows"]:
        demand[r, s, m, iy] = max(demand[r, s, m, iy] + z[ctx["dvar"][did]] - q, 0.0)
    z_anchor = {key: 0.0 for key in ctx["open_use"]}
    for (r, s_i, m), i in anchor_ctx["open_use"].items():
        z_anchor[(r, s_i, m)] = float(anchor_ctx["z"][i])
    for key, i in ctx["open_use"].items():
        r, s_i, m = key
        demand[r, s_i, m, iy] = max(demand[r, s_i, m, iy] + z[i] - z_anchor[key], 0.0)
    trade[:, :, :, iy] = 0.0
    for (o, dd, m), i in ctx["t"].items():
        trade[dd, o, m, iy] = z[i] if z[i] > TRADE_FLOOR else 0.0


def reconcile_world(scenario: Any, arrays: ModelArrays, base: Any) -> tuple[ModelArrays, WorldReconciliation]:
    """Reconcile ``scenario``'s world (``scenario.spec.reconcile``) and return the arrays
    to run on (reconciled when ``apply`` is true) with the reconciliation.

    With ``every_year`` (the default) each other model year is reconciled in turn on the
    anchor year's answer (see :func:`build_problem`), so every year balances; its
    statistics are in :attr:`WorldReconciliation.years`.
    """
    prob, b, ctx, res, out, carried, years = _solve(scenario, arrays, base)
    if not years:
        return out, out.reconciliation
    anchor_ctx = dict(ctx, z=res.z)
    out = replace(out, fixed_activity=out.fixed_activity.copy(),
                  final_demand=out.final_demand.copy(),
                  fixed_trade=None if out.fixed_trade is None else out.fixed_trade.copy())
    others = []
    for y, py, by, cty, ry in years:
        _apply_year(out, y, carried, anchor_ctx, cty, ry.z)
        others.append(YearReconciliation(year=y, figures=tuple(by.figs), result=ry,
                                         balance_names=py.balance_names))
    rec = replace(out.reconciliation, years=tuple(others))
    return replace(out, reconciliation=rec), rec


def reconcile_scenario(scenario: Any) -> WorldReconciliation:
    """Reconcile a loaded scenario's world (it needs a ``reconcile:`` section)."""
    from rareflow.engines.flows import solve_flows
    from rareflow.model.arrays import build_arrays, flow_inputs

    if scenario.spec.reconcile is None:
        raise RareflowInputError([Problem(
            "the scenario has no `reconcile:` section (give reconcile: {year: ..., "
            "elements: [...]}, or extend a scenario that has one, such as reference)",
            scenario.document.file, None, "reconcile")])
    arrays = build_arrays(scenario)
    _, rec = reconcile_world(scenario, arrays, solve_flows(flow_inputs(arrays)))
    return rec
