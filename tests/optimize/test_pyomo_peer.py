"""Peer comparison: the same LP written in Pyomo (benchmarks/pyomo_reference.py) and
solved with HiGHS through appsi gives the same optimum as rareflow's linopy model."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from optimize_cases import graded, staffed

from rareflow.engines.optimize import build_model, prepare, solve_model
from rareflow.engines.optimize.synthetic import synthetic_problem

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
pyomo_reference = pytest.importorskip("pyomo_reference")


def _agree(p) -> None:
    """Both models solve ``p`` to the same optimum with the same rows and columns."""
    m = build_model(p)
    status, _ = solve_model(m, {"solver": "simplex"})
    assert status == "ok"
    pm = pyomo_reference.build_pyomo(p)
    cond, obj = pyomo_reference.solve_pyomo(pm)
    assert "optimal" in cond
    assert m.objective.value == pytest.approx(obj, rel=1e-6)
    assert m.nvars == pm.nvariables()
    assert m.ncons == pm.nconstraints()


@pytest.mark.parametrize("seed", [0, 1])
def test_same_objective_and_size_as_pyomo(seed):
    _agree(prepare(synthetic_problem(4, 6, 3, seed=seed)))


def test_grade_variants_on_shared_capacity_as_pyomo():
    """A high-grade variant running on its base line's capacity (``capacity_of``)."""
    _agree(prepare(graded()))


def test_same_objective_as_pyomo_compressed():
    from rareflow.engines.optimize.compress import compress_scenarios

    p, _ = compress_scenarios(prepare(synthetic_problem(4, 12, 6, seed=3)))
    m = build_model(p)
    status, _ = solve_model(m, {"solver": "simplex"})
    pm = pyomo_reference.build_pyomo(p)
    cond, obj = pyomo_reference.solve_pyomo(pm)
    assert m.objective.value == pytest.approx(obj, rel=1e-6)
    assert (m.nvars, m.ncons) == (pm.nvariables(), pm.nconstraints())


def test_workforce_limit_as_pyomo():
    """A binding workforce limit (jobs of new capacity ≤ the trained pipeline)."""
    _agree(prepare(staffed(10.0)))
