"""Environmental indicators from a scenario's own flows (a static run).

:func:`environment` multiplies each process's activity (the run's ``activity`` table, t/yr of
the process's activity basis) by the intensity factors of the bundled
``data/reference/environment.yaml`` and sums them on ``region x stage x year``. Process, stage,
region and indicator names all come from that file and from the results, so any chain runs
through it; a chain the file does not list gets zeros with coverage 0.

For every indicator ``X`` of the file (``co2e_t``, ``water_m3``, ``radioactive_residue_t``,
``thorium_t`` at present) the dataset holds:

==============================  ===================  =========================================
variable                        dims                 meaning
==============================  ===================  =========================================
``activity_t``                  region, stage, year  summed activity (t of each process's basis)
``X``                           region, stage, year  the indicator (``units`` attribute)
``X_coverage``                  region, stage, year  share of activity with a factor (0-1; 0
                                                     where there is no activity)
``route_activity_t``            route, stage, year   activity of the route's processes, world
``route_X``                     route, stage, year   the indicator summed over the route
``route_X_per_t``               route, stage, year   ``route_X`` / covered route activity: the
                                                     route's intensity per t of the stage's
                                                     basis (NaN where none of it is covered)
``route_X_coverage``            route, stage, year   share of route activity with a factor
==============================  ===================  =========================================

Routes (ore types such as bastnaesite, ion-adsorption clay or monazite, and the recycling loops;
``route_kind`` says virgin or recycled) are assigned to processes by the file's ``route_of``
list; they are kept by stage so that a route's mining and separation tonnes are never added.

A process with activity and no factor is never counted as zero silently: its activity lowers
``X_coverage`` and its id is listed in the ``not_covered`` attribute of ``X`` (and in the
dataset attribute ``X_not_covered``); ``X_not_covered_detail`` names the regions. Activity is
summed across processes of a stage as it is reported, so where a stage mixes bases (recycling
feeds swarf and end-of-life magnets) the coverage share is by tonnes of feed.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

__all__ = ["compute", "environment", "environment_summary", "environment_table", "factor_for"]


@cache
def environment_table() -> dict[str, Any]:
    """The bundled factor file (``environment.yaml``), read from package data."""
    from ruamel.yaml import YAML

    from rareflow import resources

    path = resources.reference_dir() / "environment.yaml"
    return dict(YAML(typ="safe").load(path.read_text(encoding="utf-8")))


def _chain_section(table: dict[str, Any], chain_id: str) -> dict[str, Any]:
    return dict((table.get("chains") or {}).get(chain_id) or {})


def factor_for(factors: list[dict[str, Any]], indicator: str, process: str,
               region: str) -> dict[str, Any] | None:
    """The factor entry for ``indicator`` of ``process`` in ``region``: one naming the region
    wins over one without regions; ``None`` if the process has no factor there."""
    generic = None
    for f in factors:
        if f.get("indicator") != indicator or f.get("process") != process:
            continue
        regions = f.get("regions")
        if regions is None:
            generic = generic or f
        elif region in regions:
            return f
    return generic


def _route_for(route_of: list[dict[str, Any]], process: str, region: str) -> str | None:
    for r in route_of:
        if r.get("process") == process and (r.get("regions") is None or region in r["regions"]):
            return str(r["route"])
    return None


def compute(activity: Any, *, chain_id: str, regions: list[str], stages: list[str],
            years: list[int], table: dict[str, Any] | None = None) -> Any:
    """The indicators from an activity table (columns ``year, region, process, stage,
    activity_t``) as an ``xarray.Dataset`` (see the module docstring)."""
    import xarray as xr

    t = environment_table() if table is None else table
    indicators: dict[str, dict[str, Any]] = dict(t.get("indicators") or {})
    chain = _chain_section(t, chain_id)
    factors = list(chain.get("factors") or [])
    route_of = list(chain.get("route_of") or [])
    route_info: dict[str, dict[str, Any]] = dict(t.get("routes") or {})

    df = activity[activity["activity_t"] > 0]
    ri = {r: i for i, r in enumerate(regions)}
    si = {s: i for i, s in enumerate(stages)}
    yi = {int(y): i for i, y in enumerate(years)}
    shape = (len(regions), len(stages), len(years))

    rows = [(str(reg), str(proc), str(stg), int(yr), float(a)) for reg, proc, stg, yr, a in zip(
        df["region"], df["process"], df["stage"], df["year"], df["activity_t"], strict=True)
        if reg in ri and stg in si and int(yr) in yi]
    # every route the file names for this chain is kept, with or without activity, so the
    # recycled routes show up (as zeros) in a scenario that does not recycle
    routes = sorted({str(r["route"]) for r in route_of})
    qi = {q: i for i, q in enumerate(routes)}

    act = np.zeros(shape)
    r_act = np.zeros((len(routes), len(stages), len(years)))
    for reg, proc, stg, yr, a in rows:
        act[ri[reg], si[stg], yi[yr]] += a
        rt = _route_for(route_of, proc, reg)
        if rt is not None:
            r_act[qi[rt], si[stg], yi[yr]] += a

    rsy, qy = ("region", "stage", "year"), ("route", "stage", "year")
    data: dict[str, Any] = {"activity_t": (rsy, act, {"units": "t of each process's activity basis"}),
                            "route_activity_t": (qy, r_act, {"units": "t of activity basis"})}
    attrs: dict[str, Any] = {"chain": chain_id, "factor_file": "environment.yaml"}
    for ind, spec in indicators.items():
        scale = float(spec.get("to_units", 1.0))
        units = str(spec.get("units", ""))
        val = np.zeros(shape)
        cov = np.zeros(shape)
        r_val = np.zeros(r_act.shape)
        r_cov = np.zeros(r_act.shape)
        missing: dict[str, set[str]] = {}
        for reg, proc, stg, yr, a in rows:
            f = factor_for(factors, ind, proc, reg)
            rt = _route_for(route_of, proc, reg)
            if f is None:
                missing.setdefault(proc, set()).add(reg)
                continue
            v = a * float(f["value"]) * scale
            val[ri[reg], si[stg], yi[yr]] += v
            cov[ri[reg], si[stg], yi[yr]] += a
            if rt is not None:
                r_val[qi[rt], si[stg], yi[yr]] += v
                r_cov[qi[rt], si[stg], yi[yr]] += a
        share = np.divide(cov, act, out=np.zeros(shape), where=act > 0)
        r_share = np.divide(r_cov, r_act, out=np.zeros_like(r_act), where=r_act > 0)
        per_t = np.divide(r_val, r_cov, out=np.full_like(r_val, np.nan), where=r_cov > 0)
        not_covered = sorted(missing)
        detail = [f"{p}: {', '.join(sorted(missing[p]))}" for p in not_covered]
        data[ind] = (rsy, val, {"units": units, "long_name": spec.get("name", ind),
                                "not_covered": not_covered})
        data[f"{ind}_coverage"] = (rsy, share, {"units": "1"})
        data[f"route_{ind}"] = (qy, r_val, {"units": units})
        data[f"route_{ind}_per_t"] = (qy, per_t, {"units": f"{units} per t of activity basis"})
        data[f"route_{ind}_coverage"] = (qy, r_share, {"units": "1"})
        attrs[f"{ind}_not_covered"] = not_covered
        attrs[f"{ind}_not_covered_detail"] = detail
    ds = xr.Dataset(
        {k: xr.Variable(v[0], v[1], attrs=v[2]) for k, v in data.items()},
        coords={"region": list(regions), "stage": list(stages), "year": [int(y) for y in years],
                "route": routes,
                "route_kind": ("route", [str((route_info.get(q) or {}).get("kind", ""))
                                         for q in routes])},
        attrs=attrs)
    return ds


def environment(results: Any, *, table: dict[str, Any] | None = None) -> Any:
    """The environmental indicators of a static run as an ``xarray.Dataset`` on
    ``region x stage x year`` (see the module docstring); ``table`` replaces the bundled
    factor file (same layout as ``environment.yaml``)."""
    return compute(results.table("activity"), chain_id=str(results.chain.id),
                   regions=list(results.regions), stages=list(results.chain.stages),
                   years=[int(y) for y in results.years], table=table)


def environment_summary(ds: Any, region: str, years: list[int] | tuple[int, ...]) -> dict[str, Any]:
    """A small JSON-ready digest of :func:`environment` for ``region`` and the world in each
    of ``years``: per indicator the total (summed over stages) and, per stage with activity,
    the share of its activity that has a factor; and the processes without a factor."""
    indicators = [str(v) for v in ds.data_vars if f"{v}_coverage" in ds.data_vars
                  and not str(v).startswith("route_")]
    out: dict[str, Any] = {"years": {}, "not_covered": {}}
    for y in years:
        if int(y) not in [int(v) for v in ds["year"].values]:
            continue
        entry: dict[str, Any] = {}
        for where, sel in ((region, {"region": region}), ("world", {})):
            act = ds["activity_t"].sel(year=int(y), **sel)
            if not sel:
                act = act.sum("region")
            block: dict[str, Any] = {}
            for v in indicators:
                da = ds[v].sel(year=int(y), **sel)
                cov = ds[f"{v}_coverage"].sel(year=int(y), **sel)
                if not sel:  # world coverage: activity-weighted over regions, per stage
                    w = ds["activity_t"].sel(year=int(y))
                    cov = (cov * w).sum("region") / w.sum("region").where(w.sum("region") > 0)
                    da = da.sum("region")
                block[v] = float(da.sum())
                block[f"{v}_coverage_by_stage"] = {
                    str(s): round(float(cov.sel(stage=s)), 4) for s in ds["stage"].values
                    if float(act.sel(stage=s)) > 0}
            entry[where] = block
        out["years"][int(y)] = entry
    for v in indicators:
        out["not_covered"][v] = list(ds.attrs.get(f"{v}_not_covered", []))
    out["units"] = {v: ds[v].attrs.get("units", "") for v in indicators}
    return out
