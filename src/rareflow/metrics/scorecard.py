"""The field's success measures of a scenario (``rareflow scorecard``).

Targets, units, comparisons and sources come from ``data/reference/indicators_targets.yaml``;
values from the scenario's static run (and its recycling settings, and its economics section
when it has one). Each measure reads ``pass`` (target met at the horizon's last year),
``fail`` (not met: the gap at the horizon is given) or ``not assessed`` (with the reason).
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
             economics: Any) -> Measure:
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
    if kind.startswith("economics"):
        if economics is None:
            return _na(mid, spec, "the scenario has no 'economics:' section (bundled analyses: "
                                  "vulcan-10k, reelement-80m, mp-price-floor)")
        return _economics_measure(mid, spec, kind, economics, years)
    return _na(mid, spec, str(spec.get("reason", f"measure kind '{kind}' not modelled")))


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
              economics_summary: dict[str, Any] | None = None) -> Scorecard:
    """The scorecard of a static run; ``spec`` defaults to the bundled targets."""
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
    measures = [_measure(k, v, results, ri, economics_summary)
                for k, v in (spec.get("measures") or {}).items()]
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
