"""Global sensitivity (Sobol indices, SALib) of a scenario's stress-test outcome."""

from __future__ import annotations

from typing import Any


def sobol_indices(scenario: str | Any, base_samples: int = 256, seed: int = 0,
                  metric: str = "shortfall", sector: str | None = None) -> dict[str, Any]:
    """Sobol first- and total-order indices of every ``stress:`` distribution.

    Returns a JSON-ready dict: scenario, metric, runs, output mean and sd, and
    ``parameters`` ordered by total-order index (S1, S1_conf, ST, ST_conf, distribution).
    """
    import os

    import numpy as np
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    from rareflow.engines.simulate import simulate
    from rareflow.engines.simulate.from_scenario import build_stress_model, stress_distributions
    from rareflow.errors import RareflowInputError
    from rareflow.scenario.loader import load_scenario

    if metric not in ("shortfall", "survive"):
        raise RareflowInputError.single(f"unknown metric {metric!r}: use shortfall or survive",
                                        path="--metric")
    if base_samples < 2 or base_samples & (base_samples - 1):
        raise RareflowInputError.single(f"must be a power of 2 >= 2 (got {base_samples})",
                                        path="--samples")
    sc = load_scenario(scenario)
    from rareflow.analysis.stress import is_network, network_sobol

    if is_network(sc):
        return network_sobol(sc, base_samples, seed, metric, sector)
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
        si = {"S1": np.zeros(k), "S1_conf": np.zeros(k), "ST": np.zeros(k),
              "ST_conf": np.zeros(k)}
    else:
        si = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed)
    rank = sorted(range(k), key=lambda i: -float(si["ST"][i]))
    doc = {
        "scenario": sc.name, "metric": metric, "sector": sector, "runs": int(n_runs),
        "base_samples": base_samples, "seed": seed,
        "output_mean": float(np.mean(y)), "output_sd": float(np.std(y)),
        "parameters": {names[i]: {"S1": float(si["S1"][i]), "S1_conf": float(si["S1_conf"][i]),
                                  "ST": float(si["ST"][i]), "ST_conf": float(si["ST_conf"][i]),
                                  "distribution": dists[names[i]].describe()} for i in rank},
    }
    doc["output"] = what
    return doc
