"""World totals and net import reliance from the stored tables.

Everything here is a pure function of a :class:`~rareflow.results.balance_check.StoredFlows`
(the ``flows``, ``trade`` and ``activity`` tables as dense arrays) and the compiled chain;
results are plain arrays or JSON-ready dicts. No stage, region, material or element name
is written here: they come from the chain (``stages``, ``stage_kind``, ``material_stage``,
``sectors``, ``reference_material``, ``composition``) or from the caller.

Definitions
-----------
* **production stages**: the chain's stages of kind ``conversion``;
* **mining stage**: the first production stage in chain order (where the chain takes its
  feed from nature); *mine production* is the output of that stage's processes
  (activity x output coefficients), in the stage's basis (t REO for the magnet chain);
* **magnet stage**: the stage of the chain's ``reference_material`` (the last production
  stage if the chain names none); *magnets* are the materials of that stage that some
  sector ``uses:`` (so scrap and swarf, which no sector uses, are left out);
* **magnet elements**: a list given by the caller, else the elements of the reference
  material that the chain itself supplies: its composition minus ``other``, oxygen and every
  element carried by a material from outside the chain (``external: true``);
* **net import reliance** (USGS): ``(imports - exports + stock change) / apparent
  consumption`` with apparent consumption ``= production + imports - exports + stock
  change``, in t of the stage's materials (mass terms, materials from outside the chain left
  out, as in the ``stages`` table). The model's residuals enter as USGS's adjustments:
  ``unmet`` (a deficit no modelled exporter covers) counts as imports from origins the data
  do not name, ``unsold - unrecorded`` as stock build. By the regional balance this equals
  ``net_imports_t / consumption_t`` summed over the stage's materials. Clipped at 0 for a
  net exporter; ``None`` (NaN in arrays) where apparent consumption is 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from rareflow.model.chain import OTHER, OXYGEN

DIGITS = 6
TOTALS = ("production_t", "consumption_t", "imports_t", "exports_t", "unmet_t", "unsold_t",
          "unrecorded_t")


# ---------------------------------------------------------------------------- the chain's roles

def production_stages(chain: Any) -> list[str]:
    """The chain's conversion stages, in chain order."""
    return [g for g in chain.stages if chain.stage_kind[g] == "conversion"]


def mining_stage(chain: Any) -> str:
    """The first production stage (the chain's feed from nature)."""
    return production_stages(chain)[0]


def magnet_stage(chain: Any) -> str:
    """The stage of the chain's reference material (else the last production stage)."""
    if chain.reference_material:
        return str(chain.material_stage[chain.m(chain.reference_material)])
    return production_stages(chain)[-1]


def magnet_materials(chain: Any) -> list[str]:
    """Materials of the magnet stage that some sector uses (not scrap; not external)."""
    g = magnet_stage(chain)
    used = {m for uses in chain.sectors.values() for m in uses}
    mats = [m for m in chain.stage_materials(g) if m in used and m not in chain.external_materials]
    if mats:
        return mats
    return [chain.reference_material] if chain.reference_material else [
        m for m in chain.stage_materials(g) if m not in chain.external_materials]


def magnet_elements(chain: Any, given: Sequence[str] | None = None) -> list[str]:
    """``given`` (checked against the chain), else the elements of the reference material
    that the chain supplies (not ``other``, oxygen or any external material's elements)."""
    if given:
        unknown = [e for e in given if e not in chain.elements]
        if unknown:
            raise KeyError(f"unknown element(s) {', '.join(unknown)} "
                           f"(known: {', '.join(chain.elements)})")
        return list(given)
    C = chain.composition
    ref = chain.reference_material or magnet_materials(chain)[0]
    row = C[chain.m(ref)]
    outside = np.zeros(len(chain.elements), bool)
    for m in chain.external_materials:
        outside |= C[chain.m(m)] > 0
    return [e for i, e in enumerate(chain.elements)
            if row[i] > 0 and not outside[i] and e not in (OTHER, OXYGEN)]


def _mask(chain: Any, materials: Iterable[str]) -> np.ndarray:
    want = set(materials)
    return np.array([m in want for m in chain.materials], float)


def _stage_mask(chain: Any, stage: str) -> np.ndarray:
    return _mask(chain, [m for m in chain.stage_materials(stage)
                         if m not in chain.external_materials])


# ---------------------------------------------------------------------------- arrays

def stage_totals(s: Any, stage: str) -> dict[str, np.ndarray]:
    """Each of :data:`TOTALS` summed over the stage's materials (outside materials left
    out): ``{column: [region, year]}`` in t/yr."""
    mask = _stage_mask(s.chain, stage)
    return {col: np.einsum("rmy,m->ry", s.flows[col], mask) for col in TOTALS}


def net_imports(totals: Mapping[str, np.ndarray]) -> np.ndarray:
    """Imports - exports + unmet (imports from unnamed origins) + unrecorded - unsold
    (stock change), t/yr; equals consumption - production by the regional balance."""
    return (totals["imports_t"] - totals["exports_t"] + totals["unmet_t"]
            + totals["unrecorded_t"] - totals["unsold_t"])


def net_import_reliance(totals: Mapping[str, np.ndarray], tol: float = 1e-9) -> np.ndarray:
    """USGS net import reliance (0-1), 0 for a net exporter, NaN where apparent
    consumption (production + net imports) is not above ``tol`` of the flows through."""
    net = net_imports(totals)
    apparent = totals["production_t"] + net
    scale = np.maximum(totals["production_t"], totals["consumption_t"])
    with np.errstate(invalid="ignore", divide="ignore"):
        nir = np.where(apparent > tol * np.maximum(scale, 1e-300), net / apparent, np.nan)
    return np.where(np.isnan(nir), np.nan, np.clip(nir, 0.0, 1.0))


def mine_production(s: Any) -> np.ndarray:
    """[region, year]: output of the mining stage's processes, t/yr (the stage's basis)."""
    c = s.chain
    procs = [k for k, g in enumerate(c.process_stage) if g == mining_stage(c)]
    return np.einsum("rpy,pm->ry", s.activity[:, procs], c.outputs[procs])


def magnet_production(s: Any) -> np.ndarray:
    """[region, year]: production of magnets (:func:`magnet_materials`), t/yr."""
    return np.einsum("rmy,m->ry", s.flows["production_t"], _mask(s.chain, magnet_materials(s.chain)))


def magnet_exports(s: Any) -> np.ndarray:
    """[region, year]: exports of magnets, t/yr."""
    return np.einsum("rmy,m->ry", s.flows["exports_t"], _mask(s.chain, magnet_materials(s.chain)))


def magnet_element_content(s: Any, elements: Sequence[str]) -> np.ndarray:
    """[region, element, year]: ``elements`` contained in the magnets made, t/yr
    (production x the chain's composition)."""
    c = s.chain
    ei = [c.elements.index(e) for e in elements]
    mask = _mask(c, magnet_materials(c))
    return np.einsum("rmy,m,me->rey", s.flows["production_t"], mask, c.composition[:, ei])


def magnet_input_element_content(s: Any, elements: Sequence[str]) -> np.ndarray:
    """[region, element, year]: ``elements`` in what magnet making consumes (the magnet
    stage's processes' inputs from earlier stages: alloy, swarf and losses included), t/yr.
    Sources that count rare-earth demand for magnets count this, not the finished magnets."""
    c = s.chain
    ei = [c.elements.index(e) for e in elements]
    g = magnet_stage(c)
    makers = [k for k, st in enumerate(c.process_stage) if st == g]
    fed = (c.inputs[makers] > 0).any(axis=0) if makers else np.zeros(len(c.materials), bool)
    mask = np.array([bool(fed[m]) and c.material_stage[m] != g
                     and c.materials[m] not in c.external_materials
                     for m in range(len(c.materials))], float)
    return np.einsum("rmy,m,me->rey", s.flows["process_use_t"], mask, c.composition[:, ei])


def trade_matrix(s: Any, stage: str) -> np.ndarray:
    """[importer, origin, year]: imports of the stage's materials by origin, t/yr."""
    return np.einsum("romy,m->roy", s.trade, _stage_mask(s.chain, stage))


def active_regions(s: Any) -> list[str]:
    """Regions with any production or consumption in a production stage."""
    mask = sum(_stage_mask(s.chain, g) for g in production_stages(s.chain))
    tot = np.einsum("rmy,m->r", s.flows["production_t"] + s.flows["consumption_t"], mask)
    return [r for r, v in zip(s.regions, tot, strict=True) if v > 0]


# ---------------------------------------------------------------------------- JSON

def _num(x: float, digits: int = DIGITS) -> float | None:
    x = float(x)
    return round(x, digits) if np.isfinite(x) else None


def slug(text: str) -> str:
    """``'Burma (Myanmar)'`` -> ``'burma_myanmar'``: a region name as a JSON key part."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def world_by_year(s: Any, *, exporters_of_note: Sequence[str] = (),
                  elements: Sequence[str] | None = None,
                  region_names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``{year: {...}}`` world totals (see the module docstring), t/yr.

    Keys per year: ``mine_production_t_reo``, ``magnet_production_t``,
    ``magnet_rare_earth_demand_t`` (and ``..._by_element_t``), the same elements in what
    magnet making consumes (``magnet_making_rare_earth_input_t``), ``magnet_exports_t``
    (``{region: t}``, exporting regions only), ``largest_magnet_producer`` and
    ``largest_magnet_producer_exports_t``, and for each region of ``exporters_of_note``
    ``<slug of its name>_magnet_exports_t`` (e.g. ``china_magnet_exports_t``).
    """
    els = magnet_elements(s.chain, elements)
    mine = mine_production(s).sum(axis=0)
    made = magnet_production(s)                                # [R, Y]
    exports = magnet_exports(s)
    content = magnet_element_content(s, els).sum(axis=0)       # [E, Y]
    fed = magnet_input_element_content(s, els).sum(axis=0)     # [E, Y]
    names = dict(region_names or {})
    unknown = [r for r in exporters_of_note if r not in s.regions]
    if unknown:
        raise KeyError(f"exporter(s) of note not modelled: {', '.join(unknown)} "
                       f"(regions: {', '.join(s.regions)})")
    out: dict[str, Any] = {}
    for yi, y in enumerate(s.years):
        top = int(np.argmax(made[:, yi]))
        leader = s.regions[top] if made[top, yi] > 0 else None
        row: dict[str, Any] = {
            "mine_production_t_reo": _num(mine[yi]),
            "magnet_production_t": _num(made[:, yi].sum()),
            "magnet_rare_earth_demand_t": _num(content[:, yi].sum()),
            "magnet_rare_earth_demand_by_element_t": {e: _num(content[i, yi])
                                                      for i, e in enumerate(els)},
            "magnet_making_rare_earth_input_t": _num(fed[:, yi].sum()),
            "magnet_exports_t": {r: _num(exports[ri, yi]) for ri, r in enumerate(s.regions)
                                 if exports[ri, yi] > 0},
            "largest_magnet_producer": leader,
            "largest_magnet_producer_exports_t":
                _num(exports[top, yi]) if leader is not None else None,
        }
        for r in exporters_of_note:
            key = f"{slug(names.get(r, r)) or slug(r)}_magnet_exports_t"
            row[key] = _num(exports[s.regions.index(r), yi])
        out[str(y)] = row
    return out


def net_import_reliance_tree(s: Any) -> dict[str, Any]:
    """``{region: {stage: {year: share or None}}}`` for every region and production stage."""
    stages = production_stages(s.chain)
    by_stage = {g: net_import_reliance(stage_totals(s, g)) for g in stages}
    return {r: {g: {str(y): _num(by_stage[g][ri, yi]) for yi, y in enumerate(s.years)}
                for g in stages}
            for ri, r in enumerate(s.regions)}


def world_basis(s: Any, *, exporters_of_note: Sequence[str] = (),
                elements: Sequence[str] | None = None) -> dict[str, Any]:
    """What the ``world`` block and ``net_import_reliance`` were computed over."""
    c = s.chain
    return {
        "mining_stage": mining_stage(c), "magnet_stage": magnet_stage(c),
        "magnet_materials": magnet_materials(c),
        "magnet_elements": magnet_elements(c, elements),
        "exporters_of_note": list(exporters_of_note),
        "production_stages": production_stages(c),
        "net_import_reliance": "USGS: (imports - exports + unmet + unrecorded - unsold) / "
                               "(production + the same), t of the stage's materials; "
                               "0 for a net exporter, null where apparent consumption is 0",
    }


def world_summary(s: Any, *, exporters_of_note: Sequence[str] = (),
                  elements: Sequence[str] | None = None,
                  region_names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The summary.json entries: ``world``, ``world_basis`` and ``net_import_reliance``."""
    return {
        "world": world_by_year(s, exporters_of_note=exporters_of_note, elements=elements,
                               region_names=region_names),
        "world_basis": world_basis(s, exporters_of_note=exporters_of_note, elements=elements),
        "net_import_reliance": net_import_reliance_tree(s),
    }


def settings_of(scenario: Any) -> dict[str, Any]:
    """Keyword arguments for :func:`world_summary` from a scenario: its optional
    ``world_summary: {exporters_of_note: [..], magnet_elements: [..]}`` (also
    ``exporter_of_note: CN``) and its region names."""
    spec = scenario.spec
    ws = getattr(spec, "world_summary", None)

    def get(key: str) -> Any:
        if ws is None:
            return None
        return ws.get(key) if isinstance(ws, Mapping) else getattr(ws, key, None)

    note = list(get("exporters_of_note") or [])
    one = get("exporter_of_note")
    if one and one not in note:
        note.append(one)
    return {"exporters_of_note": note, "elements": list(get("magnet_elements") or []) or None,
            "region_names": {k: v.name for k, v in spec.regions.items()}}
