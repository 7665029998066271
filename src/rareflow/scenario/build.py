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
            if base is not None and not (resources.is_bundled(real) or _inside(real, base)):
                raise FileNotFoundError(
                    f"chain '{shown}' is outside the scenario's folder (allowed: a bundled chain "
                    f"name ({', '.join(known)}) or a file in the scenario's folder or below)")
            doc = load_yaml(real, display=resources.display_name(real))
            return validate(ChainFile, doc), doc
    raise FileNotFoundError(f"unknown chain '{shown}' (bundled: {', '.join(known)})")


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def build_scenario(doc: Located, uncertain: dict[str, Any]) -> Scenario:
    from rareflow.model.chain import compile_chain

    spec = validate(ScenarioFile, doc)
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
    scenario = Scenario(spec=spec, chain=chain, document=doc, uncertain=uncertain)
    _check_sections(scenario)
    return scenario


def _check_basis(chain: Any, process: str, basis: str, path: tuple[Any, ...], at: Any) -> None:
    if basis not in chain.materials:
        at(path, f"unknown material '{basis}'{_hint(basis, chain.materials)}")
        return
    k = chain.p(process)
    j = chain.m(basis)
    if chain.outputs[k, j] <= 0 and chain.inputs[k, j] <= 0:
        at(path, f"process '{process}' neither makes nor uses '{basis}'")


def _check_activity(unit: str | None, d: Any, path: tuple[Any, ...], at: Any) -> None:
    from rareflow.units import UnitProblem, parse

    per = unit or "unit"
    series = d.activity if isinstance(d.activity, dict) else {0: d.activity}
    for y, v in series.items():
        try:
            parse(v, "count_rate", per)
        except UnitProblem as exc:
            sub = (*path, "activity", y) if isinstance(d.activity, dict) else (*path, "activity")
            at(sub, f"{exc} (activity of this sector is counted in {per}/yr)")
    try:
        parse(d.intensity, "intensity", per)
    except UnitProblem as exc:
        at((*path, "intensity"), f"{exc} (this sector's intensity is mass per {per})")


def _check_sections(scenario: Scenario) -> None:
    """Engine-specific checks of the optional sections, if their packages provide one."""
    import importlib

    problems: list[Problem] = []
    for section in ("recycling", "stress", "plan", "economics"):
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
