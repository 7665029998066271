"""The rareflow plan LP written in Pyomo, as an operations-research user would write it.

Same formulation as :mod:`rareflow.engines.optimize.model` (see the docstrings there for
the equations): sparse index sets, parameters as dicts, one ``Constraint`` with a rule
per family; solved with HiGHS through Pyomo's appsi interface (which drives highspy).
Used by ``benchmarks/bench_optimize.py`` and by ``tests/optimize/test_pyomo_peer.py``.

Input: *prepared* :class:`rareflow.engines.optimize.PlanInputs` (see ``prepare``).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pyomo.environ as pyo

from rareflow.engines.optimize.inputs import PlanInputs
from rareflow.engines.optimize.model import weights


def _labels(a: Any) -> list[Any]:
    return [x.item() if hasattr(x, "item") else x for x in a.values]


def build_pyomo(p: PlanInputs) -> pyo.ConcreteModel:
    """Build the Pyomo ConcreteModel of the plan LP from prepared inputs."""
    w = weights(p)
    S = _labels(p.probability["scenario"])
    R = _labels(p.demand["region"])
    P = _labels(p.capex["process"])
    O = _labels(p.capex["option"])
    M = _labels(p.demand["material"])
    G = _labels(p.allied["origin"])
    Y = [int(y) for y in p.demand["year"].values]
    y0 = Y[0]

    capex = p.capex.transpose("region", "process", "option").values
    fom = p.fixed_opex.transpose("region", "process", "option").values
    crf = (w.crf * (p.capex * 0.0 + 1.0)).transpose("region", "process", "option").values
    earliest = p.earliest_year.transpose("region", "process", "option").values
    rate = p.max_build_rate
    rate = (rate if "year" in rate.dims else rate.expand_dims(year=p.demand["year"]))
    rate = rate.transpose("region", "process", "option", "year").values
    maxcap = p.max_capacity.transpose("region", "process", "option").values
    existing = p.existing_capacity.transpose("region", "process", "year").values
    varopex = p.var_opex.transpose("region", "process").values
    incoef = p.input_coef.transpose("process", "material").values
    outcoef = p.output_coef.transpose("process", "material").values
    demand = p.demand.transpose("region", "material", "year").values
    price = p.import_price.transpose("origin", "material", "year").values
    avail = p.import_availability.transpose("scenario", "origin", "material", "year").values
    if "year" in p.probability.dims:  # a compressed problem: probability per copy and year
        prob2 = p.probability.transpose("scenario", "year").values
    else:
        prob2 = np.repeat(p.probability.values[:, None], len(Y), axis=1)
    allied = p.allied.transpose("region", "origin").values
    rorig = [str(x) for x in p.region_origin.values]
    tradeable = p.tradeable.values
    tcost = p.trade_cost.values
    sprice = p.sale_price.transpose("region", "material", "year").values
    slimit = p.sale_limit.transpose("region", "material", "year").values
    dcost = p.disposal_cost.transpose("region", "material").values
    feedav = p.feed_availability.transpose("region", "material", "year").values
    fcost = p.feed_cost.values
    req = p.coverage_requirement.transpose("region", "material", "year").values
    pen = p.unmet_penalty.values
    df = w.df.values

    ri = {r: i for i, r in enumerate(R)}
    pi = {x: i for i, x in enumerate(P)}
    oi = {x: i for i, x in enumerate(O)}
    mi = {x: i for i, x in enumerate(M)}
    gi = {x: i for i, x in enumerate(G)}
    yi = {x: i for i, x in enumerate(Y)}
    si = {x: i for i, x in enumerate(S)}

    def live(s: Any, y: int) -> bool:
        return bool(prob2[si[s], yi[y]] > 0)

    SY = [(s, y) for s in S for y in Y if live(s, y)]

    m = pyo.ConcreteModel("rareflow_plan")
    # ---- index sets (sparse, as the linopy masks) -----------------------------------
    opt_idx = [(r, q, o) for r, q, o in itertools.product(R, P, O)
               if not np.isnan(capex[ri[r], pi[q], oi[o]])]
    opt_set = set(opt_idx)
    cap_of = ({q: str(b) for q, b in zip(P, p.capacity_of.values, strict=True)}
              if p.capacity_of is not None else {q: q for q in P})
    own = {(r, q) for r, q in itertools.product(R, P)
           if existing[ri[r], pi[q]].max() > 0 or any((r, q, o) in opt_set for o in O)}
    # a grade variant runs wherever the line whose capacity it shares can
    can_run = {(r, q) for r, q in itertools.product(R, P) if (r, cap_of[q]) in own}
    m.KI = pyo.Set(initialize=[(r, q, o, y) for (r, q, o) in opt_idx for y in Y], dimen=4)
    m.XI = pyo.Set(initialize=[(s, r, q, y) for s in S for (r, q) in sorted(can_run, key=str)
                               for y in Y if live(s, y)], dimen=4)
    ext_idx = [(g, mm, y) for g, mm, y in itertools.product(G, M, Y)
               if not np.isnan(price[gi[g], mi[mm], yi[y]])]
    m.EI = pyo.Set(initialize=[(s, g, mm, y) for s in S for (g, mm, y) in ext_idx
                               if live(s, y)], dimen=4)
    members = {g: [r for r in R if rorig[ri[r]] == g] for g in G}
    pool_has = {(g, mm) for g, mm in itertools.product(G, M)
                if tradeable[mi[mm]] and (not np.all(np.isnan(price[gi[g], mi[mm]]))
                                          or members[g])}
    m.II = pyo.Set(initialize=[(s, r, g, mm, y) for s in S for r in R for (g, mm) in
                               sorted(pool_has, key=str) for y in Y if live(s, y)], dimen=5)
    exp_rm = [(r, mm) for r, mm in itertools.product(R, M) if rorig[ri[r]] and tradeable[mi[mm]]]
    m.QI = pyo.Set(initialize=[(s, r, mm, y) for s in S for (r, mm) in exp_rm for y in Y
                               if live(s, y)], dimen=4)
    sale_rmy = [(r, mm, y) for r, mm, y in itertools.product(R, M, Y)
                if not np.isnan(sprice[ri[r], mi[mm], yi[y]])]
    m.SI = pyo.Set(initialize=[(s, *k) for s in S for k in sale_rmy if live(s, k[2])], dimen=4)
    disp_rm = [(r, mm) for r, mm in itertools.product(R, M) if not np.isnan(dcost[ri[r], mi[mm]])]
    m.DI = pyo.Set(initialize=[(s, r, mm, y) for s in S for (r, mm) in disp_rm for y in Y
                               if live(s, y)], dimen=4)
    feed_rmy = [(r, mm, y) for r, mm, y in itertools.product(R, M, Y)
                if feedav[ri[r], mi[mm], yi[y]] > 0]
    m.FI = pyo.Set(initialize=[(s, *k) for s in S for k in feed_rmy if live(s, k[2])], dimen=4)
    unmet_rmy = [(r, mm, y) for r, mm, y in itertools.product(R, M, Y)
                 if demand[ri[r], mi[mm], yi[y]] > 0]
    m.UI = pyo.Set(initialize=[(s, *k) for s in S for k in unmet_rmy if live(s, k[2])], dimen=4)

    # ---- variables --------------------------------------------------------------------
    m.build = pyo.Var(m.KI, within=pyo.NonNegativeReals)
    m.newcap = pyo.Var(m.KI, within=pyo.NonNegativeReals)
    m.act = pyo.Var(m.XI, within=pyo.NonNegativeReals)
    m.ext = pyo.Var(m.EI, within=pyo.NonNegativeReals)
    m.imp = pyo.Var(m.II, within=pyo.NonNegativeReals)
    m.exp = pyo.Var(m.QI, within=pyo.NonNegativeReals)
    m.sell = pyo.Var(m.SI, within=pyo.NonNegativeReals)
    m.disp = pyo.Var(m.DI, within=pyo.NonNegativeReals)
    m.feed = pyo.Var(m.FI, within=pyo.NonNegativeReals,
                     bounds=lambda m, s, r, mm, y: (0, feedav[ri[r], mi[mm], yi[y]]))
    m.unmet = pyo.Var(m.UI, within=pyo.NonNegativeReals)

    opts_of = {(r, q): [o for o in O if (r, q, o) in opt_set] for r, q in itertools.product(R, P)}
    procs_out = {mm: [q for q in P if outcoef[pi[q], mi[mm]] != 0] for mm in M}
    procs_net = {mm: [q for q in P if outcoef[pi[q], mi[mm]] - incoef[pi[q], mi[mm]] != 0]
                 for mm in M}
    imp_of = {(r, mm): [g for g in G if (g, mm) in pool_has] for r, mm in itertools.product(R, M)}
    exp_set, sale_set = set(exp_rm), set(sale_rmy)
    disp_set, feed_set, unmet_set = set(disp_rm), set(feed_rmy), set(unmet_rmy)

    # ---- constraints ------------------------------------------------------------------
    def accounting(m, r, q, o, y):
        prev = m.newcap[r, q, o, y - 1] if y > y0 else 0.0
        return m.newcap[r, q, o, y] - prev - m.build[r, q, o, y] == 0

    m.capacity_accounting = pyo.Constraint(m.KI, rule=accounting)

    def rate_rhs(r, q, o, y):
        if y < earliest[ri[r], pi[q], oi[o]]:
            return 0.0
        return rate[ri[r], pi[q], oi[o], yi[y]]

    rate_idx = [k for k in m.KI if np.isfinite(rate_rhs(*k))]
    m.build_rate = pyo.Constraint(rate_idx, rule=lambda m, r, q, o, y:
                                  m.build[r, q, o, y] <= rate_rhs(r, q, o, y))
    maxcap_idx = [k for k in m.KI if np.isfinite(maxcap[ri[k[0]], pi[k[1]], oi[k[2]]])]
    m.max_capacity = pyo.Constraint(maxcap_idx, rule=lambda m, r, q, o, y:
                                    m.newcap[r, q, o, y] <= maxcap[ri[r], pi[q], oi[o]])

    def capacity(m, s, r, q, y):
        runs = sum(m.act[s, r, v, y] for v in P if cap_of[v] == q and (r, v) in can_run)
        return runs - sum(m.newcap[r, q, o, y] for o in opts_of[(r, q)]) <= \
            existing[ri[r], pi[q], yi[y]]

    m.capacity = pyo.Constraint([k for k in m.XI if cap_of[k[2]] == k[2]], rule=capacity)

    def production(m, s, r, mm, y, procs):
        return sum(float(outcoef[pi[q], mi[mm]]) * m.act[s, r, q, y]
                   for q in procs if (r, q) in can_run)

    bal_rm = [(r, mm) for r, mm in itertools.product(R, M)
              if any((r, q) in can_run for q in procs_net[mm])
              or demand[ri[r], mi[mm]].max() > 0 or feedav[ri[r], mi[mm]].max() > 0
              or not np.all(np.isnan(sprice[ri[r], mi[mm]])) or not np.isnan(dcost[ri[r], mi[mm]])
              or imp_of[(r, mm)] or (r, mm) in exp_set]

    def balance(m, s, r, mm, y):
        e = sum(float(outcoef[pi[q], mi[mm]] - incoef[pi[q], mi[mm]]) * m.act[s, r, q, y]
                for q in procs_net[mm] if (r, q) in can_run)
        e += sum(m.imp[s, r, g, mm, y] for g in imp_of[(r, mm)])
        if (r, mm) in exp_set:
            e -= m.exp[s, r, mm, y]
        if (r, mm, y) in sale_set:
            e -= m.sell[s, r, mm, y]
        if (r, mm) in disp_set:
            e -= m.disp[s, r, mm, y]
        if (r, mm, y) in feed_set:
            e += m.feed[s, r, mm, y]
        if (r, mm, y) in unmet_set:
            e += m.unmet[s, r, mm, y]
        if isinstance(e, (int, float)):
            return pyo.Constraint.Skip
        return e == float(demand[ri[r], mi[mm], yi[y]])

    m.material_balance = pyo.Constraint(
        [(s, r, mm, y) for (s, y) in SY for (r, mm) in bal_rm], rule=balance)

    avail_idx = [k for k in m.EI if np.isfinite(avail[si[k[0]], gi[k[1]], mi[k[2]], yi[k[3]]])]
    m.import_availability = pyo.Constraint(avail_idx, rule=lambda m, s, g, mm, y:
                                           m.ext[s, g, mm, y]
                                           <= avail[si[s], gi[g], mi[mm], yi[y]])

    def pool(m, s, g, mm, y):
        e = sum(m.imp[s, r, g, mm, y] for r in R)
        if (s, g, mm, y) in m.EI:
            e -= m.ext[s, g, mm, y]
        e -= sum(m.exp[s, r, mm, y] for r in members[g] if (r, mm) in exp_set)
        return e <= 0

    m.origin_pool = pyo.Constraint(
        [(s, g, mm, y) for (s, y) in SY for (g, mm) in sorted(pool_has, key=str)], rule=pool)
    m.no_reexport = pyo.Constraint(
        [(s, r, mm, y) for (s, y) in SY for (r, mm) in exp_rm],
        rule=lambda m, s, r, mm, y: m.exp[s, r, mm, y] - production(m, s, r, mm, y,
                                                                   procs_out[mm]) <= 0)
    lim_idx = [(s, r, mm, y) for s in S for (r, mm, y) in sale_rmy
               if live(s, y) and np.isfinite(slimit[ri[r], mi[mm], yi[y]])]
    m.sale_limit = pyo.Constraint(lim_idx, rule=lambda m, s, r, mm, y:
                                  m.sell[s, r, mm, y] <= slimit[ri[r], mi[mm], yi[y]])

    if p.jobs_per_capacity is not None and p.workforce_additions is not None:
        jobs = p.jobs_per_capacity.transpose("region", "process").values
        limit = np.cumsum(p.workforce_additions.transpose("region", "year").values, axis=1)
        wf_idx = [(r, y) for r, y in itertools.product(R, Y)
                  if np.isfinite(limit[ri[r], yi[y]]) and (jobs[ri[r]] > 0).any()]
        m.workforce = pyo.Constraint(wf_idx, rule=lambda m, r, y: sum(
            float(jobs[ri[r], pi[q]]) * m.newcap[r, q, o, y]
            for (rr, q, o, yy) in m.KI if rr == r and yy == y and jobs[ri[r], pi[q]] > 0)
            <= float(limit[ri[r], yi[y]]))

    m.sales_from_production = pyo.Constraint(
        sorted(m.SI, key=str),
        rule=lambda m, s, r, mm, y: m.sell[s, r, mm, y] - production(m, s, r, mm, y,
                                                                     procs_out[mm]) <= 0)

    cov_rmy = [(r, mm, y) for r, mm, y in itertools.product(R, M, Y)
               if req[ri[r], mi[mm], yi[y]] > 0]

    def coverage(m, s, r, mm, y):
        e = production(m, s, r, mm, y, procs_out[mm])
        if (r, mm) in exp_set:
            e -= m.exp[s, r, mm, y]
        e += sum(m.imp[s, r, g, mm, y] for g in imp_of[(r, mm)] if allied[ri[r], gi[g]])
        return e >= float(req[ri[r], mi[mm], yi[y]])

    m.coverage = pyo.Constraint([(s, *k) for s in S for k in cov_rmy if live(s, k[2])],
                                rule=coverage)

    # ---- objective --------------------------------------------------------------------
    def wt(s, y):
        return float(prob2[si[s], yi[y]] * df[yi[y]])

    obj = sum(float((crf[ri[r], pi[q], oi[o]] * capex[ri[r], pi[q], oi[o]]
                     + fom[ri[r], pi[q], oi[o]]) * df[yi[y]]) * m.newcap[r, q, o, y]
              for (r, q, o, y) in m.KI)
    obj += sum(wt(s, y) * float(varopex[ri[r], pi[q]]) * m.act[s, r, q, y]
               for (s, r, q, y) in m.XI if varopex[ri[r], pi[q]] != 0)
    obj += sum(wt(s, y) * float(price[gi[g], mi[mm], yi[y]]) * m.ext[s, g, mm, y]
               for (s, g, mm, y) in m.EI)
    obj += sum(wt(s, y) * float(tcost[mi[mm]]) * m.imp[s, r, g, mm, y]
               for (s, r, g, mm, y) in m.II if tcost[mi[mm]] != 0)
    obj -= sum(wt(s, y) * float(sprice[ri[r], mi[mm], yi[y]]) * m.sell[s, r, mm, y]
               for (s, r, mm, y) in m.SI)
    obj += sum(wt(s, y) * float(dcost[ri[r], mi[mm]]) * m.disp[s, r, mm, y]
               for (s, r, mm, y) in m.DI)
    obj += sum(wt(s, y) * float(fcost[ri[r], mi[mm]]) * m.feed[s, r, mm, y]
               for (s, r, mm, y) in m.FI if fcost[ri[r], mi[mm]] != 0)
    obj += sum(wt(s, y) * float(pen[mi[mm]]) * m.unmet[s, r, mm, y]
               for (s, r, mm, y) in m.UI)
    m.obj = pyo.Objective(expr=obj, sense=pyo.minimize)
    return m


def solve_pyomo(m: pyo.ConcreteModel, threads: int = 2) -> tuple[str, float]:
    """Solve with HiGHS through appsi (highspy); return (termination, objective)."""
    from pyomo.contrib.appsi.solvers import Highs

    opt = Highs()
    opt.highs_options = {"threads": threads, "output_flag": False}
    res = opt.solve(m)
    return str(res.termination_condition), float(res.best_feasible_objective)
