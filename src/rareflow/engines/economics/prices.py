"""Monte Carlo price paths for a commodity index (NdPr oxide), annual steps.

Two models, both lognormal:

* ``gbm`` — geometric Brownian motion: ``ln P[t+1] = ln P[t] + drift - σ²/2 + σ ε``,
  so E[P[t+1] | P[t]] = P[t] · e^drift (``drift`` = 0: flat in expectation).
* ``mean_reverting`` — the log price follows an Ornstein–Uhlenbeck process toward
  ``ln(long_run)``, discretised exactly on annual steps:
  ``x[t+1] = m + φ (x[t] - m) + σ √((1 - φ²) / (2κ)) ε`` with φ = e^{-κ}, m = ln long_run;
  ``long_run`` is the median level the price reverts to, κ the speed (1/yr, half-life
  ln2/κ), σ the instantaneous volatility (1/√yr).

Volatility is calibrated from a short annual series with :func:`log_return_stats`; for
the USGS NdPr oxide annual averages 2021–2025e (92, 124, 75, 55, 69 USD/kg) the four log
returns give a sample standard deviation of about 0.395/√yr (ddof = 1). Annual averages
smooth intra-year moves, so this understates point-to-point volatility; four returns
also make it very uncertain (a 90 % interval for σ is roughly 0.25–1.1).

Arrays are ``[sample, year]``; randomness only through the ``rng`` argument; the same
seed gives bit-identical paths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rareflow.engines.economics import _checks as chk

__all__ = ["LogReturnStats", "log_return_stats", "gbm_paths", "mean_reverting_paths"]


@dataclass(frozen=True)
class LogReturnStats:
    """Annual log-return statistics of a price series: ``n`` returns, ``mean`` (1/yr),
    ``volatility`` (sample standard deviation, ddof = 1, 1/√yr), ``geometric_mean_price``
    (USD/kg, the level used as the default long-run median)."""

    n: int
    mean: float
    volatility: float
    geometric_mean_price: float


def log_return_stats(prices: np.ndarray) -> LogReturnStats:
    """Statistics of consecutive annual log returns of ``prices`` [year] (USD/kg, > 0)."""
    p = chk.finite_array(prices, "history", ndim_min=1)
    if p.ndim != 1 or p.size < 3:
        raise chk.fail("history", "needs at least 3 annual prices to estimate a volatility")
    if np.any(p <= 0):
        raise chk.fail("history", "prices must be greater than 0")
    r = np.diff(np.log(p))
    return LogReturnStats(
        n=int(r.size),
        mean=float(r.mean()),
        volatility=float(r.std(ddof=1)),
        geometric_mean_price=float(np.exp(np.log(p).mean())),
    )


def _common(start: float, n_years: int, n_samples: int, volatility: float, lag: int):
    s0 = chk.positive(start, "start")
    N = chk.whole_years(n_years, "n_years", minimum=1)
    S = chk.whole_years(n_samples, "n_samples", minimum=1)
    sig = chk.nonneg(volatility, "volatility")
    if sig > 5:
        raise chk.fail("volatility", f"must be a fraction per √yr, at most 500 % (got {sig!r})")
    L = chk.whole_years(lag, "lag", minimum=0)
    return s0, N, S, sig, L


def gbm_paths(
    rng: np.random.Generator,
    start: float,
    n_years: int,
    n_samples: int,
    volatility: float,
    drift: float = 0.0,
    *,
    lag: int = 0,
) -> np.ndarray:
    """Geometric Brownian motion paths.

    Parameters
    ----------
    rng : np.random.Generator
    start : float, USD/kg — the last observed price.
    n_years, n_samples : int
    volatility : float, 1/√yr (fraction).
    drift : float, 1/yr — expected growth, E[P[t+1]/P[t]] = e^drift.
    lag : int — years between the observation and model year 0 (0: year 0 = ``start``).

    Returns
    -------
    ndarray [sample, year], USD/kg
    """
    s0, N, S, sig, L = _common(start, n_years, n_samples, volatility, lag)
    mu = chk.number(drift, "drift")
    steps = N - 1 + L
    eps = rng.standard_normal((S, steps))
    inc = (mu - 0.5 * sig * sig) + sig * eps
    logp = np.concatenate([np.zeros((S, 1)), np.cumsum(inc, axis=1)], axis=1)[:, L:]
    return s0 * np.exp(logp)


def mean_reverting_paths(
    rng: np.random.Generator,
    start: float,
    n_years: int,
    n_samples: int,
    volatility: float,
    speed: float,
    long_run: float,
    *,
    lag: int = 0,
) -> np.ndarray:
    """Mean-reverting lognormal (exact annual OU on the log price) paths.

    Parameters
    ----------
    rng : np.random.Generator
    start : float, USD/kg — last observed price.
    volatility : float, 1/√yr — instantaneous σ of the log price.
    speed : float, 1/yr — κ > 0 (half-life ln 2 / κ years).
    long_run : float, USD/kg — median level reverted to.
    lag : int — years between the observation and model year 0.

    Returns
    -------
    ndarray [sample, year], USD/kg
    """
    s0, N, S, sig, L = _common(start, n_years, n_samples, volatility, lag)
    k = chk.positive(speed, "speed")
    m = math.log(chk.positive(long_run, "long_run"))
    phi = math.exp(-k)
    sd = sig * math.sqrt((1.0 - phi * phi) / (2.0 * k))
    steps = N - 1 + L
    eps = rng.standard_normal((S, steps))
    x = np.empty((S, steps + 1))
    x[:, 0] = math.log(s0)
    for t in range(steps):
        x[:, t + 1] = m + phi * (x[:, t] - m) + sd * eps[:, t]
    return np.exp(x[:, L:])
