"""A facility's plant figures (``facilities.<id>.plant:``): the one place where its capital
and operating costs and its lifetime live.

The plan (a build option naming the facility), the economics (``economics.facilities`` of
the same id) and the report all read them from here, so a plant cannot cost one thing in
the plan and another in its cash flows. Utilisation ramps and start years stay where they
are (the facility's ``utilisation`` and ``start_year``) and are read from there too.

Every figure is written as in ``economics:`` (bare, or ``{value: ..., source: ..,
confidence: ..}`` / ``{value: ..., assumption: ...}``)::

    plant:
      capex: {value: 1000 MUSD, source: vulcan_benson_pr, confidence: medium}
      capex_capacity: {value: 10 kt/yr, source: vulcan_pr, confidence: high}
      opex_fixed: {value: 45 MUSD, assumption: "..."}        # USD per year
      opex_variable: {value: 12 USD/kg, assumption: "..."}  # per kg of capacity basis
      sustaining_capex: {value: 15 MUSD, assumption: "..."} # USD per year
      lifetime: {value: 25 yr, assumption: "..."}
"""

from __future__ import annotations

from pydantic import Field

from rareflow.scenario.schema_economics import DurationF, MassRateF, MoneyF, PriceF
from rareflow.scenario.types import StrictModel


class PlantFigures(StrictModel):
    """Capital and operating costs of one plant, in the facility's capacity basis."""

    capex: MoneyF | None = Field(None, description="initial capital cost, USD")
    capex_capacity: MassRateF | None = Field(
        None, description="the capacity that capex buys, t/yr (default: the facility's "
        "largest scheduled capacity)")
    opex_fixed: MoneyF | None = Field(None, description="fixed operating cost, USD per year")
    opex_variable: PriceF | None = Field(
        None, description="variable operating cost, USD per kg of the capacity basis")
    sustaining_capex: MoneyF | None = Field(None, description="USD per year once operating")
    lifetime: DurationF | None = Field(None, description="economic life, years")
