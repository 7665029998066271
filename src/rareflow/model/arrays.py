"""Compile a Scenario into the arrays the engines take (no engine logic here).

Axis order is stated for each array; units are t/yr unless noted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rareflow.errors import Problem, RareflowInputError
from rareflow.model.chain import CompiledChain
from rareflow.scenario.model import Scenario
from rareflow.units import parse


def schedule(series: dict[int, float], years: list[int], *, before: str = "first",
             growth: float = 0.0) -> np.ndarray:
    """Evaluate a step schedule ``{year: value}`` on ``years``.

    A value holds from its year until the next given year. ``{0: v}`` (a single value)
    stands for the first model year.
    Before the first given year the value is the first one (``before="first"``) or 0
    (``before="zero"``, a plant not built yet). After the last given year it grows by
    ``growth`` per year (compound).
    """
    if sorted(series) == [0]:
        # one value for every year: it holds for the first model year and grows after it
        series = {years[0]: series[0]}
    keys = sorted(series)
    out = np.empty(len(years))
    for i, y in enumerate(years):
        past = [k for k in keys if k <= y]
        if not past:
            out[i] = series[keys[0]] if before == "first" else 0.0
            continue
        k = past[-1]
        out[i] = series[k]
        if k == keys[-1] and growth:
            out[i] = series[k] * (1.0 + growth) ** (y - k)
    return out


@dataclass(frozen=True)
class FacilityInfo:
    id: str
    name: str
    owner: str
    region: str
    process: str
    stage: str
    status: str
    capacity_basis: str
    capacity_disclosed: bool
    provenance: str


@dataclass(frozen=True)
class ModelArrays:
    """A scenario as arrays on named axes.

    Attributes
    ----------
    fixed_activity : ndarray [region, process, year]
        Activity set by data (facilities and reported production), in each process's
        activity basis (t/yr of feed for splits, of output otherwise).
    capacity : ndarray [region, process, year]
        Nameplate activity capacity of named facilities (t/yr), 0 where none.
    self_supply : ndarray bool [region, process]
        Processes whose activity follows the region's own consumption.
    residual_supply : ndarray bool [region, process]
        Self-supplied processes that also cover other regions' net imports.
    final_demand : ndarray [region, sector, material, year]
        t/yr of each material demanded by each sector.
    import_shares : ndarray [region, stage, origin]
        Shares of net imports by origin (rows sum to 1), NaN where not given.
    facility_capacity : ndarray [facility, year]
        Capacity in the facility's own basis (t/yr); NaN where not disclosed.
    facility_activity : ndarray [facility, year]
        Activity the facility contributes (t/yr, process basis).
    """

    chain: CompiledChain
    years: tuple[int, ...]
    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    fixed_activity: np.ndarray
    capacity: np.ndarray
    self_supply: np.ndarray
    residual_supply: np.ndarray
    final_demand: np.ndarray
    import_shares: np.ndarray
    facilities: tuple[FacilityInfo, ...]
    facility_capacity: np.ndarray
    facility_activity: np.ndarray
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    focus_region: str = "US"
    fixed_trade: np.ndarray | None = None     # [region, origin, material, year] or None
    reconciliation: Any = None                # rareflow.model.reconcile.WorldReconciliation

    def r(self, region: str) -> int:
        return self.regions.index(region)


def _basis_factor(chain: CompiledChain, process: str, basis: str | None) -> float:
    """Activity per t/yr of ``basis`` for ``process``."""
    k = chain.p(process)
    if basis is None or basis == chain.activity_basis[k]:
        return 1.0
    j = chain.m(basis)
    per_activity = chain.outputs[k, j] if chain.outputs[k, j] > 0 else chain.inputs[k, j]
    return 1.0 / per_activity


def production_series(chain: CompiledChain, p: Any, years: list[int]) -> np.ndarray:
    """[Y] activity (process basis, t/yr) of one ``production:`` record."""
    return schedule(p.values, years, growth=p.growth) * _basis_factor(chain, p.process, p.basis)


def facility_series(chain: CompiledChain, f: Any, years: list[int]) -> np.ndarray:
    """[Y] activity (process basis, t/yr) one facility contributes."""
    if f.capacity is None:
        cap = np.full(len(years), np.nan)
    else:
        cap = schedule(f.capacity, years, before="zero")
    if f.start_year is not None:
        cap = np.where(np.array(years) < f.start_year, 0.0, cap)
    if f.status == "idle":
        cap = np.zeros(len(years))
    util = schedule(f.utilisation, years, before="first")
    return np.nan_to_num(cap) * util * _basis_factor(chain, f.process, f.capacity_basis)


def demand_series(chain: CompiledChain, d: Any, years: list[int]) -> np.ndarray:
    """[Y] t/yr of one ``demand:`` record."""
    if d.quantity is not None:
        return schedule(d.quantity, years, growth=d.growth)
    per = chain.sector_activity_unit.get(d.sector) or "unit"
    act_series = d.activity if isinstance(d.activity, dict) else {0: d.activity}
    act = {int(y): parse(v, "count_rate", per) for y, v in act_series.items()}
    inten = parse(d.intensity, "intensity", per)
    return schedule(act, years, growth=d.growth) * inten * d.share


def build_arrays(scenario: Scenario, *, chain: CompiledChain | None = None,
                 record_scale: dict[str, float] | None = None) -> ModelArrays:
    """Compile ``scenario`` into :class:`ModelArrays`.

    ``chain`` replaces the scenario's compiled chain (reconciled process parameters);
    ``record_scale`` multiplies the series of the records it names (``facilities.ID``,
    ``production.ID``, ``demand.ID``), as a reconciliation corrects them.
    """
    spec = scenario.spec
    chain = chain if chain is not None else scenario.chain
    scale = record_scale or {}
    years = scenario.years
    regions = tuple(spec.regions)
    R, P, Y = len(regions), len(chain.processes), len(years)
    sectors = tuple(chain.sectors)
    ridx = {r: i for i, r in enumerate(regions)}

    fixed = np.zeros((R, P, Y))
    capacity = np.zeros((R, P, Y))
    self_supply = np.zeros((R, P), dtype=bool)
    residual = np.zeros((R, P), dtype=bool)
    problems: list[Problem] = []

    facilities: list[FacilityInfo] = []
    fac_cap: list[np.ndarray] = []
    fac_act: list[np.ndarray] = []
    for fid, f in spec.facilities.items():
        if f is None:
            continue
        k = chain.p(f.process)
        factor = _basis_factor(chain, f.process, f.capacity_basis)
        if f.capacity is None:
            cap = np.full(Y, np.nan)
        else:
            cap = schedule(f.capacity, years, before="zero")
        if f.start_year is not None:
            cap = np.where(np.array(years) < f.start_year, 0.0, cap)
        if f.status == "idle":
            cap = np.zeros(Y)
        util = schedule(f.utilisation, years, before="first")
        act = np.nan_to_num(cap) * util * factor * scale.get(f"facilities.{fid}", 1.0)
        fixed[ridx[f.region], k] += act
        capacity[ridx[f.region], k] += np.nan_to_num(cap) * factor
        facilities.append(FacilityInfo(
            id=fid, name=f.name, owner=f.owner, region=f.region, process=f.process,
            stage=chain.process_stage[k], status=f.status,
            capacity_basis=f.capacity_basis or chain.activity_basis[k],
            capacity_disclosed=f.capacity is not None, provenance=f.provenance))
        fac_cap.append(cap)
        fac_act.append(act)

    for pid, p in spec.production.items():
        if p is None:
            continue
        fixed[ridx[p.region], chain.p(p.process)] += (production_series(chain, p, years)
                                                      * scale.get(f"production.{pid}", 1.0))

    for sid, s in spec.self_supply.items():
        if s is None:
            continue
        for proc in s.processes:
            k = chain.p(proc)
            if chain.process_kind[k] == "split":
                line = scenario.where(f"self_supply.{sid}.processes")
                problems.append(Problem("a separation (split) process cannot follow consumption: "
                                        "its co-products would be arbitrary; give its output",
                                        line[0], line[1], f"self_supply.{sid}.processes"))
            self_supply[ridx[s.region], k] = True
            if s.serves == "world":
                residual[ridx[s.region], k] = True

    demand = np.zeros((R, len(sectors), len(chain.materials), Y))
    for did, d in spec.demand.items():
        if d is None:
            continue
        r, s, m = ridx[d.region], sectors.index(d.sector), chain.m(d.material)
        demand[r, s, m] += demand_series(chain, d, years) * scale.get(f"demand.{did}", 1.0)

    _share_over_grades(chain, fixed, self_supply, residual, demand)

    stages = chain.stages
    shares = np.full((R, len(stages), R), np.nan)
    for _tid, t in spec.trade.import_shares.items():
        if t is None:
            continue
        row = np.zeros(R)
        for o, v in t.origins.items():
            row[ridx[o]] = v
        shares[ridx[t.region], stages.index(t.stage)] = row

    if problems:
        raise RareflowInputError(problems)
    groups = {g: tuple(v.members) for g, v in spec.region_groups.items()}
    return ModelArrays(
        chain=chain, years=tuple(years), regions=regions, sectors=sectors,
        fixed_activity=fixed, capacity=capacity, self_supply=self_supply,
        residual_supply=residual,
        final_demand=demand, import_shares=shares, facilities=tuple(facilities),
        facility_capacity=np.array(fac_cap).reshape(len(facilities), Y),
        facility_activity=np.array(fac_act).reshape(len(facilities), Y),
        groups=groups, focus_region=spec.focus_region,
    )




def _share_over_grades(chain: CompiledChain, fixed: np.ndarray, self_supply: np.ndarray,
                       residual: np.ndarray, demand: np.ndarray) -> None:
    """Share activity given for a base process over it and its grade variants, in
    proportion to the world's final demand for what each makes (in place); variants of a
    self-supplied base process follow consumption too."""
    world = demand.sum(axis=(0, 1))                       # [M, Y]
    for base, variants in chain.grade_variants.items():
        b = chain.p(base)
        members = [b, *(chain.p(v) for v in variants.values())]
        main = [int(np.argmax(chain.outputs[k])) for k in members]
        w = world[main]                                   # [members, Y]
        total = w.sum(axis=0)
        share = np.where(total > 0, w / np.where(total > 0, total, 1.0), 0.0)
        share[0] = np.where(total > 0, share[0], 1.0)    # no graded demand: all at base
        given = fixed[:, b, :].copy()
        for k, sh in zip(members, share, strict=True):
            fixed[:, k, :] = given * sh[None, :] + (fixed[:, k, :] if k != b else 0.0)
        for k in members[1:]:
            self_supply[:, k] |= self_supply[:, b]
            residual[:, k] |= residual[:, b]


def flow_inputs(arrays: ModelArrays) -> Any:
    """The static balance's inputs (:class:`rareflow.engines.flows.FlowInputs`)."""
    from rareflow.engines.flows.static import FlowInputs

    c = arrays.chain
    stage_index = {s: i for i, s in enumerate(c.stages)}
    return FlowInputs(
        inputs=c.inputs, outputs=c.outputs, composition=c.composition,
        from_nature=c.from_nature, losses=c.losses,
        material_stage=np.array([stage_index[s] for s in c.material_stage]),
        external=np.array([m in c.external_materials for m in c.materials]),
        fixed_activity=arrays.fixed_activity, self_supply=arrays.self_supply,
        residual_supply=arrays.residual_supply,
        final_demand=arrays.final_demand.sum(axis=1), import_shares=arrays.import_shares,
        fixed_trade=arrays.fixed_trade,
    )
