"""Benchmark of the network engine (rareflow.engines.network) against a SimPy model.

1. The world network of ``cn-dytb-ban-12m`` (every region, process and material of the
   reconciled world; Dy and Tb in any form banned from China for 12 months) over 120
   months, 10,000 sampled futures (Latin hypercube over the scenario's distributions),
   run with ``--workers`` processes: wall time, futures per second, and peak memory
   (``ru_maxrss`` of this process and of its worker processes: peak resident set size).
2. The event-based SimPy reference (``benchmarks/simpy_network.py``, same rules, scalar
   Python, one environment per future) on a subset of the same futures: results compared
   with the engine's (cumulative loss, first and last short month, deficits), on the
   deterministic central case and on each future of the subset, and the speed ratio
   (SimPy seconds per future / engine seconds per future), measured in this one run.

Run: python benchmarks/bench_network.py [--samples 10000] [--workers 2] [--simpy 20]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def world(samples: int, months: int, seed: int):  # noqa: ANN201
    import rareflow
    from rareflow.model.network import build_network, sample_network_parameters

    d = tempfile.mkdtemp()
    p = Path(d) / "bench.yaml"
    p.write_text("name: bench-network\nextends: cn-dytb-ban-12m\nstress:\n"
                 f"  horizon: {{start: 2026-01, months: {months}}}\n")
    sc = rareflow.load_scenario(str(p))
    static = rareflow.run(sc)
    params = sample_network_parameters(sc, samples, seed)
    return (build_network(sc, n_samples=samples, parameters=params, results=static),
            build_network(sc, results=static))


def compare(a: dict, b: dict) -> float:
    """Largest relative difference of two results' loss and deficits; inf if the short
    months differ."""
    if not (np.array_equal(a["first_short"], b["first_short"])
            and np.array_equal(a["last_short"], b["last_short"])):
        return float("inf")
    worst = 0.0
    for k in ("cum_loss", "deficit"):
        x, y = np.asarray(a[k]), np.asarray(b[k])
        worst = max(worst, float(np.max(np.abs(x - y) / (1.0 + np.abs(y)), initial=0.0)))
    return worst


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--months", type=int, default=120)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=250)
    ap.add_argument("--simpy", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    from simpy_network import run_sample

    from rareflow.engines.network import simulate_network

    t0 = time.perf_counter()
    nm, central = world(a.samples, a.months, a.seed)
    inp = nm.inputs
    print(f"world network: {len(nm.regions)} regions, {inp.N} plants, {inp.K} stocks, "
          f"{inp.L} trade links, {inp.D} final uses; {a.months} months; compiled in "
          f"{time.perf_counter() - t0:.1f} s")
    t1 = time.perf_counter()
    c_self = resource.getrusage(resource.RUSAGE_SELF)
    c_kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = simulate_network(inp, chunk=a.chunk, workers=a.workers)
    wall = time.perf_counter() - t1
    e_self = resource.getrusage(resource.RUSAGE_SELF)
    e_kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(getattr(e, f) - getattr(c, f) for e, c in ((e_self, c_self), (e_kids, c_kids))
              for f in ("ru_utime", "ru_stime"))
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"rareflow: {a.samples:,} futures x {a.months} months in {wall:.1f} s on "
          f"{a.workers} worker(s) ({a.samples / wall:,.0f} futures/s); peak memory "
          f"{own:,.0f} MiB (this process), {kids:,.0f} MiB (largest worker); "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"  CPU time {cpu:.1f} s in all: {cpu / a.workers:.1f} s of wall time on "
          f"{a.workers} idle cores (the wall time above includes other users' load)")

    # deterministic case: the central values
    cres = simulate_network(central.inputs)
    ts = time.perf_counter()
    ref = run_sample(central.inputs, 0)
    t_ref_central = time.perf_counter() - ts
    mine = {k: getattr(cres, k)[0] for k in ("cum_loss", "first_short", "last_short",
                                             "deficit")}
    print(f"deterministic (central) case: SimPy vs rareflow largest relative difference "
          f"{compare(mine, ref):.2e}")
    # a subset of the sampled futures
    n = min(a.simpy, a.samples)
    worst = 0.0
    ts = time.perf_counter()
    for s in range(n):
        ref = run_sample(inp, s)
        mine = {k: getattr(res, k)[s] for k in ("cum_loss", "first_short", "last_short",
                                                "deficit")}
        worst = max(worst, compare(mine, ref))
    t_simpy = (time.perf_counter() - ts) / n
    t_mine = wall / a.samples
    print(f"SimPy reference: {n} futures, {t_simpy:.2f} s per future (central case "
          f"{t_ref_central:.2f} s); largest relative difference {worst:.2e}")
    print(f"ratio: rareflow is {t_simpy / t_mine:,.0f} times faster per future "
          f"({t_mine * 1e3:.2f} ms vs {t_simpy * 1e3:.0f} ms)")


if __name__ == "__main__":
    main()
