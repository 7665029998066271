"""Summaries of a :class:`StressResult` over samples (pure array work, no I/O)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rareflow.engines.simulate.core import StressResult


def shortfall_share_total(result: StressResult, demand_total: np.ndarray) -> np.ndarray:
    """Cumulative shortfall / cumulative demand over the horizon [sample, destination,
    sector]; ``demand_total`` [sample or 1, destination, sector] t."""
    out = np.zeros_like(result.cumulative_shortfall)
    np.divide(result.cumulative_shortfall, demand_total, out=out, where=demand_total > 0)
    return out


def percentiles(x: np.ndarray, qs: tuple[float, ...] = (5, 50, 95)) -> dict[str, float]:
    v = np.percentile(x, qs, axis=0)
    return {f"p{q:g}": float(val) for q, val in zip(qs, v, strict=True)}


def summarise(result: StressResult, demand_total: np.ndarray) -> dict[str, Any]:
    """``[REGION][SECTOR]`` -> time_to_survive_months, time_to_recover_months and
    shortfall_share as {p5, p50, p95}, p_shortfall (share of samples with any month short),
    p_recovered, cumulative_shortfall_t {p5, p50, p95}, stockpile_needed_t {...} and
    time_to_survive_if_short_months (over the samples that do run short; None if none).

    A time to survive equal to the months left after the disruption start means "never
    short within the horizon" (censored). shortfall_share is cumulative shortfall /
    cumulative demand over the whole horizon."""
    share = shortfall_share_total(result, demand_total)
    out: dict[str, Any] = {}
    dests = result.labels["destinations"]
    sectors = result.labels["sectors"]
    T = result.months
    short_any = result.time_to_survive < (T - result.disruption_start[:, None, None])
    for d, dn in enumerate(dests):
        out[dn] = {}
        for k, kn in enumerate(sectors):
            sk = short_any[:, d, k]
            cond = (percentiles(result.time_to_survive[sk, d, k]) if sk.any()
                    else {"p5": None, "p50": None, "p95": None})
            out[dn][kn] = {
                "time_to_survive_if_short_months": cond,
                "time_to_survive_months": percentiles(result.time_to_survive[:, d, k]),
                "time_to_recover_months": percentiles(result.time_to_recover[:, d, k]),
                "shortfall_share": percentiles(share[:, d, k]),
                "p_shortfall": float(short_any[:, d, k].mean()),
                "p_recovered": float(result.recovered[:, d, k].mean()),
                "cumulative_shortfall_t": percentiles(result.cumulative_shortfall[:, d, k]),
                "stockpile_needed_t": percentiles(result.stockpile_needed[:, d, k].sum(axis=-1)),
            }
    return out
