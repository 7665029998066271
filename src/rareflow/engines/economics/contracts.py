"""Government contracts on a plant's output: a price floor and an offtake agreement.

Price floor (e.g. the 110 USD/kg NdPr oxide floor agreed with MP Materials for ten
years): in each covered year the government pays the plant

    payout[t] = max(floor - market[t], 0) · volume[t] · 1000          (USD; t → kg)

and, when an upside share is agreed (reported for the MP deal: 30 % of the upside above
the floor once full production is reached), the plant pays the government
``upside_share · max(market[t] - floor, 0) · volume[t] · 1000``.

Offtake: a share of the output bought at a contract price; the change in revenue against
selling that share at market is ``share · volume · (contract - market) · 1000``. With no
contract price the offtake guarantees volume only and changes no cash flow here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rareflow.engines.economics import _checks as chk

__all__ = ["FloorPayout", "price_floor_payout", "offtake_adjustment", "contract_window"]

KG_PER_T = 1000.0


def contract_window(n_years: int, start: int, years: int) -> np.ndarray:
    """Boolean mask [year]: model years ``start .. start+years-1`` (clipped to the horizon)."""
    N = chk.whole_years(n_years, "n_years", minimum=1)
    s = chk.whole_years(start, "start", minimum=0)
    y = chk.whole_years(years, "years", minimum=0)
    m = np.zeros(N, dtype=bool)
    m[s : min(N, s + y)] = True
    return m


@dataclass(frozen=True)
class FloorPayout:
    """Arrays [..., year], USD/yr: ``government_pays`` (≥ 0), ``government_receives``
    (≥ 0, upside sharing) and ``net`` = pays - receives (the plant's extra revenue)."""

    government_pays: np.ndarray
    government_receives: np.ndarray
    net: np.ndarray


def price_floor_payout(
    market: np.ndarray,
    floor: float | np.ndarray,
    volume: np.ndarray,
    active: np.ndarray | None = None,
    *,
    upside_share: float = 0.0,
    upside_active: np.ndarray | None = None,
) -> FloorPayout:
    """Payments under a price floor.

    Parameters
    ----------
    market : ndarray [..., year], USD/kg — market price of the covered product.
    floor : float or ndarray [year], USD/kg.
    volume : ndarray [..., year] or [year], t/yr — covered volume sold.
    active : ndarray [year] of bool, optional — years the floor is in force (default all).
    upside_share : float — share of the price above the floor paid to the government.
    upside_active : ndarray [year] of bool, optional — years the upside sharing applies
        (default: same as ``active``).
    """
    p = chk.finite_array(market, "market", ndim_min=1)
    f = chk.nonneg_array(floor, "floor")
    v = chk.nonneg_array(volume, "volume", ndim_min=1)
    u = chk.fraction(upside_share, "upside_share")
    N = p.shape[-1]
    a = np.ones(N, dtype=bool) if active is None else np.asarray(active, dtype=bool)
    if a.shape != (N,):
        raise chk.fail("active", f"must have shape ({N},) [year] (got {a.shape})")
    ua = a if upside_active is None else np.asarray(upside_active, dtype=bool)
    if ua.shape != (N,):
        raise chk.fail("upside_active", f"must have shape ({N},) [year] (got {ua.shape})")
    pays = np.where(a, np.maximum(f - p, 0.0) * v * KG_PER_T, 0.0)
    recv = np.where(ua, u * np.maximum(p - f, 0.0) * v * KG_PER_T, 0.0)
    return FloorPayout(pays, recv, pays - recv)


def offtake_adjustment(
    market: np.ndarray,
    volume: np.ndarray,
    share: float,
    contract_price: float | np.ndarray | None,
    active: np.ndarray | None = None,
) -> np.ndarray:
    """Revenue change [..., year] (USD/yr) from selling ``share`` of ``volume`` (t/yr) at
    ``contract_price`` (USD/kg) rather than at ``market`` (USD/kg); zero without a price."""
    p = chk.finite_array(market, "market", ndim_min=1)
    v = chk.nonneg_array(volume, "volume", ndim_min=1)
    s = chk.fraction(share, "share")
    N = p.shape[-1]
    a = np.ones(N, dtype=bool) if active is None else np.asarray(active, dtype=bool)
    if contract_price is None:
        return np.zeros(np.broadcast_shapes(p.shape, v.shape))
    c = chk.nonneg_array(contract_price, "contract_price")
    return np.where(a, s * v * (c - p) * KG_PER_T, 0.0)
