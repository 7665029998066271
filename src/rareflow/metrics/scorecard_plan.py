"""Scorecard measures read from a scenario's build plan (``plan:`` section).

The static run scores the chain as the scenario's facilities make it; a plan scenario also
decides what is built. These measures read the plan's own flows (variant ``base``):

* ``plan_stage_output``: the focus region's production of the stage's products, in the
  normal scenario (each disruption scenario's value is a figure);
* ``plan_secure_coverage``: secure supply of the stage's products over the region's demand
  for them, in the worst scenario, where secure supply is production less exports plus
  imports from allied origins (recomputed here from activity, exports and imports, not the
  engine's coverage rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

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
    out = inp.output_coef.sel(material=mats)
    act = r.activity.sel(region=region).fillna(0.0)
    made = (act * out.reindex(process=act.process, fill_value=0.0)).sum("process").sum("material")

    def _flow(a: xr.DataArray | None, dims: dict[str, Any]) -> xr.DataArray:
        if a is None or region not in a.region.values:
            return xr.zeros_like(made)
        sel = a.sel(region=region, **dims).fillna(0.0)
        keep = [m for m in mats if m in sel.material.values]
        return sel.sel(material=keep).sum("material")

    exported = _flow(r.exports, {})
    allied = inp.allied.sel(region=region).astype(float)
    imports = r.imports.sel(region=region).fillna(0.0)
    keep = [m for m in mats if m in imports.material.values]
    allied_in = (imports.sel(material=keep) * allied.reindex(origin=imports.origin, fill_value=0.0)
                 ).sum(("origin", "material"))
    secure = made - exported + allied_in
    dem = inp.demand.sel(region=region)
    dem = dem.sel(material=[m for m in mats if m in dem.material.values]).sum("material")
    scen = [str(s) for s in made.scenario.values]
    prob = inp.probability
    probs = {s: float(prob.sel(scenario=s)) if prob is not None else 1.0 / len(scen)
             for s in scen}
    builds = float(r.build.sel(region=region, process=[p for p in processes
                                                         if p in r.build.process.values]).sum())
    return PlanFlows(
        years=tuple(int(y) for y in made.year.values), scenarios=tuple(scen),
        probability=probs,
        production=made.transpose("scenario", "year").values.astype(float),
        secure=secure.transpose("scenario", "year").values.astype(float),
        demand=dem.values.astype(float), builds_t=builds, objective_usd=float(r.objective))
