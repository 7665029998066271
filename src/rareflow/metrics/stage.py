"""Stage-level metrics on solved flows (arrays in, arrays out).

Definitions
-----------
net import reliance (USGS)
    ``(consumption - production) / consumption`` of a stage's products in a region, i.e.
    net imports over apparent consumption; negative for a net exporter, NaN where the
    region consumes none.
supply share and HHI
    each region's share of world production of a stage's products; the
    Herfindahl-Hirschman index is the sum of squared shares in percent (0-10,000).
domestic coverage
    ``min(production, consumption) / consumption``.
allied coverage
    domestic coverage plus imports from a partner group (e.g. MSP), over consumption.
origin dependence
    one origin's share of a region's imports times its net imports, over consumption
    (e.g. the share of U.S. magnet use supplied by China directly); with trade both ways
    imports alone could exceed what the region uses.
capacity coverage
    nameplate capacity of named facilities over consumption.
"""

from __future__ import annotations

import numpy as np


def stage_sum(x: np.ndarray, material_stage: np.ndarray, n_stages: int,
              mask: np.ndarray | None = None, axis: int = -2) -> np.ndarray:
    """Sum ``x [..., M, Y]`` over the materials of each stage -> ``[..., G, Y]``."""
    onehot = np.zeros((len(material_stage), n_stages))
    onehot[np.arange(len(material_stage)), material_stage] = 1.0
    if mask is not None:
        onehot = onehot * mask[:, None]
    x = np.moveaxis(x, axis, -1)                  # [..., Y, M]
    out = x @ onehot                               # [..., Y, G]
    return np.moveaxis(out, -1, axis)


def import_reliance(production: np.ndarray, consumption: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(consumption > 0, (consumption - production) / consumption, np.nan)


def coverage(supply: np.ndarray, consumption: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(consumption > 0, np.minimum(supply, consumption) / consumption, np.nan)


def shares(production: np.ndarray, axis: int = 0) -> np.ndarray:
    total = production.sum(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, production / total, np.nan)


def hhi(production: np.ndarray, axis: int = 0) -> np.ndarray:
    """Herfindahl-Hirschman index (0-10,000) of production along ``axis``."""
    s = shares(production, axis)
    return np.nansum((100 * s) ** 2, axis=axis) * np.where(
        np.isnan(s).all(axis=axis), np.nan, 1.0)
