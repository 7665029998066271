"""Compile a scenario's ``stress:`` section into a :class:`StressModel` (monthly, U.S.-side).

What is modelled (one destination: the scenario's focus region; one material: the
stressed magnet material, by default the chain's reference material):

* **demand** by sector = the static balance's final demand of the material in the
  month's year, / 12 (t/month);
* **origins** = the focus region itself (domestic magnet making), every region it imports
  the material from, and, if ``recycling_recovery`` is set, ``<focus>-recycled``
  (collected end-of-life magnets x recovery, all of it available to the focus region);
* **sourcing** = base-year shares of the focus region's consumption (domestic output up to
  consumption, then imports by origin);
* **foreign capacity** = the origin's output of the material x (1 + ``spare_capacity``);
  its other load = output - exports to the focus region (an origin's recorded output is
  raised to its exports where the static data show less);
* **domestic capacity** = the static model's domestic output by year; facilities with a
  commissioning delay have their capacity increases after the horizon start shifted by
  the (sampled) delay. Domestic and recycled supply are fully redirectable (share 1);
  foreign producers' spare capacity with ``redirect_share``;
* **restrictions** on the material itself act on trade flows; with ``upstream: true`` a
  restriction on inputs of domestic magnet making (alloy, metals, oxides, resolved from
  ``materials`` / stage names / ``contains``) becomes an outage of domestic capacity: the
  share of the focus region's consumption of the most dependent restricted input that is
  imported from the restricted origins (Leontief: the scarcest input limits), fully during
  the licence delay, x severity after it.

Uncertain parameters: every ``stress.*`` figure written as a distribution is sampled
(:func:`sample_parameters`); other sections' distributions stay at their central values
(the static balance is run once).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rareflow.engines.simulate.model import (
    DemandShock,
    Inventories,
    Outage,
    Ramp,
    Restriction,
    Stockpile,
    StressModel,
)
from rareflow.errors import Problem, RareflowInputError

STRESS = "stress"


# --------------------------------------------------------------------------------------
# checks (called by the scenario loader after validation)
# --------------------------------------------------------------------------------------


def check_section(scenario: Any) -> None:
    """Cross-references of ``stress:``; every problem with its file and line."""
    st = scenario.spec.stress
    if st is None:
        return
    chain = scenario.chain
    problems: list[Problem] = []
    regions = set(scenario.spec.regions)
    sectors = set(chain.sectors)
    materials = set(chain.materials)
    stages = set(chain.stages)
    elements = set(chain.elements)
    facilities = {k for k, v in scenario.spec.facilities.items() if v is not None}
    sources = set(scenario.spec.sources)

    def at(parts: tuple[Any, ...], msg: str) -> None:
        dotted = ".".join(map(str, (STRESS, *parts)))
        f, line = scenario.where(dotted)
        problems.append(Problem(msg, f, line, dotted))

    def known(kind: str, value: str, options: set[str], parts: tuple[Any, ...]) -> None:
        if value not in options:
            hint = ", ".join(sorted(options)[:30])
            at(parts, f"unknown {kind} '{value}' (known: {hint})")

    def prov(parts: tuple[Any, ...], rec: Any) -> None:
        for s in rec.source or []:
            if s not in sources:
                at((*parts, "source"), f"unknown source '{s}'; add it under `sources:` "
                   "(ids of ree-facts.yaml)")
        if not rec.has_provenance:
            at(parts, "no provenance: add `source:` and `confidence:`, or `assumption:` "
               "with the reasoning")

    mat = st.material or chain.reference_material
    known("material", mat, materials, ("material",))
    focus = scenario.spec.focus_region
    for k in st.priority:
        known("sector", k, sectors, ("priority", k))
    for rid, r in st.restrictions.items():
        p = ("restrictions", rid)
        prov(p, r)
        for i, o in enumerate(r.origins):
            known("region", o, regions, (*p, "origins", i))
        for i, d in enumerate(r.destinations):
            if d != focus:
                at((*p, "destinations", i), f"the stress model runs for the focus region "
                   f"'{focus}' only (got '{d}')")
        for i, m in enumerate(r.materials):
            if m not in materials and m not in stages:
                known("material or stage", m, materials | stages, (*p, "materials", i))
        for i, e in enumerate(r.contains):
            known("element", e, elements, (*p, "contains", i))
        for i, k in enumerate(r.exempt_sectors):
            known("sector", k, sectors, (*p, "exempt_sectors", i))
        if r.start < st.horizon.start and r.end is not None and r.end <= st.horizon.start:
            at((*p, "end"), "the restriction ends before the horizon starts")
    for sid, s in st.stockpiles.items():
        p = ("stockpiles", sid)
        prov(p, s)
        if s.place is not None and s.place != focus:
            at((*p, "place"), f"stockpiles are modelled at the focus region '{focus}' only")
        if s.material is not None and s.material != mat:
            at((*p, "material"), f"the stress model runs on '{mat}'; a stockpile of "
               f"'{s.material}' is not modelled (express it in {mat} equivalent)")
        for i, k in enumerate(s.sectors):
            known("sector", k, sectors, (*p, "sectors", i))
    if st.inventories is not None:
        prov(("inventories",), st.inventories)
        for k in st.inventories.sectors:
            known("sector", k, sectors, ("inventories", "sectors", k))
    for oid, o in st.outages.items():
        p = ("outages", oid)
        prov(p, o)
        if o.facility is not None:
            known("facility", o.facility, facilities, (*p, "facility"))
        if o.region is not None:
            known("region", o.region, regions, (*p, "region"))
    for did, d in st.demand_shocks.items():
        p = ("demand_shocks", did)
        prov(p, d)
        for i, k in enumerate(d.sectors):
            known("sector", k, sectors, (*p, "sectors", i))
    for cid, c in st.commissioning_delays.items():
        p = ("commissioning_delays", cid)
        prov(p, c)
        known("facility", c.facility, facilities, (*p, "facility"))
    if problems:
        raise RareflowInputError(problems)


# --------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------


def stress_distributions(scenario: Any) -> dict[str, Any]:
    """Distributions of the ``stress:`` section: dotted path -> Distribution."""
    return {k: v for k, v in scenario.uncertain.items() if k.startswith(STRESS + ".")}


def sample_parameters(scenario: Any, n: int, seed: int, method: str = "lhs"
                      ) -> dict[str, np.ndarray]:
    """Latin-hypercube (default) samples of every stress distribution, canonical units."""
    from rareflow.uncertainty import sample_all

    return sample_all(stress_distributions(scenario), n, seed=seed, method=method)


@dataclass
class CompiledStress:
    """A StressModel plus what the CLI prints and writes beside it."""

    model: StressModel
    horizon_start: tuple[int, int]
    months: int
    focus: str
    material: str
    parameters: dict[str, np.ndarray]
    assumptions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def month_label(self, t: int) -> str:
        y, m = self.horizon_start
        k = (m - 1) + int(t)
        return f"{y + k // 12}-{k % 12 + 1:02d}"


def _month_index(ym: tuple[int, int], start: tuple[int, int]) -> int:
    return (ym[0] - start[0]) * 12 + (ym[1] - start[1])


def build_stress_model(
    scenario: Any,
    *,
    n_samples: int = 1,
    parameters: Mapping[str, np.ndarray] | None = None,
    results: Any = None,
) -> CompiledStress:
    """Build the :class:`StressModel` of ``scenario``.

    ``parameters`` maps dotted paths of ``stress.*`` distributions to arrays ``[sample]``
    in canonical units (from :func:`sample_parameters` or a Sobol design); paths not given
    take the central value already in the validated scenario. ``results`` may pass the
    static run (``rareflow.run(scenario)``) to avoid running it again.
    """
    st = scenario.spec.stress
    if st is None:
        raise RareflowInputError.single(
            "this scenario has no `stress:` section; add one (see the bundled stress "
            "scenarios: rareflow scenarios)", file=scenario.source_file, path="stress")
    import rareflow

    params = dict(parameters or {})
    S = int(n_samples)
    for k, v in params.items():
        if np.shape(v) != (S,):
            raise RareflowInputError.single(f"expected {S} samples, got shape {np.shape(v)}",
                                            path=k)
    if results is None:
        results = rareflow.run(scenario)
    ds = results.to_xarray()
    chain = scenario.chain
    focus = scenario.spec.focus_region
    mat = st.material or chain.reference_material
    years = [int(y) for y in ds.year.values]
    T = st.horizon.n_months
    h0 = st.horizon.start
    base_year = st.base_year or h0[0]
    assumptions: list[str] = []
    notes: list[str] = []

    def yidx(y: int) -> int:
        return int(np.clip(y - years[0], 0, len(years) - 1))

    month_year = np.array([h0[0] + (h0[1] - 1 + t) // 12 for t in range(T)])
    yi = np.array([yidx(y) for y in month_year])
    by = yidx(base_year)
    if not years[0] <= base_year <= years[-1]:
        notes.append(f"base year {base_year} outside the static years "
                     f"{years[0]}-{years[-1]}: the nearest year is used")
    if month_year[-1] > years[-1] or month_year[0] < years[0]:
        notes.append(f"horizon runs outside the static years {years[0]}-{years[-1]}: "
                     "the nearest year's figures are held")

    def ident(x: Any) -> Any:
        return np.asarray(x, dtype=float) if np.ndim(x) else float(x)

    def val(parts: tuple[str, ...], central: float, to_engine: Any = ident) -> Any:
        """Per-sample value of a figure: sampled if uncertain, else the central value."""
        dotted = ".".join((STRESS, *parts))
        for key in (dotted, dotted + ".value"):
            if key in params:
                return to_engine(np.asarray(params[key], dtype=float))
        return to_engine(central)

    def months(x: Any) -> Any:
        return np.round(np.asarray(x) * 12.0).astype(np.int64) if np.ndim(x) else int(
            round(float(x) * 12.0))

    # ---- sectors and demand [T, 1, K, 1] ------------------------------------------------
    # the material and its grades (magnets made by the grade variants of its maker)
    fd = ds.final_demand.sel(region=focus, material=chain.grade_family(mat)).sum("material")
    fdv = fd.values
    keep = fdv.sum(axis=1) > 0
    sectors = tuple(str(s) for s, k in zip(fd.sector.values, keep, strict=True) if k)
    if not sectors:
        raise RareflowInputError.single(f"the focus region '{focus}' has no final demand of "
                                        f"'{mat}' in the static balance", path="stress.material")
    fdv = fdv[keep]  # [K, year]
    demand = (fdv[:, yi].T / 12.0)[:, None, :, None]  # [T, 1, K, 1] t/month

    # ---- origins, sourcing, capacity -------------------------------------------------------
    # the material and its grades, as for demand
    family = chain.grade_family(mat)
    imp = ds.imports.sel(region=focus, material=family).sum("material").values  # [origin, year]
    origin_codes = [str(o) for o in ds.origin.values]
    prod = ds.production.sel(material=family).sum("material").values  # [region, year]
    region_codes = [str(r) for r in ds.region.values]
    cons = ds.consumption.sel(region=focus, material=family).sum("material").values  # [year]
    foreign = [o for i, o in enumerate(origin_codes)
               if o != focus and imp[i].max() > 0]
    origins = [focus, *foreign]
    rec_origin = None
    if st.recycling_recovery is not None:
        rec_origin = f"{focus}-recycled"
        origins.append(rec_origin)
    O = len(origins)
    p_focus = prod[region_codes.index(focus)]
    base_cons = max(cons[by], 1e-12)
    src = np.zeros(O)
    src[0] = min(p_focus[by], cons[by])
    for j, o in enumerate(foreign, start=1):
        src[j] = imp[origin_codes.index(o), by]
    if src.sum() <= 0:
        src[0] = 1.0
    src = src / src.sum()
    sourcing = src[None, :, None]  # [D=1, O, M=1]
    notes.append(f"base year {years[by]}: {focus} consumption {base_cons:,.0f} t/yr of {mat}; "
                 "sourcing " + ", ".join(f"{o} {s:.0%}" for o, s in zip(origins, src,
                                                                          strict=True) if s > 0))

    spare_share = float(st.spare_capacity)
    capacity = np.zeros((T, O, 1))
    other = np.zeros((T, O, 1))
    for j, o in enumerate(foreign, start=1):
        exp_us = imp[origin_codes.index(o)][yi]
        out = prod[region_codes.index(o)][yi] if o in region_codes else exp_us
        out = np.maximum(out, exp_us)
        capacity[:, j, 0] = out * (1 + spare_share) / 12.0
        other[:, j, 0] = (out - exp_us) / 12.0
    assumptions.append(f"foreign producers have {spare_share:.0%} spare capacity over their "
                       f"output; {float(st.redirect_share):.0%} of it can be redirected to "
                       f"{focus} (central values of stress.spare_capacity and "
                       "stress.redirect_share; sampled where uncertain)")

    # domestic capacity with commissioning delays
    fac_ids = [f.id for f in results.arrays.facilities]
    fac_act = results.arrays.facility_activity  # [facility, year]
    dom = p_focus[yi].astype(float).copy()  # t/yr per month
    ramps: list[Ramp] = []
    for cid, cd in st.commissioning_delays.items():
        fi = fac_ids.index(cd.facility)
        a = fac_act[fi][yi]
        first = a[0]
        dom -= (a - first)
        delay = val(("commissioning_delays", cid, "delay"), cd.delay, months)
        steps = np.flatnonzero(np.diff(a) != 0) + 1
        for t in steps:
            ramps.append(Ramp(focus, mat, added=(a[t] - a[t - 1]) / 12.0, start=int(t),
                              delay=delay, name=f"{cd.facility}@{t}"))
    capacity[:, 0, 0] = np.maximum(dom, 0.0) / 12.0
    redirect = np.full(O, float(st.redirect_share))
    redirect[0] = 1.0
    if rec_origin is not None:
        eol = ds.consumption.sel(region=focus, material="eol_magnets").values \
            if "eol_magnets" in ds.material.values else np.zeros(len(years))
        rr = val(("recycling_recovery",), st.recycling_recovery)
        cap_rec = eol[yi] / 12.0
        redirect[-1] = 1.0
        if np.ndim(rr):
            # per-sample recovery: a ramp from month 0 carries the sampled capacity
            ramps.append(Ramp(rec_origin, mat, added=cap_rec[0] * rr, start=0, name="recycling"))
        else:
            capacity[:, -1, 0] = cap_rec * float(rr)
        assumptions.append(f"recycled magnets: collected end-of-life magnets in {focus} "
                           f"({eol[by]:,.0f} t/yr in {years[by]}) x recovery, magnet for magnet")

    # ---- restrictions --------------------------------------------------------------------
    def resolve_materials(r: Any) -> set[str]:
        out: set[str] = set()
        for m in r.materials:
            if m in chain.stages:
                out |= {mm for mm, s in zip(chain.materials, chain.material_stage, strict=True)
                        if s == m and mm not in chain.external_materials}
            else:
                out.add(m)
        if r.contains:
            eidx = [chain.elements.index(e) for e in r.contains]
            comp = np.asarray(chain.composition)
            for j, mm in enumerate(chain.materials):
                if (comp[j, eidx] > 0).any():
                    out.add(mm)
        return out

    def window(parts: tuple[str, ...], w: Any) -> tuple[Any, Any]:
        s = _month_index(w.start, h0)
        if w.end is not None:
            e = _month_index(w.end, h0)
        elif w.duration is not None:
            e = s + val((*parts, "duration"), w.duration, months)
        else:
            e = T + 1200
        return s, e

    restrictions: list[Restriction] = []
    outages: list[Outage] = []
    cons_all = ds.consumption.sel(region=focus)
    imp_all = ds.imports.sel(region=focus)
    for rid, r in st.restrictions.items():
        p = ("restrictions", rid)
        mats = resolve_materials(r)
        s, e = window(p, r)
        sev = val((*p, "severity"), r.severity)
        dl = val((*p, "licence_delay"), r.licence_delay, months)
        restricted_origins = [o for o in r.origins if o in origins]
        if mat in mats and not restricted_origins:
            notes.append(f"restriction {rid}: none of {', '.join(r.origins)} supplies {mat} "
                         f"to {focus} directly; only its upstream effect is modelled")
        if mat in mats and restricted_origins:
            restrictions.append(Restriction(
                rid, (mat,), start=s, end=e, severity=sev, licence_delay=dl,
                origins=tuple(restricted_origins), exempt_sectors=tuple(
                    k for k in r.exempt_sectors if k in sectors)))
        if r.upstream:
            worst, worst_m = 0.0, None
            for mm in sorted(mats - {mat}):
                if mm not in cons_all.material.values:
                    continue
                c = float(cons_all.sel(material=mm).values[by])
                if c <= 0:
                    continue
                i_r = sum(float(imp_all.sel(origin=o, material=mm).values[by])
                          for o in r.origins if o in imp_all.origin.values)
                if i_r / c > worst:
                    worst, worst_m = i_r / c, mm
            if worst > 0:
                worst = min(worst, 1.0)
                hold_end = np.minimum(np.asarray(s) + np.asarray(dl), np.asarray(e))
                outages.append(Outage((focus,), (mat,), start=s, end=hold_end, lost=worst))
                outages.append(Outage((focus,), (mat,), start=hold_end, end=e,
                                      lost=np.asarray(sev) * worst if np.ndim(sev) else
                                      float(sev) * worst))
                notes.append(f"restriction {rid}: {worst:.0%} of {focus} consumption of "
                             f"{worst_m} comes from {', '.join(r.origins)} -> domestic "
                             f"{mat} making loses that share (x severity after the licence "
                             "delay)")

    # ---- outages, shocks ----------------------------------------------------------------------
    for oid, o in st.outages.items():
        p = ("outages", oid)
        s, e = window(p, o)
        lost = val((*p, "capacity_lost"), o.capacity_lost)
        if o.facility is not None:
            fi = fac_ids.index(o.facility)
            info = results.arrays.facilities[fi]
            if info.region not in origins:
                notes.append(f"outage {oid}: {o.facility} is in {info.region}, not a supplier "
                             f"of {focus}; ignored")
                continue
            tot = prod[region_codes.index(info.region), by]
            share = float(fac_act[fi, by]) / tot if tot > 0 else 0.0
            outages.append(Outage((info.region,), (mat,), start=s, end=e,
                                  lost=np.clip(np.asarray(lost) * share, 0, 1)))
        else:
            if o.region not in origins:
                notes.append(f"outage {oid}: {o.region} does not supply {focus}; ignored")
                continue
            outages.append(Outage((o.region,), (mat,), start=s, end=e, lost=lost))
    shocks = []
    for did, d in st.demand_shocks.items():
        p = ("demand_shocks", did)
        s, e = window(p, d)
        shocks.append(DemandShock((), tuple(k for k in d.sectors if k in sectors) or (),
                                  (), start=s, end=e,
                                  multiplier=val((*p, "multiplier"), d.multiplier)))

    # ---- stocks -------------------------------------------------------------------------------
    len(sectors)
    d0 = demand[0, 0, :, 0]  # t/month in the first month
    inventories = None
    if st.inventories is not None:
        iv = st.inventories
        mo = [val(("inventories", "sectors", k), iv.sectors[k], lambda x: np.asarray(x) * 12)
              if k in iv.sectors else val(("inventories", "months"), iv.months,
                                          lambda x: np.asarray(x) * 12) for k in sectors]
        mo_arr = np.stack([np.broadcast_to(np.asarray(m, dtype=float), (S,)) for m in mo],
                          axis=1)  # [S, K] months
        init = (mo_arr * d0[None, :])[:, None, :, None]  # [S, 1, K, 1]
        share = float(iv.refill_share)
        inventories = Inventories(initial=init, refill_rate=share * init.mean(axis=0))
    stockpiles = []
    for sid, spc in sorted(st.stockpiles.items(), key=lambda kv: kv[1].strategic):
        p = ("stockpiles", sid)
        served = [k for k in spc.sectors if k in sectors] or list(sectors)
        if spc.size is not None:
            size = val((*p, "size"), spc.size)
        else:
            dem_served = float(sum(d0[sectors.index(k)] for k in served))
            size = val((*p, "months"), spc.months, lambda x, d=dem_served: np.asarray(x) * 12 * d)
        md = math.inf if spc.max_draw is None else val((*p, "max_draw"), spc.max_draw,
                                                       lambda x: np.asarray(x) / 12)
        rr = math.inf if spc.refill_rate is None else val((*p, "refill_rate"),
                                                          spc.refill_rate,
                                                          lambda x: np.asarray(x) / 12)
        stockpiles.append(Stockpile(sid, focus, mat, initial=size, sectors=tuple(served),
                                    max_draw=md, refill_rate=rr, strategic=spc.strategic))

    prio = np.array([st.priority.get(k, st.default_tier) for k in sectors], dtype=np.int64)
    for k, v in st.assumptions.items():
        assumptions.append(f"{k}: {v}")
    model = StressModel(
        origins=tuple(origins), destinations=(focus,), sectors=sectors, materials=(mat,),
        n_samples=S, capacity=capacity, other_load=other, demand=demand, sourcing=sourcing,
        priority=prio, redirect_share=redirect, ramps=tuple(ramps), outages=tuple(outages),
        shocks=tuple(shocks), restrictions=tuple(restrictions), inventories=inventories,
        stockpiles=tuple(stockpiles), tolerance=float(st.tolerance),
    )
    return CompiledStress(model=model, horizon_start=h0, months=T, focus=focus, material=mat,
                          parameters=dict(params), assumptions=assumptions, notes=notes)
