"""Years the data do not describe (issue 8 item 5): warnings, refusals, summary.json."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rareflow.cli.main import app
from rareflow.errors import RareflowDataWarning, RareflowInputError
from rareflow.scenario.loader import bundled_scenarios, load_scenario

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "src" / "rareflow" / "data" / "scenarios" / "_reference"


def _scenario(tmp_path: Path, start: int, end: int, extra: str = "") -> Path:
    p = tmp_path / f"s{start}.yaml"
    p.write_text(f"name: us-{start}\nextends: us-baseline\n"
                 f"years: {{start: {start}, end: {end}}}\n{extra}", encoding="utf-8")
    return p


def test_a_2010_run_warns_naming_records_and_years(tmp_path: Path) -> None:
    with pytest.warns(RareflowDataWarning) as caught:
        sc = load_scenario(_scenario(tmp_path, 2010, 2024))
    messages = [str(w.message) for w in caught]
    by_record = {u.path: u for u in sc.coverage_warnings}
    assert len(messages) == len(sc.coverage_warnings)
    magnets = by_record["production.cn_magnets.values"]
    assert magnets.treatment == "held constant"
    assert magnets.described == (2023, 2024) and magnets.years == (2010, 2022)
    mining = by_record["production.cn_mining.values"]
    assert mining.years == (2010, 2023)
    assert any(m.endswith("production.cn_mining.values: warning: described years "
                          "2024-2025; held constant for 2010-2023") for m in messages)
    assert "mining.yaml:" in mining.format()
    # a single value with growth is re-based on the first scenario year
    assert by_record["demand.us_ev_bev.activity"].treatment == "extrapolated"
    # a plant before its start year is zero by definition, not reported
    assert "facilities.mp_10x_magnets.capacity" not in by_record
    # an operating plant with no start year is reported as zero before its data
    assert by_record["facilities.mp_mountain_pass_mine.capacity"].treatment == "zero"


@pytest.mark.parametrize("name", sorted(bundled_scenarios()))
def test_bundled_scenarios_over_their_own_years_warn_nothing(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RareflowDataWarning)
        sc = load_scenario(name)
    assert sc.coverage_warnings == ()


def test_an_override_without_years_describes_every_scenario_year(tmp_path: Path) -> None:
    extra = ("production:\n  cn_magnets:\n    values: {2010: 80 kt/yr, 2024: 260 kt/yr}\n"
             "    assumption: test override\n")
    with pytest.warns(RareflowDataWarning):
        sc = load_scenario(_scenario(tmp_path, 2010, 2024, extra))
    assert "production.cn_magnets.values" not in {u.path for u in sc.coverage_warnings}


def test_a_run_wholly_before_the_data_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RareflowInputError) as exc:
        load_scenario(_scenario(tmp_path, 2000, 2010))
    text = exc.value.format()
    assert "production.cn_mining: described years 2024-2025" in text
    assert "not extrapolated backwards" in text


def test_a_reference_record_without_years_is_refused(tmp_path: Path) -> None:
    ref = tmp_path / "_reference"
    ref.mkdir()
    (ref / "extra.yaml").write_text(
        "production:\n"
        "  test_row:\n"
        "    region: CN\n"
        "    process: mine_bastnaesite\n"
        "    values: {2024: 1 kt/yr}\n"
        "    source: usgs_mcs2026\n"
        "    confidence: medium\n", encoding="utf-8")
    top = tmp_path / "top.yaml"
    top.write_text("name: top\nextends: [us-baseline, _reference/extra.yaml]\n", encoding="utf-8")
    with pytest.raises(RareflowInputError) as exc:
        load_scenario(top)
    (problem,) = exc.value.problems
    assert problem.file is not None and problem.file.endswith("extra.yaml")
    assert problem.line == 2 and problem.path == "production.test_row"
    assert "no `years:`" in problem.format()


def test_every_bundled_reference_record_states_years() -> None:
    assert REFERENCE.is_dir()
    for f in ("mining", "processing", "trade", "demand", "facilities", "regions"):
        text = (REFERENCE / f"{f}.yaml").read_text(encoding="utf-8")
        records = text.count("\n    source:") + text.count("\n    assumption:")
        assert text.count("\n    years:") == records, f


def test_years_field_forms() -> None:
    from rareflow.scenario.provenance import Sourced

    assert Sourced(years=2024, assumption="x").years == (2024, 2024)
    assert Sourced(years=[2021, 2024], assumption="x").years == (2021, 2024)
    for bad in ([2024, 2021], [2024], "2024", True):
        with pytest.raises(ValueError):
            Sourced(years=bad, assumption="x")


def test_cli_run_prints_and_writes_data_years_warnings(tmp_path: Path) -> None:
    path = _scenario(tmp_path, 2010, 2024)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert ("production.cn_magnets.values: warning: described years 2023-2024; "
            "held constant for 2010-2022") in result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    records = {w["record"]: w for w in summary["data_years_warnings"]}
    assert records["production.cn_mining.values"]["years"] == [2010, 2023]
    assert records["production.cn_mining.values"]["treatment"] == "held constant"


def test_cli_run_within_the_data_years_writes_an_empty_list(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", "us-baseline", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["data_years_warnings"] == []
