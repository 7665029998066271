"""Couple the dynamic stock and recycling engine to the chain.

Sales of magnet-bearing products (the scenario's final demand for magnet materials, by
sector) flow into the in-use stock; retirements flow to end of life; the recycling chain
returns what is collected, liberated and recovered by each route. That secondary supply
enters the static balance as the activity of the chain's collection and recycling
processes, where it displaces virgin material like any other feed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from rareflow.engines.stocks.recycling import (
    RecyclingChainResult,
    RecyclingMetrics,
    recycling_chain,
    recycling_metrics,
)
from rareflow.model.arrays import ModelArrays, schedule
from rareflow.scenario.model import Scenario


@dataclass(frozen=True)
class RecyclingRun:
    """Recycling results on the model's calendar (history years first).

    years    : calendar years of every array's last time axis
    sectors  : sectors modelled
    elements : element names (the chain's)
    region   : the region modelled
    """

    region: str
    years: tuple[int, ...]
    sectors: tuple[str, ...]
    elements: tuple[str, ...]
    chain: RecyclingChainResult
    metrics: RecyclingMetrics

    def model_slice(self, years: tuple[int, ...]) -> slice:
        start = self.years.index(years[0])
        return slice(start, start + len(years))


def run_recycling(scenario: Scenario, arrays: ModelArrays) -> RecyclingRun:
    sec = scenario.spec.recycling
    assert sec is not None
    c = arrays.chain
    region = sec.region or scenario.spec.focus_region
    ri = arrays.regions.index(region)
    model_years = list(arrays.years)
    years = list(range(min(sec.history_start, model_years[0]), model_years[-1] + 1))
    hist = model_years[0] - years[0]
    sectors = [s for s in arrays.sectors if s in sec.sectors]
    magnet_mats = [j for j, m in enumerate(c.materials)
                   if c.material_stage[j] == c.material_stage[c.m(c.reference_material or m)]
                   and m not in c.scrap_materials]
    S, Y, E = len(sectors), len(years), len(c.elements)
    sales = np.zeros((S, Y))
    comp = np.zeros((S, E))
    for i, s in enumerate(sectors):
        si = arrays.sectors.index(s)
        by_mat = arrays.final_demand[ri, si][magnet_mats]          # [m, year]
        q = by_mat.sum(axis=0)
        sales[i, hist:] = q
        g = sec.sectors[s].history_growth
        if hist:
            sales[i, :hist] = q[0] / (1.0 + g) ** np.arange(hist, 0, -1)
        weights = by_mat.sum(axis=1)
        if weights.sum() > 0:
            comp[i] = (weights / weights.sum()) @ c.composition[magnet_mats]
        else:
            comp[i] = c.composition[c.m(c.reference_material)] if c.reference_material else 0

    def path(default: dict[int, float], override: dict[int, float] | None) -> np.ndarray:
        return schedule(override or default, years)

    collection = np.stack([path(sec.collection, sec.sectors[s].collection) for s in sectors])
    dismantling = np.stack([path(sec.dismantling_share, sec.sectors[s].dismantling_share)
                            for s in sectors])
    short_share = schedule(sec.short_loop_share, years)[None, :]
    lifetimes = [sec.sectors[s].lifetime.build() for s in sectors]
    lt = _stack_lifetimes(lifetimes)
    res = recycling_chain(
        sales, lt, comp, c.elements,
        collection_rate=collection, dismantling_share=dismantling,
        dismantling_yield=sec.dismantling_yield, shredding_yield=sec.shredding_yield,
        short_loop_share=short_share, short_loop_recovery=sec.short_loop_recovery,
        long_loop_recovery=sec.long_loop_recovery, swarf_rate=sec.swarf_rate,
        swarf_recovery=sec.swarf_recovery, inflow_at=sec.inflow_at,
    )
    return RecyclingRun(region=region, years=tuple(years), sectors=tuple(sectors),
                        elements=tuple(c.elements), chain=res, metrics=recycling_metrics(res))


def _stack_lifetimes(lifetimes: list) -> object:  # type: ignore[type-arg]
    """One Lifetime with per-sector parameters [sector, 1] (same family required), or the
    families combined through a fixed-shape survival when they differ."""
    from rareflow.stocks import Lifetime

    kinds = {lt.kind for lt in lifetimes}
    if len(kinds) == 1:
        kind = kinds.pop()
        names = list(lifetimes[0].params)
        params = {n: np.array([float(lt.params[n]) for lt in lifetimes])[:, None] for n in names}
        return getattr(Lifetime, kind)(**params)
    from rareflow.errors import RareflowInputError

    raise RareflowInputError.single(
        "all sectors of a recycling section must use the same lifetime family (got "
        f"{', '.join(sorted(kinds))})", path="recycling.sectors")


def with_secondary_supply(scenario: Scenario, arrays: ModelArrays,
                          rec: RecyclingRun) -> ModelArrays:
    """Arrays whose collection and recycling activity in the region follow ``rec``
    (replacing any facility or self-supply activity of those three processes there)."""
    sec = scenario.spec.recycling
    assert sec is not None
    c = arrays.chain
    ri = arrays.regions.index(rec.region)
    sl = rec.model_slice(arrays.years)
    r = rec.chain
    liberated = r.liberated.sum(axis=0)[sl]
    to_short = r.to_short_loop.sum(axis=0)[sl]
    to_long = r.to_long_loop.sum(axis=0)[sl]
    fixed = arrays.fixed_activity.copy()
    self_supply = arrays.self_supply.copy()
    k_col = c.p(sec.collection_process)
    k_short = c.p(sec.short_loop_process)
    k_long = c.p(sec.long_loop_process)
    fixed[ri, k_col] = liberated
    # activity of a convert process is t of output (input per activity = 1 / recovery);
    # of a split, t of feed
    fixed[ri, k_short] = to_short / c.inputs[k_short].sum()
    fixed[ri, k_long] = to_long
    for k in (k_col, k_short, k_long):
        self_supply[ri, k] = False
    return replace(arrays, fixed_activity=fixed, self_supply=self_supply)
