"""The arrays the network engine takes (:class:`NetworkInputs`), and its index helpers.

Axis names used below: ``sample`` (S), ``month`` (T), ``pool`` (K: one region's stock of
one material), ``node`` (N: one region's process), ``input`` (J: one node's use of one
input pool), ``output`` (B: one node's output into a pool), ``use`` (D: one region's
sector's final demand of one material), ``link`` (L: origin pool -> destination pool of
the same material), ``stockpile`` (Q), ``restriction`` (X), ``outage`` (O), ``shock``
(H), ``delay`` (C). Quantities are t/month (flows) and t (stocks). Per-sample parameters
are arrays whose first axis is ``sample``; everything else is shared by all samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

INF_MONTH = 10**6


@dataclass(frozen=True)
class NetworkInputs:
    """A monthly world network (see the module docstring for the axes).

    Structure (shared by every sample)
    ----------------------------------
    pool_region, pool_material, pool_level : int [K]
    node_region, node_process, node_level : int [N]
    planned : [N, T] t/month of activity the static balance gives each node
    nameplate : [N, T] t/month of activity capacity of named facilities (0: none)
    in_node, in_pool : int [J]; in_coef : [J] t of input per unit of activity;
        in_tier : int [J] (the allocation tier of the node's use); sorted by node
    out_node, out_pool : int [B]; out_coef : [B] t of output per unit of activity
    node_main_pool : int [N]; node_main_coef : [N]; node_main_share : [N, T] share of
        the node in its main output pool's planned production (spreads extra orders)
    use_pool, use_sector, use_tier : int [D]; demand : [D, T] t/month
    exogenous : [K, T] t/month supply the static balance cannot attribute (its unmet
        and unrecorded flows), delivered to the pool's users every month
    link_src, link_dst : int [L] pools; link_share : [L, T] the base-year share of the
        destination pool's purchases from the link (0 on re-sourcing candidates)
    in_months : [J] months of a plant's input use its region keeps in pipeline stock
    producer_stock : [K] t producers hold at the start
    refill_share : share of a pool's target refilled per month at most
    groups : int [D] -> (region, sector) group of each use; group_region, group_sector
    tolerance : shortfall share counted as short

    Per sample
    ----------
    spare : [S] spare capacity share over planned activity
    use_months : [S, D] months of each use's demand its users keep in pipeline stock (the
        pool's target is the sum over its uses and plants' inputs of months x base use)
    resourcing_months : [S] months for a buyer to move an unfilled order elsewhere
    deferral : [S] share of unmet final demand deferred to the next month
    sp_pool : int [Q]; sp_size : [S, Q] t; sp_max_draw, sp_refill : [S, Q] t/month;
        sp_uses : bool [Q, D] (uses a stockpile may serve); sp_release_below : [Q]
    rs_links : bool [X, L]; rs_start, rs_end, rs_delay : int [S, X] months;
        rs_severity : [S, X]; rs_exempt : bool [X, D] (uses whose flow passes)
    ou_weight : [O, N] share of a node's capacity in the outage; ou_start, ou_end :
        int [S, O]; ou_lost : [S, O]
    sh_uses : bool [H, D]; sh_start, sh_end : int [S, H]; sh_mult : [S, H]
    cd_node : int [C]; cd_activity : [C, T] the facility's planned activity;
        cd_delay : int [S, C] months
    """

    n_samples: int
    months: int
    n_regions: int
    n_materials: int
    pool_region: np.ndarray
    pool_material: np.ndarray
    pool_level: np.ndarray
    node_region: np.ndarray
    node_process: np.ndarray
    node_level: np.ndarray
    planned: np.ndarray
    nameplate: np.ndarray
    in_node: np.ndarray
    in_pool: np.ndarray
    in_coef: np.ndarray
    in_tier: np.ndarray
    out_node: np.ndarray
    out_pool: np.ndarray
    out_coef: np.ndarray
    node_main_pool: np.ndarray
    node_main_coef: np.ndarray
    node_main_share: np.ndarray
    use_pool: np.ndarray
    use_sector: np.ndarray
    use_tier: np.ndarray
    demand: np.ndarray
    exogenous: np.ndarray
    link_src: np.ndarray
    link_dst: np.ndarray
    link_share: np.ndarray
    in_months: np.ndarray
    use_months: np.ndarray
    producer_stock: np.ndarray
    groups: np.ndarray
    n_groups: int
    spare: np.ndarray
    resourcing_months: np.ndarray
    deferral: np.ndarray
    sp_pool: np.ndarray
    sp_size: np.ndarray
    sp_max_draw: np.ndarray
    sp_refill: np.ndarray
    sp_uses: np.ndarray
    sp_release_below: np.ndarray
    rs_links: np.ndarray
    rs_start: np.ndarray
    rs_end: np.ndarray
    rs_delay: np.ndarray
    rs_severity: np.ndarray
    rs_exempt: np.ndarray
    ou_weight: np.ndarray
    ou_start: np.ndarray
    ou_end: np.ndarray
    ou_lost: np.ndarray
    sh_uses: np.ndarray
    sh_start: np.ndarray
    sh_end: np.ndarray
    sh_mult: np.ndarray
    cd_node: np.ndarray
    cd_activity: np.ndarray
    cd_delay: np.ndarray
    refill_share: float = 0.25
    tolerance: float = 0.001
    disruption_start: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))

    @property
    def K(self) -> int:
        return int(self.pool_region.shape[0])

    @property
    def N(self) -> int:
        return int(self.node_region.shape[0])

    @property
    def L(self) -> int:
        return int(self.link_src.shape[0])

    @property
    def D(self) -> int:
        return int(self.use_pool.shape[0])

    def targets(self) -> np.ndarray:
        """[S, K, T] pipeline-stock targets (t)."""
        S, T = self.use_months.shape[0], self.months
        out = np.zeros((S, self.K, T))
        for d in range(self.D):
            out[:, self.use_pool[d], :] += self.use_months[:, d, None] * self.demand[d][None, :]
        for j in range(self.in_node.shape[0]):
            if self.in_months[j]:
                out[:, self.in_pool[j], :] += (self.in_months[j] * self.in_coef[j]
                                               * self.planned[self.in_node[j]])[None, :]
        return out

    def take(self, lo: int, hi: int) -> NetworkInputs:
        """Samples ``lo:hi`` (per-sample arrays sliced; the rest shared)."""
        upd: dict[str, Any] = {"n_samples": hi - lo}
        for f in fields(self):
            if f.name in PER_SAMPLE:
                upd[f.name] = getattr(self, f.name)[lo:hi]
        return replace(self, **upd)


PER_SAMPLE = frozenset({
    "spare", "use_months", "resourcing_months", "deferral", "sp_size", "sp_max_draw", "sp_refill",
    "rs_start", "rs_end", "rs_delay", "rs_severity", "ou_start", "ou_end", "ou_lost",
    "sh_start", "sh_end", "sh_mult", "cd_delay", "disruption_start"})


class Scatter:
    """Sum the columns of ``x[sample, item]`` into ``size`` bins by ``index[item]``.

    Row by row, in a fixed order (``np.add.reduceat`` over a stable sort), so a sample's
    result does not depend on which other samples share its chunk.
    """

    def __init__(self, index: np.ndarray, size: int) -> None:
        index = np.asarray(index, dtype=np.int64)
        self.size = int(size)
        self.perm = np.argsort(index, kind="stable")
        srt = index[self.perm]
        self.bins, self.starts = np.unique(srt, return_index=True)
        self.n = int(index.shape[0])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros((x.shape[0], self.size))
        if self.n:
            out[:, self.bins] = np.add.reduceat(x[:, self.perm], self.starts, axis=1)
        return out


class GroupMin:
    """Minimum of ``x[sample, item]`` per group of consecutive items (index sorted)."""

    def __init__(self, index: np.ndarray, size: int) -> None:
        index = np.asarray(index, dtype=np.int64)
        if index.size and np.any(np.diff(index) < 0):
            raise ValueError("GroupMin needs a sorted index")
        self.size = int(size)
        self.bins, self.starts = np.unique(index, return_index=True)
        self.n = int(index.shape[0])

    def __call__(self, x: np.ndarray, empty: float = 1.0) -> np.ndarray:
        out = np.full((x.shape[0], self.size), empty)
        if self.n:
            out[:, self.bins] = np.minimum.reduceat(x, self.starts, axis=1)
        return out
