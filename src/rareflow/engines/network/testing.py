"""Hand-made networks for tests and examples (no scenario, no files)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rareflow.engines.network.inputs import NetworkInputs


def no_policies(S: int, N: int, L: int, D: int) -> dict[str, Any]:
    """Empty stockpile, restriction, outage, shock and delay arrays for ``S`` samples."""
    z = np.zeros((S, 0))
    zi = np.zeros((S, 0), dtype=np.int64)
    return dict(
        sp_pool=np.zeros(0, dtype=np.int64), sp_size=z, sp_max_draw=z, sp_refill=z,
        sp_uses=np.zeros((0, D), dtype=bool), sp_release_below=np.zeros(0),
        rs_links=np.zeros((0, L), dtype=bool), rs_start=zi, rs_end=zi, rs_delay=zi,
        rs_severity=z, rs_exempt=np.zeros((0, D), dtype=bool),
        ou_weight=np.zeros((0, N)), ou_start=zi, ou_end=zi, ou_lost=z,
        sh_uses=np.zeros((0, D), dtype=bool), sh_start=zi, sh_end=zi, sh_mult=z,
        cd_node=np.zeros(0, dtype=np.int64), cd_activity=np.zeros((0, 1)), cd_delay=zi)


def three_region_case(*, ban: bool = True, severity: float | np.ndarray = 1.0,
                      stockpile_t: float | np.ndarray = 0.0, months: int = 8,
                      start: int = 2, end: int = 5) -> NetworkInputs:
    """Three regions, three stages, one element-bearing oxide.

    Region A mines ore (75 t/month) and refines it into oxide (1 t per t of ore); region
    B makes magnets (0.5 t of oxide per t); B's defence (10 t/month, tier 0) and civil
    (40 t/month, tier 1) sectors and C's civil sector (100 t/month) use them. With
    ``ban``, A's oxide exports to B are cut by ``severity`` from month ``start`` to
    ``end`` (exclusive). ``stockpile_t`` (scalar or per sample) is a strategic oxide
    stockpile in B. No pipeline stocks, spare capacity or other origins, so the answer
    is solved by hand (see ``tests/network/test_network_hand_case.py``).

    Pools: 0 A.ore, 1 A.oxide, 2 B.oxide, 3 B.magnet, 4 C.magnet. Nodes: 0 A.mine,
    1 A.refine, 2 B.magnet. Links: 0 A.ore->A.ore, 1 A.oxide->B.oxide,
    2 B.magnet->B.magnet, 3 B.magnet->C.magnet. Uses: 0 B.defence, 1 B.civil, 2 C.civil.
    """
    sev = np.atleast_1d(np.asarray(severity, dtype=float))
    stock = np.atleast_1d(np.asarray(stockpile_t, dtype=float))
    S = max(sev.shape[0], stock.shape[0])
    sev = np.broadcast_to(sev, (S,)).copy()
    stock = np.broadcast_to(stock, (S,)).copy()
    T = months
    K, N, L, D = 5, 3, 4, 3
    ones = np.ones(T)
    pol = no_policies(S, N, L, D)
    if ban:
        pol.update(rs_links=np.array([[False, True, False, False]]),
                   rs_start=np.full((S, 1), start), rs_end=np.full((S, 1), end),
                   rs_delay=np.zeros((S, 1), dtype=np.int64), rs_severity=sev[:, None],
                   rs_exempt=np.zeros((1, D), dtype=bool))
    if np.any(stock > 0):
        pol.update(sp_pool=np.array([2]), sp_size=stock[:, None],
                   sp_max_draw=np.full((S, 1), np.inf), sp_refill=np.zeros((S, 1)),
                   sp_uses=np.ones((1, D), dtype=bool), sp_release_below=np.ones(1))
    return NetworkInputs(
        n_samples=S, months=T, n_regions=3, n_materials=3,
        pool_region=np.array([0, 0, 1, 1, 2]), pool_material=np.array([0, 1, 1, 2, 2]),
        pool_level=np.array([0, 1, 1, 2, 2]),
        node_region=np.array([0, 0, 1]), node_process=np.array([0, 1, 2]),
        node_level=np.array([0, 1, 2]),
        planned=np.array([75 * ones, 75 * ones, 150 * ones]), nameplate=np.zeros((N, T)),
        in_node=np.array([1, 2]), in_pool=np.array([0, 2]), in_coef=np.array([1.0, 0.5]),
        in_tier=np.array([1, 1]),
        out_node=np.array([0, 1, 2]), out_pool=np.array([0, 1, 3]),
        out_coef=np.array([1.0, 1.0, 1.0]),
        node_main_pool=np.array([0, 1, 3]), node_main_coef=np.array([1.0, 1.0, 1.0]),
        node_main_share=np.ones((N, T)),
        use_pool=np.array([3, 3, 4]), use_sector=np.array([0, 1, 1]),
        use_tier=np.array([0, 1, 1]),
        demand=np.array([10 * ones, 40 * ones, 100 * ones]), exogenous=np.zeros((K, T)),
        link_src=np.array([0, 1, 3, 3]), link_dst=np.array([0, 2, 3, 4]),
        link_share=np.ones((L, T)), in_months=np.zeros(2), use_months=np.zeros((S, D)),
        producer_stock=np.zeros(K),
        groups=np.array([0, 1, 2]), n_groups=3,
        spare=np.zeros(S), resourcing_months=np.full(S, 3.0), deferral=np.zeros(S),
        disruption_start=np.full(S, start if ban else 0, dtype=np.int64),
        refill_share=0.25, tolerance=0.001, **pol)
