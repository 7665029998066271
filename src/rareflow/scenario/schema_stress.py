"""Scenario section ``stress:`` — supply disruptions run month by month by the stress
engine (:mod:`rareflow.engines.simulate`), sampled over uncertain parameters.

Example::

    stress:
      horizon: {start: 2025-04, months: 36}
      base_year: 2025
      priority: {defence: 0}            # other sectors: tier 1 (pro rata)
      restrictions:
        cn_no18:
          origins: [CN]
          contains: [Dy, Tb]            # or materials: [ndfeb_sintered]
          start: 2025-04-04
          end: 2026-11-10               # or duration: 12 months (may be uncertain)
          severity: {value: {dist: pert, low: 60 %, mode: 74 %, high: 90 %},
                     source: exp_may2025, confidence: high}
          licence_delay: {dist: triangular, low: 1 month, mode: 2 months, high: 3 months}
          exempt_sectors: []
          source: mofcom18
          confidence: high

Two models read this section (``model:``): ``focus`` (the default; one magnet material
for the focus region, :mod:`rareflow.engines.simulate`) and ``network`` (every region,
process and material of the reconciled world month by month,
:mod:`rareflow.model.network` and :mod:`rareflow.engines.network`). In a network scenario
``destinations`` may name any region or region group (empty: every other region),
``contains`` catches every material whose content of the elements exceeds
``min_content`` (oxides, metals, alloys and magnets of the grades that hold them),
``exempt_sectors`` / ``licensed_sectors`` set which end uses need a licence,
``approval_rate`` is the share of licence applications approved after ``licence_delay``,
and stockpiles may hold any material at any region.

Figures: a field may be a bare value (``severity: 74 %``), a distribution
(``{dist: ...}``, see :mod:`rareflow.uncertainty`) or ``{value: <value or distribution>,
source: id, confidence: ..., note: ...}`` / ``{value: ..., assumption: "..."}`` when it
needs its own provenance. Every entry (restriction, stockpile, outage, shock, delay) must
carry ``source:`` + ``confidence:`` or ``assumption:`` (checked after loading, with the
entry's file and line). Units: masses ``t``, rates ``t/yr`` (the engine works in
t/month = t/yr / 12), shares ``%``, durations ``months`` or ``yr`` (rounded to whole
months); dates ``YYYY-MM`` or ``YYYY-MM-DD`` (month resolution: a date counts from the
start of its month).
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from rareflow.scenario.provenance import Sourced
from rareflow.scenario.types import Duration, Fraction, Mass, MassRate, StrictModel


def _to_month(v: Any) -> tuple[int, int]:
    if isinstance(v, _dt.datetime | _dt.date):
        return (v.year, v.month)
    if isinstance(v, str):
        m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})(?:-(\d{1,2}))?\s*", v)
        if m:
            y, mo = int(m.group(1)), int(m.group(2))
            if 1 <= mo <= 12 and 1900 <= y <= 2200:
                return (y, mo)
    if isinstance(v, int) and not isinstance(v, bool) and 1900 <= v <= 2200:
        return (v, 1)
    raise ValueError(f"expected a date 'YYYY-MM' or 'YYYY-MM-DD' (got {v!r})")


Month = Annotated[tuple[int, int], BeforeValidator(_to_month)]


class Prov(StrictModel):
    """Provenance of one figure written as ``{value: ..., source: ..., confidence: ...}``."""

    source: list[str] | str | None = None
    confidence: str | None = None
    assumption: str | None = None
    note: str | None = None


def _figure(base: Any) -> Any:
    """A figure of type ``base``: bare, or ``{value: ..., source/assumption ...}`` (the
    provenance is kept in :data:`FIGURE_PROVENANCE`-style side fields by the entry)."""

    def unwrap(v: Any) -> Any:
        if isinstance(v, dict) and "value" in v:
            extra = set(v) - {"value", "source", "confidence", "assumption", "note"}
            if extra:
                raise ValueError(f"unknown key(s) {', '.join(sorted(extra))} beside 'value' "
                                 "(allowed: source, confidence, assumption, note)")
            if "source" in v and "confidence" not in v:
                raise ValueError("a figure with 'source' needs 'confidence: high|medium|low'")
            return v["value"]
        return v

    return Annotated[base, BeforeValidator(unwrap)]


FShare = _figure(Fraction)
FDuration = _figure(Duration)
FMass = _figure(Mass)
FMassRate = _figure(MassRate)
FMultiplier = _figure(Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)])  # 0..1000x


class Horizon(StrictModel):
    start: Month
    months: int | FDuration = Field(description="whole months, or a duration ('3 yr')")

    @property
    def n_months(self) -> int:
        m = self.months
        return int(m) if isinstance(m, int) else int(round(m * 12))

    @model_validator(mode="after")
    def _check(self) -> Horizon:
        if not 1 <= self.n_months <= 1200:
            raise ValueError(f"horizon must be 1..1200 months (got {self.n_months})")
        return self


class _Window(Sourced):
    start: Month
    end: Month | None = Field(None, description="first month no longer affected")
    duration: FDuration | None = Field(None, description="alternative to end")

    @model_validator(mode="after")
    def _one_end(self) -> _Window:
        if self.end is not None and self.duration is not None:
            raise ValueError("give either end or duration, not both")
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end[0]}-{self.end[1]:02d} is before start "
                             f"{self.start[0]}-{self.start[1]:02d}")
        return self


class Restriction(_Window):
    """Export ban, quota or licence regime on flows from ``origins`` to ``destinations``."""

    origins: list[str]
    destinations: list[str] = Field(default_factory=list, description="default: focus region")
    materials: list[str] = Field(default_factory=list)
    contains: list[str] = Field(default_factory=list, description="elements, e.g. [Dy, Tb]: "
                                "every material containing any of them")
    severity: FShare = Field(1.0, description="share of the flow stopped (1 = embargo)")
    licence_delay: FDuration = Field(0.0, description="flow of the first months held back, "
                                     "then released")
    exempt_sectors: list[str] = Field(default_factory=list)
    licensed_sectors: list[str] = Field(default_factory=list, description="network: only "
                                        "these end uses need a licence (default: all but "
                                        "exempt_sectors)")
    approval_rate: FShare | None = Field(None, description="network: share of the "
                                         "restricted flow licensed after the delay "
                                         "(alternative to severity: 1 - severity)")
    min_content: FShare = Field(0.0, description="network, with contains: a material is "
                                "caught when its mass fraction of the elements exceeds this")
    upstream: bool = Field(True, description="also cut domestic magnet making in proportion "
                           "to its restricted imported inputs")

    @model_validator(mode="after")
    def _what(self) -> Restriction:
        if not self.materials and not self.contains:
            raise ValueError("name the materials, or the elements they contain (contains:)")
        if self.approval_rate is not None and "severity" in self.model_fields_set:
            raise ValueError("give severity or approval_rate, not both")
        if set(self.exempt_sectors) & set(self.licensed_sectors):
            raise ValueError("a sector cannot be both exempt and licensed")
        return self


class StockpileSpec(Sourced):
    """A stock at ``place`` (a region): a national stockpile, producers' oxide stocks."""

    place: str | None = Field(None, description="default: focus region")
    material: str | None = Field(None, description="default: the stressed magnet material")
    size: FMass | None = None
    months: FDuration | None = Field(None, description="size in months of the served "
                                     "sectors' demand (alternative to size)")
    sectors: list[str] = Field(default_factory=list, description="sectors it may serve "
                               "(default all)")
    max_draw: FMassRate | None = Field(None, description="t/yr; default unlimited")
    refill_rate: FMassRate | None = Field(None, description="t/yr; default unlimited")
    strategic: bool = True
    release_below: FShare = Field(1.0, description="network: released when the users' "
                                  "supply falls below this share of their requirement")

    @model_validator(mode="after")
    def _size(self) -> StockpileSpec:
        if (self.size is None) == (self.months is None):
            raise ValueError("give the stockpile's size (t) or months (of demand), one of them")
        return self


class Inventories(Sourced):
    """Manufacturers' magnet inventories, in months of each sector's own use."""

    months: FDuration = Field(description="default for every sector")
    sectors: dict[str, FDuration] = Field(default_factory=dict, description="per-sector "
                                          "override")
    refill_share: FShare = Field(0.25, description="share of the target refilled per month "
                                 "at most")
    materials: dict[str, FDuration] = Field(default_factory=dict, description="network: "
                                            "pipeline stocks of plants' input materials, in "
                                            "months of their use (default 0)")
    producer_months: FDuration = Field(0.0, description="network: producers' stocks of "
                                       "their output, in months of output")


class OutageSpec(_Window):
    """Capacity lost at one facility, or at a region's stage."""

    facility: str | None = None
    region: str | None = None
    processes: list[str] = Field(default_factory=list, description="network, with region: "
                                 "process ids or stage names (default all)")
    capacity_lost: FShare = 1.0

    @model_validator(mode="after")
    def _where(self) -> OutageSpec:
        if (self.facility is None) == (self.region is None):
            raise ValueError("give facility or region (one of them)")
        return self


class DemandShock(_Window):
    sectors: list[str] = Field(default_factory=list, description="default all")
    regions: list[str] = Field(default_factory=list, description="network: regions or "
                               "groups (default all)")
    multiplier: FMultiplier


class CommissioningDelay(Sourced):
    facility: str
    delay: FDuration


class Observed(Sourced):
    """Network: a recorded monthly trade series to compare the model with (a back-test)."""

    origin: str
    destination: str = Field("world", description="a region, or world (every other region)")
    materials: list[str] = Field(description="materials or stage names summed")
    values: dict[str, FMass] = Field(description="{'YYYY-MM': t in that month}")

    @model_validator(mode="after")
    def _months(self) -> Observed:
        for k in self.values:
            _to_month(k)
        return self


class StressSection(StrictModel):
    """The ``stress:`` section of a scenario file."""

    horizon: Horizon
    model: Literal["focus", "network"] = Field("focus", description="focus: one magnet "
                                               "material for the focus region; network: "
                                               "the whole reconciled world")
    resourcing_months: FDuration = Field(0.25, description="network: time for a buyer to "
                                         "move an unfilled order to another origin (the "
                                         "movable share grows by 1/months each month)")
    demand_response: FShare = Field(0.0, description="network: share of a sector's unmet "
                                    "demand that is deferred (served later) instead of lost")
    base_year: int | None = Field(None, description="year of the static balance that sets "
                                  "monthly demand, trade and capacity (default: horizon "
                                  "start year); later years follow the static schedule")
    material: str | None = Field(None, description="magnet material stressed (default: the "
                                 "chain's reference material)")
    priority: dict[str, int] = Field(default_factory=dict, description="tier per sector "
                                     "(0 first); unlisted sectors: default_tier")
    default_tier: int = 1
    redirect_share: FShare = Field(0.3, description="share of unaffected producers' spare "
                                   "capacity redirected to the destination")
    spare_capacity: FShare = Field(0.1, description="foreign producers' spare capacity as a "
                                   "share of their output")
    recycling_recovery: FShare | None = Field(None, description="recovery of collected "
                                              "end-of-life magnets as domestic supply")
    tolerance: FShare = Field(0.001, description="shortfall share counted as short")
    restrictions: dict[str, Restriction] = Field(default_factory=dict)
    stockpiles: dict[str, StockpileSpec] = Field(default_factory=dict)
    inventories: Inventories | None = None
    outages: dict[str, OutageSpec] = Field(default_factory=dict)
    demand_shocks: dict[str, DemandShock] = Field(default_factory=dict)
    commissioning_delays: dict[str, CommissioningDelay] = Field(default_factory=dict)
    observed: dict[str, Observed] = Field(default_factory=dict, description="network: "
                                          "recorded monthly trade to back-test against")
    assumptions: dict[str, str] = Field(default_factory=dict, description="free-text "
                                        "assumptions printed beside the results")


def check(scenario: Any) -> None:
    """Cross-references of the stress section (regions, sectors, materials, facilities,
    elements, sources, provenance), each reported with its file and line."""
    st = scenario.spec.stress
    if st is not None and st.model == "network":
        from rareflow.model.network import check_network_section

        check_network_section(scenario)
        return
    from rareflow.engines.simulate.from_scenario import check_section

    check_section(scenario)
