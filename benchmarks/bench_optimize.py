"""Benchmark the plan engine (linopy + HiGHS) against the same LP written in Pyomo.

    python benchmarks/bench_optimize.py                      # 50 regions, 30 yr, 20 scenarios
    python benchmarks/bench_optimize.py --regions 20 --scenarios 5

Each case runs in a fresh subprocess (``--worker``) so that peak memory is its own:
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at the end of the worker (whole process:
Python, data and model). Printed per case: model build time (from prepared arrays to a
complete model), solve time (hand-over to HiGHS + HiGHS run), peak RSS, objective; then
the build-time ratio Pyomo / rareflow and the relative objective difference (goal < 1e-6).
Both solve with the same HiGHS options (``--solver``, ``--threads``).
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

HERE = Path(__file__).resolve().parent


def _worker(case: str, args: argparse.Namespace) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    from rareflow.engines.optimize import build_model, prepare, solve_model
    from rareflow.engines.optimize.synthetic import synthetic_problem

    inp = synthetic_problem(args.regions, args.years, args.scenarios, seed=args.seed)
    p = prepare(inp)
    if args.compress:
        from rareflow.engines.optimize.compress import compress_scenarios

        p, _ = compress_scenarios(p)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    opts = {"threads": args.threads, "solver": args.solver}
    if args.solver == "ipm" and not args.crossover:
        opts["run_crossover"] = "off"
    if case == "rareflow":
        t0 = time.perf_counter()
        m = build_model(p)
        t1 = time.perf_counter()
        if args.build_only:
            cond, obj = "not solved (--build-only)", float("nan")
        else:
            status, cond = solve_model(m, opts)
            obj = float(m.objective.value)
        t2 = time.perf_counter()
        size = {"vars": int(m.nvars), "cons": int(m.ncons)}
    else:
        sys.path.insert(0, str(HERE))
        import pyomo.environ as pyo
        from pyomo.contrib.appsi.solvers import Highs
        from pyomo_reference import build_pyomo

        t0 = time.perf_counter()
        m = build_pyomo(p)
        t1 = time.perf_counter()
        if args.build_only:
            cond, obj = "not solved (--build-only)", float("nan")
        else:
            opt = Highs()
            opt.highs_options = {"output_flag": False, **opts}
            res = opt.solve(m)
            cond = str(res.termination_condition)
            obj = float(res.best_feasible_objective)
        t2 = time.perf_counter()
        size = {"vars": m.nvariables(), "cons": m.nconstraints()}
        del pyo
    return {
        "case": case,
        "build_s": t1 - t0,
        "solve_s": t2 - t1,
        "objective": obj,
        "status": str(cond),
        "rss_before_build_mb": rss0 / 1024,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **size,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regions", type=int, default=50)
    ap.add_argument("--years", type=int, default=30)
    ap.add_argument("--scenarios", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--solver", default="ipm", choices=["ipm", "simplex", "choose", "pdlp"])
    ap.add_argument("--crossover", action="store_true", help="IPM crossover (exact vertex)")
    ap.add_argument("--cases", default="rareflow,pyomo")
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument("--compress", action="store_true",
                    help="merge scenarios with identical data year by year (exact; both "
                    "models get the compressed problem)")
    ap.add_argument("--build-only", action="store_true",
                    help="time model building (and its memory) without solving")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        print("RESULT " + json.dumps(_worker(args.worker, args)), flush=True)
        return

    print(f"plan LP benchmark: {args.regions} regions x 8 stages x {args.years} years x "
          f"{args.scenarios} disruption scenarios{' (compressed)' if args.compress else ''}; "
          f"HiGHS solver={args.solver} threads={args.threads}; cpus visible: {os.cpu_count()}")
    results = {}
    for case in args.cases.split(","):
        cmd = [sys.executable, __file__, "--worker", case] + [
            f"--{k}={v}" for k, v in (("regions", args.regions), ("years", args.years),
                                     ("scenarios", args.scenarios), ("seed", args.seed),
                                     ("threads", args.threads), ("solver", args.solver))]
        if args.crossover:
            cmd.append("--crossover")
        if args.build_only:
            cmd.append("--build-only")
        if args.compress:
            cmd.append("--compress")
        t = time.perf_counter()
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            print(f"{case:9s} did not finish within {args.timeout:.0f} s")
            continue
        line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
        if not line:
            print(f"{case:9s} failed (exit {out.returncode}): {out.stderr[-2000:]}")
            continue
        r = json.loads(line[0][7:])
        r["wall_s"] = time.perf_counter() - t
        results[case] = r
        print(f"{case:9s} vars {r['vars']:>9,d} cons {r['cons']:>9,d}  build {r['build_s']:8.2f} s"
              f"  solve {r['solve_s']:8.2f} s  peak RSS {r['peak_rss_mb']:8.0f} MB "
              f"(before build {r['rss_before_build_mb']:.0f} MB)  objective {r['objective']:.10e}"
              f"  [{r['status']}]", flush=True)
    if "rareflow" in results and "pyomo" in results and args.build_only:
        a, b = results["rareflow"], results["pyomo"]
        print(f"build time ratio pyomo/rareflow: {b['build_s'] / a['build_s']:.1f}x "
              f"(goal >= 4x)")
        print(f"peak memory ratio pyomo/rareflow: {b['peak_rss_mb'] / a['peak_rss_mb']:.2f}x")
    elif "rareflow" in results and "pyomo" in results:
        a, b = results["rareflow"], results["pyomo"]
        rel = abs(a["objective"] - b["objective"]) / max(abs(b["objective"]), 1.0)
        print(f"build time ratio pyomo/rareflow: {b['build_s'] / a['build_s']:.1f}x "
              f"(goal >= 4x)")
        print(f"solve time ratio pyomo/rareflow: {b['solve_s'] / a['solve_s']:.2f}x")
        print(f"peak memory ratio pyomo/rareflow: {b['peak_rss_mb'] / a['peak_rss_mb']:.2f}x")
        print(f"objective relative difference: {rel:.2e} "
              f"({'OK' if rel <= 1e-6 else 'ABOVE'} 1e-6)")
        print(f"rareflow solve under 60 s: {'yes' if a['solve_s'] < 60 else 'no'} "
              f"({a['solve_s']:.1f} s)")


if __name__ == "__main__":
    main()
