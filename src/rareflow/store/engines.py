"""One run of one engine on one scenario, as tables and a summary for the run store.

Each engine gives ``(tables, summary, metadata)``: pandas tables by name, a JSON-ready
summary (the run's answers) and per-table Parquet metadata (units). ``run`` and ``stress``
are wired here; the other engines go through ``rareflow.<engine>(scenario, **options)``
(the one Results interface: ``.table(name)``, ``.summary()``).
"""

from __future__ import annotations

import json
from typing import Any

Output = tuple[dict[str, Any], dict[str, Any], dict[str, dict[str, str]]]


def load(source: str, overrides: dict[str, Any]) -> Any:
    """The scenario ``source`` with ``overrides`` (dotted path -> value), validated."""
    from rareflow.scenario.loader import load_scenario

    return load_scenario(source, overrides or None)


def run_engine(engine: str, scenario: Any, options: dict[str, Any], seed: int) -> Output:
    if engine == "run":
        return _static(scenario, options)
    if engine == "stress":
        return _stress(scenario, options, seed)
    return _generic(engine, scenario, options, seed)


def _static(scenario: Any, options: dict[str, Any]) -> Output:
    from rareflow.results.results import TABLES, run_static

    res = run_static(scenario, check=bool(options.get("check", True)))
    tables = {name: res.table(name) for name in TABLES}
    meta = {name: {"rareflow.columns": json.dumps(cols)} for name, cols in TABLES.items()}
    return tables, res.summary(), meta


def _stress(scenario: Any, options: dict[str, Any], seed: int) -> Output:
    import numpy as np

    from rareflow.analysis.stress import run_stress
    from rareflow.engines.simulate.summary import percentiles, summarise

    central = bool(options.get("central", False))
    samples = 1 if central else int(options.get("samples", 200))
    method = str(options.get("method", "lhs"))
    # one thread per run: a sweep's parallelism is across runs, and results must not
    # depend on how many threads a worker has
    sc, cs, res, dem = run_stress(scenario, samples, seed, method=method, workers=1,
                                  central=central, monthly=True)
    from rareflow.results.stress_results import StressResults

    # the tables of the results interface (one place builds them)
    api = StressResults(scenario=sc, compiled=cs, result=res, demand=dem, seed=seed,
                        method=method, central=central, monthly=True)
    S = res.n_samples
    # the per-sample table and the fan (monthly percentiles); the monthly table itself
    # (samples x months x sectors) stays out of the store
    tables = {"stress_samples": api.table("samples"), "stress_fan": api.table("fan")}
    if cs.parameters:
        tables["stress_parameters"] = api.table("parameters")
    units = "months; t of " + cs.material + "; shares 0-1"
    meta = {name: {"units": units} for name in tables}
    # every sector together: cumulative shortfall over cumulative demand, per sample
    total_short = res.cumulative_shortfall[:, 0].sum(axis=-1)
    total_dem = np.broadcast_to(dem[:, 0], (S, dem.shape[-1])).sum(axis=-1)
    total = np.divide(total_short, total_dem, out=np.zeros_like(total_short), where=total_dem > 0)
    summary = {
        "scenario": sc.name,
        "focus_region": cs.focus,
        "material": cs.material,
        "samples": S,
        "seed": seed,
        "method": method,
        "months": res.months,
        "horizon_start": cs.month_label(0),
        "units": units,
        "shortfall_share_total": percentiles(total),
        "p_shortfall_any": float((total_short > 0).mean()),
        "sectors": summarise(res, dem)[cs.focus],
    }
    return tables, summary, meta


def _generic(engine: str, scenario: Any, options: dict[str, Any], seed: int) -> Output:
    import inspect

    import rareflow

    fn = getattr(rareflow, engine, None)
    if fn is None:
        raise NotImplementedError(f"rareflow.{engine} is not available in this version")
    kwargs = dict(options)
    if "seed" in inspect.signature(fn).parameters and "seed" not in kwargs:
        kwargs["seed"] = seed
    res = fn(scenario, **kwargs)
    names = list(getattr(res, "table_names", None) or getattr(res, "TABLES", None) or [])
    tables = {n: res.table(n) for n in names}
    meta: dict[str, dict[str, str]] = {}
    if callable(getattr(res, "units", None)):
        meta = {n: {"rareflow.units": json.dumps(res.units(n))} for n in names}
    return tables, dict(res.summary()), meta
