"""Scorecard measures read from a scenario's build plan: the values against the plan's
material balance (an identity the measure does not use), pass and fail on the same plan,
and no plan measures for a scenario without a plan."""

from __future__ import annotations

import numpy as np
import pytest

import rareflow
from rareflow.metrics.indicators import targets
from rareflow.metrics.scorecard import scorecard

NAME = "us-50pct-coverage"


@pytest.fixture(scope="module")
def solved():
    sc = rareflow.load_scenario(NAME)
    res = rareflow.run(sc)
    entry = rareflow.plan(sc, variants=["base"], raise_infeasible=False).runs["base"]
    return res, entry


def _by_id(card):
    return {m.id: m for m in card.measures}


def _magnet_materials(res) -> list[str]:
    return res.chain.stage_materials("magnet")


def test_plan_measures_match_the_plans_balance(solved):
    res, entry = solved
    card = _by_id(scorecard(res, plan=entry))
    inp, r = entry["inputs"], entry["result"]
    mats = [m for m in _magnet_materials(res) if m in r.unmet.material.values]
    y = 2030
    pick = {"region": "US", "year": y, "material": mats}
    dem = float(inp.demand.sel(**pick).sum())
    allied = inp.allied.sel(region="US").astype(bool)
    # secure supply from the balance: production - exports = demand - unmet - imports
    # + sales + disposal + use by processes; the secure part adds back allied imports
    shares = []
    for s in r.unmet.scenario.values:
        sel = {"scenario": s, **pick}
        imports = r.imports.sel(**sel).fillna(0.0)
        non_allied = float(imports.sel(origin=[o for o in imports.origin.values
                                               if not bool(allied.sel(origin=o))]).sum())
        used = float((r.activity.sel(scenario=s, region="US", year=y).fillna(0.0)
                      * inp.input_coef.sel(material=mats)).sum())
        extra = sum(float(getattr(r, k).sel(**sel).fillna(0.0).sum())
                    for k in ("sales", "disposal") if hasattr(r, k)
                    and set(mats) & set(getattr(r, k).material.values))
        secure = dem - float(r.unmet.sel(**sel).sum()) - non_allied + used + extra
        shares.append(secure / dem)
    cov = card["plan_secure_coverage"]
    assert cov.by_year[y] == pytest.approx(min(shares), rel=1e-6)
    assert cov.status == "pass" and cov.year_reached is not None
    out = card["plan_magnet_output"]
    made = float((r.activity.sel(scenario="normal", region="US", year=y).fillna(0.0)
                  * inp.output_coef.sel(material=mats)).sum())
    assert out.by_year[y] == pytest.approx(made, rel=1e-9)
    assert out.figures["plan_variant"] == "base"


def test_same_plan_fails_a_higher_target(solved):
    res, entry = solved
    spec = targets()
    spec = {**spec, "measures": {"plan_secure_coverage": {
        **spec["measures"]["plan_secure_coverage"], "target": 0.99}}}
    m = _by_id(scorecard(res, spec=spec, plan=entry))["plan_secure_coverage"]
    assert m.status == "fail"
    assert m.gap_at_horizon == pytest.approx(0.99 - m.value)
    assert m.value < 0.99 and np.isfinite(m.value)


def test_no_plan_measures_without_a_plan():
    res = rareflow.run("us-baseline")
    ids = set(_by_id(scorecard(res)))
    assert "magnet_output" in ids and not any(i.startswith("plan_") for i in ids)


def test_cost_against_chinese_magnets_by_hand(solved):
    """Vulcan's plant figures: 1,000 MUSD for 10,000 t/yr over 25 years at the plan's 8 %
    (capital recovery factor 0.08 / (1 - 1.08^-25) = 0.093679), fixed opex 45 MUSD/yr,
    12 USD/kg conversion, 1.4815 t alloy per t magnet at the plan's 35 USD/kg alloy:
    9,367.9 + 4,500 + 12,000 + 51,851.9 = 77,719.7 USD/t against China's 49,000."""
    res, entry = solved
    m = _by_id(scorecard(res, plan=entry))["cost_vs_china"]
    crf = 0.08 / (1 - 1.08 ** -25)
    alloy_per_magnet = 1 / 0.675
    expected = (100_000 * crf + 4_500 + 12_000 + alloy_per_magnet * 35_000) / 49_000
    assert m.value == pytest.approx(expected, rel=1e-4)
    assert m.status == "fail" and m.figures["cheapest_option"].startswith("Vulcan")
    # without a plan the measure is not assessed, with its reason
    base = _by_id(scorecard(rareflow.run("us-baseline")))["cost_vs_china"]
    assert base.status == "not assessed" and "plan" in base.reason


def test_jobs_from_output_by_hand():
    """Jobs = magnet output x 0.10 (Vulcan: 1,000 jobs for 10,000 t/yr) + REO mined x 0.015
    (MP: 681 employees for 45,455 t REO), reported without a target; doubling an
    intensity doubles that stage's jobs."""
    res = rareflow.run("us-baseline")
    card = _by_id(scorecard(res))
    m = card["jobs"]
    ri = res.regions.index("US")
    stages = list(res.chain.stages)
    prod = res.stage_metrics["production"]
    magnet = float(prod[ri, stages.index("magnet"), -1])
    mined = float(prod[ri, stages.index("mining"), -1])
    assert magnet > 1000 and mined > 1000
    assert m.value == pytest.approx(0.10 * magnet + 0.015 * mined)
    assert m.status == "not assessed" and "no published jobs target" in m.reason
    assert m.figures["jobs_high"] == pytest.approx(0.167 * magnet + 0.015 * mined)
    spec = targets()
    jobs = spec["measures"]["jobs"]
    doubled = {**jobs, "intensities": {**jobs["intensities"], "magnet": {
        **jobs["intensities"]["magnet"], "value": 0.20}}}
    m2 = _by_id(scorecard(res, spec={**spec, "measures": {"jobs": doubled}}))["jobs"]
    assert m2.value - m.value == pytest.approx(0.10 * magnet)
