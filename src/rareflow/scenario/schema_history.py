"""Scenario section ``history:`` - magnets made before the first model year, and their grades.

Example::

    history:
      start: 1985
      fill: log_linear            # world totals between anchors
      world:
        w2010: {ndfeb: 98.2 kt/yr, years: 2010, source: chinaorg_2013, confidence: medium}
      regions:                    # shares of world output; the rest goes to remainder_region
        r2010: {shares: {CN: 79.4 %, JP: 19.3 %, DE: 1.3 %}, years: 2010, source: ...}
      applications:               # shares of world output by sector; the rest to remainder_sector
        a2018: {shares: {electronics: 9.1 %, ...}, years: 2018, source: ...}
      grades:                     # magnet composition of each sector over a period
        ev_2012:
          sectors: [ev_bev, ev_hybrid]
          composition: {Nd: 20.2 %, Pr: 5 %, Dy: 4 %, Tb: 0.8 %, B: 1.1 %}
          balance: Fe
          years: [2012, 2023]
          source: heim2023
          confidence: low
      lifetimes:
        ev_bev: {lifetime: {weibull: {shape: 3.6, scale: 15.5 yr}}, source: ..., confidence: ...}

Anchors are dated by their ``years:`` (one year each). Between anchors world output is
filled log-linearly (``fill: log_linear``: constant growth; before the first and after the
last anchor the growth of the nearest interval continues) or linearly (``fill: linear``:
held outside the anchors). Region and application shares are interpolated linearly between
their anchors and held outside them; each anchor's listed shares must not exceed 100 %, the
rest goes to ``remainder_region`` / ``remainder_sector``. A grade holds for the years of its
``years: [first, last]``; a sector's years before its first or after its last grade take the
nearest grade. Inflow by region is where the magnets were *made* (no consumption history by
region is published); world totals do not depend on that.

From the scenario's first year on, inflow is the scenario's own final demand for magnets
(``demand:``), and its composition that of the demanded chain materials (``grades_from_start:
chain``) or the last historical grade (``history``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from rareflow.scenario.provenance import Sourced
from rareflow.scenario.schema_recycling import LifetimeSpec
from rareflow.scenario.types import Fraction, MassRate, StrictModel

_SUM_TOL = 1e-6


def _single_year(rec: Sourced, what: str) -> None:
    if rec.years is None:
        raise ValueError(f"an {what} needs `years:` (the one year it describes, e.g. "
                         "`years: 2010`)")
    if rec.years[0] != rec.years[1]:
        raise ValueError(f"an {what} describes one year (got years {list(rec.years)}; "
                         "allowed: a single year such as `years: 2010`)")


class WorldAnchor(Sourced):
    """World NdFeB magnet output in one year."""

    ndfeb: MassRate = Field(description="world output, t NdFeB/yr")

    @model_validator(mode="after")
    def _dated(self) -> WorldAnchor:
        _single_year(self, "anchor")
        if self.ndfeb <= 0:
            raise ValueError("world output must be above 0 t/yr (log-linear filling needs it)")
        return self


class ShareAnchor(Sourced):
    """Shares of world output in one year (regions or sectors)."""

    shares: dict[str, Fraction]

    @model_validator(mode="after")
    def _dated(self) -> ShareAnchor:
        _single_year(self, "anchor")
        total = sum(self.shares.values())
        if total > 1 + _SUM_TOL:
            raise ValueError(f"shares sum to {100 * total:.4g} %; they must not exceed 100 % "
                             "(the rest goes to the remainder)")
        if not self.shares:
            raise ValueError("give at least one share")
        return self


class Grade(Sourced):
    """Magnet composition (mass fractions) of some sectors over a period."""

    sectors: list[str] = Field(min_length=1)
    composition: dict[str, Fraction]
    balance: str = Field("Fe", description="element that makes up the rest to 100 %")

    @model_validator(mode="after")
    def _period(self) -> Grade:
        if self.years is None:
            raise ValueError("a grade needs `years: [first, last]` (the period it describes)")
        total = sum(self.composition.values())
        if total > 1 + _SUM_TOL:
            raise ValueError(f"composition sums to {100 * total:.4g} %; it must not exceed "
                             f"100 % (the rest is `balance`, {self.balance})")
        if len(set(self.sectors)) != len(self.sectors):
            raise ValueError("a sector is listed twice")
        return self


class SectorLifetime(Sourced):
    lifetime: LifetimeSpec


class HistorySection(StrictModel):
    """The ``history:`` section of a scenario file."""

    start: int = Field(1985, ge=1950, le=2100, description="first year of the history")
    fill: Literal["log_linear", "linear"] = Field(
        "log_linear", description="how world output is filled between anchors")
    inflow_at: Literal["start", "middle", "end"] = "middle"
    remainder_region: str = Field("XR", description="region that takes the shares not listed")
    remainder_sector: str = Field("other", description="sector that takes the shares not listed")
    grades_from_start: Literal["chain", "history"] = Field(
        "chain", description="composition from the first model year on: the demanded chain "
        "materials', or the last historical grade held")
    world: dict[str, WorldAnchor | None] = Field(default_factory=dict)
    regions: dict[str, ShareAnchor | None] = Field(default_factory=dict)
    applications: dict[str, ShareAnchor | None] = Field(default_factory=dict)
    grades: dict[str, Grade | None] = Field(default_factory=dict)
    lifetimes: dict[str, SectorLifetime | None] = Field(default_factory=dict)
    note: str | None = None

    @field_validator("world")
    @classmethod
    def _some_world(cls, v: dict[str, Any]) -> dict[str, Any]:
        if not any(r is not None for r in v.values()):
            raise ValueError("give at least one world anchor (`world: {id: {ndfeb: ..., "
                             "years: ...}}`)")
        return v


def check(scenario: Any) -> None:
    """Cross-references of the section: regions, sectors, elements, sources, provenance,
    anchors in distinct years. Raises :class:`RareflowInputError` with every problem."""
    from rareflow.errors import Problem, RareflowInputError

    sec: HistorySection = scenario.spec.history
    problems: list[Problem] = []

    def at(path: str, msg: str) -> None:
        f, line = scenario.where(path)
        problems.append(Problem(msg, f, line, path))

    regions = list(scenario.spec.regions)
    sectors = list(scenario.chain.sectors)
    elements = list(scenario.chain.elements)
    sources = set(scenario.spec.sources)
    first_model = scenario.years[0]
    if sec.start >= first_model:
        at("history.start", f"must be before the first model year ({first_model}) "
           f"(allowed: 1950..{first_model - 1})")
    if sec.remainder_region not in regions:
        at("history.remainder_region", f"unknown region '{sec.remainder_region}' (known: "
           f"{', '.join(regions)})")
    if sec.remainder_sector not in sectors:
        at("history.remainder_sector", f"unknown sector '{sec.remainder_sector}' (known: "
           f"{', '.join(sectors)})")

    def provenance(path: str, rec: Sourced) -> None:
        for i, s in enumerate(rec.source or []):
            if s not in sources:
                p = f"{path}.source.{i}" if len(rec.source or []) > 1 else f"{path}.source"
                at(p, f"unknown source '{s}'; add it under `sources:`")
        if not rec.has_provenance:
            at(path, "no provenance: add `source:` and `confidence:`, or `assumption:` with "
               "the reasoning")

    for block in ("world", "regions", "applications"):
        seen: dict[int, str] = {}
        for k, rec in getattr(sec, block).items():
            if rec is None:
                continue
            path = f"history.{block}.{k}"
            provenance(path, rec)
            y = rec.years[0] if rec.years else None
            if y is not None:
                if y in seen:
                    at(f"{path}.years", f"two {block} anchors for {y} ('{seen[y]}' and '{k}'; "
                       "allowed: one anchor a year)")
                seen[y] = k
            if block == "regions":
                for r in rec.shares:
                    if r not in regions:
                        at(f"{path}.shares.{r}", f"unknown region '{r}' (known: "
                           f"{', '.join(regions)})")
            if block == "applications":
                for s in rec.shares:
                    if s not in sectors:
                        at(f"{path}.shares.{s}", f"unknown sector '{s}' (known: "
                           f"{', '.join(sectors)})")
    for k, g in sec.grades.items():
        if g is None:
            continue
        path = f"history.grades.{k}"
        provenance(path, g)
        for i, s in enumerate(g.sectors):
            if s not in sectors:
                at(f"{path}.sectors.{i}", f"unknown sector '{s}' (known: {', '.join(sectors)})")
        for e in (*g.composition, g.balance):
            if e not in elements:
                p = f"{path}.composition.{e}" if e in g.composition else f"{path}.balance"
                at(p, f"unknown element '{e}' (known: {', '.join(elements)})")
        if g.balance in g.composition:
            at(f"{path}.balance", f"'{g.balance}' is also listed in the composition (allowed: "
               "an element not listed; it takes the rest to 100 %)")
    # overlapping grade periods for one sector
    spans: dict[str, list[tuple[int, int, str]]] = {}
    for k, g in sec.grades.items():
        if g is None or g.years is None:
            continue
        for s in g.sectors:
            spans.setdefault(s, []).append((g.years[0], g.years[1], k))
    for s, items in spans.items():
        items.sort()
        for (a0, a1, ka), (b0, _b1, kb) in zip(items, items[1:], strict=False):
            if b0 <= a1:
                at(f"history.grades.{kb}.years", f"sector '{s}': period overlaps grade '{ka}' "
                   f"({a0}-{a1}) (allowed: one grade per sector and year)")
    for s, rec in sec.lifetimes.items():
        if rec is None:
            continue
        path = f"history.lifetimes.{s}"
        if s not in sectors:
            at(path, f"unknown sector '{s}' (known: {', '.join(sectors)})")
        provenance(path, rec)
    if problems:
        raise RareflowInputError(problems)
