"""Scenario section `economics:` (owned by the economics engine). Filled in by that engine's author."""

from __future__ import annotations

from rareflow.scenario.types import StrictModel


class EconomicsSection(StrictModel):
    """The `economics:` section of a scenario file."""
