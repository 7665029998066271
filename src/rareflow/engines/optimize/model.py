"""Build the capacity-expansion LP with linopy: one ``define_*`` function per family.

Notation (all sums over the named index only)::

    s scenario, r region, p process, o build option, m material, g origin, y year
    B[r,p,o,y]   build: capacity added, online from year y               t/yr  (shared)
    K[r,p,o,y]   new capacity built so far                               t/yr  (shared)
    X[s,r,p,y]   activity                                                t/yr
    E[s,g,m,y]   purchase from origin g's external supply                t/yr
    I[s,r,g,m,y] import into region r from origin pool g                 t/yr
    Q[s,r,m,y]   export of region r into its own origin pool             t/yr
    S[s,r,m,y]   sale of a (co-)product on a local market                t/yr
    D[s,r,m,y]   storage / disposal                                      t/yr
    F[s,r,m,y]   local feed (scrap) taken                                t/yr
    U[s,r,m,y]   unmet demand                                            t/yr
    Z[s,r,m,y]   coverage shortfall (relaxed model only)                 t/yr
    Y[r,p,o,y]   build made (binary; options with a minimum size)        0/1   (shared)
    N[r,p,o,y]   standard units built (integer; options with a step)     count (shared)

Build decisions (B, K) are first-stage and shared by all disruption scenarios; the
operation (X, E, I, Q, S, D, F, U) is second-stage, one copy per scenario.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from rareflow.dims import MATERIAL, ORIGIN, PROCESS, REGION, SCENARIO, YEAR
from rareflow.engines.optimize.inputs import OPTION, PlanInputs

# Constraint families, in the order they are defined (also the keys of PlanResult.duals).
FAMILIES = (
    "capacity_accounting",
    "build_rate",
    "max_capacity",
    "capacity",
    "material_balance",
    "import_availability",
    "origin_pool",
    "no_reexport",
    "sale_limit",
    "sales_from_production",
    "workforce",
    "coverage",
    "min_build",
    "build_on",
    "build_step",
)


@dataclass(frozen=True)
class Weights:
    """Derived coefficients: discount factor df [year], scenario weight w = p*df
    [scenario, year], capital recovery factor crf [region, process, option] (1/yr)."""

    df: xr.DataArray
    w: xr.DataArray
    crf: xr.DataArray


def weights(p: PlanInputs) -> Weights:
    """``df[y] = (1+i)^-(y-base)``; ``crf = i / (1-(1+i)^-L)`` (``1/L`` when i = 0)."""
    years = p.demand[YEAR]
    i = p.discount_rate
    df = (1.0 + i) ** -(years - p.base_year).astype(float)
    w = p.probability * df
    L = p.lifetime.fillna(25.0)
    crf = i / (1.0 - (1.0 + i) ** (-L)) if i > 0 else 1.0 / L
    return Weights(df=df, w=w, crf=crf)


def _live(p: PlanInputs) -> xr.DataArray:
    """[scenario(, year)] True where the operating copy carries probability (a compressed
    problem has probability on [scenario, year] and empty copies)."""
    return p.probability > 0


def _mask_act(p: PlanInputs) -> xr.DataArray:
    can = (p.existing_capacity.max(YEAR) > 0) | p.capex.notnull().any(OPTION)
    if p.capacity_of is not None:  # a grade variant runs wherever its base line can
        can = xr.DataArray(can.sel({PROCESS: p.capacity_of.values}).values,
                           coords=can.coords, dims=can.dims)
    m = can.expand_dims({SCENARIO: p.probability[SCENARIO]}).broadcast_like(
        p.existing_capacity
    ) & _live(p)
    return m.transpose(SCENARIO, REGION, PROCESS, YEAR)


def _sry(p: PlanInputs, mask_rm: xr.DataArray) -> xr.DataArray:
    """Broadcast a [region, material(, year)] mask to [scenario, region, material, year]."""
    full = xr.DataArray(
        True,
        coords={SCENARIO: p.probability[SCENARIO], REGION: p.demand[REGION],
                MATERIAL: p.demand[MATERIAL], YEAR: p.demand[YEAR]},
        dims=[SCENARIO, REGION, MATERIAL, YEAR],
    )
    return (full & mask_rm & _live(p)).transpose(SCENARIO, REGION, MATERIAL, YEAR)


def lumpy_masks(p: PlanInputs) -> tuple[xr.DataArray, xr.DataArray]:
    """[region, process, option, year] where a build has a minimum size, where it comes in
    steps (both False when the inputs have none: the problem stays an LP)."""
    offered = p.capex.notnull() & xr.DataArray(True, coords={YEAR: p.demand[YEAR]}, dims=[YEAR])
    order = (REGION, PROCESS, OPTION, YEAR)
    mins = p.min_build if p.min_build is not None else xr.zeros_like(p.capex)
    steps = p.build_step if p.build_step is not None else xr.zeros_like(p.capex)
    return (offered & (mins > 0)).transpose(*order), (offered & (steps > 0)).transpose(*order)


def add_variables(m: linopy.Model, p: PlanInputs, *, relax_coverage: bool,
                  fixed_lumps: dict[str, xr.DataArray] | None = None) -> None:
    """Create every variable (masked where it cannot be non-zero).

    Options with a minimum size or a step get a binary ``build_on`` or an integer
    ``build_units`` per year; with ``fixed_lumps`` (their values from a solved MIP) these
    are continuous and fixed instead, so the LP that remains gives duals."""
    offered = p.capex.notnull()
    cap_coords = [p.capex[REGION].to_index(), p.capex[PROCESS].to_index(),
                  p.capex[OPTION].to_index(), p.demand[YEAR].to_index()]
    cap_mask = (offered & xr.DataArray(True, coords={YEAR: p.demand[YEAR]}, dims=[YEAR]))
    cap_mask = cap_mask.transpose(REGION, PROCESS, OPTION, YEAR)
    m.add_variables(lower=0, coords=cap_coords, name="build", mask=cap_mask)
    m.add_variables(lower=0, coords=cap_coords, name="new_capacity", mask=cap_mask)
    on_mask, step_mask = lumpy_masks(p)
    for name, mask in (("build_on", on_mask), ("build_units", step_mask)):
        if not bool(mask.any()):
            continue
        if fixed_lumps is not None:
            v = fixed_lumps[name].round().transpose(*mask.dims)
            m.add_variables(lower=v, upper=v, coords=cap_coords, name=name, mask=mask)
        elif name == "build_on":
            m.add_variables(coords=cap_coords, name=name, mask=mask, binary=True)
        else:
            m.add_variables(lower=0, coords=cap_coords, name=name, mask=mask, integer=True)

    act_mask = _mask_act(p)
    m.add_variables(lower=0, coords=[act_mask[d].to_index() for d in act_mask.dims],
                    name="activity", mask=act_mask)

    ext_mask = (p.import_price.notnull().expand_dims(
        {SCENARIO: p.probability[SCENARIO]}) & _live(p)).transpose(SCENARIO, ORIGIN, MATERIAL, YEAR)
    m.add_variables(lower=0, coords=[ext_mask[d].to_index() for d in ext_mask.dims],
                    name="external_supply", mask=ext_mask)

    # an origin pool offers m if it has an external price for m or a member region
    member = _membership(p)  # [region, origin]
    pool_has = p.import_price.notnull().any(YEAR) | (member.any(REGION) & p.tradeable)
    imp_mask = ((pool_has & p.tradeable).broadcast_like(p.allied).expand_dims(
        {SCENARIO: p.probability[SCENARIO], YEAR: p.demand[YEAR]}
    ) & _live(p)).transpose(SCENARIO, REGION, ORIGIN, MATERIAL, YEAR)
    m.add_variables(lower=0, coords=[imp_mask[d].to_index() for d in imp_mask.dims],
                    name="imports", mask=imp_mask)

    has_pool = xr.DataArray(p.region_origin.values != "", coords=p.region_origin.coords,
                            dims=[REGION])
    exp_mask = _sry(p, has_pool & p.tradeable)
    srmy = [exp_mask[d].to_index() for d in exp_mask.dims]
    m.add_variables(lower=0, coords=srmy, name="exports", mask=exp_mask)
    m.add_variables(lower=0, coords=srmy, name="sales", mask=_sry(p, p.sale_price.notnull()))
    m.add_variables(lower=0, coords=srmy, name="disposal", mask=_sry(p, p.disposal_cost.notnull()))
    feed_up = p.feed_availability.expand_dims({SCENARIO: p.probability[SCENARIO]}).transpose(
        SCENARIO, REGION, MATERIAL, YEAR)
    m.add_variables(lower=0, upper=feed_up, coords=srmy, name="feed",
                    mask=_sry(p, p.feed_availability > 0))
    m.add_variables(lower=0, coords=srmy, name="unmet", mask=_sry(p, p.demand > 0))
    if relax_coverage:
        m.add_variables(lower=0, coords=srmy, name="coverage_shortfall",
                        mask=_sry(p, p.coverage_requirement > 0))


def _membership(p: PlanInputs) -> xr.DataArray:
    """[region, origin] True where the region's exports join that origin's pool."""
    ro = p.region_origin
    origins = p.allied[ORIGIN]
    return (ro == origins).transpose(REGION, ORIGIN)


_FILLED: weakref.WeakKeyDictionary[linopy.Model, dict[str, linopy.LinearExpression]] = (
    weakref.WeakKeyDictionary()
)


def _v(m: linopy.Model, name: str) -> linopy.LinearExpression:
    """Variable as an expression whose masked (absent) slots contribute 0 (cached)."""
    cache = _FILLED.setdefault(m, {})
    if name not in cache:
        cache[name] = m.variables[name].fillna(0)
    return cache[name]


def _production(m: linopy.Model, p: PlanInputs) -> linopy.LinearExpression:
    """Σ_p out[p,m]·X[s,r,p,y]  [scenario, region, year, material]"""
    return (_v(m, "activity") * p.output_coef).sum(PROCESS)


def define_capacity_accounting(m: linopy.Model, p: PlanInputs, w: Weights) -> None:
    """K[r,p,o,y] − K[r,p,o,y−1] − B[r,p,o,y] = 0   (K[·,y0−1] = 0).

    New capacity is never retired within the horizon (plants outlive it)."""
    K, B = m.variables["new_capacity"], _v(m, "build")
    lhs = K.fillna(0) - K.shift({YEAR: 1}).fillna(0) - B
    m.add_constraints(lhs == 0, name="capacity_accounting", mask=p.capex.notnull())


def define_build_rate(m: linopy.Model, p: PlanInputs, w: Weights) -> None:
    """B[r,p,o,y] ≤ rate[r,p,o(,y)] · 1[y ≥ earliest[r,p,o]]   (build-rate / phase limit).

    Its dual (≤ 0) is the value, in discounted USD, of one more t/yr of build allowance."""
    B = _v(m, "build")
    years = p.demand[YEAR]
    allowed = years >= p.earliest_year
    rate = p.max_build_rate
    if YEAR not in rate.dims:
        rate = rate.broadcast_like(allowed)
    rhs = xr.where(allowed, rate, 0.0).transpose(REGION, PROCESS, OPTION, YEAR)
    mask = p.capex.notnull() & np.isfinite(rhs)
    m.add_constraints(B <= rhs.where(mask, 0.0), name="build_rate", mask=mask)


def define_max_capacity(m: linopy.Model, p: PlanInputs, w: Weights) -> None:
    """K[r,p,o,y] ≤ max_capacity[r,p,o]   (site / phase size)."""
    K = _v(m, "new_capacity")
    cap = p.max_capacity.broadcast_like(p.demand[YEAR]).transpose(REGION, PROCESS, OPTION, YEAR)
    mask = p.capex.notnull() & np.isfinite(cap)
    m.add_constraints(K <= cap.where(mask, 0.0), name="max_capacity", mask=mask)


def define_capacity(m: linopy.Model, p: PlanInputs, w: Weights) -> None:
    """Σ_{q: cap(q)=p} X[s,r,q,y] − Σ_o K[r,p,o,y] ≤ existing[r,p,y]   (cap(q) = q unless
    ``capacity_of`` puts grade variants on their base line's capacity)."""
    X, K = _v(m, "activity"), _v(m, "new_capacity")
    mask = _mask_act(p)
    if p.capacity_of is not None:
        grp = p.capacity_of.rename("_capacity_of")
        X = X.groupby(grp).sum().rename({"_capacity_of": PROCESS}).reindex(
            {PROCESS: p.capacity_of[PROCESS]}).fillna(0)
        mask = mask & (p.capacity_of == p.capacity_of[PROCESS])
    lhs = X - K.sum(OPTION)
    m.add_constraints(lhs <= p.existing_capacity, name="capacity", mask=mask)


def define_material_balance(m: linopy.Model, p: PlanInputs, w: Weights) -> None:
    """Σ_p (out−in)[p,m]·X + Σ_g I − Q − S − D + F + U = demand[r,m,y]   [s,r,m,y].

    An equality: co-products (La, Ce from separation) must be sold, exported, stored or
    disposed of, at the price or cost given; a co-product with no outlet caps the process."""
    net = p.output_coef - p.input_coef
    lhs = (
        (_v(m, "activity") * net).sum(PROCESS)
        + _v(m, "imports").sum(ORIGIN)
        - _v(m, "exports")
        - _v(m, "sales")
        - _v(m, "disposal")
        + _v(m, "feed")
        + _v(m, "unmet")
    )
    # a row wherever a term can exist, in every year (so no variable escapes its balance)
    can_run = _mask_act(p).any(SCENARIO).any(YEAR)  # [region, process]
    member = _membership(p)
    pool_has = (p.import_price.notnull().any(YEAR) | member.any(REGION)) & p.tradeable
    has_pool = xr.DataArray(p.region_origin.values != "", coords=p.region_origin.coords,
                            dims=[REGION])
    touched = (
        ((net != 0) & can_run).any(PROCESS)
        | (p.demand > 0).any(YEAR)
        | (p.feed_availability > 0).any(YEAR)
        | p.sale_price.notnull().any(YEAR)
        | p.disposal_cost.notnull()
        | pool_has.any(ORIGIN)
        | (has_pool & p.tradeable)
    )
    mask = _sry(p, touched)
    m.add_constraints(lhs == p.demand, name="material_balance", mask=mask)


def define_import_availability(m: linopy.Model, p: PlanInputs, w: Weights) -> None:
    """E[s,g,m,y] ≤ availability[s,g,m,y]   (disruption scenarios scale availability)."""
    E = _v(m, "external_supply")
    av = p.import_availability
    mask = (p.import_price.notnull() & np.isfinite(av) & _live(p)).transpose(*av.dims)
    m.add_constraints(E <= av.where(mask, 0.0), name="import_availability", mask=mask)


def define_origin_pool(m: linopy.Model, p: PlanInputs, w: Weights) -> None:
    """Σ_r I[s,r,g,m,y] − E[s,g,m,y] − Σ_{r: origin(r)=g} Q[s,r,m,y] ≤ 0   [s,g,m,y]."""
    member = _membership(p).astype(float)
    lhs = (
        _v(m, "imports").sum(REGION)
        - _v(m, "external_supply")
        - (_v(m, "exports") * member).sum(REGION)
    )
    pool_has = (p.import_price.notnull().any(YEAR) | (_membership(p).any(REGION))) & p.tradeable
    mask = pool_has.expand_dims({SCENARIO: p.probability[SCENARIO], YEAR: p.demand[YEAR]})
    m.add_constraints(lhs <= 0, name="origin_pool",
                      mask=(mask & _live(p)).transpose(SCENARIO, ORIGIN, MATERIAL, YEAR))


def define_no_reexport(m: linopy.Model, p: PlanInputs, w: Weights) -> None:
    """Q[s,r,m,y] − Σ_p out[p,m]·X[s,r,p,y] ≤ 0: a region exports only what it makes,
    so imports cannot be laundered into an allied pool."""
    has_pool = xr.DataArray(p.region_origin.values != "", coords=p.region_origin.coords,
                            dims=[REGION])
    mask = _sry(p, has_pool & p.tradeable)
    m.add_constraints(_v(m, "exports") - _production(m, p) <= 0, name="no_reexport", mask=mask)


def define_sale_limit(m: linopy.Model, p: PlanInputs, w: Weights) -> None:
    """S[s,r,m,y] ≤ sale_limit[r,m,y]   (a co-product market takes only so much)."""
    S = _v(m, "sales")
    lim = p.sale_limit
    mask = _sry(p, p.sale_price.notnull() & np.isfinite(lim))
    m.add_constraints(S <= lim.where(np.isfinite(lim), 0.0), name="sale_limit", mask=mask)


def define_sales_from_production(m: linopy.Model, p: PlanInputs, w: Weights) -> None:
    """S[s,r,m,y] − Σ_p out[p,m]·X[s,r,p,y] ≤ 0: a co-product market takes what the region
    makes, so an import cannot be resold there (where the sale price equals the import
    price that cycle would be free, and would fill the reported flows)."""
    mask = _sry(p, p.sale_price.notnull())
    m.add_constraints(_v(m, "sales") - _production(m, p) <= 0, name="sales_from_production",
                      mask=mask)


def define_workforce(m: linopy.Model, p: PlanInputs, w: Weights) -> None:
    """Σ_{p,o} jobs[r,p]·K[r,p,o,y] ≤ Σ_{y'≤y} additions[r,y']   [r,y] (only where limited).

    New capacity needs trained people; existing plants are staffed. Dual ≤ 0: discounted
    USD per job of extra pipeline by that year."""
    if p.jobs_per_capacity is None or p.workforce_additions is None:
        return
    limit = p.workforce_additions.cumsum(YEAR)
    mask = np.isfinite(limit) & (p.jobs_per_capacity > 0).any(PROCESS)
    if not bool(mask.any()):
        return
    jobs = (_v(m, "new_capacity").sum(OPTION) * p.jobs_per_capacity).sum(PROCESS)
    m.add_constraints(jobs <= limit.where(mask, 0.0), name="workforce",
                      mask=mask.transpose(REGION, YEAR))


def define_coverage(m: linopy.Model, p: PlanInputs, w: Weights) -> None:
    """Σ_p out[p,m]·X − Q + Σ_{g allied to r} I [+ Z] ≥ requirement[r,m,y]   [s,r,m,y].

    Secure supply = domestic production not exported + imports from allied origins. It
    must hold in every scenario. Dual ≥ 0: discounted, probability-weighted USD per t."""
    allied = p.allied.astype(float)
    lhs = _production(m, p) - _v(m, "exports") + (_v(m, "imports") * allied).sum(ORIGIN)
    if "coverage_shortfall" in m.variables:
        lhs = lhs + _v(m, "coverage_shortfall")
    req = p.coverage_requirement
    mask = _sry(p, req > 0)
    m.add_constraints(lhs >= req.fillna(0.0), name="coverage", mask=mask)


def define_lumps(m: linopy.Model, p: PlanInputs, w: Weights) -> None:
    """Lumpy builds (only where the inputs ask for them)::

        B[r,p,o,y] − min[r,p,o]·Y[r,p,o,y] ≥ 0     (min_build: a build is 0 or ≥ min)
        B[r,p,o,y] − M[r,p,o]·Y[r,p,o,y]   ≤ 0     (build_on; M = largest build a year)
        B[r,p,o,y] − step[r,p,o]·N[r,p,o,y] = 0     (build_step: whole standard units)
    """
    from rareflow.engines.optimize.inputs import big_m

    on_mask, step_mask = lumpy_masks(p)
    B = _v(m, "build")
    if bool(on_mask.any()):
        Y = _v(m, "build_on")
        mins = p.min_build.where(on_mask.any(YEAR), 0.0)
        big = big_m(p.max_build_rate, p.max_capacity)
        if YEAR in p.max_build_rate.dims:  # a year's own limit where it has one
            big = np.minimum(p.max_build_rate, p.max_capacity)
        big = xr.where(on_mask, big, 0.0).transpose(*on_mask.dims)
        m.add_constraints(B - mins * Y >= 0, name="min_build", mask=on_mask)
        m.add_constraints(B - big * Y <= 0, name="build_on", mask=on_mask)
    if bool(step_mask.any()):
        N = _v(m, "build_units")
        m.add_constraints(B - p.build_step * N == 0, name="build_step", mask=step_mask)


def define_objective(m: linopy.Model, p: PlanInputs, w: Weights, *,
                     shortfall_penalty: float = 0.0) -> None:
    """min Σ_y df[y]·Σ_{r,p,o} (crf·capex + fixed_opex)·K
         + Σ_{s,y} π_s·df[y]·( Σ var_opex·X + Σ price·E + Σ trade_cost·I − Σ sale_price·S
                              + Σ disposal_cost·D + Σ feed_cost·F + Σ penalty·U [+ M·Z] ).

    Capex is annualised over the option's lifetime (capital recovery factor), so a plant
    built late in the horizon pays only for the years it runs inside the horizon."""
    annual = (w.crf * p.capex + p.fixed_opex).fillna(0.0)
    terms = [(_v(m, "new_capacity") * (annual * w.df)).sum()]
    ww = w.w
    terms.append((_v(m, "activity") * (p.var_opex * ww)).sum())
    terms.append((_v(m, "external_supply") * (p.import_price.fillna(0.0) * ww)).sum())
    if bool((p.trade_cost != 0).any()):
        terms.append((_v(m, "imports") * (p.trade_cost * ww)).sum())
    terms.append((_v(m, "sales") * (-p.sale_price.fillna(0.0) * ww)).sum())
    terms.append((_v(m, "disposal") * (p.disposal_cost.fillna(0.0) * ww)).sum())
    if bool((p.feed_cost != 0).any()):
        terms.append((_v(m, "feed") * (p.feed_cost * ww)).sum())
    terms.append((_v(m, "unmet") * (p.unmet_penalty * ww)).sum())
    if "coverage_shortfall" in m.variables:
        terms.append((_v(m, "coverage_shortfall") * (shortfall_penalty * ww)).sum())
    m.add_objective(_sum(terms))


def _sum(terms: list[linopy.LinearExpression]) -> linopy.LinearExpression:
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


def build_model(p: PlanInputs, *, relax_coverage: bool = False,
                shortfall_penalty: float | None = None,
                fixed_lumps: dict[str, xr.DataArray] | None = None) -> linopy.Model:
    """Build the LP from *prepared* inputs (see :func:`~.inputs.prepare`).

    ``relax_coverage`` adds a shortfall variable Z to every coverage row, priced at
    ``shortfall_penalty`` USD/t (default: 100 × the largest cost coefficient), to find by
    how much an infeasible target is missed. ``fixed_lumps`` fixes the integer variables of
    lumpy builds at given values (see :func:`add_variables`).
    """
    m = linopy.Model(force_dim_names=True)
    w = weights(p)
    add_variables(m, p, relax_coverage=relax_coverage, fixed_lumps=fixed_lumps)
    for define in (
        define_capacity_accounting,
        define_build_rate,
        define_max_capacity,
        define_capacity,
        define_material_balance,
        define_import_availability,
        define_origin_pool,
        define_no_reexport,
        define_sale_limit,
        define_sales_from_production,
        define_workforce,
        define_coverage,
        define_lumps,
    ):
        define(m, p, w)
    if relax_coverage and shortfall_penalty is None:
        shortfall_penalty = 100.0 * _cost_scale(p, w)
    define_objective(m, p, w, shortfall_penalty=shortfall_penalty or 0.0)
    return m


def _cost_scale(p: PlanInputs, w: Weights) -> float:
    vals = [
        float(np.nanmax(np.abs(p.unmet_penalty.values))) if p.unmet_penalty.size else 0.0,
        float(np.nanmax(np.abs(p.import_price.values), initial=0.0)),
        float(np.nanmax(np.abs((w.crf * p.capex).values), initial=0.0)),
        float(np.nanmax(np.abs(p.var_opex.values), initial=0.0)),
        1.0,
    ]
    return max(vals)


def coords_of(p: PlanInputs) -> dict[str, pd.Index]:
    return {
        SCENARIO: p.probability[SCENARIO].to_index(),
        REGION: p.demand[REGION].to_index(),
        PROCESS: p.capex[PROCESS].to_index(),
        OPTION: p.capex[OPTION].to_index(),
        MATERIAL: p.demand[MATERIAL].to_index(),
        ORIGIN: p.allied[ORIGIN].to_index(),
        YEAR: p.demand[YEAR].to_index(),
    }
