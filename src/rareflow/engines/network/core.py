"""The monthly network simulation, vectorised over samples (arrays in, arrays out).

Every month ``t``, for every sample at once, the network is solved level by level
(a process's level is one above the highest level of its inputs; a pool's level is its
producers'), so each step only reads what earlier steps of the month produced:

1. **Plans**: a node plans its static activity (commissioning delays shift a facility's
   share of it) plus last month's extra orders, capped by ``max(nameplate, planned x
   (1 + spare))`` x the outages' capacity factor.
2. **Nodes of the level produce**: activity = plan x min over its inputs of the share of
   the input's requirement it was allocated (the scarcest input limits); inputs are
   drawn from the region's user stock, outputs go to the producers' stock.
3. **Markets of the level's materials clear**: a destination pool orders its month's use
   plus the refill of its pipeline stock (at most ``refill_share`` of the target), less
   what the static balance could not attribute (``exogenous``, delivered anyway), split
   over origins by the base-year shares. Restrictions pass ``1 - severity`` of an order
   (nothing during the licence delay), except the share of the destination's use that
   its exempt sectors make up. Each origin fills the orders it may fill pro rata to its
   stock. The unfilled part, times a re-sourcing share that grows by ``1 /
   resourcing_months`` a month while orders go unfilled, is ordered from every origin
   whose link no restriction touches that month, in proportion to its stock left plus spare capacity; what they
   cannot ship now becomes extra orders for next month (bounded by spare capacity).
4. **Allocation**: strategic stockpiles release what the pool lacks for the uses they
   serve (up to their draw rate); then the user stock goes to the uses of the pool by
   priority tier, pro rata within a tier: final demand is served now; a plant's share
   fixes its input ratio for step 2 of its level.
5. After the levels: stockpiles refill from user stock above its target (up to their
   refill rate); ``deferral`` of unmet final demand is carried to next month.

Outputs (:class:`NetworkResult`): per sample and (region, sector) group, cumulative
demand and loss, the first and last short month (shortfall share above ``tolerance``),
optionally the monthly shortfall; per sample and pool the cumulative **deficit** (the
requirement of the pool's uses minus what they were allocated, summed over months):
a stockpile of that size at that pool, released without a rate limit whenever the
pool's uses are short, covers every allocation the disruption denied there (before
and after it nothing changes, since the pool's stock then follows the same path), so it
is the exact stockpile of that material at that region that removes the shortfall
passing through it, given the same upstream supply; entries for successive pools of one
path are alternatives, not a sum. Optionally the shipments on chosen links, and a full
trace for the mass-balance check (:mod:`rareflow.engines.network.check`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rareflow.engines.network.inputs import GroupMin, NetworkInputs, Scatter

EPS = 1e-12


@dataclass
class NetworkResult:
    """Per-sample outputs of :func:`simulate_network` (t, months)."""

    n_samples: int
    months: int
    cum_demand: np.ndarray         # [S, G] t
    cum_loss: np.ndarray           # [S, G] t (unmet and not deferred, or deferred past the end)
    first_short: np.ndarray        # [S, G] month index, -1 if never
    last_short: np.ndarray         # [S, G] month index, -1 if never
    deficit: np.ndarray            # [S, K] t
    disruption_start: np.ndarray   # [S]
    monthly_short: np.ndarray | None = None    # [S, T, G] t
    monthly_demand: np.ndarray | None = None   # [S, T, G] t
    trade: np.ndarray | None = None            # [S, T, len(trade_links)] t
    trace: dict[str, np.ndarray] = field(default_factory=dict)

    def time_to_survive(self) -> np.ndarray:
        ds = self.disruption_start[:, None]
        t = np.where(self.first_short >= 0, self.first_short - ds, self.months - ds)
        return np.maximum(t, 0)

    def time_to_recover(self) -> np.ndarray:
        ds = self.disruption_start[:, None]
        return np.where(self.last_short >= 0, np.maximum(self.last_short + 1 - ds, 0), 0)

    def shortfall_share(self) -> np.ndarray:
        return np.where(self.cum_demand > 0, self.cum_loss / np.where(
            self.cum_demand > 0, self.cum_demand, 1.0), 0.0)


class _Levels:
    """Index sets of one level of the network."""

    def __init__(self, inp: NetworkInputs, lvl: int) -> None:
        K, N = inp.K, inp.N
        self.nodes: np.ndarray = np.flatnonzero(inp.node_level == lvl)
        node_in = np.isin(inp.in_node, self.nodes)
        self.j_nodes = np.flatnonzero(node_in)
        self.node_min = GroupMin(inp.in_node[self.j_nodes], N)
        self.consume = Scatter(inp.in_pool[self.j_nodes], K)
        # inputs allocated at a later level (across a recycling loop): only nodes with
        # such an input can be asked for more than their region holds
        lag = self.j_nodes[inp.pool_level[inp.in_pool[self.j_nodes]] >= lvl]
        lag_nodes = np.unique(inp.in_node[lag])
        self.lag_nodes = lag_nodes
        self.j_lag = self.j_nodes[np.isin(inp.in_node[self.j_nodes], lag_nodes)]
        self.lag_min = GroupMin(inp.in_node[self.j_lag], N)
        self.b = np.flatnonzero(np.isin(inp.out_node, self.nodes))
        self.produce = Scatter(inp.out_pool[self.b], K)
        self.pools = np.flatnonzero(inp.pool_level == lvl)
        self.links = np.flatnonzero(np.isin(inp.link_dst, self.pools))
        self.src = inp.link_src[self.links]
        self.dst = inp.link_dst[self.links]
        self.by_src = Scatter(self.src, K)
        self.by_dst = Scatter(self.dst, K)
        j_pool = np.isin(inp.in_pool, self.pools)
        d_pool = np.isin(inp.use_pool, self.pools)
        tiers = sorted(set(inp.in_tier[j_pool].tolist()) | set(inp.use_tier[d_pool].tolist()))
        self.tiers: list[tuple[np.ndarray, np.ndarray, Scatter, Scatter]] = []
        for tier in tiers:
            j = np.flatnonzero(j_pool & (inp.in_tier == tier))
            d = np.flatnonzero(d_pool & (inp.use_tier == tier))
            self.tiers.append((j, d, Scatter(inp.in_pool[j], K), Scatter(inp.use_pool[d], K)))
        self.d_all = np.flatnonzero(d_pool)
        self.served = Scatter(inp.use_pool[self.d_all], K)
        self.sp = np.flatnonzero(np.isin(inp.sp_pool, self.pools))


def _window(t: int, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    return (t >= start) & (t < end)


def _run_chunk(inp: NetworkInputs, monthly: bool, trade_links: np.ndarray | None,
               trace: bool) -> NetworkResult:
    S, T, K, N, L, D = inp.n_samples, inp.months, inp.K, inp.N, inp.L, inp.D
    G = inp.n_groups
    levels = [_Levels(inp, lv) for lv in range(int(max(inp.node_level.max(initial=0),
                                                       inp.pool_level.max(initial=0))) + 1)]
    by_group = Scatter(inp.groups, G)
    demand_pool = Scatter(inp.use_pool, K)
    input_pool = Scatter(inp.in_pool, K)
    main_ok = inp.node_main_coef > 0
    main_pool = Scatter(inp.node_main_pool[main_ok], K)
    main_nodes = np.flatnonzero(main_ok)
    share_sum = Scatter(inp.link_dst, K)(inp.link_share.T) if L else np.zeros((T, K))
    Q = inp.sp_pool.shape[0]

    ps = np.broadcast_to(inp.producer_stock, (S, K)).copy()
    targets = inp.targets()                                        # [S, K, T]
    us = targets[:, :, 0].copy()
    sp = inp.sp_size.astype(float).copy()
    ramp = np.zeros((S, K))
    backlog = np.zeros((S, K))
    deferred = np.zeros((S, D))
    ratio = np.ones((S, inp.in_node.shape[0]))
    deficit = np.zeros((S, K))
    cum_dem = np.zeros((S, G))
    cum_loss = np.zeros((S, G))
    first = np.full((S, G), -1, dtype=np.int64)
    last = np.full((S, G), -1, dtype=np.int64)
    m_short = np.zeros((S, T, G)) if monthly else None
    m_dem = np.zeros((S, T, G)) if monthly else None
    tr = np.zeros((S, T, len(trade_links)), dtype=np.float64) \
        if trade_links is not None else None
    rec: dict[str, list[np.ndarray]] = {}
    rs_exempt_any: np.ndarray = np.asarray(np.asarray(inp.rs_exempt, dtype=bool).any(axis=1))
    step = 1.0 / np.maximum(inp.resourcing_months, 1e-9)[:, None]
    sp_all_uses: np.ndarray = np.asarray(np.asarray(inp.sp_uses, dtype=bool).all(axis=1))

    for t in range(T):
        # 1. plans
        base = np.broadcast_to(inp.planned[:, t], (S, N)).copy()
        for c in range(inp.cd_node.shape[0]):
            src_t = np.clip(t - inp.cd_delay[:, c], 0, T - 1)
            base[:, inp.cd_node[c]] += inp.cd_activity[c, src_t] - inp.cd_activity[c, t]
        base = np.maximum(base, 0.0)
        cap = np.maximum(inp.nameplate[:, t][None, :], base * (1.0 + inp.spare[:, None]))
        for o in range(inp.ou_weight.shape[0]):
            on = _window(t, inp.ou_start[:, o], inp.ou_end[:, o])
            lost = np.where(on, inp.ou_lost[:, o], 0.0)[:, None] * inp.ou_weight[o][None, :]
            cap = cap * (1.0 - lost)
        extra = np.zeros((S, N))
        if main_nodes.size:
            extra[:, main_nodes] = (backlog[:, inp.node_main_pool[main_nodes]]
                                    * inp.node_main_share[main_nodes, t]
                                    / inp.node_main_coef[main_nodes])
        plan = np.minimum(base + extra, cap)
        spare_cap = main_pool(((cap - plan) * inp.node_main_coef[None, :])[:, main_nodes])
        # demand this month
        mult = np.ones((S, D))
        for h in range(inp.sh_uses.shape[0]):
            on = _window(t, inp.sh_start[:, h], inp.sh_end[:, h])
            m = np.where(on, inp.sh_mult[:, h], 1.0)[:, None]
            mult = np.where(inp.sh_uses[h][None, :], mult * m, mult)
        fresh = inp.demand[:, t][None, :] * mult
        dem = fresh + deferred
        in_req = plan[:, inp.in_node] * inp.in_coef[None, :]
        use_k = input_pool(in_req) + demand_pool(dem)
        # restrictions: share of each link's order that may pass
        allowed = np.ones((S, L))
        for x in range(inp.rs_links.shape[0]):
            on = _window(t, inp.rs_start[:, x], inp.rs_end[:, x])
            if not on.any():
                continue
            held = on & (t < inp.rs_start[:, x] + inp.rs_delay[:, x])
            sev = np.where(held, 1.0, np.where(on, inp.rs_severity[:, x], 0.0))[:, None]
            mask = inp.rs_links[x]
            if rs_exempt_any[x]:
                ex = demand_pool(dem * inp.rs_exempt[x][None, :])
                exs = np.clip(ex / np.maximum(use_k, EPS), 0.0, 1.0)[:, inp.link_dst]
            else:
                exs = np.zeros((S, L))
            allowed = np.where(mask[None, :], allowed * (1.0 - sev * (1.0 - exs)), allowed)
        ship_all = np.zeros((S, L)) if (trace or tr is not None) else None
        act_all = np.zeros((S, N))
        release_all = np.zeros((S, Q))
        served_all = np.zeros((S, D))
        new_backlog = np.zeros((S, K))
        month_deficit = np.zeros((S, K))
        exo_t = inp.exogenous[:, t][None, :]

        for lv in levels:
            # 2. nodes of this level
            if lv.nodes.size:
                r_node = lv.node_min(ratio[:, lv.j_nodes])
                act = plan[:, lv.nodes] * np.minimum(1.0, r_node[:, lv.nodes])
                act_all[:, lv.nodes] = act
                if lv.lag_nodes.size:
                    # never more than the region holds (inputs allocated in an earlier
                    # month, across a recycling loop, may have been drawn since)
                    want = lv.consume(act_all[:, inp.in_node[lv.j_nodes]]
                                      * inp.in_coef[lv.j_nodes][None, :])
                    f = np.where(want > EPS, np.minimum(1.0, np.maximum(us, 0.0)
                                                        / np.maximum(want, EPS)), 1.0)
                    cut = lv.lag_min(f[:, inp.in_pool[lv.j_lag]])
                    act_all[:, lv.lag_nodes] = (act_all[:, lv.lag_nodes]
                                                * np.minimum(1.0, cut[:, lv.lag_nodes]))
                if lv.j_nodes.size:
                    us = us - lv.consume(act_all[:, inp.in_node[lv.j_nodes]]
                                         * inp.in_coef[lv.j_nodes][None, :])
                if lv.b.size:
                    ps = ps + lv.produce(act_all[:, inp.out_node[lv.b]]
                                         * inp.out_coef[lv.b][None, :])
            if not lv.pools.size:
                continue
            # 3. markets of this level's materials
            tgt = targets[:, :, t]
            need = np.maximum(0.0, use_k + np.minimum(tgt - us, inp.refill_share * tgt)
                              - exo_t)
            if lv.links.size:
                li = lv.links
                req = need[:, lv.dst] * inp.link_share[li, t][None, :]
                ok = req * allowed[:, li]
                tot = lv.by_src(ok)
                fill = np.where(tot > EPS, np.minimum(1.0, ps / np.maximum(tot, EPS)), 1.0)
                ship1 = ok * fill[:, lv.src]
                unf = lv.by_dst(req - ship1) + need * (1.0 - share_sum[t])[None, :]
                unf = np.where(unf > 1e-9, unf, 0.0)
                movable = unf * ramp
                if movable.any():
                    rem = ps - lv.by_src(ship1)
                    # re-sourcing only on links no restriction touches this month (a denied
                    # order is not placed again with the origin that denied it)
                    w = np.where(allowed[:, li] >= 1.0 - 1e-12, (rem + spare_cap)[:, lv.src],
                                 0.0)
                    wsum = lv.by_dst(w)
                    alt = np.where(wsum[:, lv.dst] > EPS, movable[:, lv.dst] * w
                                   / np.maximum(wsum[:, lv.dst], EPS), 0.0)
                    tot2 = lv.by_src(alt)
                    fill2 = np.where(tot2 > EPS, np.minimum(1.0, rem / np.maximum(tot2, EPS)),
                                     1.0)
                    ship2 = alt * fill2[:, lv.src]
                    bl = np.minimum(lv.by_src(alt - ship2), spare_cap)
                    ship = ship1 + ship2
                else:       # nothing to move: the same numbers without the second pass
                    bl = np.zeros((S, K))
                    ship = ship1
                ps = ps - lv.by_src(ship)
                us = us + lv.by_dst(ship)
                pl = lv.pools
                new_backlog[:, pl] = bl[:, pl]
                ramp[:, pl] = np.where(unf[:, pl] > 0, np.minimum(1.0, ramp[:, pl] + step), 0.0)
                if ship_all is not None:
                    ship_all[:, li] = ship
            us[:, lv.pools] += exo_t[:, lv.pools]
            # 4. allocation: stockpiles first, then tiers
            for q in lv.sp.tolist():
                k = int(inp.sp_pool[q])
                if sp_all_uses[q]:
                    elig = use_k[:, k]
                else:
                    elig = (dem[:, inp.sp_uses[q]] *
                            (inp.use_pool[inp.sp_uses[q]] == k)[None, :]).sum(axis=1)
                low = us[:, k] < inp.sp_release_below[q] * use_k[:, k] - 1e-12
                rel = np.where(low, np.minimum(np.minimum(sp[:, q], inp.sp_max_draw[:, q]),
                                               np.maximum(0.0, np.minimum(elig, use_k[:, k]
                                                                          - us[:, k]))), 0.0)
                sp[:, q] -= rel
                us[:, k] += rel
                release_all[:, q] = rel
            avail = us.copy()
            for j, d, sj, sd in lv.tiers:
                rq_j = in_req[:, j]
                rq_d = dem[:, d]
                tot = sj(rq_j) + sd(rq_d)
                frac = np.where(tot > EPS, np.minimum(1.0, np.maximum(avail, 0.0)
                                                      / np.maximum(tot, EPS)), 1.0)
                given_j = rq_j * frac[:, inp.in_pool[j]]
                given_d = rq_d * frac[:, inp.use_pool[d]]
                ratio[:, j] = np.where(rq_j > EPS, frac[:, inp.in_pool[j]], 1.0)
                served_all[:, d] = given_d
                given = sj(given_j) + sd(given_d)
                avail = avail - given
                month_deficit = month_deficit + (tot - given)
            if lv.d_all.size:
                us = us - lv.served(served_all[:, lv.d_all])
        # 5. stockpile refill, deferral, records
        refill_all = np.zeros((S, Q))
        for q in range(Q):
            kq = int(inp.sp_pool[q])
            room = np.maximum(0.0, inp.sp_size[:, q] - sp[:, q])
            surplus = np.maximum(0.0, us[:, kq] - targets[:, kq, t])
            amt = np.where(month_deficit[:, kq] <= 1e-9,
                           np.minimum(np.minimum(room, surplus), inp.sp_refill[:, q]), 0.0)
            sp[:, q] += amt
            us[:, kq] -= amt
            refill_all[:, q] = amt
        deficit += month_deficit
        backlog = new_backlog
        short_d = np.maximum(dem - served_all, 0.0)
        deferred = short_d * inp.deferral[:, None]
        lost_d = short_d - deferred
        if t == T - 1:
            lost_d = short_d
        sg = by_group(short_d)
        dg = by_group(fresh)
        cum_dem += dg
        cum_loss += by_group(lost_d)
        is_short = sg > inp.tolerance * np.maximum(dg, EPS)
        first = np.where(is_short & (first < 0), t, first)
        last = np.where(is_short, t, last)
        if m_short is not None and m_dem is not None:
            m_short[:, t] = sg
            m_dem[:, t] = dg
        if tr is not None and ship_all is not None and trade_links is not None:
            tr[:, t] = ship_all[:, trade_links]
        if trace:
            for name, arr in (("activity", act_all), ("ship", ship_all), ("served", served_all),
                              ("release", release_all), ("refill", refill_all),
                              ("producer_stock", ps), ("user_stock", us), ("stockpile", sp),
                              ("exogenous", np.broadcast_to(exo_t, (S, K))),
                              ("demand", dem), ("allowed", allowed), ("plan", plan),
                              ("ratio", ratio), ("deficit", month_deficit)):
                assert arr is not None
                rec.setdefault(name, []).append(np.array(arr, copy=True))
    trace_out = {k: np.stack(v, axis=1) for k, v in rec.items()}
    if trace:
        trace_out["initial_producer_stock"] = np.broadcast_to(inp.producer_stock, (S, K)).copy()
        trace_out["initial_user_stock"] = targets[:, :, 0].copy()
        trace_out["initial_stockpile"] = inp.sp_size.astype(float).copy()
    return NetworkResult(n_samples=S, months=T, cum_demand=cum_dem, cum_loss=cum_loss,
                         first_short=first, last_short=last, deficit=deficit,
                         disruption_start=np.asarray(inp.disruption_start),
                         monthly_short=m_short, monthly_demand=m_dem, trade=tr,
                         trace=trace_out)


def _concat(parts: list[NetworkResult]) -> NetworkResult:
    def cat(name: str) -> Any:
        vals = [getattr(p, name) for p in parts]
        return None if vals[0] is None else np.concatenate(vals, axis=0)

    trace = {k: np.concatenate([p.trace[k] for p in parts], axis=0) for k in parts[0].trace}
    return NetworkResult(
        n_samples=sum(p.n_samples for p in parts), months=parts[0].months,
        cum_demand=cat("cum_demand"), cum_loss=cat("cum_loss"), first_short=cat("first_short"),
        last_short=cat("last_short"), deficit=cat("deficit"),
        disruption_start=cat("disruption_start"), monthly_short=cat("monthly_short"),
        monthly_demand=cat("monthly_demand"), trade=cat("trade"), trace=trace)


def _chunk_job(args: tuple[NetworkInputs, bool, np.ndarray | None, bool]) -> NetworkResult:
    return _run_chunk(*args)


def simulate_network(inp: NetworkInputs, *, chunk: int = 1000, workers: int = 1,
                     monthly: bool = False, trade_links: np.ndarray | None = None,
                     trace: bool = False,
                     progress: Callable[[int], None] | None = None) -> NetworkResult:
    """Simulate every sample of ``inp`` month by month (see the module docstring).

    Samples are run in chunks of ``chunk`` (on ``workers`` processes); a sample's result
    does not depend on the chunk size or the number of workers (every operation is row
    by row in a fixed order). ``trade_links`` (link indices) records their monthly
    shipments; ``trace`` keeps every monthly flow and stock (for the mass-balance check;
    memory grows with samples x months x links).

    Examples
    --------
    >>> from rareflow.engines.network.testing import three_region_case
    >>> res = simulate_network(three_region_case(ban=True))
    >>> float(res.cum_loss.sum()) > 0
    True
    """
    S = inp.n_samples
    chunk = max(1, int(chunk))
    bounds = [(lo, min(S, lo + chunk)) for lo in range(0, S, chunk)]
    jobs = [(inp.take(lo, hi), monthly, trade_links, trace) for lo, hi in bounds]
    parts: list[NetworkResult] = []
    if workers > 1 and len(jobs) > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
            for (lo, hi), part in zip(bounds, ex.map(_chunk_job, jobs), strict=True):
                parts.append(part)
                if progress is not None:
                    progress(hi - lo)
    else:
        for (lo, hi), job in zip(bounds, jobs, strict=True):
            parts.append(_chunk_job(job))
            if progress is not None:
                progress(hi - lo)
    return _concat(parts)
