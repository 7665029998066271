"""Validate a merged scenario document and check every cross-reference.

Problems are collected in one pass and reported together, each with its file and line.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from rareflow import resources
from rareflow.errors import Problem, RareflowInputError
from rareflow.scenario.model import Scenario
from rareflow.scenario.schema import ScenarioFile
from rareflow.scenario.schema_chain import ChainFile
from rareflow.scenario.validate import locate, validate
from rareflow.scenario.yaml_io import Located, load_yaml


def _hint(word: str, options: list[str] | set[str] | tuple[str, ...]) -> str:
    opts = sorted(options)
    close = difflib.get_close_matches(word, opts, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    if len(opts) <= 12:
        return f" (known: {', '.join(opts)})"
    return f" ({len(opts)} known; e.g. {', '.join(opts[:8])}, ...)"


def load_chain(name_or_path: str, relative_to: Path | None = None) -> tuple[ChainFile, Located]:
    """A chain file: a bundled chain by name, or a file in the scenario's folder (or below,
    when ``relative_to`` is given; any path when it is not)."""
    chain_dir = resources.chain_dir()
    known = sorted(p.stem for p in chain_dir.glob("*.yaml"))
    shown = name_or_path if len(name_or_path) <= 120 else name_or_path[:117] + "..."
    bundled = chain_dir / f"{name_or_path}.yaml"
    candidates = [bundled] if name_or_path in known else []
    if relative_to is not None:
        base = relative_to.resolve()
        candidates.append(base / name_or_path)
    else:
        base = None
        candidates.append(Path(name_or_path))
    for c in candidates:
        if resources.is_file(c):
            real = c.resolve()
            if base is not None and not (resources.is_bundled(real) or resources.is_inside(real, base)):
                raise FileNotFoundError(
                    f"chain '{shown}' is outside the scenario's folder (allowed: a bundled chain "
                    f"name ({', '.join(known)}) or a file in the scenario's folder or below)")
            doc = load_yaml(real, display=resources.display_name(real))
            return validate(ChainFile, doc), doc
    raise FileNotFoundError(f"unknown chain '{shown}' (bundled: {', '.join(known)})")



def build_scenario(doc: Located, uncertain: dict[str, Any]) -> Scenario:
    from rareflow.model.chain import compile_chain

    spec = validate(ScenarioFile, doc)
    if uncertain:
        _check_distribution_support(doc, uncertain)
    problems: list[Problem] = []

    def at(path: tuple[Any, ...], message: str) -> None:
        problems.append(Problem(message, doc.file_of(path), doc.line_of(path),
                                ".".join(map(str, path))))

    # --- the chain, with scenario overrides of process parameters ---------------------
    chain_from = doc.real_path(doc.file_of(("chain",)))
    rel = chain_from.parent if chain_from is not None else None
    try:
        chain_file, chain_doc = load_chain(spec.chain, rel)
    except FileNotFoundError as exc:
        at(("chain",), str(exc))
        raise RareflowInputError(problems) from None
    if spec.recycling is not None:
        # the recycling section's recoveries are those of the chain's recycling processes
        rec = spec.recycling
        procs = dict(chain_file.processes)
        for key, field, value in ((rec.short_loop_process, "yield_", rec.short_loop_recovery),
                                  (rec.long_loop_process, "recovery", rec.long_loop_recovery)):
            if key in procs:
                procs[key] = procs[key].model_copy(update={field: value})
        chain_file = chain_file.model_copy(update={"processes": procs})
    if spec.processes:
        procs = dict(chain_file.processes)
        for pid, ov in spec.processes.items():
            if pid not in procs:
                at(("processes", pid), f"unknown process '{pid}'{_hint(pid, procs.keys())}")
                continue
            update = {k: v for k, v in (("yield_", ov.yield_), ("recovery", ov.recovery),
                                        ("scrap_share", ov.scrap_share)) if v is not None}
            procs[pid] = procs[pid].model_copy(update=update)
        chain_file = chain_file.model_copy(update={"processes": procs})
    try:
        chain = compile_chain(chain_file)
    except RareflowInputError as exc:
        raise RareflowInputError(locate(exc.problems, chain_doc)) from None

    regions = set(spec.regions)
    groups = set(spec.region_groups)
    stages = set(chain.stages)
    materials = set(chain.materials)
    processes = set(chain.processes)
    sectors = set(chain.sectors)
    sources = set(spec.sources)

    def region(path: tuple[Any, ...], code: str, *, allow_group: bool = False) -> None:
        if code in regions or (allow_group and code in groups):
            return
        at(path, f"unknown region '{code}'{_hint(code, regions | (groups if allow_group else set()))}")

    if spec.focus_region not in regions:
        region(("focus_region",), spec.focus_region)
    for gid, g in spec.region_groups.items():
        for i, m in enumerate(g.members):
            region(("region_groups", gid, "members", i), m)
    def placed(path: tuple[Any, ...], where: str, process: str, basis: str | None,
               basis_field: str) -> None:
        """A facility or production row: its region, process and basis material."""
        region((*path, "region"), where)
        if process not in processes:
            at((*path, "process"), f"unknown process '{process}'{_hint(process, processes)}")
        elif basis is not None:
            _check_basis(chain, process, basis, (*path, basis_field), at)

    for fid, f in spec.facilities.items():
        if f is not None:
            placed(("facilities", fid), f.region, f.process, f.capacity_basis, "capacity_basis")
    for pid, p in spec.production.items():
        if p is not None:
            placed(("production", pid), p.region, p.process, p.basis, "basis")
    for sid, s in spec.self_supply.items():
        if s is None:
            continue
        region(("self_supply", sid, "region"), s.region)
        for i, proc in enumerate(s.processes):
            if proc not in processes:
                at(("self_supply", sid, "processes", i), f"unknown process '{proc}'"
                   f"{_hint(proc, processes)}")
    for did, d in spec.demand.items():
        if d is None:
            continue
        region(("demand", did, "region"), d.region)
        if d.sector not in sectors:
            at(("demand", did, "sector"), f"unknown sector '{d.sector}'{_hint(d.sector, sectors)}")
        if d.material not in materials:
            at(("demand", did, "material"), f"unknown material '{d.material}'"
               f"{_hint(d.material, materials)}")
        if d.activity is not None and d.sector in sectors:
            _check_activity(chain.sector_activity_unit.get(d.sector), d,
                            ("demand", did), at)
    if spec.reconcile is not None:
        _check_reported(spec, chain, region, at)
        _check_compositions(spec, chain, chain_file, at)
    if not problems:
        _check_growth(spec, chain, at)
        _check_suppliers(spec, chain, doc, at)
    for tid, t in spec.trade.import_shares.items():
        if t is None:
            continue
        region(("trade", "import_shares", tid, "region"), t.region)
        if t.stage not in stages:
            at(("trade", "import_shares", tid, "stage"), f"unknown stage '{t.stage}'"
               f"{_hint(t.stage, stages)}")
        for o in t.origins:
            region(("trade", "import_shares", tid, "origins", o), o)

    # --- provenance: every figure sourced or labelled an assumption ----------------------
    def provenance(path: tuple[Any, ...], rec: Any) -> None:
        if rec is None:
            return
        for i, s in enumerate(rec.source or []):
            if s not in sources:
                at((*path, "source", i) if len(rec.source) > 1 else (*path, "source"),
                   f"unknown source '{s}'{_hint(s, sources)}; add it under `sources:`")
        if not rec.has_provenance:
            at(path, "no provenance: add `source:` and `confidence:`, or `assumption:` "
               "with the reasoning")

    for section in ("facilities", "production", "self_supply", "demand"):
        for k, rec in getattr(spec, section).items():
            provenance((section, k), rec)
    for k, rec in spec.trade.import_shares.items():
        provenance(("trade", "import_shares", k), rec)
    for k, rec in spec.region_groups.items():
        provenance(("region_groups", k), rec)
    for k, rec in spec.processes.items():
        if rec.has_provenance or rec.source is not None:
            provenance(("processes", k), rec)
        else:
            at(("processes", k), "an override needs `source:` and `confidence:`, or "
               "`assumption:` with the reasoning")
    for mid, mat in chain_file.materials.items():
        if not mat.has_provenance:
            problems += locate([Problem("no provenance", path=f"materials.{mid}")], chain_doc)
        for s in mat.source or []:
            if s not in sources:
                problems += locate([Problem(f"unknown source '{s}'", path=f"materials.{mid}.source")], chain_doc)
    for pid, proc in chain_file.processes.items():
        if not proc.has_provenance:
            problems += locate([Problem("no provenance", path=f"processes.{pid}")], chain_doc)
        for s in proc.source or []:
            if s not in sources:
                problems += locate([Problem(f"unknown source '{s}'", path=f"processes.{pid}.source")], chain_doc)

    if problems:
        raise RareflowInputError(problems)
    scenario = Scenario(spec=spec, chain=chain, document=doc, uncertain=uncertain,
                        chain_file=chain_file)
    _check_sections(scenario)
    from rareflow.scenario.coverage import with_coverage

    return with_coverage(scenario)  # years the reference data do not describe


def _check_basis(chain: Any, process: str, basis: str, path: tuple[Any, ...], at: Any) -> None:
    if basis not in chain.materials:
        at(path, f"unknown material '{basis}'{_hint(basis, chain.materials)}")
        return
    k = chain.p(process)
    j = chain.m(basis)
    if chain.outputs[k, j] <= 0 and chain.inputs[k, j] <= 0:
        at(path, f"process '{process}' neither makes nor uses '{basis}'")


def _check_activity(unit: str | None, d: Any, path: tuple[Any, ...], at: Any) -> None:
    """Activity and intensity of a demand row: readable, finite, non-negative, bounded."""
    from rareflow.scenario.types import to_canonical

    per = unit or "unit"
    series = d.activity if isinstance(d.activity, dict) else {0: d.activity}
    if isinstance(d.activity, dict) and not d.activity:
        at((*path, "activity"), "a schedule needs at least one year")
    for y, v in series.items():
        if isinstance(d.activity, dict):
            ok = ((isinstance(y, int) and not isinstance(y, bool))
                  or (isinstance(y, str) and y.strip().isdigit() and len(y.strip()) <= 4))
            ok = ok and 1900 <= int(y) <= 2200
            if not ok:
                at((*path, "activity", y), f"schedule keys must be years within 1900..2200, "
                   f"got {y!r}")
                continue
        try:
            to_canonical(v, "count_rate", per)
        except ValueError as exc:
            sub = (*path, "activity", y) if isinstance(d.activity, dict) else (*path, "activity")
            at(sub, f"{exc} (activity of this sector is counted in {per}/yr)")
    try:
        to_canonical(d.intensity, "intensity", per)
    except ValueError as exc:
        at((*path, "intensity"), f"{exc} (this sector's intensity is mass per {per})")


def _check_reported(spec: Any, chain: Any, region: Any, at: Any) -> None:
    """Every name a ``reconcile:`` figure uses is one the scenario and its chain know."""
    sec = spec.reconcile
    for i, e in enumerate(sec.elements):
        if e not in chain.elements:
            at(("reconcile", "elements", i), f"unknown element '{e}'{_hint(e, chain.elements)}")
    for rid, rep in sec.reported.items():
        if rep is None:
            continue
        path = ("reconcile", "reported", rid)
        for fld in ("region", "partner"):
            code = getattr(rep, fld)
            if code is not None and code != "world":
                region((*path, fld), code, allow_group=True)
        if rep.stage is not None and rep.stage not in chain.stages:
            at((*path, "stage"), f"unknown stage '{rep.stage}'{_hint(rep.stage, chain.stages)}")
        for i, m in enumerate(rep.materials or []):
            if m not in chain.materials:
                at((*path, "materials", i), f"unknown material '{m}'{_hint(m, chain.materials)}")
        for i, e in enumerate(rep.elements or []):
            if e not in chain.elements:
                at((*path, "elements", i), f"unknown element '{e}'{_hint(e, chain.elements)}")
        if rep.process is not None and rep.process not in chain.processes:
            at((*path, "process"), f"unknown process '{rep.process}'"
               f"{_hint(rep.process, chain.processes)}")


def _check_compositions(spec: Any, chain: Any, chain_file: Any, at: Any) -> None:
    """Every ``reconcile.compositions`` figure names a material, and parts of it the
    chain knows, holding a share between 0 and 1 to estimate; ``against`` names parts it
    holds; two shares of one material each say what makes up their change."""
    from rareflow.model.reconcile import composition_share

    per_material: dict[str, list[str]] = {}
    for cid, comp in spec.reconcile.compositions.items():
        if comp is None:
            continue
        path = ("reconcile", "compositions", cid)
        if comp.material not in chain.materials:
            at((*path, "material"), f"unknown material '{comp.material}'"
               f"{_hint(comp.material, chain.materials)}")
            continue
        by_c = comp.constituents is not None
        known, kind = (chain.materials, "material") if by_c else (chain.elements, "element")
        names_ok = True
        for fld in ("elements", "constituents", "against"):
            for i, c in enumerate(getattr(comp, fld) or []):
                if c not in known:
                    names_ok = False
                    at((*path, fld, i), f"unknown {kind} '{c}'{_hint(c, known)}")
        if not names_ok:
            continue
        mat = chain_file.materials[comp.material]
        share = composition_share(mat, comp.parts, by_constituents=by_c)
        if share is None or not 0.0 < share < 1.0:
            what = "constituents" if by_c else "oxides or composition"
            at((*path, "material"), f"{comp.material} gives no share of "
               f"{', '.join(comp.parts)} to estimate (a share between 0 and 1 of a material "
               f"given by {what} is estimated)")
            continue
        if comp.against is not None:
            given = mat.constituents if by_c else (mat.oxides or mat.composition or {})
            if sum(v for e, v in given.items() if e in comp.against) <= 0:
                at((*path, "against"), f"{comp.material} holds none of "
                   f"{', '.join(comp.against)} (name parts it holds)")
        shared = per_material.setdefault(comp.material, [])
        shared.append(cid)
        if len(shared) > 1 and any(spec.reconcile.compositions[c].against is None
                                   for c in shared):
            at(path, f"{comp.material} has {len(shared)} shares to estimate "
               f"({', '.join(shared)}); give each `against` (the parts that make up its "
               "change) so that they do not interact")


def _check_suppliers(spec: Any, chain: Any, doc: Located, at: Any) -> None:
    """Every material an active process uses must have somewhere to come from.

    A process is active in a region where a facility, a production row or a
    ``self_supply`` row places it there. A material used in region R is available if a
    process making it is active in R, or is covered by a ``serves: world`` self-supply row
    (the residual supplier), or is placed by a facility or production row in some region
    (which can export it) and is not one of the products whose output is only known as
    self-supply (metal and alloy: no sourced figure, so no exporter's output to draw on).

    Removing the reference world's ``self_supply: cn_metal_alloy`` (China's metal and
    alloy making, the residual supplier), or a process from its list, would leave magnet
    makers with no alloy (a gap the balance cannot close): refused, naming what is
    missing."""
    placed: dict[tuple[str, str], tuple[Any, ...]] = {}      # (region, process) -> where
    exporters: set[str] = set()                              # placed by facility/production
    world: set[str] = set()                                  # self-supplied for the world
    self_supplied: set[str] = set()                          # self-supplied anywhere
    for section in ("facilities", "production"):
        for rid, row in getattr(spec, section).items():
            if row is not None:
                placed.setdefault((row.region, row.process), (section, rid))
                exporters.add(row.process)
    for sid, row in spec.self_supply.items():
        if row is None:
            continue
        for proc in row.processes:
            placed.setdefault((row.region, proc), ("self_supply", sid))
            self_supplied.add(proc)
            if row.serves == "world":
                world.add(proc)
    procs = list(chain.processes)
    index = {p: i for i, p in enumerate(procs)}
    makers = {j: [procs[q] for q in range(len(procs)) if chain.outputs[q, j] > 0]
              for j in range(len(chain.materials))}
    # a self_supply row removed (``null``) by the scenario: the likely cause, named first
    removed = sorted({p[1] for p in doc.lines if len(p) == 2 and p[0] == "self_supply"
                      and p[1] not in spec.self_supply}, key=str)
    reported: set[tuple[str, int]] = set()
    for (reg, proc), where in placed.items():
        k = index.get(proc)
        if k is None:
            continue
        for j, mat in enumerate(chain.materials):
            if chain.inputs[k, j] <= 0 or not makers[j] or (reg, j) in reported:
                continue
            ms = makers[j]
            if any(m in world or (reg, m) in placed for m in ms):
                continue
            # a product with sourced output elsewhere is traded; one whose output is only
            # ever self-supplied (no sourced figure: metal, alloy) needs a world supplier
            if any(m in exporters for m in ms) and not any(m in self_supplied for m in ms):
                continue
            reported.add((reg, j))
            names = " or ".join(repr(m) for m in ms[:4])
            cause, at_path = "", where
            if removed:
                cause = f"self_supply.{removed[0]} is removed, so "
                at_path = ("self_supply", removed[0])
            else:
                rows = [sid for sid, row in spec.self_supply.items()
                        if row is not None and row.serves == "world"]
                if rows:
                    at_path = ("self_supply", rows[0], "processes")
            why = (f"its output is only known as self-supply, so no other region's {names} "
                   "can be counted on" if any(m in exporters for m in ms)
                   else f"no facility or production row places {names} in any region")
            at(at_path, f"{cause}nothing supplies '{mat}' to process '{proc}' in {reg} "
               f"({_dot(where)}): {why}, none is self-supplied in {reg}, and no "
               "`self_supply` row with `serves: world` covers it (add one, as the "
               "reference world's self_supply.cn_metal_alloy does)")


def _dot(path: tuple[Any, ...]) -> str:
    return ".".join(map(str, path))


def _check_distribution_support(doc: Located, uncertain: dict[str, Any]) -> None:
    """Both ends of every distribution must be valid values of its field.

    The loader validates a distribution's central value; here its low and high ends (the
    0.0001 % and 99.9999 % quantiles where it is unbounded) are put in its place in turn and
    the document validated again, so ``severity: {dist: uniform, low: 10 %, high: 150 %}``
    or a normal capacity that can go negative is refused before any sample is drawn."""
    import numpy as np

    problems: list[Problem] = []
    for dotted, dist in uncertain.items():
        node: Any = doc.data
        parts = dotted.split(".")
        keys: list[Any] = []
        try:
            for part in parts:
                key: Any = part
                if isinstance(node, list):
                    key = int(part)
                elif isinstance(node, dict) and part not in node and part.lstrip("-").isdigit():
                    key = int(part)
                keys.append(key)
                if part is not parts[-1]:
                    node = node[key]
            central = node[keys[-1]]
        except (KeyError, IndexError, ValueError, TypeError):
            continue
        unit = ""
        if isinstance(central, str) and len(central.split(maxsplit=1)) == 2:
            unit = central.split(maxsplit=1)[1]
        lo, hi = dist.support()
        bounded = bool(np.isfinite(lo) and np.isfinite(hi))
        if not (np.isfinite(lo) and np.isfinite(hi)):
            q = dist.ppf(np.array([1e-6, 1 - 1e-6]))
            lo = lo if np.isfinite(lo) else float(q[0])
            hi = hi if np.isfinite(hi) else float(q[1])
        try:
            for end, x in (("low", lo), ("high", hi)):
                node[keys[-1]] = f"{float(x)!r} {unit}" if unit else float(x)
                try:
                    validate(ScenarioFile, doc)
                except RareflowInputError as exc:
                    # the central value validated: any problem now is this end's
                    mine = exc.problems
                    hint = "" if bounded else " (truncate it with low: and high:)"
                    line = doc.line_of(tuple(keys)) or None
                    for p in mine[:1]:
                        problems.append(Problem(
                            f"the distribution's {end} end ({float(x):.4g}) is not a valid "
                            f"value here: {p.message}{hint}", doc.file_of(tuple(keys)) if line
                            else p.file, line or p.line, dotted))
                    if mine:
                        break
        finally:
            node[keys[-1]] = central
    if problems:
        raise RareflowInputError(problems)


def _check_growth(spec: Any, chain: Any, at: Any) -> None:
    """A row's tonnage, grown by its ``growth`` to the last model year, stays below the
    mass-rate bound (1e9 t/yr): ``growth: 50 %/yr`` over 70 years must not reach 1e12 t/yr."""
    import math

    from rareflow.scenario.types import UPPER_BOUNDS, to_canonical

    limit, shown = UPPER_BOUNDS["mass_rate"]
    end = spec.years.end
    first = spec.years.start

    def peak(values: dict[int, float], growth: float) -> float:
        last = max(values)
        years = max(0, end - (first if last == 0 else last))
        top = max(values.values())
        if growth <= 0 or years == 0 or values[last] <= 0:
            return top
        logv = math.log(values[last]) + years * math.log1p(growth)
        return math.inf if logv > 700 else max(top, math.exp(logv))

    def check(path: tuple[Any, ...], values: dict[int, float], growth: float, what: str) -> None:
        x = peak(values, growth)
        if x > limit:
            at((*path, "growth"), f"growth of {growth * 100:.4g} %/yr takes {what} to "
               f"{x:.3g} t/yr by {end} (allowed: at most {shown} in any model year; lower "
               "the growth or the end year)")

    for pid, p in spec.production.items():
        if p is not None and p.growth:
            check(("production", pid), p.values, p.growth, "this production")
    for did, d in spec.demand.items():
        if d is None or not d.growth:
            continue
        if d.quantity is not None:
            check(("demand", did), d.quantity, d.growth, "this demand")
            continue
        per = chain.sector_activity_unit.get(d.sector) or "unit"
        try:
            inten = to_canonical(d.intensity, "intensity", per)
            raw = d.activity if isinstance(d.activity, dict) else {0: d.activity}
            acts = {int(y): to_canonical(v, "count_rate", per) for y, v in raw.items()}
        except (ValueError, TypeError):
            continue    # reported by _check_activity
        check(("demand", did), {y: a * inten * d.share for y, a in acts.items()}, d.growth,
              "this demand")


def _check_sections(scenario: Scenario) -> None:
    """Engine-specific checks of the optional sections, if their packages provide one."""
    import importlib

    problems: list[Problem] = []
    for section in ("recycling", "stress", "plan", "economics", "history"):
        if getattr(scenario.spec, section) is None:
            continue
        try:
            mod = importlib.import_module(f"rareflow.scenario.schema_{section}")
        except ImportError:  # pragma: no cover
            continue
        check = getattr(mod, "check", None)
        if check is None:
            continue
        try:
            check(scenario)
        except RareflowInputError as exc:
            problems += exc.problems
    if problems:
        raise RareflowInputError(problems)
