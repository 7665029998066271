"""Hostile scenario files (issue 8, item 4): each is refused cleanly and fast, or, when
valid and merely large, answered in a few seconds.

Every case runs ``rareflow validate FILE`` in a subprocess with a time bound, so a hang,
a crash (SIGSEGV from libyaml's recursive composer) or a traceback fails the test.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent / "rareflow"
LOCATED = re.compile(r"^[^:\n]+:\d+: .+")

#: seconds for a refusal (startup of the command line included; the machine may be shared)
QUICK = 30
#: seconds for a large valid or many-problem file
LARGE = 60


def _cmd() -> list[str]:
    if BIN.exists():
        return [str(BIN)]
    return [sys.executable, "-m", "rareflow"]


def _validate(path: Path | str, timeout: float = QUICK) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    try:
        return subprocess.run([*_cmd(), "validate", str(path)], capture_output=True,
                              text=True, timeout=timeout, cwd=str(ROOT), env=env,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"rareflow validate {path} still running after {timeout} s")


def _refused(path: Path | str, *, contains: str = "", line: int | None = None,
             timeout: float = QUICK, max_lines: int = 1) -> str:
    res = _validate(path, timeout)
    err = res.stderr
    assert res.returncode == 2, (res.returncode, err[-2000:])
    assert "Traceback" not in err and "Traceback" not in res.stdout, err[-2000:]
    lines = err.strip().splitlines()
    assert 1 <= len(lines) <= max_lines, lines[:30]
    assert LOCATED.match(lines[0]), lines[0]
    if line is not None:
        assert lines[0].split(": ", 1)[0].endswith(f":{line}"), lines[0]
    if contains:
        assert contains in err, err[-2000:]
    return err


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


_ROW = ("demand:\n  us_ev_bev:\n    region: US\n    sector: ev_bev\n"
        "    material: ndfeb_sintered\n")


# --- 1. unit strings that are arithmetic ------------------------------------------------

def test_power_tower_capacity(tmp_path: Path) -> None:
    p = _write(tmp_path, "s.yaml", "extends: us-baseline\nfacilities:\n  x:\n    region: US\n"
               "    process: magnet_sintering\n    capacity: 9**9**9 t/yr\n"
               "    assumption: hostile\n")
    res = _validate(p)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert re.search(r"s\.yaml:6: facilities\.x\.capacity: .*no arithmetic", res.stderr), \
        res.stderr


def test_power_tower_growth(tmp_path: Path) -> None:
    p = _write(tmp_path, "s.yaml", "extends: us-baseline\n" + _ROW.split("    region")[0]
               + "    growth: 10**10**10 %/yr\n")
    _refused(p, contains="demand.us_ev_bev.growth", line=4)


# --- 2. numbers too long for a float or for Python's int-str conversion ---------------

def test_million_digit_number_in_unit(tmp_path: Path) -> None:
    p = _write(tmp_path, "s.yaml", "extends: us-baseline\ndemand:\n  us_ev_bev:\n"
               "    activity: " + "9" * 1_000_000 + " vehicle/yr\n")
    _refused(p, contains="characters long", line=4)


def test_thirty_one_digit_number_in_unit(tmp_path: Path) -> None:
    p = _write(tmp_path, "s.yaml", "extends: us-baseline\ndemand:\n  us_ev_bev:\n"
               "    activity: " + "1" * 31 + " vehicle/yr\n")
    _refused(p, contains="significant digits", line=4)


def test_five_thousand_digit_yaml_integer(tmp_path: Path) -> None:
    p = _write(tmp_path, "s.yaml", "extends: us-baseline\ndemand:\n  us_ev_bev:\n"
               "    share: " + "9" * 5000 + "\n")
    _refused(p, contains="demand.us_ev_bev.share", line=4)


def test_yaml_float_out_of_range(tmp_path: Path) -> None:
    p = _write(tmp_path, "s.yaml", "extends: us-baseline\ndemand:\n  us_ev_bev:\n"
               "    share: 1e400\n")
    _refused(p, contains="outside the range", line=4)


# --- 3. tags -----------------------------------------------------------------------------

def test_python_name_tag(tmp_path: Path) -> None:
    p = _write(tmp_path, "s.yaml", "extends: us-baseline\nname: !!python/name:os.system\n")
    _refused(p, contains="not allowed", line=2)


def test_include_tag(tmp_path: Path) -> None:
    p = _write(tmp_path, "s.yaml", "extends: us-baseline\ndemand: !include x.yaml\n")
    _refused(p, contains="'!include' is not allowed", line=2)


# --- 4. nesting that would crash libyaml's recursive composer ---------------------------

@pytest.mark.parametrize("text", [
    "[" * 30000 + "]" * 30000 + "\n",
    "a: {" * 30000 + "}" * 30000 + "\n",
    "- " * 30000 + "x\n",
    "? " * 30000 + "x\n",
    "".join(" " * i + "a:\n" for i in range(200)) + " " * 200 + "b: 1\n",
], ids=["flow-seq", "flow-map", "block-seq", "complex-key", "block-map"])
def test_deep_nesting(tmp_path: Path, text: str) -> None:
    p = _write(tmp_path, "s.yaml", text)
    _refused(p, contains="nested deeper than 64")


# --- 5. valid but large -------------------------------------------------------------------

def test_twelve_thousand_demand_rows(tmp_path: Path) -> None:
    rows = ["extends: us-baseline", "demand:"]
    for i in range(12000):
        rows += [f"  row_{i}:", "    region: US", "    sector: ev_bev",
                 "    material: ndfeb_sintered", f"    activity: {1000 + i} vehicle/yr",
                 "    intensity: 1.5 kg/vehicle", "    assumption: generated"]
    p = _write(tmp_path, "s.yaml", "\n".join(rows) + "\n")
    res = _validate(p, LARGE)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "12052 demand rows" in res.stdout, res.stdout   # 12,000 + the 52 of reference


def test_ninety_nine_thousand_top_level_keys(tmp_path: Path) -> None:
    p = _write(tmp_path, "s.yaml", "".join(f"k{i}: 1\n" for i in range(99000)))
    err = _refused(p, contains="unknown key 'k0'", timeout=LARGE, max_lines=25)
    assert "more problems" in err.strip().splitlines()[-1], err[-500:]


# --- 6. not a text file ------------------------------------------------------------------

def test_binary_file(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_bytes(b"name: x\n\x00\x01\x02\xff" * 100)
    _refused(p, contains="binary", line=2)


def test_not_utf8(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_bytes(b"extends: us-baseline\nname: caf\xe9\n")
    _refused(p, contains="UTF-8", line=2)


def test_directory(tmp_path: Path) -> None:
    d = tmp_path / "dir.yaml"
    d.mkdir()
    res = _validate(d)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert len(res.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo(tmp_path: Path) -> None:
    f = tmp_path / "pipe.yaml"
    os.mkfifo(f)
    assert stat.S_ISFIFO(f.stat().st_mode)
    res = _validate(f)          # must not block waiting for a writer
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert len(res.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero() -> None:
    res = _validate("/dev/zero")  # must not read forever
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert len(res.stderr.strip().splitlines()) == 1


def test_directory_and_device_refused_by_reader(tmp_path: Path) -> None:
    """The YAML reader itself checks for a regular file (the loader may not)."""
    from rareflow.errors import RareflowInputError
    from rareflow.scenario.yaml_io import load_yaml

    for target, word in ((tmp_path, "directory"), (Path("/dev/zero"), "device")):
        if not target.exists():
            continue
        with pytest.raises(RareflowInputError) as info:
            load_yaml(target)
        assert word in info.value.problems[0].message


def test_unit_grammar_accepts_what_scenarios_write() -> None:
    from rareflow.units import parse

    assert parse("45 kt/yr", "mass_rate") == 45000.0
    assert parse("45 kt REO/yr", "mass_rate") == 45000.0
    assert parse("10 t/a", "mass_rate") == 10.0
    assert parse("85 %", "fraction") == pytest.approx(0.85)
    assert parse("8 %/yr", "rate") == pytest.approx(0.08)
    assert parse("1.3e6 vehicle/yr", "count_rate", "vehicle") == 1.3e6
    assert parse("1.5 kg/vehicle", "intensity", "vehicle") == pytest.approx(0.0015)
    assert parse("620 MUSD", "money") == 620e6
    assert parse("18 months", "duration") == pytest.approx(1.5)


def test_control_character(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_bytes(b"extends: us-baseline\nname: a\x07b\n")
    _refused(p, contains="control characters", line=2)


def test_tag_on_a_key(tmp_path: Path) -> None:
    p = _write(tmp_path, "s.yaml", "extends: us-baseline\n!!python/object:os.system : 1\n")
    _refused(p, contains="not allowed", line=2)


def test_nan_in_unit_string(tmp_path: Path) -> None:
    p = _write(tmp_path, "s.yaml", "extends: us-baseline\n" + _ROW.split("    region")[0]
               + "    growth: nan %/yr\n")
    _refused(p, contains="not a finite number", line=4)
