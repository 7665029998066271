"""Quantile summaries of a :class:`NetworkResult` (arrays in, plain dicts out)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rareflow.engines.network.core import NetworkResult

QUANTILES = {"p5": 0.05, "p50": 0.5, "p95": 0.95}


def quantiles(x: np.ndarray, keys: tuple[str, ...] = ("p5", "p50", "p95")) -> dict[str, float]:
    """``{"p5", "p50", "p95"}`` of a 1-D sample (linear interpolation)."""
    q = np.quantile(np.asarray(x, dtype=float), [QUANTILES[k] for k in keys])
    return {k: float(v) for k, v in zip(keys, q, strict=True)}


def group_summary(res: NetworkResult, labels: tuple[tuple[str, str], ...]
                  ) -> dict[str, dict[str, Any]]:
    """``[region][sector]`` -> p_shortfall, time to survive / recover, shortfall share,
    cumulative loss (quantiles over samples)."""
    tts = res.time_to_survive()
    ttr = res.time_to_recover()
    share = res.shortfall_share()
    out: dict[str, dict[str, Any]] = {}
    for g, (region, sector) in enumerate(labels):
        short = res.first_short[:, g] >= 0
        out.setdefault(region, {})[sector] = {
            "p_shortfall": float(short.mean()),
            "time_to_survive_months": quantiles(tts[:, g]),
            "time_to_recover_months": quantiles(ttr[:, g]),
            "shortfall_share": quantiles(share[:, g]),
            "cumulative_loss_t": quantiles(res.cum_loss[:, g]),
            "demand_t": float(res.cum_demand[:, g].mean()),
        }
    return out


def stockpile_summary(res: NetworkResult, pool_labels: list[tuple[str, str]],
                      min_t: float = 0.5) -> dict[str, dict[str, dict[str, float]]]:
    """``[region][material]`` -> ``{"p50", "p95"}`` t of the pool's cumulative deficit
    (entries whose p95 is above ``min_t``)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for k, (region, material) in enumerate(pool_labels):
        q = quantiles(res.deficit[:, k], ("p50", "p95"))
        if q["p95"] > min_t:
            out.setdefault(region, {})[material] = q
    return out


def trade_summary(res: NetworkResult, links: list[tuple[str, str, str]],
                  month_labels: list[str], min_t: float = 1e-6
                  ) -> dict[str, dict[str, dict[str, dict[str, dict[str, float]]]]]:
    """``[origin][destination][material][YYYY-MM]`` -> ``{"p5", "p50", "p95"}`` t of the
    recorded links (``links[i]`` labels ``res.trade[..., i]``), with ``world`` = the sum
    over an origin's export destinations."""
    assert res.trade is not None
    tr = res.trade                                   # [S, T, l]
    qs = np.quantile(tr, [0.05, 0.5, 0.95], axis=0)  # [3, T, l]
    out: dict[str, Any] = {}

    def put(o: str, d: str, m: str, q: np.ndarray) -> None:
        if q[2].max(initial=0.0) <= min_t:
            return
        out.setdefault(o, {}).setdefault(d, {})[m] = {
            month_labels[t]: {"p5": float(q[0, t]), "p50": float(q[1, t]),
                              "p95": float(q[2, t])} for t in range(tr.shape[1])}

    for i, (o, d, m) in enumerate(links):
        put(o, d, m, qs[:, :, i])
    world: dict[tuple[str, str], list[int]] = {}
    for i, (o, d, m) in enumerate(links):
        if o != d:
            world.setdefault((o, m), []).append(i)
    for (o, m), idx in world.items():
        put(o, "world", m, np.quantile(tr[:, :, idx].sum(axis=2), [0.05, 0.5, 0.95], axis=0))
    return out
