"""Hand-checked capacity-expansion problems (see tests/optimize/cases.py for the data)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from optimize_cases import da, two_region

from rareflow.engines.optimize import OPTION, PlanInputs, optimize_plan, upstream_requirements
from rareflow.errors import InfeasibleError, RareflowInputError


def test_two_region_plan_and_duals():
    """Two regions, one stage, two years, discount rate 0.

    Cost of a tonne delivered to A each year: from B's existing plant 30 (only 60 t/yr),
    from China 100 (not allied), from a new plant in A 120 (annualised capex 100 + fixed
    opex 20) + 10 = 130. Without a target A takes 60 from B and 40 from China. The target
    (80 t/yr secure) needs 80 - 60 = 20 t/yr more from A: build 20 t/yr in 2030, none in
    2031. Cost per year = 20*130 + 60*30 + 20*100 = 6,400; two years 12,800.

    Duals: coverage = 130 - 100 = 30 USD/t (one more secure tonne replaces a Chinese one
    by a new one). Capacity of B = -100 (one more B tonne at 30 replaces a new A tonne at
    130, since it is also secure); capacity of A = -120 (saves one t/yr of new capacity).
    """
    r = optimize_plan(two_region())
    assert r.objective == pytest.approx(12_800.0)
    b = r.build.sel(region="A", process="make", option="a_plant")
    np.testing.assert_allclose(b.values, [20.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(r.capacity.sel(region="A", process="make"), [20.0, 20.0])
    np.testing.assert_allclose(r.exports.sel(region="B", material="magnet").squeeze(), [60, 60])
    np.testing.assert_allclose(
        r.imports.sel(region="A", origin="china", material="magnet").squeeze(), [20, 20],
        atol=1e-6,
    )
    np.testing.assert_allclose(
        r.coverage_marginal_cost.sel(region="A", material="magnet"), [30.0, 30.0]
    )
    cap = r.duals["capacity"].sel(scenario="base", process="make")
    np.testing.assert_allclose(cap.sel(region="B"), [-100.0, -100.0])
    np.testing.assert_allclose(cap.sel(region="A"), [-120.0, -120.0])
    # costs add up to the objective; nothing written back into the inputs
    assert r.total_cost(discounted=True) == pytest.approx(12_800.0)
    assert float(r.costs["capex"].sum()) == pytest.approx(2 * 20 * 100.0)
    assert float(r.overnight_capex.sum()) == pytest.approx(20 * 1000.0)
    binding = r.binding.set_index("family")
    assert binding.loc["coverage", "binding"] == 2
    assert binding.loc["build_rate", "rows"] == 0


def test_without_target_no_build():
    """No coverage target: China (100) beats a new plant (130), so nothing is built."""
    r = optimize_plan(two_region(coverage=(np.nan, np.nan)))
    assert float(r.build.sum()) == pytest.approx(0.0, abs=1e-6)
    assert r.objective == pytest.approx(2 * (60 * 30 + 40 * 100))


def test_build_rate_limit_binds():
    """Target 80 only in 2031; at most 15 t/yr can be added per year.

    20 t/yr are needed in 2031, so at least 5 must be built in 2030 (and are then used
    in 2030, replacing Chinese tonnes: extra cost 120 + 10 - 100 = 30 per t/yr).
    Objective: 2030: 5*130 + 60*30 + 35*100 = 5,950; 2031: 6,400; total 12,350.
    Dual of build_rate[A, 2031] = -30 (one more t/yr of allowance saves one t/yr built a
    year early). Coverage marginal cost in 2031 = 30 (new vs Chinese tonne) + 30 (the
    early build) = 60 USD/t.
    """
    r = optimize_plan(two_region(coverage=(np.nan, 80.0), rate=15.0))
    assert r.objective == pytest.approx(12_350.0)
    b = r.build.sel(region="A", process="make", option="a_plant")
    np.testing.assert_allclose(b.values, [5.0, 15.0], atol=1e-6)
    d = r.duals["build_rate"].sel(region="A", process="make", option="a_plant")
    np.testing.assert_allclose(d.values, [0.0, -30.0], atol=1e-6)
    mc = r.coverage_marginal_cost.sel(region="A", material="magnet")
    assert np.isnan(mc.sel(year=2030))
    assert float(mc.sel(year=2031)) == pytest.approx(60.0)
    assert r.binding.set_index("family").loc["build_rate", "binding"] == 1


def test_infeasible_target_names_constraint_and_shortfall():
    """Target 80 from 2030 but only 10 t/yr can be built per year: 60 (B) + 10 = 70,
    short by 10 t/yr in 2030; in 2031 20 t/yr can be reached, so only 2030 is short."""
    with pytest.raises(InfeasibleError) as ei:
        optimize_plan(two_region(rate=10.0))
    msg = str(ei.value)
    assert "coverage[A, magnet, 2030]" in msg
    assert "short by 10.0 t/yr" in msg
    assert "required 80.0" in msg
    short = ei.value.shortfalls
    assert len(short) == 1
    assert short[0].year == 2030 and short[0].shortfall == pytest.approx(10.0)


def test_missing_cost_data_names_facility_and_field():
    inp = two_region()
    inp = inp.replace(
        fixed_opex=inp.fixed_opex.where(False),
        option_label=xr.DataArray([[["Vulcan Elements"]], [[""]]],
                                  coords=inp.capex.coords, dims=inp.capex.dims),
    )
    with pytest.raises(RareflowInputError) as ei:
        optimize_plan(inp)
    text = str(ei.value)
    assert "fixed_opex.Vulcan Elements" in text
    assert "fixed_opex" in text and "Vulcan Elements" in text


def test_missing_fixed_opex_field_entirely():
    inp = two_region().replace(fixed_opex=None)
    with pytest.raises(RareflowInputError, match=r"fixed_opex\.A/make/a_plant"):
        optimize_plan(inp)


def test_inputs_not_mutated():
    inp = two_region()
    before = {k: v.copy(deep=True) for k, v in vars(inp).items() if isinstance(v, xr.DataArray)}
    optimize_plan(inp)
    for k, v in before.items():
        xr.testing.assert_identical(getattr(inp, k), v)


def _separation(sale_limit: float, *, disposal: bool = True, market: bool = True) -> PlanInputs:
    """One region, one year. Separation makes 1 t NdPr oxide + 0.5 t La per t of activity
    (200 t/yr existing capacity, variable opex 0). Demand: 100 t oxide. La sells at 5 USD/t
    up to ``sale_limit`` t/yr, or is stored/disposed of at 8 USD/t."""
    mats = ["ndpr_oxide", "la"]
    return PlanInputs(
        demand=da([[[100.0], [0.0]]], region=["US"], material=mats, year=[2030]),
        input_coef=da([[0.0, 0.0]], process=["separation"], material=mats),
        output_coef=da([[1.0, 0.5]], process=["separation"], material=mats),
        existing_capacity=da([[[200.0]]], region=["US"], process=["separation"], year=[2030]),
        capex=da([[[np.nan]]], region=["US"], process=["separation"], **{OPTION: ["none"]}),
        fixed_opex=da([[[np.nan]]], region=["US"], process=["separation"], **{OPTION: ["none"]}),
        sale_price=da([[[np.nan], [5.0 if market else np.nan]]], region=["US"], material=mats,
                      year=[2030]),
        sale_limit=da([[[np.inf], [sale_limit]]], region=["US"], material=mats, year=[2030]),
        disposal_cost=da([[np.nan, 8.0 if disposal else np.nan]], region=["US"], material=mats),
        unmet_penalty=1000.0,
        discount_rate=0.0,
    )


def test_coproduct_balance_sell_then_dispose():
    """100 t oxide -> 50 t La: sell 20 (limit) for 100 USD, dispose 30 for 240 USD.
    Objective 240 - 100 = 140. Dual of sale_limit = -(5 + 8) = -13 USD/t (one more tonne
    of market earns 5 and saves 8 of disposal)."""
    r = optimize_plan(_separation(20.0))
    act = float(r.activity.sel(region="US", process="separation").squeeze())
    sales = float(r.sales.sel(region="US", material="la").squeeze())
    disp = float(r.disposal.sel(region="US", material="la").squeeze())
    assert act == pytest.approx(100.0)
    assert sales == pytest.approx(20.0) and disp == pytest.approx(30.0)
    assert sales + disp == pytest.approx(0.5 * act)  # co-product balance
    assert r.objective == pytest.approx(140.0)
    d = float(r.duals["sale_limit"].sel(region="US", material="la").squeeze())
    assert d == pytest.approx(-13.0)


def test_coproduct_without_outlet_caps_the_process():
    """La can be neither sold nor disposed of: separation cannot run, oxide demand is unmet
    (100 t at 1000 USD/t)."""
    r = optimize_plan(_separation(20.0, disposal=False, market=False))
    assert float(r.activity.sum()) == pytest.approx(0.0, abs=1e-6)
    assert float(r.unmet.sel(material="ndpr_oxide").sum()) == pytest.approx(100.0)
    assert r.objective == pytest.approx(100_000.0)


def _stochastic(p_ban: float, coverage: float = np.nan) -> PlanInputs:
    """One region, one year, r = 0, two scenarios: 'normal' (China unlimited at 100 USD/t)
    and 'ban' (China 0) with probability ``p_ban``. New plant: 120 USD/(t/yr)/yr annualised
    + 10 USD/t; unmet demand 250 USD/t; demand 100 t."""
    inp = two_region(years=(2030,), coverage=(coverage,), probability=xr.DataArray(
        [1 - p_ban, p_ban], coords={"scenario": ["normal", "ban"]}, dims=["scenario"]),
        china_avail=xr.DataArray(
            [[[[np.inf]]], [[[0.0]]]],
            coords={"scenario": ["normal", "ban"], "origin": ["china"],
                    "material": ["magnet"], "year": [2030]},
            dims=["scenario", "origin", "material", "year"]),
    )
    # drop region B (no allied supply) and lower the penalty
    return inp.replace(
        existing_capacity=inp.existing_capacity * 0.0, unmet_penalty=250.0
    )


@pytest.mark.parametrize(("p_ban", "expected_build"), [(0.25, 100.0), (0.1, 0.0)])
def test_stochastic_two_scenarios(p_ban, expected_build):
    """Expected value of one t/yr of new capacity (shared by both scenarios):
    120 + (1-p)(10 - 100) + p(10 - 250) = 120 - 90(1-p) - 240p.
    p = 0.25: -7.5 < 0 -> build all 100 t/yr; p = 0.1: +15 > 0 -> build nothing."""
    r = optimize_plan(_stochastic(p_ban))
    assert float(r.build.sum()) == pytest.approx(expected_build, abs=1e-6)
    if expected_build:
        expected = 100 * 120 + 100 * 10
    else:
        expected = (1 - p_ban) * 100 * 100 + p_ban * 100 * 250
    assert r.objective == pytest.approx(expected)
    # the build is shared: the same capacity in both scenarios
    act = r.activity.sel(region="A", process="make").squeeze()
    assert act.sizes["scenario"] == 2


def test_stochastic_coverage_holds_in_every_scenario():
    """p = 0.1 would build nothing, but 60 t/yr secure supply is required in both
    scenarios: build 60. Marginal cost of coverage = 15 USD/t (the expected net cost of a
    t/yr computed above), summed over scenarios."""
    r = optimize_plan(_stochastic(0.1, coverage=60.0))
    assert float(r.build.sum()) == pytest.approx(60.0)
    sec = r.secure_supply.sel(region="A", material="magnet").squeeze()
    assert (sec.values >= 60.0 - 1e-6).all()
    mc = float(r.coverage_marginal_cost.sel(region="A", material="magnet").squeeze())
    assert mc == pytest.approx(15.0)


def test_upstream_requirements_chain():
    """50 % of 1000 t magnets; magnet making needs 1.05 t alloy per t, alloying 1.0 t metal
    per t alloy, metal making 1.2 t oxide per t metal: 500, 525, 525, 630 t."""
    mats = ["magnet", "alloy", "metal", "oxide"]
    procs = ["magnet_making", "alloying", "metal_making"]
    incoef = da([[0, 1.05, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 1.2]], process=procs, material=mats)
    outcoef = da([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], process=procs, material=mats)
    demand = da([[[1000.0], [0.0], [0.0], [0.0]]], region=["US"], material=mats, year=[2030])
    req = upstream_requirements(0.5, demand, incoef, outcoef,
                                [("magnet_making", "magnet"), ("alloying", "alloy"),
                                 ("metal_making", "metal")])
    assert req.dims == ("region", "material", "year")
    np.testing.assert_allclose(req.sel(region="US", year=2030, material=["magnet", "alloy",
                                                                         "metal"]).values,
                               [500.0, 525.0, 525.0])
    # the last process's inputs are not propagated: oxide needs its own chain entry
    assert np.isnan(float(req.sel(region="US", year=2030, material="oxide")))


def test_upstream_requirements_branch_at_the_alloy():
    """The chain branches: alloying needs 0.3 t NdPr metal and 0.01 t Dy metal per t alloy;
    NdPr metal 1.25 t oxide per t, Dy metal 1.5 t oxide per t; separation yields 1 t NdPr
    oxide and 0.04 t Dy oxide per t of activity. 50 % of 1000 t magnets at 1.05 t alloy
    per t: alloy 525, NdPr metal 157.5, Dy metal 5.25, NdPr oxide 196.875, Dy oxide
    7.875 t."""
    mats = ["magnet", "alloy", "metal", "dy_metal", "oxide", "dy_oxide"]
    procs = ["magnet_making", "alloying", "metal_making", "dy_making", "separation"]
    incoef = da([[0, 1.05, 0, 0, 0, 0], [0, 0, 0.3, 0.01, 0, 0], [0, 0, 0, 0, 1.25, 0],
                 [0, 0, 0, 0, 0, 1.5], [0, 0, 0, 0, 0, 0]], process=procs, material=mats)
    outcoef = da([[1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0],
                  [0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 1, 0.04]], process=procs, material=mats)
    demand = da([[[1000.0]] + [[0.0]] * 5], region=["US"], material=mats, year=[2030])
    chain = [("magnet_making", "magnet"), ("alloying", "alloy"), ("metal_making", "metal"),
             ("dy_making", "dy_metal"), ("separation", "oxide"), ("separation", "dy_oxide")]
    req = upstream_requirements(0.5, demand, incoef, outcoef, chain)
    np.testing.assert_allclose(req.sel(region="US", year=2030, material=mats).values,
                               [500.0, 525.0, 157.5, 5.25, 196.875, 7.875])
    # an entry that no process listed before it consumes is refused, with its position
    with pytest.raises(RareflowInputError, match="no process listed before it consumes"):
        upstream_requirements(0.5, demand, incoef, outcoef,
                              [("magnet_making", "magnet"), ("dy_making", "dy_metal")])

@settings(max_examples=5, deadline=None)
@given(
    demand=st.floats(60.0, 150.0),
    china=st.floats(50.0, 200.0),
    target=st.floats(0.0, 1.0),
)
def test_two_region_closed_form(demand, china, target):
    """Any demand D >= 60, China price pc and target c in [0, D] (hand formula per year):
    B's 60 t at 30 always; the rest R = D - 60 costs 130/t if built, pc if imported; the
    target forces s = max(0, c - 60) built. Cost = 1800 + (130 s + pc (R - s) if pc <= 130
    else 130 R)."""
    c = target * demand
    inp = two_region(coverage=(c, c))
    inp = inp.replace(
        demand=inp.demand.where(inp.demand.region != "A", demand),
        import_price=inp.import_price * 0 + china,
    )
    r = optimize_plan(inp)
    R, s = demand - 60.0, max(0.0, c - 60.0)
    per_year = 1800.0 + (130 * s + china * (R - s) if china <= 130 else 130 * R)
    assert r.objective == pytest.approx(2 * per_year, rel=1e-7, abs=1e-6)


def test_scenario_compression_is_exact():
    """Merging, year by year, scenarios with identical data leaves the optimum unchanged;
    expanded results carry the original scenario labels and the same expected costs."""
    from rareflow.engines.optimize import prepare
    from rareflow.engines.optimize.compress import compress_scenarios
    from rareflow.engines.optimize.synthetic import synthetic_problem

    inp = synthetic_problem(4, 12, 6, seed=3)
    comp, mapping = compress_scenarios(prepare(inp))
    assert int((comp.probability > 0).sum()) == 37 < 12 * 6  # live copies: merged
    assert mapping.shape == (6, 12)
    np.testing.assert_allclose(comp.probability.sum("scenario"), 1.0)
    a = optimize_plan(inp, {"solver": "simplex"}, compress=True)
    b = optimize_plan(inp, {"solver": "simplex"}, compress=False)
    assert a.objective == pytest.approx(b.objective, rel=1e-8)
    assert list(a.activity.scenario.values) == list(b.activity.scenario.values)
    for k in ("var_opex", "imports", "penalty"):
        assert float(a.costs[k].sum()) == pytest.approx(float(b.costs[k].sum()), rel=1e-6,
                                                        abs=1e-3)
    # duals split by probability: expected coverage cost is the same
    np.testing.assert_allclose(a.coverage_marginal_cost.fillna(0).values,
                               b.coverage_marginal_cost.fillna(0).values, rtol=1e-5, atol=1e-3)
