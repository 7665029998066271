"""Dynamic stock models checked against hand calculations and independent properties."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rareflow.errors import RareflowInputError
from rareflow.stocks import Lifetime, inflow_driven, stock_driven

INFLOW_AT = ["start", "middle", "end"]
OFFSET = {"start": 1.0, "middle": 0.5, "end": 0.0}


def _assert_balance(r, rtol: float = 1e-9) -> None:
    resid = r.inflow - r.outflow - r.stock_change
    scale = max(
        float(np.abs(r.inflow).max()),
        float(np.abs(r.stock).max()),
        float(np.max(r.initial_stock)),
        1e-300,
    )
    assert np.abs(resid).max() <= rtol * scale


# --------------------------------------------------------------------------------------
# closed forms
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("inflow_at", "years", "kept"),
    [
        # age at end of year t is t - c + offset; a unit survives while age < years,
        # so a cohort is counted in stock for `kept` years (its own year included)
        ("end", 3.0, 3),
        ("middle", 3.0, 3),
        ("start", 3.0, 2),
        ("middle", 2.5, 2),
        ("end", 2.5, 3),
        ("start", 2.5, 2),
    ],
)
def test_fixed_lifetime_closed_form(inflow_at: str, years: float, kept: int) -> None:
    T = 10
    inflow = np.arange(1.0, T + 1.0)  # inflow[c] = c + 1
    r = inflow_driven(inflow, Lifetime.fixed(years), inflow_at=inflow_at)
    t = np.arange(T)
    expected_stock = np.array([inflow[max(0, k - kept + 1) : k + 1].sum() for k in t])
    expected_outflow = np.where(t >= kept, inflow[np.maximum(t - kept, 0)], 0.0)
    np.testing.assert_allclose(r.stock, expected_stock, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r.outflow, expected_outflow, rtol=0, atol=1e-12)
    # cohort table: cohort c in stock for years c .. c + kept - 1
    c = np.arange(T)
    mask = (t[:, None] >= c[None, :]) & (t[:, None] - c[None, :] < kept)
    np.testing.assert_allclose(r.stock_by_cohort, mask * inflow[None, :], atol=1e-12)


@pytest.mark.parametrize("inflow_at", INFLOW_AT)
@pytest.mark.parametrize(
    ("lt", "dist"),
    [
        (Lifetime.normal(8.0, 3.0), scipy.stats.norm(8.0, 3.0)),
        # folded normal: |X|, X ~ N(4, 3)
        (Lifetime.folded_normal(4.0, 3.0), scipy.stats.foldnorm(4.0 / 3.0, scale=3.0)),
        # lognormal with the *lifetime's* mean 8 and sd 3
        (
            Lifetime.lognormal(8.0, 3.0),
            scipy.stats.lognorm(
                np.sqrt(np.log(1 + 9 / 64)), scale=8.0 / np.sqrt(1 + 9 / 64)
            ),
        ),
        (Lifetime.weibull(shape=2.0, scale=9.0), scipy.stats.weibull_min(2.0, scale=9.0)),
    ],
)
def test_pulse_follows_survival_function(lt: Lifetime, dist, inflow_at: str) -> None:
    T = 40
    pulse = np.zeros(T)
    pulse[0] = 1.0
    r = inflow_driven(pulse, lt, inflow_at=inflow_at)
    ages = np.arange(T) + OFFSET[inflow_at]
    np.testing.assert_allclose(r.stock, dist.sf(ages), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(r.outflow[1:], -np.diff(dist.sf(ages)), rtol=1e-9, atol=1e-15)
    assert r.outflow[0] == pytest.approx(1.0 - dist.sf(ages[0]), abs=1e-15)


def test_lognormal_parameters_are_the_lifetimes_mean_and_sd() -> None:
    lt = Lifetime.lognormal(mean=12.0, sd=4.0)
    # mean = integral of the survival function; E[X^2] = 2 integral x S(x)
    x = np.linspace(0.0, 400.0, 400_001)
    s = lt.survival(x)
    mean = np.trapezoid(s, x)
    var = 2 * np.trapezoid(x * s, x) - mean**2
    assert mean == pytest.approx(12.0, rel=1e-6)
    assert np.sqrt(var) == pytest.approx(4.0, rel=1e-5)


def test_steady_state_stock_is_inflow_times_mean_lifetime() -> None:
    # constant inflow, long horizon, middle-of-year inflow: stock -> inflow * mean
    T = 300
    r = inflow_driven(np.full(T, 7.0), Lifetime.weibull(shape=2.5, scale=20.0), "middle")
    mean = 20.0 * scipy.special.gamma(1 + 1 / 2.5)
    assert r.stock[-1] == pytest.approx(7.0 * mean, rel=1e-4)
    assert r.outflow[-1] == pytest.approx(7.0, rel=1e-9)


# --------------------------------------------------------------------------------------
# vectorisation over leading dims, cohort tables
# --------------------------------------------------------------------------------------
def _lifetimes_by_path() -> list[Lifetime]:
    rng = np.random.default_rng(1)
    return [
        Lifetime.normal(12.0, 4.0),  # shared matrix
        Lifetime.normal(10.0 + rng.random(20), 3.0),  # shared, varies by cohort
        Lifetime.normal(np.array([[[9.0]], [[15.0]]]), 4.0),  # grouped [2, 1, 1]
        Lifetime.lognormal(8.0 + 4 * rng.random((2, 3, 20)), 3.0),  # per series
        Lifetime.weibull(2.0 + rng.random((2, 3, 1)), 11.0),  # per series, Toeplitz
    ]


@pytest.mark.parametrize("lt", _lifetimes_by_path(), ids=lambda x: repr(x))
def test_vectorised_equals_series_by_series(lt: Lifetime) -> None:
    rng = np.random.default_rng(2)
    inflow = rng.uniform(0.0, 5.0, (2, 3, 20))
    inflow_copy = inflow.copy()
    r = inflow_driven(inflow, lt, "middle")
    np.testing.assert_array_equal(inflow, inflow_copy)  # input not mutated
    params = {k: np.broadcast_to(v, (2, 3, 20) if v.ndim else ()) for k, v in lt.params.items()}
    for i in range(2):
        for j in range(3):
            one = Lifetime(lt.kind, {k: v[i, j] if v.ndim else v for k, v in params.items()})
            ri = inflow_driven(inflow[i, j], one, "middle")
            np.testing.assert_allclose(r.stock[i, j], ri.stock, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(r.outflow[i, j], ri.outflow, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(
                r.stock_by_cohort[i, j], ri.stock_by_cohort, rtol=1e-12, atol=1e-12
            )
    np.testing.assert_allclose(r.stock_by_cohort.sum(-1), r.stock, rtol=1e-12)
    np.testing.assert_allclose(r.outflow_by_cohort.sum(-1), r.outflow, rtol=1e-12, atol=1e-12)
    s = stock_driven(r.stock, lt, "middle")
    np.testing.assert_allclose(s.inflow, inflow, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(s.stock_by_cohort, r.stock_by_cohort, rtol=1e-9, atol=1e-9)


def test_cohort_tables_are_lazy() -> None:
    r = inflow_driven(np.ones((4, 10)), Lifetime.normal(5.0, 2.0))
    assert "stock_by_cohort" not in r.__dict__ and "outflow_by_cohort" not in r.__dict__
    assert r.stock_by_cohort.shape == (4, 10, 10)
    assert "outflow_by_cohort" not in r.__dict__


def test_lifetime_broadcasts_new_leading_dims() -> None:
    # inflow [year]; lifetime by sample [3, 1] -> results [3, year]
    r = inflow_driven(np.ones(12), Lifetime.normal(np.array([[4.0], [6.0], [8.0]]), 2.0))
    assert r.stock.shape == (3, 12)
    assert np.all(np.diff(r.stock[:, -1]) > 0)  # longer lifetime, larger stock


# --------------------------------------------------------------------------------------
# round trips and mass balance (property tests)
# --------------------------------------------------------------------------------------
_lifetime = st.one_of(
    st.builds(Lifetime.fixed, st.floats(1.5, 30.0)),
    st.builds(Lifetime.normal, st.floats(1.0, 30.0), st.floats(0.3, 10.0)),
    st.builds(Lifetime.folded_normal, st.floats(0.0, 30.0), st.floats(0.5, 10.0)),
    st.builds(Lifetime.lognormal, st.floats(1.0, 30.0), st.floats(0.3, 10.0)),
    st.builds(Lifetime.weibull, st.floats(0.7, 5.0), st.floats(1.0, 30.0)),
)
_inflows = hnp.arrays(
    float,
    st.tuples(st.integers(1, 3), st.integers(1, 40)),
    elements=st.floats(0.0, 1e3, allow_subnormal=False),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inflow=_inflows, lt=_lifetime, inflow_at=st.sampled_from(["middle", "end"]))
def test_round_trip_inflow_stock_inflow(inflow, lt, inflow_at) -> None:
    r = inflow_driven(inflow, lt, inflow_at)
    _assert_balance(r)
    assert np.all(r.stock >= -1e-9 * max(1.0, inflow.max()))
    s = stock_driven(r.stock, lt, inflow_at)
    _assert_balance(s)
    scale = max(1.0, float(inflow.max()))
    # the stock of an inflow-driven model never needs early retirement
    assert s.early_retirement.max() <= 1e-9 * scale
    np.testing.assert_allclose(s.inflow, inflow, rtol=1e-7, atol=1e-7 * scale)
    np.testing.assert_allclose(s.outflow, r.outflow, rtol=1e-7, atol=1e-7 * scale)


@settings(max_examples=60, deadline=None)
@given(
    stock=hnp.arrays(
        float,
        st.tuples(st.integers(1, 3), st.integers(1, 30)),
        elements=st.floats(0.0, 1e3, allow_subnormal=False),
    ),
    lt=_lifetime,
    inflow_at=st.sampled_from(["middle", "end"]),
    s0=hnp.arrays(
        float, st.integers(0, 5), elements=st.floats(0.0, 1e2, allow_subnormal=False)
    ),
)
def test_stock_driven_any_stock_path(stock, lt, inflow_at, s0) -> None:
    """Any non-negative stock path: inflow >= 0, stock met, balance holds, tables add up."""
    init = s0 if s0.size else None
    s = stock_driven(stock, lt, inflow_at, initial_stock_by_age=init)
    _assert_balance(s)
    scale = max(1.0, float(stock.max()), float(s0.sum()))
    assert np.all(s.inflow >= 0)
    assert np.all(s.early_retirement >= 0)
    assert np.all(s.outflow >= -1e-9 * scale)
    np.testing.assert_allclose(s.stock_by_cohort.sum(-1), stock, rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(
        s.outflow_by_cohort.sum(-1), s.outflow, rtol=1e-9, atol=1e-9 * scale
    )
    assert np.all(s.stock_by_cohort >= -1e-9 * scale)


# --------------------------------------------------------------------------------------
# initial stock by age
# --------------------------------------------------------------------------------------
def test_initial_stock_fixed_lifetime_hand_calculation() -> None:
    # fixed lifetime 3, inflow at end: a unit of age a at the end of year -1 has age
    # a + t + 1 at the end of year t and survives while that is < 3
    s0 = np.array([5.0, 7.0, 11.0])  # ages 0, 1, 2
    r = inflow_driven(np.zeros(4), Lifetime.fixed(3), "end", initial_stock_by_age=s0)
    np.testing.assert_allclose(r.stock, [12.0, 5.0, 0.0, 0.0])
    np.testing.assert_allclose(r.outflow, [11.0, 7.0, 5.0, 0.0])
    assert r.initial_stock == pytest.approx(23.0)
    assert r.cohorts.tolist() == [-3, -2, -1, 0, 1, 2, 3]
    # cohort axis by cohort year: -3 (age 2), -2 (age 1), -1 (age 0), then model cohorts
    assert r.stock_by_cohort.shape == (4, 7)
    np.testing.assert_allclose(r.stock_by_cohort[0, :3], [0.0, 7.0, 5.0])
    np.testing.assert_allclose(r.outflow_by_cohort[:, :3].sum(0), [11.0, 7.0, 5.0])
    # older than the lifetime allows: leaves in the first model year
    r2 = inflow_driven(np.zeros(3), Lifetime.fixed(3), "end", initial_stock_by_age=[0, 0, 0, 4.0])
    np.testing.assert_allclose(r2.outflow, [4.0, 0.0, 0.0])


@pytest.mark.parametrize("inflow_at", INFLOW_AT)
@pytest.mark.parametrize(
    "lt",
    [Lifetime.normal(9.0, 3.0), Lifetime.lognormal(9.0, 4.0), Lifetime.weibull(1.8, 10.0)],
    ids=repr,
)
def test_initial_stock_continues_a_longer_run(lt: Lifetime, inflow_at: str) -> None:
    """Cutting a run at year k and restarting from its stock by age gives the same future."""
    T, k = 40, 15
    rng = np.random.default_rng(5)
    inflow = rng.uniform(1.0, 4.0, (2, T))
    full = inflow_driven(inflow, lt, inflow_at)
    # stock by age at the end of year k-1: age a is cohort k-1-a
    s0 = full.stock_by_cohort[:, k - 1, :k][:, ::-1]
    part = inflow_driven(inflow[:, k:], lt, inflow_at, initial_stock_by_age=s0)
    np.testing.assert_allclose(part.stock, full.stock[:, k:], rtol=1e-9)
    np.testing.assert_allclose(part.outflow, full.outflow[:, k:], rtol=1e-9)
    _assert_balance(part)
    sd = stock_driven(full.stock[:, k:], lt, inflow_at, initial_stock_by_age=s0)
    np.testing.assert_allclose(sd.inflow, inflow[:, k:], rtol=1e-8)
    np.testing.assert_allclose(sd.outflow, full.outflow[:, k:], rtol=1e-8)


# --------------------------------------------------------------------------------------
# early retirement
# --------------------------------------------------------------------------------------
def test_early_retirement_pro_rata_hand_calculation() -> None:
    # fixed lifetime 10 (nothing retires naturally in 5 years), inflow at end
    s = stock_driven([4.0, 10.0, 5.0, 7.0, 7.0], Lifetime.fixed(10), "end")
    np.testing.assert_allclose(s.inflow, [4.0, 6.0, 0.0, 2.0, 0.0])
    np.testing.assert_allclose(s.early_retirement, [0.0, 0.0, 5.0, 0.0, 0.0])
    np.testing.assert_allclose(s.outflow, [0.0, 0.0, 5.0, 0.0, 0.0])
    # year 2: both cohorts keep half (5 of 10)
    np.testing.assert_allclose(s.stock_by_cohort[2], [2.0, 3.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(s.stock_by_cohort[4], [2.0, 3.0, 0.0, 2.0, 0.0])
    np.testing.assert_allclose(s.outflow_by_cohort[2], [2.0, 3.0, 0.0, 0.0, 0.0])
    assert s.outflow_by_cohort.sum() == pytest.approx(5.0)


def test_early_retirement_then_natural_retirement_from_reduced_cohorts() -> None:
    # fixed lifetime 3 (end): cohorts leave at age 3. Year 1 halves cohort 0.
    s = stock_driven([10.0, 5.0, 5.0, 5.0], Lifetime.fixed(3), "end")
    # y0: in 10. y1: surv 10 > 5 -> keep 1/2, early 5. y2: surv 5 -> in 0.
    # y3: cohort 0 (5 left) retires naturally at age 3 -> in 5.
    np.testing.assert_allclose(s.inflow, [10.0, 0.0, 0.0, 5.0])
    np.testing.assert_allclose(s.early_retirement, [0.0, 5.0, 0.0, 0.0])
    np.testing.assert_allclose(s.outflow, [0.0, 5.0, 0.0, 5.0])
    _assert_balance(s)


def test_early_retirement_mixed_with_normal_series_and_groups() -> None:
    stock = np.array(
        [
            [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]],  # growing
            [[6.0, 6.0, 1.0, 1.0, 0.0, 2.0]],  # falls fast, then to zero, then back
        ]
    )
    stock = np.broadcast_to(stock, (2, 4, 6)).copy()
    for lt in [
        Lifetime.normal(8.0, 2.0),
        Lifetime.normal(np.array([[[6.0]], [[9.0]]]), 2.0),  # grouped
        Lifetime.normal(6.0 + np.arange(8.0).reshape(2, 4, 1), 2.0),  # per series
    ]:
        s = stock_driven(stock, lt, "middle")
        _assert_balance(s)
        assert np.all(s.early_retirement[0] == 0)
        assert np.all(s.early_retirement[1, :, 2] > 0)
        assert np.all(s.inflow >= 0)
        np.testing.assert_allclose(s.stock_by_cohort.sum(-1), stock, atol=1e-12)
        np.testing.assert_allclose(s.outflow_by_cohort.sum(-1), s.outflow, atol=1e-12)
        assert s.stock_by_cohort[1, :, 4].max() == 0.0
        np.testing.assert_allclose(s.inflow[1, :, 5] * s.stock_by_cohort[1, :, 5, 5] > 0, True)


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda: inflow_driven([1.0, -1.0], Lifetime.normal(5, 1)), "inflow"),
        (lambda: inflow_driven([1.0, np.nan], Lifetime.normal(5, 1)), "inflow"),
        (lambda: inflow_driven([1.0, np.inf], Lifetime.normal(5, 1)), "inflow"),
        (lambda: inflow_driven(3.0, Lifetime.normal(5, 1)), "inflow"),
        (lambda: inflow_driven(["a"], Lifetime.normal(5, 1)), "inflow"),
        (lambda: stock_driven([1.0, -2.0], Lifetime.normal(5, 1)), "stock"),
        (lambda: inflow_driven([1.0], Lifetime.normal(5, 1), "late"), "inflow_at"),
        (lambda: inflow_driven([1.0], Lifetime.normal(5, 1), ["end"]), "inflow_at"),
        (lambda: inflow_driven([1.0], {"mean": 5}), "lifetime"),
        (lambda: Lifetime.normal(5, 0), "lifetime.sd"),
        (lambda: Lifetime.normal(-5, 1), "lifetime.mean"),
        (lambda: Lifetime.normal(0, 1), "lifetime.mean"),
        (lambda: Lifetime.lognormal(5, -1), "lifetime.sd"),
        (lambda: Lifetime.folded_normal(-1, 1), "lifetime.mean"),
        (lambda: Lifetime.weibull(0, 5), "lifetime.shape"),
        (lambda: Lifetime.weibull(2, np.nan), "lifetime.scale"),
        (lambda: Lifetime.fixed(0), "lifetime.years"),
        (lambda: Lifetime.normal([5, 6], [1, 2, 3]), "lifetime"),
        # cohort axis of 3 for 5 years
        (lambda: inflow_driven(np.ones(5), Lifetime.normal([5, 6, 7], 1)), "lifetime"),
        # leading dims 2 vs 3
        (lambda: inflow_driven(np.ones((2, 5)), Lifetime.normal(np.ones((3, 1)) * 5, 1)), "inflow"),
        (
            lambda: inflow_driven(np.ones(5), Lifetime.normal(5, 1), initial_stock_by_age=[-1.0]),
            "initial_stock_by_age",
        ),
        # nothing survives its own year: stock-driven cannot place inflow
        (lambda: stock_driven(np.ones(3), Lifetime.fixed(1), "start"), "lifetime"),
    ],
)
def test_bad_input_raises_named_error(call, path: str) -> None:
    with pytest.raises(RareflowInputError) as exc:
        call()
    assert exc.value.problems[0].path == path
    assert exc.value.problems[0].message


# --------------------------------------------------------------------------------------
# computation paths agree with each other
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("inflow_at", INFLOW_AT)
def test_chunked_per_series_path_equals_shared_path(inflow_at: str) -> None:
    """400 series x 100 years with per-series parameters (all equal) run in several
    memory-bounded chunks and must give the shared-matrix answer."""
    n, T = 400, 100
    rng = np.random.default_rng(9)
    inflow = rng.uniform(0.0, 3.0, (n, T))
    s0 = rng.uniform(0.0, 1.0, (n, 7))
    shared = Lifetime.lognormal(12.0, 5.0)
    per_series = Lifetime.lognormal(np.full((n, 1), 12.0), np.full((n, 1), 5.0))
    a = inflow_driven(inflow, shared, inflow_at, initial_stock_by_age=s0)
    b = inflow_driven(inflow, per_series, inflow_at, initial_stock_by_age=s0)
    np.testing.assert_allclose(b.stock, a.stock, rtol=1e-12)
    np.testing.assert_allclose(b.outflow, a.outflow, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.outflow_by_cohort, a.outflow_by_cohort, rtol=1e-12, atol=1e-13)
    sa = stock_driven(a.stock, shared, inflow_at, initial_stock_by_age=s0)
    sb = stock_driven(a.stock, per_series, inflow_at, initial_stock_by_age=s0)
    np.testing.assert_allclose(sb.inflow, sa.inflow, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(sa.inflow, inflow, rtol=1e-8, atol=1e-8)


def test_historic_cohorts_use_first_cohort_parameters() -> None:
    T = 12
    s0 = np.array([3.0, 2.0, 1.0, 4.0])
    by_cohort = Lifetime.weibull(2.0, np.linspace(6.0, 20.0, T))
    first = Lifetime.weibull(2.0, 6.0)
    a = inflow_driven(np.zeros(T), by_cohort, "middle", initial_stock_by_age=s0)
    b = inflow_driven(np.zeros(T), first, "middle", initial_stock_by_age=s0)
    np.testing.assert_allclose(a.stock, b.stock, rtol=1e-14)
    # conditional survival: a unit of age a survives year 0 with S(a + 1.5) / S(a + 0.5)
    sf = lambda x: np.exp(-((x / 6.0) ** 2))  # noqa: E731
    ages = np.arange(4)
    assert a.stock[0] == pytest.approx(float(np.sum(s0 * sf(ages + 1.5) / sf(ages + 0.5))))


def test_lifetime_direct_constructor_validates() -> None:
    assert Lifetime("normal", {"mean": 5.0, "sd": 1.0}).kind == "normal"
    with pytest.raises(RareflowInputError, match="takes parameters mean, sd"):
        Lifetime("normal", {"mean": 5.0})
    with pytest.raises(RareflowInputError, match="allowed: fixed"):
        Lifetime("gamma", {"a": 1.0})
    with pytest.raises(RareflowInputError) as exc:
        Lifetime("weibull", {"shape": -1.0, "scale": 3.0})
    assert exc.value.problems[0].path == "lifetime.shape"
    lt = Lifetime.normal(5.0, 1.0)
    with pytest.raises(AttributeError):
        lt._kind = "fixed"  # type: ignore[misc]
    with pytest.raises(ValueError):
        lt.params["mean"][...] = 3.0  # read-only


def test_mass_balance_check_catches_a_broken_result() -> None:
    from rareflow.errors import MassBalanceError

    r = inflow_driven(np.ones((2, 10)), Lifetime.normal(4.0, 1.0))
    assert r.check_mass_balance() < 1e-12
    r.outflow[1, 5] += 1e-6
    with pytest.raises(MassBalanceError, match="relative residual"):
        r.check_mass_balance()
    r.outflow[1, 5] = np.nan
    with pytest.raises(MassBalanceError):
        r.check_mass_balance()


def test_by_age_path_in_several_chunks_equals_shared_path() -> None:
    n, T = 4000, 30  # per-series parameters constant over cohorts: convolution path
    rng = np.random.default_rng(11)
    inflow = rng.uniform(0.0, 3.0, (n, T))
    s0 = rng.uniform(0.0, 1.0, (n, 3))
    shared = Lifetime.weibull(2.2, 9.0)
    per_series = Lifetime.weibull(np.full((n, 1), 2.2), 9.0)
    a = inflow_driven(inflow, shared, "end", initial_stock_by_age=s0)
    b = inflow_driven(inflow, per_series, "end", initial_stock_by_age=s0)
    np.testing.assert_allclose(b.stock, a.stock, rtol=1e-12)
    np.testing.assert_allclose(b.outflow, a.outflow, rtol=1e-12, atol=1e-12)
    stock = a.stock.copy()
    stock[::7, 20:] *= 0.5  # early retirement in some rows
    sa = stock_driven(stock, shared, "end", initial_stock_by_age=s0)
    sb = stock_driven(stock, per_series, "end", initial_stock_by_age=s0)
    assert sa.early_retirement[::7].sum() > 0
    np.testing.assert_allclose(sb.inflow, sa.inflow, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(sb.early_retirement, sa.early_retirement, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(sb.outflow, sa.outflow, rtol=1e-9, atol=1e-9)
