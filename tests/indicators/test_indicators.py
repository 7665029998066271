"""Indicators (HHI, top-3, import risk, GeoPolRisk, EU supply risk) and `rareflow scorecard`."""

from __future__ import annotations

import dataclasses
import importlib
import json
import sys
import types

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import rareflow
from rareflow.cli.main import app
from rareflow.metrics import geopolrisk as gp
from rareflow.metrics.indicators import compute, governance, indicators, wgi_table
from rareflow.metrics.scorecard import scorecard

# ---------------------------------------------------------------- by hand, small cases


def test_hhi_and_top3_by_hand():
    prod = np.array([50.0, 30.0, 15.0, 5.0])[:, None, None]          # [R, G=1, Y=1]
    # shares .5 .3 .15 .05 -> HHI = .25 + .09 + .0225 + .0025 = .365 (3,650 on 0-10,000)
    assert gp.hhi01(prod)[0, 0] == pytest.approx(0.365, abs=1e-15)
    assert gp.top_k_share(prod, 3)[0, 0] == pytest.approx(0.95, abs=1e-15)
    out = compute(prod, prod, np.zeros((4, 4, 1, 1)), np.full((4, 1), 0.5))
    assert out["hhi"][0, 0] == pytest.approx(3650.0, abs=1e-9)
    assert out["top3_index"][:, 0, 0].tolist() == [0, 1, 2]
    zero = np.zeros((3, 1, 1))
    assert np.isnan(gp.hhi01(zero)).all() and np.isnan(gp.top_k_share(zero, 3)).all()
    # one producer: HHI 1, top-3 1
    assert gp.hhi01(np.array([0.0, 7.0, 0.0])[:, None, None])[0, 0] == 1.0


def test_import_risk_and_eu_supply_risk_by_hand():
    # region 0 makes 20 t, imports 60 t from 1 (score .8) and 20 t from 2 (score .2)
    imp = np.zeros((3, 3, 1, 1))
    imp[0, 1], imp[0, 2] = 60.0, 20.0
    prod = np.array([20.0, 100.0, 0.0])[:, None, None]
    g = np.array([[0.5], [0.8], [0.2]])
    wta = gp.import_risk(imp, prod, g)
    assert wta[0, 0, 0] == pytest.approx((60 * 0.8 + 20 * 0.2) / (80 + 20), abs=1e-15)   # .52
    assert wta[1, 0, 0] == 0.0           # makes its own, imports nothing
    assert np.isnan(wta[2, 0, 0])        # neither
    hhi = (20 / 120) ** 2 + (100 / 120) ** 2
    assert gp.geopolrisk_score(gp.hhi01(prod), wta)[0, 0, 0] == pytest.approx(hhi * 0.52)
    # EU SR with IR = .75, WGI on 0-10, EOL-RIR .1, SI .9
    ir = np.array([0.75, -1.0, np.nan])[:, None, None]
    eu = gp.eu_supply_risk(prod, imp, ir, 10 * g, eol_rir=0.1, si_sr=0.9)
    gs = (20 / 120) ** 2 * 5 + (100 / 120) ** 2 * 8
    src = 0.2 ** 2 * 5 + 0.6 ** 2 * 8 + 0.2 ** 2 * 2         # sourcing 20 own + 60 + 20
    want = (gs * 0.75 / 2 + src * (1 - 0.75 / 2)) * 0.9 * 0.9
    assert eu["supply_risk"][0, 0, 0] == pytest.approx(want, rel=1e-12)
    assert eu["ir"][1, 0, 0] == 0.0 and eu["ir"][2, 0, 0] == 0.0     # clipped / NaN -> 0


def test_governance_table_holds_last_year_and_defaults():
    t = wgi_table()
    g = governance(["CN", "XR", "US"], [2019, 2024, 2030])
    assert g[0, 1] == pytest.approx(t["scores"]["CN"][-1]) and g[0, 2] == g[0, 1]
    assert (g[1] == t["missing"]).all()
    assert ((g >= 0) & (g <= 1)).all()


# ---------------------------------------------------------------- geopolrisk-py reference


@pytest.fixture
def gpr_core(monkeypatch, tmp_path):
    """geopolrisk-py's ``core`` module with its database object replaced by a stub (the real
    one reads a 40 s BACI table at import; the functions under test only query the frames
    handed to them, and ``HHI`` the production frame patched in below)."""
    pytest.importorskip("geopolrisk")
    fake = types.ModuleType("geopolrisk.assessment.database")
    import logging

    class _DB:
        production: dict = {}
        regionslist = {f"_r{i}": [] for i in range(257)}   # skips the package's regions() call
        directory = str(tmp_path)

    fake.databases, fake.logging, fake.execute_query = _DB(), logging, None
    for mod in ("geopolrisk.assessment.core", "geopolrisk.assessment.utils"):
        monkeypatch.delitem(sys.modules, mod, raising=False)
    monkeypatch.setitem(sys.modules, "geopolrisk.assessment.database", fake)
    core = importlib.import_module("geopolrisk.assessment.core")
    yield core, _DB
    for mod in ("geopolrisk.assessment.core", "geopolrisk.assessment.utils"):
        sys.modules.pop(mod, None)


def test_geopolrisk_agrees_with_geopolrisk_py(gpr_core, static_run):
    """Score and WTA of every region at the magnet and separation stages, from the run's own
    flows (rounded to whole tonnes: the package's HHI casts production to int), to 1e-9."""
    core, db = gpr_core
    res = static_run["pass"]
    m = res.stage_metrics
    regions, years = list(res.regions), list(res.years)
    codes = list(range(1, len(regions) + 1))            # numeric country codes for the package
    db.production = {"Country_ISO": pd.DataFrame({"ISO": codes, "Country": regions})}
    gov = governance(regions, years)
    checked = 0
    for stage in ("separation", "magnet"):
        gi = res.chain.stages.index(stage)
        for yi in (0, len(years) - 1):
            prod = np.round(m["production"][:, gi, yi])
            imp = np.round(m["imports_by_origin"][:, :, gi, yi])
            ours = compute(prod[:, None, None], prod[:, None, None], imp[:, :, None, None],
                           gov[:, [yi]])
            y = years[yi]
            proddf = pd.DataFrame({"Country_Code": codes, str(y): prod, "unit": "metr. t"})
            core.getProd = lambda _rm, df=proddf: df
            rows = [(y, codes[r], "mat", codes[o], imp[r, o], 1.0, gov[o, yi])
                    for r in range(len(regions)) for o in range(len(regions)) if imp[r, o] > 0]
            data = pd.DataFrame(rows, columns=["period", "reporterCode", "rawMaterial", "partnerCode",
                                               "qty", "cifvalue", "partnerWGI"])
            for r in range(len(regions)):
                if prod[r] + imp[r].sum() == 0:
                    continue
                qty, hhi = core.HHI("mat", y, codes[r])
                num, total, price = core.importrisk("mat", y, [codes[r]], data)
                score, _cf, wta = core.GeoPolRisk(num, total, price, qty, hhi)
                assert hhi == pytest.approx(ours["hhi01"][0, 0], abs=1e-9)
                assert wta == pytest.approx(ours["import_risk"][r, 0, 0], abs=1e-9), (stage, y, regions[r])
                assert score == pytest.approx(ours["geopolrisk"][r, 0, 0], abs=1e-9)
                checked += 1
    assert checked >= 20


# ---------------------------------------------------------------- scenarios and scorecard

PASS_YAML = """\
name: scorecard-pass
description: us-recycling-85 to 2035 (reaches 10 kt, recovers 85 %)
extends: us-recycling-85
years: {start: 2024, end: 2035}
"""
FAIL_YAML = """\
name: scorecard-fail
description: us-baseline cut at 2026 (before the magnet plants ramp up)
extends: us-baseline
years: {start: 2024, end: 2026}
"""


@pytest.fixture(scope="module")
def scenario_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("scorecard")
    (d / "pass.yaml").write_text(PASS_YAML, encoding="utf-8")
    (d / "fail.yaml").write_text(FAIL_YAML, encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def static_run(scenario_files):
    return {k: rareflow.run(rareflow.load_scenario(str(scenario_files / f"{k}.yaml")))
            for k in ("pass", "fail")}


def _by_id(card):
    return {m.id: m for m in card.measures}


def test_indicators_dataset_from_flows(static_run):
    ds = indicators(static_run["pass"])
    assert set(ds["stage"].values) == {"mining", "separation", "metal", "alloy", "magnet"}
    h = ds["hhi"].values
    assert np.nanmin(h) >= 0 and np.nanmax(h) <= 10_000
    assert ((ds["top3_share"].values <= 1 + 1e-12) & (ds["top3_share"].values > 0)).all()
    assert ds["top3"].sel(stage="magnet", year=2024, rank=1).item() == "CN"
    us = ds.sel(region="US")
    assert us["eol_rir"].sel(year=2035).item() > 0          # recycling flows feed EOL-RIR
    sr = us["eu_supply_risk"].values
    assert np.nanmin(sr) >= 0 and np.nanmax(sr) <= 10


def test_scorecard_pass(static_run):
    card = _by_id(scorecard(static_run["pass"]))
    assert card["magnet_output"].status == "pass" and card["magnet_output"].year_reached == 2028
    assert card["magnet_output"].value > 10_000
    assert card["recycling_recovery"].status == "pass"
    assert card["recycling_recovery"].value == pytest.approx(0.85)
    assert card["defence_coverage"].status == "pass"
    assert card["trade_balance"].status == "pass"
    for mid in ("cost_vs_china", "jobs", "no_subsidy", "government_return"):
        assert card[mid].status == "not assessed" and card[mid].reason


def test_scorecard_fail(static_run):
    card = _by_id(scorecard(static_run["fail"]))
    mo = card["magnet_output"]
    assert mo.status == "fail" and mo.year_reached is None
    assert mo.gap_at_horizon == pytest.approx(10_000 - mo.value)
    assert card["defence_coverage"].status == "fail"
    assert card["trade_balance"].status == "fail" and card["trade_balance"].value < 0
    assert card["recycling_recovery"].status == "not assessed"


def test_corrupted_flows_fail_a_check(static_run):
    """The passing run with U.S. magnet production cut to a tenth fails the 10 kt measure."""
    res = static_run["pass"]
    f = res.flows
    ms = res.inputs.material_stage
    prod = f.production.copy()
    g = res.chain.stages.index("magnet")
    prod[res.regions.index("US"), ms == g] *= 0.1
    bad = dataclasses.replace(res, flows=dataclasses.replace(f, production=prod))
    card = _by_id(scorecard(bad))
    assert card["magnet_output"].status == "fail"
    assert card["magnet_output"].gap_at_horizon > 0


def test_cli_json_and_bad_scenario(scenario_files, tmp_path):
    r = CliRunner().invoke(app, ["scorecard", str(scenario_files / "fail.yaml"), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout[r.stdout.index("{"):])
    verdicts = {m["id"]: m["status"] for m in out["measures"]}
    assert verdicts["magnet_output"] == "fail" and out["region"] == "US"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nextends: us-baseline\nyears: {start: 2024, end: nonsense}\n",
                   encoding="utf-8")
    r = CliRunner().invoke(app, ["scorecard", str(bad)])
    assert r.exit_code == 2
    assert "bad.yaml" in r.output


def test_indicator_data_cite_known_sources():
    from ruamel.yaml import YAML

    from rareflow import resources
    from rareflow.metrics.indicators import targets

    known = YAML(typ="safe").load((resources.data_dir() / "scenarios" / "_reference" / "sources.yaml")
                                  .read_text(encoding="utf-8"))["sources"]
    t = targets()
    ids = list(wgi_table()["source"]) + list(t["eu_supply_risk"]["method_source"]) + \
        list(t["geopolrisk"]["method_source"]) + list(t["geopolrisk"]["governance_source"])
    for m in t["measures"].values():
        src = m.get("source")
        if isinstance(src, dict):
            assert src.get("assumption"), m
        elif src is not None:
            ids += [src] if isinstance(src, str) else list(src)
        else:
            assert m["kind"] == "not_modelled" and m["reason"], m
    assert ids and not [i for i in ids if i not in known]
