"""Compile the ``history:`` section into magnet inflows and grades since its start year, and
couple them to the dynamic stock engine.

* ``inflow[region, sector, year]`` (t NdFeB/yr), ``start .. last model year``: before the
  first model year world output (anchors filled log-linearly or linearly) x region share x
  application share (both interpolated linearly); from the first model year on, the
  scenario's own final demand for magnet materials (as :mod:`rareflow.model.recycling`
  counts it).
* ``composition[sector, year, element]`` (mass fractions): the historical grade covering
  the year; from the first model year on, the demanded chain materials' composition (or the
  last historical grade, ``grades_from_start: history``).

The in-use stock is the engine's inflow-driven model (:func:`rareflow.stocks.inflow_driven`)
with each sector's lifetime, run on NdFeB and on every element at once (it is linear, so the
element stock is the stock of element inflows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rareflow.errors import Problem, RareflowInputError
from rareflow.scenario.model import Scenario

#: elements always reported, even where no grade carries them
KEY_ELEMENTS = ("Nd", "Pr", "Dy", "Tb")


@dataclass(frozen=True)
class HistoryArrays:
    """History and scenario inflows on one calendar (``years``: start .. last model year).

    inflow      : ndarray [region, sector, year], t NdFeB/yr
    composition : ndarray [sector, year, element], mass fractions (rows sum to 1 where the
                  sector has inflow)
    lifetimes   : one :class:`rareflow.stocks.Lifetime` per sector (None: no inflow)
    """

    years: tuple[int, ...]
    first_model_year: int
    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    elements: tuple[str, ...]
    inflow: np.ndarray
    composition: np.ndarray
    lifetimes: tuple[Any, ...]
    lifetime_provenance: dict[str, str]
    inflow_at: str
    records: dict[str, tuple[tuple[str, int | tuple[int, int]], ...]]
    fill: str
    demand_rows: tuple[str, ...]

    def year_index(self, year: int) -> int:
        return self.years.index(year)


@dataclass(frozen=True)
class HistoryStocks:
    """In-use stock at the end of each year, t: ``stock[region, sector, channel, year]``;
    channel 0 is NdFeB, then one per element of ``elements``."""

    years: tuple[int, ...]
    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    elements: tuple[str, ...]
    stock: np.ndarray
    reported: tuple[str, ...]

    def at(self, region: str, year: int) -> dict[str, float]:
        """``{"ndfeb": t, "Nd": t, ...}`` in ``region`` (or ``world``: every region) at the
        end of ``year``; elements are those any grade carries, plus Nd, Pr, Dy, Tb."""
        t = self.years.index(year)
        if region == "world":
            s = self.stock[:, :, :, t].sum(axis=(0, 1))
        else:
            s = self.stock[self.regions.index(region), :, :, t].sum(axis=0)
        out = {"ndfeb": float(s[0])}
        for e in self.reported:
            out[e] = float(s[1 + self.elements.index(e)])
        return out


# --------------------------------------------------------------------------------------
# filling rules
# --------------------------------------------------------------------------------------
def fill_world(anchors: dict[int, float], years: list[int], rule: str) -> np.ndarray:
    """World output on ``years`` from ``{year: t/yr}`` anchors.

    ``log_linear``: constant growth between anchors; before the first and after the last
    anchor the growth of the nearest interval continues (one anchor: held). ``linear``:
    straight lines between anchors, held outside them.
    """
    ys = np.array(sorted(anchors), dtype=float)
    vs = np.array([anchors[int(y)] for y in ys], dtype=float)
    x = np.array(years, dtype=float)
    if rule == "linear" or len(ys) == 1:
        return np.interp(x, ys, vs)
    logv = np.log(vs)
    out = np.interp(x, ys, logv)
    lo, hi = x < ys[0], x > ys[-1]
    g0 = (logv[1] - logv[0]) / (ys[1] - ys[0])
    g1 = (logv[-1] - logv[-2]) / (ys[-1] - ys[-2])
    out[lo] = logv[0] + g0 * (x[lo] - ys[0])
    out[hi] = logv[-1] + g1 * (x[hi] - ys[-1])
    return np.exp(out)


def fill_shares(anchors: dict[int, dict[str, float]], keys: tuple[str, ...], remainder: str,
                years: list[int]) -> np.ndarray:
    """Shares ``[key, year]``: each anchor's listed shares, the rest to ``remainder``;
    linear between anchors, held outside them (columns sum to 1). No anchor: all to
    ``remainder``."""
    out = np.zeros((len(keys), len(years)))
    if not anchors:
        out[keys.index(remainder)] = 1.0
        return out
    ay = sorted(anchors)
    table = np.zeros((len(keys), len(ay)))
    for j, y in enumerate(ay):
        for k, v in anchors[y].items():
            table[keys.index(k), j] += v
        table[keys.index(remainder), j] += max(0.0, 1.0 - sum(anchors[y].values()))
    x = np.array(years, dtype=float)
    for i in range(len(keys)):
        out[i] = np.interp(x, np.array(ay, dtype=float), table[i])
    return out


# --------------------------------------------------------------------------------------
# compilation
# --------------------------------------------------------------------------------------
def _magnet_materials(c: Any) -> list[int]:
    """Materials at the reference material's stage (the magnets), less swarf, as
    :func:`rareflow.model.recycling.run_recycling` counts them."""
    if c.reference_material is None:
        return []
    stage = c.material_stage[c.m(c.reference_material)]
    return [j for j, m in enumerate(c.materials)
            if c.material_stage[j] == stage and m not in c.scrap_materials]


def compile_history(scenario: Scenario, arrays: Any = None) -> HistoryArrays:
    """Compile ``scenario``'s ``history:`` section (and its demand from the first model year
    on) into :class:`HistoryArrays`. Raises :class:`RareflowInputError` (located) for a
    scenario without the section or with bad cross-references."""
    from rareflow.scenario import schema_history

    sec = scenario.spec.history
    if sec is None:
        f, line = scenario.where("name")
        raise RareflowInputError.single(
            "this scenario has no `history:` section (the bundled `reference` scenario has "
            "one; or extend `_reference/history.yaml`)", file=f, line=line, path="history")
    schema_history.check(scenario)
    if arrays is None:
        from rareflow.model.arrays import build_arrays

        arrays = build_arrays(scenario)
    c = scenario.chain
    regions = tuple(arrays.regions)
    sectors = tuple(arrays.sectors)
    elements = tuple(c.elements)
    model_years = list(arrays.years)
    first = model_years[0]
    years = list(range(sec.start, model_years[-1] + 1))
    hist = first - sec.start
    hyears = years[:hist]
    R, S, E, Y = len(regions), len(sectors), len(elements), len(years)

    # --- inflow ---------------------------------------------------------------------------
    # anchors are validated to carry one year each (schema_history)
    world = {r.years[0]: r.ndfeb for r in sec.world.values() if r is not None and r.years}
    reg = {r.years[0]: r.shares for r in sec.regions.values() if r is not None and r.years}
    app = {r.years[0]: r.shares for r in sec.applications.values()
           if r is not None and r.years}
    inflow = np.zeros((R, S, Y))
    if hist:
        w = fill_world(world, hyears, sec.fill)
        rs = fill_shares(reg, regions, sec.remainder_region, hyears)
        ss = fill_shares(app, sectors, sec.remainder_sector, hyears)
        inflow[:, :, :hist] = rs[:, None, :] * ss[None, :, :] * w[None, None, :]
    mats = _magnet_materials(c)
    demand = arrays.final_demand[:, :, mats, :]            # [r, s, m, model year]
    inflow[:, :, hist:] = demand.sum(axis=2)

    # --- composition ------------------------------------------------------------------------
    grades: dict[str, list[tuple[int, int, np.ndarray]]] = {}
    for g in sec.grades.values():
        if g is None or g.years is None:
            continue
        vec = np.zeros(E)
        for e, v in g.composition.items():
            vec[elements.index(e)] = v
        vec[elements.index(g.balance)] += max(0.0, 1.0 - sum(g.composition.values()))
        for s in g.sectors:
            grades.setdefault(s, []).append((g.years[0], g.years[1], vec))
    comp = np.zeros((S, Y, E))
    ref = c.composition[c.m(c.reference_material)] if c.reference_material else np.zeros(E)
    problems: list[Problem] = []
    for i, s in enumerate(sectors):
        periods = sorted(grades.get(s, []), key=lambda p: p[0])
        if periods:
            for t, y in enumerate(years[:hist]):
                inside = [p for p in periods if p[0] <= y <= p[1]]
                if inside:
                    comp[i, t] = inside[0][2]
                elif y < periods[0][0]:
                    comp[i, t] = periods[0][2]
                else:
                    comp[i, t] = [p for p in periods if p[1] < y][-1][2]
        elif hist and inflow[:, i, :hist].sum() > 0:
            f, line = scenario.where("history.grades")
            problems.append(Problem(f"no grade covers sector '{s}', which has historical "
                                    "inflow (add a grade listing it under `sectors:`)", f, line,
                                    "history.grades"))
        for t in range(hist, Y):
            if sec.grades_from_start == "history" and periods:
                comp[i, t] = comp[i, hist - 1] if hist else periods[-1][2]
                continue
            wts = demand[:, i, :, t - hist].sum(axis=0)
            comp[i, t] = (wts / wts.sum()) @ c.composition[mats] if wts.sum() > 0 else ref

    # --- lifetimes --------------------------------------------------------------------------
    lifetimes: list[Any] = []
    prov: dict[str, str] = {}
    rec_sec = scenario.spec.recycling
    for i, s in enumerate(sectors):
        rec = sec.lifetimes.get(s)
        if rec is not None:
            lifetimes.append(rec.lifetime.build())
            prov[s] = rec.provenance
        elif rec_sec is not None and s in rec_sec.sectors:
            lifetimes.append(rec_sec.sectors[s].lifetime.build())
            prov[s] = f"recycling.sectors.{s}: {rec_sec.sectors[s].provenance}"
        else:
            lifetimes.append(None)
            if inflow[:, i].sum() > 0:
                f, line = scenario.where("history.lifetimes")
                problems.append(Problem(f"no lifetime for sector '{s}', which has inflow "
                                        f"(add `{s}: {{lifetime: ..., source: ...}}`)", f, line,
                                        "history.lifetimes"))
    if problems:
        raise RareflowInputError(problems)

    def ids(block: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
        out = []
        for k, r in block.items():
            if r is None:
                continue
            y = r.years if r.years is None or r.years[0] != r.years[1] else r.years[0]
            out.append((k, y))
        return tuple(out)

    records = {"world": ids(sec.world), "regions": ids(sec.regions),
               "applications": ids(sec.applications), "grades": ids(sec.grades)}
    rows = tuple(k for k, d in scenario.spec.demand.items()
                 if d is not None and d.material in [c.materials[j] for j in mats])
    return HistoryArrays(
        years=tuple(years), first_model_year=first, regions=regions, sectors=sectors,
        elements=elements, inflow=inflow, composition=comp, lifetimes=tuple(lifetimes),
        lifetime_provenance=prov, inflow_at=sec.inflow_at, records=records, fill=sec.fill,
        demand_rows=rows)


def in_use_stocks(h: HistoryArrays) -> HistoryStocks:
    """In-use stock of NdFeB and of each element by region and sector (the engine's
    inflow-driven model, one lifetime per sector)."""
    from rareflow.stocks import inflow_driven

    R, S, E, Y = len(h.regions), len(h.sectors), len(h.elements), len(h.years)
    stock = np.zeros((R, S, 1 + E, Y))
    for i in range(S):
        if h.lifetimes[i] is None or not h.inflow[:, i].any():
            continue
        x = np.empty((R, 1 + E, Y))
        x[:, 0] = h.inflow[:, i]
        x[:, 1:] = h.inflow[:, i, None, :] * h.composition[i].T[None, :, :]
        res = inflow_driven(x, h.lifetimes[i], inflow_at=h.inflow_at)  # type: ignore[arg-type]
        stock[:, i] = res.stock
    carried = {e for k, e in enumerate(h.elements)
               if (h.composition[:, :, k] > 0).any()}
    reported = (*(e for e in KEY_ELEMENTS if e in h.elements),
                *(e for e in h.elements if e in carried and e not in KEY_ELEMENTS))
    return HistoryStocks(years=h.years, regions=h.regions, sectors=h.sectors,
                         elements=h.elements, stock=stock, reported=reported)
