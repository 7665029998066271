"""Provenance: every default figure says where it comes from, or that it is an assumption.

A record (a facility, a production row, a demand row, a process yield...) carries either

* ``source: <id>`` or ``source: [<id>, ...]`` (ids from the ``sources:`` registry) and
  ``confidence: high | medium | low``; optionally ``note``; or
* ``assumption: "<the reasoning>"`` (confidence is then ``low`` unless stated).

and ``years``: the years its figures describe (the data year of its source, not the year
the source was published): ``years: 2024`` (one year) or ``years: [2021, 2024]`` (the
first and last year, both included). Where a figure is a ``{year: value}`` schedule, the
schedule's years are described too. Every record of the bundled reference data (any
bundled file, or a file in a ``_reference/`` folder) must state ``years``. A user scenario
that overrides a record's figures without stating ``years`` is taken to describe every
scenario year with them (it is the user's own statement about those years); a new record
without ``years`` likewise. Scenario years before the described ones are reported by
:mod:`rareflow.scenario.coverage`; years after them are the scenario's projection (held,
or grown by the record's ``growth``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from rareflow.scenario.types import Fraction, StrictModel

Confidence = Literal["high", "medium", "low"]


class Source(StrictModel):
    """One entry of the ``sources:`` registry."""

    publisher: str = Field(description="who published it (USGS, IEA, a company...)")
    title: str
    year: int | str
    citation: str | None = None
    address: str | None = None
    read_via: str | None = None
    label: str | None = None


class Sourced(StrictModel):
    """Mixin for records that carry provenance (checked for completeness after loading)."""

    source: list[str] | None = None
    confidence: Confidence | None = None
    assumption: str | None = None
    note: str | None = None
    years: tuple[int, int] | None = Field(
        None, description="years the figures describe: 2024 or [first, last]")
    uncertainty: Fraction | None = Field(
        None, description="relative standard deviation of the record's figures (0.1 = 10 %); "
        "without it, reconciliation uses the rule of the record's confidence label")

    @field_validator("years", mode="before")
    @classmethod
    def _year_span(cls, v: object) -> object:
        if v is None:
            return v
        if isinstance(v, bool):
            raise ValueError("years: a year (2024) or [first, last] ([2021, 2024])")
        if isinstance(v, int):
            v = [v, v]
        if (not isinstance(v, list | tuple) or len(v) != 2
                or not all(isinstance(y, int) and not isinstance(y, bool) for y in v)):
            raise ValueError("years: a year (2024) or [first, last] ([2021, 2024])")
        first, last = v
        if not (1900 <= first <= 2200 and 1900 <= last <= 2200):
            raise ValueError(f"years must lie in 1900..2200, got {list(v)}")
        if last < first:
            raise ValueError(f"years: last ({last}) is before first ({first})")
        return (first, last)

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        if isinstance(v, str):
            return [v]
        return v

    @model_validator(mode="after")
    def _assumption_needs_reason(self) -> Sourced:
        if self.assumption is not None and not self.assumption.strip():
            raise ValueError("an assumption needs its reasoning written out")
        if self.source is not None and self.confidence is None and self.assumption is None:
            raise ValueError("a sourced figure needs `confidence: high | medium | low`")
        return self

    @property
    def provenance(self) -> str:
        """One line for reports: 'usgs_mcs2026 (high)' or 'assumption: ...'."""
        if self.source:
            return f"{', '.join(self.source)} ({self.confidence})"
        if self.assumption:
            return f"assumption: {self.assumption}"
        return "inherited"

    @property
    def has_provenance(self) -> bool:
        return bool(self.source) or bool(self.assumption)
