"""Scenario section `plan:` (owned by the plan engine). Filled in by that engine's author."""

from __future__ import annotations

from rareflow.scenario.types import StrictModel


class PlanSection(StrictModel):
    """The `plan:` section of a scenario file."""
