"""Scenario section `recycling:` (owned by the recycling engine). Filled in by that engine's author."""

from __future__ import annotations

from rareflow.scenario.types import StrictModel


class RecyclingSection(StrictModel):
    """The `recycling:` section of a scenario file."""
