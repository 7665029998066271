"""Provenance: every default figure says where it comes from, or that it is an assumption.

A record (a facility, a production row, a demand row, a process yield...) carries either

* ``source: <id>`` or ``source: [<id>, ...]`` (ids from the ``sources:`` registry) and
  ``confidence: high | medium | low``; optionally ``note``; or
* ``assumption: "<the reasoning>"`` (confidence is then ``low`` unless stated).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from rareflow.scenario.types import StrictModel

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
