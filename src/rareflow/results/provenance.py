"""Provenance of every default figure of a scenario (and its chain), as rows."""

from __future__ import annotations

from typing import Any

from rareflow.scenario.model import Scenario


def _row(figure: str, sources: list[str], rec: Any, where: tuple[str, int | None]) -> dict[str, Any]:
    """One provenance row: ``rec`` carries ``confidence``, ``assumption`` and ``note`` (any
    may be missing); without sources it is an assumption, of low confidence unless stated."""
    assumption = getattr(rec, "assumption", None)
    return {"figure": figure, "kind": "sourced" if sources else "assumption",
            "sources": list(sources),
            "confidence": getattr(rec, "confidence", None) or ("low" if assumption else None),
            "assumption": assumption, "note": getattr(rec, "note", None),
            "file": where[0], "line": where[1]}


def provenance_table(scenario: Scenario) -> list[dict[str, Any]]:
    """One row per sourced record: figure, kind (sourced | assumption), sources,
    confidence, note or assumption text, file and line."""
    from rareflow.scenario.build import load_chain

    spec = scenario.spec
    rows: list[dict[str, Any]] = []

    def add(figure: str, rec: Any, where: tuple[str, int | None]) -> None:
        if rec is not None:
            rows.append(_row(figure, list(rec.source or []), rec, where))

    for section in ("facilities", "production", "self_supply", "demand"):
        for key, rec in getattr(spec, section).items():
            add(f"{section}.{key}", rec, scenario.where(f"{section}.{key}"))
    for key, fac in spec.facilities.items():   # plant figures: one row per cost figure
        plant = fac.plant if fac is not None else None
        for name in type(plant).model_fields if plant is not None else ():
            fig = getattr(plant, name)
            if fig is None:
                continue
            path = f"facilities.{key}.plant.{name}"
            rows.append(_row(path, [fig.source] if fig.source else [], fig, scenario.where(path)))
    for key, rec in spec.trade.import_shares.items():
        add(f"trade.import_shares.{key}", rec, scenario.where(f"trade.import_shares.{key}"))
    for key, rec in spec.region_groups.items():
        add(f"region_groups.{key}", rec, scenario.where(f"region_groups.{key}"))
    chain_file, chain_doc = load_chain(spec.chain)
    for key, rec in chain_file.materials.items():
        add(f"chain.materials.{key}", rec, (chain_doc.file, chain_doc.line_of(("materials", key))))
    for key, rec in chain_file.processes.items():
        add(f"chain.processes.{key}", rec, (chain_doc.file, chain_doc.line_of(("processes", key))))
    return rows


def section_provenance(scenario: Scenario, section: str) -> list[dict[str, Any]]:
    """The sourced records under one analysis section of the scenario (``stress``, ``plan``,
    ``recycling``...): every object in it that carries a ``source`` or an ``assumption``,
    as rows of :func:`provenance_table` (its dotted path as ``figure``)."""
    from pydantic import BaseModel

    rows: list[dict[str, Any]] = []

    def visit(obj: Any, path: str) -> None:
        if isinstance(obj, BaseModel):
            src, asm = getattr(obj, "source", None), getattr(obj, "assumption", None)
            if isinstance(src, str):
                src = [src]
            if (src and not isinstance(src, BaseModel)) or isinstance(asm, str):
                rows.append(_row(path, list(src or []), obj, scenario.where(path)))
            for name in type(obj).model_fields:
                visit(getattr(obj, name), f"{path}.{name}")
        elif isinstance(obj, dict):
            for k, v in obj.items():
                visit(v, f"{path}.{k}")
        elif isinstance(obj, (list, tuple)):
            for i, v in enumerate(obj):
                visit(v, f"{path}.{i}")

    visit(getattr(scenario.spec, section, None), section)
    return rows
