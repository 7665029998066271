"""Hand-solved reconciliation cases for ``rareflow.engines.reconcile.wls``.

Every expected number below is derived in the test from the closed-form linear WLS
solution (Narasimhan & Jordache 2000, ch. 3): for balances ``A x = 0`` with every flow
measured (covariance ``V``),

    x_hat   = x - V A^T (A V A^T)^-1 A x
    cov_hat = V - V A^T (A V A^T)^-1 A V          (reconciled covariance)
    cov_adj = V A^T (A V A^T)^-1 A V              (covariance of the adjustments x - x_hat)
    nres_i  = (x - x_hat)_i / sqrt(cov_adj_ii)     (normalised residual, measurement test)
    chi2    = sum_i ((x - x_hat)_i / sigma_i)^2,  dof = rank(A)
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from rareflow.engines.reconcile import ReconcileProblem, Rows, reconcile


def _problem(a: np.ndarray, measured: dict[int, tuple[float, float]], n: int,
             start: np.ndarray | None = None, lower: float = 0.0) -> ReconcileProblem:
    """Balances ``a @ z = 0``; figures ``z[i]`` reported as ``measured[i] = (value, sigma)``."""
    a = np.atleast_2d(np.asarray(a, float))
    idx = sorted(measured)
    fig = np.zeros((len(idx), n))
    fig[np.arange(len(idx)), idx] = 1.0
    reported = np.array([measured[i][0] for i in idx])
    sigma = np.array([measured[i][1] for i in idx])
    if start is None:
        start = np.full(n, float(np.mean(reported)))
        start[idx] = reported
    return ReconcileProblem(
        variables=tuple(f"x{i + 1}" for i in range(n)),
        start=np.asarray(start, float),
        lower=np.full(n, lower),
        upper=np.full(n, np.inf),
        balances=Rows.linear(a),
        balance_names=tuple(f"P{k + 1}" for k in range(a.shape[0])),
        figures=Rows.linear(fig),
        figure_ids=tuple(f"m{i + 1}" for i in idx),
        reported=reported,
        sigma=sigma,
    )


def _closed_form(a: np.ndarray, x: np.ndarray, sigma: np.ndarray):
    a = np.atleast_2d(np.asarray(a, float))
    v = np.diag(sigma ** 2)
    k = v @ a.T @ np.linalg.inv(a @ v @ a.T)
    x_hat = x - k @ a @ x
    cov_adj = k @ a @ v
    cov_hat = v - cov_adj
    nres = (x - x_hat) / np.sqrt(np.diag(cov_adj))
    chi2 = float(np.sum(((x - x_hat) / sigma) ** 2))
    return x_hat, cov_hat, nres, chi2


# ---------------------------------------------------------------------------------------
# three processes in series: x1 -> P1 -> x2 -> P2 -> x3 -> P3 -> x4, x1..x3 measured
# ---------------------------------------------------------------------------------------

SERIES_A = np.array([[1.0, -1.0, 0.0, 0.0],
                     [0.0, 1.0, -1.0, 0.0],
                     [0.0, 0.0, 1.0, -1.0]])
SERIES_X = np.array([100.0, 104.0, 97.0])
SERIES_S = np.array([2.0, 4.0, 3.0])


@pytest.fixture(scope="module")
def series():
    p = _problem(SERIES_A, {i: (SERIES_X[i], SERIES_S[i]) for i in range(3)}, n=4)
    return reconcile(p)


def test_series_value_is_inverse_variance_mean(series):
    w = 1.0 / SERIES_S ** 2
    mean = float(np.sum(w * SERIES_X) / np.sum(w))          # 99.8033
    assert series.success
    np.testing.assert_allclose(series.z, [mean] * 4, rtol=0, atol=1e-7)
    np.testing.assert_allclose(series.reconciled, [mean] * 3, rtol=0, atol=1e-7)
    assert series.max_balance_residual < 1e-9


def test_series_variance_is_inverse_sum_of_inverse_variances(series):
    var = 1.0 / np.sum(1.0 / SERIES_S ** 2)                   # 2.3607
    np.testing.assert_allclose(series.reconciled_sigma, [np.sqrt(var)] * 3, rtol=1e-9)
    # x4 is unmeasured but determined by the balance P3: finite sigma, the same one
    np.testing.assert_allclose(series.z_sigma, [np.sqrt(var)] * 4, rtol=1e-9)
    assert np.all(np.isfinite(series.z_sigma))


def test_series_chi2_dof_p(series):
    w = 1.0 / SERIES_S ** 2
    mean = np.sum(w * SERIES_X) / np.sum(w)
    chi2 = float(np.sum((SERIES_X - mean) ** 2 * w))         # 1.9836
    assert series.dof == 2
    assert series.chi2 == pytest.approx(chi2, rel=1e-9)
    assert series.p_value == pytest.approx(float(stats.chi2.sf(chi2, 2)), rel=1e-8)
    np.testing.assert_allclose(series.moved_sigma, (mean - SERIES_X) / SERIES_S, rtol=1e-8)


def test_series_normalised_residuals(series):
    w = 1.0 / SERIES_S ** 2
    mean = np.sum(w * SERIES_X) / np.sum(w)
    var = 1.0 / np.sum(w)
    expected = (SERIES_X - mean) / np.sqrt(SERIES_S ** 2 - var)
    np.testing.assert_allclose(series.normalized_residual, expected, rtol=1e-8)
    # the same from the general matrix formula (x4 is eliminated: A' on x1..x3)
    _, _, nres, chi2 = _closed_form([[1, -1, 0], [0, 1, -1]], SERIES_X, SERIES_S)
    np.testing.assert_allclose(series.normalized_residual, nres, rtol=1e-8)
    assert series.flags == ()
    assert series.critical == pytest.approx(float(stats.norm.ppf(1 - 0.05 / 2 / 3)), rel=1e-12)


# ---------------------------------------------------------------------------------------
# splitter: x1 -> P -> x2 + x3, all measured; A = [1, -1, -1]
# ---------------------------------------------------------------------------------------

SPLIT_A = np.array([[1.0, -1.0, -1.0]])
SPLIT_X = np.array([100.0, 62.0, 45.0])
SPLIT_S = np.array([3.0, 2.0, 1.5])


@pytest.fixture(scope="module")
def splitter():
    return reconcile(_problem(SPLIT_A, {i: (SPLIT_X[i], SPLIT_S[i]) for i in range(3)}, n=3))


def test_splitter_closed_form(splitter):
    x_hat, cov_hat, _, chi2 = _closed_form(SPLIT_A, SPLIT_X, SPLIT_S)
    assert splitter.success
    np.testing.assert_allclose(splitter.z, x_hat, rtol=0, atol=1e-7)
    assert splitter.z[0] == pytest.approx(splitter.z[1] + splitter.z[2], abs=1e-9)
    np.testing.assert_allclose(splitter.reconciled_sigma, np.sqrt(np.diag(cov_hat)), rtol=1e-9)
    np.testing.assert_allclose(splitter.z_sigma, np.sqrt(np.diag(cov_hat)), rtol=1e-9)
    assert splitter.dof == 1
    assert splitter.chi2 == pytest.approx(chi2, rel=1e-9)
    # one constraint: chi2 = (A x)^2 / (A V A^T)
    ax = float(SPLIT_A[0] @ SPLIT_X)
    avat = float(SPLIT_A[0] @ np.diag(SPLIT_S ** 2) @ SPLIT_A[0])
    assert splitter.chi2 == pytest.approx(ax ** 2 / avat, rel=1e-9)
    assert splitter.p_value == pytest.approx(float(stats.chi2.sf(ax ** 2 / avat, 1)), rel=1e-8)


def test_splitter_normalised_residuals_equal_magnitude(splitter):
    _, _, nres, _ = _closed_form(SPLIT_A, SPLIT_X, SPLIT_S)
    np.testing.assert_allclose(splitter.normalized_residual, nres, rtol=1e-8)
    ax = float(SPLIT_A[0] @ SPLIT_X)                              # -7
    avat = float(np.sum(SPLIT_S ** 2))                          # 15.25
    np.testing.assert_allclose(np.abs(splitter.normalized_residual),
                               [abs(ax) / np.sqrt(avat)] * 3, rtol=1e-8)
    # signs: the input is adjusted against the outputs
    assert np.sign(splitter.normalized_residual[0]) == -np.sign(splitter.normalized_residual[1])
    assert np.sign(splitter.normalized_residual[1]) == np.sign(splitter.normalized_residual[2])


# ---------------------------------------------------------------------------------------
# observability
# ---------------------------------------------------------------------------------------

def test_unmeasured_observable_flow_gets_finite_sigma():
    # splitter with x1, x2 measured, x3 = x1 - x2 determined by the balance
    r = reconcile(_problem(SPLIT_A, {0: (100.0, 3.0), 1: (62.0, 2.0)}, n=3,
                           start=np.array([100.0, 62.0, 38.0])))
    assert r.success
    np.testing.assert_allclose(r.z, [100.0, 62.0, 38.0], atol=1e-7)
    assert r.dof == 0
    assert r.chi2 == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(r.z_sigma, [3.0, 2.0, np.sqrt(9.0 + 4.0)], rtol=1e-9)
    # nothing redundant: no normalised residual, no flags, no p-value
    assert np.all(np.isnan(r.normalized_residual))
    assert r.flags == ()
    assert np.isnan(r.p_value)


def test_two_unmeasured_flows_in_one_balance_are_unobservable():
    # splitter with only x1 measured: x2 + x3 = x1 but neither is determined
    r = reconcile(_problem(SPLIT_A, {0: (100.0, 3.0)}, n=3,
                           start=np.array([100.0, 50.0, 50.0])))
    assert r.z[0] == pytest.approx(100.0, abs=1e-7)
    assert r.z[1] + r.z[2] == pytest.approx(100.0, abs=1e-6)
    assert r.z_sigma[0] == pytest.approx(3.0, rel=1e-9)
    assert np.isnan(r.z_sigma[1]) and np.isnan(r.z_sigma[2])
    assert r.dof == 0


def test_observable_and_unobservable_in_one_network():
    # x1 -> P1 -> x2 -> P2 -> x3 + x4 ; x1 measured: x2 observable, x3 and x4 not
    a = np.array([[1.0, -1.0, 0.0, 0.0],
                  [0.0, 1.0, -1.0, -1.0]])
    r = reconcile(_problem(a, {0: (80.0, 4.0)}, n=4, start=np.array([80.0, 80.0, 40.0, 40.0])))
    assert r.z[1] == pytest.approx(80.0, abs=1e-7)
    assert r.z_sigma[1] == pytest.approx(4.0, rel=1e-9)
    assert np.isnan(r.z_sigma[2]) and np.isnan(r.z_sigma[3])


# ---------------------------------------------------------------------------------------
# gross error detection (measurement test)
# ---------------------------------------------------------------------------------------

def _chain(n: int) -> np.ndarray:
    a = np.zeros((n - 1, n))
    a[np.arange(n - 1), np.arange(n - 1)] = 1.0
    a[np.arange(n - 1), np.arange(1, n)] = -1.0
    return a


def test_gross_error_six_flows_in_series_flags_only_that_figure():
    n, bad = 6, 3
    x = np.full(n, 50.0)
    s = np.ones(n)
    x[bad] += 10.0 * s[bad]                                    # 10 sigma off
    r = reconcile(_problem(_chain(n), {i: (x[i], s[i]) for i in range(n)}, n=n))
    _, _, nres, chi2 = _closed_form(_chain(n), x, s)
    np.testing.assert_allclose(r.normalized_residual, nres, rtol=1e-7)
    # |nres_bad| = 10 sqrt(5/6) = 9.13 ; the others 10 / (6 sqrt(5/6)) = 1.83
    assert abs(r.normalized_residual[bad]) == pytest.approx(10 * np.sqrt(5 / 6), rel=1e-7)
    assert r.critical == pytest.approx(float(stats.norm.ppf(1 - 0.05 / 2 / n)), rel=1e-12)
    assert r.flags == (bad,)
    assert r.dof == n - 1
    assert r.chi2 == pytest.approx(chi2, rel=1e-8)
    assert r.p_value < 1e-10


def test_gross_error_four_flows_in_series_largest_residual_is_the_bad_figure():
    # 4 equal-sigma flows in series: the gross error smears 10/(4 sqrt(3/4)) = 2.89 onto
    # the good figures, above the Bonferroni critical value 2.50, so the measurement test
    # flags all four (a property of the test, not of the engine); the bad figure is the one
    # with by far the largest normalised residual (8.66).
    n, bad = 4, 1
    x = np.full(n, 20.0)
    s = np.full(n, 0.5)
    x[bad] -= 10.0 * s[bad]
    r = reconcile(_problem(_chain(n), {i: (x[i], s[i]) for i in range(n)}, n=n))
    _, _, nres, _ = _closed_form(_chain(n), x, s)
    np.testing.assert_allclose(r.normalized_residual, nres, rtol=1e-7)
    assert int(np.argmax(np.abs(r.normalized_residual))) == bad
    assert abs(r.normalized_residual[bad]) == pytest.approx(10 * np.sqrt(3 / 4), rel=1e-7)
    assert bad in r.flags
    assert set(r.flags) == {0, 1, 2, 3}


def test_gross_error_four_flows_precise_others_flags_only_that_figure():
    # 4 flows in series; the three good meters are 4x more precise than the bad one, so its
    # error barely moves the others: only the bad figure is flagged
    n, bad = 4, 2
    x = np.full(n, 20.0)
    s = np.array([0.25, 0.25, 1.0, 0.25])
    x[bad] += 10.0 * s[bad]
    r = reconcile(_problem(_chain(n), {i: (x[i], s[i]) for i in range(n)}, n=n))
    _, _, nres, _ = _closed_form(_chain(n), x, s)
    np.testing.assert_allclose(r.normalized_residual, nres, rtol=1e-7)
    assert r.flags == (bad,)


def test_no_gross_error_no_flags():
    n = 6
    x = np.array([50.0, 50.5, 49.7, 50.2, 49.9, 50.1])
    r = reconcile(_problem(_chain(n), {i: (x[i], 0.5) for i in range(n)}, n=n))
    assert r.flags == ()
    np.testing.assert_allclose(r.z, [x.mean()] * n, atol=1e-7)


# ---------------------------------------------------------------------------------------
# non-negativity
# ---------------------------------------------------------------------------------------

def test_non_negativity_bound_holds_flow_at_zero():
    # splitter x1 = x2 + x3 with x1 = 10 (1), x2 = 12 (1), x3 = 1 (5): the unbounded WLS
    # answer puts x3 at 1 - 25 * 3/27 = -1.78 < 0
    x = np.array([10.0, 12.0, 1.0])
    s = np.array([1.0, 1.0, 5.0])
    unbounded, _, _, _ = _closed_form(SPLIT_A, x, s)
    assert unbounded[2] < 0                                   # the premise of the test
    r = reconcile(_problem(SPLIT_A, {i: (x[i], s[i]) for i in range(3)}, n=3))
    # with x3 held at 0 the balance is x1 = x2: their inverse-variance mean 11
    assert r.z[2] == pytest.approx(0.0, abs=1e-9)
    assert np.all(r.z >= 0.0)
    np.testing.assert_allclose(r.z, [11.0, 11.0, 0.0], atol=1e-6)
    assert r.max_balance_residual < 1e-8
    assert r.chi2 == pytest.approx(1.0 + 1.0 + (1.0 / 5.0) ** 2, rel=1e-6)
    # the bound-held flow carries no uncertainty; x1 = x2 get 1 / (1 + 1)
    np.testing.assert_allclose(r.z_sigma, [np.sqrt(0.5), np.sqrt(0.5), 0.0], atol=1e-9)


def test_non_negativity_inactive_when_not_needed():
    # the same splitter with a consistent small x3: the bound is not active and the
    # closed form holds exactly
    x = np.array([10.0, 8.0, 1.5])
    s = np.array([1.0, 1.0, 0.5])
    expected, cov, _, _ = _closed_form(SPLIT_A, x, s)
    assert np.all(expected > 0)
    r = reconcile(_problem(SPLIT_A, {i: (x[i], s[i]) for i in range(3)}, n=3))
    np.testing.assert_allclose(r.z, expected, atol=1e-7)
    np.testing.assert_allclose(r.z_sigma, np.sqrt(np.diag(cov)), rtol=1e-8)


def test_splitter_balance_chi2_counts_all_three_figures(splitter):
    # the one balance touches all three figures: its chi-square is the global one
    np.testing.assert_array_equal(splitter.balance_figures, [3])
    np.testing.assert_allclose(splitter.balance_chi2, [splitter.chi2], rtol=1e-12)


# ---------------------------------------------------------------------------------------
# engine bug: a bound that is touched but not binding is treated as an equality
# ---------------------------------------------------------------------------------------
#
# ``reconcile`` decides which bounds are active geometrically (``z - lower <= 1e-9 * s``)
# and fixes those variables when it builds the null space for the statistics. A bound
# that the solution merely touches, with a zero multiplier (the unbounded WLS optimum
# already satisfies it), is then treated as an extra equality: the variable gets sigma 0,
# ``dof`` grows by one and the other sigmas shrink. The statistics jump when a figure
# moves from 1e-3 to 0 (see the passing continuity tests below: at 1e-3 the closed form
# holds). The bound should count as active only when it binds (its KKT multiplier is
# positive, i.e. the unbounded solution would cross it).

_WEAK_BOUND = ("wls.reconcile treats a bound the solution only touches (zero multiplier) "
               "as fixed: sigma 0 and an extra degree of freedom for a flow that is exactly 0")


def test_unmeasured_flow_determined_as_exactly_zero_keeps_its_sigma():
    # x1 = x2 + x3, x1 = 10 (1), x2 = 10 (1), x3 unmeasured: x3 = x1 - x2 = 0,
    # sigma(x3) = sqrt(1 + 1), nothing redundant (dof 0) - as for x2 = 9.999
    r = reconcile(_problem(SPLIT_A, {0: (10.0, 1.0), 1: (10.0, 1.0)}, n=3,
                           start=np.array([10.0, 10.0, 0.0])))
    np.testing.assert_allclose(r.z, [10.0, 10.0, 0.0], atol=1e-9)
    assert r.dof == 0                                       # engine: 1
    np.testing.assert_allclose(r.z_sigma, [1.0, 1.0, np.sqrt(2.0)], rtol=1e-8)  # engine: .71 .71 0


def test_unmeasured_flow_determined_as_nearly_zero_keeps_its_sigma():
    # the same with x2 = 9.999: correct (the continuity reference for the test above)
    r = reconcile(_problem(SPLIT_A, {0: (10.0, 1.0), 1: (9.999, 1.0)}, n=3,
                           start=np.array([10.0, 9.999, 1e-3])))
    assert r.z[2] == pytest.approx(1e-3, rel=1e-6)
    assert r.dof == 0
    np.testing.assert_allclose(r.z_sigma, [1.0, 1.0, np.sqrt(2.0)], rtol=1e-8)


def test_measured_zero_flow_consistent_with_balance_keeps_its_sigma():
    # x1 = 10, x2 = 10, x3 = 0, all sigma 1: consistent data, the bound x3 >= 0 does not
    # bind; closed form: dof 1, every sigma sqrt(2/3) - as for x3 = 1e-3
    x = np.array([10.0, 10.0, 0.0])
    _, cov, _, _ = _closed_form(SPLIT_A, x, np.ones(3))
    r = reconcile(_problem(SPLIT_A, {i: (x[i], 1.0) for i in range(3)}, n=3))
    np.testing.assert_allclose(r.z, x, atol=1e-9)
    assert r.dof == 1                                       # engine: 2
    np.testing.assert_allclose(r.z_sigma, np.sqrt(np.diag(cov)), rtol=1e-8)  # engine: .71 .71 0


def test_measured_nearly_zero_flow_keeps_its_sigma():
    x = np.array([10.0, 10.0 - 1e-3, 1e-3])
    _, cov, _, _ = _closed_form(SPLIT_A, x, np.ones(3))
    r = reconcile(_problem(SPLIT_A, {i: (x[i], 1.0) for i in range(3)}, n=3))
    np.testing.assert_allclose(r.z, x, atol=1e-9)
    assert r.dof == 1
    np.testing.assert_allclose(r.z_sigma, np.sqrt(np.diag(cov)), rtol=1e-8)
