"""Black–Scholes warrant values against closed-form hand values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rareflow.engines.economics import black_scholes_call, preferred_schedule, warrant_value
from rareflow.errors import RareflowInputError


def _hand_bs(S, K, T, sig, r):
    d1 = (math.log(S / K) + (r + sig * sig / 2) * T) / (sig * math.sqrt(T))
    d2 = d1 - sig * math.sqrt(T)
    N = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    return S * N(d1) - K * math.exp(-r * T) * N(d2)


def test_black_scholes_textbook_values():
    """S=100, K=100, T=1, σ=20 %, r=5 %: d1 = 0.35, d2 = 0.15,
    C = 100·N(0.35) - 100·e^-0.05·N(0.15) = 63.683 - 53.232 = 10.4506.
    Hull's example S=42, K=40, r=10 %, σ=20 %, T=0.5: C = 4.76."""
    assert float(black_scholes_call(100, 100, 1, 0.2, 0.05)) == pytest.approx(10.4506, abs=1e-4)
    assert float(black_scholes_call(42, 40, 0.5, 0.2, 0.1)) == pytest.approx(4.7594, abs=1e-4)


def test_black_scholes_vectorised_matches_hand_formula_and_parity():
    S = np.array([10.0, 30.03, 80.0])
    c = black_scholes_call(S, 30.03, 10, 0.6, 0.043)
    for s_, c_ in zip(S, c, strict=True):
        assert c_ == pytest.approx(_hand_bs(s_, 30.03, 10, 0.6, 0.043), rel=1e-10)
    # bounds: max(S - K e^-rT, 0) <= C <= S
    assert np.all(c >= np.maximum(S - 30.03 * math.exp(-0.43), 0) - 1e-12) and np.all(c <= S)


def test_warrant_value_with_dilution_hand_case():
    """1 M warrants on 9 M shares: dilution N/(N+n) = 0.9; per warrant 0.9 · 10.4506."""
    v = warrant_value(100, 100, 1e6, 1, 0.2, 0.05, shares_outstanding=9e6)
    assert v["dilution_factor"] == pytest.approx(0.9)
    assert v["per_warrant"] == pytest.approx(0.9 * 10.450584, rel=1e-6)
    assert v["total"] == pytest.approx(1e6 * 0.9 * 10.450584, rel=1e-6)


@pytest.mark.parametrize(
    ("args", "path"),
    [((0, 100, 1, 0.2, 0.05), "spot"), ((100, 100, -1, 0.2, 0.05), "maturity"),
     ((100, 100, 1, 0, 0.05), "volatility"), ((100, 100, 1, 0.2, 2.0), "rate")],
)
def test_bad_black_scholes_input(args, path):
    with pytest.raises(RareflowInputError) as ei:
        black_scholes_call(*args)
    assert ei.value.problems[0].path == path


def test_preferred_pik_and_cash_hand_case():
    """400 at 7 %: cash dividends 28/yr; PIK compounds 400 → 428 → 457.96."""
    cash = preferred_schedule(400.0, 0.07, 3, start=1)
    np.testing.assert_allclose(cash.dividend_cash, [0, 28, 28])
    pik = preferred_schedule(400.0, 0.07, 3, pik=True)
    np.testing.assert_allclose(pik.balance, [428.0, 457.96, 490.0172])
    assert not pik.dividend_cash.any()
