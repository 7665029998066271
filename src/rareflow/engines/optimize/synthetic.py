"""A synthetic, seeded plan problem of any size (benchmarks, scaling and property tests).

The chain has 8 processes (one per stage) and 10 materials, figures chosen to look like
the NdFeB chain but **not data**: mining → beneficiation → cracking → separation
(NdPr oxide + La + Ce co-products) → metal making → alloying → magnet making, plus
short-loop recycling (scrap → alloy). Regions are grouped into blocs whose exports form
origin pools; one external origin ('ext') can be disrupted by the scenarios.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from rareflow.dims import MATERIAL, ORIGIN, PROCESS, REGION, SCENARIO, YEAR
from rareflow.engines.optimize.inputs import OPTION, PlanInputs, upstream_requirements

MATERIALS = ["ore", "concentrate", "mixed", "ndpr_oxide", "la", "ce", "metal", "alloy",
             "magnet", "scrap"]
PROCESSES = ["mining", "beneficiation", "cracking", "separation", "metal_making",
             "alloying", "magnet_making", "recycling"]
# (process, {material: coefficient}) for inputs and outputs, t per t of activity
_IN = {
    "beneficiation": {"ore": 1.25},
    "cracking": {"concentrate": 1.1},
    "separation": {"mixed": 1.0},
    "metal_making": {"ndpr_oxide": 1.2},
    "alloying": {"metal": 0.31},
    "magnet_making": {"alloy": 1.05},
    "recycling": {"scrap": 1.0},
}
_OUT = {
    "mining": {"ore": 1.0},
    "beneficiation": {"concentrate": 1.0},
    "cracking": {"mixed": 1.0},
    "separation": {"ndpr_oxide": 0.25, "la": 0.3, "ce": 0.45},
    "metal_making": {"metal": 1.0},
    "alloying": {"alloy": 1.0},
    "magnet_making": {"magnet": 1.0},
    "recycling": {"alloy": 0.9},
}
# capex USD per t/yr of activity, variable opex USD/t (illustrative only)
_CAPEX = dict(mining=2_000, beneficiation=3_000, cracking=5_000, separation=20_000,
              metal_making=15_000, alloying=5_000, magnet_making=60_000, recycling=30_000)
_VAROPEX = dict(mining=300, beneficiation=200, cracking=500, separation=3_000,
                metal_making=4_000, alloying=1_000, magnet_making=8_000, recycling=6_000)
_TRADEABLE = ["concentrate", "ndpr_oxide", "metal", "alloy", "magnet"]
_EXT_PRICE = dict(concentrate=8_000, ndpr_oxide=60_000, metal=80_000, alloy=35_000,
                  magnet=70_000)
CHAIN = [("magnet_making", "magnet"), ("alloying", "alloy"), ("metal_making", "metal"),
         ("separation", "ndpr_oxide"), ("cracking", "mixed"), ("beneficiation", "concentrate"),
         ("mining", "ore")]


def coefficients() -> tuple[xr.DataArray, xr.DataArray]:
    """input_coef, output_coef [process, material], t per t of activity."""
    shape = (len(PROCESSES), len(MATERIALS))
    a_in, a_out = np.zeros(shape), np.zeros(shape)
    for i, p in enumerate(PROCESSES):
        for mat, c in _IN.get(p, {}).items():
            a_in[i, MATERIALS.index(mat)] = c
        for mat, c in _OUT.get(p, {}).items():
            a_out[i, MATERIALS.index(mat)] = c
    co = {PROCESS: PROCESSES, MATERIAL: MATERIALS}
    return (xr.DataArray(a_in, coords=co, dims=list(co)),
            xr.DataArray(a_out, coords=co, dims=list(co)))


def synthetic_problem(
    n_regions: int = 50,
    n_years: int = 30,
    n_scenarios: int = 20,
    *,
    n_blocs: int = 3,
    n_targets: int | None = None,
    seed: int = 0,
    first_year: int = 2026,
) -> PlanInputs:
    """Seeded synthetic :class:`PlanInputs` (same seed → identical arrays)."""
    rng = np.random.default_rng(seed)
    regions = [f"r{i:02d}" for i in range(n_regions)]
    years = list(range(first_year, first_year + n_years))
    scenarios = ["base"] + [f"disruption{i:02d}" for i in range(1, n_scenarios)]
    blocs = [f"bloc{i}" for i in range(n_blocs)]
    origins = ["ext", *blocs]
    R, Y, S, P = n_regions, n_years, n_scenarios, len(PROCESSES)
    incoef, outcoef = coefficients()
    t = np.arange(Y)

    # demand: magnets 200..3000 t/yr growing 3..8 %/yr; scrap available grows with it
    base = rng.uniform(200, 3000, R)
    growth = rng.uniform(0.03, 0.08, R)
    mag = base[:, None] * (1 + growth[:, None]) ** t[None, :]
    demand = np.zeros((R, len(MATERIALS), Y))
    demand[:, MATERIALS.index("magnet"), :] = mag
    scrap = np.zeros((R, len(MATERIALS), Y))
    scrap[:, MATERIALS.index("scrap"), :] = mag * rng.uniform(0.02, 0.15, R)[:, None] * (
        1 + 0.05 * t[None, :])

    # existing capacity: each region has some stages, ~30 % of its needs
    needs = np.array([2.15, 1.72, 1.56, 1.56, 0.33, 1.05, 1.0, 0.1])  # activity per t magnet
    has = rng.random((R, P)) < 0.35
    existing = (has * needs[None, :] * base[:, None] * rng.uniform(0.2, 0.8, (R, P)))
    existing = np.repeat(existing[:, :, None], Y, axis=2)

    capex = np.array([_CAPEX[p] for p in PROCESSES])[None, :] * rng.uniform(0.7, 1.3, (R, P))
    offered = rng.random((R, P)) < 0.7
    offered[: max(1, R // 5)] = True  # target regions may build every stage
    offered[:, PROCESSES.index("magnet_making")] = True
    capex = np.where(offered, capex, np.nan)[:, :, None]
    fixed = capex * 0.03
    earliest = (first_year + rng.integers(1, 4, (R, P))).astype(float)[:, :, None]
    rate = (needs[None, :] * base[:, None] * rng.uniform(0.5, 1.5, (R, P)))[:, :, None]
    varopex = np.array([_VAROPEX[p] for p in PROCESSES])[None, :] * rng.uniform(0.8, 1.2, (R, P))

    # external supply: the 'ext' origin is cheap; blocs sell only what members export
    price = np.full((len(origins), len(MATERIALS), Y), np.nan)
    avail = np.full((S, len(origins), len(MATERIALS), Y), np.inf)
    for mat in _TRADEABLE:
        j = MATERIALS.index(mat)
        price[0, j, :] = _EXT_PRICE[mat] * (1 + 0.01 * t)
    base_ext = mag.sum(0)  # scale of the world market, t magnet/yr
    for s in range(1, S):  # disruption: ext availability cut to 0..60 % for a few years
        start = rng.integers(0, Y - 3)
        length = rng.integers(2, 8)
        factor = rng.uniform(0.0, 0.6)
        for mat in _TRADEABLE:
            j = MATERIALS.index(mat)
            avail[s, 0, j, start:start + length] = factor * 2.0 * base_ext[start:start + length]
    prob = np.full(S, 0.5 / max(S - 1, 1))
    prob[0] = 0.5 if S > 1 else 1.0

    region_bloc = rng.integers(0, n_blocs, R)
    allied = np.zeros((R, len(origins)), dtype=bool)
    for i, b in enumerate(region_bloc):
        allied[i, 1 + b] = True
        allied[i, 1 + (b + 1) % n_blocs] = True

    sale_price = np.full((R, len(MATERIALS), Y), np.nan)
    sale_limit = np.full((R, len(MATERIALS), Y), np.inf)
    disposal = np.full((R, len(MATERIALS)), np.nan)
    for mat, pr in (("la", 2_000.0), ("ce", 1_000.0)):
        j = MATERIALS.index(mat)
        sale_price[:, j, :] = pr
        sale_limit[:, j, :] = base[:, None] * rng.uniform(0.5, 2.0, R)[:, None]
        disposal[:, j] = 500.0

    co_rmy = {REGION: regions, MATERIAL: MATERIALS, YEAR: years}
    co_rpo = {REGION: regions, PROCESS: PROCESSES, OPTION: ["generic"]}
    demand_da = xr.DataArray(demand, coords=co_rmy, dims=list(co_rmy))

    # coverage: n_targets regions need 40 % secure magnets from year 7, at every stage
    n_targets = n_targets if n_targets is not None else max(1, R // 5)
    share = np.zeros((R, Y))
    share[:n_targets, 6:] = 0.4
    share_da = xr.DataArray(share, coords={REGION: regions, YEAR: years}, dims=[REGION, YEAR])
    req = upstream_requirements(share_da, demand_da, incoef, outcoef, CHAIN[:5])
    req = req.where(req > 0)

    return PlanInputs(
        demand=demand_da,
        input_coef=incoef,
        output_coef=outcoef,
        existing_capacity=xr.DataArray(existing, coords={REGION: regions, PROCESS: PROCESSES,
                                                         YEAR: years},
                                       dims=[REGION, PROCESS, YEAR]),
        capex=xr.DataArray(capex, coords=co_rpo, dims=list(co_rpo)),
        fixed_opex=xr.DataArray(fixed, coords=co_rpo, dims=list(co_rpo)),
        lifetime=xr.DataArray(np.full(capex.shape, 25.0), coords=co_rpo, dims=list(co_rpo)),
        earliest_year=xr.DataArray(earliest, coords=co_rpo, dims=list(co_rpo)),
        max_build_rate=xr.DataArray(rate, coords=co_rpo, dims=list(co_rpo)),
        var_opex=xr.DataArray(varopex, coords={REGION: regions, PROCESS: PROCESSES},
                              dims=[REGION, PROCESS]),
        import_price=xr.DataArray(price, coords={ORIGIN: origins, MATERIAL: MATERIALS,
                                                 YEAR: years}, dims=[ORIGIN, MATERIAL, YEAR]),
        import_availability=xr.DataArray(
            avail, coords={SCENARIO: scenarios, ORIGIN: origins, MATERIAL: MATERIALS,
                           YEAR: years}, dims=[SCENARIO, ORIGIN, MATERIAL, YEAR]),
        probability=xr.DataArray(prob, coords={SCENARIO: scenarios}, dims=[SCENARIO]),
        allied=xr.DataArray(allied, coords={REGION: regions, ORIGIN: origins},
                            dims=[REGION, ORIGIN]),
        region_origin=xr.DataArray(np.array([blocs[b] for b in region_bloc], dtype=object),
                                   coords={REGION: regions}, dims=[REGION]),
        trade_cost=xr.DataArray(pd.Series(200.0, index=pd.Index(MATERIALS, name=MATERIAL))),
        sale_price=xr.DataArray(sale_price, coords=co_rmy, dims=list(co_rmy)),
        sale_limit=xr.DataArray(sale_limit, coords=co_rmy, dims=list(co_rmy)),
        disposal_cost=xr.DataArray(disposal, coords={REGION: regions, MATERIAL: MATERIALS},
                                   dims=[REGION, MATERIAL]),
        feed_availability=xr.DataArray(scrap, coords=co_rmy, dims=list(co_rmy)),
        coverage_requirement=req,
        tradeable=xr.DataArray([m in _TRADEABLE for m in MATERIALS],
                               coords={MATERIAL: MATERIALS}, dims=[MATERIAL]),
        unmet_penalty=500_000.0,
        discount_rate=0.07,
    )
