"""A mass-balance check of the stored output tables, independent of the solver.

The solver books ``unmet``, ``unsold`` and ``unrecorded`` as residuals, so its own
identity holds by construction. This module re-reads only what a run stores - the
``flows``, ``trade`` and ``activity`` tables - and the compiled chain's recipes, and checks
them against each other:

* recipes: every active process's element balance ``activity * (A.C + N) = activity *
  (B.C + L)``;
* processes: stored production and process use equal recipe x stored activity, per
  region, material and year, and each region's element balance of its processes;
* tables: consumption = process use + final demand, net imports = consumption -
  production, and the flows table's imports and exports equal the trade table's sums;
* regions: ``production + imports + unmet + unrecorded = consumption + exports + unsold``
  per region, material and year, each residual as its definition says (unmet: the deficit
  imports leave uncovered; unsold: the surplus exports leave; unrecorded: exports beyond
  the surplus), and no trade or residuals for materials from outside the chain;
* world: imports equal exports, and no material is left unsold in one region while
  another region's deficit goes unmet (trade clears what it can).

:func:`check_stored_balance` raises :class:`~rareflow.errors.MassBalanceError` naming the
region, material (or process and element) and year of the worst violation of each check.
:func:`residual_share` gives the residual flows over the larger of production and
consumption, per region, stage, element and year.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from rareflow.errors import MassBalanceError

RTOL = 1e-9
# explicit import shares may sum to 1 within 1e-6 (scenario schema), which can leave that
# share of a deficit unmet while another region has surplus
CLEARING_RTOL = 1e-5
FLOOR = 1e-12          # absolute floor of a scale, relative to the material's world scale
FLOW_COLUMNS = ("production_t", "process_use_t", "final_demand_t", "consumption_t",
                "imports_t", "exports_t", "net_imports_t", "unmet_t", "unsold_t",
                "unrecorded_t")


@dataclass(frozen=True)
class StoredFlows:
    """The stored tables as dense arrays on the chain's axes (zeros where no row).

    flows[column] : [R, M, Y]; trade : [R, O, M, Y]; activity : [R, P, Y].
    """

    chain: Any
    regions: tuple[str, ...]
    years: tuple[int, ...]
    flows: dict[str, np.ndarray]
    trade: np.ndarray
    activity: np.ndarray

    @property
    def traded(self) -> np.ndarray:
        return np.array([m not in self.chain.external_materials for m in self.chain.materials])

    @property
    def world_scale(self) -> np.ndarray:
        """[M, Y]: the largest production or consumption of each material in any region."""
        f = self.flows
        return np.maximum(np.abs(f["production_t"]), np.abs(f["consumption_t"])).max(axis=0)


@dataclass(frozen=True)
class Violation:
    check: str
    where: str          # "region US, material x, year 2030"
    lhs: float
    rhs: float
    rel: float
    detail: str = ""

    def format(self) -> str:
        more = f" ({self.detail})" if self.detail else ""
        return (f"{self.check}: {self.where}: {self.lhs:.6g} vs {self.rhs:.6g} t/yr, off by "
                f"{abs(self.lhs - self.rhs):.3g} t/yr (relative {self.rel:.3g}){more}")


# ---------------------------------------------------------------------------- tables

def _index(values: Any, labels: tuple[Any, ...]) -> np.ndarray:
    pos = {v: i for i, v in enumerate(labels)}
    return np.array([pos[v] for v in values], dtype=int)


def _labels(*frames: Any, column: str) -> tuple[Any, ...]:
    seen: set[Any] = set()
    for df in frames:
        seen.update(df[column].tolist())
    return tuple(sorted(seen))


def stored_flows(chain: Any, flows: Any, trade: Any, activity: Any,
                 regions: tuple[str, ...] | None = None,
                 years: tuple[int, ...] | None = None) -> StoredFlows:
    """Dense arrays from the ``flows``, ``trade`` and ``activity`` tables (pandas)."""
    regions = regions or _labels(flows, trade, activity, column="region")
    years = years or _labels(flows, trade, activity, column="year")
    R, M, P, Y = len(regions), len(chain.materials), len(chain.processes), len(years)
    r = _index(flows["region"], regions)
    m = _index(flows["material"], chain.materials)
    y = _index(flows["year"], years)
    dense = {}
    for col in FLOW_COLUMNS:
        a = np.zeros((R, M, Y))
        np.add.at(a, (r, m, y), flows[col].to_numpy(dtype=float))
        dense[col] = a
    t = np.zeros((R, R, M, Y))
    np.add.at(t, (_index(trade["region"], regions), _index(trade["origin"], regions),
                  _index(trade["material"], chain.materials), _index(trade["year"], years)),
              trade["imports_t"].to_numpy(dtype=float))
    act = np.zeros((R, P, Y))
    np.add.at(act, (_index(activity["region"], regions),
                    _index(activity["process"], chain.processes),
                    _index(activity["year"], years)), activity["activity_t"].to_numpy(dtype=float))
    return StoredFlows(chain=chain, regions=tuple(regions), years=tuple(years), flows=dense,
                       trade=t, activity=act)


def from_results(results: Any) -> StoredFlows:
    """The stored tables of a :class:`~rareflow.results.results.Results`."""
    return stored_flows(results.chain, results.table("flows"), results.table("trade"),
                        results.table("activity"), tuple(results.regions),
                        tuple(results.years))


# ---------------------------------------------------------------------------- helpers

def _compare(s: StoredFlows, check: str, lhs: np.ndarray, rhs: np.ndarray,
             name: Callable[[tuple[int, ...]], str], scale: np.ndarray | None = None,
             rtol: float = RTOL, detail: Callable[[tuple[int, ...]], str] | None = None,
             ) -> list[Violation]:
    """The worst cell of ``lhs`` vs ``rhs`` if off by more than ``rtol`` of its scale
    (the larger side unless ``scale`` is given); non-finite cells always fail."""
    base = np.maximum(np.abs(lhs), np.abs(rhs)) if scale is None else scale
    with np.errstate(invalid="ignore"):
        rel = np.abs(lhs - rhs) / np.maximum(base, 1e-300)
    rel = np.where(np.isfinite(rel), np.where(np.abs(lhs - rhs) > 0, rel, 0.0), np.inf)
    if rel.size == 0 or rel.max() <= rtol:
        return []
    idx = np.unravel_index(int(np.argmax(rel)), rel.shape)
    n_bad = int((rel > rtol).sum())
    extra = detail(idx) if detail else ""
    extra = "; ".join(x for x in (extra, f"{n_bad} cell(s) off" if n_bad > 1 else "") if x)
    return [Violation(check, name(idx), float(lhs[idx]), float(rhs[idx]), float(rel[idx]),
                      extra)]


def _rmy(s: StoredFlows) -> Callable[[tuple[int, ...]], str]:
    def name(i: tuple[int, ...]) -> str:
        return (f"region {s.regions[i[0]]}, material {s.chain.materials[i[1]]}, "
                f"year {s.years[i[2]]}")
    return name


def _scale_rmy(s: StoredFlows, *arrays: np.ndarray) -> np.ndarray:
    """Per cell the largest magnitude among ``arrays``, floored by the world scale."""
    base = np.max(np.abs(np.stack(arrays)), axis=0)
    return np.maximum(base, FLOOR * s.world_scale[None])


# ---------------------------------------------------------------------------- checks

def _first_bad(a: np.ndarray) -> tuple[int, ...] | None:
    bad = ~np.isfinite(a) | (a < 0)
    return tuple(int(k) for k in np.unravel_index(int(np.argmax(bad)), a.shape)) \
        if bad.any() else None


def check_finite(s: StoredFlows) -> list[Violation]:
    """Every stored flow and activity finite and not negative."""
    out: list[Violation] = []
    for col, a in s.flows.items():
        i = None if col == "net_imports_t" else _first_bad(a)
        if i is not None:
            out.append(Violation(f"{col} negative or not finite", _rmy(s)(i), float(a[i]),
                                 0.0, float("inf")))
    i = _first_bad(s.trade)
    if i is not None:
        out.append(Violation("trade imports_t negative or not finite",
                             f"region {s.regions[i[0]]}, origin {s.regions[i[1]]}, material "
                             f"{s.chain.materials[i[2]]}, year {s.years[i[3]]}",
                             float(s.trade[i]), 0.0, float("inf")))
    i = _first_bad(s.activity)
    if i is not None:
        out.append(Violation("activity_t negative or not finite",
                             f"region {s.regions[i[0]]}, process {s.chain.processes[i[1]]}, "
                             f"year {s.years[i[2]]}", float(s.activity[i]), 0.0, float("inf")))
    return out


def check_recipes(s: StoredFlows) -> list[Violation]:
    """Each process's element balance, activity x (A.C + N) = activity x (B.C + L)."""
    c = s.chain
    e_in = c.inputs @ c.composition + c.from_nature            # [P, E]
    e_out = c.outputs @ c.composition + c.losses
    lhs = np.einsum("rpy,pe->rpey", s.activity, e_in)
    rhs = np.einsum("rpy,pe->rpey", s.activity, e_out)
    through = np.einsum("rpy,p->rpy", s.activity, np.maximum(e_in.sum(1), e_out.sum(1)))

    def name(i: tuple[int, ...]) -> str:
        return (f"region {s.regions[i[0]]}, process {c.processes[i[1]]}, "
                f"element {c.elements[i[2]]}, year {s.years[i[3]]}")
    return _compare(s, "process element balance (recipe x activity)", lhs, rhs, name,
                    scale=through[:, :, None, :])


def _processes_touching(s: StoredFlows, coef: np.ndarray, i: tuple[int, ...]) -> str:
    r, m, y = i
    procs = [p for k, p in enumerate(s.chain.processes) if coef[k, m] > 0]
    active = [p for p in procs if s.activity[r, s.chain.p(p), y] > 0]
    return "processes: " + (", ".join(active or procs) or "none")


def check_process_flows(s: StoredFlows) -> list[Violation]:
    """Stored production and process use = stored activity x recipe."""
    c = s.chain
    out: list[Violation] = []
    for col, coef in (("production_t", c.outputs), ("process_use_t", c.inputs)):
        expect = np.einsum("rpy,pm->rmy", s.activity, coef)
        out += _compare(s, f"{col} vs activity x recipe", s.flows[col], expect, _rmy(s),
                        scale=_scale_rmy(s, s.flows[col], expect),
                        detail=lambda i, coef=coef: _processes_touching(s, coef, i))
    return out


def check_region_elements(s: StoredFlows) -> list[Violation]:
    """Per region, element, year: elements in products - elements in inputs = activity x
    (taken from nature - lost)."""
    c = s.chain
    made = np.einsum("rmy,me->rey", s.flows["production_t"] - s.flows["process_use_t"],
                     c.composition)
    expect = np.einsum("rpy,pe->rey", s.activity, c.from_nature - c.losses)
    scale = np.einsum("rmy,me->rey", s.flows["production_t"] + s.flows["process_use_t"],
                      c.composition)

    def name(i: tuple[int, ...]) -> str:
        return (f"region {s.regions[i[0]]}, element {c.elements[i[1]]}, "
                f"year {s.years[i[2]]}")
    return _compare(s, "regional element balance of processes", made, expect, name,
                    scale=np.maximum(scale, np.abs(expect)))


def check_table_identities(s: StoredFlows) -> list[Violation]:
    """Consumption, net imports, and the flows table's trade against the trade table."""
    f = s.flows
    pairs = {
        "consumption_t = process_use_t + final_demand_t":
            (f["consumption_t"], f["process_use_t"] + f["final_demand_t"]),
        "net_imports_t = consumption_t - production_t":
            (f["net_imports_t"], f["consumption_t"] - f["production_t"]),
        "flows imports_t vs trade table": (f["imports_t"], s.trade.sum(axis=1)),
        "flows exports_t vs trade table": (f["exports_t"], s.trade.sum(axis=0)),
    }
    out: list[Violation] = []
    for check, (lhs, rhs) in pairs.items():
        scale = _scale_rmy(s, lhs, rhs, f["consumption_t"], f["production_t"])
        out += _compare(s, check, lhs, rhs, _rmy(s), scale=scale)
    return out


def check_regional_balance(s: StoredFlows) -> list[Violation]:
    """production + imports + unmet + unrecorded = consumption + exports + unsold (traded
    materials); nothing traded or residual for materials from outside the chain."""
    f = s.flows
    traded = s.traded[None, :, None]
    supply = f["production_t"] + f["imports_t"] + f["unmet_t"] + f["unrecorded_t"]
    use = f["consumption_t"] + f["exports_t"] + f["unsold_t"]
    out = _compare(s, "regional balance (production + imports + unmet + unrecorded vs "
                   "consumption + exports + unsold)", np.where(traded, supply, 0.0),
                   np.where(traded, use, 0.0), _rmy(s),
                   scale=_scale_rmy(s, supply, use))
    outside = f["imports_t"] + f["exports_t"] + f["unmet_t"] + f["unsold_t"] + f["unrecorded_t"]
    out += _compare(s, "trade or residual of a material from outside the chain",
                    np.where(traded, 0.0, outside), np.zeros_like(outside), _rmy(s),
                    scale=_scale_rmy(s, f["production_t"], f["consumption_t"]))
    return out


def check_residual_definitions(s: StoredFlows) -> list[Violation]:
    """Each residual as defined, from production, consumption and the trade table."""
    f = s.flows
    traded = s.traded[None, :, None]
    net = f["consumption_t"] - f["production_t"]
    deficit, surplus = np.maximum(net, 0.0), np.maximum(-net, 0.0)
    imports, exports = s.trade.sum(axis=1), s.trade.sum(axis=0)
    # what is left after trade is unsold: a net exporter's surplus nobody took, or imports
    # given as data beyond a region's deficit; a region that both imports and exports (trade
    # given as data) misses what it lacks as unmet + unrecorded
    gross = (imports > 0) & (exports > 0)
    left = f["production_t"] + imports - f["consumption_t"] - exports
    expect = {"unmet_t": np.maximum(deficit - imports, 0.0),
              "unsold_t": np.maximum(left, 0.0),
              "unrecorded_t": np.maximum(exports - surplus, 0.0)}
    scale = _scale_rmy(s, f["production_t"], f["consumption_t"], imports, exports)
    net_only = traded & ~gross
    out: list[Violation] = []
    for col, e in expect.items():
        where = traded if col == "unsold_t" else net_only
        out += _compare(s, f"{col} vs its definition", np.where(where, f[col], 0.0),
                        np.where(where, e, 0.0), _rmy(s), scale=scale)
    missing = f["unmet_t"] + f["unrecorded_t"]
    out += _compare(s, "unmet + unrecorded vs what is missing after bilateral trade",
                    np.where(traded & gross, missing, 0.0),
                    np.where(traded & gross, np.maximum(-left, 0.0), 0.0), _rmy(s), scale=scale)
    return out


def check_world(s: StoredFlows) -> list[Violation]:
    """World imports = world exports; and no unsold surplus beside an unmet deficit."""
    f, c = s.flows, s.chain
    scale = np.maximum(s.world_scale, 1e-300)

    def name(i: tuple[int, ...]) -> str:
        return f"world, material {c.materials[i[0]]}, year {s.years[i[1]]}"
    imp, exp = f["imports_t"].sum(axis=0), f["exports_t"].sum(axis=0)
    out = _compare(s, "world imports vs world exports", imp, exp, name,
                   scale=np.maximum(np.maximum(imp, exp), FLOOR * scale))
    unmet, unsold = f["unmet_t"].sum(axis=0), f["unsold_t"].sum(axis=0)
    out += _compare(s, "trade does not clear (world unmet beside world unsold)",
                    np.minimum(unmet, unsold), np.zeros_like(unmet), name,
                    scale=scale, rtol=CLEARING_RTOL,
                    detail=lambda i: f"unmet {unmet[i]:.6g}, unsold {unsold[i]:.6g} t/yr")
    return out


CHECKS: tuple[Callable[[StoredFlows], list[Violation]], ...] = (
    check_finite, check_recipes, check_process_flows, check_region_elements,
    check_table_identities, check_regional_balance, check_residual_definitions, check_world,
)


def balance_violations(s: StoredFlows) -> list[Violation]:
    """The worst violation of every check that fails (empty when all pass)."""
    return [v for check in CHECKS for v in check(s)]


def check_stored_balance(s: StoredFlows) -> None:
    """Raise :class:`MassBalanceError` listing every failed check."""
    bad = balance_violations(s)
    if bad:
        lines = "\n  ".join(v.format() for v in bad)
        raise MassBalanceError(f"mass is not conserved in the stored tables "
                               f"({len(bad)} check(s) failed):\n  {lines}")


# ---------------------------------------------------------------------------- residual share

def residual_share(s: StoredFlows) -> Any:
    """Residual flows (unmet + unsold + unrecorded) of each stage's materials in element
    terms over the larger of the region-stage's production and consumption of the element.

    A DataFrame with columns year, region, stage, element, residual_t, production_t,
    consumption_t, residual_share; only rows whose denominator is above 0.
    """
    import pandas as pd

    c, f = s.chain, s.flows
    C = c.composition
    resid = f["unmet_t"] + f["unsold_t"] + f["unrecorded_t"]
    rows = []
    for g in c.stages:
        mask = np.array([ms == g for ms in c.material_stage], float)
        el = {k: np.einsum("rmy,m,me->rey", a, mask, C) for k, a in
              (("residual_t", resid), ("production_t", f["production_t"]),
               ("consumption_t", f["consumption_t"]))}
        r, e, y = np.nonzero(np.maximum(el["production_t"], el["consumption_t"]) > 0)
        df = pd.DataFrame({"year": np.array(s.years)[y], "region": np.array(s.regions)[r],
                           "stage": g, "element": np.array(c.elements)[e],
                           **{k: v[r, e, y] for k, v in el.items()}})
        rows.append(df)
    out = pd.concat(rows, ignore_index=True)
    out["residual_share"] = out["residual_t"] / out[["production_t", "consumption_t"]].max(axis=1)
    return out


def residual_share_tree(df: Any, digits: int = 6) -> dict[str, Any]:
    """``{region: {stage: {element: {year: share}}}}`` from :func:`residual_share`."""
    tree: dict[str, Any] = {}
    for row in df.itertuples(index=False):
        leaf = tree.setdefault(row.region, {}).setdefault(row.stage, {})
        leaf.setdefault(row.element, {})[str(row.year)] = round(float(row.residual_share), digits)
    return tree
