"""``rareflow sensitivity SCENARIO``: Sobol indices of the stress test's uncertain inputs.

Every ``stress:`` figure written as a distribution is a factor. SALib's Sobol sequence
(Saltelli design, first and total order) is drawn on the unit hypercube and mapped through
each distribution's inverse CDF; all ``N * (k + 2)`` runs go through the engine at once as
samples. The output is the cumulative shortfall (t, all sectors, or ``--sector``) or, with
``--metric survive``, the sector's time to survive.
"""

from __future__ import annotations

from pathlib import Path

import typer

from rareflow.cli.common import handle_errors


@handle_errors
def sensitivity(
    scenario: str = typer.Argument(
        ...,
        help="Scenario path or bundled name with a `stress:` section.",
    ),
    base_samples: int = typer.Option(
        256, "--samples", "-n",
        help="Sobol base sample N (power of 2); runs = N (k + 2).",
    ),
    seed: int = typer.Option(
        0, "--seed",
        help="Seed of the scrambled Sobol sequence and the bootstrap.",
    ),
    metric: str = typer.Option(
        "shortfall", "--metric",
        help="shortfall (cumulative, t) or survive (months).",
    ),
    sector: str = typer.Option(
        None, "--sector",
        help="Sector of the output (default: all sectors; survive needs one).",
    ),
    out: Path = typer.Option(
        None, "--out", "-o",
        help="Output folder (default rareflow-out/sensitivity-<name>).",
    ),
) -> None:
    """Rank the uncertain stress parameters by their Sobol indices (first and total order)."""
    import os

    import numpy as np
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    from rareflow.cli.common import console
    from rareflow.engines.simulate import simulate
    from rareflow.engines.simulate.from_scenario import build_stress_model, stress_distributions
    from rareflow.errors import RareflowInputError
    from rareflow.results.io import atomic_write_json
    from rareflow.scenario.loader import load_scenario

    con = console()
    if metric not in ("shortfall", "survive"):
        raise RareflowInputError.single(f"unknown metric {metric!r}: use shortfall or survive",
                                        path="--metric")
    if base_samples < 2 or base_samples & (base_samples - 1):
        raise RareflowInputError.single(f"must be a power of 2 >= 2 (got {base_samples})",
                                        path="--samples")
    sc = load_scenario(scenario)
    if sc.spec.stress is None:
        raise RareflowInputError.single("this scenario has no `stress:` section",
                                        file=sc.source_file, path="stress")
    dists = stress_distributions(sc)
    names = sorted(dists)
    if not names:
        raise RareflowInputError.single(
            "no uncertain parameter in `stress:`: write figures as distributions, e.g. "
            "{dist: triangular, low: 1 month, mode: 2 months, high: 4 months}",
            file=sc.source_file, path="stress")
    k = len(names)
    if base_samples * (k + 2) > 2_000_000:
        raise RareflowInputError.single(
            f"{base_samples} x ({k} + 2) runs is too many; use a smaller --samples",
            path="--samples")
    problem = {"num_vars": k, "names": names, "bounds": [[0.0, 1.0]] * k}
    u = sobol_sample.sample(problem, base_samples, calc_second_order=False, seed=seed)
    u = np.clip(u, 1e-9, 1 - 1e-9)
    params = {n: np.asarray(dists[n].ppf(u[:, i]), dtype=float) for i, n in enumerate(names)}
    n_runs = u.shape[0]
    cs = build_stress_model(sc, n_samples=n_runs, parameters=params)
    sectors = cs.model.sectors
    if sector is not None and sector not in sectors:
        raise RareflowInputError.single(f"unknown sector '{sector}' (known: "
                                        f"{', '.join(sectors)})", path="--sector")
    if metric == "survive" and sector is None:
        raise RareflowInputError.single("--metric survive needs --sector", path="--sector")
    res = simulate(cs.model, series=False, workers=min(2, len(os.sched_getaffinity(0))))
    if metric == "shortfall":
        y = (res.cumulative_shortfall[:, 0, sectors.index(sector)] if sector
             else res.cumulative_shortfall[:, 0].sum(axis=1))
    else:
        y = res.time_to_survive[:, 0, sectors.index(sector)].astype(float)
    what = f"{metric} ({sector or 'all sectors'})"
    if np.ptp(y) == 0:
        con.print(f"[bold]{sc.name}[/]: {what} is {y[0]:g} in every run: no parameter matters")
        si = {"S1": np.zeros(k), "S1_conf": np.zeros(k), "ST": np.zeros(k),
              "ST_conf": np.zeros(k)}
    else:
        si = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed)
    rank = sorted(range(k), key=lambda i: -float(si["ST"][i]))
    out = out or Path("rareflow-out") / f"sensitivity-{sc.name}"
    doc = {
        "scenario": sc.name, "metric": metric, "sector": sector, "runs": int(n_runs),
        "base_samples": base_samples, "seed": seed,
        "output_mean": float(np.mean(y)), "output_sd": float(np.std(y)),
        "parameters": {names[i]: {"S1": float(si["S1"][i]), "S1_conf": float(si["S1_conf"][i]),
                                  "ST": float(si["ST"][i]), "ST_conf": float(si["ST_conf"][i]),
                                  "distribution": dists[names[i]].describe()} for i in rank},
    }
    atomic_write_json(out / "stress_sensitivity.json", doc)
    con.print(f"[bold]{sc.name}[/]: Sobol indices of {what}, {n_runs:,} runs "
              f"(N = {base_samples}, {k} parameters); mean {np.mean(y):,.1f}, "
              f"sd {np.std(y):,.1f}")
    con.print(f"  {'parameter':<58}{'S1':>7}{'ST':>7}  (+/- 95 % conf. of ST)")
    for i in rank:
        con.print(f"  {names[i]:<58}{si['S1'][i]:>7.2f}{si['ST'][i]:>7.2f}  "
                  f"+/- {si['ST_conf'][i]:.2f}")
    con.print(f"wrote stress_sensitivity.json to {out}")
