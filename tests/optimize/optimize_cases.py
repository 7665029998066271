"""Small hand-checkable plan problems shared by the tests (not a test module)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from rareflow.engines.optimize import OPTION, PlanInputs


def da(values, **coords) -> xr.DataArray:
    """DataArray from nested lists, dims in keyword order."""
    return xr.DataArray(np.asarray(values, dtype=float), coords=coords, dims=list(coords))


def two_region(
    *,
    years=(2030, 2031),
    coverage=(80.0, 80.0),
    rate=np.inf,
    china_avail=None,
    probability=None,
) -> PlanInputs:
    """Two regions (A, B), one stage ('make' -> magnet, no inputs), two years, r = 0.

    A: demand 100 t/yr, no capacity; build option 'a_plant': capex 1000 USD per t/yr,
       lifetime 10 yr (crf 0.1 at r = 0 -> 100 USD/(t/yr)/yr), fixed opex 20 -> 120
       USD/(t/yr)/yr; variable opex 10 USD/t.
    B: 60 t/yr existing, variable opex 30 USD/t, no demand; exports join pool 'pool_b',
       which A counts as allied.
    China: unlimited at 100 USD/t, not allied. Unmet demand 10,000 USD/t.
    """
    years = list(years)
    demand = da([[[100.0] * len(years)], [[0.0] * len(years)]],
                region=["A", "B"], material=["magnet"], year=years)
    inp = PlanInputs(
        demand=demand,
        input_coef=da([[0.0]], process=["make"], material=["magnet"]),
        output_coef=da([[1.0]], process=["make"], material=["magnet"]),
        existing_capacity=da([[[0.0] * len(years)], [[60.0] * len(years)]],
                             region=["A", "B"], process=["make"], year=years),
        capex=da([[[1000.0]], [[np.nan]]], region=["A", "B"], process=["make"],
                 **{OPTION: ["a_plant"]}),
        fixed_opex=da([[[20.0]], [[np.nan]]], region=["A", "B"], process=["make"],
                      **{OPTION: ["a_plant"]}),
        lifetime=da([[[10.0]], [[np.nan]]], region=["A", "B"], process=["make"],
                    **{OPTION: ["a_plant"]}),
        max_build_rate=da([[[rate]], [[np.inf]]], region=["A", "B"], process=["make"],
                          **{OPTION: ["a_plant"]}),
        var_opex=da([[10.0], [30.0]], region=["A", "B"], process=["make"]),
        import_price=da([[[100.0] * len(years)]], origin=["china"], material=["magnet"],
                        year=years),
        import_availability=china_avail,
        probability=probability,
        allied=xr.DataArray([[False, True], [False, True]],
                            coords={"region": ["A", "B"], "origin": ["china", "pool_b"]},
                            dims=["region", "origin"]),
        region_origin=xr.DataArray(np.array(["", "pool_b"], dtype=object),
                                   coords={"region": ["A", "B"]}, dims=["region"]),
        coverage_requirement=da([[list(coverage)], [[np.nan] * len(years)]],
                                region=["A", "B"], material=["magnet"], year=years),
        unmet_penalty=1e4,
        discount_rate=0.0,
    )
    return inp


def graded(*, shared: bool = True, variant_capex: bool = False) -> PlanInputs:
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
        demand=da([[[40.0], [50.0]]], region=["A"], material=mats, year=[2030]),
        input_coef=da([[0.0, 0.0], [0.0, 0.0]], process=procs, material=mats),
        output_coef=da([[1.0, 0.0], [0.0, 1.0]], process=procs, material=mats),
        existing_capacity=da([[[60.0], [0.0]]], region=["A"], process=procs, year=[2030]),
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


def staffed(limit: float | None) -> PlanInputs:
    """The graded case with a workforce limit: a new ``make`` line needs 0.5 jobs per t/yr,
    and ``limit`` jobs can be trained by 2030 (None: no limit)."""
    p = graded()
    if limit is None:
        return p
    return p.replace(
        jobs_per_capacity=da([[0.5, 0.0]], region=["A"], process=["make", "make_hi"]),
        workforce_additions=da([[limit]], region=["A"], year=[2030]))
