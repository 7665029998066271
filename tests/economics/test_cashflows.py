"""Facility cash flows, depreciation and taxes against hand calculations."""

from __future__ import annotations

import numpy as np
import pytest

from rareflow.engines.economics import (
    depreciation,
    facility_cash_flows,
    income_tax,
    straight_line,
    utilisation_path,
)


def test_income_tax_loss_carry_forward_with_limit_hand_case():
    """Income -100, 50, 200 at 20 % with carried losses offsetting at most 80 %:
    year 0: loss 100 carried, tax 0; year 1: offset min(100, 40) = 40, tax 0.2·10 = 2,
    carried 60; year 2: offset min(60, 160) = 60, tax 0.2·140 = 28."""
    tax, carried = income_tax(np.array([-100.0, 50.0, 200.0]), 0.2, loss_offset_limit=0.8)
    np.testing.assert_allclose(tax, [0.0, 2.0, 28.0])
    np.testing.assert_allclose(carried, [100.0, 60.0, 0.0])


def test_depreciation_starts_at_operation():
    """Capex 100 in year 0 and 50 in year 1, in service at year 2, 2-year straight line:
    150 placed in year 2 -> 75 in years 2 and 3."""
    d = depreciation(np.array([100.0, 50.0, 0, 0, 0]), straight_line(2), 2)
    np.testing.assert_allclose(d, [0, 0, 75, 75, 0])


def test_utilisation_ramp_holds_last_value():
    np.testing.assert_allclose(utilisation_path([0.5, 0.9], 5, 2), [0, 0, 0.5, 0.9, 0.9])


def test_facility_cash_flows_hand_case():
    """1,000 t/yr plant, capex 10 MUSD in year 0, operation from year 1 at 50 % then
    100 %, one product at 20 USD/kg, feed 0.5 t/t at 4 USD/kg, fixed opex 1 MUSD/yr,
    variable 2,000 USD/t, no tax, no working capital.

      year 1: output 500 t; revenue 500·20·1000 = 10 M; feed 500·0.5·4·1000 = 1 M;
              opex 1 M + 1 M = 2 M; EBITDA 7 M
      year 2: output 1,000 t; revenue 20 M; feed 2 M; opex 3 M; EBITDA 15 M
      project FCF = -10, 7, 15 (M)
    """
    N = 3
    cf = facility_cash_flows(
        capacity=1000.0,
        utilisation=utilisation_path([0.5, 1.0], N, 1),
        product_yield=np.array([1.0]),
        product_price=np.full((1, 1, N), 20.0),
        feed_use=np.array([0.5]),
        feed_price=np.full((1, 1, N), 4.0),
        opex_fixed=1e6,
        opex_variable=2000.0,
        capex=np.array([10e6, 0, 0]),
        cod=1,
        depreciation_schedule=straight_line(2),
        tax_rate=0.0,
    )
    np.testing.assert_allclose(cf.ebitda[0], [0, 7e6, 15e6])
    np.testing.assert_allclose(cf.project_fcf[0], [-10e6, 7e6, 15e6])
    np.testing.assert_allclose(cf.cfads[0], [0, 7e6, 15e6])


def test_taxes_and_interest_shield():
    N = 3
    kw = dict(
        capacity=1000.0, utilisation=utilisation_path([1.0], N, 0), product_yield=np.array([1.0]),
        product_price=np.full((1, 1, N), 10.0), feed_use=np.zeros(0),
        feed_price=np.zeros((1, 0, N)),
        opex_fixed=0.0, opex_variable=0.0, capex=np.zeros(N), cod=0,
        depreciation_schedule=straight_line(1), tax_rate=0.25,
    )
    cf = facility_cash_flows(**kw, interest=np.array([1e6, 1e6, 0]))
    np.testing.assert_allclose(cf.tax_unlevered[0], 0.25 * 10e6)
    np.testing.assert_allclose(cf.tax_levered[0], [0.25 * 9e6, 0.25 * 9e6, 0.25 * 10e6])
    assert cf.revenue.shape == (1, N)
    with pytest.raises(Exception, match="product_price"):
        facility_cash_flows(**{**kw, "product_price": np.ones((1, 2, N))})
