"""Solve the plan LP with HiGHS and extract the solution into new arrays.

Three steps, as in PyPSA: :func:`~.model.build_model` → :func:`solve_model` →
:func:`extract`. :func:`optimize_plan` runs all three and turns an infeasible target into
:class:`rareflow.errors.InfeasibleError` naming the coverage row and its shortfall.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from rareflow.dims import MATERIAL, ORIGIN, PROCESS, REGION, SCENARIO, YEAR
from rareflow.engines.optimize.compress import compress_scenarios, expand
from rareflow.engines.optimize.inputs import OPTION, PlanInputs, prepare
from rareflow.engines.optimize.model import FAMILIES, Weights, build_model, weights
from rareflow.errors import InfeasibleError, RareflowError

DUAL_TOL = 1e-7

DEFAULT_SOLVER_OPTIONS: dict[str, Any] = {"threads": 2, "output_flag": False}


@dataclass(frozen=True)
class PlanResult:
    """Solution of one plan problem. Arrays are new (never views of the inputs).

    build : [region, process, option, year], t/yr of capacity added (online from that year)
    new_capacity : [region, process, option, year], t/yr built so far
    capacity : [region, process, year], t/yr, existing + new
    activity : [scenario, region, process, year], t/yr
    imports : [scenario, region, origin, material, year], t/yr
    external_supply : [scenario, origin, material, year], t/yr bought from outside suppliers
    exports, sales, disposal, feed, unmet : [scenario, region, material, year], t/yr
    secure_supply : [scenario, region, material, year], t/yr (left side of coverage)
    costs : Dataset of [year] arrays, USD (undiscounted, expected over scenarios) with
        ``*_discounted`` twins; components capex (annualised), fixed_opex, var_opex,
        imports, trade, sales_revenue (negative), disposal, feed, penalty
    overnight_capex : [year], USD spent on builds (not annualised, not discounted)
    duals : family name -> DataArray of raw duals (objective units: discounted, expected USD)
    coverage_marginal_cost : [region, material, year], USD per t of secure supply in that
        year's money, summed over scenarios (what one more tonne of target costs)
    coverage_marginal_cost_by_scenario : [scenario, region, material, year], USD/t,
        conditional on the scenario (dual / (probability × discount factor))
    binding : DataFrame, one row per constraint family: rows, binding rows, max |dual|
    mip : None for a linear plan; for one with lumpy builds (minimum sizes, steps), the
        branch-and-bound figures: ``objective`` (best plan found), ``dual_bound`` (no plan
        can cost less), ``gap`` (relative, HiGHS's mip_gap), ``nodes``. Duals are then
        those of the LP with every build decision fixed at the plan's (marginal costs given
        that plan).
    """

    status: str
    objective: float
    build: xr.DataArray
    new_capacity: xr.DataArray
    capacity: xr.DataArray
    activity: xr.DataArray
    imports: xr.DataArray
    external_supply: xr.DataArray
    exports: xr.DataArray
    sales: xr.DataArray
    disposal: xr.DataArray
    feed: xr.DataArray
    unmet: xr.DataArray
    secure_supply: xr.DataArray
    costs: xr.Dataset
    overnight_capex: xr.DataArray
    duals: dict[str, xr.DataArray]
    coverage_marginal_cost: xr.DataArray
    coverage_marginal_cost_by_scenario: xr.DataArray
    binding: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    mip: dict[str, float] | None = None

    def build_table(self, tol: float = 1e-6) -> pd.DataFrame:
        """Non-zero builds: region, process, option, year, build_t_per_yr, capacity_t_per_yr."""
        b = self.build.rename("build_t_per_yr").to_dataframe()
        k = self.new_capacity.rename("new_capacity_t_per_yr").to_dataframe()
        df = b.join(k).reset_index()
        return df[df["build_t_per_yr"] > tol].reset_index(drop=True)

    def total_cost(self, discounted: bool = True) -> float:
        keys = [k for k in self.costs.data_vars if k.endswith("_discounted") == discounted]
        return float(sum(self.costs[k].sum() for k in keys))


def solve_model(m: Any, solver_options: dict[str, Any] | None = None) -> tuple[str, str]:
    """Solve with HiGHS through highspy (linopy ``io_api='direct'``)."""
    opts = dict(DEFAULT_SOLVER_OPTIONS)
    opts.update(solver_options or {})
    try:
        return m.solve(solver_name="highs", io_api="direct", progress=False, **opts)
    except Exception as exc:  # never let a solver stack trace reach a user
        raise RareflowError(f"HiGHS failed: {type(exc).__name__}: {exc}") from None


DEFAULT_MIP_GAP = 1e-4


def is_mip(m: Any) -> bool:
    return any(n in m.variables for n in ("build_on", "build_units"))


def mip_info(m: Any) -> dict[str, float]:
    """Branch-and-bound figures of a solved MIP, read from HiGHS (linopy's solver_model)."""
    h = getattr(m, "solver_model", None)
    if h is None:  # pragma: no cover - io_api='direct' always keeps it
        return {"objective": float(m.objective.value), "dual_bound": float("nan"),
                "gap": float("nan"), "nodes": float("nan")}
    info = h.getInfo()
    return {"objective": float(info.objective_function_value),
            "dual_bound": float(info.mip_dual_bound), "gap": float(info.mip_gap),
            "nodes": float(info.mip_node_count)}


def solve_lumpy(p: PlanInputs, solver_options: dict[str, Any] | None = None
                ) -> tuple[Any, str, str, dict[str, float] | None]:
    """Solve the plan; with lumpy builds, as a MIP (HiGHS branch and bound, relative gap
    ``mip_rel_gap``, default 1e-4), then once more as an LP with every integer fixed at
    the MIP's values, for duals. Returns (model, status, condition, mip figures or None)."""
    m = build_model(p)
    if not is_mip(m):
        status, cond = solve_model(m, solver_options)
        return m, status, cond, None
    opts = {"mip_rel_gap": DEFAULT_MIP_GAP, **(solver_options or {})}
    status, cond = solve_model(m, opts)
    if status != "ok":
        return m, status, cond, None
    info = mip_info(m)
    fixed = {n: m.variables[n].solution.fillna(0.0) for n in ("build_on", "build_units")
             if n in m.variables}
    lp = build_model(p, fixed_lumps=fixed)
    status, cond = solve_model(lp, solver_options)
    return lp, status, cond, info


def _sol(m: Any, name: str) -> xr.DataArray:
    return m.variables[name].solution.fillna(0.0).copy(deep=True).rename(name)


def _dual(m: Any, name: str) -> xr.DataArray:
    return m.constraints[name].dual.copy(deep=True).rename(name)


def extract(m: Any, p: PlanInputs, w: Weights, status: str) -> PlanResult:
    """Read the solution and duals out of a solved model into new arrays."""
    build = _sol(m, "build").transpose(REGION, PROCESS, OPTION, YEAR)
    newcap = _sol(m, "new_capacity").transpose(REGION, PROCESS, OPTION, YEAR)
    capacity = (p.existing_capacity + newcap.sum(OPTION)).rename("capacity")
    act = _sol(m, "activity").transpose(SCENARIO, REGION, PROCESS, YEAR)
    imports = _sol(m, "imports").transpose(SCENARIO, REGION, ORIGIN, MATERIAL, YEAR)
    ext = _sol(m, "external_supply").transpose(SCENARIO, ORIGIN, MATERIAL, YEAR)
    srmy = (SCENARIO, REGION, MATERIAL, YEAR)
    exports = _sol(m, "exports").transpose(*srmy)
    sales = _sol(m, "sales").transpose(*srmy)
    disposal = _sol(m, "disposal").transpose(*srmy)
    feed = _sol(m, "feed").transpose(*srmy)
    unmet = _sol(m, "unmet").transpose(*srmy)
    production = (act * p.output_coef).sum(PROCESS)
    secure = (production - exports + (imports * p.allied).sum(ORIGIN)).transpose(*srmy)

    prob = p.probability
    annual = (w.crf * p.capex).fillna(0.0)
    comp = {
        "capex": (newcap * annual).sum((REGION, PROCESS, OPTION)),
        "fixed_opex": (newcap * p.fixed_opex.fillna(0.0)).sum((REGION, PROCESS, OPTION)),
        "var_opex": (act * p.var_opex * prob).sum((SCENARIO, REGION, PROCESS)),
        "imports": (ext * p.import_price.fillna(0.0) * prob).sum((SCENARIO, ORIGIN, MATERIAL)),
        "trade": (imports * p.trade_cost * prob).sum((SCENARIO, REGION, ORIGIN, MATERIAL)),
        "sales_revenue": -(sales * p.sale_price.fillna(0.0) * prob).sum(
            (SCENARIO, REGION, MATERIAL)),
        "disposal": (disposal * p.disposal_cost.fillna(0.0) * prob).sum(
            (SCENARIO, REGION, MATERIAL)),
        "feed": (feed * p.feed_cost * prob).sum((SCENARIO, REGION, MATERIAL)),
        "penalty": (unmet * p.unmet_penalty * prob).sum((SCENARIO, REGION, MATERIAL)),
    }
    costs = xr.Dataset({k: v for k, v in comp.items()})
    for k, v in comp.items():
        costs[f"{k}_discounted"] = v * w.df
    overnight = (build * p.capex.fillna(0.0)).sum((REGION, PROCESS, OPTION)).rename(
        "overnight_capex")

    duals: dict[str, xr.DataArray] = {}
    rows = []
    for fam in FAMILIES:
        if fam not in m.constraints:
            continue
        d = _dual(m, fam)
        duals[fam] = d
        labels = m.constraints[fam].labels
        active = labels.values >= 0
        dv = np.abs(np.nan_to_num(d.values))[active]
        rows.append({
            "family": fam,
            "rows": int(active.sum()),
            "binding": int((dv > DUAL_TOL).sum()),
            "max_abs_dual": float(dv.max()) if dv.size else 0.0,
        })
    binding = pd.DataFrame(rows, columns=["family", "rows", "binding", "max_abs_dual"])

    cov_dual = duals.get("coverage")
    if cov_dual is not None:
        cov_dual = cov_dual.fillna(0.0)
        mc = (cov_dual.sum(SCENARIO) / w.df).transpose(REGION, MATERIAL, YEAR)
        mc_s = (cov_dual / (prob * w.df).where(prob > 0)).fillna(0.0).transpose(*srmy)
        req = p.coverage_requirement
        mc = mc.where(req > 0)
        mc_s = mc_s.where(req > 0)
    else:  # pragma: no cover - coverage family always defined
        mc = xr.full_like(p.coverage_requirement, np.nan)
        mc_s = mc.expand_dims({SCENARIO: prob[SCENARIO]})

    return PlanResult(
        status=status,
        objective=float(m.objective.value),
        build=build, new_capacity=newcap, capacity=capacity, activity=act, imports=imports,
        external_supply=ext, exports=exports, sales=sales, disposal=disposal, feed=feed,
        unmet=unmet, secure_supply=secure.rename("secure_supply"), costs=costs,
        overnight_capex=overnight, duals=duals,
        coverage_marginal_cost=mc.rename("coverage_marginal_cost"),
        coverage_marginal_cost_by_scenario=mc_s.rename("coverage_marginal_cost"),
        binding=binding,
    )


def _expand_result(res: PlanResult, mapping: np.ndarray, full: PlanInputs,
                   comp: PlanInputs) -> PlanResult:
    """Per-scenario arrays of a compressed solve, back on the original scenarios."""
    sc = full.probability[SCENARIO]
    changes: dict[str, Any] = {}
    for name in ("activity", "imports", "external_supply", "exports", "sales", "disposal",
                 "feed", "unmet", "secure_supply", "coverage_marginal_cost_by_scenario"):
        changes[name] = expand(getattr(res, name), mapping, sc)
    changes["duals"] = {
        k: expand(v, mapping, sc, full.probability, comp.probability)
        for k, v in res.duals.items()
    }
    return replace(res, **changes)


def _rename_copies(short: list[Shortfall], mapping: np.ndarray,
                   full: PlanInputs) -> list[Shortfall]:
    names = [str(x) for x in full.probability[SCENARIO].values]
    years = [int(y) for y in full.demand[YEAR].values]
    out = []
    for sh in short:
        k = int(sh.scenario.removeprefix("copy"))
        yi = years.index(sh.year)
        members = [names[i] for i in range(len(names)) if mapping[i, yi] == k]
        out.append(replace(sh, scenario="/".join(members)))
    return out


@dataclass(frozen=True)
class Shortfall:
    """One coverage row that cannot be met: where, how much is required and missing."""

    scenario: str
    region: str
    material: str
    year: int
    required: float
    shortfall: float


def diagnose_infeasible(
    p: PlanInputs, solver_options: dict[str, Any] | None = None
) -> list[Shortfall]:
    """Solve the model with a priced shortfall on every coverage row; return the rows
    whose shortfall is positive (largest first). Empty list: coverage is not the cause."""
    m = build_model(p, relax_coverage=True)
    status, _cond = solve_model(m, solver_options)
    if status != "ok":
        return []
    z = m.variables["coverage_shortfall"].solution.fillna(0.0)
    req = p.coverage_requirement
    out = []
    idx = np.argwhere(z.values > 1e-6 * max(1.0, float(np.nanmax(req.values, initial=1.0))))
    for row in idx:
        lab = {d: z[d].values[i] for d, i in zip(z.dims, row, strict=True)}
        out.append(Shortfall(
            scenario=str(lab[SCENARIO]), region=str(lab[REGION]), material=str(lab[MATERIAL]),
            year=int(lab[YEAR]),
            required=float(req.sel({REGION: lab[REGION], MATERIAL: lab[MATERIAL],
                                    YEAR: lab[YEAR]})),
            shortfall=float(z.values[tuple(row)]),
        ))
    out.sort(key=lambda s: -s.shortfall)
    return out


def _infeasible_message(short: list[Shortfall]) -> str:
    if not short:
        return ("the plan problem has no optimal solution and relaxing the coverage "
                "constraints does not help: it may be unbounded (a product sells above its "
                "cost with no sale_limit and no build-rate or max_capacity limit) or "
                "inconsistent; check sale limits, capacities, recipes and bounds")
    head = short[0]
    lines = [
        f"coverage target cannot be met: constraint coverage[{head.region}, {head.material}, "
        f"{head.year}] in scenario '{head.scenario}' is short by {head.shortfall:,.1f} t/yr "
        f"(required {head.required:,.1f} t/yr, reachable {head.required - head.shortfall:,.1f}"
        " t/yr)"
    ]
    for s in short[1:6]:
        lines.append(
            f"  also coverage[{s.region}, {s.material}, {s.year}] scenario '{s.scenario}': "
            f"short {s.shortfall:,.1f} of {s.required:,.1f} t/yr"
        )
    if len(short) > 6:
        lines.append(f"  ... and {len(short) - 6} more rows")
    lines.append("lower the target, allow earlier or faster builds, or count more origins as "
                 "allied")
    return "\n".join(lines)


def optimize_plan(
    inputs: PlanInputs, solver_options: dict[str, Any] | None = None, *,
    compress: bool = True,
) -> PlanResult:
    """Build, solve and extract the least-cost plan for ``inputs``.

    ``compress`` merges, year by year, disruption scenarios whose data are identical
    (exact: see :mod:`.compress`); results are expanded back to the original scenarios.

    Raises
    ------
    RareflowInputError
        Bad or missing data (missing cost data names the facility and field).
    InfeasibleError
        A coverage target cannot be met in some scenario; the message names the first
        coverage row (region, material, year, scenario) and the shortfall in t/yr, and
        ``exc.shortfalls`` lists every such row.
    """
    t0 = time.perf_counter()
    p_full = prepare(inputs)
    mapping = None
    p = p_full
    if compress and p_full.probability.sizes[SCENARIO] > 1:
        p, mapping = compress_scenarios(p_full)
    t1 = time.perf_counter()
    t2 = time.perf_counter()
    m, status, cond, mip = solve_lumpy(p, solver_options)
    t3 = time.perf_counter()
    if status != "ok":
        if "infeasible" in str(cond).lower() or "unbounded" in str(cond).lower():
            short = diagnose_infeasible(p, solver_options)
            if mapping is not None:
                short = _rename_copies(short, mapping, p_full)
            exc = InfeasibleError(_infeasible_message(short))
            exc.shortfalls = short  # type: ignore[attr-defined]
            raise exc
        raise RareflowError(f"HiGHS stopped without an optimal plan: {status}, {cond}")
    res = extract(m, p, weights(p), str(cond))
    if mip is not None:
        res = replace(res, mip=mip)
    if mapping is not None:
        res = _expand_result(res, mapping, p_full, p)
    t4 = time.perf_counter()
    res.timings.update(prepare=t1 - t0, build=t2 - t1, solve=t3 - t2, extract=t4 - t3)
    return res
