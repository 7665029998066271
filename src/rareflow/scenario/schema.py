"""What a valid scenario file is (after ``extends:`` merging).

Collections are mappings keyed by id, so a scenario that ``extends:`` another can
override one field of one entry (``demand: {us_ev_bev: {growth: 15 %/yr}}``) or remove an
entry (``facilities: {vulcan_magnets: null}``).

Time series are ``{year: value}`` mappings; a value holds from its year until the next
given year (a step schedule: ramps in phases), or a single value for every year.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from rareflow.scenario.provenance import Source, Sourced
from rareflow.scenario.schema_economics import EconomicsSection
from rareflow.scenario.schema_history import HistorySection
from rareflow.scenario.schema_plan import PlanSection
from rareflow.scenario.schema_plant import PlantFigures
from rareflow.scenario.schema_reconcile import ReconcileSection
from rareflow.scenario.schema_recycling import RecyclingSection
from rareflow.scenario.schema_stress import StressSection
from rareflow.scenario.types import (
    Fraction,
    FractionSeries,
    GrowthRate,
    MassRateSeries,
    StrictModel,
)

REGION_CODE = re.compile(r"^[A-Z]{2}$")


FIRST_YEAR, LAST_YEAR = 1950, 2100


class Years(StrictModel):
    """The model years, ``start`` to ``end`` inclusive, within 1950..2100."""

    start: int
    end: int

    @field_validator("start", "end", mode="after")
    @classmethod
    def _in_range(cls, v: int) -> int:
        if not FIRST_YEAR <= v <= LAST_YEAR:
            raise ValueError(f"year {v} is outside the modelled range (allowed: "
                             f"{FIRST_YEAR}..{LAST_YEAR})")
        return v

    @model_validator(mode="after")
    def _ordered(self) -> Years:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start}) (allowed: "
                             f"start <= end, both within {FIRST_YEAR}..{LAST_YEAR})")
        return self

    @property
    def list(self) -> list[int]:
        return list(range(self.start, self.end + 1))


class Region(StrictModel):
    name: str
    aggregate: bool = Field(False, description="several countries reported together")


class RegionGroup(Sourced):
    name: str
    members: list[str]


class Location(Sourced):
    """Where a plant is, for maps: the town a source of the facility names, at the
    coordinates a gazetteer gives for that town (town-level, about +-10 km)."""

    lat: float = Field(ge=-90, le=90, description="degrees north")
    lon: float = Field(ge=-180, le=180, description="degrees east")
    place: str = Field(description="the town, as its source names it")


class Facility(Sourced):
    """A named plant (or mine) with a capacity schedule."""

    name: str
    owner: str
    region: str
    process: str
    capacity: MassRateSeries | None = Field(
        None, description="t/yr of `capacity_basis` (default: the process's activity basis); "
        "leave out when not disclosed")
    capacity_basis: str | None = Field(None, description="material the capacity is stated in")
    utilisation: FractionSeries = Field(default_factory=lambda: {0: 1.0})
    status: Literal["operating", "construction", "planned", "idle"] = "operating"
    start_year: int | None = Field(None, description="first year of output; before it capacity is 0")
    plant: PlantFigures | None = Field(
        None, description="capital and operating costs and lifetime, read by plan and "
        "economics alike (rareflow.scenario.schema_plant)")
    location: Location | None = Field(
        None, description="town of the plant, for maps (lat, lon, place, source)")


class Production(Sourced):
    """Reported or estimated output of a region not modelled plant by plant."""

    region: str
    process: str
    values: MassRateSeries = Field(description="t/yr of `basis` (default: the process's activity basis)")
    basis: str | None = None
    growth: GrowthRate = Field(0.0, description="yearly growth after the last given year")


class SelfSupply(Sourced):
    """A region whose output of some processes follows consumption.

    Used where only a downstream figure is reported (e.g. China's metal and alloy making
    follows its magnet output). With ``serves: world`` the region is also the residual
    supplier of those products to every other region's net imports.
    """

    region: str
    processes: list[str]
    serves: Literal["own", "world"] = Field(
        "own", description="own: the region's own consumption; world: also every other "
        "region's unmet net imports of these products (the residual supplier)")


class Demand(Sourced):
    """Final demand of one material by one sector in one region.

    Either ``activity`` × ``intensity`` (vehicles/yr × kg/vehicle, MW/yr × kg/MW) or a
    direct ``quantity`` in t/yr. ``growth`` extends the last given year.
    """

    region: str
    sector: str
    material: str
    activity: dict[int, Any] | Any | None = None
    intensity: Any | None = None
    quantity: MassRateSeries | None = None
    growth: GrowthRate = 0.0
    share: Fraction = Field(1.0, description="share of the activity that uses this material")

    @model_validator(mode="after")
    def _one_form(self) -> Demand:
        has_ai = self.activity is not None or self.intensity is not None
        if has_ai and self.quantity is not None:
            raise ValueError("give either activity and intensity, or quantity, not both")
        if not has_ai and self.quantity is None:
            raise ValueError("give activity and intensity, or quantity")
        if has_ai and (self.activity is None or self.intensity is None):
            raise ValueError("activity and intensity go together")
        return self


class ImportShares(Sourced):
    """Where a region's net imports of a stage's products come from (shares sum to 1)."""

    region: str
    stage: str
    origins: dict[str, Fraction]

    @model_validator(mode="after")
    def _sum_to_one(self) -> ImportShares:
        total = sum(self.origins.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"origin shares sum to {total:.4g}; they must sum to 1 (100 %)")
        return self


class Trade(StrictModel):
    import_shares: dict[str, ImportShares | None] = Field(default_factory=dict)


class ProcessOverride(Sourced):
    """Override of a chain process parameter in a scenario."""

    yield_: Fraction | None = Field(None, alias="yield")
    recovery: Fraction | None = None
    scrap_share: Fraction | None = None


class WorldSummary(StrictModel):
    """Settings of summary.json's ``world`` block."""

    exporters_of_note: list[str] = Field(
        default_factory=list, description="regions whose magnet exports are reported by name")
    exporter_of_note: str | None = None
    magnet_elements: list[str] | None = Field(
        None, description="default: the elements of the chain's reference material")


class ScenarioFile(StrictModel):
    """A whole (merged) scenario."""

    name: str
    description: str = ""
    extends: Any = None
    chain: str = "rare-earth-magnets"
    years: Years
    focus_region: str = "US"
    sources: dict[str, Source] = Field(default_factory=dict)
    regions: dict[str, Region] = Field(default_factory=dict)
    region_groups: dict[str, RegionGroup] = Field(default_factory=dict)
    facilities: dict[str, Facility | None] = Field(default_factory=dict)
    production: dict[str, Production | None] = Field(default_factory=dict)
    self_supply: dict[str, SelfSupply | None] = Field(default_factory=dict)
    demand: dict[str, Demand | None] = Field(default_factory=dict)
    history: HistorySection | None = None
    trade: Trade = Field(default_factory=Trade)
    processes: dict[str, ProcessOverride] = Field(default_factory=dict)
    reconcile: ReconcileSection | None = None
    world_summary: WorldSummary | None = None
    recycling: RecyclingSection | None = None
    stress: StressSection | None = None
    plan: PlanSection | None = None
    economics: EconomicsSection | None = None

    @field_validator("regions")
    @classmethod
    def _iso_codes(cls, v: dict[str, Region]) -> dict[str, Region]:
        bad = [k for k in v if not REGION_CODE.match(k)]
        if bad:
            raise ValueError(
                f"region codes must be ISO 3166 alpha-2 (two capital letters; user-assigned "
                f"XA..XZ for aggregates), got {', '.join(bad)}"
            )
        return v
