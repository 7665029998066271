"""The plan's plants priced with their deals: a plant the plan builds takes the plan's
schedule (and so its draws move), an unbuilt one carries no exposure, and the government's
totals add up from the plants."""

from __future__ import annotations

import pytest

import rareflow
from rareflow.results.plan_finance import plant_overrides, price_plan


@pytest.fixture(scope="module")
def plan_sc():
    return rareflow.load_scenario("us-50pct-coverage")


def _variant(*builds):
    return {"variant": "hand", "builds": [
        {"option": "vulcan_benson", "year": y, "build_t_per_yr": t} for y, t in builds]}


def test_built_plant_takes_the_plan_schedule(plan_sc):
    status, over = plant_overrides(plan_sc, _variant((2029, 2500), (2030, 2500)),
                                   "vulcan_benson_magnets")
    assert status == "built"
    assert over["facilities.vulcan_benson_magnets.capacity"] == {2029: "2500.0 t/yr",
                                                                  2030: "5000.0 t/yr"}
    assert over["facilities.vulcan_benson_magnets.start_year"] == 2029
    assert plant_overrides(plan_sc, _variant(), "vulcan_benson_magnets")[0] == "not built"
    assert plant_overrides(plan_sc, _variant(), "mp_mountain_pass_separation")[0] == "existing"


def test_priced_plan_moves_draws_and_adds_up(plan_sc):
    """Vulcan built by the plan from 2029 (two years after the 2027 its deal was written
    for): the OSC loan's first draw moves from 2026 to 2028. Government expected cost =
    floors - lender NPV - warrants, summed over the priced plants."""
    fin = price_plan(plan_sc, _variant((2029, 2500), (2030, 2500)), samples=40, seed=2)
    rows = {p["facility"]: p for p in fin["plants"]}
    v = rows["vulcan_benson_magnets"]
    assert v["status"] == "built" and v["cod"] == 2029
    assert v["government_loans"]["osc_vulcan"]["first_draw_year"] == 2028
    priced = [p for p in fin["plants"] if "npv_project_base_usd" in p]
    g = fin["government"]
    floor = sum(p["floor_cost_mean_usd"] for p in priced)
    lend = sum(x["lender_npv_usd"] for p in priced for x in p["government_loans"].values())
    warr = sum(p["warrants_value_usd"] for p in priced)
    assert g["expected_cost_usd"] == pytest.approx(floor - lend - warr)
    peak = sum(x["peak_outstanding_usd"] for p in priced for x in p["government_loans"].values())
    assert g["exposure_usd"] == pytest.approx(peak + sum(p["floor_cost_p95_usd"] for p in priced))
    # the 620 MUSD loan with capitalised interest peaks above its amount
    assert v["government_loans"]["osc_vulcan"]["peak_outstanding_usd"] > 620e6
    # not built: listed, no figures, no exposure
    none = price_plan(plan_sc, _variant(), samples=40, seed=2)
    assert {p["facility"]: p["status"] for p in none["plants"]}["vulcan_benson_magnets"] == \
        "not built"
    assert none["government"]["peak_loan_outstanding_usd"] < g["peak_loan_outstanding_usd"]
