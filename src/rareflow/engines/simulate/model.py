"""Inputs of the monthly supply-stress simulation, as frozen dataclasses of numpy arrays.

Axis names follow :mod:`rareflow.dims`. Sizes: ``S`` samples, ``T`` months, ``O`` origins,
``D`` destinations, ``K`` sectors, ``M`` materials. Materials, sectors and regions are
labels given by the caller; the engine knows nothing about rare earths. Units: masses in
t, flows in t/month, shares as fractions 0..1, times as integer month indices where
month 0 is the first month of the horizon and windows are half-open ``[start, end)``.

A *per-sample* parameter (type :data:`PerSample`) is a scalar (same for every sample) or
an array ``[sample]``: this is how sampled uncertain parameters enter the engine.
Month-valued per-sample parameters must be integers (round sampled values before).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np

from rareflow.errors import Problem, RareflowInputError

PerSample = Union[float, int, np.ndarray]  # noqa: UP007 - documented alias
Labels = tuple[str, ...]


@dataclass(frozen=True)
class Ramp:
    """Capacity coming on line (or, with ``added < 0``, closing) at one origin.

    Capacity added at month ``t`` is ``added * clip((t - s + 1) / max(ramp_months, 1), 0, 1)``
    with ``s = start + delay``: a linear ramp reaching ``added`` after ``ramp_months``
    months (a step at ``s`` when ``ramp_months`` is 0). A commissioning delay shifts the
    whole ramp.

    added : t/month at full rate, per sample. start, delay, ramp_months : months (int).
    """

    origin: str
    material: str
    added: PerSample
    start: PerSample
    delay: PerSample = 0
    ramp_months: PerSample = 0
    name: str = ""


@dataclass(frozen=True)
class Outage:
    """Plant or regional outage: capacity of ``origins`` x ``materials`` is multiplied by
    ``1 - lost`` in months ``[start, end)``. Empty label tuples mean "all"."""

    origins: Labels
    materials: Labels
    start: PerSample
    end: PerSample
    lost: PerSample
    name: str = ""


@dataclass(frozen=True)
class DemandShock:
    """Demand of ``destinations`` x ``sectors`` x ``materials`` multiplied by ``multiplier``
    (>= 0) in months ``[start, end)``. Empty label tuples mean "all"."""

    destinations: Labels
    sectors: Labels
    materials: Labels
    start: PerSample
    end: PerSample
    multiplier: PerSample
    name: str = ""


@dataclass(frozen=True)
class Restriction:
    """An export ban, quota or licence regime on flows origin -> destination.

    Applies to flows of ``materials`` from ``origins`` to ``destinations`` (empty = all)
    in months ``[start, end)``, except the demand of ``exempt_sectors``.

    * ``severity`` (0..1): share of the flow stopped for good (1 = embargo; a quota that
      lets 30 % through has severity 0.7).
    * ``licence_delay`` k (months, int >= 0): of the flow not stopped, the flow of months
      ``[start, min(start + k, end))`` is held back (licences pending) and arrives in one
      lump at month ``start + k`` (lost if that is beyond the horizon). Released flow does
      not pass through other restrictions again.

    Several restrictions on the same flow compound multiplicatively, in list order.
    """

    name: str
    materials: Labels
    start: PerSample
    end: PerSample
    severity: PerSample = 1.0
    licence_delay: PerSample = 0
    origins: Labels = ()
    destinations: Labels = ()
    exempt_sectors: Labels = ()


@dataclass(frozen=True)
class Inventories:
    """Manufacturers' inventories, one per destination x sector x material, each usable
    only by its own sector. Arrays ``[destination, sector, material]`` or, for
    ``initial``, also ``[sample, destination, sector, material]``; t (levels) and t/month
    (rates). ``target`` defaults to ``initial``; ``refill_rate`` defaults to unlimited.
    Use :func:`months_of_demand` to express levels in months of use.
    """

    initial: np.ndarray
    max_draw: np.ndarray | float = math.inf
    target: np.ndarray | None = None
    refill_rate: np.ndarray | float = math.inf


@dataclass(frozen=True)
class Stockpile:
    """A shared stock of one material at one destination (a national defence stockpile,
    producers' oxide stocks ...), drawn for ``sectors`` (empty = all) by their priority
    tiers, pro rata within a tier.

    initial, target : t per sample (target defaults to initial). max_draw, refill_rate :
    t/month per sample (defaults: unlimited). ``strategic`` stockpiles are those whose
    required size is reported (``stockpile_needed``); they must come after all
    non-strategic stockpiles in :attr:`StressModel.stockpiles`.
    """

    name: str
    destination: str
    material: str
    initial: PerSample
    sectors: Labels = ()
    max_draw: PerSample = math.inf
    target: PerSample | None = None
    refill_rate: PerSample = math.inf
    strategic: bool = False


@dataclass(frozen=True)
class StressModel:
    """Everything the monthly simulation needs, as arrays; see :func:`simulate`.

    Attributes
    ----------
    origins, destinations, sectors, materials : tuple[str, ...]
        Labels of the axes ``origin`` (O), ``destination`` (D), ``sector`` (K),
        ``material`` (M). An origin may also be a destination (domestic production).
    n_samples : int
        S; every per-sample parameter has shape ``()`` or ``(S,)``.
    capacity : ndarray [month, origin, material], t/month
        Baseline capacity of existing plants (before ramps and outages); T = len(axis 0).
    other_load : ndarray [month, origin, material], t/month
        Capacity committed to customers outside the modelled destinations (rest of the
        world, the origin's own use). Spare capacity = capacity - other_load - flows to
        modelled destinations.
    demand : ndarray [month, destination, sector, material], t/month
        Baseline demand (before shocks).
    sourcing : ndarray [destination, origin, material], fraction
        Share of destination demand normally bought from each origin; sums to 1 over
        origins wherever that destination has demand for the material.
    priority : ndarray [sector], int
        Allocation tier of each sector when supply falls short: tier 0 is served first,
        then tier 1 ...; pro rata to demand within a tier.
    redirect_share : ndarray [origin], fraction
        Share of an origin's spare capacity that can be redirected to destinations that
        lost supply (and, once they are served, to refilling their stocks).
    disruption_start : per-sample month or None
        Reference month of time-to-survive / time-to-recover; default: the earliest start
        among restrictions, outages and demand shocks (0 if there are none).
    tolerance : float
        Shortfall share above which a month counts as short (default 1e-6).
    """

    origins: Labels
    destinations: Labels
    sectors: Labels
    materials: Labels
    n_samples: int
    capacity: np.ndarray
    demand: np.ndarray
    sourcing: np.ndarray
    other_load: np.ndarray | None = None
    priority: np.ndarray | None = None
    redirect_share: np.ndarray | float = 0.0
    ramps: tuple[Ramp, ...] = ()
    outages: tuple[Outage, ...] = ()
    shocks: tuple[DemandShock, ...] = ()
    restrictions: tuple[Restriction, ...] = ()
    inventories: Inventories | None = None
    stockpiles: tuple[Stockpile, ...] = ()
    disruption_start: PerSample | None = None
    tolerance: float = 1e-6

    @property
    def months(self) -> int:
        return int(np.shape(self.capacity)[0])


def months_of_demand(
    demand: np.ndarray, months: np.ndarray | float, month: int = 0
) -> np.ndarray:
    """Inventory levels from months of use: ``months * demand[month]``.

    demand : [month, destination, sector, material] t/month; months : broadcastable to
    ``[destination, sector, material]`` (or with a leading sample axis). Returns t.
    """
    return np.asarray(months, dtype=float) * np.asarray(demand, dtype=float)[month]


# --------------------------------------------------------------------------------------
# Compilation: labels -> indices/masks, per-sample broadcasting, validation
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CWindow:
    start: np.ndarray  # [S] int64
    end: np.ndarray  # [S] int64


@dataclass(frozen=True)
class _CRamp:
    o: int
    m: int
    added: np.ndarray  # [S]
    begin: np.ndarray  # [S] int64 (start + delay)
    ramp: np.ndarray  # [S] int64 >= 1 after max(., 1)


@dataclass(frozen=True)
class _COutage:
    mask: np.ndarray  # [O, M] bool
    start: np.ndarray
    end: np.ndarray
    lost: np.ndarray


@dataclass(frozen=True)
class _CShock:
    mask: np.ndarray  # [D, K, M] bool
    start: np.ndarray
    end: np.ndarray
    mult: np.ndarray


@dataclass(frozen=True)
class _CRestriction:
    name: str
    odm: np.ndarray  # [O, D, M] bool
    exempt: np.ndarray  # [K] bool
    start: np.ndarray
    end: np.ndarray
    severity: np.ndarray
    delay: np.ndarray  # [S] int64


@dataclass(frozen=True)
class _CStockpile:
    name: str
    d: int
    m: int
    sectors: np.ndarray  # [K] bool
    initial: np.ndarray  # [S]
    max_draw: np.ndarray
    target: np.ndarray
    refill_rate: np.ndarray
    strategic: bool


@dataclass(frozen=True)
class Compiled:
    """A validated :class:`StressModel` with indices, masks and per-sample arrays."""

    S: int
    T: int
    O: int
    D: int
    K: int
    M: int
    capacity: np.ndarray  # [T, O, M]
    other_load: np.ndarray  # [T, O, M]
    demand: np.ndarray  # [T, D, K, M]
    sourcing_odm: np.ndarray  # [O, D, M]
    priority: np.ndarray  # [K]
    tiers: tuple[np.ndarray, ...]  # index arrays of sectors per tier, in serving order
    redirect_share: np.ndarray  # [O]
    ramps: tuple[_CRamp, ...]
    outages: tuple[_COutage, ...]
    shocks: tuple[_CShock, ...]
    restrictions: tuple[_CRestriction, ...]
    classes: np.ndarray  # [G, K] bool: exemption classes of sectors
    class_mask: np.ndarray  # [R, G] bool: restriction r applies to class g
    inv_initial: np.ndarray  # [S or 1, D, K, M]
    inv_max_draw: np.ndarray  # [D, K, M]
    inv_target: np.ndarray  # [S or 1, D, K, M]
    inv_refill_rate: np.ndarray  # [D, K, M]
    has_inventories: bool
    stockpiles: tuple[_CStockpile, ...]
    disruption_start: np.ndarray  # [S] int64
    tolerance: float
    labels: dict[str, Labels] = field(default_factory=dict)


def compile_model(model: StressModel) -> Compiled:
    """Validate ``model`` and resolve labels; raises RareflowInputError listing every
    problem (``path`` names the offending field, e.g. ``restrictions[0].materials``)."""
    problems: list[Problem] = []

    def bad(path: str, msg: str) -> None:
        problems.append(Problem(msg, path=path))

    S = int(model.n_samples)
    if S < 1:
        bad("n_samples", f"must be >= 1 (got {model.n_samples})")
        raise RareflowInputError(problems)
    labels = {
        "origins": tuple(model.origins),
        "destinations": tuple(model.destinations),
        "sectors": tuple(model.sectors),
        "materials": tuple(model.materials),
    }
    for name, labs in labels.items():
        if len(labs) == 0:
            bad(name, "needs at least one label")
        if len(set(labs)) != len(labs):
            bad(name, f"labels must be unique (got {list(labs)})")
    if problems:
        raise RareflowInputError(problems)
    O, D, K, M = (len(labels[k]) for k in ("origins", "destinations", "sectors", "materials"))
    idx = {k: {lab: i for i, lab in enumerate(v)} for k, v in labels.items()}

    def arr(path: str, x: Any, shape: tuple[int, ...], *, nonneg: bool = True) -> np.ndarray:
        a = np.asarray(x, dtype=float)
        if a.shape != shape:
            try:
                a = np.broadcast_to(a, shape).astype(float)
            except ValueError:
                bad(path, f"shape {np.shape(x)} does not fit the expected {shape}")
                return np.zeros(shape)
        if np.isnan(a).any():
            bad(path, "contains NaN")
        if nonneg and (a < 0).any():
            bad(path, "must not be negative")
        return a

    cap = np.asarray(model.capacity, dtype=float)
    if cap.ndim != 3 or cap.shape[1:] != (O, M):
        bad("capacity", f"must have shape [month, origin={O}, material={M}] (got {cap.shape})")
        raise RareflowInputError(problems)
    T = cap.shape[0]
    if T < 1:
        bad("capacity", "needs at least one month")
        raise RareflowInputError(problems)
    cap = arr("capacity", cap, (T, O, M))
    if not np.isfinite(cap).all():
        bad("capacity", "must be finite")
    other = arr("other_load", 0.0 if model.other_load is None else model.other_load, (T, O, M))
    dem = arr("demand", model.demand, (T, D, K, M))
    if not np.isfinite(dem).all():
        bad("demand", "must be finite")
    src = arr("sourcing", model.sourcing, (D, O, M))
    tot = src.sum(axis=1)  # [D, M]
    has_dem = dem.sum(axis=(0, 2)) > 0  # [D, M]
    for d in range(D):
        for m in range(M):
            if has_dem[d, m] and abs(tot[d, m] - 1.0) > 1e-6:
                bad(f"sourcing.{labels['destinations'][d]}.{labels['materials'][m]}",
                    f"shares over origins sum to {tot[d, m]:.6g}; they must sum to 1 where "
                    "there is demand")
    prio = np.zeros(K, dtype=np.int64) if model.priority is None else np.asarray(model.priority)
    if prio.shape != (K,) or not np.issubdtype(prio.dtype, np.integer):
        bad("priority", f"must be {K} integer tiers, one per sector (got {prio!r})")
        prio = np.zeros(K, dtype=np.int64)
    tiers = tuple(np.flatnonzero(prio == t) for t in np.unique(prio))
    redirect = arr("redirect_share", model.redirect_share, (O,))
    if (redirect > 1).any():
        bad("redirect_share", "a share must lie between 0 and 1")

    def per_sample(path: str, x: Any, *, integer: bool = False, lo: float | None = 0.0,
                   hi: float | None = None, allow_inf: bool = False) -> np.ndarray:
        a = np.asarray(x)
        if a.ndim == 0:
            a = np.full(S, a.item())
        if a.shape != (S,):
            bad(path, f"must be a scalar or an array of {S} samples (got shape {a.shape})")
            return np.zeros(S, dtype=np.int64 if integer else float)
        a = a.astype(float)
        if np.isnan(a).any() or (not allow_inf and not np.isfinite(a).all()):
            bad(path, "must be finite numbers")
            return np.zeros(S, dtype=np.int64 if integer else float)
        if lo is not None and (a < lo).any():
            bad(path, f"must be >= {lo:g} (got min {a.min():g})")
        if hi is not None and (a > hi).any():
            bad(path, f"must be <= {hi:g} (got max {a.max():g})")
        if integer:
            if (a != np.round(a)).any():
                bad(path, "must be whole months (round sampled values first)")
            return np.round(a).astype(np.int64)
        return a

    def mask(path: str, names: Sequence[str], axis: str) -> np.ndarray:
        if isinstance(names, str):
            names = (names,)
        n = len(labels[axis])
        if not names:
            return np.ones(n, dtype=bool)
        out = np.zeros(n, dtype=bool)
        for nm in names:
            if nm not in idx[axis]:
                bad(path, f"unknown {axis[:-1]} {nm!r}; known: {', '.join(labels[axis])}")
            else:
                out[idx[axis][nm]] = True
        return out

    def window(path: str, start: Any, end: Any) -> tuple[np.ndarray, np.ndarray]:
        s = per_sample(f"{path}.start", start, integer=True, lo=None)
        e = per_sample(f"{path}.end", end, integer=True, lo=None)
        if (e < s).any():
            i = int(np.argmax(e < s))
            bad(f"{path}.end", f"ends before it starts (sample {i}: start {s[i]}, end {e[i]}); "
                "end must be >= start")
        return s, e

    ramps = []
    for i, r in enumerate(model.ramps):
        p = f"ramps[{i}]" + (f" ({r.name})" if r.name else "")
        o = idx["origins"].get(r.origin)
        m = idx["materials"].get(r.material)
        if o is None:
            bad(f"{p}.origin",
                f"unknown origin {r.origin!r}; known: {', '.join(labels['origins'])}")
        if m is None:
            bad(f"{p}.material",
                f"unknown material {r.material!r}; known: {', '.join(labels['materials'])}")
        added = per_sample(f"{p}.added", r.added, lo=None)
        start = per_sample(f"{p}.start", r.start, integer=True, lo=None)
        delay = per_sample(f"{p}.delay", r.delay, integer=True)
        rm = per_sample(f"{p}.ramp_months", r.ramp_months, integer=True)
        if o is not None and m is not None:
            ramps.append(_CRamp(o, m, added, start + delay, np.maximum(rm, 1)))

    outages = []
    for i, ou in enumerate(model.outages):
        p = f"outages[{i}]"
        om = mask(f"{p}.origins", ou.origins, "origins")[:, None] & mask(
            f"{p}.materials", ou.materials, "materials")[None, :]
        s, e = window(p, ou.start, ou.end)
        outages.append(_COutage(om, s, e, per_sample(f"{p}.lost", ou.lost, hi=1.0)))

    shocks = []
    for i, sh in enumerate(model.shocks):
        p = f"shocks[{i}]"
        dkm = (mask(f"{p}.destinations", sh.destinations, "destinations")[:, None, None]
               & mask(f"{p}.sectors", sh.sectors, "sectors")[None, :, None]
               & mask(f"{p}.materials", sh.materials, "materials")[None, None, :])
        s, e = window(p, sh.start, sh.end)
        shocks.append(_CShock(dkm, s, e, per_sample(f"{p}.multiplier", sh.multiplier)))

    restrictions = []
    for i, r in enumerate(model.restrictions):
        p = f"restrictions[{i}]" if not r.name else f"restrictions.{r.name}"
        if not r.materials:
            bad(f"{p}.materials", "name at least one material the restriction applies to")
        odm = (mask(f"{p}.origins", r.origins, "origins")[:, None, None]
               & mask(f"{p}.destinations", r.destinations, "destinations")[None, :, None]
               & mask(f"{p}.materials", r.materials, "materials")[None, None, :])
        exempt = (mask(f"{p}.exempt_sectors", r.exempt_sectors, "sectors")
                  if r.exempt_sectors else np.zeros(K, dtype=bool))
        s, e = window(p, r.start, r.end)
        restrictions.append(_CRestriction(
            r.name or f"restriction{i}", odm, exempt, s, e,
            per_sample(f"{p}.severity", r.severity, hi=1.0),
            per_sample(f"{p}.licence_delay", r.licence_delay, integer=True)))

    # exemption classes: sectors with the same exemption signature share a class
    sig = np.array([[r.exempt[k] for r in restrictions] for k in range(K)], dtype=bool)
    sig = sig.reshape(K, len(restrictions))
    uniq, inverse = np.unique(sig, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    G = uniq.shape[0]
    classes = np.zeros((G, K), dtype=bool)
    classes[inverse, np.arange(K)] = True
    class_mask = ~uniq.T if len(restrictions) else np.ones((0, G), dtype=bool)  # [R, G]

    inv = model.inventories
    if inv is not None:
        init = np.asarray(inv.initial, dtype=float)
        if init.shape == (D, K, M):
            init = init[None]
        if init.ndim != 4 or init.shape[1:] != (D, K, M) or init.shape[0] not in (1, S):
            bad("inventories.initial", f"must have shape [destination={D}, sector={K}, "
                f"material={M}] or [sample={S}, ...] (got {np.shape(inv.initial)})")
            init = np.zeros((1, D, K, M))
        if (init < 0).any() or not np.isfinite(init).all():
            bad("inventories.initial", "must be finite and not negative")
        tgt = init if inv.target is None else np.asarray(inv.target, dtype=float)
        if tgt.shape == (D, K, M):
            tgt = tgt[None]
        try:
            tgt = np.broadcast_to(tgt, (max(tgt.shape[0], 1), D, K, M)).astype(float)
        except ValueError:
            bad("inventories.target", f"shape {tgt.shape} does not fit {(D, K, M)}")
            tgt = init
        if tgt.shape[0] not in (1, S):
            bad("inventories.target", f"leading sample axis must be 1 or {S}")
            tgt = init
        inv_init, inv_tgt = init, tgt
        inv_md = arr("inventories.max_draw", inv.max_draw, (D, K, M))
        inv_rr = arr("inventories.refill_rate", inv.refill_rate, (D, K, M))
    else:
        inv_init = np.zeros((1, D, K, M))
        inv_tgt = inv_init
        inv_md = np.zeros((D, K, M))
        inv_rr = np.zeros((D, K, M))

    stockpiles = []
    seen_strategic = False
    for i, sp in enumerate(model.stockpiles):
        p = f"stockpiles.{sp.name}" if sp.name else f"stockpiles[{i}]"
        d = idx["destinations"].get(sp.destination)
        m = idx["materials"].get(sp.material)
        if d is None:
            bad(f"{p}.destination", f"unknown destination {sp.destination!r}; known: "
                f"{', '.join(labels['destinations'])}")
        if m is None:
            bad(f"{p}.material", f"unknown material {sp.material!r}; known: "
                f"{', '.join(labels['materials'])}")
        if seen_strategic and not sp.strategic:
            bad(p, "non-strategic stockpiles must come before strategic ones (the size a "
                "strategic stockpile needs is computed exactly only in that order)")
        seen_strategic |= sp.strategic
        init = per_sample(f"{p}.initial", sp.initial)
        stockpiles.append(_CStockpile(
            sp.name or f"stockpile{i}", d or 0, m or 0,
            mask(f"{p}.sectors", sp.sectors, "sectors"), init,
            per_sample(f"{p}.max_draw", sp.max_draw, allow_inf=True),
            init if sp.target is None else per_sample(f"{p}.target", sp.target),
            per_sample(f"{p}.refill_rate", sp.refill_rate, allow_inf=True),
            bool(sp.strategic)))

    if model.disruption_start is None:
        starts = [w.start for w in (*restrictions, *outages, *shocks)]
        t0 = np.min(np.stack(starts), axis=0) if starts else np.zeros(S, dtype=np.int64)
        t0 = np.clip(t0, 0, T - 1).astype(np.int64)
    else:
        t0 = per_sample("disruption_start", model.disruption_start, integer=True, hi=T - 1)
    tol = float(model.tolerance)
    if not 0 <= tol < 1:
        bad("tolerance", f"must lie in [0, 1) (got {tol})")

    if problems:
        raise RareflowInputError(problems)
    return Compiled(
        S=S, T=T, O=O, D=D, K=K, M=M, capacity=cap, other_load=other, demand=dem,
        sourcing_odm=np.ascontiguousarray(src.transpose(1, 0, 2)), priority=prio,
        tiers=tiers, redirect_share=redirect, ramps=tuple(ramps), outages=tuple(outages),
        shocks=tuple(shocks), restrictions=tuple(restrictions), classes=classes,
        class_mask=class_mask, inv_initial=inv_init, inv_max_draw=inv_md,
        inv_target=inv_tgt, inv_refill_rate=inv_rr, has_inventories=inv is not None,
        stockpiles=tuple(stockpiles), disruption_start=t0, tolerance=tol, labels=labels,
    )
