"""Answers from a run store: the level of a sweep axis at which a figure crosses a line.

"How late can Vulcan be before 2030 coverage falls below 50 %?" is, over the runs of a
sweep, the smallest ``vulcan_delay_years`` at which ``domestic_coverage.US.magnet.2030``
is below 0.5, for each combination of the other axes (and each scenario).

Examples
--------
>>> from rareflow.store import open_store
>>> from rareflow.store.answers import sweep_answers
>>> for a in sweep_answers(open_store("store"), "us-ramp-delays"):   # doctest: +SKIP
...     print(a.title); print(a.table)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rareflow.store.store import SUMMARY, Store
from rareflow.store.sweep import Answer

SPECS = "sweeps"


@dataclass(frozen=True)
class Crossing:
    """One answer: ``table`` has a row per scenario and combination of the other axes,
    with ``crossing`` (the first level of ``factor`` past the line; None if none is) and
    ``values`` (level -> the figure)."""

    spec: Answer
    title: str
    table: Any   # pandas.DataFrame


def dig(doc: Any, dotted: str) -> Any:
    """The value at a dotted path in a nested summary (None where a step is missing)."""
    for part in dotted.split("."):
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return None
    return doc


def _title(a: Answer) -> str:
    if a.name:
        return a.name
    line = f"below {a.below:g}" if a.below is not None else f"above {a.above:g}"
    return f"{a.factor} at which {a.metric} ({a.engine}) is {line}"


def crossing(store: Store, answer: Answer, sweep: str | None = None) -> Crossing:
    """The smallest level of ``answer.factor`` at which ``answer.metric`` crosses the line,
    over the finished runs of ``answer.engine`` (of ``sweep`` if given), grouped by
    scenario and every other factor."""
    import pandas as pd

    rows = []
    for m in store.manifests():
        if m.get("status") != "finished" or m.get("engine") != answer.engine:
            continue
        if sweep is not None and m.get("sweep") != sweep:
            continue
        factors = dict(m.get("factors") or {})
        if answer.factor not in factors:
            continue
        summary = json.loads((store.run_dir(m["run_id"]) / SUMMARY).read_text(encoding="utf-8"))
        value = dig(summary, answer.metric)
        level = factors.pop(answer.factor)
        rows.append({"scenario": m["scenario"], "group": json.dumps(factors, sort_keys=True),
                     "level": level, "value": value})
    out = []
    for (scenario, group), g in _groups(rows):
        g = sorted(g, key=lambda r: _sort_key(r["level"]))
        hit = None
        for r in g:
            v = r["value"]
            if isinstance(v, int | float) and (
                    (answer.below is not None and v < answer.below)
                    or (answer.above is not None and v > answer.above)):
                hit = r["level"]
                break
        values = {str(r["level"]): (round(r["value"], 4) if isinstance(r["value"], float)
                                    else r["value"]) for r in g}
        out.append({"scenario": scenario, **json.loads(group), "crossing": hit, "values": values})
    table = pd.DataFrame(out)
    if len(table):
        table = table.sort_values([c for c in table.columns if c not in ("crossing", "values")],
                                  kind="stable").reset_index(drop=True)
    return Crossing(answer, _title(answer), table)


def _sort_key(level: Any) -> tuple[int, Any]:
    return (0, level) if isinstance(level, int | float) else (1, str(level))


def _groups(rows: list[dict[str, Any]]) -> list[tuple[tuple[str, str], list[dict[str, Any]]]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["scenario"], r["group"]), []).append(r)
    return sorted(groups.items())


def save_answers_spec(store: Store, name: str, answers: list[Answer]) -> None:
    """Keep a sweep's answers with the store (``sweeps/<name>.json``), for later readers."""
    from rareflow.results.io import atomic_write_json

    atomic_write_json(store.root / SPECS / f"{name}.json",
                      {"name": name, "answers": [a.model_dump(mode="json") for a in answers]})


def sweep_answers(store: Store, sweep: str) -> list[Crossing]:
    """Every answer the sweep ``sweep`` declared (kept in the store by ``rareflow sweep``)."""
    p = store.root / SPECS / f"{sweep}.json"
    if not p.is_file():
        return []
    doc = json.loads(p.read_text(encoding="utf-8"))
    return [crossing(store, Answer.model_validate(a), sweep) for a in doc.get("answers", [])]
