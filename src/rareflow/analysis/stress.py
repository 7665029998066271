"""Run the stress test of a scenario: sample, compile, simulate (vectorised, in chunks)."""

from __future__ import annotations

MEMORY_SHARE = 0.5  # of available memory the results may take


def run_stress(scenario: str, samples: int, seed: int, *, method: str = "lhs",
               workers: int | None = None, monthly: bool = False,
               central: bool = False):  # noqa: ANN201
    """Load, sample, compile and simulate; returns (scenario, compiled, result, demand)."""
    import os

    import numpy as np

    from rareflow.engines.simulate import simulate
    from rareflow.engines.simulate.from_scenario import build_stress_model, sample_parameters
    from rareflow.errors import RareflowInputError
    from rareflow.scenario.loader import load_scenario

    if samples < 1:
        raise RareflowInputError.single(f"must be >= 1 (got {samples})", path="--samples")
    if method not in ("lhs", "mc"):
        raise RareflowInputError.single(f"unknown method {method!r}; use lhs or mc",
                                        path="--method")
    sc = load_scenario(scenario)
    if sc.spec.stress is None:
        raise RareflowInputError.single(
            "this scenario has no `stress:` section (bundled stress scenarios: cn-licence-2025, "
            "us-embargo-6m, us-embargo-12m, us-embargo-24m, ...; see `rareflow scenarios`)",
            file=sc.source_file, path="stress")
    _check_memory(sc, samples, monthly)
    params = {} if central else sample_parameters(sc, samples, seed, method)
    cs = build_stress_model(sc, n_samples=samples, parameters=params)
    w = workers or min(2, len(os.sched_getaffinity(0)))
    res = simulate(cs.model, workers=w, series=monthly)
    dem = cs.model.demand.sum(axis=0)[None, :, :, :].sum(axis=-1)  # [1, D, K]
    # demand shocks change demand per sample: recompute the total from the shocks
    if cs.model.shocks:
        from rareflow.engines.simulate.model import compile_model

        cm = compile_model(cs.model)
        t = np.arange(cm.T)[:, None]
        mult = np.ones((cm.S, cm.T, cm.D, cm.K, cm.M))
        for sh in cm.shocks:
            act = (t >= sh.start[None, :]) & (t < sh.end[None, :])
            m = np.where(act, sh.mult[None, :], 1.0).T  # [S, T]
            mult *= np.where(sh.mask[None, None], m[:, :, None, None, None], 1.0)
        dem = (cm.demand[None] * mult).sum(axis=(1, 4))
    return sc, cs, res, dem


def _check_memory(sc, samples: int, monthly: bool) -> None:  # noqa: ANN001
    import psutil

    from rareflow.errors import RareflowInputError

    st = sc.spec.stress
    T = st.horizon.n_months
    K = max(len(sc.chain.sectors), 1)
    per = K * 200 + (T * K * 8 if monthly else 0) + 64
    need = samples * per
    avail = psutil.virtual_memory().available * MEMORY_SHARE
    if need > avail:
        fit = int(avail // per)
        raise RareflowInputError.single(
            f"{samples:,} samples need about {need / 2**30:.1f} GiB for the results; about "
            f"{fit:,} fit in the memory available (run several seeds and merge, or drop "
            "--monthly)", path="--samples")
