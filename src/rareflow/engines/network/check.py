"""Monthly mass balance of a traced network run, recomputed from its outputs alone.

The check does not read the solve's own bookkeeping: from the recorded activities,
shipments, final deliveries, stockpile releases and refills and the recipes (``in_coef``,
``out_coef``), it rebuilds what each pool's stocks must be at the end of every month and
compares them with the recorded stocks:

    producer_stock[t] = producer_stock[t-1] + sum(activity x out_coef) - sum(shipments out)
    user_stock[t]     = user_stock[t-1] + sum(shipments in) + exogenous
                        - sum(activity x in_coef) - served + release - refill
    stockpile[t]      = stockpile[t-1] - release + refill

and that no stock or flow is negative.
"""

from __future__ import annotations

import numpy as np

from rareflow.engines.network.inputs import NetworkInputs, Scatter


class MassBalanceError(AssertionError):
    """A traced network run does not balance."""


def mass_balance_residual(inp: NetworkInputs, trace: dict[str, np.ndarray]) -> float:
    """Largest relative monthly residual over samples, months and pools (see module)."""
    K = inp.K
    act = trace["activity"]                       # [S, T, N]
    S, T, _ = act.shape
    flat = act.reshape(S * T, -1)
    prod = Scatter(inp.out_pool, K)(flat[:, inp.out_node] * inp.out_coef[None, :])
    cons = Scatter(inp.in_pool, K)(flat[:, inp.in_node] * inp.in_coef[None, :])
    ship = trace["ship"].reshape(S * T, -1)
    out = Scatter(inp.link_src, K)(ship)
    into = Scatter(inp.link_dst, K)(ship)
    served = Scatter(inp.use_pool, K)(trace["served"].reshape(S * T, -1))
    Q = inp.sp_pool.shape[0]
    rel = Scatter(inp.sp_pool, K)(trace["release"].reshape(S * T, Q)) if Q else 0.0
    ref = Scatter(inp.sp_pool, K)(trace["refill"].reshape(S * T, Q)) if Q else 0.0
    exo = trace["exogenous"].reshape(S * T, -1)

    def prev(name: str, init: str) -> np.ndarray:
        x = trace[name]
        return np.concatenate([trace[init][:, None], x[:, :-1]], axis=1).reshape(S * T, -1)

    ps = trace["producer_stock"].reshape(S * T, -1)
    us = trace["user_stock"].reshape(S * T, -1)
    r_ps = ps - (prev("producer_stock", "initial_producer_stock") + prod - out)
    r_us = us - (prev("user_stock", "initial_user_stock") + into + exo - cons - served
                 + rel - ref)
    scale = 1.0 + np.maximum(np.abs(ps), np.abs(us)).max(axis=0, initial=0.0)[None, :]
    worst = max(float(np.max(np.abs(r_ps) / scale, initial=0.0)),
                float(np.max(np.abs(r_us) / scale, initial=0.0)))
    if Q:
        sp = trace["stockpile"].reshape(S * T, Q)
        r_sp = sp - (prev("stockpile", "initial_stockpile") - trace["release"].reshape(S * T, Q)
                     + trace["refill"].reshape(S * T, Q))
        worst = max(worst, float(np.max(np.abs(r_sp) / (1.0 + np.abs(sp)), initial=0.0)))
    neg = min(float(ps.min(initial=0.0)), float(us.min(initial=0.0)),
              float(ship.min(initial=0.0)), float(flat.min(initial=0.0)))
    if neg < -1e-6:
        worst = max(worst, -neg)
    return worst


def check_mass_balance(inp: NetworkInputs, trace: dict[str, np.ndarray],
                       rtol: float = 1e-9) -> float:
    """Raise :class:`MassBalanceError` when :func:`mass_balance_residual` exceeds ``rtol``."""
    r = mass_balance_residual(inp, trace)
    if not r <= rtol:
        raise MassBalanceError(f"network mass balance broken: largest monthly residual "
                               f"{r:.3g} (relative) > {rtol:g}")
    return r
