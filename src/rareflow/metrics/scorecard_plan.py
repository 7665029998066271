"""Scorecard measures read from a scenario's build plan (``plan:`` section).

The static run scores the chain as the scenario's facilities make it; a plan scenario also
decides what is built. These measures read the plan's own flows (variant ``base``):

* ``plan_stage_output``: the focus region's production of the stage's products, in the
  normal scenario (each disruption scenario's value is a figure);
* ``plan_secure_coverage``: secure supply of the stage's products over the region's demand
  for them, in the worst scenario, where secure supply is production less exports plus
  imports from allied origins (the plan result's ``secure_supply``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["PlanFlows", "plan_flows"]


@dataclass(frozen=True)
class PlanFlows:
    """A solved plan's focus-region flows of one stage's products, t/yr."""

    years: tuple[int, ...]
    scenarios: tuple[str, ...]
    probability: dict[str, float]
    production: np.ndarray        # [scenario, year]
    secure: np.ndarray            # [scenario, year]
    demand: np.ndarray            # [year]
    builds_t: float               # capacity the plan builds at this stage, t/yr
    objective_usd: float


def plan_flows(entry: dict[str, Any], region: str, materials: list[str],
               processes: list[str]) -> PlanFlows:
    """The flows of ``materials`` (one stage's products) in ``region`` from one solved
    plan variant (``rareflow.plan(...).runs[variant]``); ``processes`` are the stage's
    processes, for the builds."""
    inp, r = entry["inputs"], entry["result"]
    mats = [m for m in materials if m in inp.output_coef.material.values]
    act = r.activity.sel(region=region).fillna(0.0)
    made = (act * inp.output_coef.sel(material=mats)).sum(("process", "material"))
    secure = r.secure_supply.sel(region=region, material=mats).fillna(0.0).sum("material")
    dem = inp.demand.sel(region=region, material=mats).sum("material")
    scen = [str(s) for s in made.scenario.values]
    probs = {s: float(inp.probability.sel(scenario=s)) if inp.probability is not None
             else 1.0 / len(scen) for s in scen}
    builds = float(r.build.sel(region=region, process=[p for p in processes
                                                         if p in r.build.process.values]).sum())
    return PlanFlows(
        years=tuple(int(y) for y in made.year.values), scenarios=tuple(scen),
        probability=probs,
        production=made.transpose("scenario", "year").values.astype(float),
        secure=secure.transpose("scenario", "year").values.astype(float),
        demand=dem.values.astype(float), builds_t=builds, objective_usd=float(r.objective))
