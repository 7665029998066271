"""The questions the baseline report answers, computed from Results (no flows computed here
except the requirement back-calculation, which is an engine call)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rareflow.engines.flows.requirements import requirements
from rareflow.results.results import Results

# Sourced facts the model's 2024 U.S. import reliance is checked against.
SOURCED_NIR_CHECKS = {
    "mining": ("net exporter of concentrates (USGS MCS 2026)", lambda v: v < 0),
    "separation": ("53 % for compounds and metals in 2024 (USGS MCS 2026)",
                   lambda v: abs(v - 0.53) < 0.15),
    "magnet": ("over 80 % of U.S. magnet needs imported (2025 press)", lambda v: v > 0.8),
}


@dataclass
class Answers:
    region: str
    base_year: int
    import_reliance: dict[str, float]
    checks: dict[str, tuple[str, bool]]
    china_dependence: dict[str, float]
    most_china_dependent_stage: str | None
    requirement_target_t: float
    requirement: dict[str, float]
    requirement_coproducts: dict[str, float]
    coverage_years: list[int]
    magnet_demand_t: dict[int, float]
    magnet_capacity_t: dict[int, float]
    magnet_output_t: dict[int, float]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def capacity_coverage(self) -> dict[int, float]:
        return {y: self.magnet_capacity_t[y] / self.magnet_demand_t[y]
                for y in self.coverage_years if self.magnet_demand_t[y] > 0}

    @property
    def output_coverage(self) -> dict[int, float]:
        return {y: min(self.magnet_output_t[y], self.magnet_demand_t[y]) / self.magnet_demand_t[y]
                for y in self.coverage_years if self.magnet_demand_t[y] > 0}

    def as_dict(self) -> dict[str, Any]:
        return {
            "region": self.region, "base_year": self.base_year,
            "import_reliance": self.import_reliance,
            "import_reliance_checks": {k: {"sourced_fact": v[0], "consistent": v[1]}
                                       for k, v in self.checks.items()},
            "china_dependence": self.china_dependence,
            "most_china_dependent_stage": self.most_china_dependent_stage,
            "requirements_for_target": {"target_ndfeb_sintered_t": self.requirement_target_t,
                                        "needs_t": self.requirement,
                                        "coproducts_t": self.requirement_coproducts},
            "magnet_demand_t": self.magnet_demand_t,
            "announced_magnet_capacity_t": self.magnet_capacity_t,
            "magnet_output_t": self.magnet_output_t,
            "capacity_coverage_of_demand": self.capacity_coverage,
            "output_coverage_of_demand": self.output_coverage,
        }


def answer(results: Results, *, target_t: float = 10_000.0,
           coverage_years: tuple[int, ...] = (2028, 2030)) -> Answers:
    region = results.arrays.focus_region
    year = results.years[0]
    m = results.stage_metrics
    ri = results.regions.index(region)
    yi = results.years.index(year)
    nir, dep = {}, {}
    for s in results.conversion_stages:
        gi = results.chain.stages.index(s)
        v = float(m["import_reliance"][ri, gi, yi])
        if np.isfinite(v):
            nir[s] = v
        d = float(m["china_dependence"][ri, gi, yi])
        if np.isfinite(d):
            dep[s] = d
    checks = {s: (text, bool(ok(nir[s]))) for s, (text, ok) in SOURCED_NIR_CHECKS.items()
              if s in nir}
    most = max(dep, key=lambda s: dep[s]) if dep else None

    ref = results.chain.reference_material or "ndfeb_sintered"
    req = requirements(results.chain, {ref: target_t})
    magnet_stage = results.chain.stages.index(results.chain.material_stage[results.chain.m(ref)])
    years = [y for y in coverage_years if y in results.years]
    demand, cap, out = {}, {}, {}
    for y in years:
        j = results.years.index(y)
        demand[y] = float(m["consumption"][ri, magnet_stage, j])
        cap[y] = float(m["capacity"][ri, magnet_stage, j])
        out[y] = float(m["production"][ri, magnet_stage, j])
    return Answers(
        region=region, base_year=year, import_reliance=nir, checks=checks,
        china_dependence=dep, most_china_dependent_stage=most, requirement_target_t=target_t,
        requirement=req.as_dict(), requirement_coproducts=req.coproducts_dict(),
        coverage_years=years, magnet_demand_t=demand, magnet_capacity_t=cap,
        magnet_output_t=out,
    )
