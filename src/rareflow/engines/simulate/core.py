"""The monthly supply-stress simulation, vectorised over samples.

Per sample and month ``t`` (all steps vectorised over samples and every other axis):

1. **Capacity** ``cap[o, m]`` = baseline + ramps (delays shift ramps), times outage
   multipliers; **demand** ``dem[d, k, m]`` = baseline times shock multipliers.
2. **Committed flows**: destination ``d`` requests ``sourcing[d, o, m] * sum_k dem``
   from origin ``o``; the origin's load is those requests plus ``other_load``. When
   capacity is below load, every customer is cut pro rata (``min(1, cap / load)``).
   Spare capacity = ``max(cap - load, 0)``.
3. **Restrictions**: each restriction stops ``severity`` of the matching flow and holds
   the rest during its licence delay (released in one lump at ``start + delay``).
   Exempt sectors' share of the flow (by their share of destination demand) passes.
4. **Redirect**: the gap ``max(sum_k dem - arrivals, 0)`` is filled from
   ``redirect_share * spare`` of *unaffected* origins: an origin under an active
   restriction towards the destination (whatever its severity; for the exempt sectors'
   share of demand it counts as unaffected) redirects nothing there. With several
   destinations, an origin's redirectable spare is split pro rata to the destinations'
   gaps (spare left by one destination is not re-offered).
   Redirectable spare not needed for the gap (``extra``) can be bought to refill stocks.
   Steps 1-4 do not depend on stocks and are computed in closed form for all months.
5. **Allocation** (the only loop over months): the destination pool of each material is
   allocated to sectors by priority tiers, pro rata within a tier. Unmet demand is then
   drawn from each sector's own inventory (up to its max draw), then from shared
   stockpiles in list order (by tiers among the eligible sectors). Surplus (pool minus
   allocation) plus ``extra`` refills inventories (by tiers) and then stockpiles in
   order, each up to its refill rate and target. Surplus nobody takes is not used.

Mass balance, per sample, month, destination and material (checked by the tests)::

    supply_used - (stock level change) = delivered,   delivered + shortfall = demand

where ``supply_used`` = pool allocated to sectors + refills, stocks = inventories +
stockpiles.

Metrics (per sample, destination, sector; see :class:`StressResult`):

* ``shortfall_share[t]`` = max over materials of ``shortfall / demand`` (materials are
  needed in fixed proportion, so the scarcest one limits what a sector can make).
* **time to survive** = first month ``t >= t0`` with ``shortfall_share > tol`` minus
  ``t0`` (``t0`` = disruption start); ``T - t0`` when it never happens within the horizon
  (censored: the months observed).
* **time to recover** = ``L + 1 - t0`` where ``L`` is the last month ``>= t0`` that is
  *abnormal*: shortfall share > tol, or any stock serving the sector (its own
  inventories, eligible stockpiles at its destination) below ``min(initial, target)``
  (1e-9 relative tolerance). 0 if no month is abnormal; ``T - t0`` with
  ``recovered = False`` if the last month of the horizon is still abnormal.
* **cumulative shortfall** (t, summed over materials and months).
* **stockpile needed** [.., material] = cumulative shortfall that would occur without the
  strategic stockpiles = shortfall + strategic draws, exactly (strategic stockpiles are
  drawn and refilled last, so removing them changes nothing else): the size a stockpile
  with unlimited draw rate must have to ride out the horizon with no shortfall, assuming
  it is not refilled before the shortfall ends.
* **tightness** [t, destination, material] = (arrivals + extra) / demand: supply
  available to the destination before stocks over demand (NaN where demand is 0).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from rareflow.engines.simulate.model import Compiled, StressModel, compile_model
from rareflow.errors import RareflowInputError

__all__ = ["StressResult", "simulate", "chunk_size_for", "bytes_per_sample"]


@dataclass(frozen=True)
class StressResult:
    """Results of :func:`simulate`.

    Metrics (always present; sample axis first):

    ``time_to_survive`` [sample, destination, sector] int64 months;
    ``time_to_recover`` [sample, destination, sector] int64 months;
    ``recovered`` [sample, destination, sector] bool (False = censored at the horizon);
    ``cumulative_shortfall`` [sample, destination, sector] t;
    ``peak_shortfall_share`` [sample, destination, sector] fraction;
    ``stockpile_needed`` [sample, destination, sector, material] t;
    ``disruption_start`` [sample] int64 month.

    Monthly series (``series=True``; ``series_dtype``, float32 by default):
    ``shortfall_share`` [sample, month, destination, sector] fraction;
    ``tightness`` [sample, month, destination, material] ratio.

    Full arrays (``full=True``; float64), in ``full`` dict:
    ``demand``, ``delivered``, ``shortfall``, ``inventory`` [sample, month, destination,
    sector, material] t/month (inventory: t, end of month); ``arrivals``, ``extra``,
    ``supply_used`` [sample, month, destination, material] t/month; ``stockpile``
    [sample, month, stockpile] t (end of month); ``stockpile_initial`` [sample, stockpile] t;
    ``inventory_initial`` [sample, destination, sector, material] t.
    """

    labels: dict[str, tuple[str, ...]]
    stockpile_names: tuple[str, ...]
    months: int
    time_to_survive: np.ndarray
    time_to_recover: np.ndarray
    recovered: np.ndarray
    cumulative_shortfall: np.ndarray
    peak_shortfall_share: np.ndarray
    stockpile_needed: np.ndarray
    disruption_start: np.ndarray
    shortfall_share: np.ndarray | None = None
    tightness: np.ndarray | None = None
    full: dict[str, np.ndarray] | None = field(default=None)

    @property
    def n_samples(self) -> int:
        return int(self.time_to_survive.shape[0])


# --------------------------------------------------------------------------------------


def bytes_per_sample(cm: Compiled, full: bool = False, series: bool = True) -> int:
    """Working memory of one sample in a chunk (bytes): per-month temporaries plus the
    per-month histories kept for the metrics (and the full arrays when asked)."""
    G = cm.classes.shape[0]
    per_month = (cm.O * cm.D * G * cm.M * 6 + cm.D * cm.K * cm.M * 12 + cm.O * cm.M * 6) * 8
    hist = cm.T * cm.D * cm.K * (8 + 2) + cm.T * len(cm.restrictions) * 8 * 4
    if series:
        hist += cm.T * cm.D * cm.M * 8 * 2
    if full:
        hist += cm.T * (cm.D * cm.K * cm.M * 4 + cm.D * cm.M * 3) * 8
    return per_month + hist


def chunk_size_for(cm: Compiled, memory_budget: float, full: bool = False,
                   series: bool = True) -> int:
    """Samples per chunk so that a chunk's working memory stays within ``memory_budget``
    (capped at 16384 samples: larger chunks no longer run faster)."""
    per = max(bytes_per_sample(cm, full, series), 1)
    return int(max(1, min(cm.S, 16384, memory_budget // per)))


def simulate(
    model: StressModel | Compiled,
    *,
    chunk_size: int | None = None,
    memory_budget: float = 256e6,
    workers: int = 1,
    series: bool = True,
    series_dtype: type = np.float32,
    full: bool = False,
) -> StressResult:
    """Run the monthly stress simulation for every sample of ``model``.

    Samples are processed in chunks (``chunk_size`` samples, or as many as fit in
    ``memory_budget`` bytes of working memory per worker); each sample's computation does
    not depend on the others, so results are bit-identical whatever the chunk size or the
    number of ``workers`` (threads; numpy releases the GIL in array operations).
    Memory of the returned arrays: metrics ~ ``S * D * K * (40 + 8 M)`` bytes, series
    ``S * T * D * (K + M) * itemsize``, full arrays ``S * T * D * (4 K M + 3 M) * 8``.
    """
    cm = model if isinstance(model, Compiled) else compile_model(model)
    if chunk_size is None:
        chunk_size = chunk_size_for(cm, memory_budget, full, series)
    if chunk_size < 1:
        raise RareflowInputError.single(f"must be >= 1 (got {chunk_size})", path="chunk_size")
    S, T, D, K, M = cm.S, cm.T, cm.D, cm.K, cm.M
    J = len(cm.stockpiles)
    prep = _prepare(cm)
    out: dict[str, np.ndarray] = {
        "time_to_survive": np.empty((S, D, K), dtype=np.int64),
        "time_to_recover": np.empty((S, D, K), dtype=np.int64),
        "recovered": np.empty((S, D, K), dtype=bool),
        "cumulative_shortfall": np.empty((S, D, K)),
        "peak_shortfall_share": np.empty((S, D, K)),
        "stockpile_needed": np.empty((S, D, K, M)),
    }
    if series:
        out["shortfall_share"] = np.empty((S, T, D, K), dtype=series_dtype)
        out["tightness"] = np.empty((S, T, D, M), dtype=series_dtype)
    fullo: dict[str, np.ndarray] | None = None
    if full:
        fullo = {k: np.empty((S, T, D, K, M)) for k in
                 ("demand", "delivered", "shortfall", "inventory")}
        fullo.update({k: np.empty((S, T, D, M)) for k in ("arrivals", "extra", "supply_used")})
        fullo["stockpile"] = np.empty((S, T, J))
        fullo["stockpile_initial"] = np.empty((S, J))
        fullo["inventory_initial"] = np.empty((S, D, K, M))

    slices = [slice(a, min(a + chunk_size, S)) for a in range(0, S, chunk_size)]

    def work(sl: slice) -> None:
        res = _run_chunk(cm, prep, sl, full=full, series=series)
        for k, v in res.items():
            if k in out:
                out[k][sl] = v
            elif fullo is not None and k in fullo:
                fullo[k][sl] = v

    if workers > 1 and len(slices) > 1:
        with ThreadPoolExecutor(max_workers=workers) as ex:
            list(ex.map(work, slices))
    else:
        for sl in slices:
            work(sl)

    return StressResult(
        labels=cm.labels,
        stockpile_names=tuple(sp.name for sp in cm.stockpiles),
        months=T,
        time_to_survive=out["time_to_survive"],
        time_to_recover=out["time_to_recover"],
        recovered=out["recovered"],
        cumulative_shortfall=out["cumulative_shortfall"],
        peak_shortfall_share=out["peak_shortfall_share"],
        stockpile_needed=out["stockpile_needed"],
        disruption_start=cm.disruption_start.copy(),
        shortfall_share=out.get("shortfall_share"),
        tightness=out.get("tightness"),
        full=fullo,
    )


# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prep:
    """Arrays shared by all chunks, with the sector axis sorted by priority tier so that
    each tier is a contiguous slice (outputs are put back in the caller's order)."""

    perm: np.ndarray  # [K] caller index of internal sector i
    inv_perm: np.ndarray  # [K] internal index of caller sector k
    tier_slices: tuple[slice, ...]
    demand: np.ndarray  # [T, D, K, M] (internal sector order)
    classes: np.ndarray  # [G, K] bool
    class_slices: tuple[np.ndarray, ...]  # sector indices of each class
    shock_masks: tuple[np.ndarray, ...]  # [D, K, M] bool
    inv_initial: np.ndarray
    inv_target: np.ndarray
    inv_max_draw: np.ndarray
    inv_refill_rate: np.ndarray
    sp_sectors: tuple[np.ndarray, ...]  # [K] float 0/1
    sig: np.ndarray  # [O, D, G, M] int: restriction signature of each flow entry
    members: np.ndarray  # [U, R] bool: restriction r applies to signature u
    rmask: tuple[np.ndarray, ...]  # [O, D, G, M] float mask of each restriction


def _prepare(cm: Compiled) -> _Prep:
    perm = np.argsort(cm.priority, kind="stable")
    inv_perm = np.empty_like(perm)
    inv_perm[perm] = np.arange(cm.K)
    pr = cm.priority[perm]
    bounds = np.flatnonzero(np.diff(pr)) + 1
    edges = [0, *bounds.tolist(), cm.K]
    tier_slices = tuple(slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True))
    classes = cm.classes[:, perm]
    R = len(cm.restrictions)
    G = classes.shape[0]
    if R:
        masks = [r.odm[:, :, None, :] & cm.class_mask[i][None, None, :, None]
                 for i, r in enumerate(cm.restrictions)]  # [O, D, G, M]
        code = sum(mk.astype(np.int64) << i for i, mk in enumerate(masks))
        uniq, sig = np.unique(code, return_inverse=True)
        sig = np.asarray(sig).reshape(code.shape)
        members = ((uniq[:, None] >> np.arange(R)[None, :]) & 1).astype(bool)
        rmask = tuple(mk.astype(float) for mk in masks)
    else:
        sig = np.zeros((cm.O, cm.D, G, cm.M), dtype=np.int64)
        members = np.zeros((1, 0), dtype=bool)
        rmask = ()
    return _Prep(
        perm=perm, inv_perm=inv_perm, tier_slices=tier_slices,
        demand=np.ascontiguousarray(cm.demand[:, :, perm]), classes=classes,
        class_slices=tuple(np.flatnonzero(cl) for cl in classes),
        shock_masks=tuple(sh.mask[:, perm] for sh in cm.shocks),
        inv_initial=cm.inv_initial[:, :, perm], inv_target=cm.inv_target[:, :, perm],
        inv_max_draw=cm.inv_max_draw[:, perm], inv_refill_rate=cm.inv_refill_rate[:, perm],
        sp_sectors=tuple(sp.sectors[perm].astype(float) for sp in cm.stockpiles),
        sig=sig, members=members, rmask=rmask,
    )


def _sum(a: np.ndarray, axis: int, keepdims: bool = False) -> np.ndarray:
    """Sum over ``axis`` by explicit sequential adds: the order of the additions (and so the
    rounding) never depends on the chunk size, unlike ``ndarray.sum`` whose loop order and
    pairwise blocking follow the array's shape and strides."""
    v = np.moveaxis(a, axis, 0)
    out = v[0].copy()
    for i in range(1, v.shape[0]):
        out += v[i]
    return np.expand_dims(out, axis) if keepdims else out


def _ratio(a: np.ndarray, b: np.ndarray, fill: float) -> np.ndarray:
    """a / b where b > 0, else ``fill``."""
    out = np.full(np.broadcast_shapes(a.shape, b.shape), fill)
    np.divide(a, b, out=out, where=b > 0)
    return out


_TINY = 1e-300


def _share(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """min(a / b, 1) for a >= 0, b >= 0, used where the result only multiplies quantities
    that are 0 whenever b is 0 (so any finite value there is right): cheaper than
    :func:`_ratio` and bit-identical to it where b > 0."""
    out = np.maximum(b, _TINY)
    np.divide(a, out, out=out)
    return np.minimum(out, 1.0, out=out)


def _allocate(avail: np.ndarray, need: np.ndarray, tiers: tuple[slice, ...],
              axis: int) -> np.ndarray:
    """Share ``avail`` (``need``'s shape without ``axis``) among the entries of ``need``
    along ``axis`` (sectors, sorted by tier): tier by tier, pro rata to need within a
    tier, never above need. Tiers are contiguous slices along ``axis``."""
    if len(tiers) == 1:
        tn = _sum(need, axis)
        return need * np.expand_dims(_share(avail, tn), axis)
    alloc = np.empty_like(need)
    rem = avail
    pre = (slice(None),) * (axis % need.ndim)
    for ts in tiers:
        sub = need[(*pre, ts)]
        tn = _sum(sub, axis)
        np.multiply(sub, np.expand_dims(_share(rem, tn), axis), out=alloc[(*pre, ts)])
        rem = rem - np.minimum(rem, tn)
    return alloc


def _active(t: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """[T, c] bool: start <= t < end."""
    return (t >= start[None, :]) & (t < end[None, :])


def _run_chunk(cm: Compiled, pp: _Prep, sl: slice, *, full: bool,
               series: bool) -> dict[str, np.ndarray]:
    """One chunk of samples. Internally the sample axis is *last* (``[..., c]``): every
    reduction over origins, sectors or materials then runs over long contiguous rows."""
    T, _O, D, K, M = cm.T, cm.O, cm.D, cm.K, cm.M
    c = sl.stop - sl.start
    G = pp.classes.shape[0]
    R = len(cm.restrictions)
    tiers = pp.tier_slices
    tcol = np.arange(T)[:, None]  # [T, 1]

    # ---- per-month, per-sample scalars of every event: [T, c] --------------------------
    ramp_add = [r.added[sl][None, :] * np.clip((tcol - r.begin[sl][None, :] + 1)
                                               / r.ramp[sl][None, :], 0.0, 1.0)
                for r in cm.ramps]
    out_mult = [1.0 - ou.lost[sl][None, :] * _active(tcol, ou.start[sl], ou.end[sl])
                for ou in cm.outages]
    shock_mult = [np.where(_active(tcol, sh.start[sl], sh.end[sl]), sh.mult[sl][None, :], 1.0)
                  for sh in cm.shocks]
    r_factor, r_hold, r_rel, r_free = [], [], [], []
    for r in cm.restrictions:
        st, en, sev, dl = r.start[sl], r.end[sl], r.severity[sl], r.delay[sl]
        act = _active(tcol, st, en)
        hold = act & (tcol < (st + dl)[None, :])
        holdfrac = (1.0 - sev)[None, :] * hold
        r_factor.append(1.0 - (sev[None, :] * act + holdfrac))
        r_free.append(1.0 - act)  # 1 where the restriction is not active: redirect allowed
        r_hold.append(holdfrac)
        r_rel.append(np.where(dl > 0, st + dl, -1))
    held_acc = [np.zeros((D, M, c)) for _ in range(R)]
    hold_any = [h.any(axis=1) for h in r_hold]  # [T]
    src_odm = cm.sourcing_odm[..., None]  # [O, D, M, 1]
    rshare = cm.redirect_share[:, None, None]  # [O, 1, 1]
    sig = pp.sig
    rmask = [mk[..., None] for mk in pp.rmask]  # [O, D, G, M, 1]
    out_masks = [ou.mask[..., None] for ou in cm.outages]  # [O, M, 1]
    shock_masks = [mk[..., None] for mk in pp.shock_masks]  # [D, K, M, 1]

    # ---- stock state (sample last) -------------------------------------------------------
    has_inv = cm.has_inventories

    def pick(a: np.ndarray) -> np.ndarray:  # [S or 1, D, K, M] -> [D, K, M, c]
        a = a[sl] if a.shape[0] > 1 else a
        return np.moveaxis(np.broadcast_to(a, (c, D, K, M)), 0, -1)

    inv = np.array(pick(pp.inv_initial))
    inv_tgt = pick(pp.inv_target)
    inv_thr = np.minimum(inv, inv_tgt)
    inv_thr = inv_thr - 1e-9 * np.maximum(inv_thr, 1.0)
    inv_md = pp.inv_max_draw[..., None]
    inv_rr = pp.inv_refill_rate[..., None]
    sps = cm.stockpiles
    J = len(sps)
    lev = [sp.initial[sl].copy() for sp in sps]
    sp_thr = [np.minimum(sp.initial[sl], sp.target[sl]) for sp in sps]
    sp_thr = [x - 1e-9 * np.maximum(x, 1.0) for x in sp_thr]
    sp_md = [sp.max_draw[sl] for sp in sps]
    sp_rr = [sp.refill_rate[sl] for sp in sps]
    sp_tg = [sp.target[sl] for sp in sps]
    sp_sec = [pp.sp_sectors[j][:, None] for j in range(J)]  # [K, 1]
    sp_serves = [pp.sp_sectors[j][:, None] > 0 for j in range(J)]

    # ---- histories ----------------------------------------------------------------------
    ss_hist = np.empty((T, D, K, c))  # sector shortfall share
    ok_hist = np.ones((T, D, K, c), dtype=bool)  # every stock serving the sector is full
    cum_short = np.zeros((D, K, M, c))
    strat_draw = np.zeros((D, K, M, c))
    if series:
        tight_hist = np.full((T, D, M, c), np.nan)
    if full:
        h = {k: np.empty((T, D, K, M, c)) for k in ("demand", "shortfall", "inventory")}
        h.update({k: np.empty((T, D, M, c)) for k in ("arrivals", "extra", "supply_used")})
        h["stockpile"] = np.empty((T, J, c))

    for t in range(T):
        # 1. capacity [O, M, c], demand [D, K, M, c]
        cap = np.repeat(cm.capacity[t][..., None], c, axis=2)
        for r, add in zip(cm.ramps, ramp_add, strict=True):
            cap[r.o, r.m] += add[t]
        if cm.ramps:
            np.maximum(cap, 0.0, out=cap)
        for mask, mult in zip(out_masks, out_mult, strict=True):
            cap *= np.where(mask, mult[t], 1.0)
        if shock_masks:
            dem = pp.demand[t][..., None] * np.where(shock_masks[0], shock_mult[0][t], 1.0)
            for mask, mult in zip(shock_masks[1:], shock_mult[1:], strict=True):
                dem *= np.where(mask, mult[t], 1.0)
        else:
            dem = np.repeat(pp.demand[t][..., None], c, axis=3)
        demtot = _sum(dem, 1)  # [D, M, c]

        # 2. committed flows [O, D, M, c] and spare [O, M, c]
        req = demtot[None] * src_odm
        load = cm.other_load[t][..., None] + _sum(req, 1)
        flow = req * _share(cap, load)[:, None]  # requests are 0 where load is 0
        spare = np.maximum(cap - load, 0.0)

        # 3. restrictions
        if R:
            if G > 1:
                dg = np.stack([_sum(dem[:, cls], 1) for cls in pp.class_slices], axis=1)
                wg = np.where(demtot[:, None] > 0, _ratio(dg, demtot[:, None], 0.0),
                              1.0 / G)  # [D, G, M, c]
            fac = np.ones((pp.members.shape[0], c))
            free = np.ones((pp.members.shape[0], c))
            for ri in range(R):
                free = free * np.where(pp.members[:, ri][:, None], r_free[ri][t][None, :], 1.0)
            for ri in range(R):
                if hold_any[ri][t]:
                    fg = flow[:, :, None] * fac[sig]  # [O, D, G, M, c]
                    if G > 1:
                        fg *= wg[None]
                    held = _sum(_sum(fg * rmask[ri], 2), 0)  # [D, M, c]
                    held_acc[ri] += held * r_hold[ri][t]
                fac = fac * np.where(pp.members[:, ri][:, None], r_factor[ri][t][None, :], 1.0)
            pg = fac[sig]  # [O, D, G, M, c]
            pass_eff = _sum(pg * wg[None], 2) if G > 1 else pg[:, :, 0]  # [O, D, M, c]
            arrivals = _sum(flow * pass_eff, 0)  # [D, M, c]
            for ri in range(R):
                rel = r_rel[ri] == t
                if rel.any():
                    arrivals = arrivals + np.where(rel, held_acc[ri], 0.0)
            fr = free[sig]  # [O, D, G, M, c]
            rpass = _sum(fr * wg[None], 2) if G > 1 else fr[:, :, 0]
            pot = _sum((rshare * spare)[:, None] * rpass, 0)
        else:
            arrivals = _sum(flow, 0)
            pot = np.broadcast_to(_sum(rshare * spare, 0)[None], (D, M, c))

        # 4. redirect [D, M, c]
        gap = np.maximum(demtot - arrivals, 0.0)
        if D > 1:
            gsum = _sum(gap, 0, keepdims=True)
            dsum = _sum(demtot, 0, keepdims=True)
            share = np.where(gsum > 0, _ratio(gap, gsum, 0.0),
                             np.where(dsum > 0, _ratio(demtot, dsum, 0.0), 1.0 / D))
            pot = pot * share
        redirect = np.minimum(gap, pot)
        extra = pot - redirect
        pool = arrivals + redirect

        # 5. allocation, draws, refills
        alloc = _allocate(pool, dem, tiers, axis=1)
        alloc_tot = _sum(alloc, 1)
        src = np.maximum(pool - alloc_tot, 0.0) + extra
        unmet = dem - alloc
        short_any = bool((unmet > 0).any())  # exact test: skipping then changes no bits
        if has_inv and short_any:
            draw = np.minimum(np.minimum(unmet, inv), inv_md)
            unmet -= draw
            inv -= draw
        for j, sp in enumerate(sps):
            if not short_any:
                break
            u = unmet[sp.d, :, sp.m] * sp_sec[j]  # [K, c]
            give = _allocate(np.minimum(lev[j], sp_md[j]), u, tiers, axis=0)
            unmet[sp.d, :, sp.m] -= give
            lev[j] = lev[j] - _sum(give, 0)
            if sp.strategic:
                strat_draw[sp.d, :, sp.m] += give
        used = alloc_tot
        src_any = bool((src > 0).any())
        if has_inv:
            if src_any:
                want = np.minimum(inv_rr, np.maximum(inv_tgt - inv, 0.0))
                take = _allocate(src, want, tiers, axis=1)
                inv += take
                ttot = _sum(take, 1)
                src = src - ttot
                used = used + ttot
            ok_hist[t] = (inv >= inv_thr).all(axis=2)
        if J:
            used = used.copy()
        for j, sp in enumerate(sps):
            if src_any:
                want = np.minimum(sp_rr[j], np.maximum(sp_tg[j] - lev[j], 0.0))
                take = np.minimum(want, np.maximum(src[sp.d, sp.m], 0.0))
                lev[j] = lev[j] + take
                src[sp.d, sp.m] -= take
                used[sp.d, sp.m] += take
            low = lev[j] < sp_thr[j]  # [c]
            ok_hist[t, sp.d] &= ~(sp_serves[j] & low[None, :])

        # 6. records
        ss_hist[t] = _share(unmet, dem).max(axis=2)  # unmet is 0 where demand is 0
        cum_short += unmet
        if series:
            np.divide(arrivals + pot, demtot, out=tight_hist[t], where=demtot > 0)
        if full:
            h["demand"][t] = dem
            h["shortfall"][t] = unmet
            h["inventory"][t] = inv
            h["arrivals"][t] = pool
            h["extra"][t] = extra
            h["supply_used"][t] = used
            if J:
                h["stockpile"][t] = np.stack(lev, axis=0)

    # ---- metrics: back to [sample, ...] and the caller's sector order -----------------
    ip = pp.inv_perm
    tol = cm.tolerance
    ss = np.moveaxis(ss_hist[:, :, ip], -1, 0)  # [c, T, D, K]
    okh = np.moveaxis(ok_hist[:, :, ip], -1, 0)
    t0 = cm.disruption_start[sl]  # [c]
    after = (np.arange(T)[None, :] >= t0[:, None])[:, :, None, None]  # [c, T, 1, 1]
    flag = (ss > tol) & after
    anyf = flag.any(axis=1)
    first = flag.argmax(axis=1)
    t0b = t0[:, None, None]
    tts = np.where(anyf, first - t0b, T - t0b)
    abnormal = ((ss > tol) | ~okh) & after
    anya = abnormal.any(axis=1)
    last = T - 1 - abnormal[:, ::-1].argmax(axis=1)
    ttr = np.where(anya, last + 1 - t0b, 0)
    cs = np.moveaxis(cum_short[:, ip], -1, 0)  # [c, D, K, M]
    res: dict[str, np.ndarray] = {
        "time_to_survive": tts.astype(np.int64),
        "time_to_recover": ttr.astype(np.int64),
        "recovered": ~(anya & (last == T - 1)),
        "cumulative_shortfall": _sum(cs, 3),
        "peak_shortfall_share": ss.max(axis=1),
        "stockpile_needed": cs + np.moveaxis(strat_draw[:, ip], -1, 0),
    }
    if series:
        res["shortfall_share"] = ss
        res["tightness"] = np.moveaxis(tight_hist, -1, 0)
    if full:
        for k in ("demand", "shortfall", "inventory"):
            res[k] = np.moveaxis(h[k][:, :, ip], -1, 0)
        res["delivered"] = res["demand"] - res["shortfall"]
        for k in ("arrivals", "extra", "supply_used"):
            res[k] = np.moveaxis(h[k], -1, 0)
        res["stockpile"] = np.moveaxis(h["stockpile"], -1, 0)
        res["stockpile_initial"] = (np.stack([sp.initial[sl] for sp in sps], axis=1)
                                    if J else np.empty((c, 0)))
        res["inventory_initial"] = np.moveaxis(pick(pp.inv_initial)[:, ip], -1, 0)
    return res
