"""Sweeps into a run store (issue 11): sweep files, run ids, a real LocalCluster with process
workers, resuming after a killed worker, half-written runs, and the runs/compare/query
commands. Runs the small graphite chain (tests/sweep/fixtures): a run takes ~0.1 s."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rareflow.cli.main import app
from rareflow.store import open_store
from rareflow.store.execute import run_sweep
from rareflow.store.sweep import load_sweep, run_id

FIX = Path(__file__).resolve().parent / "fixtures"
SMALL = FIX / "small.yaml"
runner = CliRunner()


def _sweep_file(tmp_path: Path, body: str, name: str = "sw.yaml") -> Path:
    for f in ("scenario.yaml", "chain.yaml"):
        (tmp_path / f).write_text((FIX / f).read_text())
    p = tmp_path / name
    p.write_text(body)
    return p


def _hashes(store_dir: Path) -> dict[str, str]:
    df = open_store(store_dir).runs()
    assert df["run_id"].is_unique
    return dict(zip(df["run_id"], df["result_hash"], strict=True))


def _run_dirs(store_dir: Path) -> list[str]:
    return sorted(p.name for p in (store_dir / "runs").iterdir())


# ------------------------------------------------------------------ sweep files
@pytest.mark.parametrize(("body", "line", "where", "what"), [
    ("name: x\nscenarios: [scenario.yaml]\nengines: [run]\noverides: {}\n", 4, "overides",
     "overides"),
    ("name: x\nscenarios: [scenario.yaml]\nengines:\n  runn: {}\n", 4, "engines.runn", "runn"),
    ("name: x\nscenarios: [scenario.yaml]\nengines: [run]\noverrides:\n  zip:\n"
     "    a.b: [1, 2]\n    a.c: [1]\n", 5, "overrides.zip", "equal lengths"),
    ("name: x\nscenarios: [scenario.yaml]\nengines: [run]\noverrides:\n  samples:\n    n: 3\n"
     "    params:\n      a.b: {dist: uniform, low: 1}\n", 8, "overrides.samples.params.a.b", "high"),
    ("name: x\nscenarios: [scenario.yaml]\nengines:\n  stress: {samples: 0}\n", 4,
     "engines.stress.samples", "greater than or equal to 1"),
    ("name: x\nscenarios: [scenario.yaml]\nengines:\n  run:\n    scenarios:\n"
     "      - scenario.yaml\n      - other.yaml\n", 7, "engines.run.scenarios.1",
     "not one of the sweep's scenarios (allowed: scenario.yaml)"),
])
def test_sweep_file_errors_are_located(tmp_path: Path, body: str, line: int, where: str,
                                       what: str) -> None:
    p = _sweep_file(tmp_path, body)
    res = runner.invoke(app, ["sweep", str(p), "--store", str(tmp_path / "st")])
    assert res.exit_code == 2, res.output
    first = res.stderr.strip().splitlines()[0]
    assert first.startswith(f"sw.yaml:{line}: {where}") or f"sw.yaml:{line}: {where}" in first, first
    assert what in first, first


def test_bad_override_value_fails_that_run_only(tmp_path: Path) -> None:
    """An override the scenario refuses is a failed run with its located error; the sweep
    goes on, and a rerun retries only the failed run."""
    p = _sweep_file(tmp_path, "name: x\nscenarios: [scenario.yaml]\nengines: [run]\noverrides:\n"
                    "  grid:\n    facilities.us_anode_plant.utilisation: [80 %, 10 kg]\n")
    st = tmp_path / "st"
    res = runner.invoke(app, ["sweep", str(p), "--store", str(st), "--workers", "1", "-q"])
    assert res.exit_code == 0, res.output
    assert "1 finished, 1 failed" in res.stdout
    runs = json.loads(runner.invoke(app, ["runs", str(st), "--json"]).stdout)
    failed = [r for r in runs if r["status"] == "failed"]
    assert len(failed) == 1 and "<overrides>" in failed[0]["error"]
    assert "facilities.us_anode_plant.utilisation" in failed[0]["error"]
    again = runner.invoke(app, ["sweep", str(p), "--store", str(st), "--workers", "1", "-q"])
    assert "0 finished, 1 failed, 1 already in the store" in again.stdout


def test_run_ids_are_stable(tmp_path: Path) -> None:
    a = [r.run_id for r in load_sweep(SMALL).runs]
    assert len(a) == len(set(a)) == 8
    assert [r.run_id for r in load_sweep(SMALL).runs] == a
    # the same ids in another process
    code = ("from rareflow.store.sweep import load_sweep; import sys; "
            "print(','.join(r.run_id for r in load_sweep(sys.argv[1]).runs))")
    out = subprocess.run([sys.executable, "-c", code, str(SMALL)], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out.split(",") == a
    # the id hashes content, not spelling: key order does not matter; the seed does
    assert run_id("h", {"a": 1, "b": {2030: "1 t/yr"}}, "run", {}, 0) == \
        run_id("h", {"b": {"2030": "1 t/yr"}, "a": 1}, "run", {}, 0)
    assert run_id("h", {"a": 1}, "run", {}, 0) != run_id("h", {"a": 1}, "run", {}, 1)


def test_samples_do_not_depend_on_their_number(tmp_path: Path) -> None:
    def body(n: int) -> str:
        return ("name: x\nseed: 7\nscenarios: [scenario.yaml]\nengines: [run]\noverrides:\n"
                f"  samples:\n    n: {n}\n    params:\n      facilities.us_anode_plant.utilisation:"
                " {dist: triangular, low: 50, mode: 70, high: 90, unit: '%'}\n")
    three = load_sweep(_sweep_file(tmp_path, body(3), "a.yaml")).runs
    five = load_sweep(_sweep_file(tmp_path, body(5), "b.yaml")).runs
    assert [r.overrides for r in three] == [r.overrides for r in five[:3]]
    assert [r.run_id for r in three] == [r.run_id for r in five[:3]]
    assert all(r.overrides["facilities.us_anode_plant.utilisation"].endswith(" %") for r in five)


# ------------------------------------------------------------------ execution
def test_local_cluster_matches_one_worker_bit_for_bit(tmp_path: Path) -> None:
    sw = load_sweep(SMALL)
    one = run_sweep(sw, tmp_path / "one", workers=1)
    two = run_sweep(sw, tmp_path / "two", workers=2)
    assert one.workers.startswith("1 (in process)") and "LocalCluster" in two.workers
    assert one.finished == two.finished == 8
    h1, h2 = _hashes(tmp_path / "one"), _hashes(tmp_path / "two")
    assert h1 == h2 and len(set(h1.values())) == 8
    s1, s2 = open_store(tmp_path / "one"), open_store(tmp_path / "two")
    for rid in h1:
        for name in ("flows", "stages", "facilities"):
            assert s1.table(rid, name).equals(s2.table(rid, name))
    # a rerun is idempotent: everything skipped, nothing written twice
    again = run_sweep(sw, tmp_path / "two", workers=2)
    assert again.skipped == 8 and again.ran == 0
    assert len(_run_dirs(tmp_path / "two")) == 8


def test_existing_scheduler_runs_the_same_sweep(tmp_path: Path) -> None:
    """--scheduler ADDRESS: the same runs on a cluster the sweep did not start, same bits."""
    import warnings

    from distributed import LocalCluster

    from rareflow.store.sweep import Sweep

    full = load_sweep(SMALL)
    sw = Sweep(full.spec, full.file, full.runs[:3])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
    try:
        rep = run_sweep(sw, tmp_path / "ext", scheduler=cluster.scheduler_address)
    finally:
        cluster.close()
    assert rep.finished == 3 and rep.workers.startswith("cluster at tcp://")
    run_sweep(sw, tmp_path / "local", workers=1)
    assert _hashes(tmp_path / "ext") == _hashes(tmp_path / "local")


def _worker_pids() -> list[int]:
    import psutil

    out = []
    for c in psutil.Process().children(recursive=True):
        try:
            cmd = " ".join(c.cmdline())
        except psutil.Error:
            continue
        if "spawn_main" in cmd or "forkserver" in cmd:
            out.append(c.pid)
    return out


def test_resume_after_a_worker_is_killed(tmp_path: Path) -> None:
    """SIGKILL a worker process mid-sweep: the sweep completes (the task is retried on
    another worker) or a rerun does; every run is in the store exactly once."""
    sw = load_sweep(SMALL)
    store = tmp_path / "st"
    killed: list[int] = []

    def progress(res: dict[str, object]) -> None:
        if res["status"] == "finished" and not killed:
            pids = _worker_pids()
            assert pids, "no worker process found"
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    first = run_sweep(sw, store, workers=2, progress=progress)
    assert killed
    second = run_sweep(sw, store, workers=1)
    # the store was empty, so a run the first sweep skipped is one a retried task found
    # already written by the worker that was killed after writing it: not run twice
    assert first.finished + first.skipped + second.finished == 8
    assert second.skipped == first.finished + first.skipped
    assert len(_run_dirs(store)) == 8
    df = open_store(store).runs()
    assert sorted(df["run_id"]) == sorted(r.run_id for r in sw.runs)
    assert (df["status"] == "finished").all()
    assert _hashes(store) == dict(zip(df["run_id"], df["result_hash"], strict=True))


def test_kill_minus_9_of_the_whole_sweep_then_resume(tmp_path: Path) -> None:
    """kill -9 of the sweep's process group while it runs: the store holds only whole runs
    and a rerun completes the rest, each run once."""
    store = tmp_path / "st"
    rareflow = [sys.executable, "-m", "rareflow"]
    proc = subprocess.Popen([*rareflow, "sweep", str(SMALL), "--store", str(store),
                             "--workers", "1", "-q"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        runs = store / "runs"
        if runs.is_dir() and len(list(runs.iterdir())) >= 2:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    st = open_store(store)
    done = st.finished_ids()
    assert 2 <= len(done) <= 8
    assert set(_run_dirs(store)) == {f"run_id={i}" for i in done}  # only whole runs
    res = run_sweep(load_sweep(SMALL), store, workers=1)
    assert res.skipped == len(done) and res.finished == 8 - len(done)
    assert len(_run_dirs(store)) == 8 and not list((store / "tmp").iterdir())


def test_half_written_run_is_not_finished_and_is_redone(tmp_path: Path) -> None:
    sw = load_sweep(SMALL)
    store = tmp_path / "st"
    run_sweep(sw, store, workers=1)
    st = open_store(store)
    a, b = sw.runs[0].run_id, sw.runs[1].run_id
    # a: the writer was killed before the rename (its temp folder left behind, no manifest)
    os.rename(st.run_dir(a), store / "tmp" / f"{a}~999999999~dead~{os.uname().nodename}")
    (store / "tmp" / f"{a}~999999999~dead~{os.uname().nodename}" / "manifest.json").unlink()
    # b: a run folder without its manifest (damaged by hand)
    (st.run_dir(b) / "manifest.json").unlink()
    assert not st.is_finished(a) and not st.is_finished(b)
    listed = set(st.runs()["run_id"])
    assert a not in listed and b not in listed
    flows = st.query("SELECT DISTINCT run_id FROM flows")
    assert a not in set(flows["run_id"]) and b not in set(flows["run_id"])
    res = run_sweep(sw, store, workers=1)
    assert res.finished == 2 and res.skipped == 6
    assert len(_run_dirs(store)) == 8 and st.is_finished(a) and st.is_finished(b)
    assert not list((store / "tmp").iterdir())


# ------------------------------------------------------------------ reading
@pytest.fixture(scope="module")
def filled_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("store") / "st"
    res = runner.invoke(app, ["sweep", str(SMALL), "--store", str(store), "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "8 finished" in res.stdout and "crossing" in res.stdout
    return store


def test_runs_json(filled_store: Path) -> None:
    res = runner.invoke(app, ["runs", str(filled_store), "--json"])
    assert res.exit_code == 0, res.output
    runs = json.loads(res.stdout)
    assert len(runs) == 8
    for r in runs:
        assert {"run_id", "scenario", "engine", "status", "result_hash", "overrides",
                "seconds"} <= set(r)
        assert r["status"] == "finished" and r["engine"] == "run"
        assert r["scenario"] == "graphite-demo" and len(r["result_hash"]) == 64
        assert "facilities.us_anode_plant.capacity" in r["overrides"]
    table = runner.invoke(app, ["runs", str(filled_store)])
    assert table.exit_code == 0 and "8 runs (8 finished, 0 failed)" in table.stdout


def test_compare_prints_only_differences(filled_store: Path) -> None:
    runs = json.loads(runner.invoke(app, ["runs", str(filled_store), "--json"]).stdout)
    by = {(r["factors"]["plant_size"], r["factors"]["facilities.us_anode_plant.utilisation"]):
          r["run_id"] for r in runs}
    res = runner.invoke(app, ["compare", str(filled_store), by[("small", "60 %")],
                              by[("huge", "60 %")][:8], "--limit", "0", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["differences"]
    keys = {r["key"] for r in rows}
    assert "domestic_coverage.US.anode.2030" in keys
    assert all(r["a"] != r["b"] for r in rows)
    assert not any(k.startswith(("scenario", "rareflow_version")) for k in keys)
    d = next(r for r in rows if r["key"] == "domestic_coverage.US.anode.2030")
    assert d["delta"] == pytest.approx(d["b"] - d["a"]) and d["delta"] > 0
    shown = runner.invoke(app, ["compare", str(filled_store), by[("small", "60 %")],
                                by[("huge", "60 %")]])
    assert shown.exit_code == 0 and "domestic_coverage.US.anode" in shown.stdout
    same = runner.invoke(app, ["compare", str(filled_store), by[("small", "60 %")],
                               by[("small", "60 %")]])
    assert "no differences" in same.stdout
    bad = runner.invoke(app, ["compare", str(filled_store), "zzzz", by[("small", "60 %")]])
    assert bad.exit_code == 2 and "RUN_A: no run zzzz" in bad.stderr


def test_query_cli_and_api_agree(filled_store: Path) -> None:
    sql = ("SELECT r.run_id, sum(f.production_t) AS production_t FROM flows f JOIN runs r "
           "USING (run_id) WHERE f.region = 'US' AND f.year = 2030 GROUP BY 1 ORDER BY 1")
    res = runner.invoke(app, ["query", str(filled_store), sql, "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    df = open_store(filled_store).query(sql)
    assert len(rows) == len(df) == 8
    assert [r["production_t"] for r in rows] == df["production_t"].tolist()
    assert len(set(df["production_t"])) == 8
    text = runner.invoke(app, ["query", str(filled_store), "SELECT count(*) AS n FROM runs"])
    assert text.exit_code == 0 and "8" in text.stdout
    bad = runner.invoke(app, ["query", str(filled_store), "SELECT nope FROM flows"])
    assert bad.exit_code == 2 and "SQL:" in bad.stderr and "flows" in bad.stderr


def test_bundled_sweep_expands(tmp_path: Path) -> None:
    sw = load_sweep("us-ramp-delays")
    assert len(sw.runs) == 160
    assert {r.engine for r in sw.runs} == {"run", "stress"}
    assert sum(r.engine == "stress" for r in sw.runs) == 128
    assert len({r.run_id for r in sw.runs}) == 160
    res = runner.invoke(app, ["sweep", "us-ramp-delays", "--store", str(tmp_path / "s"),
                              "--dry-run"])
    assert res.exit_code == 0 and res.stdout.strip().endswith("160 runs")
    static = runner.invoke(app, ["sweep", "us-ramp-delays", "--store", str(tmp_path / "s"),
                                 "--dry-run", "--engine", "run"])
    assert static.exit_code == 0 and static.stdout.strip().endswith("32 runs")
    bad = runner.invoke(app, ["sweep", "us-ramp-delays", "--store", str(tmp_path / "s"),
                              "--engine", "plan"])
    assert bad.exit_code == 2 and "--engine: the sweep has no engine plan" in bad.stderr


def test_engine_runs_only_on_its_scenarios(tmp_path: Path) -> None:
    """``engines.ENGINE.scenarios`` limits an engine to those scenarios; the others still
    run every engine."""
    p = _sweep_file(tmp_path, "name: x\nscenarios: [scenario.yaml, other.yaml]\n"
                    "engines:\n  run: {scenarios: [other.yaml]}\n  recycling: {}\n")
    (tmp_path / "other.yaml").write_text((FIX / "scenario.yaml").read_text()
                                         .replace("name: graphite-demo", "name: other", 1))
    sw = load_sweep(p)
    pairs = sorted((r.engine, r.scenario) for r in sw.runs)
    assert pairs == [("recycling", "graphite-demo"), ("recycling", "other"), ("run", "other")]
