"""The ``reconcile:`` section: which year of the world is reconciled, the rule that turns
a confidence label into an uncertainty, and reported figures that are not themselves
inputs of the balance (trade, totals).

Every record of the scenario that sets a quantity of the reconciled year (production,
facilities, demand, import shares, uncertain process yields) enters the reconciliation as
a figure; ``reported:`` adds the figures that only check the balance (a country's exports,
a region's output of a stage, a world total).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from rareflow.scenario.provenance import Sourced
from rareflow.scenario.types import Fraction, MassRate, StrictModel


class Reported(Sourced):
    """One reported figure of the reconciled year, t/yr.

    ``kind``: ``exports`` (from ``region`` to ``partner``), ``imports`` (into ``region``
    from ``partner``), ``production`` or ``consumption`` (of ``region``; consumption is
    process use plus final demand). ``region`` and ``partner`` take a region, a region
    group or ``world`` (every region but the other side). The materials measured are those
    of ``stage`` or the list ``materials``; with ``elements`` the figure counts the mass of
    those elements they contain instead of their mass.
    """

    kind: Literal["exports", "imports", "production", "consumption"]
    region: str
    partner: str | None = None
    stage: str | None = None
    materials: list[str] | None = None
    elements: list[str] | None = None
    process: str | None = Field(
        None, description="count only what this process makes or uses (production, "
        "consumption); the process then runs in the region even if no record gives it")
    value: MassRate
    range: tuple[MassRate, MassRate] | None = Field(
        None, description="stated range [low, high]: its half-width is taken as 1.96 sigma")

    @model_validator(mode="after")
    def _what(self) -> Reported:
        if (self.stage is None) == (self.materials is None):
            raise ValueError("give `stage` or `materials` (one of them)")
        if self.kind in ("exports", "imports") and self.partner is None:
            raise ValueError("exports and imports need `partner` (a region, group or world)")
        if self.process is not None and self.kind in ("exports", "imports"):
            raise ValueError("`process` applies to production and consumption figures")
        if self.range is not None and not self.range[0] <= self.value <= self.range[1]:
            raise ValueError(f"value {self.value:g} lies outside its range "
                             f"[{self.range[0]:g}, {self.range[1]:g}]")
        return self


class Composition(Sourced):
    """The share of a material held by some of its ``elements`` (of a material given by
    ``oxides``: t of their oxides per t REO) or ``constituents`` (t per t), entered as an
    uncertain figure of the reconciled year.

    For a material whose distribution stands in for one not found (China's ores take
    Mountain Pass's), or is known only roughly (a magnet grade's Dy), the reconciliation
    estimates the share from the figures downstream (separated output, magnets, scrap,
    mined supply of an element). Those named scale together by ``s / s0``; what makes up
    the difference is ``against`` (its members in proportion), or else every other part of
    the material, so it still sums to what it did. ``value`` defaults to the chain's share;
    its standard deviation is ``uncertainty`` (relative) or the rule of ``confidence``.
    """

    material: str
    elements: list[str] | None = Field(None, min_length=1)
    constituents: list[str] | None = Field(None, min_length=1)
    against: list[str] | None = Field(
        None, min_length=1, description="the parts that make up the change (default: all "
        "the others)")
    value: Fraction | None = Field(
        None, description="the share as reported (default: the share in the chain)")

    @model_validator(mode="after")
    def _which(self) -> Composition:
        if (self.elements is None) == (self.constituents is None):
            raise ValueError("give `elements` (of a material given by oxides or "
                             "composition) or `constituents` (one of them)")
        named = set(self.elements or self.constituents or [])
        if self.against is not None and named & set(self.against):
            raise ValueError("`against` must not name what the share counts")
        return self

    @property
    def parts(self) -> list[str]:
        return list(self.elements or self.constituents or [])


class ConfidenceRule(Sourced):
    """Relative standard deviation of a figure from its confidence label."""

    high: Fraction = 0.05
    medium: Fraction = 0.15
    low: Fraction = 0.30


class ReconcileSection(StrictModel):
    """Reconcile the world of one year before it is run."""

    year: int = Field(description="the year whose figures are reconciled")
    elements: list[str] = Field(
        description="materials holding any of these elements are balanced per region")
    apply: bool = Field(True, description="run on the reconciled world (false: on the "
                        "figures as reported, with the reconciliation only reported)")
    trade_stages: list[str] | None = Field(
        None, description="stages whose materials are traded between regions "
        "(default: every stage that has materials and is not external)")
    rule: ConfidenceRule = Field(default_factory=lambda: ConfidenceRule.model_validate({}))
    alpha: Fraction = Field(0.05, description="significance of the chi-square and "
                            "gross-error tests")
    every_year: bool = Field(
        True, description="balance every other model year too: its figures, with the "
        "reconciled year's corrections carried forward, reconciled with the process "
        "parameters held at their reconciled values (false: other years keep the "
        "reconciled year's import shares and close through residual flows)")
    reported: dict[str, Reported | None] = Field(default_factory=dict)
    compositions: dict[str, Composition | None] = Field(
        default_factory=dict, description="materials whose element shares the "
        "reconciliation estimates (stand-in distributions)")
