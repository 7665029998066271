"""The field's success measures of a scenario (``rareflow scorecard``).

Targets, units, comparisons and sources come from ``data/reference/indicators_targets.yaml``;
values from the scenario's static run (and its recycling settings, its economics section
and its build plan when it has them: ``plan_*`` measures read the plan's base variant).
Each measure reads ``pass`` (target met at the horizon's last year), ``fail`` (not met: the
gap at the horizon is given) or ``not assessed`` (with the reason).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from rareflow.metrics import stage as sm

__all__ = ["Measure", "Scorecard", "format_value", "scorecard", "source_text"]

PASS, FAIL, NOT_ASSESSED = "pass", "fail", "not assessed"


@dataclass
class Measure:
    id: str
    title: str
    target: float | None
    unit: str
    comparison: str
    value: float | None            # at the horizon's last year (or the setting)
    status: str                     # pass | fail | not assessed
    year_reached: int | None = None
    gap_at_horizon: float | None = None
    by_year: dict[int, float] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    source: Any = None
    confidence: str | None = None
    note: str | None = None
    reason: str | None = None


@dataclass
class Scorecard:
    scenario: str
    region: str
    years: tuple[int, int]
    measures: list[Measure]

    def as_dict(self) -> dict[str, Any]:
        from rareflow.results.base import clean_json

        return clean_json({"scenario": self.scenario, "region": self.region,  # type: ignore[no-any-return]
                           "years": list(self.years), "measures": [asdict(m) for m in self.measures]})


def _ok(value: float, target: float, comparison: str) -> bool:
    return bool(value >= target) if comparison == ">=" else bool(value <= target)


def _series(mid: str, spec: dict[str, Any], years: tuple[int, ...], values: np.ndarray,
            figures: dict[str, Any]) -> Measure:
    target, cmp_ = float(spec["target"]), str(spec.get("comparison", ">="))
    by_year = {int(y): float(v) for y, v in zip(years, values, strict=True)}
    last = float(values[-1])
    if not np.isfinite(last):
        return _na(mid, spec, "no value at the horizon's last year (no demand or no flows)")
    reached = next((y for y, v in by_year.items() if np.isfinite(v) and _ok(v, target, cmp_)), None)
    ok = _ok(last, target, cmp_)
    return Measure(id=mid, title=str(spec.get("title", mid)), target=target,
                   unit=str(spec.get("unit", "")), comparison=cmp_, value=last,
                   status=PASS if ok else FAIL, year_reached=reached,
                   gap_at_horizon=None if ok else abs(target - last), by_year=by_year,
                   figures=figures, source=spec.get("source"), confidence=spec.get("confidence"),
                   note=spec.get("note"))


def _na(mid: str, spec: dict[str, Any], reason: str, figures: dict[str, Any] | None = None) -> Measure:
    t = spec.get("target")
    return Measure(id=mid, title=str(spec.get("title", mid)),
                   target=None if t is None else float(t), unit=str(spec.get("unit", "")),
                   comparison=str(spec.get("comparison", "")), value=None, status=NOT_ASSESSED,
                   figures=figures or {}, source=spec.get("source"),
                   confidence=spec.get("confidence"), note=spec.get("note"), reason=reason)


def _stage_index(results: Any, spec: dict[str, Any]) -> int:
    from rareflow.errors import RareflowInputError

    stage = str(spec.get("stage", "magnet"))
    if stage not in results.chain.stages:
        raise RareflowInputError.single(
            f"unknown stage '{stage}' (the chain's: {', '.join(results.chain.stages)})",
            path="measures.stage")
    return int(results.chain.stages.index(stage))


def _stage_flows(results: Any, name: str) -> np.ndarray:
    """Exports or imports ``[R, G, Y]`` of each stage's products (not scrap)."""
    c, f = results.chain, results.flows
    traded = ~results.inputs.external & ~np.array([m in c.scrap_materials for m in c.materials])
    x = f.exports if name == "exports" else f.imports.sum(axis=1)
    return sm.stage_sum(x, results.inputs.material_stage, len(c.stages), traded)


def _measure(mid: str, spec: dict[str, Any], results: Any, ri: int,
             economics: Any, plan: dict[str, Any] | None = None) -> Measure:
    kind = str(spec.get("kind", ""))
    m = results.stage_metrics
    years = results.years
    if kind == "stage_production":
        g = _stage_index(results, spec)
        prod, cons = m["production"][ri, g], m["consumption"][ri, g]
        return _series(mid, spec, years, prod, {
            "stage": results.chain.stages[g], "production_t": prod[-1], "consumption_t": cons[-1],
            "capacity_t": m["capacity"][ri, g, -1]})
    if kind == "net_exports":
        g = _stage_index(results, spec)
        ex, im = _stage_flows(results, "exports")[ri, g], _stage_flows(results, "imports")[ri, g]
        return _series(mid, spec, years, ex - im, {
            "stage": results.chain.stages[g], "exports_t": ex[-1], "imports_t": im[-1],
            "production_t": m["production"][ri, g, -1], "consumption_t": m["consumption"][ri, g, -1]})
    if kind == "sector_coverage":
        g = _stage_index(results, spec)
        sector = str(spec.get("sector", "defence"))
        sectors = list(results.arrays.sectors)
        if sector not in sectors:
            return _na(mid, spec, f"no '{sector}' sector in the scenario's demand")
        ms = results.inputs.material_stage
        fd = results.arrays.final_demand[ri, sectors.index(sector)]          # [M, Y]
        dem = fd[ms == g].sum(axis=0)
        if not (dem > 0).any():
            return _na(mid, spec, f"the region has no '{sector}' demand for the stage's products")
        share = m["domestic_coverage"][ri, g]
        cov = np.where(dem > 0, share, np.nan)
        prod = m["production"][ri, g]
        with np.errstate(invalid="ignore", divide="ignore"):
            priority = np.where(dem > 0, np.minimum(prod, dem) / np.where(dem > 0, dem, 1), np.nan)
        return _series(mid, spec, years, cov, {
            "sector_demand_t": dem[-1], "stage_consumption_t": m["consumption"][ri, g, -1],
            "domestic_production_t": prod[-1],
            "coverage_if_domestic_output_went_to_the_sector_first": priority[-1]})
    if kind == "recycling_recovery":
        rec = results.scenario.spec.recycling
        if rec is None:
            return _na(mid, spec, "the scenario models no recycling (no 'recycling:' section)")
        s, lo = float(rec.short_loop_recovery), float(rec.long_loop_recovery)
        value = min(s, lo)
        figures: dict[str, Any] = {"short_loop_recovery": s, "long_loop_recovery": lo,
                                   "recycling_region": rec.region or results.arrays.focus_region}
        run = results.recycling
        if run is not None:
            met = run.metrics
            sl = run.model_slice(results.years)
            if "Nd" in met.elements:
                e = list(met.elements).index("Nd")
                figures["eol_recycling_rate_nd_at_horizon"] = float(np.asarray(met.eol_rr)[..., sl, e][-1])
                figures["eol_recycling_input_rate_nd_at_horizon"] = float(
                    np.asarray(met.eol_rir)[..., sl, e][-1])
        out = _series(mid, spec, (results.years[-1],), np.array([value]), figures)
        out.by_year = {}
        out.year_reached = results.years[0] if out.status == PASS else None
        out.note = (out.note or "") + " Value: the lower of the two routes' recovery settings " \
            "(collection is not part of recovery; the end-of-life rates from the flows are figures)."
        return out
    if kind == "jobs_from_output":
        return _jobs_measure(mid, spec, results, ri)
    if kind.startswith("plan_"):
        return _plan_measure(mid, spec, kind, results, plan)
    if kind.startswith("economics"):
        if economics is None:
            return _na(mid, spec, "the scenario has no 'economics:' section (bundled analyses: "
                                  "vulcan-10k, reelement-80m, mp-price-floor)")
        return _economics_measure(mid, spec, kind, economics, years)
    return _na(mid, spec, str(spec.get("reason", f"measure kind '{kind}' not modelled")))


def _jobs_measure(mid: str, spec: dict[str, Any], results: Any, ri: int) -> Measure:
    """Jobs the region's modelled output implies: each stage's production times the jobs
    per t/yr its plants announce (``intensities``; low and high from their range). There
    is no published jobs target, so the value is reported and not assessed."""
    m = results.stage_metrics
    years = results.years
    total = np.zeros(len(years))
    low, high = np.zeros(len(years)), np.zeros(len(years))
    by_stage: dict[str, float] = {}
    for stage, it in (spec.get("intensities") or {}).items():
        g = _stage_index(results, {"stage": stage})
        prod = np.asarray(m["production"][ri, g], dtype=float)
        v = float(it["value"])
        lo, hi = (float(x) for x in it.get("range", (v, v)))
        total += prod * v
        low += prod * lo
        high += prod * hi
        by_stage[f"{stage}_jobs"] = float(prod[-1] * v)
        by_stage[f"{stage}_production_t"] = float(prod[-1])
    out = _na(mid, spec, str(spec.get("reason", "no published jobs target")),
              {**by_stage, "jobs_low": float(low[-1]), "jobs_high": float(high[-1])})
    out.value = float(total[-1])
    out.by_year = {int(y): float(v) for y, v in zip(years, total, strict=True)}
    return out


def _plan_measure(mid: str, spec: dict[str, Any], kind: str, results: Any,
                  plan: dict[str, Any] | None) -> Measure:
    """A measure read from the scenario's own build plan (variant ``base``)."""
    from rareflow.metrics.scorecard_plan import plan_flows

    if plan is None:
        return _na(mid, spec, "the scenario has no 'plan:' section")
    if "error" in plan:
        return _na(mid, spec, f"the plan did not solve: {plan['error']}")
    c = results.chain
    g = _stage_index(results, spec)
    stage = c.stages[g]
    mats = c.stage_materials(stage)
    procs = [p for p, s in zip(c.processes, c.process_stage, strict=True) if s == stage]
    region = str(plan["meta"].region)
    f = plan_flows(plan, region, mats, procs)
    years = f.years
    figures: dict[str, Any] = {
        "plan_variant": "base", "stage": stage, "plan_region": region,
        "built_at_stage_t_per_yr": f.builds_t, "plan_objective_usd_discounted": f.objective_usd,
        "demand_t": float(f.demand[-1])}
    for k, s in enumerate(f.scenarios):
        figures[f"production_t_{s}"] = float(f.production[k, -1])
    if kind == "plan_stage_output":
        likeliest = int(np.argmax(list(f.probability.values())))  # normal years
        return _series(mid, spec, years, f.production[likeliest], figures)
    if kind == "plan_secure_coverage":
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(f.demand > 0, f.secure / np.where(f.demand > 0, f.demand, 1.0), np.nan)
        worst = np.nanmin(share, axis=0)
        for k, s in enumerate(f.scenarios):
            figures[f"secure_t_{s}"] = float(f.secure[k, -1])
        figures["worst_scenario"] = f.scenarios[int(np.nanargmin(share[:, -1]))]
        return _series(mid, spec, years, worst, figures)
    if kind == "plan_levelised_cost":
        return _levelised_cost_measure(mid, spec, plan, c, years)
    return _na(mid, spec, f"measure kind '{kind}' not modelled")


def _levelised_cost_measure(mid: str, spec: dict[str, Any], plan: dict[str, Any], chain: Any,
                            years: tuple[int, ...]) -> Measure:
    """Levelised cost of the stage's main product from each build option of its process
    in the plan region (annualised capex at the plan's discount rate and the option's
    lifetime, fixed opex at full utilisation, variable cost, inputs at the cheapest import
    price of the plan's first year) over the cheapest import price of the product."""
    inp, meta = plan["inputs"], plan["meta"]
    product = str(spec.get("material", chain.reference_material))
    proc = str(spec.get("process") or chain.routes.get(product, ""))
    region, y0 = str(meta.region), int(meta.years[0])
    price = inp.import_price.sel(year=y0).min("origin", skipna=True)
    ref = float(price.sel(material=product)) if product in price.material.values else np.nan
    if not np.isfinite(ref):
        return _na(mid, spec, f"the plan offers no import price for {product}")
    i = float(inp.discount_rate)
    capex = inp.capex.sel(region=region, process=proc)
    costs: dict[str, dict[str, float]] = {}
    feed = 0.0
    for m, q in zip(inp.input_coef.material.values,
                    inp.input_coef.sel(process=proc).values, strict=True):
        if q > 0:
            feed += float(q) * float(price.sel(material=m))
    var = float(inp.var_opex.sel(region=region, process=proc)) if inp.var_opex is not None else 0.0
    for o in capex.option.values:
        k = float(capex.sel(option=o))
        if not np.isfinite(k):
            continue
        life = float(inp.lifetime.sel(region=region, process=proc, option=o)) \
            if inp.lifetime is not None else 25.0
        crf = i / (1.0 - (1.0 + i) ** -life) if i > 0 else 1.0 / life
        fixed = float(inp.fixed_opex.sel(region=region, process=proc, option=o))
        total = crf * k + fixed + var + feed
        costs[str(meta.option_names.get(str(o), o))] = {
            "capital_usd_per_t": crf * k, "fixed_opex_usd_per_t": fixed,
            "variable_opex_usd_per_t": var, "inputs_usd_per_t": feed, "total_usd_per_t": total}
    if not costs:
        return _na(mid, spec, f"the plan has no build option for {proc} in {region}")
    best = min(costs, key=lambda n: costs[n]["total_usd_per_t"])
    ratio = costs[best]["total_usd_per_t"] / ref
    figures = {"product": product, "process": proc, "cheapest_option": best,
               "import_price_usd_per_t": ref, "discount_rate": i, "price_year": y0,
               "by_option_usd_per_t": costs}
    out = _series(mid, spec, (years[-1],), np.array([ratio]), figures)
    out.by_year = {}
    out.year_reached = years[0] if out.status == PASS else None
    return out


def _economics_measure(mid: str, spec: dict[str, Any], kind: str, econ: dict[str, Any],
                       years: tuple[int, ...]) -> Measure:
    facs = econ.get("facilities", {})
    vals: dict[str, float] = {}
    figs: dict[str, Any] = {}
    for fid, s in facs.items():
        base = s.get("base_case") or {}
        if kind == "economics_npv_without_floor":
            st = s.get("npv_project_without_floor")
            if isinstance(st, dict) and st.get("p50") is not None:
                vals[fid], figs[fid] = float(st["p50"]), "median project NPV without floor"
            elif base.get("npv_project") is not None:
                vals[fid], figs[fid] = float(base["npv_project"]), "base-case project NPV (no floor)"
        else:
            warrants = sum(float(w.get("total") or 0.0) for w in (s.get("warrants") or {}).values())
            floor = (s.get("floor_government_cost") or {}).get("mean")
            if s.get("warrants") or floor is not None:
                vals[fid] = warrants - float(floor or 0.0)
                figs[fid] = {"warrants_value_usd": warrants, "floor_expected_cost_pv_usd": floor,
                             "government_loans_lender_npv_usd": {
                                 k: v.get("lender_npv_at_government_rate")
                                 for k, v in (s.get("loans") or {}).items() if v.get("government")}}
    if not vals:
        return _na(mid, spec, "the economics summary gives no such figure for any facility",
                   {"facilities": sorted(facs)})
    total = float(sum(vals.values()))
    out = _series(mid, spec, (years[-1],), np.array([total]), {"by_facility_usd": vals, "basis": figs})
    out.by_year, out.year_reached = {}, None
    return out


def scorecard(results: Any, *, spec: dict[str, Any] | None = None,
              economics_summary: dict[str, Any] | None = None,
              plan: dict[str, Any] | None = None) -> Scorecard:
    """The scorecard of a static run; ``spec`` defaults to the bundled targets.

    ``plan`` is one solved variant of the scenario's build plan
    (``rareflow.plan(...).runs["base"]``); measures of kind ``plan_*`` read it, and those
    marked ``only_with_plan`` are left out for a scenario without a ``plan:`` section."""
    from rareflow.errors import RareflowInputError
    from rareflow.metrics.indicators import targets

    spec = spec or targets()
    region = str(spec.get("region", "focus"))
    if region == "focus":
        region = str(results.arrays.focus_region)
    if region not in results.regions:
        raise RareflowInputError.single(f"region '{region}' is not in the scenario "
                                        f"({', '.join(results.regions)})", path="region")
    ri = results.regions.index(region)
    has_plan = getattr(results.scenario.spec, "plan", None) is not None or plan is not None
    measures = [_measure(k, v, results, ri, economics_summary, plan)
                for k, v in (spec.get("measures") or {}).items()
                if has_plan or not v.get("only_with_plan")]
    return Scorecard(scenario=str(results.scenario.name), region=region,
                     years=(results.years[0], results.years[-1]), measures=measures)


def format_value(x: Any, unit: str) -> str:
    """A measure's value for people: shares as %, USD as MUSD, tonnes with separators."""
    if x is None or (isinstance(x, float) and x != x):
        return "-"
    if unit == "1":
        return f"{x:.1%}"
    if unit == "USD":
        return f"{x / 1e6:,.0f} MUSD"
    if unit == "" and isinstance(x, float) and abs(x) < 10:
        return f"{x:.3g}"
    return f"{x:,.0f} {unit}".rstrip() if isinstance(x, int | float) else str(x)


def source_text(src: Any) -> str:
    """A measure's source ids as one line ('assumption' for an assumption)."""
    if isinstance(src, dict) and "assumption" in src:
        return "assumption"
    if isinstance(src, list | tuple):
        return ", ".join(str(s) for s in src)
    return "" if src is None else str(src)
