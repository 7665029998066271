"""Input of the capacity-expansion optimisation: plain labelled arrays, no scenario objects.

Every array is an :class:`xarray.DataArray` on named dimensions from :mod:`rareflow.dims`
(plus ``option``: a build option, e.g. a named facility or a generic plant of a process
in a region). Units are canonical for the plan engine: tonnes, t/yr, USD, **USD per
tonne** for prices and variable costs (the scenario builder converts USD/kg), years.

Nothing here is mutated: :func:`prepare` returns a new, complete :class:`PlanInputs` with
defaults filled in and broadcast to full coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from rareflow.dims import MATERIAL, ORIGIN, PROCESS, REGION, SCENARIO, YEAR
from rareflow.errors import Problem, RareflowInputError

OPTION = "option"
BASE_SCENARIO = "base"


@dataclass(frozen=True)
class PlanInputs:
    """Data of one capacity-expansion problem.

    Required
    --------
    demand : DataArray [region, material, year], t/yr
        Final demand to be met in each region (unmet demand is allowed at ``unmet_penalty``).
    input_coef, output_coef : DataArray [process, material], t per t of activity
        One linear recipe per process; several outputs are co-products (e.g. separation
        yields NdPr oxide, La and Ce). Activity is measured in t/yr of whatever the
        process's capacity is stated in (usually its main output).
    existing_capacity : DataArray [region, process, year], t/yr of activity
        Capacity already built or committed (not a decision).
    capex : DataArray [region, process, option], USD per t/yr of capacity
        Overnight investment cost of a build option; NaN where the option is not offered.

    Optional (defaults in brackets)
    -------------------------------
    fixed_opex : [region, process, option], USD per (t/yr) per yr  [required where capex given]
    lifetime : [region, process, option], yr  [25] -- used to annualise capex
    earliest_year : [region, process, option], year  [first year]
    max_build_rate : [region, process, option], t/yr of capacity added per year  [inf]
        or [region, process, option, year] for a phase-by-phase ramp schedule.
    max_capacity : [region, process, option], t/yr in total  [inf]
    min_build : [region, process, option], t/yr  [0] -- a build is 0 or at least this
        (a plant's minimum economic size): a binary per option and year, so the problem
        becomes a mixed-integer one. Needs a finite max_build_rate or max_capacity (the
        big-M of ``build <= M * on``).
    build_step : [region, process, option], t/yr  [0] -- builds come in whole multiples of
        this size (lines of a standard size): an integer count per option and year
    var_opex : [region, process], USD per t of activity  [0]
    import_price : [origin, material, year], USD/t; NaN = not offered  [no imports]
    import_availability : [scenario, origin, material, year] or [origin, material, year], t/yr
        Supply that origin can sell to all modelled regions together, per disruption
        scenario  [inf]
    probability : [scenario], sums to 1  [equal]
    allied : [region, origin], bool -- imports from that origin count as secure supply
        for that region  [False]
    region_origin : [region], str -- the origin pool a region's exports join ('' = none)
        [none]
    trade_cost : [material], USD/t paid on every tonne imported  [0]
    sale_price : [region, material, year], USD/t; NaN = no market  [no market]
        A region sells only what it makes there (imports are not resold).
    sale_limit : [region, material, year], t/yr the market takes  [inf]
    disposal_cost : [region, material], USD/t to store or dispose; NaN = not allowed  [none]
    feed_availability : [region, material, year], t/yr of a local feed (scrap for
        recycling) that needs no process  [none]
    feed_cost : [region, material], USD/t  [0]
    coverage_requirement : [region, material, year], t/yr that must come from domestic
        production (not exported) plus imports from allied origins, in every scenario;
        NaN = no target. See :func:`rareflow.engines.optimize.upstream_requirements`.
    capacity_of : [process], str -- the process whose capacity this one runs on ('' = its
        own). Grade variants of a magnet or alloy line run on the base line's capacity:
        Σ activity of the base and its variants ≤ the base's capacity. A variant has no
        capacity, build option or existing plant of its own  [each its own]
    jobs_per_capacity : [region, process], jobs per t/yr of new capacity  [0]
    workforce_additions : [region, year], jobs that can be hired and trained in the year;
        the jobs of all new capacity up to a year ≤ the additions up to it; NaN or inf = no
        limit  [no limit]
    unmet_penalty : [material] or float, USD/t  [1e6]
    discount_rate : float, 1/yr  [0.07]
    base_year : int  [first year] -- costs are discounted to this year
    """

    demand: xr.DataArray
    input_coef: xr.DataArray
    output_coef: xr.DataArray
    existing_capacity: xr.DataArray
    capex: xr.DataArray
    fixed_opex: xr.DataArray | None = None
    lifetime: xr.DataArray | None = None
    earliest_year: xr.DataArray | None = None
    max_build_rate: xr.DataArray | None = None
    max_capacity: xr.DataArray | None = None
    min_build: xr.DataArray | None = None
    build_step: xr.DataArray | None = None
    var_opex: xr.DataArray | None = None
    import_price: xr.DataArray | None = None
    import_availability: xr.DataArray | None = None
    probability: xr.DataArray | None = None
    allied: xr.DataArray | None = None
    region_origin: xr.DataArray | None = None
    trade_cost: xr.DataArray | float | None = None
    sale_price: xr.DataArray | None = None
    sale_limit: xr.DataArray | None = None
    disposal_cost: xr.DataArray | None = None
    feed_availability: xr.DataArray | None = None
    feed_cost: xr.DataArray | None = None
    coverage_requirement: xr.DataArray | None = None
    unmet_penalty: xr.DataArray | float | None = None
    discount_rate: float = 0.07
    base_year: int | None = None
    tradeable: xr.DataArray | None = None
    """[material] bool: may be imported/exported  [materials with any import price]."""
    option_label: xr.DataArray | None = None
    """[region, process, option] str: a display name (e.g. facility) for error messages."""
    capacity_of: xr.DataArray | None = None
    """[process] str: the process whose capacity this one shares ('' = its own)."""
    jobs_per_capacity: xr.DataArray | None = None
    """[region, process] jobs per t/yr of new capacity (workforce limit)."""
    workforce_additions: xr.DataArray | None = None
    """[region, year] jobs that can be added each year (NaN/inf = no limit)."""

    def replace(self, **changes: Any) -> PlanInputs:
        """A copy with some fields changed (the original is left alone)."""
        return replace(self, **changes)


def _err(problems: list[Problem], message: str, path: str) -> None:
    problems.append(Problem(message, path=path))


def _check_dims(a: Any, name: str, allowed: tuple[set[str], ...], problems: list[Problem]) -> bool:
    if a is None:
        return False
    if not isinstance(a, xr.DataArray):
        _err(problems, f"must be an xarray.DataArray, got {type(a).__name__}", name)
        return False
    if not any(set(a.dims) == s for s in allowed):
        want = " or ".join("[" + ", ".join(sorted(s)) + "]" for s in allowed)
        _err(problems, f"has dims {list(a.dims)}, expected {want}", name)
        return False
    return True


def _full(value: float, coords: dict[str, pd.Index], dtype: Any = float) -> xr.DataArray:
    shape = tuple(len(c) for c in coords.values())
    return xr.DataArray(np.full(shape, value, dtype=dtype), coords=coords, dims=list(coords))


def _align(a: xr.DataArray, coords: dict[str, pd.Index], fill: Any) -> xr.DataArray:
    """Reindex ``a`` onto ``coords`` (its own dims only), filling missing labels."""
    idx = {d: coords[d] for d in a.dims}
    out = a.reindex(idx, fill_value=fill)
    return out.transpose(*[d for d in coords if d in out.dims])


def _label(inp: PlanInputs, r: Any, p: Any, o: Any) -> str:
    if inp.option_label is not None:
        try:
            lab = str(inp.option_label.sel({REGION: r, PROCESS: p, OPTION: o}).item())
            if lab:
                return lab
        except (KeyError, ValueError):
            pass
    return f"{r}/{p}/{o}"


def prepare(inp: PlanInputs) -> PlanInputs:
    """Validate ``inp`` and return a complete copy: every optional field filled, aligned.

    Raises
    ------
    RareflowInputError
        One problem per bad field, naming the field (and the facility for cost data),
        e.g. ``capex.vulcan: fixed_opex missing for a build option that has a capex``.
    """
    problems: list[Problem] = []
    ok = _check_dims(inp.demand, "demand", ({REGION, MATERIAL, YEAR},), problems)
    ok &= _check_dims(inp.input_coef, "input_coef", ({PROCESS, MATERIAL},), problems)
    ok &= _check_dims(inp.output_coef, "output_coef", ({PROCESS, MATERIAL},), problems)
    ok &= _check_dims(
        inp.existing_capacity, "existing_capacity", ({REGION, PROCESS, YEAR},), problems
    )
    ok &= _check_dims(inp.capex, "capex", ({REGION, PROCESS, OPTION},), problems)
    if not ok:
        raise RareflowInputError(problems)

    years = pd.Index(np.asarray(inp.demand[YEAR].values, dtype=int), name=YEAR)
    if len(years) == 0 or np.any(np.diff(years.values) != 1):
        raise RareflowInputError.single(
            "years must be consecutive (one period per calendar year)", path="demand.year"
        )
    regions = pd.Index(inp.demand[REGION].values, name=REGION)
    materials = pd.Index(
        sorted(
            set(inp.demand[MATERIAL].values)
            | set(inp.input_coef[MATERIAL].values)
            | set(inp.output_coef[MATERIAL].values),
            key=str,
        ),
        name=MATERIAL,
    )
    processes = pd.Index(
        sorted(set(inp.input_coef[PROCESS].values) | set(inp.output_coef[PROCESS].values), key=str),
        name=PROCESS,
    )
    options = pd.Index(inp.capex[OPTION].values, name=OPTION)

    if inp.import_availability is not None and SCENARIO in inp.import_availability.dims:
        scenarios = pd.Index(inp.import_availability[SCENARIO].values, name=SCENARIO)
    elif inp.probability is not None:
        scenarios = pd.Index(inp.probability[SCENARIO].values, name=SCENARIO)
    else:
        scenarios = pd.Index([BASE_SCENARIO], name=SCENARIO)

    origin_labels: set[Any] = set()
    for a in (inp.import_price, inp.import_availability, inp.allied):
        if a is not None and ORIGIN in a.dims:
            origin_labels |= set(a[ORIGIN].values)
    if inp.region_origin is not None:
        origin_labels |= {v for v in inp.region_origin.values.tolist() if v}
    origins = pd.Index(sorted(origin_labels, key=str), name=ORIGIN)

    C = {
        REGION: regions,
        PROCESS: processes,
        MATERIAL: materials,
        YEAR: years,
        OPTION: options,
        ORIGIN: origins,
        SCENARIO: scenarios,
    }

    def co(*dims: str) -> dict[str, pd.Index]:
        return {d: C[d] for d in dims}

    demand = _align(inp.demand.astype(float), co(REGION, MATERIAL, YEAR), 0.0)
    incoef = _align(inp.input_coef.astype(float), co(PROCESS, MATERIAL), 0.0)
    outcoef = _align(inp.output_coef.astype(float), co(PROCESS, MATERIAL), 0.0)
    existing = _align(inp.existing_capacity.astype(float), co(REGION, PROCESS, YEAR), 0.0)
    capex = _align(inp.capex.astype(float), co(REGION, PROCESS, OPTION), np.nan)

    for name, a in (("demand", demand), ("input_coef", incoef), ("output_coef", outcoef),
                    ("existing_capacity", existing)):
        v = a.values
        if np.isnan(v).any() or (v < 0).any() or np.isinf(v).any():
            _err(problems, "must be finite and not negative (no NaN)", name)

    offered = capex.notnull()

    def opt_field(name: str, default: float | None, dims: tuple[str, ...]) -> xr.DataArray:
        a = getattr(inp, name)
        if a is None:
            if default is None:
                if bool(offered.any()):
                    r, p, o = _first_true(offered)
                    _err(
                        problems,
                        f"missing for build option '{_label(inp, r, p, o)}' "
                        f"(region {r}, process {p}): give {name} for every option with a capex",
                        f"{name}.{_label(inp, r, p, o)}",
                    )
                return _full(np.nan, co(*dims))
            return _full(default, co(*dims))
        if not isinstance(a, xr.DataArray):
            return _full(float(a), co(*dims))
        extra = set(a.dims) - set(dims)
        if extra:
            _err(problems, f"has unexpected dims {sorted(extra)}; allowed {list(dims)}", name)
            return _full(np.nan, co(*dims))
        fill = np.nan if default is None else default
        return _align(a.astype(float), C, fill).broadcast_like(_full(0.0, co(*dims))).transpose(
            *dims
        )

    fixed_opex = opt_field("fixed_opex", None, (REGION, PROCESS, OPTION))
    lifetime = opt_field("lifetime", 25.0, (REGION, PROCESS, OPTION))
    earliest = opt_field("earliest_year", float(years[0]), (REGION, PROCESS, OPTION))
    max_cap = opt_field("max_capacity", np.inf, (REGION, PROCESS, OPTION))
    if inp.max_build_rate is not None and YEAR in getattr(inp.max_build_rate, "dims", ()):
        rate = _align(inp.max_build_rate.astype(float), co(REGION, PROCESS, OPTION, YEAR), np.inf)
    else:
        rate = opt_field("max_build_rate", np.inf, (REGION, PROCESS, OPTION))

    min_build = opt_field("min_build", 0.0, (REGION, PROCESS, OPTION))
    build_step = opt_field("build_step", 0.0, (REGION, PROCESS, OPTION))
    _check_lumps(inp, offered, min_build, build_step, rate, max_cap, problems)

    # cost data present wherever an option is offered: name facility and field
    for name, a in (("capex", capex), ("fixed_opex", fixed_opex), ("lifetime", lifetime)):
        if name == "capex":
            bad = offered & (capex < 0)
        else:
            bad = offered & (a.isnull() | (a < 0))
        if name == "lifetime":
            bad = bad | (offered & (a <= 0))
        if bool(bad.any()) and not (name == "fixed_opex" and inp.fixed_opex is None):
            for r, p, o in _all_true(bad)[:5]:
                lab = _label(inp, r, p, o)
                _err(
                    problems,
                    f"build option '{lab}' (region {r}, process {p}) has a capex but "
                    f"{name} is missing or negative; give a value >= 0 (lifetime > 0)",
                    f"{name}.{lab}",
                )

    var_opex = (
        _align(inp.var_opex.astype(float), co(REGION, PROCESS), 0.0)
        if inp.var_opex is not None
        else _full(0.0, co(REGION, PROCESS))
    )
    if bool(var_opex.isnull().any()):
        r, p = [var_opex[d].values[i[0]] for d, i in zip(var_opex.dims, np.nonzero(
            var_opex.isnull().values), strict=True)]
        _err(problems, f"missing variable opex for process {p} in region {r}",
             f"var_opex.{r}.{p}")

    # imports
    if inp.import_price is not None:
        price = _align(inp.import_price.astype(float), co(ORIGIN, MATERIAL, YEAR), np.nan)
    else:
        price = _full(np.nan, co(ORIGIN, MATERIAL, YEAR))
    if inp.import_availability is not None:
        av = inp.import_availability.astype(float)
        if SCENARIO not in av.dims:
            av = av.expand_dims({SCENARIO: scenarios})
        avail = _align(av, co(SCENARIO, ORIGIN, MATERIAL, YEAR), 0.0)
    else:
        avail = _full(np.inf, co(SCENARIO, ORIGIN, MATERIAL, YEAR))
    if bool((avail < 0).any()) or bool(avail.isnull().any()):
        _err(problems, "must be >= 0 (inf for unlimited)", "import_availability")

    if inp.probability is not None:
        prob = _align(inp.probability.astype(float), co(SCENARIO), 0.0)
    else:
        prob = _full(1.0 / len(scenarios), co(SCENARIO))
    if abs(float(prob.sum()) - 1.0) > 1e-9 or bool((prob < 0).any()):
        _err(problems, f"scenario probabilities must be >= 0 and sum to 1 "
             f"(sum is {float(prob.sum()):.6g})", "probability")

    allied = (
        _align(inp.allied.astype(bool), co(REGION, ORIGIN), False)
        if inp.allied is not None
        else _full(False, co(REGION, ORIGIN), bool)
    )
    region_origin = (
        _align(inp.region_origin.astype(object), co(REGION), "")
        if inp.region_origin is not None
        else xr.DataArray(np.array([""] * len(regions), dtype=object), coords=co(REGION),
                          dims=[REGION])
    )
    unknown = set(region_origin.values.tolist()) - set(origins) - {""}
    if unknown:
        _err(problems, f"unknown origin(s) {sorted(unknown)}", "region_origin")

    def per_material(a: Any, default: float) -> xr.DataArray:
        if a is None:
            return _full(default, co(MATERIAL))
        if not isinstance(a, xr.DataArray):
            return _full(float(a), co(MATERIAL))
        return _align(a.astype(float), co(MATERIAL), default)

    trade_cost = per_material(inp.trade_cost, 0.0)
    penalty = per_material(inp.unmet_penalty, 1e6)

    sale_price = (
        _align(inp.sale_price.astype(float), co(REGION, MATERIAL, YEAR), np.nan)
        if inp.sale_price is not None else _full(np.nan, co(REGION, MATERIAL, YEAR))
    )
    sale_limit = (
        _align(inp.sale_limit.astype(float), co(REGION, MATERIAL, YEAR), np.inf)
        if inp.sale_limit is not None else _full(np.inf, co(REGION, MATERIAL, YEAR))
    )
    disposal = (
        _align(inp.disposal_cost.astype(float), co(REGION, MATERIAL), np.nan)
        if inp.disposal_cost is not None else _full(np.nan, co(REGION, MATERIAL))
    )
    feed = (
        _align(inp.feed_availability.astype(float), co(REGION, MATERIAL, YEAR), 0.0)
        if inp.feed_availability is not None else _full(0.0, co(REGION, MATERIAL, YEAR))
    )
    feed_cost = (
        _align(inp.feed_cost.astype(float), co(REGION, MATERIAL), 0.0)
        if inp.feed_cost is not None else _full(0.0, co(REGION, MATERIAL))
    )
    cov = (
        _align(inp.coverage_requirement.astype(float), co(REGION, MATERIAL, YEAR), np.nan)
        if inp.coverage_requirement is not None
        else _full(np.nan, co(REGION, MATERIAL, YEAR))
    )
    if not (0.0 <= float(inp.discount_rate) < 1.0):
        _err(problems, "must lie in [0, 1) per year", "discount_rate")
    base_year = int(years[0]) if inp.base_year is None else int(inp.base_year)
    if inp.tradeable is not None:
        tradeable = _align(inp.tradeable.astype(bool), co(MATERIAL), False)
    else:
        tradeable = price.notnull().any((ORIGIN, YEAR))

    if problems:
        raise RareflowInputError(problems)

    return PlanInputs(
        demand=demand, input_coef=incoef, output_coef=outcoef, existing_capacity=existing,
        capex=capex, fixed_opex=fixed_opex, lifetime=lifetime, earliest_year=earliest,
        max_build_rate=rate, max_capacity=max_cap, min_build=min_build.fillna(0.0),
        build_step=build_step.fillna(0.0), var_opex=var_opex, import_price=price,
        import_availability=avail, probability=prob, allied=allied,
        region_origin=region_origin, trade_cost=trade_cost, sale_price=sale_price,
        sale_limit=sale_limit, disposal_cost=disposal, feed_availability=feed,
        feed_cost=feed_cost, coverage_requirement=cov, unmet_penalty=penalty,
        discount_rate=float(inp.discount_rate), base_year=base_year,
        tradeable=tradeable, option_label=inp.option_label,
        capacity_of=_capacity_of(inp, processes, existing, capex),
        jobs_per_capacity=(None if inp.jobs_per_capacity is None else
                           _align(inp.jobs_per_capacity.astype(float),
                                  co(REGION, PROCESS), 0.0).fillna(0.0)),
        workforce_additions=(None if inp.workforce_additions is None else
                             _align(inp.workforce_additions.astype(float),
                                    co(REGION, YEAR), np.inf).fillna(np.inf)),
    )


def _capacity_of(inp: PlanInputs, processes: pd.Index, existing: xr.DataArray,
                 capex: xr.DataArray) -> xr.DataArray | None:
    """``capacity_of`` completed (each process named, itself where ''), or None when every
    process has its own capacity; a variant must not have capacity of its own."""
    if inp.capacity_of is None:
        return None
    given = inp.capacity_of.reindex({PROCESS: processes}).fillna("")
    names = np.array([str(v) or str(p) for p, v in zip(processes, given.values, strict=True)],
                     dtype=object)
    problems: list[Problem] = []
    for proc, base in zip(processes, names, strict=True):
        if base == proc:
            continue
        if base not in processes:
            _err(problems, f"unknown process '{base}' for {proc}", f"capacity_of.{proc}")
        elif names[processes.get_loc(base)] != base:
            _err(problems, f"{base} itself runs on another process's capacity",
                 f"capacity_of.{proc}")
        if float(existing.sel({PROCESS: proc}).max()) > 0 or \
                bool(capex.sel({PROCESS: proc}).notnull().any()):
            _err(problems, f"{proc} runs on {base}'s capacity and cannot have its own "
                 "(existing capacity or a build option)", f"capacity_of.{proc}")
    if problems:
        raise RareflowInputError(problems)
    if all(b == p for p, b in zip(processes, names, strict=True)):
        return None
    return xr.DataArray(names, coords={PROCESS: processes}, dims=[PROCESS])


def _check_lumps(inp: PlanInputs, offered: xr.DataArray, min_build: xr.DataArray,
                 step: xr.DataArray, rate: xr.DataArray, max_cap: xr.DataArray,
                 problems: list[Problem]) -> None:
    """Lumpy builds: sizes not negative; a minimum size needs a finite bound for its big-M
    and must fit under it."""
    for name, a in (("min_build", min_build), ("build_step", step)):
        for r, p, o in _all_true(offered & ((a < 0) | ~np.isfinite(a)))[:5]:
            _err(problems, f"build option '{_label(inp, r, p, o)}' (region {r}, process {p}): "
                 f"{name} must be finite and >= 0", f"{name}.{_label(inp, r, p, o)}")
    big = big_m(rate, max_cap)
    for r, p, o in _all_true(offered & (min_build > 0) & ~np.isfinite(big))[:5]:
        _err(problems, f"build option '{_label(inp, r, p, o)}' (region {r}, process {p}) has a "
             "min_build but neither max_build_rate nor max_capacity: give one (the largest "
             "build in a year)", f"min_build.{_label(inp, r, p, o)}")
    for r, p, o in _all_true(offered & (min_build > 0) & np.isfinite(big) & (min_build > big))[:5]:
        _err(problems, f"build option '{_label(inp, r, p, o)}' (region {r}, process {p}): "
             "min_build exceeds the largest build allowed (max_build_rate / max_capacity)",
             f"min_build.{_label(inp, r, p, o)}")


def big_m(rate: xr.DataArray, max_cap: xr.DataArray) -> xr.DataArray:
    """[region, process, option] the largest build in any one year: the smaller of the
    build-rate limit (its largest year, if it has years) and the total capacity limit."""
    r = rate.max(YEAR) if YEAR in rate.dims else rate
    return np.minimum(r, max_cap)


def _all_true(mask: xr.DataArray) -> list[tuple[Any, ...]]:
    idx = np.argwhere(mask.values)
    return [tuple(mask[d].values[i] for d, i in zip(mask.dims, row, strict=True)) for row in idx]


def _first_true(mask: xr.DataArray) -> tuple[Any, ...]:
    return _all_true(mask)[0]


def field_names() -> list[str]:
    return [f.name for f in fields(PlanInputs)]


def upstream_requirements(
    share: xr.DataArray,
    demand: xr.DataArray,
    input_coef: xr.DataArray,
    output_coef: xr.DataArray,
    chain: list[tuple[str, str]],
) -> xr.DataArray:
    """Secure-supply requirement at every stage upstream of a final material.

    ``chain`` lists (process, main output material) from the final stage upstream, e.g.
    ``[("magnet_making", "magnet"), ("alloying", "alloy"), ("metal_making", "metal"),
    ("separation", "ndpr_oxide"), ...]``. It may branch: an alloy needs NdPr metal and Dy
    metal, so ``("dy_reduction", "dy_metal")`` may follow the NdPr entries.

    For the first material ``m0`` the requirement is ``share * demand[m0]``. Every later
    entry ``(p_k, m_k)`` is fed by the processes listed before it:
    ``req[m_k] = sum_{j<k} a_j * in[p_j, m_k]`` (plus ``share * demand[m_k]`` where m_k
    has final demand itself, e.g. a second magnet grade), and the activity it needs is
    ``a_k = req[m_k] / out[p_k, m_k]``. For a linear chain this is the walk from one stage
    to the next; an entry with neither demand nor an earlier consumer is an error.

    Parameters
    ----------
    share : DataArray [region, year] (or scalar DataArray), fraction 0..1
    demand : DataArray [region, material, year], t/yr
    input_coef, output_coef : DataArray [process, material], t per t of activity

    Returns
    -------
    DataArray [region, material, year], t/yr; NaN for materials not on the chain.
    """
    req: dict[str, xr.DataArray] = {}
    acts: list[tuple[str, xr.DataArray]] = []
    final = {str(m) for m in demand[MATERIAL].values
             if float(abs(demand.sel({MATERIAL: m})).max()) > 0}
    for k, (proc, mat) in enumerate(chain):
        coefs = [(float(input_coef.sel({PROCESS: p, MATERIAL: mat})), a) for p, a in acts]
        if k == 0 or mat in final:
            need = share * demand.sel({MATERIAL: mat}, drop=True)
            need = need + sum(c * a for c, a in coefs if c > 0)
        else:
            if not any(c > 0 for c, _ in coefs):
                users = [str(p) for p in input_coef[PROCESS].values
                         if float(input_coef.sel({PROCESS: p, MATERIAL: mat})) > 0]
                raise RareflowInputError.single(
                    f"no process listed before it consumes {mat} (list first a process "
                    f"that uses it: {', '.join(users[:6]) or 'none does'})",
                    path=f"coverage.upstream.{k}")
            need = sum(c * a for c, a in coefs if c > 0)
        req[mat] = req[mat] + need if mat in req else need
        out = float(output_coef.sel({PROCESS: proc, MATERIAL: mat}))
        if out <= 0:
            raise RareflowInputError.single(
                f"process {proc} has no output of {mat}", path=f"coverage.upstream.{k}"
            )
        acts.append((proc, need / out))
    mats = pd.Index(demand[MATERIAL].values, name=MATERIAL)
    extra = [m for m in req if m not in set(mats)]
    mats = mats.append(pd.Index(extra, name=MATERIAL))
    out_arr = xr.concat([req[m].expand_dims({MATERIAL: [m]}) for m in req], dim=MATERIAL)
    out_arr = out_arr.reindex({MATERIAL: mats})
    return out_arr.transpose(REGION, MATERIAL, YEAR)
