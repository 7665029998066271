"""Bad scenarios: ``rareflow validate FILE`` exits 2 with ``FILE:LINE: field.path: message``
and never a traceback.

Each file in ``bad_scenarios/`` extends a bundled scenario (found by name) and breaks one
thing; the line the error must point at carries the comment ``# ERROR``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rareflow.cli.main import app
from rareflow.errors import RareflowInputError
from rareflow.scenario.loader import load_scenario

HERE = Path(__file__).parent / "bad_scenarios"

# file -> (dotted field path or None, message regex, file the error is in if not this one)
CASES: dict[str, tuple[str | None, str, str | None]] = {
    "syntax_error.yaml": (None, r"YAML syntax error: .*expected ',' or '\]'", None),
    "duplicate_key.yaml": ("name", r"duplicate key 'name' \(first at line 2\)", None),
    "unknown_top_level_key.yaml": (
        "facilites", r"unknown key 'facilites'; did you mean 'facilities'\? \(allowed: .*\)",
        None),
    "facility_unknown_key.yaml": (
        "facilities.mp_mountain_pass_mine.capactiy",
        r"unknown key 'capactiy'; did you mean 'capacity'\? \(allowed: .*capacity.*\)", None),
    "unknown_region.yaml": (
        "facilities.mp_mountain_pass_mine.region", r"unknown region 'ZZ' \(28 known; .*\)",
        None),
    "import_shares_unknown_stage.yaml": (
        "trade.import_shares.us_magnets.stage",
        r"unknown stage 'magnets'; did you mean 'magnet'\?", None),
    "import_origin_unknown_region.yaml": (
        "trade.import_shares.us_alloy.origins.XX", r"unknown region 'XX'", None),
    "demand_unknown_material.yaml": (
        "demand.us_ev_bev.material",
        r"unknown material 'ndfeb_sinterd'; did you mean 'ndfeb_sintered'\?", None),
    "facility_unknown_process.yaml": (
        "facilities.mp_mountain_pass_mine.process",
        r"unknown process 'mine_bastnasite'; did you mean 'mine_bastnaesite'\?", None),
    "demand_unknown_sector.yaml": (
        "demand.us_ev_bev.sector", r"unknown sector 'ev_bevs'; did you mean 'ev_bev'\?", None),
    "capacity_mass_not_rate.yaml": (
        "facilities.mp_mountain_pass_separation.capacity",
        r"'6000 t' is a mass, a capacity or flow needs mass per time \(e\.g\. '10 t/yr'.*\)",
        None),
    "capacity_unitless.yaml": (
        "facilities.mp_mountain_pass_separation.capacity",
        r"'6000' has no unit; write it with one, e\.g\. '10 t/yr'", None),
    "capacity_negative.yaml": (
        "facilities.mp_mountain_pass_separation.capacity",
        r"must not be negative \(got '-6000 t/yr'\)", None),
    "utilisation_above_100.yaml": (
        "facilities.mp_mountain_pass_separation.utilisation",
        r"a share must lie between 0 % and 100 % \(got '120 %'\)", None),
    "share_above_100.yaml": (
        "demand.us_ev_bev.share", r"a share must lie between 0 % and 100 % \(got '130 %'\)",
        None),
    "import_shares_not_one.yaml": (
        "trade.import_shares.us_magnets",
        r"origin shares sum to 0\.665; they must sum to 1 \(100 %\)", None),
    "extends_missing.yaml": (
        "extends", r"cannot find scenario 'no-such-scenario' \(a path, or one of the bundled "
        r"names: .*us-baseline.*\)", None),
    "circular_a.yaml": (
        "extends", r"circular extends: circular_a\.yaml -> circular_b\.yaml -> circular_a\.yaml",
        "circular_b.yaml"),
    "alias_bomb.yaml": (None, r"document expands to [\d,]+ nodes, more than 200,000 \(an alias "
                        r"bomb or a huge file\); refused", None),
    "too_deep.yaml": (None, r"document nested deeper than 64 levels", None),
    "years_reversed.yaml": ("years", r"end \(2024\) is before start \(2035\)", None),
    "demand_quantity_and_activity.yaml": (
        "demand.us_ev_bev", r"give either activity and intensity, or quantity, not both", None),
    "intensity_wrong_unit.yaml": (
        "demand.us_ev_bev.intensity",
        r"'1\.5 kg/MW' .*an intensity needs mass per unit of activity .*\(this sector's "
        r"intensity is mass per vehicle\)", None),
    "unknown_source.yaml": (
        "facilities.mp_mountain_pass_mine.source",
        r"unknown source 'usgs_mcs2099'; did you mean 'usgs_mcs2026'\?; add it under "
        r"`sources:`", None),
    "no_provenance.yaml": (
        "facilities.new_plant", r"no provenance: add `source:` and `confidence:`, or "
        r"`assumption:` with the reasoning", None),
    "assumption_empty.yaml": (
        "facilities.new_plant", r"an assumption needs its reasoning written out", None),
    "non_iso_region.yaml": (
        "regions", r"region codes must be ISO 3166 alpha-2 \(two capital letters; .*\), got USA",
        None),
    "unknown_status.yaml": (
        "facilities.mp_mountain_pass_mine.status",
        r"Input should be 'operating', 'construction', 'planned' or 'idle'", None),
    "unknown_chain.yaml": (
        "chain", r"unknown chain 'graphite-anodes' \(bundled: rare-earth-magnets\)", None),
    "distribution_invalid.yaml": (
        "facilities.mp_mountain_pass_separation.capacity",
        r"triangular distribution: mode \(5000\) must lie between low \(7000\) and high "
        r"\(8000\)", None),
}

try:  # distributions are optional
    import rareflow.uncertainty  # noqa: F401
    HAS_UNCERTAINTY = True
except ImportError:  # pragma: no cover
    HAS_UNCERTAINTY = False


def _marker_line(path: Path) -> int | None:
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if "# ERROR" in line:
            return i
    return None


def _expected_pattern(name: str) -> str:
    field, message, other = CASES[name]
    where = HERE / (other or name)
    line = _marker_line(where)
    loc = re.escape(where.name) + (f":{line}" if line else "")
    fld = f"{re.escape(field)}: " if field else ""
    return rf"(?m)^(?:.*/)?{loc}: {fld}{message}"


def _validate(path: Path | str) -> tuple[int, str]:
    res = CliRunner().invoke(app, ["validate", str(path)])
    return res.exit_code, res.output


def test_there_are_enough_cases() -> None:
    files = sorted(p.name for p in HERE.glob("*.yaml"))
    assert len(files) >= 20
    # every file is a case (circular_b is the other half of circular_a)
    assert set(files) - set(CASES) == {"circular_b.yaml"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_scenario(name: str) -> None:
    if name == "distribution_invalid.yaml" and not HAS_UNCERTAINTY:
        pytest.skip("rareflow.uncertainty is not available")
    code, out = _validate(HERE / name)
    assert code == 2, out
    assert "Traceback" not in out
    # every line is a located problem: FILE[:LINE]: ...
    for line in filter(None, out.splitlines()):
        assert re.match(r"^\S+\.ya?ml(:\d+)?: ", line), line
    assert re.search(_expected_pattern(name), out), f"expected {_expected_pattern(name)!r}\n" \
        f"got:\n{out}"


def test_extended_scenario_is_found_by_name() -> None:
    """Every case that extends one names a bundled scenario, not a path."""
    for name in CASES:
        text = (HERE / name).read_text()
        m = re.search(r"^extends: (\S+)", text, re.M)
        if m and not m.group(1).endswith(".yaml"):
            assert m.group(1) in ("us-baseline", "reference", "no-such-scenario")


def test_alias_bomb_is_refused_fast() -> None:
    t0 = time.perf_counter()
    with pytest.raises(RareflowInputError, match="alias bomb"):
        load_scenario(str(HERE / "alias_bomb.yaml"))
    assert time.perf_counter() - t0 < 0.5


def test_huge_document_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "huge.yaml"
    filler = "# " + "x" * 98 + "\n"
    with f.open("w") as fh:
        fh.write("extends: us-baseline\nname: huge\n")
        fh.write(filler * 51_000)            # ~5.1 MB of comments
    assert f.stat().st_size > 5_000_000
    t0 = time.perf_counter()
    code, out = _validate(f)
    assert time.perf_counter() - t0 < 2.0
    assert code == 2
    assert "Traceback" not in out
    assert re.search(r"(?m)^(?:.*/)?huge\.yaml: file is [\d,]+ bytes; scenario files are "
                     r"limited to 5,000,000 bytes", out), out


def test_cli_subprocess_exit_code_and_no_traceback() -> None:
    """The installed entry point, not only the Typer test runner."""
    cmd = [sys.executable, "-m", "rareflow.cli.main", "validate",
           str(HERE / "facility_unknown_process.yaml")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert re.search(_expected_pattern("facility_unknown_process.yaml"), proc.stderr)


def test_all_problems_reported_together(tmp_path: Path) -> None:
    f = tmp_path / "two.yaml"
    f.write_text("extends: us-baseline\nname: two\nfacilities:\n"
                 "  mp_mountain_pass_mine:\n    region: ZZ\n"
                 "demand:\n  us_ev_bev:\n    sector: ev_bevs\n")
    code, out = _validate(f)
    assert code == 2
    assert re.search(r"two\.yaml:5: facilities\.mp_mountain_pass_mine\.region: unknown region",
                     out)
    assert re.search(r"two\.yaml:8: demand\.us_ev_bev\.sector: unknown sector", out)


# ---------------------------------------------------------------- valid overrides refused
def test_distribution_can_replace_a_schedule(tmp_path: Path) -> None:
    f = tmp_path / "dist.yaml"
    f.write_text("extends: us-baseline\nname: dist\nfacilities:\n"
                 "  mp_mountain_pass_separation:\n"
                 "    utilisation: {dist: triangular, low: 20 %, mode: 40 %, high: 60 %}\n")
    sc = load_scenario(str(f))
    assert "facilities.mp_mountain_pass_separation.utilisation" in sc.uncertain


def test_null_removes_an_inherited_origin(tmp_path: Path) -> None:
    f = tmp_path / "origins.yaml"
    f.write_text("extends: us-baseline\nname: origins\ntrade:\n  import_shares:\n"
                 "    us_magnets:\n      origins: {CN: 100 %, XR: null}\n")
    sc = load_scenario(str(f))
    assert sc.spec.trade.import_shares["us_magnets"].origins == {"CN": 1.0}
