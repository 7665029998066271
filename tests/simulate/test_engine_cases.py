"""Hand-checkable cases of the stress engine: embargo + stockpile, priority, licence delay,
exemptions, redirect, inventories, outages, ramps, validation errors."""

from __future__ import annotations

import numpy as np
import pytest

from rareflow.engines.simulate import (
    DemandShock,
    Inventories,
    Outage,
    Ramp,
    Restriction,
    Stockpile,
    StressModel,
    simulate,
)
from rareflow.errors import RareflowInputError


def two_origin_model(T: int = 60, **kw) -> StressModel:
    """CN supplies 80 % and AU 20 % of the U.S. demand of one material: defence 10 t/month
    (tier 0) and civil 90 t/month (tier 1). CN: capacity 1000, other load 920 (no spare).
    AU: capacity 30, no other load (10 t/month spare)."""
    base = dict(
        origins=("CN", "AU"), destinations=("US",), sectors=("defence", "civil"),
        materials=("magnet",), n_samples=1,
        capacity=np.broadcast_to(np.array([1000.0, 30.0])[None, :, None], (T, 2, 1)),
        other_load=np.broadcast_to(np.array([920.0, 0.0])[None, :, None], (T, 2, 1)),
        demand=np.broadcast_to(np.array([10.0, 90.0])[None, None, :, None], (T, 1, 2, 1)),
        sourcing=np.array([[[0.8], [0.2]]]),
        priority=np.array([0, 1]),
        redirect_share=0.0,
    )
    base.update(kw)
    return StressModel(**base)


def test_embargo_with_stockpile_hand_calculation():
    """Embargo on CN from month 3 to 9 (6 months, severity 1); a 200 t stockpile for all
    sectors, max draw 75 t/month, refilled without rate limit; AU may redirect half of its
    10 t/month spare (5 t/month). Horizon 60 months.

    Hand calculation:
    * before month 3: CN 80 + AU 20 = 100 = demand; no shortfall; 5 t/month of AU spare
      available but the stockpile is full (tightness (100 + 5) / 100 = 1.05).
    * months 3-8: arrivals AU 20 + redirect 5 = 25 (tightness 0.25). Defence (tier 0) gets
      10, civil 15: civil unmet 75 t/month.
      - month 3: draw 75 -> stock 125; month 4: draw 75 -> 50; month 5: draw 50 -> 0,
        civil short 25; months 6, 7, 8: civil short 75.
      => civil time-to-survive = 5 - 3 = 2 months (200 t / 75 t/month = 2.67 months,
         two whole months); civil cumulative shortfall = 25 + 3 * 75 = 250 t;
         stockpile needed = 6 months * 75 = 450 t; defence never short (21 .. = 60 - 3 = 57).
    * from month 9: supply 100 again, 5 t/month of AU spare refills the stockpile:
      level 5 n at the end of month 8 + n, 200 t at month 48. Last abnormal month 47, so
      time-to-recover = 47 + 1 - 3 = 45 months for both sectors (the stockpile serves both).
    """
    m = two_origin_model(
        redirect_share=0.5,
        restrictions=(Restriction("embargo", ("magnet",), start=3, end=9, origins=("CN",)),),
        stockpiles=(Stockpile("sp", "US", "magnet", initial=200.0, max_draw=75.0,
                              strategic=True),),
    )
    r = simulate(m, full=True, series_dtype=np.float64)
    short = r.full["shortfall"][0, :, 0, :, 0]
    expected_civil = np.zeros(60)
    expected_civil[5] = 25.0
    expected_civil[6:9] = 75.0
    np.testing.assert_allclose(short[:, 1], expected_civil, atol=1e-12)
    np.testing.assert_allclose(short[:, 0], 0.0, atol=1e-12)
    stock = r.full["stockpile"][0, :, 0]
    np.testing.assert_allclose(stock[:9], [200, 200, 200, 125, 50, 0, 0, 0, 0], atol=1e-12)
    np.testing.assert_allclose(stock[9:49], 5.0 * np.arange(1, 41), atol=1e-9)
    assert r.disruption_start[0] == 3
    assert r.time_to_survive[0, 0].tolist() == [57, 2]
    assert r.time_to_recover[0, 0].tolist() == [45, 45]
    assert r.recovered[0, 0].all()
    np.testing.assert_allclose(r.cumulative_shortfall[0, 0], [0.0, 250.0])
    np.testing.assert_allclose(r.stockpile_needed[0, 0, :, 0], [0.0, 450.0])
    np.testing.assert_allclose(r.tightness[0, [0, 3, 8, 9], 0, 0], [1.05, 0.25, 0.25, 1.05])
    np.testing.assert_allclose(r.shortfall_share[0, 6, 0], [0.0, 75 / 90])


def test_stockpile_needed_equals_shortfall_without_stockpile():
    kw = dict(redirect_share=0.5,
              restrictions=(Restriction("e", ("magnet",), start=3, end=9, origins=("CN",)),))
    with_sp = simulate(two_origin_model(stockpiles=(
        Stockpile("sp", "US", "magnet", initial=120.0, max_draw=40.0, strategic=True),), **kw))
    without = simulate(two_origin_model(**kw))
    np.testing.assert_allclose(with_sp.stockpile_needed, without.stockpile_needed)
    np.testing.assert_allclose(without.stockpile_needed.sum(axis=-1),
                               without.cumulative_shortfall)


def test_priority_tiers_pro_rata_within_tier():
    """Supply 40 for demands 10 (tier 0), 30 and 60 (tier 1): tier 0 gets 10; the other
    30 split 30:60 -> 10 and 20; shortfalls 0, 20, 40."""
    T = 2
    m = StressModel(
        origins=("A",), destinations=("X",), sectors=("def", "ev", "wind"), materials=("m",),
        n_samples=1, capacity=np.full((T, 1, 1), 40.0),
        demand=np.broadcast_to(np.array([10.0, 30.0, 60.0])[None, None, :, None], (T, 1, 3, 1)),
        sourcing=np.ones((1, 1, 1)), priority=np.array([0, 1, 1]),
    )
    r = simulate(m, full=True)
    np.testing.assert_allclose(r.full["delivered"][0, 0, 0, :, 0], [10.0, 10.0, 20.0])
    np.testing.assert_allclose(r.full["shortfall"][0, 0, 0, :, 0], [0.0, 20.0, 40.0])
    # three tiers: tier order is the priority number, not the sector order
    m3 = StressModel(**{**m.__dict__, "priority": np.array([2, 0, 1])})
    r3 = simulate(m3, full=True)
    np.testing.assert_allclose(r3.full["delivered"][0, 0, 0, :, 0], [0.0, 30.0, 10.0])


def test_licence_delay_holds_then_releases():
    """Licence regime on CN from month 2 to 10, severity 0.5 (half denied), delay 2 months:
    months 2-3 CN flow held (2 x 40 t), arrivals = AU 20; month 4 gets the released 80 t
    plus CN 40 + AU 20 = 140; months 5-9: 60; month 10 on: 100. No stock, no redirect:
    civil short 80, 80, 0, 40 x 5 months; the 40 t surplus of month 4 is not used."""
    m = two_origin_model(T=14, restrictions=(
        Restriction("lic", ("magnet",), start=2, end=10, severity=0.5, licence_delay=2,
                    origins=("CN",)),))
    r = simulate(m, full=True)
    arr = r.full["arrivals"][0, :, 0, 0]
    np.testing.assert_allclose(arr, [100, 100, 20, 20, 140, 60, 60, 60, 60, 60, 100, 100, 100,
                                     100])
    civil = r.full["shortfall"][0, :, 0, 1, 0]
    np.testing.assert_allclose(civil, [0, 0, 80, 80, 0, 40, 40, 40, 40, 40, 0, 0, 0, 0])
    used = r.full["supply_used"][0, :, 0, 0]
    assert used[4] == pytest.approx(100.0)
    assert r.time_to_survive[0, 0, 1] == 0
    assert r.time_to_recover[0, 0, 1] == 8  # last short month 9: 9 + 1 - 2


def test_licence_release_refills_inventory():
    """Same regime with a 2-month civil inventory (180 t), refill unlimited: months 2-3
    draw 80 each (180 -> 20), month 4 refills from the 40 t surplus (-> 60), months 5, 6
    draw 40 (-> 20 -> 0 ... ) and the civil sector runs short at month 6 when 20 t only
    remain: civil short 20 at month 6, 40 at months 7-9."""
    inv0 = np.zeros((1, 2, 1))
    inv0[0, 1, 0] = 180.0
    m = two_origin_model(T=14, inventories=Inventories(initial=inv0), restrictions=(
        Restriction("lic", ("magnet",), start=2, end=10, severity=0.5, licence_delay=2,
                    origins=("CN",)),))
    r = simulate(m, full=True)
    inv = r.full["inventory"][0, :, 0, 1, 0]
    np.testing.assert_allclose(inv[:8], [180, 180, 100, 20, 60, 20, 0, 0])
    civil = r.full["shortfall"][0, :, 0, 1, 0]
    np.testing.assert_allclose(civil, [0, 0, 0, 0, 0, 0, 20, 40, 40, 40, 0, 0, 0, 0])
    assert r.time_to_survive[0, 0, 1] == 4
    # inventory never refilled after month 10 (no spare supply): not recovered
    assert not r.recovered[0, 0, 1]


def test_exempt_sector_share_passes():
    """Embargo on CN exempting defence: defence's 10 % share of CN's 80 t passes (8 t);
    arrivals 8 + AU 20 = 28; defence served first (10), civil gets 18."""
    m = two_origin_model(T=4, restrictions=(
        Restriction("e", ("magnet",), start=1, end=4, origins=("CN",),
                    exempt_sectors=("defence",)),))
    r = simulate(m, full=True)
    np.testing.assert_allclose(r.full["arrivals"][0, 1:, 0, 0], 28.0)
    np.testing.assert_allclose(r.full["delivered"][0, 1, 0, :, 0], [10.0, 18.0])


def test_redirect_limited_by_share_and_spare_and_restriction():
    """AU spare 10, redirect share 0.6 -> 6 t; CN is restricted so its own spare cannot be
    redirected to the U.S. even though CN has 500 t spare."""
    T = 3
    m = two_origin_model(T=T, redirect_share=np.array([0.6, 0.6]),
                         other_load=np.broadcast_to(np.array([420.0, 0.0])[None, :, None],
                                                    (T, 2, 1)),
                         restrictions=(Restriction("e", ("magnet",), start=1, end=3,
                                                   origins=("CN",)),))
    r = simulate(m, full=True)
    np.testing.assert_allclose(r.full["arrivals"][0, :, 0, 0], [100.0, 26.0, 26.0])
    # CN partially restricted (severity 0.5): CN is not an unaffected producer, so its own
    # 500 t spare is not redirected: arrivals = CN 40 + AU 20 + AU redirect 6 = 66
    m2 = two_origin_model(T=T, redirect_share=np.array([0.6, 0.6]),
                          other_load=np.broadcast_to(np.array([420.0, 0.0])[None, :, None],
                                                     (T, 2, 1)),
                          restrictions=(Restriction("e", ("magnet",), start=1, end=3,
                                                    severity=0.5, origins=("CN",)),))
    r2 = simulate(m2, full=True)
    np.testing.assert_allclose(r2.full["arrivals"][0, :, 0, 0], [100.0, 66.0, 66.0])


def test_outage_ramp_and_demand_shock():
    """AU outage (60 % lost, months 1-2) and a ramp of 10 t/month at AU from month 2 with
    a 1-month delay and a 2-month ramp; civil demand doubled in month 4."""
    T = 6
    m = two_origin_model(
        T=T,
        outages=(Outage(("AU",), (), start=1, end=3, lost=0.6),),
        ramps=(Ramp("AU", "magnet", added=10.0, start=2, delay=1, ramp_months=2),),
        shocks=(DemandShock((), ("civil",), (), start=4, end=5, multiplier=2.0),),
        redirect_share=1.0,
    )
    r = simulate(m, full=True)
    # AU capacity: 30, 12, 12, 35, 40, 40 ; AU load 20 ; CN no spare
    # month 1-2: AU ships 12 of 20, CN 80: 92.  Month 3: AU spare 15 (extra).
    # month 4: demand 190 -> requests CN 152, AU 38; CN load 920 + 152 = 1072 > 1000, so
    # CN ships 152 * 1000 / 1072; AU ships 38 and redirects its 2 t spare.
    arr = r.full["arrivals"][0, :, 0, 0]
    np.testing.assert_allclose(arr, [100, 92, 92, 100, 152 * 1000 / 1072 + 38 + 2, 100])
    np.testing.assert_allclose(r.full["extra"][0, :, 0, 0], [10, 0, 0, 15, 0, 20])
    np.testing.assert_allclose(r.full["demand"][0, 4, 0, :, 0], [10, 180])


def test_multi_destination_and_materials_shapes():
    T, S = 5, 4
    m = StressModel(
        origins=("A", "B"), destinations=("X", "Y"), sectors=("s1", "s2", "s3"),
        materials=("m1", "m2"), n_samples=S,
        capacity=np.full((T, 2, 2), 50.0), demand=np.full((T, 2, 3, 2), 5.0),
        sourcing=np.full((2, 2, 2), 0.5), redirect_share=0.5,
        restrictions=(Restriction("r", ("m2",), start=np.array([1, 2, 3, 4]), end=5,
                                  origins=("A",), destinations=("Y",)),),
        stockpiles=(Stockpile("p", "Y", "m2", initial=np.array([0.0, 10, 20, 30])),),
    )
    r = simulate(m, full=True)
    assert r.time_to_survive.shape == (S, 2, 3)
    assert r.stockpile_needed.shape == (S, 2, 3, 2)
    assert r.shortfall_share.shape == (S, T, 2, 3)
    assert r.tightness.shape == (S, T, 2, 2)
    assert r.full["stockpile"].shape == (S, T, 1)
    # X unaffected
    assert (r.cumulative_shortfall[:, 0] == 0).all()
    np.testing.assert_array_equal(r.disruption_start, [1, 2, 3, 4])


def test_validation_errors_name_the_field():
    with pytest.raises(RareflowInputError) as e:
        simulate(two_origin_model(restrictions=(
            Restriction("bad", ("unobtainium",), start=5, end=2, severity=1.5,
                        origins=("XX",)),)))
    text = str(e.value)
    assert "restrictions.bad.materials: unknown material 'unobtainium'" in text
    assert "restrictions.bad.origins: unknown origin 'XX'" in text
    assert "restrictions.bad.end: ends before it starts" in text
    assert "restrictions.bad.severity: must be <= 1" in text
    with pytest.raises(RareflowInputError, match="sourcing.US.magnet"):
        simulate(two_origin_model(sourcing=np.array([[[0.5], [0.2]]])))
    with pytest.raises(RareflowInputError, match="whole months"):
        simulate(two_origin_model(restrictions=(
            Restriction("r", ("magnet",), start=1.5, end=3),)))
    with pytest.raises(RareflowInputError, match="strategic"):
        simulate(two_origin_model(stockpiles=(
            Stockpile("a", "US", "magnet", 1.0, strategic=True),
            Stockpile("b", "US", "magnet", 1.0))))
