"""Price paths: calibration, statistical properties, seed reproducibility."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rareflow.engines.economics import gbm_paths, log_return_stats, mean_reverting_paths
from rareflow.errors import RareflowInputError

USGS_NDPR = [92.0, 124.0, 75.0, 55.0, 69.0]  # 2021-2025e, USD/kg (ree-facts §7)


def test_volatility_calibrated_from_usgs_ndpr_series():
    """Log returns: ln(124/92)=0.29849, ln(75/124)=-0.50282, ln(55/75)=-0.31015,
    ln(69/55)=0.22677; mean = ln(69/92)/4 = -0.07192; sample sd (ddof=1) = 0.39532."""
    s = log_return_stats(USGS_NDPR)
    assert s.n == 4
    assert s.mean == pytest.approx(-0.071921, abs=1e-5)
    assert s.volatility == pytest.approx(0.395319, abs=1e-5)
    assert s.geometric_mean_price == pytest.approx(79.854, abs=1e-2)


def test_same_seed_bit_identical_different_seed_differs():
    a = gbm_paths(np.random.default_rng(7), 69.0, 12, 500, 0.4)
    b = gbm_paths(np.random.default_rng(7), 69.0, 12, 500, 0.4)
    c = gbm_paths(np.random.default_rng(8), 69.0, 12, 500, 0.4)
    assert a.tobytes() == b.tobytes()
    assert not np.array_equal(a, c)
    m1 = mean_reverting_paths(np.random.default_rng(7), 69.0, 12, 500, 0.4, 0.3, 80.0)
    m2 = mean_reverting_paths(np.random.default_rng(7), 69.0, 12, 500, 0.4, 0.3, 80.0)
    assert m1.tobytes() == m2.tobytes()


def test_gbm_expectation_and_log_variance():
    """E[P_t] = P0·e^{μt}; Var[ln P_t] = σ² t."""
    p = gbm_paths(np.random.default_rng(0), 69.0, 6, 200_000, 0.4, drift=0.02)
    assert p.shape == (200_000, 6) and np.all(p[:, 0] == 69.0)
    t = 5
    assert p[:, t].mean() == pytest.approx(69.0 * math.exp(0.02 * t), rel=0.02)
    assert np.log(p[:, t]).var() == pytest.approx(0.16 * t, rel=0.02)


def test_mean_reverting_moments():
    """Exact OU on ln P: E[x_t] = m + e^{-κt}(x0 - m); Var = σ²(1 - e^{-2κt})/(2κ)."""
    k, sig, lr = 0.3, 0.4, 80.0
    p = mean_reverting_paths(np.random.default_rng(1), 55.0, 11, 200_000, sig, k, lr)
    x = np.log(p[:, 10])
    m = math.log(lr)
    assert x.mean() == pytest.approx(m + math.exp(-k * 10) * (math.log(55.0) - m), abs=0.01)
    assert x.var() == pytest.approx(sig**2 * (1 - math.exp(-2 * k * 10)) / (2 * k), rel=0.02)


def test_lag_skips_years_between_observation_and_model_start():
    p = gbm_paths(np.random.default_rng(0), 69.0, 3, 10, 0.0, lag=1)
    np.testing.assert_allclose(p, 69.0)
    p = gbm_paths(np.random.default_rng(0), 69.0, 3, 10, 0.3, lag=1)
    assert not np.any(p[:, 0] == 69.0)


def test_bad_price_inputs():
    with pytest.raises(RareflowInputError) as ei:
        log_return_stats([92.0, 124.0])
    assert ei.value.problems[0].path == "history"
    with pytest.raises(RareflowInputError) as ei:
        mean_reverting_paths(np.random.default_rng(0), 69.0, 3, 10, 0.4, -0.1, 80.0)
    assert ei.value.problems[0].path == "speed"
