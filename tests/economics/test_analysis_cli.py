"""End to end: bundled analyses through run_case and the ``economics`` command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from rareflow import resources
from rareflow.cli.economics import economics
from rareflow.engines.economics.analysis import run_case
from rareflow.engines.economics.compile import compile_case

BUNDLED = resources.scenario_dir() / "economics"


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("economics")(economics)
    app.command("noop")(lambda: None)  # keep a multi-command app, as in rareflow.cli.main
    return app


def _case(name, fac):
    """The case of a bundled analysis, its section completed from the facilities' plant
    figures (as `rareflow economics` does)."""
    import rareflow
    from rareflow.model.plants import economics_section

    sc = rareflow.load_scenario(name)
    doc = sc.document
    return compile_case(economics_section(sc), fac,
                        where=lambda parts: (doc.file_of(tuple(parts)), doc.line_of(tuple(parts))))


def test_same_seed_bit_identical_results():
    case = _case("mp-price-floor", "mp_mountain_pass_separation")
    a = run_case(case, n_samples=300, rng=np.random.default_rng(5))
    b = run_case(case, n_samples=300, rng=np.random.default_rng(5))
    c = run_case(case, n_samples=300, rng=np.random.default_rng(6))
    for k in a.samples:
        assert np.asarray(a.samples[k]).tobytes() == np.asarray(b.samples[k]).tobytes(), k
    assert not np.array_equal(a.samples["floor_gov_cost_pv"], c.samples["floor_gov_cost_pv"])


def test_floor_cost_equals_direct_payout_calculation():
    """Government cost per path = Σ_t [max(110 - P_t, 0) - 0.3·max(P_t - 110, 0)·1{t≥2029}]
    · volume_t · 1000 / 1.043^t over the floor's years, recomputed by hand from the paths."""
    case = _case("mp-price-floor", "mp_mountain_pass_separation")
    res = run_case(case, n_samples=200, rng=np.random.default_rng(11))
    p = res.index["ndpr_oxide"]
    vol = res.base["output"]
    t = np.arange(case.n_years)
    years = case.start_year + t
    active = (years >= 2026) & (years <= 2035)
    up = active & (years >= 2029)
    pay = np.where(active, np.maximum(110 - p, 0), 0)
    pay = pay - np.where(up, 0.3 * np.maximum(p - 110, 0), 0)
    expected = (pay * vol * 1000) @ (1.043 ** -t)
    np.testing.assert_allclose(res.samples["floor_gov_cost_pv"], expected, rtol=1e-10)
    # where the government receives no upside, the floor can only raise the plant's NPV
    no_up = res.samples["floor_gov_receipts_pv"] == 0
    assert no_up.any()
    d = res.samples["npv_project"] - res.samples["npv_project_no_floor"]
    assert np.all(d[no_up] >= -1e-6)
    assert np.all(d[res.samples["floor_gov_payments_pv"] > 0][:5] != 0)


def test_vulcan_loan_and_warrants():
    case = _case("vulcan-10k", "vulcan_benson_magnets")
    res = run_case(case, n_samples=50, rng=np.random.default_rng(0))
    sch = res.loans["osc_vulcan"]
    assert sch.draw.sum() == pytest.approx(620e6)
    assert abs(sch.closing[-1]) < 1e-3 and sch.interest_capitalised[:4].sum() > 0
    assert res.summary["warrants"]["osc_warrants"]["total"] >= 0
    assert np.isfinite(res.summary["base_case"]["dscr_min"])


def test_cli_end_to_end_writes_outputs(tmp_path):
    out = tmp_path / "out"
    args = ["economics", "mp-price-floor", "--facility", "mp_mountain_pass_separation",
            "--samples", "200", "--seed", "3"]
    r = CliRunner().invoke(_app(), [*args, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "government cost of the price floor" in r.output
    assert "assumptions and sources" in r.output and "source mp_dod (high)" in r.output
    s = json.loads((out / "economics_summary.json").read_text())
    g = s["floor_government_cost"]
    assert g["p5"] <= g["p50"] <= g["p95"] and 0 <= g["probability_of_paying"] <= 1
    flows = pd.read_parquet(out / "cash_flows.parquet")
    assert list(flows["year"])[:2] == [2026, 2027] and "project_fcf" in flows
    samples = pd.read_parquet(out / "samples.parquet")
    assert len(samples) == 200
    # same seed again: identical files' content
    out2 = tmp_path / "out2"
    r2 = CliRunner().invoke(_app(), [*args, "--out", str(out2)])
    assert r2.exit_code == 0
    pd.testing.assert_frame_equal(samples, pd.read_parquet(out2 / "samples.parquet"))
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left


def test_cli_bad_input_exit_2_with_file_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "economics:\n  start_year: 2026\n  horizon: -3 yr\n  government_discount_rate: 4 %\n",
        encoding="utf-8",
    )
    r = CliRunner().invoke(_app(), ["economics", str(bad), "--facility", "x"])
    assert r.exit_code == 2
    text = r.output + (r.stderr if hasattr(r, "stderr") else "")
    assert f"{bad}:3: economics.horizon: must not be negative" in text
    assert "Traceback" not in text


def test_cli_analyses_every_facility_when_none_is_named(tmp_path):
    """`rareflow economics mp-price-floor` as the README writes it: both facilities of the
    deal, each with the same seed, so each equals its own --facility run."""
    standalone = tmp_path / "two.yaml"
    text = (BUNDLED / "mp-price-floor.yaml").read_text(encoding="utf-8")
    standalone.write_text("\n".join(l for l in text.splitlines() if not l.startswith("extends:")),
                          encoding="utf-8")
    out = tmp_path / "all"
    r = CliRunner().invoke(_app(), ["economics", str(standalone), "--samples", "200",
                                    "--out", str(out)])
    assert r.exit_code == 0, r.output
    both = json.loads((out / "economics_summary.json").read_text())["facilities"]
    assert set(both) == {"mp_mountain_pass_separation", "mp_10x_magnets"}
    one = tmp_path / "one"
    r = CliRunner().invoke(_app(), ["economics", str(standalone), "--samples", "200",
                                    "--facility", "mp_10x_magnets", "--out", str(one)])
    assert r.exit_code == 0, r.output
    alone = json.loads((one / "economics_summary.json").read_text())
    assert alone["monte_carlo"] == both["mp_10x_magnets"]["monte_carlo"]
    assert (out / "mp_10x_magnets" / "samples.parquet").is_file()


def test_cli_loads_full_scenario_through_the_loader(tmp_path):
    """A bundled analysis is a scenario (extends us-baseline): load_scenario exposes
    .economics, and the command runs on it."""
    import rareflow

    sc = rareflow.load_scenario("vulcan-10k")
    assert "vulcan_benson_magnets" in sc.economics.facilities
    assert "vulcan_benson_magnets" in sc.spec.facilities  # same id as the reference data
    r = CliRunner().invoke(_app(), ["economics", "vulcan-10k", "--samples", "50"])
    assert r.exit_code == 0, r.output
    assert "DSCR" in r.output


def test_run_case_assembles_flows_consistently():
    """Zero volatility: every path equals the base case; project NPV equals numpy-financial's
    NPV of the base project cash flow; equity cash flow = project FCF + interest tax shield
    + draws - debt service; DSCR = CFADS / debt service."""
    import numpy_financial as npf

    from rareflow.engines.economics.analysis import (
        Case,
        FacilitySpec,
        IndexSpec,
        LoanSpec,
        PriceLinkSpec,
        ProductSpec,
    )
    from rareflow.engines.economics.cashflows import straight_line

    N = 8
    fac = FacilitySpec(
        id="p", capacity=1000.0, cod=1, utilisation=np.array([0.5, 1.0]),
        capex=np.array([50e6] + [0.0] * (N - 1)), opex_fixed=2e6, opex_variable=5.0,
        products=(ProductSpec("ox", 1.0, PriceLinkSpec(index="ox", pass_through=1.0)),),
        tax_rate=0.25, depreciation_schedule=straight_line(5), discount_rate=0.08,
        equity_discount_rate=0.12,
    )
    case = Case(
        facility=fac, start_year=2026, n_years=N, government_discount_rate=0.04,
        indices=(IndexSpec("ox", "gbm", 60.0, 0, 0.0),),
        loans=(LoanSpec("l", 30e6, 0.06, 6, 1, 0, np.array([1.0])),),
    )
    res = run_case(case, n_samples=7, rng=np.random.default_rng(0))
    fcf = res.base["project_fcf"]
    assert np.all(res.samples["npv_project"] == res.samples["npv_project"][0])
    assert res.samples["npv_project"][0] == pytest.approx(npf.npv(0.08, fcf), rel=1e-12)
    assert res.samples["irr_project"][0] == pytest.approx(npf.irr(fcf), rel=1e-8)
    sch = res.loans["l"]
    shield = res.base["tax_unlevered"] - res.base["tax_levered"]
    eq = fcf + shield + sch.draw - sch.debt_service
    np.testing.assert_allclose(res.base["equity_cf"], eq)
    assert res.summary["base_case"]["npv_equity"] == pytest.approx(npf.npv(0.12, eq), rel=1e-12)
    served = sch.debt_service > 0
    served[0] = False  # before commercial operation
    expected = (res.base["cfads"][served] / sch.debt_service[served]).min()
    assert res.summary["base_case"]["dscr_min"] == pytest.approx(expected)
    # revenue by hand in year 2 (full output): 1000 t · 60 USD/kg · 1000 kg/t = 60 MUSD
    assert res.base["revenue"][2] == pytest.approx(60e6)
