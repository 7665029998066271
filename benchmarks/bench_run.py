"""Benchmark of the command line: ``rareflow run`` wall time and peak memory on the bundled
U.S. baseline and on a synthetic 200-region, 50-year world, ``rareflow validate`` on the
baseline, and the start-up time of ``rareflow --help``.

Every case runs as a fresh process (the installed ``rareflow`` entry point, or
``python -m rareflow.cli.main`` when it is not on PATH). Wall time is measured around the
process; peak memory is that process's own maximum resident set size, read from
``os.wait4`` (``ru_maxrss``, KiB on Linux), so cases never share a high-water mark.

    python benchmarks/bench_run.py            # all cases
    python benchmarks/bench_run.py --repeat 5 --keep /tmp/bench   # keep the synthetic files
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _rareflow() -> list[str]:
    exe = shutil.which("rareflow")
    if exe is None:
        cand = Path(sys.executable).parent / "rareflow"
        exe = str(cand) if cand.exists() else None
    return [exe] if exe else [sys.executable, "-m", "rareflow.cli.main"]


def measure(args: list[str], cwd: Path | None = None) -> tuple[float, float, int, str]:
    """Run ``args`` once in a fresh process: (wall s, peak RSS MiB, exit code, stderr)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            cwd=cwd)
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    return wall, usage.ru_maxrss / 1024.0, proc.returncode, err


def region_codes(n: int) -> list[str]:
    """``n`` made-up two-letter codes AA, AB, ... (ISO-like; clashes with real ones are
    harmless here)."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    codes = ["".join(p) for p in itertools.product(letters, repeat=2)]
    return codes[:n]


def synthetic_scenario(n_regions: int = 200, n_years: int = 50) -> dict:
    """A self-contained scenario (extends nothing) on the bundled chain: the bundled source
    registry, ``n_regions`` regions each with mining, separation and magnet production,
    metal and alloy making that follow consumption (the first region also the residual
    supplier), EV demand, and explicit import shares for a tenth of the regions."""
    from rareflow.resources import scenario_dir
    from rareflow.scenario.yaml_io import load_yaml

    sources = load_yaml(scenario_dir() / "_reference" / "sources.yaml").data["sources"]
    sources["bench"] = {"publisher": "rareflow benchmarks", "title": "Synthetic figures",
                        "year": 2026}
    codes = region_codes(n_regions)
    start = 2024
    why = "synthetic benchmark figure"
    production: dict[str, dict] = {}
    self_supply: dict[str, dict] = {}
    demand: dict[str, dict] = {}
    shares: dict[str, dict] = {}
    for i, r in enumerate(codes):
        k = r.lower()
        scale = 1.0 + (i * 37 % 101) / 10.0          # deterministic spread, 1..11
        production[f"{k}_mining"] = {
            "region": r, "process": "mine_bastnaesite",
            "values": {start: f"{100 * scale:.1f} t/yr", start + 5: f"{120 * scale:.1f} t/yr"},
            "growth": "2 %/yr", "source": "bench", "confidence": "low"}
        production[f"{k}_separation"] = {
            "region": r, "process": "separate_bastnaesite",
            "values": f"{80 * (12 - scale):.1f} t/yr", "growth": "3 %/yr",
            "assumption": why}
        production[f"{k}_magnets"] = {
            "region": r, "process": "magnet_sintered",
            "values": f"{5 * scale:.1f} t/yr", "growth": "5 %/yr", "assumption": why}
        self_supply[f"{k}_metal_alloy"] = {
            "region": r, "processes": ["reduce_ndpr", "reduce_dy", "reduce_tb",
                                       "alloy_sintered"],
            "serves": "world" if i == 0 else "own", "assumption": why}
        demand[f"{k}_ev"] = {
            "region": r, "sector": "ev_bev", "material": "ndfeb_sintered",
            "activity": f"{1000 * scale:.0f} vehicle/yr", "intensity": "1.5 kg/vehicle",
            "growth": "4 %/yr", "source": "bench", "confidence": "low"}
        if i % 10 == 5:
            shares[f"{k}_magnets"] = {
                "region": r, "stage": "magnet",
                "origins": {codes[0]: "60 %", codes[1]: "40 %"}, "assumption": why}
    return {
        "name": f"synthetic-{n_regions}x{n_years}",
        "description": "Synthetic world for benchmarks",
        "chain": "rare-earth-magnets",
        "years": {"start": start, "end": start + n_years - 1},
        "focus_region": codes[0],
        "sources": sources,
        "regions": {r: {"name": f"Region {r}"} for r in codes},
        "production": production,
        "self_supply": self_supply,
        "demand": demand,
        "trade": {"import_shares": shares},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per case (median reported)")
    ap.add_argument("--help-runs", type=int, default=7, help="runs of `rareflow --help`")
    ap.add_argument("--regions", type=int, default=200)
    ap.add_argument("--years", type=int, default=50)
    ap.add_argument("--keep", type=Path, default=None, help="folder to keep files in")
    opts = ap.parse_args()

    rf = _rareflow()
    work = opts.keep or Path(tempfile.mkdtemp(prefix="rareflow-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    synth = work / "synthetic.yaml"
    synth.write_text(json.dumps(synthetic_scenario(opts.regions, opts.years), indent=1))

    cases = [
        ("rareflow --help", [*rf, "--help"], opts.help_runs),
        ("rareflow validate us-baseline", [*rf, "validate", "us-baseline"], opts.repeat),
        ("rareflow run us-baseline", [*rf, "run", "us-baseline", "--quiet", "--out",
                                      str(work / "out-baseline")], opts.repeat),
        (f"rareflow validate synthetic {opts.regions}x{opts.years}",
         [*rf, "validate", str(synth)], opts.repeat),
        (f"rareflow run synthetic {opts.regions}x{opts.years}",
         [*rf, "run", str(synth), "--quiet", "--out", str(work / "out-synth")], opts.repeat),
    ]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; command: {' '.join(rf)}")
    print(f"synthetic scenario: {synth} ({synth.stat().st_size / 1e6:.2f} MB)")
    print("each run is a fresh process; wall = median (min-max) over runs; "
          "peak RSS = max ru_maxrss of the process (os.wait4)\n")
    header = (f"{'case':<42} {'runs':>4} {'wall s (median)':>16} {'min-max s':>14} "
              f"{'peak RSS MiB':>13}")
    print(header)
    print("-" * len(header))
    failed = False
    for name, args, n in cases:
        walls, rss = [], []
        for _ in range(max(1, n)):
            wall, mib, code, err = measure(args)
            if code != 0:
                print(f"{name:<42} FAILED (exit {code}): {err.strip()[-500:]}")
                failed = True
                break
            walls.append(wall)
            rss.append(mib)
        else:
            print(f"{name:<42} {len(walls):>4} {statistics.median(walls):>16.3f} "
                  f"{min(walls):>6.3f}-{max(walls):<7.3f} {max(rss):>13.1f}")
    out = work / "out-synth"
    if (out / "flows.parquet").exists():
        sizes = sum(p.stat().st_size for p in out.iterdir())
        print(f"\nsynthetic run output: {sizes / 1e6:.1f} MB in {out}")
    if opts.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
