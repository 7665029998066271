"""Compile a scenario (the reconciled world + its ``stress:`` section) into the arrays of
the monthly network simulation (:class:`rareflow.engines.network.NetworkInputs`).

The base of every month is the static balance of its year (``rareflow.run``: reconciled
where the scenario has a ``reconcile:`` section), divided by 12:

* **pools** ``(region, material)`` for every material a region makes, uses, trades or
  demands (materials the chain draws from outside, e.g. iron, are unlimited and left
  out); **nodes** ``(region, process)`` for every process a region runs or has a
  facility for; a process's **recipe** is the chain's input and output coefficients;
* **capacity** = named facilities' nameplate, at least the planned activity times
  ``1 + spare_capacity``; commissioning delays shift a facility's activity; outages cut
  a facility's share of its node, or whole processes / stages of a region;
* **trade links** carry the base year's bilateral trade (and the domestic delivery
  ``production - exports - unsold``); every other producer of a material is a
  re-sourcing candidate for every region that uses it (share 0 until orders move);
* what the static balance cannot attribute (its ``unmet`` and ``unrecorded`` flows) is
  delivered to the pool every month whatever happens (``exogenous``);
* **demand** per ``(region, sector, material)`` (grades are materials) with the sector's
  priority tier; a plant's tier is the best tier of the sectors its output serves;
* **stocks**: users' pipeline stocks (``inventories.months`` of each sector's use,
  ``inventories.materials`` months of plants' inputs), producers' stocks
  (``inventories.producer_months``), strategic stockpiles of any material at any region;
* **restrictions** act on the links from their origins to their destinations (regions
  or groups; empty or ``world``: every other region) of every material named, every
  material of a named stage, and every material whose content of the ``contains``
  elements exceeds ``min_content``.

Names of regions, processes and materials are read from the scenario and its chain.

Uncertainty: every ``stress.*`` figure written as a distribution is a per-sample array;
``demand.<id>`` and ``facilities.<id>`` / ``production.<id>`` distributions scale the
record's share of the demand uses and nodes it feeds by ``sample / central`` (a linear
response around the static balance, which is solved once at the central values).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rareflow.engines.network.inputs import INF_MONTH, NetworkInputs
from rareflow.errors import Problem, RareflowInputError

STRESS = "stress"
WORLD = "world"


@dataclass(frozen=True)
class NetworkModel:
    """:class:`NetworkInputs` with the labels the CLI and report need."""

    inputs: NetworkInputs
    regions: tuple[str, ...]
    materials: tuple[str, ...]
    processes: tuple[str, ...]
    sectors: tuple[str, ...]
    horizon_start: tuple[int, int]
    group_labels: tuple[tuple[str, str], ...]       # [G] (region, sector)
    link_labels: tuple[tuple[str, str, str], ...]   # [L] (origin, destination, material)
    restriction_ids: tuple[str, ...]
    stockpile_ids: tuple[str, ...]
    parameters: dict[str, np.ndarray] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    not_sampled: list[str] = field(default_factory=list)

    def month_label(self, t: int) -> str:
        y, m = self.horizon_start
        k = (m - 1) + int(t)
        return f"{y + k // 12}-{k % 12 + 1:02d}"

    def pool_label(self, k: int) -> tuple[str, str]:
        i = self.inputs
        return self.regions[i.pool_region[k]], self.materials[i.pool_material[k]]


def _month_index(ym: tuple[int, int], start: tuple[int, int]) -> int:
    return (ym[0] - start[0]) * 12 + (ym[1] - start[1])


def levels(chain: Any, internal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Level of every process and material: a process is one above its highest input,
    a material at its highest producer (0 without producers).

    Loops (manufacturing scrap recycled into the alloy it came from) are cut at the
    inputs of the chain's recycling-stage processes: those draw on the stocks earlier
    months left (the engine never lets a node use more than its region holds). Raises
    on a loop that remains.
    """
    P, M = chain.inputs.shape

    def solve(uses: np.ndarray, makes: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        plev = np.zeros(P, dtype=np.int64)
        mlev = np.zeros(M, dtype=np.int64)
        for _ in range(P + 2):
            new_m = np.array([plev[makes[:, j]].max(initial=0) for j in range(M)])
            new_p = np.array([(1 + new_m[uses[k]].max()) if uses[k].any() else 0
                              for k in range(P)])
            if np.array_equal(new_p, plev) and np.array_equal(new_m, mlev):
                return plev, mlev
            plev, mlev = new_p, new_m
        return None

    uses = (chain.inputs > 0) & internal[None, :]
    makes = (chain.outputs > 0) & internal[None, :]
    out = solve(uses, makes)
    if out is None:
        recycling = np.array([chain.stage_kind.get(s) == "recycling"
                              for s in chain.process_stage])
        out = solve(uses & ~recycling[:, None], makes)
    if out is None:
        raise RareflowInputError.single(
            "the chain's processes form a loop outside its recycling stage; the network "
            "simulation needs the loop to pass through a recycling-stage process",
            path="chain")
    return out


def expand_regions(names: list[str], regions: tuple[str, ...],
                   groups: Mapping[str, tuple[str, ...]]) -> list[str]:
    out: list[str] = []
    for n in names:
        if n == WORLD:
            out.extend(regions)
        elif n in groups:
            out.extend(g for g in groups[n] if g in regions)
        else:
            out.append(n)
    return list(dict.fromkeys(out))


def caught_materials(chain: Any, materials: list[str], contains: list[str],
                     min_content: float = 0.0) -> set[int]:
    """Materials a restriction catches: named ones, those of named stages, and those whose
    mass fraction of the ``contains`` elements exceeds ``min_content``."""
    out: set[int] = set()
    for m in materials:
        if m in chain.materials:
            out.add(chain.m(m))
        else:
            out.update(j for j, s in enumerate(chain.material_stage) if s == m)
    if contains:
        cols = [chain.elements.index(e) for e in contains if e in chain.elements]
        content = chain.composition[:, cols].sum(axis=1)
        out.update(int(j) for j in np.flatnonzero(content > max(min_content, 1e-12)))
    return out


# --------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------


def check_network_section(scenario: Any) -> None:
    """Cross-references of a network ``stress:`` section, each problem with its line."""
    st = scenario.spec.stress
    chain = scenario.chain
    problems: list[Problem] = []
    regions = set(scenario.spec.regions)
    groups = set(scenario.spec.region_groups) | {WORLD}
    sectors = set(chain.sectors)
    materials = set(chain.materials)
    stages = set(chain.stages)
    elements = set(chain.elements)
    processes = set(chain.processes)
    facilities = {k for k, v in scenario.spec.facilities.items() if v is not None}
    sources = set(scenario.spec.sources)

    def at(parts: tuple[Any, ...], msg: str) -> None:
        dotted = ".".join(map(str, (STRESS, *parts)))
        f, line = scenario.where(dotted)
        problems.append(Problem(msg, f, line, dotted))

    def known(kind: str, value: str, options: set[str], parts: tuple[Any, ...]) -> None:
        if value not in options:
            import difflib

            close = difflib.get_close_matches(value, sorted(options), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            at(parts, f"unknown {kind} '{value}' ({hint}known: "
               f"{', '.join(sorted(options)[:40])})")

    def prov(parts: tuple[Any, ...], rec: Any) -> None:
        for s in rec.source or []:
            if s not in sources:
                at((*parts, "source"), f"unknown source '{s}'; add it under `sources:`")
        if not rec.has_provenance:
            at(parts, "no provenance: add `source:` and `confidence:`, or `assumption:` "
               "with the reasoning")

    for k in st.priority:
        known("sector", k, sectors, ("priority", k))
    for rid, r in st.restrictions.items():
        p = ("restrictions", rid)
        prov(p, r)
        for i, o in enumerate(r.origins):
            known("region or group", o, regions | groups, (*p, "origins", i))
        for i, d in enumerate(r.destinations):
            known("region or group", d, regions | groups, (*p, "destinations", i))
        for i, m in enumerate(r.materials):
            known("material or stage", m, materials | stages, (*p, "materials", i))
        for i, e in enumerate(r.contains):
            known("element", e, elements, (*p, "contains", i))
        for key in ("exempt_sectors", "licensed_sectors"):
            for i, k in enumerate(getattr(r, key)):
                known("sector", k, sectors, (*p, key, i))
    for sid, s in st.stockpiles.items():
        p = ("stockpiles", sid)
        prov(p, s)
        if s.place is not None:
            known("region", s.place, regions, (*p, "place"))
        if s.material is not None:
            known("material", s.material, materials, (*p, "material"))
        for i, k in enumerate(s.sectors):
            known("sector", k, sectors, (*p, "sectors", i))
    if st.inventories is not None:
        prov(("inventories",), st.inventories)
        for k in st.inventories.sectors:
            known("sector", k, sectors, ("inventories", "sectors", k))
        for m in st.inventories.materials:
            known("material", m, materials, ("inventories", "materials", m))
    for oid, o in st.outages.items():
        p = ("outages", oid)
        prov(p, o)
        if o.facility is not None:
            known("facility", o.facility, facilities, (*p, "facility"))
        if o.region is not None:
            known("region", o.region, regions, (*p, "region"))
        for i, q in enumerate(o.processes):
            known("process or stage", q, processes | stages, (*p, "processes", i))
    for did, d in st.demand_shocks.items():
        p = ("demand_shocks", did)
        prov(p, d)
        for i, k in enumerate(d.sectors):
            known("sector", k, sectors, (*p, "sectors", i))
        for i, r in enumerate(d.regions):
            known("region or group", r, regions | groups, (*p, "regions", i))
    for cid, c in st.commissioning_delays.items():
        p = ("commissioning_delays", cid)
        prov(p, c)
        known("facility", c.facility, facilities, (*p, "facility"))
    for oid, ob in st.observed.items():
        p = ("observed", oid)
        prov(p, ob)
        known("region", ob.origin, regions, (*p, "origin"))
        if ob.destination != WORLD:
            known("region", ob.destination, regions, (*p, "destination"))
        for i, m in enumerate(ob.materials):
            known("material or stage", m, materials | stages, (*p, "materials", i))
    if problems:
        raise RareflowInputError(problems)


# --------------------------------------------------------------------------------------
# sampling
# --------------------------------------------------------------------------------------


def network_distributions(scenario: Any) -> dict[str, Any]:
    """Every distribution the network model samples: ``stress.*``, ``demand.*``,
    ``facilities.*`` and ``production.*`` (dotted path -> Distribution)."""
    keep = (STRESS + ".", "demand.", "facilities.", "production.")
    return {k: v for k, v in scenario.uncertain.items() if k.startswith(keep)}


def sample_network_parameters(scenario: Any, n: int, seed: int, method: str = "lhs"
                              ) -> dict[str, np.ndarray]:
    """Samples of :func:`network_distributions` (canonical units), sorted by path, so the
    same seed gives the same draws."""
    from rareflow.uncertainty import sample_all

    return sample_all(network_distributions(scenario), n, seed=seed, method=method)


# --------------------------------------------------------------------------------------
# compile
# --------------------------------------------------------------------------------------


def build_network(scenario: Any, *, n_samples: int = 1,
                  parameters: Mapping[str, np.ndarray] | None = None,
                  results: Any = None) -> NetworkModel:
    """Compile ``scenario`` into a :class:`NetworkModel` for ``n_samples`` samples.

    ``parameters`` maps dotted paths (see :func:`network_distributions`) to ``[sample]``
    arrays in canonical units; paths not given take the central value. ``results`` may
    pass the static run to avoid solving it again.
    """
    st = scenario.spec.stress
    if st is None:
        raise RareflowInputError.single(
            "this scenario has no `stress:` section", file=scenario.source_file, path="stress")
    import rareflow

    S = int(n_samples)
    params = {key: np.asarray(v, dtype=float) for key, v in (parameters or {}).items()}
    for key, v in params.items():
        if v.shape != (S,):
            raise RareflowInputError.single(f"expected {S} samples, got shape {v.shape}",
                                            path=key)
    if results is None:
        results = rareflow.run(scenario)
    arr = results.arrays
    fl = results.flows
    chain = arr.chain
    regions = tuple(arr.regions)
    sectors = tuple(arr.sectors)
    materials = tuple(chain.materials)
    processes = tuple(chain.processes)
    groups_map = dict(arr.groups)
    R, M = len(regions), len(materials)
    years = list(arr.years)
    T = st.horizon.n_months
    h0 = st.horizon.start
    month_year = np.array([h0[0] + (h0[1] - 1 + t) // 12 for t in range(T)])
    yi = np.clip(month_year - years[0], 0, len(years) - 1)
    notes: list[str] = []
    assumptions = [f"{k}: {v}" for k, v in st.assumptions.items()]
    if month_year[0] < years[0] or month_year[-1] > years[-1]:
        notes.append(f"horizon runs outside the static years {years[0]}-{years[-1]}: the "
                     "nearest year's figures are held")

    def val(parts: tuple[str, ...], central: float) -> np.ndarray:
        dotted = ".".join((STRESS, *parts))
        for key in (dotted, dotted + ".value"):
            if key in params:
                return params[key].astype(float)
        return np.full(S, float(central))

    def months_of(x: np.ndarray) -> np.ndarray:
        return np.round(np.asarray(x) * 12.0).astype(np.int64)

    def month_of(ym: tuple[int, int]) -> int:
        return _month_index(ym, h0)

    internal = np.array([m not in chain.external_materials for m in materials])
    plev, mlev = levels(chain, internal)

    # ---- static flows, t/month on the horizon's months --------------------------------
    act = fl.activity[:, :, yi] / 12.0                         # [R, P, T]
    prod = fl.production[:, :, yi] / 12.0                       # [R, M, T]
    imp = fl.imports[:, :, :, yi] / 12.0                        # [R(dest), O, M, T]
    unsold = fl.unsold[:, :, yi] / 12.0
    exo_all = (fl.unmet + fl.unrecorded)[:, :, yi] / 12.0
    fd = arr.final_demand[:, :, :, yi] / 12.0                   # [R, S, M, T]
    cons = fl.consumption[:, :, yi] / 12.0
    exports = imp.sum(axis=0)                                   # [O, M, T]
    cap_all = arr.capacity[:, :, yi] / 12.0

    tiny = 1e-9
    # ---- pools ----------------------------------------------------------------------
    has = ((prod > tiny) | (cons > tiny) | (imp.sum(axis=1) > tiny) | (exports > tiny)
           | (fd.sum(axis=1) > tiny) | (exo_all > tiny)).any(axis=-1) & internal[None, :]
    extra_pools: list[tuple[int, int]] = []
    for spec in st.stockpiles.values():
        r_ = regions.index(spec.place or scenario.spec.focus_region)
        m_ = chain.m(spec.material or (chain.reference_material or materials[0]))
        if not has[r_, m_]:
            extra_pools.append((r_, m_))
            has[r_, m_] = True
    pool_rm = [(int(r), int(m)) for r, m in np.argwhere(has)]
    pidx = {rm: k for k, rm in enumerate(pool_rm)}
    K = len(pool_rm)
    pool_region = np.array([r for r, _ in pool_rm], dtype=np.int64)
    pool_material = np.array([m for _, m in pool_rm], dtype=np.int64)
    pool_level = mlev[pool_material]

    # ---- nodes ----------------------------------------------------------------------
    node_rp = [(int(r), int(p)) for r, p in
               np.argwhere(((act > tiny) | (cap_all > tiny)).any(axis=-1))]
    N = len(node_rp)
    node_region = np.array([r for r, _ in node_rp], dtype=np.int64)
    node_process = np.array([p for _, p in node_rp], dtype=np.int64)
    node_level = plev[node_process] if N else np.zeros(0, dtype=np.int64)
    planned = np.array([act[r, p] for r, p in node_rp]).reshape(N, T)
    nameplate = np.array([cap_all[r, p] for r, p in node_rp]).reshape(N, T)
    in_node, in_pool, in_coef = [], [], []
    out_node, out_pool, out_coef = [], [], []
    for n, (r, p) in enumerate(node_rp):
        for j in np.flatnonzero((chain.inputs[p] > 0) & internal):
            k = pidx.get((r, int(j)))
            if k is None:      # a node that never runs in the static balance
                pool_rm.append((r, int(j)))
                k = pidx[(r, int(j))] = len(pool_rm) - 1
            in_node.append(n)
            in_pool.append(k)
            in_coef.append(float(chain.inputs[p, j]))
        for j in np.flatnonzero((chain.outputs[p] > 0) & internal):
            k = pidx.get((r, int(j)))
            if k is None:
                pool_rm.append((r, int(j)))
                k = pidx[(r, int(j))] = len(pool_rm) - 1
            out_node.append(n)
            out_pool.append(k)
            out_coef.append(float(chain.outputs[p, j]))
    if len(pool_rm) != K:
        K = len(pool_rm)
        pool_region = np.array([r for r, _ in pool_rm], dtype=np.int64)
        pool_material = np.array([m for _, m in pool_rm], dtype=np.int64)
        pool_level = mlev[pool_material]
    in_node_a = np.array(in_node, dtype=np.int64)
    in_pool_a = np.array(in_pool, dtype=np.int64)
    in_coef_a = np.array(in_coef)
    out_node_a = np.array(out_node, dtype=np.int64)
    out_pool_a = np.array(out_pool, dtype=np.int64)
    out_coef_a = np.array(out_coef)
    # main output of a node: the output with the largest coefficient
    node_main_pool = np.zeros(N, dtype=np.int64)
    node_main_coef = np.zeros(N)
    for b in range(out_node_a.shape[0]):
        n = out_node_a[b]
        if out_coef_a[b] > node_main_coef[n]:
            node_main_coef[n] = out_coef_a[b]
            node_main_pool[n] = out_pool_a[b]
    main_tot = np.zeros((K, T))
    for n in range(N):
        main_tot[node_main_pool[n]] += planned[n]
    node_main_share = np.where(main_tot[node_main_pool] > 0,
                               planned / np.where(main_tot[node_main_pool] > 0,
                                                  main_tot[node_main_pool], 1.0), 0.0)

    # ---- demand uses and tiers --------------------------------------------------------
    sector_tier = {s: st.priority.get(s, st.default_tier) for s in sectors}
    use_rsm = [(int(r), int(s), int(m)) for r, s, m in
               np.argwhere((fd > tiny).any(axis=-1) & internal[None, None, :])]
    D = len(use_rsm)
    use_pool = np.array([pidx[(r, m)] for r, _, m in use_rsm], dtype=np.int64)
    use_sector = np.array([s for _, s, _ in use_rsm], dtype=np.int64)
    use_tier = np.array([sector_tier[sectors[s]] for s in use_sector], dtype=np.int64)
    demand = np.array([fd[r, s, m] for r, s, m in use_rsm]).reshape(D, T)
    mat_tier = np.full(M, 10**6, dtype=np.int64)
    for (_, s_i, m) in use_rsm:
        mat_tier[m] = min(mat_tier[m], sector_tier[sectors[s_i]])
    proc_tier = np.full(len(processes), 10**6, dtype=np.int64)
    for lv in sorted(set(plev.tolist()), reverse=True):
        for pk in np.flatnonzero(plev == lv):
            outs = np.flatnonzero(chain.outputs[pk] > 0)
            proc_tier[pk] = mat_tier[outs].min(initial=10**6)
            for j in np.flatnonzero(chain.inputs[pk] > 0):
                mat_tier[j] = min(mat_tier[j], proc_tier[pk])
    proc_tier = np.where(proc_tier >= 10**6, st.default_tier, proc_tier)
    in_tier = proc_tier[node_process[in_node_a]] if in_node_a.size else np.zeros(0, np.int64)
    group_keys = sorted({(r, s) for r, s, _ in use_rsm})
    gidx = {g: i for i, g in enumerate(group_keys)}
    groups = np.array([gidx[(r, s)] for r, s, _ in use_rsm], dtype=np.int64)

    # demand / production records written as distributions: linear scaling
    not_sampled: list[str] = []
    demand_s = np.broadcast_to(demand, (S, D, T))
    scale_d = np.ones((S, D))
    scale_n = np.ones((S, N))
    for key, dist in scenario.uncertain.items():
        head, _, rest = key.partition(".")
        rid = rest.split(".")[0]
        if key not in params:
            continue
        c = float(dist.central())
        f = params[key] / c if c else np.ones(S)
        if head == "demand" and rid in scenario.spec.demand:
            rec = scenario.spec.demand[rid]
            r_, s_, m_ = regions.index(rec.region), sectors.index(rec.sector), chain.m(rec.material)
            for d, (r, s, m) in enumerate(use_rsm):
                if (r, s) == (r_, s_) and m in chain.grade_family(materials[m_]) or (
                        (r, s, m) == (r_, s_, m_)):
                    scale_d[:, d] *= f
        elif head in ("facilities", "production"):
            rec = getattr(scenario.spec, head).get(rid)
            if rec is None:
                continue
            p_ = chain.p(rec.process)
            for n, (r, p) in enumerate(node_rp):
                if r == regions.index(rec.region) and p == p_:
                    scale_n[:, n] *= f
        elif head != STRESS:
            not_sampled.append(key)
    varying_demand = bool(np.any(scale_d != 1.0))
    if varying_demand:
        notes.append("sampled demand records scale their uses linearly (static balance at "
                     "central values)")
    del demand_s

    # ---- trade links ------------------------------------------------------------------
    link_keys: list[tuple[int, int]] = []          # (src pool, dst pool)
    link_base: list[np.ndarray] = []
    for (r, m), k in list(pidx.items()):
        if (prod[r, m] > tiny).any():
            own = np.maximum(prod[r, m] - imp[:, r, m].sum(axis=0) + imp[r, r, m]
                             - unsold[r, m], 0.0)
            link_keys.append((k, k))
            link_base.append(own)
    for d, o, m in np.argwhere((imp > tiny).any(axis=-1)):
        if o == d or not internal[m]:
            continue
        ks, kd = pidx.get((int(o), int(m))), pidx.get((int(d), int(m)))
        if ks is None or kd is None:
            continue
        link_keys.append((ks, kd))
        link_base.append(imp[d, o, m])
    linked = set(link_keys)
    producers: dict[int, list[int]] = {}
    for (r, m), k in pidx.items():
        if (prod[r, m] > tiny).any() or any(out_pool_a == k):
            producers.setdefault(m, []).append(k)
    users = [k for (r, m), k in pidx.items()
             if (cons[r, m] > tiny).any() or any(in_pool_a == k) or any(use_pool == k)]
    for kd in users:
        m = pool_rm[kd][1]
        for ks in producers.get(m, []):
            if (ks, kd) not in linked:
                link_keys.append((ks, kd))
                link_base.append(np.zeros(T))
                linked.add((ks, kd))
    L = len(link_keys)
    link_src = np.array([a for a, _ in link_keys], dtype=np.int64)
    link_dst = np.array([b for _, b in link_keys], dtype=np.int64)
    base = np.array(link_base).reshape(L, T)
    into = np.zeros((K, T))
    np.add.at(into, link_dst, base)
    link_share = np.where(into[link_dst] > 0, base / np.where(into[link_dst] > 0,
                                                             into[link_dst], 1.0), 0.0)
    exogenous = np.array([exo_all[r, m] for r, m in pool_rm]).reshape(K, T)

    # ---- stocks -----------------------------------------------------------------------
    inv = st.inventories
    use_months = np.zeros((S, D))
    in_months = np.zeros(in_node_a.shape[0])
    producer_months = 0.0
    if inv is not None:
        default = val(("inventories", "months"), float(inv.months)) * 12.0
        for d, (_, s, _) in enumerate(use_rsm):
            name = sectors[s]
            if name in inv.sectors:
                use_months[:, d] = val(("inventories", "sectors", name),
                                       float(inv.sectors[name])) * 12.0
            else:
                use_months[:, d] = default
        for i in range(in_node_a.shape[0]):
            mname = materials[pool_material[in_pool_a[i]]]
            if mname in inv.materials:
                in_months[i] = float(inv.materials[mname]) * 12.0
        producer_months = float(inv.producer_months) * 12.0
    # an input allocated after its plant runs (across a recycling loop) is used a month
    # after it is made: its users hold at least that month in stock
    lagged = pool_level[in_pool_a] >= node_level[in_node_a] if in_node_a.size else in_months > 0
    in_months = np.where(lagged, np.maximum(in_months, 1.0), in_months)
    made = np.zeros((K, T))
    if out_node_a.size:
        np.add.at(made, out_pool_a, planned[out_node_a] * out_coef_a[:, None])
    producer_stock = made[:, 0] * producer_months

    # ---- stockpiles -------------------------------------------------------------------
    sp_ids = tuple(st.stockpiles)
    Q = len(sp_ids)
    sp_pool = np.zeros(Q, dtype=np.int64)
    sp_size = np.zeros((S, Q))
    sp_draw = np.full((S, Q), np.inf)
    sp_refill = np.zeros((S, Q))
    sp_uses = np.ones((Q, D), dtype=bool)
    sp_below = np.ones(Q)
    use_k0 = np.zeros(K)
    np.add.at(use_k0, use_pool, demand[:, 0])
    if in_node_a.size:
        np.add.at(use_k0, in_pool_a, planned[in_node_a, 0] * in_coef_a)
    for q, (sid, spec) in enumerate(st.stockpiles.items()):
        r_ = regions.index(spec.place or scenario.spec.focus_region)
        m_ = chain.m(spec.material or (chain.reference_material or materials[0]))
        k = pidx[(r_, m_)]
        sp_pool[q] = k
        if spec.sectors:
            sp_uses[q] = np.isin(use_sector, [sectors.index(x) for x in spec.sectors]) & (
                use_pool == k)
            served_use = demand[sp_uses[q], 0].sum()
        else:
            served_use = use_k0[k]
        if spec.size is not None:
            sp_size[:, q] = val(("stockpiles", sid, "size"), float(spec.size))
        else:
            assert spec.months is not None
            sp_size[:, q] = val(("stockpiles", sid, "months"), float(spec.months)) * 12.0 \
                * served_use
        if spec.max_draw is not None:
            sp_draw[:, q] = val(("stockpiles", sid, "max_draw"), float(spec.max_draw)) / 12.0
        if spec.refill_rate is not None:
            sp_refill[:, q] = val(("stockpiles", sid, "refill_rate"),
                                  float(spec.refill_rate)) / 12.0
        sp_below[q] = float(spec.release_below)

    # ---- restrictions -----------------------------------------------------------------
    rs_ids = tuple(st.restrictions)
    X = len(rs_ids)
    rs_links = np.zeros((X, L), dtype=bool)
    rs_start = np.zeros((S, X), dtype=np.int64)
    rs_end = np.full((S, X), INF_MONTH, dtype=np.int64)
    rs_delay = np.zeros((S, X), dtype=np.int64)
    rs_sev = np.ones((S, X))
    rs_exempt = np.zeros((X, D), dtype=bool)
    starts: list[np.ndarray] = []
    for x, (rid, rspec) in enumerate(st.restrictions.items()):
        path = ("restrictions", rid)
        origins = {regions.index(o) for o in expand_regions(rspec.origins, regions, groups_map)}
        dests = set(range(R)) if not rspec.destinations else {
            regions.index(d) for d in expand_regions(rspec.destinations, regions, groups_map)}
        caught = caught_materials(chain, rspec.materials, rspec.contains, float(rspec.min_content))
        for li, (ks, kd) in enumerate(link_keys):
            ro, rd, m = pool_region[ks], pool_region[kd], pool_material[ks]
            rs_links[x, li] = (ro in origins and rd in dests and ro != rd and m in caught)
        rs_start[:, x] = month_of(rspec.start)
        if rspec.end is not None:
            rs_end[:, x] = month_of(rspec.end)
        elif rspec.duration is not None:
            rs_end[:, x] = rs_start[:, x] + months_of(val((*path, "duration"), float(rspec.duration)))
        rs_delay[:, x] = months_of(val((*path, "licence_delay"), float(rspec.licence_delay)))
        if rspec.approval_rate is not None:
            rs_sev[:, x] = 1.0 - val((*path, "approval_rate"), float(rspec.approval_rate))
        else:
            rs_sev[:, x] = val((*path, "severity"), float(rspec.severity))
        if rspec.licensed_sectors:
            rs_exempt[x] = ~np.isin(use_sector, [sectors.index(k) for k in rspec.licensed_sectors])
        elif rspec.exempt_sectors:
            rs_exempt[x] = np.isin(use_sector, [sectors.index(k) for k in rspec.exempt_sectors])
        starts.append(rs_start[:, x])
        names = sorted(materials[m] for m in caught)
        notes.append(f"restriction {rid}: {int(rs_links[x].sum())} trade links, "
                     f"{len(names)} materials ({', '.join(names[:8])}"
                     f"{', ...' if len(names) > 8 else ''})")

    # ---- outages ----------------------------------------------------------------------
    fac_ids = [f.id for f in arr.facilities]
    O = len(st.outages)
    ou_weight = np.zeros((O, N))
    ou_start = np.zeros((S, O), dtype=np.int64)
    ou_end = np.full((S, O), INF_MONTH, dtype=np.int64)
    ou_lost = np.zeros((S, O))
    node_of = {rp: n for n, rp in enumerate(node_rp)}
    for o, (oid, ou) in enumerate(st.outages.items()):
        path = ("outages", oid)
        if ou.facility is not None:
            fi = fac_ids.index(ou.facility)
            info = arr.facilities[fi]
            nn = node_of.get((regions.index(info.region), chain.p(info.process)))
            if nn is not None:
                fa = arr.facility_activity[fi, yi] / 12.0
                ou_weight[o, nn] = float(np.clip(np.max(fa / np.maximum(planned[nn], 1e-12)),
                                                0.0, 1.0))
        else:
            r_ = regions.index(ou.region)
            procs = set()
            for q in ou.processes or list(processes):
                procs |= ({chain.p(q)} if q in processes else
                          {k for k, s in enumerate(chain.process_stage) if s == q})
            for n, (r, pp) in enumerate(node_rp):
                if r == r_ and pp in procs:
                    ou_weight[o, n] = 1.0
        ou_start[:, o] = month_of(ou.start)
        if ou.end is not None:
            ou_end[:, o] = month_of(ou.end)
        elif ou.duration is not None:
            ou_end[:, o] = ou_start[:, o] + months_of(val((*path, "duration"), float(ou.duration)))
        ou_lost[:, o] = val((*path, "capacity_lost"), float(ou.capacity_lost))
        starts.append(ou_start[:, o])

    # ---- demand shocks ----------------------------------------------------------------
    H = len(st.demand_shocks)
    sh_uses = np.zeros((H, D), dtype=bool)
    sh_start = np.zeros((S, H), dtype=np.int64)
    sh_end = np.full((S, H), INF_MONTH, dtype=np.int64)
    sh_mult = np.ones((S, H))
    for h, (hid, sh) in enumerate(st.demand_shocks.items()):
        path = ("demand_shocks", hid)
        rr = set(range(R)) if not sh.regions else {
            regions.index(x) for x in expand_regions(sh.regions, regions, groups_map)}
        ss = set(range(len(sectors))) if not sh.sectors else {sectors.index(x)
                                                              for x in sh.sectors}
        sh_uses[h] = [r in rr and s in ss for r, s, _ in use_rsm]
        sh_start[:, h] = month_of(sh.start)
        if sh.end is not None:
            sh_end[:, h] = month_of(sh.end)
        elif sh.duration is not None:
            sh_end[:, h] = sh_start[:, h] + months_of(val((*path, "duration"), float(sh.duration)))
        sh_mult[:, h] = val((*path, "multiplier"), float(sh.multiplier))
        starts.append(sh_start[:, h])

    # ---- commissioning delays ---------------------------------------------------------
    C = len(st.commissioning_delays)
    cd_node = np.zeros(C, dtype=np.int64)
    cd_act = np.zeros((C, T))
    cd_delay = np.zeros((S, C), dtype=np.int64)
    keep_c = []
    for c, (cid, cd) in enumerate(st.commissioning_delays.items()):
        fi = fac_ids.index(cd.facility)
        info = arr.facilities[fi]
        nn = node_of.get((regions.index(info.region), chain.p(info.process)))
        if nn is None:
            notes.append(f"commissioning delay {cid}: facility {cd.facility} adds no activity "
                         "in the horizon")
            continue
        keep_c.append(c)
        cd_node[c] = nn
        cd_act[c] = arr.facility_activity[fi, yi] / 12.0 * scale_n[0, nn]
        cd_delay[:, c] = months_of(val(("commissioning_delays", cid, "delay"), float(cd.delay)))
        starts.append(np.zeros(S, dtype=np.int64))
    cd_node, cd_act, cd_delay = cd_node[keep_c], cd_act[keep_c], cd_delay[:, keep_c]

    ds = (np.min(np.stack(starts), axis=0) if starts else np.zeros(S, dtype=np.int64))
    ds = np.clip(ds, 0, T - 1).astype(np.int64)

    # per-sample scaling of demand and nodes is folded into the per-sample shock arrays
    if varying_demand:
        sh_uses = np.concatenate([sh_uses, np.eye(D, dtype=bool)], axis=0)
        sh_start = np.concatenate([sh_start, np.zeros((S, D), dtype=np.int64)], axis=1)
        sh_end = np.concatenate([sh_end, np.full((S, D), INF_MONTH, dtype=np.int64)], axis=1)
        sh_mult = np.concatenate([sh_mult, scale_d], axis=1)
    if np.any(scale_n != 1.0):
        # a node scaled by its sampled record: an outage of (1 - f) from month 0 (f <= 1)
        # or, above 1, more capacity is not modelled (held at the central value)
        ou_weight = np.concatenate([ou_weight, np.eye(N)], axis=0)
        ou_start = np.concatenate([ou_start, np.zeros((S, N), dtype=np.int64)], axis=1)
        ou_end = np.concatenate([ou_end, np.full((S, N), INF_MONTH, dtype=np.int64)], axis=1)
        ou_lost = np.concatenate([ou_lost, np.clip(1.0 - scale_n, 0.0, 1.0)], axis=1)

    inputs = NetworkInputs(
        n_samples=S, months=T, n_regions=R, n_materials=M,
        pool_region=pool_region, pool_material=pool_material, pool_level=pool_level,
        node_region=node_region, node_process=node_process, node_level=node_level,
        planned=planned, nameplate=nameplate,
        in_node=in_node_a, in_pool=in_pool_a, in_coef=in_coef_a, in_tier=in_tier,
        out_node=out_node_a, out_pool=out_pool_a, out_coef=out_coef_a,
        node_main_pool=node_main_pool, node_main_coef=node_main_coef,
        node_main_share=node_main_share,
        use_pool=use_pool, use_sector=use_sector, use_tier=use_tier, demand=demand,
        exogenous=exogenous, link_src=link_src, link_dst=link_dst, link_share=link_share,
        in_months=in_months, use_months=use_months, producer_stock=producer_stock,
        groups=groups,
        n_groups=len(group_keys),
        spare=val(("spare_capacity",), float(st.spare_capacity)),
        resourcing_months=val(("resourcing_months",), float(st.resourcing_months)) * 12.0,
        deferral=val(("demand_response",), float(st.demand_response)),
        sp_pool=sp_pool, sp_size=sp_size, sp_max_draw=sp_draw, sp_refill=sp_refill,
        sp_uses=sp_uses, sp_release_below=sp_below,
        rs_links=rs_links, rs_start=rs_start, rs_end=rs_end, rs_delay=rs_delay,
        rs_severity=rs_sev, rs_exempt=rs_exempt,
        ou_weight=ou_weight, ou_start=ou_start, ou_end=ou_end, ou_lost=ou_lost,
        sh_uses=sh_uses, sh_start=sh_start, sh_end=sh_end, sh_mult=sh_mult,
        cd_node=cd_node, cd_activity=cd_act, cd_delay=cd_delay,
        refill_share=float(inv.refill_share) if inv is not None else 0.25,
        tolerance=float(st.tolerance), disruption_start=ds)
    labels = tuple((regions[pool_region[a]], regions[pool_region[b]], materials[pool_material[a]])
                   for a, b in link_keys)
    return NetworkModel(
        inputs=inputs, regions=regions, materials=materials, processes=processes,
        sectors=sectors, horizon_start=h0,
        group_labels=tuple((regions[r], sectors[s]) for r, s in group_keys),
        link_labels=labels, restriction_ids=rs_ids, stockpile_ids=sp_ids,
        parameters=dict(params), assumptions=assumptions, notes=notes,
        not_sampled=sorted(not_sampled))
