"""NPV, IRR, payback and DSCR against numpy-financial and hand calculations."""

from __future__ import annotations

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rareflow.engines.economics import dscr, irr, npv, payback
from rareflow.errors import RareflowInputError

flows = st.lists(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), min_size=1, max_size=30
)


@settings(max_examples=60, deadline=None)
@given(rate=st.floats(-0.5, 2.0), values=flows)
def test_npv_matches_numpy_financial(rate, values):
    assert float(npv(rate, values)) == pytest.approx(npf.npv(rate, values), rel=1e-9, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    invest=st.floats(1.0, 1e6),
    inflows=st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 1e6)), min_size=1, max_size=25),
)
def test_irr_matches_numpy_financial_on_conventional_flows(invest, inflows):
    """One sign change (-, +, +, ...): a unique IRR, which both must find."""
    values = [-invest, *inflows]
    expected = npf.irr(values)
    got = irr(values)
    if np.isnan(expected) or expected < -0.99 or expected > 100:
        # outside our search range (or no root): NaN with a reason
        assert np.isnan(got.rate) or got.rate == pytest.approx(expected, rel=1e-6)
        return
    assert float(got.rate) == pytest.approx(expected, rel=1e-6, abs=1e-9)
    if not got.reason:
        assert got.n_roots == 1


@pytest.mark.parametrize(
    "values",
    [[-100, 39, 59, 55, 20], [-100, 0, 0, 74], [-100, 100, 0, 7], [-1000, 0, 0, 0, 2000],
     [-5, 10.5, 1, -8, 1], [-100, 100, 0, -7]],
)
def test_irr_fixed_cases_match_numpy_financial(values):
    assert float(irr(values)) == pytest.approx(npf.irr(values), rel=1e-8)


def test_irr_fixed_case_hand():
    """-100 then +110: IRR exactly 10 %."""
    assert float(irr([-100.0, 110.0])) == pytest.approx(0.10, abs=1e-12)


def test_irr_without_sign_change_is_nan_with_reason():
    r = irr(np.array([[1.0, 2.0, 3.0], [-1.0, -2.0, 0.0], [-100.0, 110.0, 0.0]]))
    assert np.isnan(r.rate[0]) and "no sign change" in r.reason[0]
    assert np.isnan(r.rate[1]) and "no sign change" in r.reason[1]
    assert r.rate[2] == pytest.approx(0.1) and r.reason[2] == ""


def test_irr_multiple_roots_reported():
    r = irr([-100, 230, -132])  # roots 10 % and 20 %
    assert float(r) == pytest.approx(0.10, rel=1e-9)
    assert r.n_roots == 2 and "2 rates" in str(r.reason)


def test_irr_vectorised_matches_rowwise():
    rng = np.random.default_rng(3)
    v = np.concatenate([-rng.uniform(50, 150, (3000, 1)), rng.uniform(0, 40, (3000, 12))], axis=1)
    r = irr(v)
    for i in (0, 1500, 2999):
        assert r.rate[i] == pytest.approx(npf.irr(v[i]), rel=1e-8)


def test_payback_hand_cases():
    """[-100, 60, 60]: cumulative -100, -40, +20 -> 1 + 40/60 = 1.667 yr.
    Never recovers -> NaN; never negative -> 0; discounted at 10 %: -100, 54.55, 49.59 ->
    cumulative -45.45, +4.13 -> 1 + 45.45/49.59 = 1.9167."""
    assert float(payback([-100, 60, 60])) == pytest.approx(1 + 40 / 60)
    assert np.isnan(payback([-100, 10, 10]))
    assert float(payback([5, 10])) == 0.0
    expected = 1 + (100 - 60 / 1.1) / (60 / 1.21)
    assert float(payback([-100, 60, 60], rate=0.1)) == pytest.approx(expected)


def test_dscr_hand_case():
    """CFADS 0, 120, 150, 90; debt service 0, 100, 100, 100 (year 0: construction).
    DSCR 1.2, 1.5, 0.9 -> minimum 0.9, average 1.2."""
    r = dscr(np.array([0.0, 120, 150, 90]), np.array([0.0, 100, 100, 100]))
    assert np.isnan(r.per_year[0])
    np.testing.assert_allclose(r.per_year[1:], [1.2, 1.5, 0.9])
    assert float(r.minimum) == pytest.approx(0.9)
    assert float(r.average) == pytest.approx(1.2)
    m = dscr(np.array([[0.0, 120, 150, 90]]), np.array([50.0, 100, 100, 100]),
             mask=np.array([False, True, True, True]))
    assert float(m.minimum[0]) == pytest.approx(0.9)


def test_metric_errors_name_argument():
    with pytest.raises(RareflowInputError) as ei:
        npv(-1.5, [1.0, 2.0])
    assert ei.value.problems[0].path == "rate"
    with pytest.raises(RareflowInputError) as ei:
        irr([1.0, np.nan])
    assert ei.value.problems[0].path == "values"
