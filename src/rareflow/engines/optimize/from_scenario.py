"""Turn a loaded scenario (its ``plan:`` section and compiled arrays) into PlanInputs.

Scope (stated in every report): the plan models the focus region plus the regions of its
build candidates; all other supply enters as priced *origins* (``plan.supply``) whose
availability the disruption scenarios scale. Demand is the focus region's final demand of
the coverage material (and its sibling magnet grades). Existing capacity = facilities whose
status is in ``plan.existing_status`` (their capacity schedule times utilisation); reported
production rows that are not facilities are not counted as capacity.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from rareflow.dims import MATERIAL, ORIGIN, PROCESS, REGION, SCENARIO, YEAR
from rareflow.engines.optimize.inputs import OPTION, PlanInputs, upstream_requirements
from rareflow.errors import Problem, RareflowInputError

NORMAL = "normal"


@dataclass(frozen=True)
class PlanMeta:
    """What the builder decided, for reports."""

    region: str
    regions: list[str]
    years: list[int]
    variant: str
    recycling: bool
    allied: bool
    option_names: dict[str, str]
    option_provenance: dict[str, str]
    option_capex_per_t: dict[str, float]
    coverage_materials: list[str]
    process_stage: dict[str, str] = field(default_factory=dict)
    process_basis: dict[str, str] = field(default_factory=dict)
    """[process] the material a build's t/yr is measured in (its capacity basis)."""


def _problem(scenario: Any, path: str, message: str) -> Problem:
    file, line = scenario.where(path)
    return Problem(message, file, line, path)


def plan_inputs(scenario: Any, *, recycling: bool | None = None, allied: bool | None = None,
                disruptions: bool = True, coverage: bool = True,
                variant: str = "base") -> tuple[PlanInputs, PlanMeta]:
    """Build :class:`PlanInputs` from ``scenario`` (a loaded :class:`Scenario`).

    ``recycling`` / ``allied`` override ``plan.recycling`` / ``plan.allied``;
    ``disruptions=False`` keeps only the normal scenario (the coverage target alone then
    drives the builds); ``coverage=False`` drops the target (to price it).
    """
    from rareflow.model.arrays import _basis_factor, build_arrays, schedule

    plan = scenario.spec.plan
    if plan is None:
        raise RareflowInputError.single(
            "this scenario has no `plan:` section; add one (see us-50pct-coverage)",
            file=scenario.source_file, path="plan")
    a = build_arrays(scenario)
    chain = a.chain
    recycling = plan.recycling if recycling is None else recycling
    allied_on = plan.allied if allied is None else allied
    region = plan.region or scenario.focus_region
    first = plan.first_year or scenario.years[0]
    years = [y for y in scenario.years if y >= first]
    yi = [scenario.years.index(y) for y in years]

    is_recycling = {p: chain.process_stage[i] in ("recycling", "end_of_life")
                    for i, p in enumerate(chain.processes)}
    from rareflow.model.plants import plan_candidate

    problems: list[Problem] = []
    for k, c in plan.candidates.items():
        if c.facility and c.facility not in scenario.spec.facilities:
            problems.append(_problem(scenario, f"plan.candidates.{k}.facility",
                                     f"unknown facility '{c.facility}' (facilities: "
                                     f"{', '.join(sorted(scenario.spec.facilities))})"))
    cands = {k: plan_candidate(scenario, c) for k, c in plan.candidates.items()
             if recycling or not is_recycling.get(c.process, False)}
    if not allied_on:  # the focus region alone: other regions' plants and builds leave too
        cands = {k: c for k, c in cands.items() if (c.region or region) == region}
    regions = [region] + sorted({c.region for c in cands.values() if c.region} - {region})
    for k, c in cands.items():
        if c.process not in chain.processes:
            problems.append(_problem(scenario, f"plan.candidates.{k}.process",
                                     f"unknown process '{c.process}'"))
        if c.region and c.region not in a.regions:
            problems.append(_problem(scenario, f"plan.candidates.{k}.region",
                                     f"unknown region '{c.region}'"))
    if problems:
        raise RareflowInputError(problems)

    P, M = list(chain.processes), list(chain.materials)
    options = list(cands) or ["none"]
    R, Y = len(regions), len(years)

    # existing capacity from facilities
    existing = np.zeros((R, len(P), Y))
    for f, act in zip(a.facilities, a.facility_activity, strict=True):
        if f.region in regions and f.status in plan.existing_status:
            if not recycling and is_recycling[f.process]:
                continue
            existing[regions.index(f.region), P.index(f.process)] += act[yi]

    # build options
    capex = np.full((R, len(P), len(options)), np.nan)
    fixed = np.full_like(capex, np.nan)
    life = np.full_like(capex, np.nan)
    earliest = np.full_like(capex, np.nan)
    rate = np.full_like(capex, np.inf)
    maxcap = np.full_like(capex, np.inf)
    minb = np.zeros_like(capex)
    step = np.zeros_like(capex)
    varopex = np.zeros((R, len(P)))
    names, prov, per_t = {}, {}, {}
    for o, (k, c) in enumerate(cands.items()):
        r = regions.index(c.region or region)
        p = P.index(c.process)
        factor = _basis_factor(chain, c.process, c.capacity_basis)  # activity per t of basis
        if c.capex is not None and c.capex_capacity:
            per = c.capex / (c.capex_capacity * factor)
        elif c.capex_per_capacity is not None:
            per = c.capex_per_capacity * 1000.0 / factor
        else:
            problems.append(_problem(
                scenario, f"plan.candidates.{k}",
                f"build option '{c.name}' has no capex: give capex and capex_capacity, or "
                "capex_per_capacity (e.g. '41 USD/kg')"))
            continue
        if c.fixed_opex_share is None:
            problems.append(_problem(
                scenario, f"plan.candidates.{k}",
                f"build option '{c.name}': fixed_opex_share is missing (a share of capex per "
                "year, e.g. '4 %'); label it `assumption:` if no source gives it"))
            continue
        capex[r, p, o] = per
        fixed[r, p, o] = per * c.fixed_opex_share
        life[r, p, o] = c.lifetime
        earliest[r, p, o] = c.earliest_year
        if c.max_build_rate is not None:
            rate[r, p, o] = c.max_build_rate * factor
        if c.max_capacity is not None:
            maxcap[r, p, o] = c.max_capacity * factor
        if c.min_build is not None:
            minb[r, p, o] = c.min_build * factor
        if c.build_step is not None:
            step[r, p, o] = c.build_step * factor
        if c.variable_opex is not None:
            varopex[r, p] = max(varopex[r, p], c.variable_opex * 1000.0)
        names[k], prov[k], per_t[k] = c.name, c.provenance, per
    for proc, oc in plan.operating_costs.items():
        if proc not in P:
            problems.append(_problem(scenario, f"plan.operating_costs.{proc}",
                                     f"unknown process '{proc}'"))
            continue
        varopex[:, P.index(proc)] = oc.variable_opex * 1000.0
    if problems:
        raise RareflowInputError(problems)
    # grade variants of a line (e.g. traction-grade magnets) run on the base line's
    # capacity at its operating cost, unless a cost is given for the variant itself
    capacity_of = np.array([""] * len(P), dtype=object)
    for base, variants in chain.grade_variants.items():
        for v in variants.values():
            k = P.index(v)
            capacity_of[k] = base
            if not varopex[:, k].any():
                varopex[:, k] = varopex[:, P.index(base)]

    # demand: focus region's final demand of the coverage material's stage products
    cov_mat = plan.coverage.material
    if cov_mat not in M:
        raise RareflowInputError([_problem(scenario, "plan.coverage.material",
                                           f"unknown material '{cov_mat}'")])
    stage = chain.material_stage[chain.m(cov_mat)]
    dem_mats = [m for m in chain.stage_materials(stage)]
    demand = np.zeros((R, len(M), Y))
    fd = a.final_demand[a.r(region)].sum(0)  # [material, year]
    for m in dem_mats:
        demand[0, M.index(m)] = fd[chain.m(m)][yi]

    # supply by origin
    groups = {g: list(v) for g, v in a.groups.items()}
    origins: list[str] = []
    for s in plan.supply.values():
        if s.origin not in origins:
            origins.append(s.origin)
    allied_pool = plan.allied_group or "allied"
    other_regions = regions[1:]
    if other_regions and allied_pool not in origins:
        origins.append(allied_pool)
    disr = dict(plan.disruptions) if disruptions else {}
    scen = [NORMAL, *disr]
    probs = [1.0 - sum(d.probability for d in disr.values()),
             *[d.probability for d in disr.values()]]
    if probs[0] < -1e-9:
        problems.append(_problem(scenario, "plan.disruptions",
                                 "disruption probabilities sum to more than 100 %"))
    price = np.full((len(origins), len(M), Y), np.nan)
    avail = np.full((len(scen), len(origins), len(M), Y), np.inf)
    for sid, s in plan.supply.items():
        if s.material not in M:
            problems.append(_problem(scenario, f"plan.supply.{sid}.material",
                                     f"unknown material '{s.material}'"))
            continue
        g, j = origins.index(s.origin), M.index(s.material)
        price[g, j] = s.price * 1000.0
        base = np.inf if s.available is None else s.available
        avail[:, g, j] = base
        for si, (did, d) in enumerate(disr.items(), start=1):
            if sid in d.available:
                avail[si, g, j] = d.available[sid]
            elif sid in d.factor:
                if not np.isfinite(base):
                    problems.append(_problem(
                        scenario, f"plan.disruptions.{did}.factor.{sid}",
                        "a factor needs a finite normal availability on the supply entry; "
                        "give `available:` there or an absolute figure here"))
                avail[si, g, j] = d.factor[sid] * base
    if problems:
        raise RareflowInputError(problems)

    members = set(groups.get(plan.allied_group or "", []))
    allied_arr = np.zeros((R, len(origins)), dtype=bool)
    if allied_on:
        for g, o in enumerate(origins):
            if o == plan.allied_group or o in members:
                allied_arr[0, g] = True
    region_origin = np.array([""] + [allied_pool if r in members else "" for r in other_regions],
                             dtype=object)

    tradeable = np.zeros(len(M), dtype=bool)
    tradeable[~np.all(np.isnan(price), axis=(0, 2))] = True
    for c in cands.values():
        if c.region and c.region != region:
            tradeable |= chain.outputs[P.index(c.process)] > 0

    sale_price = np.full((R, len(M), Y), np.nan)
    sale_limit = np.full((R, len(M), Y), np.inf)
    disposal = np.full((R, len(M)), np.nan)
    for mid, cp in plan.coproducts.items():
        if mid not in M:
            problems.append(_problem(scenario, f"plan.coproducts.{mid}",
                                     f"unknown material '{mid}'"))
            continue
        j = M.index(mid)
        if cp.price is not None:
            sale_price[:, j] = cp.price * 1000.0
        if cp.market is not None:
            sale_limit[:, j] = cp.market
        if cp.disposal is not None:
            disposal[:, j] = cp.disposal * 1000.0
    feed = np.zeros((R, len(M), Y))
    feed_cost = np.zeros((R, len(M)))
    if recycling:
        for fid, fe in plan.feeds.items():
            if fe.material not in M:
                problems.append(_problem(scenario, f"plan.feeds.{fid}.material",
                                         f"unknown material '{fe.material}'"))
                continue
            j = M.index(fe.material)
            feed[0, j] = schedule(fe.available, years, before="zero")
            feed_cost[0, j] = fe.cost * 1000.0
    if problems:
        raise RareflowInputError(problems)

    jobs = np.zeros((R, len(P)))
    additions = np.full((R, Y), np.inf)
    if plan.workforce is not None:
        for proc, v in plan.workforce.jobs_per_capacity.items():
            if proc not in P:
                near = difflib.get_close_matches(proc, P, n=3)
                problems.append(_problem(scenario, f"plan.workforce.jobs_per_capacity.{proc}",
                                         f"unknown process '{proc}' (a process of the chain"
                                         + (f", e.g. {', '.join(near)})" if near else ")")))
                continue
            if v < 0:
                problems.append(_problem(scenario, f"plan.workforce.jobs_per_capacity.{proc}",
                                         f"{v} jobs per t/yr is negative (0 or more)"))
            jobs[0, P.index(proc)] = v
        additions[0] = schedule(plan.workforce.additions, years, before="zero")
        if (additions[0] < 0).any():
            problems.append(_problem(scenario, "plan.workforce.additions",
                                     "a negative number of jobs (0 or more)"))
    if problems:
        raise RareflowInputError(problems)

    co_rpo = {REGION: regions, PROCESS: P, OPTION: options}
    co_rmy = {REGION: regions, MATERIAL: M, YEAR: years}

    def da(x: np.ndarray, co: dict[str, list[Any]]) -> xr.DataArray:
        return xr.DataArray(x, coords=co, dims=list(co))

    incoef = da(chain.inputs.copy(), {PROCESS: P, MATERIAL: M})
    outcoef = da(chain.outputs.copy(), {PROCESS: P, MATERIAL: M})
    demand_da = da(demand, co_rmy)

    # coverage: share (step schedule) of demand, at every listed stage upstream
    share = schedule(plan.coverage.share, years, before="zero") * (1.0 if coverage else 0.0)
    share_da = xr.DataArray(np.zeros((R, Y)), coords={REGION: regions, YEAR: years},
                            dims=[REGION, YEAR])
    share_da[0] = share
    for i, (proc, mat) in enumerate(plan.coverage.upstream):
        if proc not in P or mat not in M:
            problems.append(_problem(scenario, f"plan.coverage.upstream.{i}",
                                     f"unknown process or material ({proc}, {mat})"))
    if problems:
        raise RareflowInputError(problems)
    try:
        req = upstream_requirements(share_da, demand_da, incoef, outcoef,
                                    [tuple(x) for x in plan.coverage.upstream])
    except RareflowInputError as e:
        raise RareflowInputError([_problem(scenario, f"plan.{q.path}", q.message)
                                  for q in e.problems]) from None
    req = req.reindex({MATERIAL: M}).where(lambda x: x > 0)

    inp = PlanInputs(
        demand=demand_da,
        input_coef=incoef,
        output_coef=outcoef,
        existing_capacity=da(existing, {REGION: regions, PROCESS: P, YEAR: years}),
        capex=da(capex, co_rpo),
        fixed_opex=da(fixed, co_rpo),
        lifetime=da(life, co_rpo),
        earliest_year=da(earliest, co_rpo),
        max_build_rate=da(rate, co_rpo),
        max_capacity=da(maxcap, co_rpo),
        min_build=da(minb, co_rpo),
        build_step=da(step, co_rpo),
        var_opex=da(varopex, {REGION: regions, PROCESS: P}),
        import_price=da(price, {ORIGIN: origins, MATERIAL: M, YEAR: years}),
        import_availability=da(avail, {SCENARIO: scen, ORIGIN: origins, MATERIAL: M,
                                       YEAR: years}),
        probability=da(np.array(probs), {SCENARIO: scen}),
        allied=da(allied_arr, {REGION: regions, ORIGIN: origins}),
        region_origin=da(region_origin, {REGION: regions}),
        trade_cost=float(plan.trade_cost) * 1000.0,
        sale_price=da(sale_price, co_rmy),
        sale_limit=da(sale_limit, co_rmy),
        disposal_cost=da(disposal, {REGION: regions, MATERIAL: M}),
        feed_availability=da(feed, co_rmy),
        feed_cost=da(feed_cost, {REGION: regions, MATERIAL: M}),
        coverage_requirement=req,
        tradeable=da(tradeable, {MATERIAL: M}),
        unmet_penalty=float(plan.unmet_penalty) * 1000.0,
        discount_rate=float(plan.discount_rate),
        base_year=years[0],
        capacity_of=da(capacity_of, {PROCESS: P}),
        jobs_per_capacity=da(jobs, {REGION: regions, PROCESS: P}),
        workforce_additions=da(additions, {REGION: regions, YEAR: years}),
        option_label=da(np.array([[[names.get(o, o) for o in options]] * len(P)] * R,
                                 dtype=object), co_rpo),
    )
    meta = PlanMeta(
        region=region, regions=regions, years=years, variant=variant, recycling=recycling,
        allied=allied_on, option_names=names, option_provenance=prov,
        option_capex_per_t=per_t,
        coverage_materials=list(dict.fromkeys(m for _, m in plan.coverage.upstream)),
        process_stage=dict(zip(chain.processes, chain.process_stage, strict=True)),
        process_basis=dict(zip(chain.processes, chain.activity_basis, strict=True)),
    )
    return inp, meta


VARIANTS: dict[str, dict[str, bool]] = {
    "base": {},
    "no_recycling": {"recycling": False},
    "no_allied": {"allied": False},
    "no_recycling_no_allied": {"recycling": False, "allied": False},
    "no_disruption": {"disruptions": False},
    "no_target": {"coverage": False},
    "no_target_no_disruption": {"coverage": False, "disruptions": False},
}


def run_plan(scenario: Any, variants: list[str] | None = None,
             solver_options: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Solve the plan of ``scenario`` for each variant.

    Returns variant -> {"meta": PlanMeta, "inputs": PlanInputs, "result": PlanResult} or,
    for an infeasible variant, {"meta", "inputs", "error": InfeasibleError}.
    """
    from rareflow.engines.optimize.solve import optimize_plan
    from rareflow.errors import InfeasibleError

    plan = scenario.spec.plan
    if variants is None:
        variants = list(VARIANTS) if (plan is not None and plan.variants) else ["base"]
    out: dict[str, dict[str, Any]] = {}
    for v in variants:
        if v not in VARIANTS:
            raise RareflowInputError.single(
                f"unknown variant '{v}'; known: {', '.join(VARIANTS)}", path="--variants")
        inp, meta = plan_inputs(scenario, variant=v, **VARIANTS[v])
        try:
            out[v] = {"meta": meta, "inputs": inp, "result": optimize_plan(inp, solver_options)}
        except InfeasibleError as exc:
            out[v] = {"meta": meta, "inputs": inp, "error": exc}
    return out


def summarise(entry: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready summary of one variant: builds, costs, coverage and marginal costs."""
    meta: PlanMeta = entry["meta"]
    head: dict[str, Any] = {
        "variant": meta.variant, "region": meta.region, "years": [meta.years[0], meta.years[-1]],
        "recycling": meta.recycling, "allied": meta.allied,
    }
    if "error" in entry:
        exc = entry["error"]
        head["status"] = "infeasible"
        head["message"] = str(exc)
        head["shortfalls"] = [vars(s) for s in getattr(exc, "shortfalls", [])]
        return head
    r = entry["result"]
    inp = entry["inputs"]
    head["status"] = r.status
    head["objective_usd_discounted"] = r.objective
    head["costs_usd_discounted"] = {
        k.removesuffix("_discounted"): float(r.costs[k].sum())
        for k in r.costs.data_vars if str(k).endswith("_discounted")}
    head["overnight_capex_usd"] = float(r.overnight_capex.sum())
    builds = []
    for row in r.build_table(tol=0.5).itertuples(index=False):
        builds.append({
            "option": row.option, "name": meta.option_names.get(row.option, row.option),
            "region": row.region, "process": row.process,
            "stage": meta.process_stage.get(row.process, ""),
            "material": meta.process_basis.get(row.process, ""), "year": int(row.year),
            "build_t_per_yr": float(row.build_t_per_yr),
            "capex_usd": float(row.build_t_per_yr) * meta.option_capex_per_t.get(row.option, 0),
            "provenance": meta.option_provenance.get(row.option, ""),
        })
    head["builds"] = builds
    req = inp.coverage_requirement.sel(region=meta.region)
    sec = r.secure_supply.sel(region=meta.region).min("scenario")
    mc = r.coverage_marginal_cost.sel(region=meta.region)
    cov = []
    for m in meta.coverage_materials:
        for y in meta.years:
            q = float(req.sel(material=m, year=y)) if m in req.material else float("nan")
            if not q > 0:
                continue
            cov.append({
                "material": m, "year": int(y), "required_t": q,
                "secure_supply_min_over_scenarios_t": float(sec.sel(material=m, year=y)),
                "marginal_cost_usd_per_t": float(mc.sel(material=m, year=y)),
            })
    head["coverage"] = cov
    if inp.jobs_per_capacity is not None and bool((inp.jobs_per_capacity > 0).any()):
        jobs = (r.new_capacity.sum("option") * inp.jobs_per_capacity).sum("process").sel(
            region=meta.region)
        limit = inp.workforce_additions.sel(region=meta.region).cumsum("year")
        head["workforce"] = [{"year": int(y), "jobs_of_new_capacity": float(jobs.sel(year=y)),
                              "trained_by_then": float(limit.sel(year=y))}
                             for y in meta.years]
    head["unmet_expected_t"] = float((r.unmet * inp.probability).sum()) if inp.probability \
        is not None else float(r.unmet.sum())
    if r.mip is not None:
        head["mip"] = dict(r.mip)
    head["binding"] = r.binding.to_dict(orient="records")
    head["timings_s"] = r.timings
    return head
