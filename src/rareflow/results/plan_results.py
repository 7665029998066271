"""The capacity-expansion plan (``rareflow.plan``) behind the common results interface:
the tables and summary ``rareflow plan`` writes (``plan.parquet``, ``plan_summary.json``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from rareflow.results.base import ResultsBase, clean_json

PLAN_COLUMNS = ["variant", "kind", "region", "process", "option", "name", "material", "year",
                "value", "secure_t", "marginal_cost_usd_per_t"]
PLAN_UNITS: dict[str, dict[str, str]] = {
    "plan": {"variant": "", "kind": "build | coverage", "region": "", "process": "",
             "option": "", "name": "", "material": "", "year": "year",
             "value": "t/yr (build: capacity added; coverage: requirement)",
             "secure_t": "t/yr", "marginal_cost_usd_per_t": "USD/t"},
    "builds": {"variant": "", "region": "", "process": "", "option": "", "name": "",
               "year": "year", "build_t_per_yr": "t/yr", "capex_usd": "USD"},
    "coverage": {"variant": "", "material": "", "year": "year", "required_t": "t/yr",
                 "secure_supply_min_over_scenarios_t": "t/yr",
                 "marginal_cost_usd_per_t": "USD/t"},
}
UNITS = {"build_t_per_yr": "t/yr of process activity (its activity basis)",
         "costs": "USD, discounted to the first plan year, expected over disruption scenarios",
         "marginal_cost_usd_per_t": "USD per t of secure supply, in that year's money"}


@dataclass
class PlanResults(ResultsBase):
    """Every variant's solution (``runs``: variant -> {"meta", "inputs", "result"} or, for
    an infeasible variant, {"meta", "inputs", "error"}; see
    :func:`rareflow.engines.optimize.from_scenario.run_plan`)."""

    scenario: Any
    runs: dict[str, dict[str, Any]]
    engine: str = field(default="plan", init=False)
    TABLE_UNITS = PLAN_UNITS

    @property
    def scenario_name(self) -> str:  # type: ignore[override]
        return str(self.scenario.name)

    @cached_property
    def _variants(self) -> dict[str, dict[str, Any]]:
        from rareflow.engines.optimize.from_scenario import summarise

        return {v: summarise(entry) for v, entry in self.runs.items()}

    @property
    def variants(self) -> dict[str, dict[str, Any]]:
        """Each variant's summary (status, costs, builds, coverage, marginal costs)."""
        return self._variants

    @property
    def error(self) -> Any:
        """The first variant's InfeasibleError, or None when it solved."""
        first = next(iter(self.runs))
        return self.runs[first].get("error")

    def summary(self) -> dict[str, Any]:
        """As ``plan_summary.json``: per variant, status, discounted costs, builds,
        coverage and marginal costs."""
        return clean_json({"scenario": self.scenario.name, "units": UNITS,  # type: ignore[no-any-return]
                           "variants": self._variants, "engine": self.engine,
                           "scenario_sha256": self.scenario.content_hash()})

    def _table_plan(self) -> Any:
        import pandas as pd

        rows = []
        for v, s in self._variants.items():
            for b in s.get("builds", []):
                rows.append({"variant": v, "kind": "build", "region": b["region"],
                             "process": b["process"], "option": b["option"], "name": b["name"],
                             "material": None, "year": b["year"], "value": b["build_t_per_yr"],
                             "secure_t": None, "marginal_cost_usd_per_t": None})
            for c in s.get("coverage", []):
                rows.append({"variant": v, "kind": "coverage", "region": s["region"],
                             "process": None, "option": None, "name": None,
                             "material": c["material"], "year": c["year"],
                             "value": c["required_t"],
                             "secure_t": c["secure_supply_min_over_scenarios_t"],
                             "marginal_cost_usd_per_t": c["marginal_cost_usd_per_t"]})
        return pd.DataFrame(rows, columns=PLAN_COLUMNS)

    def _table_builds(self) -> Any:
        import pandas as pd

        cols = list(PLAN_UNITS["builds"])
        rows = [{"variant": v, **{k: b[k] for k in cols if k != "variant"}}
                for v, s in self._variants.items() for b in s.get("builds", [])]
        return pd.DataFrame(rows, columns=cols)

    def _table_coverage(self) -> Any:
        import pandas as pd

        cols = list(PLAN_UNITS["coverage"])
        rows = [{"variant": v, **{k: c[k] for k in cols if k != "variant"}}
                for v, s in self._variants.items() for c in s.get("coverage", [])]
        return pd.DataFrame(rows, columns=cols)

    def to_xarray(self) -> Any:
        """Dataset on ``variant``, ``material``, ``year`` (coverage) and ``option``
        (builds), with each variant's discounted cost components."""
        import numpy as np
        import xarray as xr

        cov = self._table_coverage()
        builds = self._table_builds()
        variants = list(self.runs)
        ds = xr.Dataset(coords={"variant": variants})
        if len(cov):
            c = cov.set_index(["variant", "material", "year"]).to_xarray()
            for k, unit in (("required_t", "t/yr"),
                            ("secure_supply_min_over_scenarios_t", "t/yr"),
                            ("marginal_cost_usd_per_t", "USD/t")):
                ds[k] = c[k].reindex(variant=variants)
                ds[k].attrs["units"] = unit
        if len(builds):
            b = builds.groupby(["variant", "option", "year"])["build_t_per_yr"].sum()
            ds["build_t_per_yr"] = b.to_xarray().reindex(variant=variants).fillna(0.0)
            ds["build_t_per_yr"].attrs["units"] = "t/yr"
        comps = sorted({k for s in self._variants.values()
                        for k in s.get("costs_usd_discounted", {})})
        if comps:
            arr = np.array([[s.get("costs_usd_discounted", {}).get(k, np.nan) for k in comps]
                            for s in self._variants.values()], dtype=float)
            ds = ds.assign_coords(cost_component=comps)
            ds["cost_usd_discounted"] = (("variant", "cost_component"), arr, {"units": "USD"})
        ds["objective_usd_discounted"] = ("variant", np.array(
            [s.get("objective_usd_discounted", np.nan) for s in self._variants.values()],
            dtype=float), {"units": "USD"})
        ds["status"] = ("variant", np.array([s["status"] for s in self._variants.values()]),
                        {"units": ""})
        ds.attrs.update({"engine": self.engine, "scenario": self.scenario_name,
                         "scenario_sha256": self.scenario.content_hash()})
        return ds


def plan(scenario: Any, *, variants: list[str] | None = None,
         solver_options: dict[str, Any] | None = None,
         raise_infeasible: bool = True) -> PlanResults:
    """Solve a scenario's ``plan:`` section; see :func:`rareflow.plan`."""
    from rareflow.engines.optimize.from_scenario import run_plan

    res = PlanResults(scenario=scenario, runs=run_plan(scenario, variants, solver_options))
    if raise_infeasible and res.error is not None:
        raise res.error
    return res
