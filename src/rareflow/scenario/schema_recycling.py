"""Scenario section ``recycling:`` - magnets in use by cohort, end of life and recycling.

Example::

    recycling:
      region: US
      history_start: 2005
      collection: {2024: 1 %, 2030: 30 %}
      sectors:
        ev_bev:
          lifetime: {weibull: {shape: 3.6, scale: 15.5 yr}}
          history_growth: 25 %/yr
          source: vannielen_2023_nd
          confidence: medium

Sales of magnet-bearing products come from the scenario's demand rows (t NdFeB/yr); years
before the first model year are back-cast from ``history_growth``. Every parameter block
carries provenance like the rest of the scenario.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from rareflow.scenario.provenance import Sourced
from rareflow.scenario.types import Duration, Fraction, FractionSeries, GrowthRate, StrictModel


class WeibullSpec(StrictModel):
    shape: float = Field(gt=0)
    scale: Duration


class MeanSdSpec(StrictModel):
    mean: Duration
    sd: Duration


class LifetimeSpec(StrictModel):
    """Exactly one of the lifetime families (parameters in years)."""

    fixed: Duration | None = None
    normal: MeanSdSpec | None = None
    folded_normal: MeanSdSpec | None = None
    lognormal: MeanSdSpec | None = None
    weibull: WeibullSpec | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> LifetimeSpec:
        given = [k for k in ("fixed", "normal", "folded_normal", "lognormal", "weibull")
                 if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of fixed, normal, folded_normal, lognormal, "
                             f"weibull (got {', '.join(given) or 'none'})")
        if self.fixed is not None and self.fixed <= 0:
            raise ValueError("a fixed lifetime must be above 0 yr")
        for k in ("normal", "folded_normal", "lognormal"):
            spec = getattr(self, k)
            if spec is not None and (spec.sd <= 0 or (k != "folded_normal" and spec.mean <= 0)):
                raise ValueError(f"{k} lifetime needs mean > 0 and sd > 0")
        if self.weibull is not None and self.weibull.scale <= 0:
            raise ValueError("weibull scale must be above 0 yr")
        return self

    def build(self) -> Any:
        from rareflow.stocks import Lifetime

        if self.fixed is not None:
            return Lifetime.fixed(self.fixed)
        if self.weibull is not None:
            return Lifetime.weibull(self.weibull.shape, self.weibull.scale)
        for k in ("normal", "folded_normal", "lognormal"):
            spec = getattr(self, k)
            if spec is not None:
                return getattr(Lifetime, k)(spec.mean, spec.sd)
        raise AssertionError("unreachable")


class SectorRecycling(Sourced):
    """End-of-life parameters of one sector (defaults from the section)."""

    lifetime: LifetimeSpec
    history_growth: GrowthRate = Field(
        0.0, description="growth of sales before the first model year (back-cast)")
    collection: FractionSeries | None = None
    dismantling_share: FractionSeries | None = None


class RecyclingSection(Sourced):
    """The ``recycling:`` section of a scenario file."""

    region: str | None = Field(None, description="region whose in-use stock is modelled "
                               "(default: focus_region)")
    history_start: int = Field(2000, ge=1950, le=2100)
    inflow_at: Literal["start", "middle", "end"] = "middle"
    collection: FractionSeries = Field(description="share of end-of-life magnets collected")
    dismantling_share: FractionSeries = Field(
        description="share of collected products dismantled by hand (the rest is shredded)")
    dismantling_yield: Fraction = Field(description="magnets liberated by manual dismantling")
    shredding_yield: Fraction = Field(description="magnets recovered after shredding")
    short_loop_share: FractionSeries = Field(
        description="share of liberated magnets recycled magnet-to-magnet (short loop)")
    short_loop_recovery: Fraction
    long_loop_recovery: Fraction
    swarf_rate: Fraction = Field(0.0, description="manufacturing swarf as a share of input")
    swarf_recovery: Fraction = Field(0.0, description="share of swarf recycled in house")
    sectors: dict[str, SectorRecycling]
    collection_process: str = "collect_eol_magnets"
    short_loop_process: str = "recycle_eol_short_loop"
    long_loop_process: str = "recycle_eol_long_loop"


def check(scenario: Any) -> None:
    """Cross-references of the section (called by the loader)."""
    from rareflow.errors import Problem, RareflowInputError

    sec: RecyclingSection = scenario.spec.recycling
    problems = []

    def at(path: str, msg: str) -> None:
        f, line = scenario.where(path)
        problems.append(Problem(msg, f, line, path))

    region = sec.region or scenario.spec.focus_region
    if region not in scenario.spec.regions:
        at("recycling.region", f"unknown region '{region}'")
    for sid in sec.sectors:
        if sid not in scenario.chain.sectors:
            at(f"recycling.sectors.{sid}", f"unknown sector '{sid}' (known: "
               f"{', '.join(scenario.chain.sectors)})")
    for key in ("collection_process", "short_loop_process", "long_loop_process"):
        proc = getattr(sec, key)
        if proc not in scenario.chain.processes:
            at(f"recycling.{key}", f"unknown process '{proc}'")
    if sec.history_start >= scenario.years[0] + 1 and sec.history_start > scenario.years[0]:
        at("recycling.history_start", f"must not be after the first model year "
           f"({scenario.years[0]})")
    sources = set(scenario.spec.sources)
    for path, rec in [("recycling", sec), *((f"recycling.sectors.{k}", v)
                                            for k, v in sec.sectors.items())]:
        for s in rec.source or []:
            if s not in sources:
                at(f"{path}.source", f"unknown source '{s}'; add it under `sources:`")
        if not rec.has_provenance:
            at(path, "no provenance: add `source:` and `confidence:`, or `assumption:`")
    if problems:
        raise RareflowInputError(problems)
