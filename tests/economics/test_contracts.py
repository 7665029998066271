"""Price floor and offtake against hand calculations."""

from __future__ import annotations

import numpy as np
import pytest

from rareflow.engines.economics import contract_window, offtake_adjustment, price_floor_payout
from rareflow.errors import RareflowInputError


def test_price_floor_payout_hand_calculation():
    """Floor 110 USD/kg on 2,000 t/yr, active in years 0-2 of 4, upside share 30 % from
    year 1. Market 69, 120, 100, 50 USD/kg.

      year 0: (110 - 69) · 2,000 t · 1,000 kg/t = 82,000,000 USD paid by the government
      year 1: price above floor: government receives 0.3 · (120 - 110) · 2e6 = 6,000,000
      year 2: (110 - 100) · 2e6 = 20,000,000 paid
      year 3: floor expired: nothing, although the market is at 50
    """
    market = np.array([[69.0, 120.0, 100.0, 50.0]])
    active = contract_window(4, 0, 3)
    up = active & (np.arange(4) >= 1)
    r = price_floor_payout(market, 110.0, np.full(4, 2000.0), active,
                           upside_share=0.3, upside_active=up)
    np.testing.assert_allclose(r.government_pays, [[82e6, 0, 20e6, 0]])
    np.testing.assert_allclose(r.government_receives, [[0, 6e6, 0, 0]])
    np.testing.assert_allclose(r.net, [[82e6, -6e6, 20e6, 0]])


def test_floor_is_vectorised_over_samples_and_never_negative_without_upside():
    rng = np.random.default_rng(1)
    market = rng.uniform(20, 200, size=(50, 10))
    r = price_floor_payout(market, 110.0, np.full(10, 1.0))
    assert r.government_pays.shape == (50, 10)
    assert (r.government_pays >= 0).all() and (r.government_receives == 0).all()
    np.testing.assert_allclose(r.government_pays, np.maximum(110 - market, 0) * 1000)


def test_offtake_adjustment_hand_calculation():
    """80 % of 1,000 t/yr at a contract 90 USD/kg vs market 70: +0.8·1000·20·1000 = 16 MUSD."""
    adj = offtake_adjustment(np.array([[70.0, 100.0]]), np.array([1000.0, 1000.0]), 0.8, 90.0)
    np.testing.assert_allclose(adj, [[16e6, -8e6]])
    assert not offtake_adjustment(np.array([[70.0]]), np.array([1.0]), 1.0, None).any()


def test_contract_window_clips_to_horizon():
    np.testing.assert_array_equal(contract_window(5, 3, 10), [0, 0, 0, 1, 1])


def test_bad_floor_input():
    with pytest.raises(RareflowInputError) as ei:
        price_floor_payout(np.array([[1.0]]), 110.0, np.array([1.0]), upside_share=1.5)
    assert ei.value.problems[0].path == "upside_share"
