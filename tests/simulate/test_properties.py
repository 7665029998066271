"""Property tests of the stress engine: mass balance, monotonicity, determinism."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def random_model(seed: int, S: int = 6, stock_scale: float = 1.0) -> StressModel:
    """A random model with every feature switched on; per-sample event parameters."""
    rng = np.random.default_rng(seed)
    T = int(rng.integers(3, 25))
    O, D, K, M = (int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(1, 5)),
                  int(rng.integers(1, 4)))
    origins = tuple(f"o{i}" for i in range(O))
    dests = tuple(f"d{i}" for i in range(D))
    sectors = tuple(f"k{i}" for i in range(K))
    mats = tuple(f"m{i}" for i in range(M))
    src = rng.random((D, O, M)) * (rng.random((D, O, M)) > 0.3) + 1e-3
    src /= src.sum(axis=1, keepdims=True)
    demand = rng.random((T, D, K, M)) * 10 * (rng.random((T, D, K, M)) > 0.1)

    def window():
        s = rng.integers(-2, T, S)
        return s, s + rng.integers(0, T, S)

    restrictions = []
    for i in range(int(rng.integers(0, 3))):
        s, e = window()
        restrictions.append(Restriction(
            f"r{i}", tuple(rng.choice(mats, size=int(rng.integers(1, M + 1)), replace=False)),
            start=s, end=e, severity=rng.random(S), licence_delay=rng.integers(0, 4, S),
            origins=tuple(rng.choice(origins, size=int(rng.integers(1, O + 1)), replace=False)),
            exempt_sectors=tuple(rng.choice(sectors, size=int(rng.integers(0, K)),
                                            replace=False)),
        ))
    s, e = window()
    outages = (Outage((origins[0],), (), start=s, end=e, lost=rng.random(S)),)
    s, e = window()
    shocks = (DemandShock((), (sectors[-1],), (), start=s, end=e,
                          multiplier=rng.random(S) * 2),)
    ramps = (Ramp(origins[-1], mats[0], added=rng.random(S) * 5, start=rng.integers(0, T, S),
                  delay=rng.integers(0, 5, S), ramp_months=rng.integers(0, 6, S)),)
    inv = Inventories(initial=rng.random((S, D, K, M)) * 10 * stock_scale,
                      max_draw=rng.random((D, K, M)) * 5 + 0.5,
                      refill_rate=rng.random((D, K, M)) * 3)
    stockpiles = tuple(
        Stockpile(f"p{j}", str(rng.choice(dests)), str(rng.choice(mats)),
                  initial=rng.random(S) * 30 * stock_scale,
                  sectors=tuple(rng.choice(sectors, size=int(rng.integers(1, K + 1)),
                                           replace=False)),
                  max_draw=rng.random(S) * 10 + 1, refill_rate=rng.random(S) * 4,
                  strategic=(j == 1))
        for j in range(2)
    )
    return StressModel(
        origins=origins, destinations=dests, sectors=sectors, materials=mats, n_samples=S,
        capacity=rng.random((T, O, M)) * 20, other_load=rng.random((T, O, M)) * 5,
        demand=demand, sourcing=src, priority=rng.integers(0, 3, K),
        redirect_share=rng.random(O), ramps=ramps, outages=outages, shocks=shocks,
        restrictions=tuple(restrictions), inventories=inv, stockpiles=stockpiles,
    )


@SETTINGS
@given(st.integers(0, 2**31))
def test_mass_balance(seed):
    m = random_model(seed)
    r = simulate(m, full=True)
    f = r.full
    dem, dlv, sho = f["demand"], f["delivered"], f["shortfall"]
    np.testing.assert_allclose(dlv + sho, dem, atol=1e-9)
    assert (sho >= -1e-9).all() and (dlv >= -1e-9).all()
    # stock levels per (sample, month, destination, material), with the level before month 0
    inv = f["inventory"].sum(axis=3)  # [S, T, D, M]
    inv_prev = np.concatenate([f["inventory_initial"].sum(axis=2)[:, None], inv[:, :-1]], axis=1)
    sp = np.zeros_like(inv)
    sp_prev = np.zeros_like(inv)
    for j, p in enumerate(m.stockpiles):
        d, mm = m.destinations.index(p.destination), m.materials.index(p.material)
        sp[:, :, d, mm] += f["stockpile"][:, :, j]
        prev = np.concatenate([f["stockpile_initial"][:, None, j], f["stockpile"][:, :-1, j]],
                              axis=1)
        sp_prev[:, :, d, mm] += prev
    dstock = (inv - inv_prev) + (sp - sp_prev)
    delivered = dlv.sum(axis=3)
    np.testing.assert_allclose(f["supply_used"] - dstock, delivered, atol=1e-8)
    # never use more than was available
    assert (f["supply_used"] <= f["arrivals"] + f["extra"] + 1e-9).all()
    assert (f["stockpile"] >= -1e-9).all() and (f["inventory"] >= -1e-9).all()
    # metrics are consistent
    T = r.months
    assert ((r.time_to_survive >= 0) & (r.time_to_survive <= T)).all()
    assert (r.stockpile_needed.sum(axis=-1) >= r.cumulative_shortfall - 1e-9).all()


@SETTINGS
@given(st.integers(0, 2**31), st.floats(0.0, 50.0))
def test_bigger_strategic_stockpile_never_shortens_survival(seed, extra):
    """Adding ``extra`` t to the last (strategic) stockpile, everything else equal, never
    shortens time to survive, never raises the cumulative shortfall."""
    m = random_model(seed)
    sp = list(m.stockpiles)
    last = sp[-1]
    bigger = Stockpile(last.name, last.destination, last.material,
                       initial=np.asarray(last.initial) + extra, sectors=last.sectors,
                       max_draw=last.max_draw, target=np.asarray(last.initial) + extra,
                       refill_rate=last.refill_rate, strategic=True)
    m2 = StressModel(**{**m.__dict__, "stockpiles": (*sp[:-1], bigger)})
    a, b = simulate(m), simulate(m2)
    assert (b.time_to_survive >= a.time_to_survive).all()
    assert (b.cumulative_shortfall <= a.cumulative_shortfall + 1e-9).all()
    np.testing.assert_allclose(a.stockpile_needed, b.stockpile_needed, atol=1e-9)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**31))
def test_chunking_and_threads_do_not_change_results(seed):
    m = random_model(seed, S=7)
    ref = simulate(m, chunk_size=7, full=True)
    for kw in (dict(chunk_size=1), dict(chunk_size=3, workers=2)):
        r = simulate(m, full=True, **kw)
        for name in ("time_to_survive", "time_to_recover", "recovered", "cumulative_shortfall",
                     "stockpile_needed", "shortfall_share", "tightness"):
            np.testing.assert_array_equal(getattr(r, name), getattr(ref, name), err_msg=name)
        for name, v in ref.full.items():
            np.testing.assert_array_equal(r.full[name], v, err_msg=name)


def test_same_seed_bit_identical_through_sampling():
    from rareflow.uncertainty import Pert, Triangular, sample_all

    dists = {"delay": Triangular(0, 2, 6), "sev": Pert(0.3, 0.7, 1.0)}

    def run(seed):
        p = sample_all(dists, 50, seed=seed)
        m = random_model(3, S=50)
        r0 = m.restrictions[0] if m.restrictions else Restriction("x", (m.materials[0],), 0, 5)
        r = Restriction(r0.name, r0.materials, start=1, end=9, severity=p["sev"],
                        licence_delay=np.round(p["delay"]).astype(int), origins=r0.origins)
        m = StressModel(**{**m.__dict__, "restrictions": (r,), "n_samples": 50,
                           "inventories": None, "ramps": (), "outages": (), "shocks": (),
                           "stockpiles": ()})
        return simulate(m, chunk_size=13)

    a, b, c = run(1), run(1), run(2)
    np.testing.assert_array_equal(a.shortfall_share, b.shortfall_share)
    np.testing.assert_array_equal(a.time_to_recover, b.time_to_recover)
    assert not np.array_equal(a.shortfall_share, c.shortfall_share)
