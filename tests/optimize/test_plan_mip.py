"""Lumpy builds: a minimum plant size and standard line sizes make the plan a mixed-integer
problem (HiGHS branch and bound). Hand-solved on the two-region case of test_plan_small."""

from __future__ import annotations

import numpy as np
import pytest
from optimize_cases import da, two_region

from rareflow.engines.optimize import OPTION, optimize_plan
from rareflow.errors import RareflowInputError

RPO = {"region": ["A", "B"], "process": ["make"], OPTION: ["a_plant"]}


def _lumpy(min_build=0.0, step=0.0, rate=np.inf, max_cap=np.inf):
    inp = two_region(rate=rate)
    return inp.replace(min_build=da([[[min_build]], [[0.0]]], **RPO),
                       build_step=da([[[step]], [[0.0]]], **RPO),
                       max_capacity=da([[[max_cap]], [[np.inf]]], **RPO))


def test_minimum_plant_size_by_hand():
    """The LP builds 20 t/yr in A (cost 12,800, test_plan_small). With a minimum size of
    50 t/yr the build is 0 or >= 50, and the target needs 20 from A: build 50 in 2030.

    Per year: capacity 50 x 120 = 6,000; A runs its 50 t at 10 = 500 (cheaper than B's 30
    and China's 100 once built); B supplies the other 50 at 30 = 1,500. 8,000 a year,
    16,000 over two years. Nothing is imported from China.
    """
    r = optimize_plan(_lumpy(min_build=50.0, max_cap=200.0))
    assert r.objective == pytest.approx(16_000.0)
    b = r.build.sel(region="A", process="make", option="a_plant")
    np.testing.assert_allclose(b.values, [50.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(r.activity.sel(region="A", process="make").squeeze(), [50, 50],
                               atol=1e-6)
    np.testing.assert_allclose(
        r.imports.sel(region="A", origin="china", material="magnet").squeeze(), [0, 0],
        atol=1e-6)
    assert r.mip is not None
    assert r.mip["objective"] == pytest.approx(16_000.0)
    assert 0.0 <= r.mip["gap"] <= 1e-4
    assert r.mip["dual_bound"] <= r.mip["objective"] + 1e-6


def test_standard_line_size_by_hand():
    """Lines of 15 t/yr: 20 t/yr needed from A -> two lines, 30 t/yr, built in 2030.

    Per year: 30 x 120 = 3,600 capacity; A runs 30 at 10 = 300; B 60 at 30 = 1,800;
    China the last 10 at 100 = 1,000. 6,700 a year, 13,400 in all.
    """
    r = optimize_plan(_lumpy(step=15.0))
    assert r.objective == pytest.approx(13_400.0)
    b = r.build.sel(region="A", process="make", option="a_plant")
    np.testing.assert_allclose(b.values, [30.0, 0.0], atol=1e-6)
    assert r.mip is not None and r.mip["gap"] <= 1e-4


def test_lp_stays_lp_and_minimum_not_binding():
    """No lumps: no MIP figures. A minimum below the LP's build changes nothing."""
    assert optimize_plan(two_region()).mip is None
    r = optimize_plan(_lumpy(min_build=10.0, max_cap=200.0))
    assert r.objective == pytest.approx(12_800.0)
    assert r.mip is not None


def test_minimum_without_bound_is_refused():
    with pytest.raises(RareflowInputError, match="min_build but neither"):
        optimize_plan(_lumpy(min_build=50.0))
    with pytest.raises(RareflowInputError, match="exceeds the largest build"):
        optimize_plan(_lumpy(min_build=50.0, max_cap=40.0))
