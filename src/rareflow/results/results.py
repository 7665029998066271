"""Run the static balance of a scenario and hold its results.

``Results`` keeps the solved arrays; ``to_xarray()`` gives them on named dimensions and
``table(name)`` as tidy pandas tables whose columns are documented in :data:`TABLES`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from rareflow.engines.flows.static import (
    FlowInputs,
    FlowResult,
    check_mass_balance,
    mass_balance_errors,
    solve_flows,
)
from rareflow.metrics import stage as sm
from rareflow.model.arrays import ModelArrays, build_arrays, flow_inputs
from rareflow.scenario.model import Scenario

MASS_BALANCE_RTOL = 1e-9

TABLES: dict[str, dict[str, str]] = {
    "flows": {
        "year": "calendar year", "region": "ISO 3166 alpha-2 (XR: other countries)",
        "stage": "chain stage of the material", "material": "material id",
        "production_t": "t/yr made in the region",
        "process_use_t": "t/yr used by the region's processes",
        "final_demand_t": "t/yr demanded by end-use sectors",
        "consumption_t": "t/yr, process use + final demand (apparent consumption)",
        "imports_t": "t/yr imported", "exports_t": "t/yr exported",
        "net_imports_t": "t/yr, consumption - production",
        "unmet_t": "t/yr of deficit no exporter covers (gap)",
        "unsold_t": "t/yr of surplus nobody in the model takes (stock or unmodelled use)",
        "unrecorded_t": "t/yr exported beyond recorded surplus (supply missing from the data)",
    },
    "trade": {"year": "", "region": "importing region", "origin": "exporting region",
              "stage": "", "material": "", "imports_t": "t/yr"},
    "activity": {"year": "", "region": "", "process": "process id", "stage": "",
                 "activity_t": "t/yr of the process's activity basis",
                 "capacity_t": "t/yr nameplate of named facilities (same basis)",
                 "utilisation": "activity / capacity where capacity is known (0-1)"},
    "stages": {
        "year": "", "region": "", "stage": "",
        "production_t": "t/yr of the stage's products", "consumption_t": "t/yr",
        "net_imports_t": "t/yr", "import_reliance": "net imports / consumption (USGS); "
        "negative for a net exporter", "domestic_coverage": "0-1",
        "allied_coverage": "0-1, domestic + imports from MSP partners",
        "china_dependence": "0-1, imports from CN / consumption",
        "capacity_t": "t/yr nameplate of named facilities making the stage's main products",
        "capacity_coverage": "capacity / consumption (may exceed 1)",
    },
    "concentration": {"year": "", "stage": "", "region": "",
                      "production_t": "t/yr", "world_share": "0-1",
                      "hhi": "Herfindahl-Hirschman index of the stage, 0-10,000"},
    "demand": {"year": "", "region": "", "sector": "", "material": "", "demand_t": "t/yr"},
    "elements": {"year": "", "region": "", "stage": "", "element": "",
                 "production_t": "t/yr of element in the stage's products",
                 "consumption_t": "t/yr", "net_imports_t": "t/yr",
                 "losses_t": "t/yr lost by the stage's processes"},
    "facilities": {"facility": "id", "name": "", "owner": "", "region": "", "stage": "",
                   "process": "", "status": "operating | construction | planned | idle",
                   "year": "", "capacity": "t/yr of capacity_basis (NaN: not disclosed)",
                   "capacity_basis": "material the capacity is stated in",
                   "activity_t": "t/yr contributed (process basis)", "provenance": ""},
}


@dataclass
class Results:
    """Results of a static run. Arrays are [region, ..., year] in t/yr."""

    scenario: Scenario
    arrays: ModelArrays
    inputs: FlowInputs
    flows: FlowResult
    mass_balance: dict[str, float] = field(default_factory=dict)
    recycling: Any = None  # rareflow.model.recycling.RecyclingRun when the scenario has one

    # ------------------------------------------------------------------ structure
    @property
    def chain(self) -> Any:
        return self.arrays.chain

    @property
    def years(self) -> tuple[int, ...]:
        return self.arrays.years

    @property
    def regions(self) -> tuple[str, ...]:
        return self.arrays.regions

    @property
    def conversion_stages(self) -> list[str]:
        return [s for s in self.chain.stages if self.chain.stage_kind[s] == "conversion"]

    @property
    def mass_balance_max_rel_error(self) -> float:
        return max(self.mass_balance.values()) if self.mass_balance else float("nan")

    # ------------------------------------------------------------------ stage metrics
    @cached_property
    def stage_metrics(self) -> dict[str, np.ndarray]:
        """Arrays [region, stage, year] over all stages of the chain."""
        c, f = self.chain, self.flows
        G = len(c.stages)
        ms = self.inputs.material_stage
        # a stage's products, not its scrap (swarf is no magnet a region makes or uses)
        traded = ~self.inputs.external & ~np.array([m in c.scrap_materials for m in c.materials])
        prod = sm.stage_sum(f.production, ms, G, traded)
        cons = sm.stage_sum(f.consumption, ms, G, traded)
        imports = f.imports                                        # [R, O, M, Y]
        imp_by_origin = sm.stage_sum(imports, ms, G, traded)         # [R, O, G, Y]
        allies = [self.regions.index(r) for r in self.arrays.groups.get("msp", ())
                  if r in self.regions]
        allied_imports = imp_by_origin[:, allies].sum(axis=1) if allies else 0 * prod
        # exclude self from "allied imports" (a region never imports from itself)
        cn = self.regions.index("CN") if "CN" in self.regions else None
        china = imp_by_origin[:, cn] if cn is not None else 0 * prod
        cap = self._stage_capacity()
        domestic = sm.coverage(prod, cons)
        with np.errstate(invalid="ignore", divide="ignore"):
            allied = np.where(cons > 0, np.minimum(np.minimum(prod, cons) + allied_imports, cons)
                              / cons, np.nan)
            # China's share of the region's imports, applied to its net imports: with
            # trade given both ways (re-exports) imports alone can exceed consumption
            total_imp = imp_by_origin.sum(axis=1)
            china_dep = np.where(cons > 0, np.where(total_imp > 0, china / np.where(
                total_imp > 0, total_imp, 1.0), 0.0) * np.maximum(cons - prod, 0.0) / cons,
                np.nan)
            cap_cov = np.where(cons > 0, cap / cons, np.nan)
        return {
            "production": prod, "consumption": cons, "net_imports": cons - prod,
            "import_reliance": sm.import_reliance(prod, cons), "domestic_coverage": domestic,
            "allied_coverage": allied, "china_dependence": china_dep, "capacity": cap,
            "capacity_coverage": cap_cov, "imports_by_origin": imp_by_origin,
        }

    def _stage_capacity(self) -> np.ndarray:
        """Nameplate capacity [region, stage, year] in t/yr of each stage's main product:
        each process's capacity times its main-output yield."""
        c = self.chain
        B = c.outputs
        main = np.argmax(B, axis=1)
        out = np.zeros((len(self.regions), len(c.stages), len(self.years)))
        for k in range(len(c.processes)):
            g = c.stages.index(c.material_stage[main[k]])
            out[:, g, :] += self.arrays.capacity[:, k, :] * B[k, main[k]]
        return out

    def metric(self, name: str, region: str, stage: str, year: int) -> float:
        return float(self.stage_metrics[name][self.regions.index(region),
                                              self.chain.stages.index(stage),
                                              self.years.index(year)])

    # ------------------------------------------------------------------ xarray / pandas
    def to_xarray(self) -> Any:
        """An ``xarray.Dataset`` with every solved array on named dimensions (t/yr)."""
        import xarray as xr

        c, f = self.chain, self.flows
        coords = {"region": list(self.regions), "origin": list(self.regions),
                  "process": list(c.processes), "material": list(c.materials),
                  "element": list(c.elements), "stage": list(c.stages),
                  "sector": list(self.arrays.sectors), "year": list(self.years)}
        rmy = ("region", "material", "year")
        ds = xr.Dataset(
            {
                "activity": (("region", "process", "year"), f.activity),
                "capacity": (("region", "process", "year"), self.arrays.capacity),
                "production": (rmy, f.production),
                "process_use": (rmy, f.process_use),
                "consumption": (rmy, f.consumption),
                "final_demand": (("region", "sector", "material", "year"),
                                 self.arrays.final_demand),
                "imports": (("region", "origin", "material", "year"), f.imports),
                "exports": (rmy, f.exports),
                "unmet": (rmy, f.unmet), "unsold": (rmy, f.unsold),
                "unrecorded": (rmy, f.unrecorded),
                "composition": (("material", "element"), c.composition),
            },
            coords=coords,
            attrs={"units": "t/yr (composition: mass fraction)", "scenario": self.scenario.name,
                   "mass_balance_max_rel_error": self.mass_balance_max_rel_error},
        )
        for name in ("import_reliance", "domestic_coverage", "allied_coverage",
                     "china_dependence", "capacity_coverage"):
            ds[f"stage_{name}"] = (("region", "stage", "year"), self.stage_metrics[name])
        for name in ("production", "consumption", "capacity"):
            ds[f"stage_{name}"] = (("region", "stage", "year"), self.stage_metrics[name])
        for v in ds.data_vars:
            ds[v].attrs["units"] = "1" if ("reliance" in v or "coverage" in v
                                           or "dependence" in v or v == "composition") else "t/yr"
        return ds

    def table(self, name: str) -> Any:
        """A tidy pandas DataFrame; columns documented in :data:`TABLES`."""
        builder = getattr(self, f"_table_{name}", None)
        if builder is None:
            raise KeyError(f"unknown table '{name}' (known: {', '.join(TABLES)})")
        return builder()

    def _grid(self, **axes: Any) -> Any:
        import pandas as pd

        idx = pd.MultiIndex.from_product(list(axes.values()), names=list(axes))
        return idx.to_frame(index=False)

    def _table_flows(self) -> Any:
        c, f = self.chain, self.flows
        df = self._grid(region=self.regions, material=c.materials, year=self.years)
        fd = self.inputs.final_demand
        cols = {"production_t": f.production, "process_use_t": f.process_use,
                "final_demand_t": fd, "consumption_t": f.consumption,
                "imports_t": f.imports.sum(axis=1), "exports_t": f.exports,
                "net_imports_t": f.consumption - f.production, "unmet_t": f.unmet,
                "unsold_t": f.unsold, "unrecorded_t": f.unrecorded}
        for k, v in cols.items():
            df[k] = v.reshape(-1)
        df.insert(1, "stage", df["material"].map(dict(zip(c.materials, c.material_stage,
                                                            strict=True))))
        keep = df[[k for k in cols]].abs().sum(axis=1) > 0
        return df[keep][["year", "region", "stage", "material", *cols]].reset_index(drop=True)

    def _table_trade(self) -> Any:
        import pandas as pd

        c = self.chain
        imp = self.flows.imports
        r, o, m, y = np.nonzero(imp > 0)       # only the flows that exist (the grid is huge)
        df = pd.DataFrame({"region": np.array(self.regions)[r], "origin": np.array(self.regions)[o],
                           "material": np.array(c.materials)[m],
                           "year": np.array(self.years)[y], "imports_t": imp[r, o, m, y]})
        df["stage"] = df["material"].map(dict(zip(c.materials, c.material_stage, strict=True)))
        return df[["year", "region", "origin", "stage", "material", "imports_t"]].reset_index(
            drop=True)

    def _table_activity(self) -> Any:
        c = self.chain
        df = self._grid(region=self.regions, process=c.processes, year=self.years)
        df["activity_t"] = self.flows.activity.reshape(-1)
        df["capacity_t"] = self.arrays.capacity.reshape(-1)
        df = df[(df["activity_t"] > 0) | (df["capacity_t"] > 0)].copy()
        df["stage"] = df["process"].map(dict(zip(c.processes, c.process_stage, strict=True)))
        cap = df["capacity_t"].where(df["capacity_t"] > 0)
        df["utilisation"] = (df["activity_t"] / cap).clip(upper=1.0)
        return df[["year", "region", "process", "stage", "activity_t", "capacity_t",
                   "utilisation"]].reset_index(drop=True)

    def _table_stages(self) -> Any:
        stages = self.conversion_stages
        gi = [self.chain.stages.index(s) for s in stages]
        df = self._grid(region=self.regions, stage=stages, year=self.years)
        m = self.stage_metrics
        names = {"production_t": "production", "consumption_t": "consumption",
                 "net_imports_t": "net_imports", "import_reliance": "import_reliance",
                 "domestic_coverage": "domestic_coverage", "allied_coverage": "allied_coverage",
                 "china_dependence": "china_dependence", "capacity_t": "capacity",
                 "capacity_coverage": "capacity_coverage"}
        for col, key in names.items():
            df[col] = m[key][:, gi, :].reshape(-1)
        keep = (df["production_t"] > 0) | (df["consumption_t"] > 0) | (df["capacity_t"] > 0)
        return df[keep][["year", "region", "stage", *names]].reset_index(drop=True)

    def _table_concentration(self) -> Any:
        stages = self.conversion_stages
        gi = [self.chain.stages.index(s) for s in stages]
        prod = self.stage_metrics["production"][:, gi, :]          # [R, G, Y]
        share = sm.shares(prod, axis=0)
        h = sm.hhi(prod, axis=0)                                   # [G, Y]
        df = self._grid(region=self.regions, stage=stages, year=self.years)
        df["production_t"] = prod.reshape(-1)
        df["world_share"] = share.reshape(-1)
        df["hhi"] = np.broadcast_to(h[None], prod.shape).reshape(-1)
        df = df[df["production_t"] > 0]
        return df[["year", "stage", "region", "production_t", "world_share", "hhi"]].reset_index(
            drop=True)

    def _table_demand(self) -> Any:
        c = self.chain
        df = self._grid(region=self.regions, sector=self.arrays.sectors, material=c.materials,
                        year=self.years)
        df["demand_t"] = self.arrays.final_demand.reshape(-1)
        return df[df["demand_t"] > 0][["year", "region", "sector", "material", "demand_t"]
                                      ].reset_index(drop=True)

    def _table_elements(self) -> Any:
        c, f = self.chain, self.flows
        C = c.composition
        G = len(c.stages)
        ms = self.inputs.material_stage
        traded = (~self.inputs.external).astype(float)
        rows = []
        import pandas as pd

        for gi, g in enumerate(c.stages):
            if c.stage_kind[g] != "conversion":
                continue
            mask = (ms == gi) * traded
            prod = np.einsum("rmy,m,me->rey", f.production, mask, C)
            cons = np.einsum("rmy,m,me->rey", f.consumption, mask, C)
            pmask = np.array([c.process_stage[k] == g for k in range(len(c.processes))], float)
            loss = np.einsum("rpy,p,pe->rey", f.activity, pmask, c.losses)
            df = self._grid(region=self.regions, element=c.elements, year=self.years)
            df["stage"] = g
            df["production_t"] = prod.reshape(-1)
            df["consumption_t"] = cons.reshape(-1)
            df["net_imports_t"] = (cons - prod).reshape(-1)
            df["losses_t"] = loss.reshape(-1)
            rows.append(df)
        del G
        out = pd.concat(rows, ignore_index=True)
        keep = out[["production_t", "consumption_t", "losses_t"]].abs().sum(axis=1) > 0
        return out[keep][["year", "region", "stage", "element", "production_t", "consumption_t",
                          "net_imports_t", "losses_t"]].reset_index(drop=True)

    def _table_facilities(self) -> Any:
        import pandas as pd

        rows = []
        for i, fi in enumerate(self.arrays.facilities):
            for j, y in enumerate(self.years):
                rows.append({"facility": fi.id, "name": fi.name, "owner": fi.owner,
                             "region": fi.region, "stage": fi.stage, "process": fi.process,
                             "status": fi.status, "year": y,
                             "capacity": self.arrays.facility_capacity[i, j],
                             "capacity_basis": fi.capacity_basis,
                             "activity_t": self.arrays.facility_activity[i, j],
                             "provenance": fi.provenance})
        return pd.DataFrame(rows, columns=list(TABLES["facilities"]))

    # ------------------------------------------------------------------ summary and files
    def summary(self) -> dict[str, Any]:
        """Headline figures (JSON-ready): ``import_reliance[REGION][STAGE][YEAR]`` and more."""
        m = self.stage_metrics
        stages = self.conversion_stages

        def per_region(name: str) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for ri, r in enumerate(self.regions):
                by_stage = {}
                for s in stages:
                    gi = self.chain.stages.index(s)
                    vals = {str(y): _num(m[name][ri, gi, yi]) for yi, y in enumerate(self.years)}
                    if any(v is not None for v in vals.values()):
                        by_stage[s] = vals
                if by_stage:
                    out[r] = by_stage
            return out

        return {
            "scenario": self.scenario.name,
            "scenario_sha256": self.scenario_hash,
            "rareflow_version": _version(),
            "years": list(self.years),
            "focus_region": self.arrays.focus_region,
            "units": "t/yr; shares 0-1",
            "mass_balance_max_rel_error": self.mass_balance_max_rel_error,
            "mass_balance": self.mass_balance,
            "import_reliance": per_region("import_reliance"),
            "china_dependence": per_region("china_dependence"),
            "domestic_coverage": per_region("domestic_coverage"),
            "allied_coverage": per_region("allied_coverage"),
            "capacity_coverage": per_region("capacity_coverage"),
            "residual_share": self._residual_share_tree(),
            **self._world_summary(),  # world, world_basis, net_import_reliance
            # which world the run stands on: the figures as reported, or reconciled
            "world_figures": ("reconciled" if self.arrays.reconciliation is not None
                              and self.arrays.reconciliation.applied else "reported"),
            "reconciliation": (self.arrays.reconciliation.summary(top=10)
                               if self.arrays.reconciliation is not None else None),
            # records used for years their data do not describe (rareflow.scenario.coverage)
            "data_years_warnings": [u.as_dict() for u in self.scenario.coverage_warnings],
        }

    def stored_flows(self) -> Any:
        """The stored flows, trade and activity tables as dense arrays (for the checks)."""
        from rareflow.results.balance_check import from_results

        return from_results(self)

    def residual_share(self) -> Any:
        """(unmet + unsold + unrecorded) over max(production, consumption), per region,
        stage, element and year, from the stored tables (a DataFrame)."""
        from rareflow.results.balance_check import residual_share

        return residual_share(self.stored_flows())

    def _residual_share_tree(self) -> dict[str, Any]:
        from rareflow.results.balance_check import residual_share_tree

        return residual_share_tree(self.residual_share())

    def _world_summary(self) -> dict[str, Any]:
        from rareflow.results.world import settings_of, world_summary

        return world_summary(self.stored_flows(), **settings_of(self.scenario))

    @cached_property
    def scenario_hash(self) -> str:
        payload = json.dumps(self.scenario.spec.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write every table as Parquet and ``summary.json`` into ``out_dir``.

        The folder is replaced whole and atomically (:func:`rareflow.results.io.output_folder`):
        a reader or a killed run sees the previous complete folder or the new one."""
        from rareflow.results.io import atomic_write_json, atomic_write_parquet, output_folder

        out = Path(out_dir)
        names = [*TABLES, "summary"]
        summary = self.summary()
        with output_folder(out, option="out_dir") as d:
            for name, cols in TABLES.items():
                meta = {"rareflow.columns": json.dumps(cols), "rareflow.scenario": self.scenario.name}
                atomic_write_parquet(d / f"{name}.parquet", self.table(name), meta)
            atomic_write_json(d / "summary.json", summary)
        return {n: out / (f"{n}.json" if n == "summary" else f"{n}.parquet") for n in names}


def _num(x: float) -> float | None:
    x = float(x)
    return round(x, 6) if np.isfinite(x) else None


def _version() -> str:
    from rareflow import __version__

    return __version__


def run_static(scenario: Scenario, *, check: bool = True) -> Results:
    """Compile and solve ``scenario``; check mass conservation (raises if broken)."""
    arrays = build_arrays(scenario)
    if scenario.spec.reconcile is not None:
        from rareflow.model.reconcile import reconcile_world

        arrays, _ = reconcile_world(scenario, arrays, solve_flows(flow_inputs(arrays)))
    recycling = None
    if scenario.spec.recycling is not None:
        from rareflow.model.recycling import run_recycling, with_secondary_supply

        recycling = run_recycling(scenario, arrays)
        arrays = with_secondary_supply(scenario, arrays, recycling)
    inputs = flow_inputs(arrays)
    flows = solve_flows(inputs)
    errors = mass_balance_errors(inputs, flows)
    if check:
        check_mass_balance(inputs, flows, MASS_BALANCE_RTOL)
    if recycling is not None:
        errors["recycling_chain"] = recycling.chain.check_mass_balance()
    res = Results(scenario=scenario, arrays=arrays, inputs=inputs, flows=flows,
                  mass_balance=errors, recycling=recycling)
    if check:
        from rareflow.results.balance_check import check_stored_balance

        check_stored_balance(res.stored_flows())  # independent of the solver: tables only
    return res
