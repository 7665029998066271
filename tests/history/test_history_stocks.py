"""`history:` section, model/history.py and `rareflow stocks`: a hand calculation with two
grades, world = sum of regions, bad input, and the bundled reference history."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rareflow import resources
from rareflow.cli.main import app
from rareflow.errors import RareflowInputError
from rareflow.model.history import compile_history, fill_world, in_use_stocks
from rareflow.scenario.loader import load_scenario

runner = CliRunner()

HISTORY = """\
history:
  start: 2000
  fill: linear
  inflow_at: end
  remainder_region: XR
  remainder_sector: other
  world:
    w2000: {ndfeb: 100 t/yr, years: 2000, assumption: test figure}
    w2002: {ndfeb: 200 t/yr, years: 2002, assumption: test figure}
  regions:
    r2000: {shares: {US: 70 %}, years: 2000, assumption: test figure}
  applications:
    a2000: {shares: {ev_bev: 40 %, electronics: 60 %}, years: 2000, assumption: test figure}
  grades:
    ev:
      sectors: [ev_bev]
      composition: {Nd: 20 %, Pr: 5 %, Dy: 5 %}
      balance: Fe
      years: [2000, 2003]
      assumption: test figure
    el:
      sectors: [electronics]
      composition: {Nd: 29 %, Dy: 1 %}
      balance: Fe
      years: [2000, 2003]
      assumption: test figure
  lifetimes:
    ev_bev: {lifetime: {fixed: 3 yr}, assumption: test figure}
    electronics: {lifetime: {fixed: 2 yr}, assumption: test figure}
"""


def _write(tmp_path: Path, history: str = HISTORY, name: str = "two-grades.yaml") -> Path:
    sources = resources.scenario_dir() / "_reference" / "sources.yaml"
    text = (f"extends: ['{sources}']\n"
            "name: two-grades\n"
            "years: {start: 2004, end: 2006}\n"
            "focus_region: US\n"
            "regions:\n  US: {name: United States}\n  XR: {name: Rest, aggregate: true}\n"
            "demand:\n"
            "  us_ev:\n"
            "    region: US\n    sector: ev_bev\n    material: ndfeb_sintered\n"
            "    quantity: 10 t/yr\n    years: 2004\n    assumption: test figure\n"
            + history)
    p = tmp_path / name
    p.write_text(text)
    return p


def _json(args: list[str]) -> dict[str, float]:
    r = runner.invoke(app, ["stocks", *args, "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_hand_calculation_two_grades(tmp_path: Path) -> None:
    path = _write(tmp_path)
    sc = load_scenario(path)
    c = sc.chain
    chain_dy = float(c.composition[c.m("ndfeb_sintered"), c.elements.index("Dy")])
    chain_nd = float(c.composition[c.m("ndfeb_sintered"), c.elements.index("Nd")])
    # world output (linear fill, held after the last anchor): 100, 150, 200, 200 t (2000-03);
    # ev_bev 40 %, electronics 60 %. Fixed lifetimes, inflow at the end of the year: a cohort
    # of year c is in use at the end of t while t - c < lifetime.
    ev = {2000: 40.0, 2001: 60.0, 2002: 80.0, 2003: 80.0}
    el = {2000: 60.0, 2001: 90.0, 2002: 120.0, 2003: 120.0}
    # end of 2003: ev cohorts 2001-2003 (3 yr), electronics 2002-2003 (2 yr)
    ev03 = ev[2001] + ev[2002] + ev[2003]          # 220
    el03 = el[2002] + el[2003]                     # 240
    want03 = {"ndfeb": ev03 + el03, "Nd": 0.20 * ev03 + 0.29 * el03, "Pr": 0.05 * ev03,
              "Dy": 0.05 * ev03 + 0.01 * el03, "Tb": 0.0}
    # end of 2005: ev cohorts 2003 (history grade) and 2004-05 (demand, 10 t/yr in the US,
    # the chain's sintered composition); electronics: no demand after 2003, all retired
    want05 = {"ndfeb": ev[2003] + 20.0, "Dy": 0.05 * ev[2003] + 20.0 * chain_dy,
              "Nd": 0.20 * ev[2003] + 20.0 * chain_nd}

    got03 = _json([str(path), "--region", "world", "--year", "2003"])
    got05 = _json([str(path), "--region", "world", "--year", "2005"])
    assert list(got03)[:5] == ["ndfeb", "Nd", "Pr", "Dy", "Tb"]
    for k, v in want03.items():
        assert got03[k] == pytest.approx(v, rel=1e-9, abs=1e-9), k
    for k, v in want05.items():
        assert got05[k] == pytest.approx(v, rel=1e-9), k
    assert got03["Fe"] == pytest.approx(0.70 * ev03 + 0.70 * el03, rel=1e-9)

    # the model function gives the same numbers
    h = compile_history(sc)
    st = in_use_stocks(h)
    assert st.at("world", 2003) == pytest.approx(got03)
    assert h.inflow[:, :, h.year_index(2001)].sum() == pytest.approx(150.0)
    # regions: US 70 % of history, plus all of the demand; XR the remaining 30 %
    us05 = _json([str(path), "--region", "US", "--year", "2005"])
    xr05 = _json([str(path), "--region", "XR", "--year", "2005"])
    assert us05["ndfeb"] == pytest.approx(0.7 * ev[2003] + 20.0)
    assert xr05["ndfeb"] == pytest.approx(0.3 * ev[2003])


def test_world_is_sum_of_regions(tmp_path: Path) -> None:
    sc = load_scenario("reference")
    st = in_use_stocks(compile_history(sc))
    for year in (1995, 2010, 2023, 2030):
        world = st.at("world", year)
        parts = [st.at(r, year) for r in st.regions]
        for k, v in world.items():
            assert v == pytest.approx(sum(p[k] for p in parts), rel=1e-12), (year, k)
    got = _json(["reference", "--region", "world", "--year", "2010"])
    assert got == pytest.approx(st.at("world", 2010))


def test_reference_history() -> None:
    sc = load_scenario("reference")
    h = compile_history(sc)
    st = in_use_stocks(h)
    s10, s20 = st.at("world", 2010), st.at("world", 2020)
    assert s10["ndfeb"] > 0 and s20["ndfeb"] > s10["ndfeb"]
    assert all(s10[e] > 0 for e in ("Nd", "Pr", "Dy", "Tb"))
    # historical magnets carried more Dy than the 2020 inflow
    t = h.year_index(2020)
    inflow20 = h.inflow[:, :, t].sum(axis=0)                     # [sector]
    dy = h.elements.index("Dy")
    dy_inflow_2020 = float(inflow20 @ h.composition[:, t, dy] / inflow20.sum())
    assert s10["Dy"] / s10["ndfeb"] > dy_inflow_2020
    # history anchors are met exactly at their years (world totals)
    for y, v in ((2000, 15090.0), (2010, 98200.0), (2020, 217000.0)):
        assert h.inflow[:, :, h.year_index(y)].sum() == pytest.approx(v, rel=1e-9)
    # the composition rows of sectors with inflow sum to 1
    rows = h.composition.sum(axis=2)
    used = h.inflow.sum(axis=0) > 0
    assert np.allclose(rows[used], 1.0)
    # the history does not depend on demand rows (years before the first model year)
    assert h.first_model_year == 2024


def test_log_linear_fill() -> None:
    w = fill_world({2000: 100.0, 2002: 400.0}, [1999, 2000, 2001, 2002, 2003], "log_linear")
    assert w == pytest.approx([50.0, 100.0, 200.0, 400.0, 800.0])
    w = fill_world({2000: 100.0, 2002: 400.0}, [1999, 2001, 2003], "linear")
    assert w == pytest.approx([100.0, 250.0, 400.0])


def test_text_output_names_inputs(tmp_path: Path) -> None:
    r = runner.invoke(app, ["stocks", "reference", "--region", "CN", "--year", "2010"])
    assert r.exit_code == 0, r.output
    assert "inputs: history 1985-2023" in r.stdout and "w2010" in r.stdout
    assert "lifetimes: vannielen_2023_nd" in r.stdout


@pytest.mark.parametrize("args, msg", [
    (["--region", "ZZ", "--year", "2010"], r"--region: unknown region 'ZZ' \(allowed: world"),
    (["--region", "world", "--year", "1984"], r"--year: year 1984 is outside .*1985\.\.2035"),
    (["--region", "world", "--year", "2036"], r"--year: year 2036 is outside"),
])
def test_bad_options_exit_2(args: list[str], msg: str) -> None:
    r = runner.invoke(app, ["stocks", "reference", *args, "--json"])
    assert r.exit_code == 2
    assert re.search(msg, r.stderr), r.stderr
    assert r.stdout == ""


def _line_of(path: Path, needle: str) -> int:
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(needle)


@pytest.mark.parametrize("old, new, field, needle, msg", [
    ("{ev_bev: 40 %, electronics: 60 %}", "{ev_bev: 70 %, electronics: 60 %}",
     "history.applications.a2000", "a2000:", r"shares sum to 130 %; they must not exceed 100 %"),
    ("sectors: [ev_bev]", "sectors: [ev_car]", "history.grades.ev.sectors.0", "sectors: [ev_car]",
     r"unknown sector 'ev_car' \(known: .*ev_bev"),
    ("{shares: {US: 70 %}", "{shares: {QQ: 70 %}", "history.regions.r2000.shares.QQ", "r2000:",
     r"unknown region 'QQ' \(known: US, XR\)"),
    ("{ndfeb: 200 t/yr, years: 2002,", "{ndfeb: 200 t/yr, years: [2002, 2003],",
     "history.world.w2002", "w2002:", r"an anchor describes one year .*allowed: a single year"),
    ("{ndfeb: 100 t/yr, years: 2000,", "{ndfeb: 100 kg, years: 2000,",
     "history.world.w2000.ndfeb", "w2000:", r"."),
    ("composition: {Nd: 29 %, Dy: 1 %}", "composition: {Nd: 29 %, Dy: 1 %, Xx: 1 %}",
     "history.grades.el.composition.Xx", "Xx: 1 %", r"unknown element 'Xx' \(known: "),
    ("    w2002: {ndfeb: 200 t/yr, years: 2002, assumption: test figure}\n",
     "    w2002: {ndfeb: 200 t/yr, years: 2002}\n", "history.world.w2002", "w2002:",
     r"no provenance"),
])
def test_malformed_history_exits_2(tmp_path: Path, old: str, new: str, field: str,
                                   needle: str, msg: str) -> None:
    assert old in HISTORY
    path = _write(tmp_path, HISTORY.replace(old, new))
    line = _line_of(path, needle)
    r = runner.invoke(app, ["stocks", str(path), "--region", "world", "--year", "2003"])
    assert r.exit_code == 2, r.output
    pat = rf"{re.escape(path.name)}:{line}: {re.escape(field)}: {msg}"
    assert re.search(pat, r.stderr), (pat, r.stderr)
    with pytest.raises(RareflowInputError):
        compile_history(load_scenario(path))


def test_no_history_section(tmp_path: Path) -> None:
    path = _write(tmp_path, "")
    r = runner.invoke(app, ["stocks", str(path), "--region", "world", "--year", "2005"])
    assert r.exit_code == 2
    assert re.search(r"two-grades\.yaml:\d+: history: this scenario has no `history:` section",
                     r.stderr), r.stderr


def test_extends_overrides_one_anchor(tmp_path: Path) -> None:
    """A scenario extending `reference` overrides one field of one history record; the
    record keeps the rest (years, provenance) from the reference file."""
    p = tmp_path / "more-2010.yaml"
    p.write_text("extends: reference\nname: more-2010\nhistory:\n  world:\n"
                 "    w2010: {ndfeb: 120 kt/yr}\n  grades:\n    general_2012: null\n"
                 "    general_pre2012: {sectors: [industrial_motors, defence, other], "
                 "years: [1985, 2023]}\n")
    h = compile_history(load_scenario(p))
    assert h.inflow[:, :, h.year_index(2010)].sum() == pytest.approx(120000.0)
    # general_pre2012 now covers 2012-2023 for industrial motors (general_2012 removed);
    # lists replace on merge, so wind keeps only ev_wind_2012, held back before 2012
    s = h.sectors.index("industrial_motors")
    dy = h.elements.index("Dy")
    assert h.composition[s, h.year_index(2020), dy] == pytest.approx(0.0485)
    w = h.sectors.index("wind_direct_drive")
    assert h.composition[w, h.year_index(2000), dy] == pytest.approx(0.04)
