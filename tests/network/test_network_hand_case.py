"""A three-region, three-stage network with an element ban, solved by hand.

Region A mines 75 t/month of ore and refines it into 75 t/month of an element-bearing
oxide; region B turns 0.5 t of oxide into 1 t of magnet (150 t/month); B's defence
(10 t/month, tier 0) and civil (40 t/month) sectors and C's civil sector (100 t/month)
use the magnets. No pipeline stocks, spare capacity or other origins.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from rareflow.engines.network import MassBalanceError, check_mass_balance, simulate_network
from rareflow.engines.network.testing import three_region_case


def test_full_ban_by_hand() -> None:
    # months 2, 3, 4 banned: B gets no oxide, makes no magnets; nothing reaches B or C
    res = simulate_network(three_region_case(ban=True), trace=True)
    np.testing.assert_allclose(res.cum_loss[0], [3 * 10, 3 * 40, 3 * 100])
    np.testing.assert_array_equal(res.first_short[0], [2, 2, 2])
    np.testing.assert_array_equal(res.last_short[0], [4, 4, 4])
    np.testing.assert_array_equal(res.time_to_survive()[0], [0, 0, 0])
    np.testing.assert_array_equal(res.time_to_recover()[0], [3, 3, 3])
    # exact stockpiles per pool: B oxide 3 x 75, B magnets 3 x 50, C magnets 3 x 100
    np.testing.assert_allclose(res.deficit[0], [0, 0, 225, 150, 300])
    # A keeps producing: 3 months of oxide pile up in its producers' stock
    np.testing.assert_allclose(res.trace["producer_stock"][0, -1, 1], 225)
    assert check_mass_balance(three_region_case(), res.trace) < 1e-12


def test_half_ban_priority_then_pro_rata() -> None:
    # B gets 37.5 t of oxide -> 75 t of magnets; B (50 t ordered) and C (100 t) are cut
    # pro rata at the plant (25 and 50 t); in B defence (tier 0) is served first
    res = simulate_network(three_region_case(severity=0.5), monthly=True)
    assert res.monthly_short is not None
    np.testing.assert_allclose(res.monthly_short[0, 2], [0.0, 25.0, 50.0])
    np.testing.assert_allclose(res.cum_loss[0], [0.0, 75.0, 150.0])
    np.testing.assert_array_equal(res.first_short[0], [-1, 2, 2])


def test_stockpile_of_the_deficit_removes_the_shortfall() -> None:
    res = simulate_network(three_region_case(stockpile_t=[0.0, 100.0, 225.0, 1000.0]))
    np.testing.assert_allclose(res.cum_loss[2:], 0.0, atol=1e-9)
    assert res.cum_loss[1].sum() > 0
    # 100 t of oxide = 200 t of magnets of the 450 t lost; month 3 gets the last 25 t of
    # oxide: 50 t of magnets, B 16.7 (defence 10 first, civil 6.7) and C 33.3
    np.testing.assert_allclose(res.cum_loss[1].sum(), res.cum_loss[0].sum() * (1 - 100 / 225))
    np.testing.assert_allclose(res.cum_loss[1], [10.0, 40 - 20 / 3 + 40, 100 - 100 / 3 + 100])
    np.testing.assert_allclose(res.deficit[1, 2], 225 - 100)


def test_mass_balance_check_fails_on_a_corrupted_result() -> None:
    inp = three_region_case()
    res = simulate_network(inp, trace=True)
    bad = dict(res.trace)
    bad["ship"] = res.trace["ship"].copy()
    bad["ship"][0, 3, 3] += 1.0           # one tonne appears on B -> C in month 3
    with pytest.raises(MassBalanceError):
        check_mass_balance(inp, bad)
    bad2 = dict(res.trace)
    bad2["activity"] = res.trace["activity"].copy()
    bad2["activity"][0, 5, 2] *= 1.01     # a plant made more than its inputs allow
    with pytest.raises(MassBalanceError):
        check_mass_balance(inp, bad2)


def test_no_ban_no_shortfall() -> None:
    res = simulate_network(three_region_case(ban=False), trace=True)
    assert res.cum_loss.max() == 0
    assert res.deficit.max() == 0
    inp = three_region_case(ban=False)
    assert check_mass_balance(inp, res.trace) == 0.0


def test_exempt_sector_passes() -> None:
    inp = three_region_case()
    # the ban is on B's oxide imports; B's plant is no final use, so an exemption of
    # C's civil use does not pass the oxide (end use is checked at the destination pool)
    inp2 = dataclasses.replace(inp, rs_exempt=np.array([[False, False, True]]))
    res = simulate_network(inp2)
    np.testing.assert_allclose(res.cum_loss[0], [30, 120, 300])
