"""Benchmark: rareflow dynamic stock models against flodym on the same work.

Cases: inflow-driven and stock-driven, normal lifetime (mean 15 yr, sd 5 yr, inflow in the
middle of the year), N independent series x T years, for N x T = 1,000 x 200 and
10,000 x 100. flodym holds all series in one model with a leading dimension of N items
(``DimensionSet([time, series])``), the way a user would; it always builds cohort tables.
rareflow is timed twice: returning the cohort tables (``stock_by_cohort`` and
``outflow_by_cohort`` accessed) and totals only.

Every (implementation, case) runs in a fresh subprocess. Time: the best of ``--repeat``
runs inside that process (wall clock, ``time.perf_counter``), excluding imports and input
generation. Memory: the process's peak resident set size, ``ru_maxrss`` from
``resource.getrusage(RUSAGE_SELF)``, which includes the interpreter, imports and inputs;
the "base" column is the same process before the work (imports + inputs), so
``peak - base`` is the memory the work itself needed.

Load: every case is timed twice in the same run, on a quiet machine and with a busy one
(``--load both``, the default): "busy" starts a CPU-burning process (a numpy matmul loop,
BLAS on one thread: one core busy) for the duration of that case, for flodym and rareflow
alike, so the speed-ups quiet and busy compare the same problem under the same load.
rareflow pins its stock kernels to one BLAS thread (``threadpoolctl``), which keeps its
ratios steady when another core is busy.

Run: ``python benchmarks/bench_stocks.py`` (about 2-4 minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

CASES = [(1000, 200), (10000, 100)]
KINDS = ["inflow", "stock"]
IMPLS = ["flodym", "rareflow+tables", "rareflow totals"]
MEAN, SD = 15.0, 5.0


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def _inputs(n: int, t: int):
    import numpy as np

    rng = np.random.default_rng(12345)
    inflow = rng.uniform(1.0, 10.0, (n, t))
    growth = rng.uniform(0.01, 0.05, (n, 1))
    stock = rng.uniform(50.0, 150.0, (n, 1)) * (1.0 + growth) ** np.arange(t)
    return inflow, stock


def _worker(impl: str, kind: str, n: int, t: int, repeat: int) -> dict:
    import numpy as np

    inflow, stock = _inputs(n, t)
    if impl == "flodym":
        import flodym as fd

        def work():
            dims = fd.DimensionSet(
                dim_list=[
                    fd.Dimension(name="time", letter="t", items=list(range(t))),
                    fd.Dimension(name="series", letter="s", items=list(range(n))),
                ]
            )
            lm = fd.NormalLifetime(dims=dims, mean=MEAN, std=SD, inflow_at="middle")
            if kind == "inflow":
                dsm = fd.InflowDrivenDSM(dims=dims, lifetime_model=lm)
                dsm.inflow.values[...] = inflow.T
            else:
                dsm = fd.StockDrivenDSM(dims=dims, lifetime_model=lm)
                dsm.stock.values[...] = stock.T
            dsm.compute()
            out = (dsm.stock.values if kind == "inflow" else dsm.inflow.values).T
            return float(out.sum())

    else:
        from rareflow.stocks import Lifetime, inflow_driven, stock_driven

        tables = impl == "rareflow+tables"

        def work():
            lt = Lifetime.normal(mean=MEAN, sd=SD)
            if kind == "inflow":
                r = inflow_driven(inflow, lt, inflow_at="middle")
                out = r.stock
            else:
                r = stock_driven(stock, lt, inflow_at="middle")
                out = r.inflow
            if tables:
                r.stock_by_cohort  # noqa: B018 - computed on access
                r.outflow_by_cohort  # noqa: B018
            return float(np.asarray(out).sum())

    base = _rss_mb()
    times = []
    checksum = 0.0
    for _ in range(repeat):
        t0 = time.perf_counter()
        checksum = work()
        times.append(time.perf_counter() - t0)
    return {"time": min(times), "peak_mb": _rss_mb(), "base_mb": base, "checksum": checksum}


def _run(impl: str, kind: str, n: int, t: int, repeat: int, blas_threads: int | None) -> dict:
    cmd = [sys.executable, __file__, "--worker", impl, kind, str(n), str(t), str(repeat)]
    env = dict(os.environ)
    if blas_threads:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(blas_threads)
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{impl} {kind} {n}x{t} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


_BURN = "import numpy as np\na = np.random.default_rng(0).random((700, 700))\nwhile True:\n    a @ a\n"


def _burner() -> subprocess.Popen:
    """A process keeping one other core busy until terminated (its BLAS on one thread)."""
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    p = subprocess.Popen([sys.executable, "-c", _BURN], env=env)
    time.sleep(0.5)  # let it start burning
    return p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", nargs=5, metavar=("IMPL", "KIND", "N", "T", "REPEAT"))
    ap.add_argument("--repeat", type=int, default=5, help="runs per rareflow case (best kept)")
    ap.add_argument("--repeat-flodym", type=int, default=2, help="runs per flodym case")
    ap.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="set OPENBLAS/OMP/MKL_NUM_THREADS for both implementations (default: inherit)",
    )
    ap.add_argument("--load", choices=["quiet", "busy", "both"], default="both",
                    help="time on a quiet machine, with a busy other core, or both")
    args = ap.parse_args()
    if args.worker:
        impl, kind, n, t, rep = args.worker
        print(json.dumps(_worker(impl, kind, int(n), int(t), int(rep))))
        return

    import platform
    from importlib.metadata import version

    import numpy

    print(
        f"python {platform.python_version()}, numpy {numpy.__version__}, "
        f"flodym {version('flodym')}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, BLAS threads: "
        f"{args.blas_threads or os.environ.get('OPENBLAS_NUM_THREADS', 'default')}"
    )
    print("normal lifetime mean 15 yr sd 5 yr, inflow_at='middle'; time = best of repeats;")
    print("memory = peak RSS of a fresh process (ru_maxrss), base = imports + inputs\n")
    loads = ["quiet", "busy"] if args.load == "both" else [args.load]
    header = (
        f"{'model':<7}{'series x years':>15}  {'load':<6}{'implementation':<17}{'time s':>9}"
        f"{'speed-up':>10}{'peak MB':>9}{'base MB':>9}{'work MB':>9}"
    )
    print(header)
    print("-" * len(header))
    ratios: dict[tuple[str, int, int, str], dict[str, float]] = {}
    for kind in KINDS:
        for n, t in CASES:
            for load in loads:
                burner = _burner() if load == "busy" else None
                try:
                    res = {}
                    for impl in IMPLS:
                        rep = args.repeat_flodym if impl == "flodym" else args.repeat
                        res[impl] = _run(impl, kind, n, t, rep, args.blas_threads)
                finally:
                    if burner is not None:
                        burner.kill()
                        burner.wait()
                ref = res["flodym"]
                for impl in IMPLS:
                    r = res[impl]
                    rel = abs(r["checksum"] - ref["checksum"]) / max(abs(ref["checksum"]), 1e-300)
                    if rel > 1e-9:
                        raise RuntimeError(f"{impl} disagrees with flodym: {rel:.2e}")
                    ratio = ref["time"] / r["time"]
                    ratios.setdefault((kind, n, t, impl), {})[load] = ratio
                    speed = "1.0x" if impl == "flodym" else f"{ratio:.0f}x"
                    print(
                        f"{kind:<7}{f'{n:,} x {t}':>15}  {load:<6}{impl:<17}{r['time']:>9.4f}"
                        f"{speed:>10}{r['peak_mb']:>9.0f}{r['base_mb']:>9.0f}"
                        f"{r['peak_mb'] - r['base_mb']:>9.0f}"
                    )
            print()
    if len(loads) == 2:
        print("speed-up against flodym, quiet vs busy (busy / quiet):")
        for (kind, n, t, impl), r in ratios.items():
            if impl != "flodym":
                print(f"  {kind:<7}{f'{n:,} x {t}':>15}  {impl:<17}{r['quiet']:>7.1f}x "
                      f"{r['busy']:>7.1f}x  ({r['busy'] / r['quiet']:.2f})")
    print("results agree with flodym (checksum of stock / inflow, 1e-9 relative)")


if __name__ == "__main__":
    main()
