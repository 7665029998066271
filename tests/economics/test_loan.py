"""Loan schedules against hand calculations."""

from __future__ import annotations

import numpy as np
import pytest

from rareflow.engines.economics import draw_schedule, loan_schedule
from rareflow.errors import RareflowInputError


def test_level_loan_with_capitalised_grace_matches_hand_calculation():
    """Loan of 100 drawn 60 then 40, 10 %/yr, tenor 4 yr with 2 yr grace, interest
    capitalised during grace, then level repayment over 2 years.

    Hand calculation (draws at the start of the year, interest at the end):
      year 0: 0 + 60 = 60, interest 6.0 capitalised        -> closing 66.0
      year 1: 66 + 40 = 106, interest 10.6 capitalised     -> closing 116.6
      level payment A = 116.6 · 0.1 / (1 - 1.1^-2) = 116.6 · 0.5761904762 = 67.1838095
      year 2: interest 11.66, principal 67.1838095 - 11.66 = 55.5238095 -> closing 61.0761905
      year 3: interest 6.10761905, principal 61.0761905 -> closing 0
    """
    s = loan_schedule(np.array([60.0, 40.0]), 0.10, 4, 2, grace_interest="capitalise")
    np.testing.assert_allclose(s.interest, [6.0, 10.6, 11.66, 6.10761905], rtol=1e-8)
    np.testing.assert_allclose(s.interest_capitalised, [6.0, 10.6, 0, 0], rtol=1e-12)
    np.testing.assert_allclose(s.principal, [0, 0, 55.5238095, 61.0761905], rtol=1e-8)
    np.testing.assert_allclose(s.debt_service, [0, 0, 67.1838095, 67.1838095], rtol=1e-8)
    np.testing.assert_allclose(s.closing, [66.0, 116.6, 61.0761905, 0.0], rtol=1e-8, atol=1e-12)


def test_interest_only_grace_and_linear_amortisation_hand_case():
    """100 drawn at once, 5 %/yr, tenor 3, grace 1 paid in cash, linear repayment:
    year 0: interest 5 paid; year 1: interest 5, principal 50; year 2: interest 2.5,
    principal 50. Debt service 5, 55, 52.5."""
    s = loan_schedule([100.0], 0.05, 3, 1, grace_interest="pay", amortisation="linear")
    np.testing.assert_allclose(s.debt_service, [5.0, 55.0, 52.5])
    np.testing.assert_allclose(s.principal, [0.0, 50.0, 50.0])
    np.testing.assert_allclose(s.interest_capitalised, 0.0)


def test_zero_rate_level_and_start_offset():
    s = loan_schedule([90.0], 0.0, 3, 0, n_years=6, start=2)
    np.testing.assert_allclose(s.debt_service, [0, 0, 30, 30, 30, 0])
    assert s.closing[-1] == 0


def test_sculpted_payments_follow_profile_and_repay_the_loan():
    profile = np.array([0.0, 0.0, 10.0, 20.0, 30.0])
    s = loan_schedule([100.0], 0.08, 4, 1, n_years=5, start=1, amortisation="sculpted",
                      profile=profile)
    ds = s.debt_service[2:]
    np.testing.assert_allclose(ds / ds[0], [1.0, 2.0, 3.0], rtol=1e-10)
    assert abs(s.closing[-1]) < 1e-9
    # sculpted payments have the PV of the balance after grace (108 capitalised)
    np.testing.assert_allclose(ds @ 1.08 ** -np.arange(1, 4), 108.0, rtol=1e-12)


def test_draw_schedule_splits_by_milestone_shares():
    np.testing.assert_allclose(draw_schedule(620e6, [0.35, 0.35, 0.30]), [217e6, 217e6, 186e6])
    with pytest.raises(RareflowInputError, match="100 %"):
        draw_schedule(1.0, [0.5, 0.4])


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"tenor": -5}, "tenor"),
        ({"tenor": 2.5}, "tenor"),
        ({"rate": 1.5}, "rate"),
        ({"rate": -0.01}, "rate"),
        ({"grace": 4}, "grace"),
        ({"draws": [10.0, 0, 0, 5.0]}, "draws"),
        ({"draws": [-1.0]}, "draws"),
        ({"amortisation": "balloon"}, "amortisation"),
        ({"amortisation": "sculpted"}, "profile"),
        ({"n_years": 2}, "tenor"),
    ],
)
def test_bad_loan_inputs_name_the_argument(kwargs, path):
    args = {"draws": [100.0], "rate": 0.05, "tenor": 4, "grace": 1}
    args.update(kwargs)
    with pytest.raises(RareflowInputError) as ei:
        loan_schedule(**args)
    assert ei.value.problems[0].path == path


def test_inputs_not_mutated():
    d = np.array([60.0, 40.0])
    loan_schedule(d, 0.1, 4, 2)
    np.testing.assert_array_equal(d, [60.0, 40.0])
