"""One set of plant figures: a facility's costs (``facilities.<id>.plant``), its schedule
(``capacity``, ``utilisation``, ``start_year``) and the sections that read them.

* :func:`economics_section` gives the scenario's ``economics:`` section with every cost,
  capacity, commercial-operation year and utilisation ramp that an economics facility
  leaves out taken from the scenario facility of the same id. A facility two years late
  (a later ``start_year`` or capacity schedule) then moves its cash flows, its capex
  spending and its loan draws by the same two years.
  Dated entries (construction, loan draws, equity, offtakes and floors) move by the delay
  against ``planned_cod``.
* :func:`plan_candidate` gives a plan build option naming ``facility:`` with its capex,
  fixed and variable opex and lifetime taken from that facility's plant figures.

Figures written in the section itself win (a sensitivity case can override one); the
provenance of a figure taken from the facility is the facility's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rareflow.model.arrays import schedule

#: economics fields filled from the plant figures, and the plant field each comes from
ECON_FROM_PLANT = {"capex": "capex", "opex_fixed": "opex_fixed",
                   "opex_variable": "opex_variable", "sustaining_capex": "sustaining_capex"}
#: longest utilisation ramp read from a facility schedule, operating years
MAX_RAMP_YEARS = 15


def facility(scenario: Any, fid: str) -> Any:
    return scenario.spec.facilities.get(fid)


def nameplate(fac: Any) -> float | None:
    """The facility's largest scheduled capacity, t/yr of its capacity basis."""
    if fac.capacity is None:
        return None
    return float(max(fac.capacity.values()))


def first_year(fac: Any) -> int | None:
    """First year the facility has capacity: its ``start_year``, else its schedule's first
    non-zero year (None if it never has any)."""
    if fac.capacity is None:
        return fac.start_year
    keys = sorted(k for k, v in fac.capacity.items() if v > 0)
    first = keys[0] if keys and keys[0] != 0 else None
    if fac.start_year is not None:
        return max(fac.start_year, first or fac.start_year)
    return first


def ramp(fac: Any, cod: int, capacity: float) -> list[float]:
    """Output as a share of ``capacity`` by operating year from ``cod``: the facility's
    capacity schedule times its utilisation, until both stop changing."""
    cap = fac.capacity or {0: capacity}
    last = max([*(k for k in cap if k), *(k for k in fac.utilisation if k), cod])
    n = min(max(last - cod + 1, 1), MAX_RAMP_YEARS)
    years = list(range(cod, cod + n))
    c = schedule(dict(cap), years, before="zero")
    u = schedule(dict(fac.utilisation), years, before="first")
    if fac.start_year is not None:
        c = np.where(np.array(years) < fac.start_year, 0.0, c)
    share = np.clip(np.nan_to_num(c) * u / capacity, 0.0, 1.0)
    return [float(x) for x in share]


def _fig(value: float, what: str, fid: str) -> dict[str, Any]:
    return {"value": value, "assumption": f"from facility {fid}: {what}"}


def economics_section(scenario: Any) -> Any:
    """The scenario's ``economics:`` section, completed from its facilities (see module)."""
    from rareflow.scenario.schema_economics import Figure, Series

    section = scenario.spec.economics
    if section is None:
        return None
    facs = {}
    for fid, fe in section.facilities.items():
        fac = facility(scenario, fid)
        if fac is None:
            facs[fid] = fe
            continue
        upd: dict[str, Any] = {}
        plant = fac.plant
        if plant is not None:
            for econ, pf in ECON_FROM_PLANT.items():
                if getattr(fe, econ) is None and getattr(plant, pf) is not None:
                    upd[econ] = getattr(plant, pf)
        cap = fe.capacity.value if fe.capacity is not None else None
        if cap is None:
            cap = (plant.capex_capacity.value if plant is not None and plant.capex_capacity
                   else nameplate(fac))
            if cap is not None:
                upd["capacity"] = Figure(**_fig(cap, "largest scheduled capacity", fid))
        cod = fe.cod if fe.cod is not None else first_year(fac)
        if fe.cod is None and cod is not None:
            upd["cod"] = cod
            if fe.construction_start is None:
                upd["construction_start"] = cod - 1
        if fe.utilisation is None and cod is not None and cap:
            upd["utilisation"] = Series(**_fig(ramp(fac, cod, cap),  # type: ignore[arg-type]
                                               "capacity schedule x utilisation", fid))
        facs[fid] = fe.model_copy(update=upd) if upd else fe
    out = section.model_copy(update={"facilities": facs})
    return _move_dated(out)


def delay_of(fe: Any) -> int:
    """Years by which an economics facility runs late against the schedule its dated
    entries were written for (``cod - planned_cod``; 0 without a planned_cod)."""
    if fe.planned_cod is None or fe.cod is None:
        return 0
    return int(fe.cod) - int(fe.planned_cod)


def _move_dated(section: Any) -> Any:
    """Move construction, loan draws and start years, and equity years of every late
    facility by its delay: milestones are met later, so money flows later."""
    delays = {fid: delay_of(fe) for fid, fe in section.facilities.items()}
    if not any(delays.values()):
        return section
    facs = {fid: (fe.model_copy(update={"construction_start": fe.construction_start + d,
                                        "planned_cod": fe.cod})
                  if (d := delays[fid]) and fe.construction_start is not None else fe)
            for fid, fe in section.facilities.items()}
    loans = {}
    for k, ln in section.loans.items():
        d = delays.get(ln.borrower, 0)
        loans[k] = ln if not d else ln.model_copy(update={
            "start_year": ln.start_year + d,
            "draws": [dr.model_copy(update={"year": dr.year + d}) for dr in ln.draws]})
    equity = {}
    for k, eq in section.equity.items():
        d = delays.get(eq.facility, 0)
        equity[k] = eq if not d else eq.model_copy(update={"year": eq.year + d})
    contracts = {}
    for k, c in section.contracts.items():
        d = delays.get(c.facility, 0)
        upd: dict[str, Any] = {"start_year": c.start_year + d}
        if getattr(c, "upside_from_year", None) is not None:
            upd["upside_from_year"] = c.upside_from_year + d
        contracts[k] = c if not d else c.model_copy(update=upd)
    return section.model_copy(update={"facilities": facs, "loans": loans, "equity": equity,
                                      "contracts": contracts})


def plan_candidate(scenario: Any, cand: Any) -> Any:
    """A plan build option with ``facility:`` completed from that facility's plant
    figures: capex and the capacity it buys, fixed opex (as a share of capex), variable
    opex and lifetime, wherever the option leaves them out."""
    fid = getattr(cand, "facility", None)
    if not fid:
        return cand
    fac = facility(scenario, fid)
    if fac is None or fac.plant is None:
        return cand
    p = fac.plant
    upd: dict[str, Any] = {}
    if cand.capex is None and cand.capex_per_capacity is None and p.capex is not None:
        cap = p.capex_capacity.value if p.capex_capacity is not None else nameplate(fac)
        if cap:
            upd["capex"] = p.capex.value
            upd["capex_capacity"] = cap
            if cand.capacity_basis is None and fac.capacity_basis is not None:
                upd["capacity_basis"] = fac.capacity_basis
    capex = upd.get("capex", cand.capex)
    if cand.fixed_opex_share is None and p.opex_fixed is not None and capex:
        upd["fixed_opex_share"] = p.opex_fixed.value / capex
    if cand.variable_opex is None and p.opex_variable is not None:
        upd["variable_opex"] = p.opex_variable.value
    if p.lifetime is not None and "lifetime" not in cand.model_fields_set:
        upd["lifetime"] = p.lifetime.value
    if cand.region is None:
        upd["region"] = fac.region
    return cand.model_copy(update=upd) if upd else cand
