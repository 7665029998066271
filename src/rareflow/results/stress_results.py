"""The monthly stress test (``rareflow.stress``) behind the common results interface.

:func:`stress_engine` is the one place that calls the stress engine (today
:func:`rareflow.analysis.stress.run_stress`, what ``rareflow stress`` calls); swap the
engine there and every caller of :func:`stress` follows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rareflow.results.base import ResultsBase, clean_json

DEFINITIONS = {
    "time_to_survive_months": "months from the disruption start to the first month with more "
    "than `tolerance` of the sector's demand unmet (months left in the horizon if never: "
    "censored)",
    "time_to_recover_months": "months from the disruption start to the end of the last "
    "abnormal month (shortfall, or a stock serving the sector below its initial/target "
    "level); 0 if never abnormal; censored at the horizon (see p_recovered)",
    "shortfall_share": "cumulative shortfall / cumulative demand over the horizon",
    "p_shortfall": "share of samples with at least one short month",
    "stockpile_needed_t": "cumulative shortfall without the strategic stockpiles: the stock "
    "(unlimited draw rate) that would have prevented every shortfall",
}

#: percentiles of the stress fan (table ``fan``)
FAN_QUANTILES = (5, 25, 50, 75, 95)


def stress_engine(scenario: Any, *, samples: int, seed: int, method: str, monthly: bool,
                  central: bool, workers: int | None = None) -> tuple[Any, Any, Any, Any]:
    """(scenario, compiled stress model, engine result, total demand [sample or 1,
    destination, sector] t): the stress engine as ``rareflow stress`` runs it
    (``workers``: threads of the simulation; default as the command, at most 2)."""
    from rareflow.analysis.stress import run_stress

    target: Any = scenario
    return run_stress(target, 1 if central else samples, seed, method=method,  # type: ignore[no-any-return]
                      workers=workers, monthly=monthly, central=central)


@dataclass
class StressResults(ResultsBase):
    """Per-sample outcomes of the stress test (sample axis first).

    Tables: ``samples`` (one row per sample and sector of the focus region, as
    ``stress_samples.parquet``), ``parameters`` (the sampled values, one row per sample)
    and, with ``monthly=True``, ``monthly`` (shortfall share by month and sample) and
    ``fan`` (its percentiles over the samples, by month and sector)."""

    scenario: Any
    compiled: Any
    result: Any
    demand: Any
    seed: int
    method: str
    central: bool = False
    monthly: bool = False
    engine: str = field(default="stress", init=False)

    @property
    def scenario_name(self) -> str:  # type: ignore[override]
        return str(self.scenario.name)

    @property
    def TABLE_UNITS(self) -> dict[str, dict[str, str]]:  # type: ignore[override]  # noqa: N802
        mat = f"t of {self.compiled.material}"
        out = {"samples": {
            "sample": "", "region": "", "sector": "", "time_to_survive_months": "month",
            "time_to_recover_months": "month", "recovered": "", "cumulative_shortfall_t": mat,
            "shortfall_share": "1", "peak_shortfall_share": "1", "stockpile_needed_t": mat}}
        out["parameters"] = {"sample": "", **{k: "canonical unit of the field (t, t/yr, "
                                              "months, 0-1)" for k in self.compiled.parameters}}
        if self.monthly and self.result.shortfall_share is not None:
            out["monthly"] = {"sample": "", "month": "YYYY-MM", "sector": "",
                              "shortfall_share": "1"}
            out["fan"] = {"month": "YYYY-MM", "sector": "",
                          **{f"p{q}": "1" for q in FAN_QUANTILES}}
        return out

    # ------------------------------------------------------------------ tables
    def _share(self) -> Any:
        from rareflow.engines.simulate.summary import shortfall_share_total

        return shortfall_share_total(self.result, self.demand)

    def _table_samples(self) -> Any:
        import numpy as np
        import pandas as pd

        res = self.result
        S = res.n_samples
        sectors = res.labels["sectors"]
        share = self._share()
        return pd.DataFrame({
            "sample": np.repeat(np.arange(S), len(sectors)),
            "region": self.compiled.focus,
            "sector": np.tile(np.array(sectors), S),
            "time_to_survive_months": res.time_to_survive[:, 0].ravel(),
            "time_to_recover_months": res.time_to_recover[:, 0].ravel(),
            "recovered": res.recovered[:, 0].ravel(),
            "cumulative_shortfall_t": res.cumulative_shortfall[:, 0].ravel(),
            "shortfall_share": share[:, 0].ravel(),
            "peak_shortfall_share": res.peak_shortfall_share[:, 0].ravel(),
            "stockpile_needed_t": res.stockpile_needed[:, 0].sum(axis=-1).ravel(),
        })

    def _table_parameters(self) -> Any:
        import numpy as np
        import pandas as pd

        S = self.result.n_samples
        return pd.DataFrame({"sample": np.arange(S), **{k: np.asarray(v) for k, v in
                                                        self.compiled.parameters.items()}})

    def _table_monthly(self) -> Any:
        import numpy as np
        import pandas as pd

        res, cs = self.result, self.compiled
        S, T = res.n_samples, res.months
        sectors = res.labels["sectors"]
        return pd.DataFrame({
            "sample": np.repeat(np.arange(S), T * len(sectors)),
            "month": np.tile(np.repeat([cs.month_label(t) for t in range(T)], len(sectors)), S),
            "sector": np.tile(np.array(sectors), S * T),
            "shortfall_share": res.shortfall_share[:, :, 0, :].ravel(),
        })

    def _table_fan(self) -> Any:
        """The stress fan: per month and sector, percentiles over the samples of the share of
        the sector's demand unmet that month (``p5`` ... ``p95``; 0 = fully served)."""
        import numpy as np
        import pandas as pd

        res, cs = self.result, self.compiled
        T = res.months
        sectors = list(res.labels["sectors"])
        share = np.asarray(res.shortfall_share)[:, :, 0, :]  # sample, month, sector
        q = np.percentile(share, FAN_QUANTILES, axis=0)  # quantile, month, sector
        return pd.DataFrame({
            "month": np.repeat([cs.month_label(t) for t in range(T)], len(sectors)),
            "sector": np.tile(np.array(sectors), T),
            **{f"p{p}": q[i].ravel() for i, p in enumerate(FAN_QUANTILES)},
        })

    # ------------------------------------------------------------------ xarray, summary
    def to_xarray(self) -> Any:
        """Dataset on ``sample``, ``destination``, ``sector`` (and ``month`` with
        ``monthly=True``); every variable has ``units``."""
        import numpy as np
        import xarray as xr

        res, cs = self.result, self.compiled
        dims = ("sample", "destination", "sector")
        mat = f"t of {cs.material}"
        ds = xr.Dataset(
            {"time_to_survive": (dims, res.time_to_survive, {"units": "month"}),
             "time_to_recover": (dims, res.time_to_recover, {"units": "month"}),
             "recovered": (dims, res.recovered, {"units": "1"}),
             "cumulative_shortfall": (dims, res.cumulative_shortfall, {"units": mat}),
             "shortfall_share": (dims, self._share(), {"units": "1"}),
             "peak_shortfall_share": (dims, res.peak_shortfall_share, {"units": "1"}),
             "stockpile_needed": (dims, res.stockpile_needed.sum(axis=-1), {"units": mat}),
             "disruption_start": (("sample",), res.disruption_start,
                                  {"units": "month from the horizon start"})},
            coords={"sample": np.arange(res.n_samples),
                    "destination": list(res.labels["destinations"]),
                    "sector": list(res.labels["sectors"])},
            attrs={"engine": self.engine, "scenario": self.scenario_name, "seed": self.seed,
                   "method": self.method, "samples": res.n_samples, "months": res.months,
                   "horizon_start": cs.month_label(0), "focus_region": cs.focus,
                   "material": cs.material, "scenario_sha256": self.scenario.content_hash()},
        )
        for k, v in cs.parameters.items():
            ds[f"parameter_{k}"] = (("sample",), np.asarray(v), {"units": "canonical"})
        if self.monthly and res.shortfall_share is not None:
            ds = ds.assign_coords(month=[cs.month_label(t) for t in range(res.months)])
            ds["monthly_shortfall_share"] = (("sample", "month", "destination", "sector"),
                                             np.asarray(res.shortfall_share), {"units": "1"})
        return ds

    def summary(self) -> dict[str, Any]:
        """``{FOCUS: {SECTOR: {time_to_survive_months: {p5, p50, p95}, ...}}, "_meta": ...}``,
        as ``stress_summary.json``."""
        import numpy as np

        from rareflow.engines.simulate.summary import summarise

        res, cs, sc = self.result, self.compiled, self.scenario
        s = summarise(res, self.demand)
        meta = {"scenario": sc.name, "seed": str(self.seed), "samples": str(res.n_samples),
                "method": self.method, "units": "months; t of " + cs.material + "; shares 0-1",
                "disruption_start": cs.month_label(int(np.min(res.disruption_start)))}
        return clean_json({cs.focus: s[cs.focus], "_meta": {
            "definitions": DEFINITIONS, **meta, "horizon_start": cs.month_label(0),
            "months": res.months, "assumptions": cs.assumptions, "notes": cs.notes,
            "uncertain_parameters": sorted(cs.parameters),
            "not_sampled": sorted(k for k in sc.uncertain if not k.startswith("stress.")),
            "scenario_sha256": sc.content_hash(), "engine": self.engine}})


def stress(scenario: Any, *, samples: int = 1000, seed: int = 0, method: str = "lhs",
           monthly: bool = False, central: bool = False,
           workers: int | None = None) -> StressResults:
    """Run the stress test of a loaded scenario; see :func:`rareflow.stress`."""
    sc, cs, res, dem = stress_engine(scenario, samples=samples, seed=seed, method=method,
                                     monthly=monthly, central=central, workers=workers)
    return StressResults(scenario=sc, compiled=cs, result=res, demand=dem, seed=seed,
                         method=method, central=central, monthly=monthly)
