"""Scenario section `stress:` (owned by the stress engine). Filled in by that engine's author."""

from __future__ import annotations

from rareflow.scenario.types import StrictModel


class StressSection(StrictModel):
    """The `stress:` section of a scenario file."""
