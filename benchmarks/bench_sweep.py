"""Sweeps at scale (issue 11): throughput with 1 and 2 workers, kill -9 at five moments and
resume, bit-identical results, every run once and every table readable.

    python benchmarks/bench_sweep.py [--out DIR] [--embargo-months 0,3,6,9,12,18,24]

The sweep is the bundled ``us-ramp-delays`` (Vulcan and MP 10X delays of 0-3 years x the
derived and the press U.S. demand x the static and the stress engine) with the embargo
lengths widened to seven (0-24 months), so 2 x 16 x (1 + 7) = 256 runs, and with
``reconcile: null`` set for every run: the world as reported, not reconciled. The
reconciliation of the 2024 world takes ~15 s a run and is cached only for identical
scenarios, which no two runs of a sweep are; without it a run takes well under a second
and the whole benchmark a few minutes.

Steps: (1) the sweep with ``--workers 1`` (in process, no dask) into a fresh store;
(2) the same with ``--workers 2`` (LocalCluster, process workers) into another; (3) the
same with 2 workers into a third store, the sweep's whole process group killed with
SIGKILL five times (after 5 %, 25 %, 45 %, 65 % and 85 % of the runs are in the store;
kills 2 and 4 at the first moment after that when a run is being written, i.e. its temp
folder exists) and resumed each time, then run to the end. After every kill the store is checked: only whole
runs (every run folder has its finished manifest), none twice. At the end every table of
every run is read, and the three stores' result hashes are compared run by run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAREFLOW = [sys.executable, "-m", "rareflow"]


def make_sweep(folder: Path, embargo: list[int]) -> Path:
    from rareflow.scenario.yaml_io import load_yaml
    from rareflow.store.sweep import bundled_sweeps

    src = bundled_sweeps()["us-ramp-delays"]
    data = load_yaml(src).data
    data["name"] = "bench-us-ramp-delays"
    data["scenarios"] = [s if not s.endswith(".yaml") else str((src.parent / s).resolve())
                         for s in data["scenarios"]]
    data["overrides"]["set"] = {"reconcile": None}
    data["engines"]["stress"]["overrides"]["grid"]["embargo_months"] = {
        str(m): {"stress.restrictions.cn_embargo.duration": f"{m} months"} for m in embargo}
    p = folder / "bench-us-ramp-delays.yaml"
    p.write_text(json.dumps(data, indent=1))  # JSON is YAML
    return p


def sweep(sweep_file: Path, store: Path, workers: int) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run([*RAREFLOW, "sweep", str(sweep_file), "--store", str(store),
                          "--workers", str(workers), "-q"], capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"sweep failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return dt, out.stdout.strip().splitlines()[-1]


def finished(store: Path) -> int:
    d = store / "runs"
    return sum(1 for p in d.iterdir() if (p / "manifest.json").is_file()) if d.is_dir() else 0


def check_whole(store: Path, ids: set[str]) -> tuple[int, int]:
    """Every run folder holds its finished manifest and is a run of the sweep; (runs, left
    in tmp/)."""
    d = store / "runs"
    names = sorted(p.name for p in d.iterdir()) if d.is_dir() else []
    for n in names:
        m = json.loads((d / n / "manifest.json").read_text())
        assert m["status"] == "finished" and n == f"run_id={m['run_id']}", n
        assert m["run_id"] in ids, n
    assert len(names) == len(set(names))
    tmp = store / "tmp"
    return len(names), (len(list(tmp.iterdir())) if tmp.is_dir() else 0)


def _entries(d: Path) -> list[Path]:
    try:
        return list(d.iterdir())
    except OSError:
        return []


def read_every_table(store: Path) -> int:
    import pyarrow.parquet as pq

    n = 0
    for p in (store / "runs").glob("run_id=*/*.parquet"):
        pq.read_table(p)
        n += 1
    for p in (store / "runs").glob("run_id=*/summary.json"):
        json.loads(p.read_text())
    return n


def hashes(store: Path) -> dict[str, str]:
    from rareflow.store import open_store

    df = open_store(store).runs()
    assert df["run_id"].is_unique
    assert (df["status"] == "finished").all(), df[df["status"] != "finished"][["run_id", "error"]]
    return dict(zip(df["run_id"], df["result_hash"], strict=True))


def freeze(base: Path) -> None:
    """Copy the imported rareflow package to ``base/frozen`` and re-run this script on it
    (PYTHONPATH, inherited by every sweep and worker process): a checkout that changes
    while the benchmark runs (data, code) cannot change the run ids half way."""
    import shutil

    import rareflow

    src = Path(rareflow.__file__).resolve().parent
    dst = base / "frozen" / "rareflow"
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "RAREFLOW_BENCH_FROZEN": "1",
           "PYTHONPATH": os.pathsep.join([str(dst.parent), os.environ.get("PYTHONPATH", "")])}
    argv = [a for a in sys.argv[1:]]
    if "--out" not in argv:
        argv += ["--out", str(base)]
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *argv], env)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None, help="folder for the stores (default: temp)")
    ap.add_argument("--embargo-months", default="0,3,6,9,12,18,24")
    ap.add_argument("--skip-one-worker", action="store_true")
    ap.add_argument("--no-freeze", action="store_true",
                    help="run the rareflow that is imported (default: a frozen copy of it)")
    args = ap.parse_args()
    base = (args.out or Path(tempfile.mkdtemp(prefix="bench-sweep-"))).resolve()
    base.mkdir(parents=True, exist_ok=True)
    if not args.no_freeze and os.environ.get("RAREFLOW_BENCH_FROZEN") != "1":
        freeze(base)  # re-executes this script on the copy; does not return
    import rareflow
    from rareflow.store.sweep import load_sweep

    print(f"rareflow from {Path(rareflow.__file__).parent}")
    sf = make_sweep(base, [int(x) for x in args.embargo_months.split(",")])
    sw = load_sweep(sf)
    ids = {r.run_id for r in sw.runs}
    n = len(sw.runs)
    print(f"sweep {sf} : {n} runs ({sum(r.engine == 'run' for r in sw.runs)} static, "
          f"{sum(r.engine == 'stress' for r in sw.runs)} stress); cpus "
          f"{len(os.sched_getaffinity(0))}, load average {os.getloadavg()[0]:.2f}")

    results = {}
    if not args.skip_one_worker:
        dt1, line1 = sweep(sf, base / "one", 1)
        results["one"] = dt1
        print(f"1 worker : {n / dt1:.2f} runs/s ({dt1:.1f} s wall, cluster start included)  | {line1}")
    dt2, line2 = sweep(sf, base / "two", 2)
    results["two"] = dt2
    print(f"2 workers: {n / dt2:.2f} runs/s ({dt2:.1f} s wall, cluster start included)  | {line2}")

    # kill -9 at five moments, resume each time
    store = base / "killed"
    targets = [int(n * f) for f in (0.05, 0.25, 0.45, 0.65, 0.85)]
    for i, target in enumerate(targets, 1):
        before = finished(store)
        proc = subprocess.Popen([*RAREFLOW, "sweep", str(sf), "--store", str(store),
                                 "--workers", "2", "-q"], start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while finished(store) < target and proc.poll() is None:
            time.sleep(0.005)
        mid_write = i % 2 == 0  # kills 2 and 4: while a run is being written
        deadline = time.monotonic() + 30
        while mid_write and proc.poll() is None and time.monotonic() < deadline and not any(
                p.name.split("~")[0] != "catalogue" for p in _entries(store / "tmp")):
            time.sleep(0.001)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        time.sleep(0.5)  # let the kernel reap the workers of the group
        whole, left = check_whole(store, ids)
        print(f"kill {i}: SIGKILL to the process group{' mid-write' if mid_write else ''} at "
              f"{whole}/{n} runs in the store "
              f"(this pass added {whole - before}); every run folder whole, none twice; "
              f"{left} temp folder(s) left in tmp/ (removed by the next pass)")
    dtk, linek = sweep(sf, store, 2)
    whole, left = check_whole(store, ids)
    print(f"resume  : {linek}")
    assert whole == n and left == 0, (whole, left)
    tables = read_every_table(store)
    print(f"after 5 kills and resumes: {whole} runs, each once; {tables} Parquet tables and "
          f"{whole} summaries all read")

    h2, hk = hashes(base / "two"), hashes(store)
    assert set(h2) == ids and h2 == hk, "2 workers and killed/resumed differ"
    if "one" in results:
        h1 = hashes(base / "one")
        assert h1 == h2, [k for k in h1 if h1[k] != h2.get(k)][:5]
        print(f"result_hash equal for all {n} runs with 1 worker, 2 workers and 2 workers "
              "killed 5 times")
        print(f"throughput: 1 worker {n / results['one']:.2f} runs/s, 2 workers "
              f"{n / results['two']:.2f} runs/s (x{results['one'] / results['two']:.2f})")
    print(f"stores in {base}")


if __name__ == "__main__":
    main()
