"""Scenario section ``plan:``: least-cost capacity expansion to reach a coverage target.

Every figure carries provenance (``source`` + ``confidence``, or ``assumption`` with its
reasoning), like the rest of the scenario. Prices are written per mass (``69 USD/kg``)
and converted to USD/kg; the plan engine works in USD per tonne.

Example::

    plan:
      region: US
      allied_group: msp
      coverage:
        material: ndfeb_sintered
        share: {2030: 50 %}
        upstream: [[magnet_sintered, ndfeb_sintered], [alloy_sintered, ndfeb_alloy_sintered],
                   [reduce_ndpr, ndpr_metal], [separate_bastnaesite, ndpr_oxide]]
      candidates:
        vulcan_benson:
          name: Vulcan Elements Benson NC
          process: magnet_sintered
          capex: 1220 MUSD
          capex_capacity: 10000 t/yr
          ...
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from rareflow.scenario.provenance import Sourced
from rareflow.scenario.types import Duration, Fraction, MassRate, Money, Price, StrictModel


class PlanCandidate(Sourced):
    """A build option: a named facility, or a generic plant of a process in a region.

    Capex per t/yr of capacity is ``capex / capex_capacity`` (both sourced: the
    derivation is the division, stated in ``note``), or ``capex_per_capacity`` directly
    (written as money per mass, e.g. ``41 USD/kg`` = 41,000 USD per t/yr).
    """

    name: str
    facility: str | None = Field(
        None, description="a facility of the scenario whose plant figures (capex, opex, "
        "lifetime) this option takes wherever it leaves them out")
    region: str | None = Field(None, description="default: plan.region (or the facility's)")
    process: str
    capex: Money | None = None
    capex_capacity: MassRate | None = Field(
        None, description="capacity the capex buys, in the process's activity basis unless "
        "capacity_basis says otherwise")
    capacity_basis: str | None = None
    capex_per_capacity: Price | None = Field(
        None, description="capex per t/yr written as money per mass (USD/kg = kUSD per t/yr)")
    fixed_opex_share: Fraction | None = Field(
        None, description="fixed opex per year as a share of capex")
    variable_opex: Price | None = None
    lifetime: Duration = 25.0
    earliest_year: int
    max_build_rate: MassRate | None = Field(None, description="t/yr of capacity per year")
    max_capacity: MassRate | None = None
    min_build: MassRate | None = Field(
        None, description="smallest build in a year: 0 or at least this (a plant's minimum "
        "economic size); makes the plan mixed-integer; needs max_build_rate or max_capacity")
    build_step: MassRate | None = Field(
        None, description="builds come in whole multiples of this size (standard lines)")

    @model_validator(mode="after")
    def _capex_given_once(self) -> PlanCandidate:
        by_total = self.capex is not None or self.capex_capacity is not None
        if by_total and self.capex_per_capacity is not None:
            raise ValueError("give capex and capex_capacity, or capex_per_capacity, not both")
        if by_total and (self.capex is None or self.capex_capacity is None):
            raise ValueError("capex and capex_capacity go together")
        return self


class PlanSupply(Sourced):
    """What an origin offers a material at: price, and availability in normal times."""

    origin: str = Field(description="a region code, or a region group id (e.g. msp)")
    material: str
    price: Price
    available: MassRate | None = Field(None, description="t/yr; leave out for unlimited")


class PlanDisruption(Sourced):
    """A disruption scenario: probability and availability per supply entry."""

    probability: Fraction
    available: dict[str, MassRate] = Field(
        default_factory=dict, description="supply id -> t/yr in this scenario (overrides)")
    factor: dict[str, Fraction] = Field(
        default_factory=dict, description="supply id -> share of normal availability")


class PlanCoproduct(Sourced):
    """A co-product outlet: local market (price, size) and storage/disposal cost."""

    price: Price | None = None
    market: MassRate | None = None
    disposal: Price | None = None


class PlanFeed(Sourced):
    """A local feed that needs no process (end-of-life magnets for recycling)."""

    material: str
    available: dict[int, MassRate] = Field(description="{year: t/yr}, a step schedule")
    cost: Price = 0.0


class PlanOperatingCost(Sourced):
    """Variable operating cost of a process, for existing plants and new builds alike."""

    variable_opex: Price


class PlanCoverage(Sourced):
    """At least ``share`` of the region's demand of ``material`` from domestic or allied
    supply, and the same share of its upstream requirement at every stage listed."""

    material: str
    share: dict[int, Fraction]
    upstream: list[tuple[str, str]] = Field(
        description="(process, its main output) from the final stage upstream")


class PlanWorkforce(Sourced):
    """Workforce as a limit on how fast the plan region can build: each t/yr of new
    capacity of a listed process needs ``jobs_per_capacity`` jobs, and the jobs of all new
    capacity up to a year may not exceed the workforce trained by then (the sum of
    ``additions`` up to that year, a training pipeline). Existing plants are staffed."""

    jobs_per_capacity: dict[str, float] = Field(
        description="process -> jobs per t/yr of new capacity")
    additions: dict[int, float] = Field(
        description="{year: jobs that can be hired and trained in that year}, a step schedule")


class PlanSection(StrictModel):
    """The ``plan:`` section of a scenario file."""

    region: str | None = Field(None, description="default: the scenario's focus region")
    allied_group: str | None = Field("msp", description="region group counted as allied")
    allied: bool = Field(True, description="count allied origins as secure supply")
    recycling: bool = Field(True, description="allow recycling processes and their feeds")
    existing_status: list[Literal["operating", "construction", "planned", "idle"]] = Field(
        default_factory=lambda: ["operating", "construction"],
        description="facility statuses counted as existing capacity")
    first_year: int | None = None
    discount_rate: Fraction = 0.08
    discount_rate_source: Sourced | None = None
    unmet_penalty: Price = 1000.0
    trade_cost: Price = 0.0
    coverage: PlanCoverage
    candidates: dict[str, PlanCandidate] = Field(default_factory=dict)
    finance: list[str] = Field(
        default_factory=list, description="economics scenarios (bundled names, e.g. "
        "vulcan-10k, or files beside this one) whose loans, equity, warrants, floors and "
        "offtakes price the plan's plants: a plant the plan builds takes the plan's "
        "schedule, an existing one its own (rareflow.results.plan_finance)")
    supply: dict[str, PlanSupply] = Field(default_factory=dict)
    disruptions: dict[str, PlanDisruption] = Field(default_factory=dict)
    operating_costs: dict[str, PlanOperatingCost] = Field(
        default_factory=dict, description="process -> variable opex (existing and new plants)")
    coproducts: dict[str, PlanCoproduct] = Field(default_factory=dict)
    feeds: dict[str, PlanFeed] = Field(default_factory=dict)
    workforce: PlanWorkforce | None = Field(
        None, description="jobs per t/yr of new capacity and a training pipeline that "
        "limit how fast the plan region builds")
    variants: bool = Field(
        True, description="also solve without recycling, without allied supply, and neither")
