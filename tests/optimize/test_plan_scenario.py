"""Phase 2: the `plan:` scenario section, the builder and `rareflow plan`."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import rareflow
from rareflow.cli.main import app
from rareflow.engines.optimize import optimize_plan
from rareflow.engines.optimize.from_scenario import plan_inputs
from rareflow.errors import InfeasibleError, RareflowInputError

NAME = "us-50pct-coverage"


@pytest.fixture(scope="module")
def scenario():
    return rareflow.load_scenario(NAME)


@pytest.fixture(scope="module")
def base(scenario):
    inp, meta = plan_inputs(scenario)
    return inp, meta, optimize_plan(inp)


def test_every_plan_figure_has_provenance(scenario):
    plan = scenario.spec.plan
    records = [*plan.candidates.values(), *plan.supply.values(), *plan.disruptions.values(),
               *plan.coproducts.values(), *plan.feeds.values(), *plan.operating_costs.values(),
               plan.coverage, plan.discount_rate_source]
    missing = [r for r in records if not r.has_provenance]
    assert not missing


def test_derived_capex_per_t(base):
    """Vulcan: its plant figures, 1,000 MUSD / 10,000 t/yr = 100,000 USD per t/yr (the
    economics of vulcan-10k read the same figures: tests/plants).
    White Mesa Phase 2: 410 MUSD / 6,000 t NdPr oxide = 68,333 USD per t/yr oxide; in
    t of bastnaesite feed (0.1469 t NdPr oxide per t) 68,333 * 0.1469 = 10,039 USD."""
    inp, meta, _ = base
    assert meta.option_capex_per_t["vulcan_benson"] == pytest.approx(100_000.0)
    yield_ndpr = float(inp.output_coef.sel(process="separate_bastnaesite", material="ndpr_oxide"))
    assert meta.option_capex_per_t["us_separation"] == pytest.approx(410e6 / 6000 * yield_ndpr)


def test_base_plan_meets_coverage_in_every_scenario(base):
    inp, meta, r = base
    assert r.status == "optimal"
    req = inp.coverage_requirement.sel(region="US")
    sec = r.secure_supply.sel(region="US")
    ok = (sec >= req - 1e-3) | req.isnull()
    assert bool(ok.all())
    # at least 50 % of magnet demand in 2030 is secure, at every listed stage
    assert float(req.sel(material="ndfeb_sintered", year=2030)) == pytest.approx(
        0.5 * float(inp.demand.sel(region="US", material="ndfeb_sintered", year=2030)))
    for m in meta.coverage_materials:
        assert float(req.sel(material=m, year=2030)) > 0
    # builds respect the earliest year of each option
    bt = r.build_table(tol=1e-3)
    earliest = inp.earliest_year
    for row in bt.itertuples():
        assert row.year >= float(earliest.sel(region=row.region, process=row.process,
                                              option=row.option))


def test_coproducts_balanced(base):
    """La and Ce from separation are sold up to their market and the rest disposed of."""
    inp, _, r = base
    act = r.activity.sel(region="US")
    la_made = (act * inp.output_coef.sel(material="la_oxide")).sum("process")
    la_out = r.sales.sel(region="US", material="la_oxide") + r.disposal.sel(
        region="US", material="la_oxide")
    np.testing.assert_allclose(la_out.values, la_made.values, rtol=1e-6, atol=1e-3)
    assert float(r.sales.sel(material="la_oxide").max()) <= 27_000 + 1e-3


def test_infeasible_target_names_stage_and_shortfall(scenario):
    """100 % of magnet demand in 2026 cannot be met: no build option is online before 2027."""
    plan = scenario.spec.plan
    cov = plan.coverage.model_copy(update={"share": {2026: 1.0}})
    sc2 = _with_plan(scenario, plan.model_copy(update={"coverage": cov, "disruptions": {}}))
    inp, _ = plan_inputs(sc2)
    with pytest.raises(InfeasibleError) as ei:
        optimize_plan(inp)
    assert "coverage[US," in str(ei.value) and "2026" in str(ei.value)
    assert ei.value.shortfalls[0].shortfall > 0


def _with_plan(scenario, plan):
    spec = scenario.spec.model_copy(update={"plan": plan})
    return type(scenario)(spec=spec, chain=scenario.chain, document=scenario.document,
                          uncertain=scenario.uncertain)


def test_missing_fixed_opex_names_candidate(scenario):
    plan = scenario.spec.plan
    cand = plan.candidates["us_alloy"].model_copy(update={"fixed_opex_share": None})
    sc2 = _with_plan(scenario, plan.model_copy(
        update={"candidates": {**plan.candidates, "us_alloy": cand}}))
    with pytest.raises(RareflowInputError) as ei:
        plan_inputs(sc2)
    p = ei.value.problems[0]
    assert p.path == "plan.candidates.us_alloy"
    assert "fixed_opex_share" in p.message and "U.S. strip-casting" in p.message


def test_schema_rejects_bad_units(tmp_path: Path):
    f = tmp_path / "bad.yaml"
    f.write_text(textwrap.dedent("""
        name: bad-plan
        extends: us-50pct-coverage
        plan:
          candidates:
            us_alloy: {capex_per_capacity: 20 t/yr}
    """))
    with pytest.raises(RareflowInputError) as ei:
        rareflow.load_scenario(str(f))
    assert "capex_per_capacity" in str(ei.value)


def test_cli_plan_writes_outputs(tmp_path: Path):
    out = tmp_path / "plan"
    res = CliRunner().invoke(app, ["plan", NAME, "--out", str(out), "--variants",
                                   "base,no_recycling_no_allied", "--quiet"])
    assert res.exit_code == 0, res.output
    df = pd.read_parquet(out / "plan.parquet")
    assert set(df["variant"]) == {"base", "no_recycling_no_allied"}
    assert {"build", "coverage"} <= set(df["kind"])
    s = json.loads((out / "plan_summary.json").read_text())
    v = s["variants"]["base"]
    assert v["status"] == "optimal" and v["builds"]
    assert not list(out.glob(".*.tmp"))  # atomic writes leave no temp files


def _plan_file(tmp_path: Path, name: str, yaml: str, *args: str) -> tuple[Path, Any, str]:
    """Write a scenario file (``yaml``, dedented; its first line is blank) and run
    ``rareflow plan FILE --out tmp_path/o ARGS``: the file, the result and all it printed."""
    f = tmp_path / f"{name}.yaml"
    f.write_text(textwrap.dedent(yaml))
    res = CliRunner().invoke(app, ["plan", str(f), "--out", str(tmp_path / "o"), *args])
    return f, res, res.output + (res.stderr if hasattr(res, "stderr") else "")


def test_cli_infeasible_exits_2_with_constraint(tmp_path: Path):
    _, res, text = _plan_file(tmp_path, "too-much", """
        name: too-much
        extends: us-50pct-coverage
        plan:
          variants: false
          coverage:
            share: {2026: 100 %}
    """)
    assert res.exit_code == 2
    assert "infeasible: coverage target cannot be met" in text
    assert "coverage[US," in text
    assert "Traceback" not in text
    s = json.loads((tmp_path / "o" / "plan_summary.json").read_text())
    v = s["variants"]["base"]
    assert v["status"] == "infeasible" and v["shortfalls"] and "coverage[US" in v["message"]
    # the override replaces the whole schedule: 100 % from 2026 on, so 2026 is short too
    assert any("2026" in str(row) for row in v["shortfalls"])


def test_cli_upstream_entry_nothing_consumes_is_located(tmp_path: Path):
    """Dy metal listed straight after the magnet: no listed process consumes it, so the
    requirement cannot be walked; the error names the file, line and entry."""
    f, res, text = _plan_file(tmp_path, "bad-upstream", """
        name: bad-upstream
        extends: us-50pct-coverage
        plan:
          coverage:
            upstream:
              - [magnet_sintered, ndfeb_sintered]
              - [reduce_dy, dy_metal]
    """)
    assert res.exit_code == 2
    assert f"{f}:8: plan.coverage.upstream.1: no process listed before it consumes dy_metal" \
        in text
    assert "alloy_sintered" in text and "Traceback" not in text


def test_workforce_pipeline_slows_the_build(tmp_path: Path):
    """Alloy lines needing 0.1 jobs per t/yr with 100 jobs trained a year: by 2027 at most
    200 jobs, so at most 2,000 t/yr of alloy capacity (the unlimited plan builds 3,849);
    the summary's jobs stay within the pipeline every year."""
    _, res, _ = _plan_file(tmp_path, "staffed", """
        name: staffed
        extends: us-50pct-coverage
        plan:
          variants: false
          workforce:
            jobs_per_capacity: {alloy_sintered: 0.1, magnet_sintered: 0.1}
            additions: {2026: 100}
            assumption: a tight pipeline, for the test
    """, "--quiet")
    assert res.exit_code == 0, res.output
    v = json.loads((tmp_path / "o" / "plan_summary.json").read_text())["variants"]["base"]
    alloy_2027 = sum(b["build_t_per_yr"] for b in v["builds"]
                     if b["process"] == "alloy_sintered" and b["year"] <= 2027)
    assert 1000.0 < alloy_2027 <= 2000.0 + 1e-3
    for row in v["workforce"]:
        assert row["jobs_of_new_capacity"] <= row["trained_by_then"] + 1e-6
    assert v["workforce"][1] == {"year": 2027, "jobs_of_new_capacity": pytest.approx(200.0),
                                 "trained_by_then": 200.0}


def test_workforce_errors_are_located(tmp_path: Path):
    f, res, text = _plan_file(tmp_path, "wf", """
        name: wf-bad
        extends: us-50pct-coverage
        plan:
          workforce:
            jobs_per_capacity: {magnet_sinterd: 0.1}
            additions: {2026: -5}
            assumption: test
    """)
    assert res.exit_code == 2
    assert f"{f}:6: plan.workforce.jobs_per_capacity.magnet_sinterd: unknown process" in text
    assert "e.g. magnet_sintered" in text
    assert f"{f}:7: plan.workforce.additions: a negative number of jobs" in text
