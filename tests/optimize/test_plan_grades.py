"""Grade variants share their base line's capacity (``capacity_of``), solved by hand (the
Pyomo peer: tests/optimize/test_pyomo_peer.py); a variant with capacity of its own is refused."""

from __future__ import annotations

import pytest
from optimize_cases import graded as _graded

from rareflow.engines.optimize import optimize_plan, prepare
from rareflow.errors import RareflowInputError


def test_variant_runs_on_the_base_lines_capacity():
    r = optimize_plan(_graded())
    assert r.status == "optimal"
    act = r.activity.sel(region="A", year=2030).squeeze()
    assert float(act.sel(process="make")) == pytest.approx(40.0)
    assert float(act.sel(process="make_hi")) == pytest.approx(50.0)
    assert float(r.build.sum()) == pytest.approx(30.0)
    assert float(r.unmet.sum()) == pytest.approx(0.0, abs=1e-6)
    assert r.objective == pytest.approx(30 * 120 + 90 * 10)


def test_without_sharing_the_variant_cannot_run():
    """The same data without ``capacity_of``: make_hi has no capacity and no option, so the
    50 t of high-grade demand go unmet (50 x 1000) and nothing is built."""
    r = optimize_plan(_graded(shared=False))
    assert float(r.unmet.sum()) == pytest.approx(50.0)
    assert float(r.build.sum()) == pytest.approx(0.0, abs=1e-6)
    assert r.objective == pytest.approx(40 * 10 + 50 * 1000)


def test_variant_with_its_own_capacity_is_refused():
    with pytest.raises(RareflowInputError, match="capacity_of.make_hi: make_hi runs on make"):
        prepare(_graded(variant_capex=True))


def test_workforce_limits_the_build():
    """With 0.5 jobs per t/yr of new line and 10 jobs trained, only 20 t/yr can be built
    (not the 30 the demand asks for): 10 t go unmet. Cost 20 x 120 + 80 x 10 + 10 x 1000
    = 13,200. With 100 jobs the limit is slack and the plan is the unlimited one."""
    from optimize_cases import staffed

    r = optimize_plan(staffed(10.0))
    assert float(r.build.sum()) == pytest.approx(20.0)
    assert float(r.unmet.sum()) == pytest.approx(10.0)
    assert r.objective == pytest.approx(20 * 120 + 80 * 10 + 10 * 1000)
    assert optimize_plan(staffed(100.0)).objective == pytest.approx(
        optimize_plan(staffed(None)).objective)
