"""Run the stress test of a scenario: sample, compile, simulate (vectorised, in chunks)."""

from __future__ import annotations

from typing import Any

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


# --------------------------------------------------------------------------------------
# the network model
# --------------------------------------------------------------------------------------


def is_network(sc) -> bool:  # noqa: ANN001
    """True for a scenario whose ``stress:`` section asks for the network model."""
    return sc.spec.stress is not None and sc.spec.stress.model == "network"


def run_network_stress(sc, samples: int, seed: int, *, method: str = "lhs",  # noqa: ANN001, ANN201
                       workers: int = 1, chunk: int = 500, central: bool = False,
                       monthly: bool = False, trade: bool = True, progress=None):  # noqa: ANN001
    """Sample, compile and simulate a network scenario.

    Returns ``(model, result, central_model, central_result)``: the central run (one
    sample at the central values) is traced, for the mass-balance check and the cause
    paths.
    """
    import numpy as np

    from rareflow.engines.network import check_mass_balance, simulate_network
    from rareflow.errors import RareflowInputError
    from rareflow.model.network import build_network, sample_network_parameters
    from rareflow.results.results import run_static

    if samples < 1:
        raise RareflowInputError.single(f"must be >= 1 (got {samples})", path="--samples")
    if method not in ("lhs", "mc"):
        raise RareflowInputError.single(f"unknown method {method!r}; use lhs or mc",
                                        path="--method")
    static = run_static(sc)
    n = 1 if central else samples
    params = {} if central else sample_network_parameters(sc, n, seed, method)
    nm = build_network(sc, n_samples=n, parameters=params, results=static)
    cm = build_network(sc, n_samples=1, results=static)
    links = trade_links(nm) if trade else None
    res = simulate_network(nm.inputs, chunk=chunk, workers=workers, monthly=monthly,
                           trade_links=links, progress=progress)
    cres = simulate_network(cm.inputs, trace=True, trade_links=links)
    check_mass_balance(cm.inputs, cres.trace)
    del np
    return nm, res, cm, cres


def trade_links(nm) -> Any:  # noqa: ANN001
    """Links whose shipments are recorded: every link between two regions."""
    import numpy as np

    return np.array([i for i, (o, d, _m) in enumerate(nm.link_labels) if o != d],
                    dtype=np.int64)


def cause_paths(nm, cres, min_share: float = 0.01) -> dict[str, dict[str, list[str]]]:  # noqa: ANN001
    """``[region][sector]`` -> the chain of causes of the central run's loss: which
    material, from which origin (restricted, or short because its plants lacked an input,
    and so on upstream)."""
    import numpy as np

    inp = nm.inputs
    tr = cres.trace
    ship = tr["ship"][0]                                  # [T, L]
    allowed = tr["allowed"][0]
    ratio = tr["ratio"][0]                                # [T, J]
    served = tr["served"][0]
    dem = tr["demand"][0]
    T = inp.months
    base_use = np.zeros((inp.K, T))
    np.add.at(base_use, inp.use_pool, inp.demand)
    np.add.at(base_use, inp.in_pool, inp.planned[inp.in_node] * inp.in_coef[:, None])
    base_flow = inp.link_share * base_use[inp.link_dst]   # [L, T]

    def explain(k: int, depth: int, seen: set[int]) -> list[str]:
        region, material = nm.pool_label(k)
        if depth > 6 or k in seen:
            return []
        seen = seen | {k}
        into = np.flatnonzero(inp.link_dst == k)
        if into.size == 0:
            return []
        missing = np.maximum(base_flow[into].T - ship[:, into], 0.0).sum(axis=0)
        if missing.max(initial=0.0) <= 1e-9:
            return []
        li = into[int(np.argmax(missing))]
        src = int(inp.link_src[li])
        origin = nm.regions[inp.pool_region[src]]
        if allowed[:, li].min() < 1.0 - 1e-12:
            rs = [nm.restriction_ids[x] for x in range(inp.rs_links.shape[0])
                  if inp.rs_links[x, li]]
            return [f"{material} from {origin}: restricted ({', '.join(rs)})"]
        # the origin's plants: which input limited them most
        makers = np.flatnonzero(inp.node_main_pool == src)
        worst, wj = 1.0, -1
        for n in makers:
            for j in np.flatnonzero(inp.in_node == n):
                r = float(ratio[:, j].min())
                if r < worst - 1e-9:
                    worst, wj = r, int(j)
        if wj < 0:
            return [f"{material} from {origin}: short"]
        up = int(inp.in_pool[wj])
        _, up_mat = nm.pool_label(up)
        proc = nm.processes[inp.node_process[inp.in_node[wj]]]
        return [f"{material} from {origin} ({proc} short of {up_mat})",
                *explain(up, depth + 1, seen)]

    out: dict[str, dict[str, list[str]]] = {}
    unmet = np.maximum(dem - served, 0.0).sum(axis=0)       # [D]
    for g, (region, sector) in enumerate(nm.group_labels):
        uses = np.flatnonzero(inp.groups == g)
        tot = dem[:, uses].sum()
        if tot <= 0 or unmet[uses].sum() <= min_share * tot * 0.01:
            continue
        d = uses[int(np.argmax(unmet[uses]))]
        out.setdefault(region, {})[sector] = explain(int(inp.use_pool[d]), 0, set())
    return out


def backtest(sc, nm, res) -> dict[str, dict[str, dict[str, float | None]]]:  # noqa: ANN001
    """Every ``stress.observed`` series beside the model: ``[id][YYYY-MM]`` ->
    ``{"recorded", "p5", "p50", "p95"}`` t (modelled shipments of the series' materials
    from its origin to its destination, or to every other region for ``world``)."""
    import numpy as np

    from rareflow.model.network import caught_materials

    st = sc.spec.stress
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    if not st.observed or res.trade is None:
        return out
    links = trade_links(nm)
    labels = [nm.link_labels[i] for i in links]
    months = [nm.month_label(t) for t in range(nm.inputs.months)]
    for oid, ob in st.observed.items():
        mats = {sc.chain.materials[j] for j in caught_materials(sc.chain, ob.materials, [])}
        cols = [c for c, (o, d, m) in enumerate(labels) if o == ob.origin and m in mats
                and (ob.destination == "world" or d == ob.destination)]
        total = res.trade[:, :, cols].sum(axis=2)          # [S, T]
        q = np.quantile(total, [0.05, 0.5, 0.95], axis=0)
        rec = {f"{k[0]}-{k[1]:02d}" if isinstance(k, tuple) else k: float(v)
               for k, v in ob.values.items()}
        series: dict[str, dict[str, float | None]] = {}
        for t, lab in enumerate(months):
            if lab in rec:
                series[lab] = {"recorded": rec[lab], "p5": float(q[0, t]),
                               "p50": float(q[1, t]), "p95": float(q[2, t])}
        out[oid] = series
    return out


def network_sobol(sc, base_samples: int = 256, seed: int = 0, metric: str = "shortfall",  # noqa: ANN001
                  sector: str | None = None, region: str | None = None,
                  workers: int = 1) -> dict[str, Any]:
    """Sobol first- and total-order indices (SALib) of every distribution the network
    model samples (``stress.*``, ``demand.*``, ``facilities.*``, ``production.*``) for the
    demand lost (``shortfall``, t) or the months to survive (``survive``, needs
    ``sector``), over every region or ``region`` and every sector or ``sector``."""
    import numpy as np
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    from rareflow.engines.network import simulate_network
    from rareflow.errors import RareflowInputError
    from rareflow.model.network import build_network, network_distributions

    dists = network_distributions(sc)
    names = sorted(dists)
    if not names:
        raise RareflowInputError.single("no uncertain parameter to rank", path="stress")
    k = len(names)
    problem = {"num_vars": k, "names": names, "bounds": [[0.0, 1.0]] * k}
    u = np.clip(sobol_sample.sample(problem, base_samples, calc_second_order=False,
                                    seed=seed), 1e-9, 1 - 1e-9)
    params = {n: np.asarray(dists[n].ppf(u[:, i]), dtype=float) for i, n in enumerate(names)}
    nm = build_network(sc, n_samples=u.shape[0], parameters=params)
    res = simulate_network(nm.inputs, workers=workers)
    cols = [g for g, (r, s) in enumerate(nm.group_labels)
            if (region is None or r == region) and (sector is None or s == sector)]
    if not cols:
        raise RareflowInputError.single(f"no final use of sector {sector!r} in region "
                                        f"{region!r}", path="--sector")
    if metric == "shortfall":
        y = res.cum_loss[:, cols].sum(axis=1)
    elif metric == "survive":
        y = res.time_to_survive()[:, cols].min(axis=1).astype(float)
    else:
        raise RareflowInputError.single(f"unknown metric {metric!r}: use shortfall or survive",
                                        path="--metric")
    if np.ptp(y) == 0:
        si = {key: np.zeros(k) for key in ("S1", "S1_conf", "ST", "ST_conf")}
    else:
        si = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed)
    rank = sorted(range(k), key=lambda i: -float(si["ST"][i]))
    return {
        "scenario": sc.name, "model": "network", "metric": metric, "sector": sector,
        "region": region, "runs": int(u.shape[0]), "base_samples": base_samples, "seed": seed,
        "output_mean": float(np.mean(y)), "output_sd": float(np.std(y)),
        "output": f"{metric} ({region or 'all regions'}, {sector or 'all sectors'})",
        "parameters": {names[i]: {"S1": float(si["S1"][i]), "S1_conf": float(si["S1_conf"][i]),
                                  "ST": float(si["ST"][i]), "ST_conf": float(si["ST_conf"][i]),
                                  "distribution": dists[names[i]].describe()} for i in rank},
    }
