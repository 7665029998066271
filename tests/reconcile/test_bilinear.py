"""Bilinear reconciliation: a process with an uncertain yield ``y`` (output = y * input).

The balance ``out - y * in = 0`` is written with the engine's bilinear terms; ``in``,
``out`` and ``y`` are all measured. The reconciled state is checked against an independent
solution of the same problem (the balance eliminated, ``out = y * in``, and the resulting
unconstrained chi-square minimised with SciPy's BFGS), and the statistics against the
problem linearised at that solution (as STAN does; Cencic 2016, Sustain. Environ. Res.
26:291-298).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

from rareflow.engines.reconcile import ReconcileProblem, Rows, reconcile

IN, OUT, Y = 0, 1, 2
REPORTED = np.array([100.0, 78.0, 0.75])     # in, out, yield
SIGMA = np.array([2.0, 1.5, 0.02])


def _problem(reported=REPORTED, sigma=SIGMA) -> ReconcileProblem:
    # out - y * in = 0 : linear part picks `out`, one bilinear term -1 * z[y] * z[in]
    balances = Rows(lin=np.array([[0.0, 1.0, 0.0]]), const=np.zeros(1),
                    row=np.array([0]), a=np.array([Y]), b=np.array([IN]),
                    coef=np.array([-1.0]))
    return ReconcileProblem(
        variables=("in", "out", "y"),
        start=np.asarray(reported, float).copy(),
        lower=np.array([0.0, 0.0, 0.0]),
        upper=np.array([np.inf, np.inf, 1.0]),
        balances=balances,
        balance_names=("yield",),
        figures=Rows.linear(np.eye(3)),
        figure_ids=("m_in", "m_out", "m_y"),
        reported=np.asarray(reported, float),
        sigma=np.asarray(sigma, float),
    )


def _independent(reported=REPORTED, sigma=SIGMA) -> np.ndarray:
    """The same objective with the balance substituted: minimise over (in, y)."""
    r, s = np.asarray(reported, float), np.asarray(sigma, float)

    def chi2(u):
        f_in, y = u
        z = np.array([f_in, y * f_in, y])
        return float(np.sum(((z - r) / s) ** 2))

    def grad(u):
        f_in, y = u
        z = np.array([f_in, y * f_in, y])
        e = 2.0 * (z - r) / s ** 2
        return np.array([e[0] + e[1] * y, e[1] * f_in + e[2]])

    sol = optimize.minimize(chi2, x0=[r[0], r[2]], jac=grad, method="BFGS",
                            options={"gtol": 1e-12, "maxiter": 10_000})
    f_in, y = sol.x
    return np.array([f_in, y * f_in, y])


@pytest.fixture(scope="module")
def result():
    return reconcile(_problem())


def test_bilinear_matches_independent_minimiser(result):
    expected = _independent()
    assert result.success
    np.testing.assert_allclose(result.z, expected, rtol=1e-7)
    # the data really conflict (0.75 * 100 = 75 != 78), so the state moved
    assert np.all(np.abs(result.z - REPORTED) > 1e-3 * SIGMA)


def test_bilinear_constraint_holds(result):
    z = result.z
    assert abs(z[OUT] - z[Y] * z[IN]) < 1e-8
    assert result.max_balance_residual < 1e-8


def test_bilinear_statistics_of_the_linearised_problem(result):
    z = result.z
    v = np.diag(SIGMA ** 2)
    g = np.array([[-z[Y], 1.0, -z[IN]]])          # d(out - y*in)/d(in, out, y) at z
    gvg = float(g[0] @ v @ g[0])
    cov = v - v @ g.T @ g @ v / gvg
    chi2 = float(np.sum(((z - REPORTED) / SIGMA) ** 2))
    assert result.dof == 1
    assert result.chi2 == pytest.approx(chi2, rel=1e-9)
    assert result.p_value == pytest.approx(float(stats.chi2.sf(chi2, 1)), rel=1e-8)
    np.testing.assert_allclose(result.z_sigma, np.sqrt(np.diag(cov)), rtol=1e-6)
    np.testing.assert_allclose(result.reconciled_sigma, np.sqrt(np.diag(cov)), rtol=1e-6)
    # one (linearised) constraint: the three normalised residuals have equal magnitude
    # sqrt(chi2), and the first-order optimality condition r - z = V g^T mu holds
    nres = (REPORTED - z) / np.sqrt(np.diag(v @ g.T @ g @ v) / gvg)
    np.testing.assert_allclose(result.normalized_residual, nres, rtol=1e-6)
    np.testing.assert_allclose(np.abs(result.normalized_residual), [np.sqrt(chi2)] * 3, rtol=1e-6)
    mu = (REPORTED - z) / (SIGMA ** 2 * g[0])
    np.testing.assert_allclose(mu, [mu[0]] * 3, rtol=1e-6)


def test_bilinear_consistent_data_are_not_moved():
    reported = np.array([100.0, 75.0, 0.75])
    r = reconcile(_problem(reported=reported))
    np.testing.assert_allclose(r.z, reported, rtol=1e-9)
    assert r.chi2 == pytest.approx(0.0, abs=1e-12)


def test_bilinear_unmeasured_yield_is_computed_and_observable():
    # in and out measured, y not: y = out / in, no redundancy
    p = _problem()
    p = ReconcileProblem(
        variables=p.variables, start=p.start, lower=p.lower, upper=p.upper,
        balances=p.balances, balance_names=p.balance_names,
        figures=Rows.linear(np.eye(3)[:2]), figure_ids=("m_in", "m_out"),
        reported=REPORTED[:2], sigma=SIGMA[:2])
    r = reconcile(p)
    assert r.z[Y] == pytest.approx(78.0 / 100.0, rel=1e-9)
    assert r.dof == 0
    # error propagation of y = out / in
    var_y = (SIGMA[OUT] / 100.0) ** 2 + (78.0 * SIGMA[IN] / 100.0 ** 2) ** 2
    assert r.z_sigma[Y] == pytest.approx(np.sqrt(var_y), rel=1e-6)


def test_bilinear_splitter_with_yield_two_balances():
    # in -> P -> product + residue;  in = product + residue,  product = y * in
    # variables: in, product, residue, y ; all measured
    reported = np.array([200.0, 125.0, 80.0, 0.60])
    sigma = np.array([4.0, 3.0, 2.5, 0.015])
    balances = Rows(lin=np.array([[1.0, -1.0, -1.0, 0.0],
                                  [0.0, 1.0, 0.0, 0.0]]),
                    const=np.zeros(2), row=np.array([1]), a=np.array([3]), b=np.array([0]),
                    coef=np.array([-1.0]))
    p = ReconcileProblem(
        variables=("in", "product", "residue", "y"), start=reported.copy(),
        lower=np.zeros(4), upper=np.array([np.inf, np.inf, np.inf, 1.0]),
        balances=balances, balance_names=("mass", "yield"),
        figures=Rows.linear(np.eye(4)), figure_ids=("m_in", "m_p", "m_r", "m_y"),
        reported=reported, sigma=sigma)
    r = reconcile(p)

    def chi2(u):                                   # eliminate product = y in, residue = (1-y) in
        f_in, y = u
        z = np.array([f_in, y * f_in, (1 - y) * f_in, y])
        return float(np.sum(((z - reported) / sigma) ** 2))

    sol = optimize.minimize(chi2, x0=[reported[0], reported[3]], method="Nelder-Mead",
                            options={"xatol": 1e-11, "fatol": 1e-14, "maxiter": 20_000})
    f_in, y = sol.x
    expected = np.array([f_in, y * f_in, (1 - y) * f_in, y])
    assert r.success
    np.testing.assert_allclose(r.z, expected, rtol=1e-7)
    assert r.chi2 == pytest.approx(sol.fun, rel=1e-7)
    assert r.dof == 2
    z = r.z
    assert abs(z[0] - z[1] - z[2]) < 1e-8
    assert abs(z[1] - z[3] * z[0]) < 1e-8
