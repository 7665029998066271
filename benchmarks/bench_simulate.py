"""Benchmark of the stress engine (rareflow.engines.simulate) against a SimPy model.

1. Small model (3 origins, 4 sectors, 1 material, 36 months, one embargo with sampled
   start/length/severity/licence delay, one stockpile): rareflow on 10,000 samples, SimPy
   (benchmarks/simpy_reference.py) on fewer samples, extrapolated per sample (SimPy's
   cost is linear in samples: one environment per sample). Prints samples/s and the ratio.
2. A U.S.-baseline-sized model: 5 origins, 1 destination, 8 sectors, 6 materials,
   120 months, 100,000 samples (two restrictions, an outage, a demand shock, two ramps,
   inventories, two stockpiles), run in a fresh subprocess with 2 worker threads; prints
   wall time and peak memory (ru_maxrss of that subprocess, i.e. peak resident set size).

Run: python benchmarks/bench_simulate.py [--samples 100000] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def small_cases(n: int, seed: int = 0):
    from simpy_reference import SmallCase

    rng = np.random.default_rng(seed)
    starts = rng.integers(0, 12, n)
    lengths = rng.integers(3, 24, n)
    sev = rng.uniform(0.5, 1.0, n)
    delay = rng.integers(0, 4, n)
    size = rng.uniform(0, 400, n)
    return [
        SmallCase(
            months=36, origins=("CN", "AU", "US"), capacity=(1000.0, 30.0, 12.0),
            other_load=(900.0, 5.0, 0.0), sourcing=(0.8, 0.15, 0.05), redirect_share=0.5,
            sectors=("defence", "ev", "wind", "other"), demand=(5.0, 50.0, 25.0, 20.0),
            priority=(0, 1, 1, 2), embargo_origins=("CN",), embargo_start=int(starts[i]),
            embargo_end=int(starts[i] + lengths[i]), severity=float(sev[i]),
            licence_delay=int(delay[i]), stock_initial=float(size[i]), stock_max_draw=40.0,
            stock_refill_rate=10.0,
        )
        for i in range(n)
    ]


def us_sized_model(S: int, seed: int = 0):
    """A synthetic model of U.S. size (figures illustrative, not data)."""
    from rareflow.engines.simulate import (
        DemandShock,
        Inventories,
        Outage,
        Ramp,
        Restriction,
        Stockpile,
        StressModel,
        months_of_demand,
    )

    rng = np.random.default_rng(seed)
    T = 120
    origins = ("CN", "MY", "JP", "EU", "US")
    sectors = ("ev", "wind", "electronics", "industrial", "defence", "hdd", "medical", "other")
    mats = ("magnet", "ndpr_oxide", "ndpr_metal", "dy_oxide", "tb_oxide", "alloy")
    O, K, M = len(origins), len(sectors), len(mats)
    dem = np.broadcast_to(rng.uniform(1, 60, (1, 1, K, M)), (T, 1, K, M)).copy()
    dem *= (1.0 + 0.005) ** np.arange(T)[:, None, None, None]
    src = rng.uniform(0.1, 1, (1, O, M))
    src[:, 0] *= 8
    src /= src.sum(axis=1, keepdims=True)
    # the U.S. takes ~10 % of each origin's output; origins run at 98 % of capacity
    us_req = dem[0, 0].sum(axis=0)[None, :] * src[0]  # [O, M]
    cap = np.broadcast_to(us_req * 10 * (1.0 + 0.01 * np.arange(T))[:, None, None],
                          (T, O, M)).copy()
    other = cap * 0.98 - us_req[None]
    start = rng.integers(0, 24, S)
    inv0 = months_of_demand(dem, 2.0)[None] * rng.uniform(0.5, 1.5, (S, 1, 1, 1))
    return StressModel(
        origins=origins, destinations=("US",), sectors=sectors, materials=mats, n_samples=S,
        capacity=cap, other_load=other, demand=dem, sourcing=src,
        priority=np.array([1, 1, 1, 1, 0, 2, 1, 2]), redirect_share=np.full(O, 0.3),
        ramps=(Ramp("US", "magnet", added=10000 / 12, start=24, delay=rng.integers(0, 37, S),
                    ramp_months=24),
               Ramp("US", "ndpr_oxide", added=500.0, start=12, delay=rng.integers(0, 25, S),
                    ramp_months=12)),
        outages=(Outage(("MY",), (), start=rng.integers(0, 120, S), end=rng.integers(0, 120, S)
                        .clip(0) + 120, lost=rng.uniform(0, 0.5, S)),),
        shocks=(DemandShock((), ("defence",), (), start=start, end=start + 12,
                            multiplier=rng.uniform(1, 2, S)),),
        restrictions=(
            Restriction("magnets", ("magnet", "alloy"), start=start,
                        end=start + rng.integers(6, 25, S), severity=rng.uniform(0.5, 1, S),
                        licence_delay=rng.integers(0, 4, S), origins=("CN",)),
            Restriction("heavy", ("dy_oxide", "tb_oxide", "magnet"), start=start,
                        end=start + rng.integers(12, 60, S), severity=rng.uniform(0.3, 1, S),
                        licence_delay=rng.integers(1, 4, S), origins=("CN",),
                        exempt_sectors=("medical",)),
        ),
        inventories=Inventories(initial=inv0, max_draw=months_of_demand(dem, 1.0),
                                refill_rate=months_of_demand(dem, 0.2)),
        stockpiles=(
            Stockpile("oxide_stocks", "US", "ndpr_oxide", initial=rng.uniform(0, 500, S)),
            Stockpile("ndsp", "US", "magnet", initial=rng.uniform(0, 2000, S),
                      sectors=("defence",), max_draw=200.0, refill_rate=20.0, strategic=True),
        ),
    )


def child_big(S: int, workers: int) -> None:
    from rareflow.engines.simulate import simulate

    t0 = time.perf_counter()
    m = us_sized_model(S)
    t1 = time.perf_counter()
    c1 = time.process_time()
    r = simulate(m, workers=workers)
    t2 = time.perf_counter()
    cpu = time.process_time() - c1
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "build_s": t1 - t0, "simulate_s": t2 - t1, "cpu_s": cpu, "peak_rss_mib": peak_kib / 1024,
        "p_short_ev": float((r.cumulative_shortfall[:, 0, 0] > 0).mean()),
        "median_tts_defence": float(np.median(r.time_to_survive[:, 0, 4])),
    }))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--small-samples", type=int, default=10_000)
    ap.add_argument("--simpy-samples", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--child", action="store_true")
    a = ap.parse_args()
    if a.child:
        child_big(a.samples, a.workers)
        return

    from simpy_reference import run_many, to_stress_model

    from rareflow.engines.simulate import simulate

    print(f"cpu cores available: {len(os.sched_getaffinity(0))}; numpy {np.__version__}")
    cases = small_cases(a.small_samples)
    model = to_stress_model(cases)
    simulate(to_stress_model(cases[:50]))  # warm-up (imports)
    t0 = time.perf_counter()
    r = simulate(model)  # one thread, like SimPy
    t_rf = time.perf_counter() - t0
    n_sp = min(a.simpy_samples, len(cases))
    t0 = time.perf_counter()
    ref = run_many(cases[:n_sp])
    t_sp = time.perf_counter() - t0
    # same answers on the timed SimPy samples (full arrays rerun on those samples)
    rr = simulate(to_stress_model(cases[:n_sp]), full=True)
    diff = max(float(np.abs(rr.full["shortfall"][i, :, 0, :, 0] - ref[i]["shortfall"]).max())
               for i in range(n_sp))
    rf_rate = len(cases) / t_rf
    sp_rate = n_sp / t_sp
    print("small model: 3 origins, 4 sectors, 1 material, 36 months, 1 embargo, 1 stockpile")
    print(f"  rareflow : {len(cases):>7,} samples in {t_rf:8.3f} s -> {rf_rate:12,.0f} samples/s")
    print(f"  SimPy    : {n_sp:>7,} samples in {t_sp:8.3f} s -> {sp_rate:12,.0f} samples/s "
          f"(timed on {n_sp} samples, extrapolated: {len(cases) / sp_rate:,.1f} s for "
          f"{len(cases):,})")
    print(f"  ratio rareflow / SimPy: {rf_rate / sp_rate:,.0f}x   "
          f"(max |shortfall difference| on the {n_sp} common samples: {diff:.2e} t)")
    del r

    print(f"U.S.-sized model: 5 origins x 1 destination x 8 sectors x 6 materials, 120 months,"
          f" {a.samples:,} samples, workers={a.workers} (fresh subprocess)")
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--samples", str(a.samples),
         "--workers", str(a.workers)], capture_output=True, text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  build inputs {res['build_s']:.2f} s; simulate {res['simulate_s']:.2f} s wall "
          f"({a.samples / res['simulate_s']:,.0f} samples/s), {res['cpu_s']:.1f} s CPU; "
          f"peak RSS {res['peak_rss_mib']:,.0f} MiB (ru_maxrss of the subprocess)")
    print(f"  load average during the run: {os.getloadavg()[0]:.1f} on "
          f"{len(os.sched_getaffinity(0))} cores (other processes share the machine)")
    print(f"  sanity: P(ev short) = {res['p_short_ev']:.3f}, median defence time-to-survive "
          f"{res['median_tts_defence']:.0f} months")
    print(f"  SimPy at its small-model rate would need ~{a.samples / sp_rate:,.0f} s for "
          f"{a.samples:,} samples of the *small* model")


if __name__ == "__main__":
    main()
