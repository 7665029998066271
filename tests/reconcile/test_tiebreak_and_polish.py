"""The QP step reaches the optimum, not a point near the start, and the tie-break picks the
least flow among states that fit the figures equally well (hand cases)."""

from __future__ import annotations

import numpy as np
import pytest

from rareflow.engines.reconcile import ReconcileProblem, Rows, reconcile


def _route_problem(tiebreak: bool) -> ReconcileProblem:
    """A makes ``a`` (reported 100 +- 5), B uses ``b`` (reported 90 +- 5). A ships to B
    directly (``d``) or through C (``c1`` into C, ``c2`` out of C), none of them reported.

    Balances: a - d - c1 = 0 (A), c1 - c2 = 0 (C), d + c2 - b = 0 (B). By hand the
    reconciled a = b = 95 (equal sigmas split the 10-t gap), chi2 = 2 x 1^2 = 2; any split
    of the 95 t between the routes fits as well, and the least flow is all direct: d = 95,
    c1 = c2 = 0 (the route through C moves each tonne twice).
    """
    #           a     b     d    c1    c2
    bal = np.array([[1.0, 0.0, -1.0, -1.0, 0.0],
                    [0.0, 0.0, 0.0, 1.0, -1.0],
                    [0.0, -1.0, 1.0, 0.0, 1.0]])
    fig = np.array([[1.0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0]])
    return ReconcileProblem(
        variables=("a", "b", "d", "c1", "c2"),
        start=np.array([100.0, 90.0, 10.0, 80.0, 80.0]),     # starts mostly via C
        lower=np.zeros(5), upper=np.full(5, np.inf),
        balances=Rows.linear(bal), balance_names=("A", "C", "B"),
        figures=Rows.linear(fig), figure_ids=("a", "b"),
        reported=np.array([100.0, 90.0]), sigma=np.array([5.0, 5.0]),
        tiebreak=np.array([0.0, 0.0, 1e-6, 1e-6, 1e-6]) if tiebreak else None)


def test_reconciled_values_and_chi2_by_hand():
    r = reconcile(_route_problem(tiebreak=True))
    assert r.success
    # the tie-break moves the fit by at most tiebreak x sigma^2 (1e-6 x 25)
    assert r.reconciled == pytest.approx([95.0, 95.0], abs=1e-4)
    assert r.chi2 == pytest.approx(2.0, abs=1e-4)
    assert r.dof == 1


def test_tiebreak_picks_the_direct_route():
    r = reconcile(_route_problem(tiebreak=True))
    a, b, d, c1, c2 = r.z
    assert d == pytest.approx(95.0, abs=1e-4)
    assert c1 == pytest.approx(0.0, abs=1e-4) and c2 == pytest.approx(0.0, abs=1e-4)


def test_tiebreak_does_not_enter_chi2():
    with_tb = reconcile(_route_problem(tiebreak=True))
    without = reconcile(_route_problem(tiebreak=False))
    assert with_tb.chi2 == pytest.approx(without.chi2, abs=1e-4)
    assert without.reconciled == pytest.approx([95.0, 95.0], abs=1e-6)
