"""One set of plant figures: the plan and the economics read a facility's costs, schedule
and ramp from the same place (facilities.<id>.plant, capacity, utilisation, start_year),
and a late plant moves its cash flows and its milestone draws."""

from __future__ import annotations

import numpy as np
import pytest

import rareflow
from rareflow.engines.economics.analysis import run_case
from rareflow.engines.economics.compile import compile_case
from rareflow.model.plants import economics_section, plan_candidate, ramp

FAC = "vulcan_benson_magnets"
LATE = {f"facilities.{FAC}.capacity": {2029: "2500 t/yr", 2030: "5000 t/yr",
                                      2031: "7500 t/yr", 2032: "10000 t/yr"},
        f"facilities.{FAC}.start_year": 2029, f"facilities.{FAC}.years": 2029}


def _case(sc):
    doc = sc.document
    return compile_case(economics_section(sc), FAC,
                        where=lambda p: (doc.file_of(tuple(p)), doc.line_of(tuple(p))))


def test_plan_and_economics_hold_the_same_figures():
    plan = rareflow.load_scenario("us-50pct-coverage")
    econ = economics_section(rareflow.load_scenario("vulcan-10k"))
    cand = plan_candidate(plan, plan.spec.plan.candidates["vulcan_benson"])
    fe = econ.facilities[FAC]
    plant = plan.spec.facilities[FAC].plant
    assert cand.capex == fe.capex.value == plant.capex.value == 1000e6
    assert cand.capex_capacity == fe.capacity.value == 10_000
    assert cand.variable_opex == fe.opex_variable.value == 12.0          # USD/kg
    assert cand.fixed_opex_share * cand.capex == pytest.approx(fe.opex_fixed.value)
    assert cand.lifetime == plant.lifetime.value == 25
    # the ramp: 2,500 t/yr lines from 2027 at 80 % of each step, of 10 kt/yr nameplate
    assert fe.cod == 2027
    np.testing.assert_allclose(fe.utilisation.value, [0.2, 0.4, 0.6, 0.8])
    # the plan's option costs 100,000 USD per t/yr, as the facility's figures divide
    from rareflow.engines.optimize.from_scenario import plan_inputs

    inp, meta = plan_inputs(plan)
    assert meta.option_capex_per_t["vulcan_benson"] == pytest.approx(1000e6 / 10_000)


def test_late_plant_moves_cash_flows_and_draws():
    on_time = rareflow.load_scenario("vulcan-10k")
    late = rareflow.load_scenario("vulcan-10k", LATE)
    a, b = economics_section(on_time), economics_section(late)
    fa, fb = a.facilities[FAC], b.facilities[FAC]
    assert (fa.cod, fb.cod) == (2027, 2029)
    assert fb.construction_start == fa.construction_start + 2
    np.testing.assert_allclose(fb.utilisation.value, fa.utilisation.value)
    da = [d.year for d in a.loans["osc_vulcan"].draws]
    db = [d.year for d in b.loans["osc_vulcan"].draws]
    assert db == [y + 2 for y in da]
    assert b.loans["osc_vulcan"].start_year == a.loans["osc_vulcan"].start_year + 2
    assert b.equity["private"].year == a.equity["private"].year + 2
    ra = run_case(_case(on_time), n_samples=20, rng=np.random.default_rng(0))
    rb = run_case(_case(late), n_samples=20, rng=np.random.default_rng(0))
    # the same loan, drawn two years later
    assert rb.loans["osc_vulcan"].draw.sum() == pytest.approx(620e6)
    first = lambda x: int(np.flatnonzero(x > 0)[0])  # noqa: E731
    assert first(rb.loans["osc_vulcan"].draw) == first(ra.loans["osc_vulcan"].draw) + 2
    assert rb.summary["base_case"]["npv_project"] < ra.summary["base_case"]["npv_project"]


def test_ramp_by_hand():
    """Capacity {2027: 2500, 2029: 10000} at 50 % from a 2028 start, of 10 kt nameplate:
    2027 no output (before start), 2028 2,500 x 0.5, 2029 10,000 x 0.5."""
    class F:
        capacity = {2027: 2500.0, 2029: 10000.0}
        utilisation = {0: 0.5}
        start_year = 2028

    assert ramp(F, 2027, 10_000.0) == [0.0, 0.125, 0.5]


def test_unknown_facility_in_a_plan_option_is_located(tmp_path):
    from rareflow.engines.optimize.from_scenario import plan_inputs
    from rareflow.errors import RareflowInputError

    p = tmp_path / "bad.yaml"
    p.write_text("name: bad\nextends: us-50pct-coverage\nplan:\n  candidates:\n"
                 "    vulcan_benson:\n      facility: no_such_plant\n")
    with pytest.raises(RareflowInputError, match="unknown facility 'no_such_plant'") as e:
        plan_inputs(rareflow.load_scenario(str(p)))
    assert "bad.yaml:6" in str(e.value)
