"""Writes that cannot be half-done: killed, concurrent and misdirected runs (issue 8 item 6)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

RAREFLOW = str(Path(sys.executable).parent / "rareflow")
ENV = dict(os.environ)


def _run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([RAREFLOW, *args], capture_output=True, text=True, env=ENV,
                          timeout=timeout)


def _snapshot(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def _no_temporaries(parent: Path) -> None:
    left = [p.name for p in parent.rglob("*") if ".tmp" in p.name or ".old-" in p.name]
    assert not left, left


@pytest.mark.slow
def test_killed_runs_leave_previous_or_new_complete_set(tmp_path: Path) -> None:
    out = tmp_path / "out"
    t0 = time.perf_counter()
    first = _run("run", "us-baseline", "--out", str(out), "--quiet")
    duration = time.perf_counter() - t0
    assert first.returncode == 0, first.stderr
    before = _snapshot(out)
    rng = random.Random(8)
    delays = sorted(rng.uniform(0.2, max(duration, 0.5)) for _ in range(10))
    for delay in delays:
        proc = subprocess.Popen([RAREFLOW, "run", "us-baseline", "--out", str(out), "--quiet"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert out.is_dir(), f"killed at {delay:.2f} s: no output folder"
        now = _snapshot(out)
        # the same run gives bit-identical files, so the previous and the new set coincide
        assert now == before, f"killed at {delay:.2f} s: {sorted(now)} vs {sorted(before)}"
        assert not [n for n in now if ".tmp" in n]
    # the next complete run clears what the killed ones left beside the folder
    again = _run("run", "us-baseline", "--out", str(out), "--quiet")
    assert again.returncode == 0, again.stderr
    assert _snapshot(out) == before
    _no_temporaries(tmp_path)


def test_concurrent_runs_end_with_one_consistent_folder(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    procs = [subprocess.Popen([RAREFLOW, "run", name, "--out", str(out), "--quiet"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
             for name in ("us-baseline", "us-recycling-85")]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    summary = json.loads((out / "summary.json").read_text())
    tables = sorted(out.glob("*.parquet"))
    assert tables
    for t in tables:
        meta = pq.read_schema(t).metadata
        assert meta[b"rareflow.scenario"].decode() == summary["scenario"], t.name
    _no_temporaries(tmp_path)


@pytest.mark.parametrize("kind", ["file", "devnull", "empty", "proc"])
def test_bad_out_exits_2_with_one_line(tmp_path: Path, kind: str) -> None:
    target = {"file": str(tmp_path / "a.txt"), "devnull": "/dev/null", "empty": "",
              "proc": "/proc/rareflow-no/such"}[kind]
    (tmp_path / "a.txt").write_text("keep me\n")
    proc = subprocess.run([RAREFLOW, "run", "us-baseline", "--out", target], capture_output=True,
                          text=True, env=ENV, cwd=tmp_path, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("--out: ")]
    assert len(lines) == 1, proc.stderr
    assert "(" in lines[0] and lines[0].endswith(")")
    assert (tmp_path / "a.txt").read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root is not denied by permissions")
def test_unwritable_folder_exits_2(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        proc = _run("run", "us-baseline", "--out", str(locked / "out"))
    finally:
        locked.chmod(0o700)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("--out: ") == 1


def test_stress_run_replaces_the_folder_whole(tmp_path: Path) -> None:
    out = tmp_path / "s"
    first = _run("stress", "us-embargo-6m", "--samples", "8", "--monthly", "--out", str(out),
                 "--quiet")
    assert first.returncode == 0, first.stderr
    assert (out / "stress_monthly.parquet").exists()
    (out / "stale_from_earlier.parquet").write_bytes(b"old")
    second = _run("stress", "us-embargo-6m", "--samples", "8", "--out", str(out), "--quiet")
    assert second.returncode == 0, second.stderr
    names = sorted(p.name for p in out.iterdir())
    assert "stale_from_earlier.parquet" not in names
    assert "stress_monthly.parquet" not in names  # not asked for this time
    assert "stress_summary.json" in names
    _no_temporaries(tmp_path)


def test_backup_left_by_a_kill_mid_swap_is_restored(tmp_path: Path) -> None:
    from rareflow.results.io import atomic_write_text, output_folder

    out = tmp_path / "o"
    backup = tmp_path / ".o.old-999999-abcd"
    backup.mkdir()
    (backup / "summary.json").write_text("{}\n")
    stale = tmp_path / ".o.tmp-999999-abcd"
    stale.mkdir()
    with output_folder(out) as d:
        assert (out / "summary.json").read_text() == "{}\n"  # restored before writing
        atomic_write_text(d / "summary.json", '{"new": 1}\n')
    assert json.loads((out / "summary.json").read_text()) == {"new": 1}
    _no_temporaries(tmp_path)


def test_failure_inside_keeps_previous_folder(tmp_path: Path) -> None:
    from rareflow.results.io import atomic_write_text, output_folder

    out = tmp_path / "o"
    with output_folder(out) as d:
        atomic_write_text(d / "summary.json", "1\n")
    with pytest.raises(RuntimeError), output_folder(out) as d:
        atomic_write_text(d / "summary.json", "2\n")
        raise RuntimeError("boom")
    assert (out / "summary.json").read_text() == "1\n"
    _no_temporaries(tmp_path)


def test_foreign_folder_is_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    proc = _run("run", "us-baseline", "--out", str(tmp_path / "mine"))
    assert proc.returncode == 2
    assert proc.stderr.count("--out: ") == 1
    assert (tmp_path / "mine" / "notes.txt").read_text() == "x"
