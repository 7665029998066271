"""Event-based reference of the network simulation, written with SimPy.

How an analyst would otherwise write it: one SimPy environment per future, a process per
level of the network (mining, separation, metal, alloy, magnet...) that every month waits
for the level before it, then runs its plants one by one (scalar arithmetic: the scarcest
input limits), ships each material link by link, and hands each region's stock to its
uses by tier. Scalars and Python loops only; the same rules as
:mod:`rareflow.engines.network.core` (to cross-check it), one sample at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import simpy

EPS = 1e-12


def run_sample(inp: Any, s: int) -> dict[str, np.ndarray]:
    """Simulate sample ``s`` of a :class:`~rareflow.engines.network.NetworkInputs`;
    returns cum_loss [G], first_short [G], last_short [G], deficit [K]."""
    T, K, N, L, D = inp.months, inp.K, inp.N, inp.L, inp.D
    J = inp.in_node.shape[0]
    Q = inp.sp_pool.shape[0]
    G = inp.n_groups
    n_levels = int(max(inp.node_level.max(initial=0), inp.pool_level.max(initial=0))) + 1
    tg = inp.targets()[s]                                    # [K, T]
    st: dict[str, Any] = {
        "ps": [float(x) for x in inp.producer_stock], "us": [float(x) for x in tg[:, 0]],
        "sp": [float(x) for x in inp.sp_size[s]], "ramp": [0.0] * K, "backlog": [0.0] * K,
        "deferred": [0.0] * D, "ratio": [1.0] * J, "deficit": [0.0] * K,
        "cum_dem": [0.0] * G, "cum_loss": [0.0] * G, "first": [-1] * G, "last": [-1] * G}
    share_sum = [[0.0] * K for _ in range(T)]
    for li in range(L):
        for t in range(T):
            share_sum[t][inp.link_dst[li]] += float(inp.link_share[li, t])
    step = 1.0 / max(float(inp.resourcing_months[s]), 1e-9)
    env = simpy.Environment()
    done = [[env.event() for _ in range(n_levels + 1)] for _ in range(T)]
    month: dict[str, Any] = {}

    def on(t: int, a: int, b: int) -> bool:
        return a <= t < b

    def begin(t: int) -> None:
        base = [float(inp.planned[n, t]) for n in range(N)]
        for c in range(inp.cd_node.shape[0]):
            src = min(max(t - int(inp.cd_delay[s, c]), 0), T - 1)
            base[inp.cd_node[c]] += float(inp.cd_activity[c, src] - inp.cd_activity[c, t])
        base = [max(b, 0.0) for b in base]
        cap = [max(float(inp.nameplate[n, t]), base[n] * (1.0 + float(inp.spare[s])))
               for n in range(N)]
        for o in range(inp.ou_weight.shape[0]):
            lost = float(inp.ou_lost[s, o]) if on(t, inp.ou_start[s, o], inp.ou_end[s, o]) \
                else 0.0
            for n in range(N):
                cap[n] = cap[n] * (1.0 - lost * float(inp.ou_weight[o, n]))
        plan = []
        for n in range(N):
            extra = 0.0
            if inp.node_main_coef[n] > 0:
                extra = (st["backlog"][inp.node_main_pool[n]] * float(inp.node_main_share[n, t])
                         / float(inp.node_main_coef[n]))
            plan.append(min(base[n] + extra, cap[n]))
        spare_cap = [0.0] * K
        for n in range(N):
            if inp.node_main_coef[n] > 0:
                spare_cap[inp.node_main_pool[n]] += (cap[n] - plan[n]) * float(inp.node_main_coef[n])
        fresh = []
        for d in range(D):
            m = 1.0
            for h in range(inp.sh_uses.shape[0]):
                if inp.sh_uses[h, d] and on(t, inp.sh_start[s, h], inp.sh_end[s, h]):
                    m = m * float(inp.sh_mult[s, h])
            fresh.append(float(inp.demand[d, t]) * m)
        dem = [fresh[d] + st["deferred"][d] for d in range(D)]
        in_req = [plan[inp.in_node[j]] * float(inp.in_coef[j]) for j in range(J)]
        use_k = [0.0] * K
        for j in range(J):
            use_k[inp.in_pool[j]] += in_req[j]
        for d in range(D):
            use_k[inp.use_pool[d]] += dem[d]
        allowed = [1.0] * L
        for x in range(inp.rs_links.shape[0]):
            if not on(t, inp.rs_start[s, x], inp.rs_end[s, x]):
                continue
            held = t < inp.rs_start[s, x] + inp.rs_delay[s, x]
            sev = 1.0 if held else float(inp.rs_severity[s, x])
            ex_k = [0.0] * K
            for d in range(D):
                if inp.rs_exempt[x, d]:
                    ex_k[inp.use_pool[d]] += dem[d]
            for li in range(L):
                if inp.rs_links[x, li]:
                    k = inp.link_dst[li]
                    exs = min(max(ex_k[k] / max(use_k[k], EPS), 0.0), 1.0) \
                        if inp.rs_exempt[x].any() else 0.0
                    allowed[li] = allowed[li] * (1.0 - sev * (1.0 - exs))
        month.update(plan=plan, spare_cap=spare_cap, fresh=fresh, dem=dem, in_req=in_req,
                     use_k=use_k, allowed=allowed, served=[0.0] * D, act=[0.0] * N,
                     new_backlog=[0.0] * K, month_deficit=[0.0] * K)

    def level(lv: int):  # noqa: ANN202
        for t in range(T):
            yield done[t][lv]
            if lv == 0:
                begin(t)
            run_level(t, lv)
            done[t][lv + 1].succeed()
            yield env.timeout(0)

    def run_level(t: int, lv: int) -> None:
        ps, us, ratio = st["ps"], st["us"], st["ratio"]
        plan, act = month["plan"], month["act"]
        nodes = [n for n in range(N) if inp.node_level[n] == lv]
        for n in nodes:
            r = min([ratio[j] for j in range(J) if inp.in_node[j] == n], default=1.0)
            act[n] = plan[n] * min(1.0, r)
        want = [0.0] * K
        for j in range(J):
            if inp.node_level[inp.in_node[j]] == lv:
                want[inp.in_pool[j]] += act[inp.in_node[j]] * float(inp.in_coef[j])
        for n in nodes:
            cut = min([min(1.0, max(us[inp.in_pool[j]], 0.0) / max(want[inp.in_pool[j]], EPS))
                       if want[inp.in_pool[j]] > EPS else 1.0
                       for j in range(J) if inp.in_node[j] == n], default=1.0)
            act[n] = act[n] * min(1.0, cut)
        for j in range(J):
            if inp.node_level[inp.in_node[j]] == lv:
                us[inp.in_pool[j]] -= act[inp.in_node[j]] * float(inp.in_coef[j])
        for b in range(inp.out_node.shape[0]):
            if inp.node_level[inp.out_node[b]] == lv:
                ps[inp.out_pool[b]] += act[inp.out_node[b]] * float(inp.out_coef[b])
        pools = [k for k in range(K) if inp.pool_level[k] == lv]
        if not pools:
            return
        use_k, allowed = month["use_k"], month["allowed"]
        need = [max(0.0, use_k[k] + min(tg[k, t] - us[k], inp.refill_share * tg[k, t])
                    - float(inp.exogenous[k, t])) for k in range(K)]
        links = [li for li in range(L) if inp.pool_level[inp.link_dst[li]] == lv]
        if links:
            req = {li: need[inp.link_dst[li]] * float(inp.link_share[li, t]) for li in links}
            ok = {li: req[li] * allowed[li] for li in links}
            tot = [0.0] * K
            for li in links:
                tot[inp.link_src[li]] += ok[li]
            fill = [min(1.0, ps[k] / max(tot[k], EPS)) if tot[k] > EPS else 1.0
                    for k in range(K)]
            ship1 = {li: ok[li] * fill[inp.link_src[li]] for li in links}
            unf = [0.0] * K
            out1 = [0.0] * K
            for li in links:
                unf[inp.link_dst[li]] += req[li] - ship1[li]
                out1[inp.link_src[li]] += ship1[li]
            for k in range(K):
                unf[k] += need[k] * (1.0 - share_sum[t][k])
                unf[k] = unf[k] if unf[k] > 1e-9 else 0.0
            rem = [ps[k] - out1[k] for k in range(K)]
            spare_cap = month["spare_cap"]
            w = {li: (rem[inp.link_src[li]] + spare_cap[inp.link_src[li]])
                 if allowed[li] >= 1.0 - 1e-12 else 0.0 for li in links}
            wsum = [0.0] * K
            for li in links:
                wsum[inp.link_dst[li]] += w[li]
            alt = {}
            for li in links:
                k = inp.link_dst[li]
                alt[li] = (unf[k] * st["ramp"][k]) * w[li] / max(wsum[k], EPS) \
                    if wsum[k] > EPS else 0.0
            tot2 = [0.0] * K
            for li in links:
                tot2[inp.link_src[li]] += alt[li]
            fill2 = [min(1.0, rem[k] / max(tot2[k], EPS)) if tot2[k] > EPS else 1.0
                     for k in range(K)]
            short2 = [0.0] * K
            for li in links:
                ship2 = alt[li] * fill2[inp.link_src[li]]
                short2[inp.link_src[li]] += alt[li] - ship2
                ship = ship1[li] + ship2
                ps[inp.link_src[li]] -= ship
                us[inp.link_dst[li]] += ship
            for k in pools:
                month["new_backlog"][k] = min(short2[k], spare_cap[k])
                st["ramp"][k] = min(1.0, st["ramp"][k] + step) if unf[k] > 0 else 0.0
        for k in pools:
            us[k] += float(inp.exogenous[k, t])
        dem, in_req = month["dem"], month["in_req"]
        for q in range(Q):
            k = int(inp.sp_pool[q])
            if inp.pool_level[k] != lv:
                continue
            if inp.sp_uses[q].all():
                elig = use_k[k]
            else:
                elig = sum(dem[d] for d in range(D) if inp.sp_uses[q, d] and inp.use_pool[d] == k)
            if us[k] < inp.sp_release_below[q] * use_k[k] - 1e-12:
                rel = min(min(st["sp"][q], float(inp.sp_max_draw[s, q])),
                          max(0.0, min(elig, use_k[k] - us[k])))
                st["sp"][q] -= rel
                us[k] += rel
        avail = list(us)
        tiers = sorted({int(inp.in_tier[j]) for j in range(J) if inp.pool_level[inp.in_pool[j]] == lv}
                       | {int(inp.use_tier[d]) for d in range(D)
                          if inp.pool_level[inp.use_pool[d]] == lv})
        for tier in tiers:
            js = [j for j in range(J) if inp.in_tier[j] == tier and inp.pool_level[inp.in_pool[j]] == lv]
            ds = [d for d in range(D) if inp.use_tier[d] == tier and inp.pool_level[inp.use_pool[d]] == lv]
            tot = [0.0] * K
            for j in js:
                tot[inp.in_pool[j]] += in_req[j]
            for d in ds:
                tot[inp.use_pool[d]] += dem[d]
            frac = [min(1.0, max(avail[k], 0.0) / max(tot[k], EPS)) if tot[k] > EPS else 1.0
                    for k in range(K)]
            given = [0.0] * K
            for j in js:
                k = inp.in_pool[j]
                given[k] += in_req[j] * frac[k]
                ratio[j] = frac[k] if in_req[j] > EPS else 1.0
            for d in ds:
                k = inp.use_pool[d]
                month["served"][d] = dem[d] * frac[k]
                given[k] += month["served"][d]
            for k in range(K):
                avail[k] -= given[k]
                month["month_deficit"][k] += tot[k] - given[k]
        for d in range(D):
            if inp.pool_level[inp.use_pool[d]] == lv:
                us[inp.use_pool[d]] -= month["served"][d]

    def close():  # noqa: ANN202
        for t in range(T):
            yield done[t][n_levels]
            us, sp = st["us"], st["sp"]
            md = month["month_deficit"]
            for q in range(Q):
                k = int(inp.sp_pool[q])
                room = max(0.0, float(inp.sp_size[s, q]) - sp[q])
                surplus = max(0.0, us[k] - tg[k, t])
                amt = min(min(room, surplus), float(inp.sp_refill[s, q])) if md[k] <= 1e-9 else 0.0
                sp[q] += amt
                us[k] -= amt
            for k in range(K):
                st["deficit"][k] += md[k]
            st["backlog"] = month["new_backlog"]
            sg, dg, lg = [0.0] * G, [0.0] * G, [0.0] * G
            for d in range(D):
                short = max(month["dem"][d] - month["served"][d], 0.0)
                st["deferred"][d] = short * float(inp.deferral[s])
                lost = short if t == T - 1 else short - st["deferred"][d]
                g = inp.groups[d]
                sg[g] += short
                dg[g] += month["fresh"][d]
                lg[g] += lost
            for g in range(G):
                st["cum_dem"][g] += dg[g]
                st["cum_loss"][g] += lg[g]
                if sg[g] > inp.tolerance * max(dg[g], EPS):
                    if st["first"][g] < 0:
                        st["first"][g] = t
                    st["last"][g] = t
            if t + 1 < T:
                done[t + 1][0].succeed()
            yield env.timeout(1)

    for lv in range(n_levels):
        env.process(level(lv))
    env.process(close())
    done[0][0].succeed()
    env.run()
    return {"cum_loss": np.array(st["cum_loss"]), "first_short": np.array(st["first"]),
            "last_short": np.array(st["last"]), "deficit": np.array(st["deficit"])}
