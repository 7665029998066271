"""Grade variants share their base line's capacity (``capacity_of``), solved by hand and
against the Pyomo peer; a variant with capacity of its own is refused."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from optimize_cases import da

from rareflow.engines.optimize import OPTION, PlanInputs, optimize_plan, prepare
from rareflow.errors import RareflowInputError

YEARS = [2030]


def _graded(*, shared: bool = True, variant_capex: bool = False) -> PlanInputs:
    """One region, a magnet line ``make`` (60 t/yr existing) and its high-grade variant
    ``make_hi``; demand 40 t of magnets and 50 t of high-grade magnets. A new ``make``
    line costs 1000 USD per t/yr over 10 years at r = 0 (100/yr) plus 20/yr fixed:
    120 USD per t/yr-year against an unmet penalty of 1000 USD/t. Variable cost 10 USD/t.

    Shared capacity: 60 + 30 built = 90 t made (40 + 50); cost 30 x 120 + 90 x 10 = 4,500.
    """
    procs, mats = ["make", "make_hi"], ["magnet", "magnet_hi"]
    capex = [[[1000.0], [np.nan]]]
    if variant_capex:
        capex = [[[1000.0], [1000.0]]]
    opt = {OPTION: ["line"]}
    return PlanInputs(
        demand=da([[[40.0], [50.0]]], region=["A"], material=mats, year=YEARS),
        input_coef=da([[0.0, 0.0], [0.0, 0.0]], process=procs, material=mats),
        output_coef=da([[1.0, 0.0], [0.0, 1.0]], process=procs, material=mats),
        existing_capacity=da([[[60.0], [0.0]]], region=["A"], process=procs, year=YEARS),
        capex=da(capex, region=["A"], process=procs, **opt),
        fixed_opex=da([[[20.0], [20.0]]], region=["A"], process=procs, **opt),
        lifetime=da([[[10.0], [10.0]]], region=["A"], process=procs, **opt),
        var_opex=da([[10.0, 10.0]], region=["A"], process=procs),
        unmet_penalty=1000.0,
        discount_rate=0.0,
        capacity_of=(xr.DataArray(np.array(["", "make"], dtype=object),
                                  coords={"process": procs}, dims=["process"])
                     if shared else None),
    )


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


def test_same_optimum_as_pyomo_peer():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    pyomo_reference = pytest.importorskip("pyomo_reference")
    from rareflow.engines.optimize import build_model, solve_model

    p = prepare(_graded())
    m = build_model(p)
    status, _ = solve_model(m, {"solver": "simplex"})
    assert status == "ok"
    pm = pyomo_reference.build_pyomo(p)
    cond, obj = pyomo_reference.solve_pyomo(pm)
    assert "optimal" in cond
    assert m.objective.value == pytest.approx(obj, rel=1e-9)
    assert m.ncons == pm.nconstraints() and m.nvars == pm.nvariables()
