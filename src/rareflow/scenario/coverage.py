"""Years the data do not describe: which records a scenario uses outside their ``years``.

Every reference record states the years its figures describe (``years:``, extended by the
years of its ``{year: value}`` schedules; see :mod:`rareflow.scenario.provenance`). A
scenario year *before* them has no data behind it, and the engines fill it in one of these
ways, each reported here:

* ``held constant``: a level figure (a schedule's first value, a single value, import
  shares, a region group's members, a facility's capacity) is used as it is;
* ``extrapolated``: a single value with a ``growth`` rate is taken for the scenario's first
  year and grown from there, so at its own year it is no longer the described figure;
* ``zero``: a facility without ``start_year`` whose capacity schedule begins after the
  scenario's first year counts no capacity before it (right for a plant not yet built,
  wrong for one that ran before the data begin).

A facility's years before its ``start_year`` are zero by definition and not reported.
Years *after* the described ones are the scenario's projection (figures held, or grown by
the record's ``growth``), the method every bundled scenario states; they are not reported.
A scenario that ends before a record's first described year is refused: no scenario year
is described, and figures are not extrapolated backwards.

Each report is a :class:`RareflowDataWarning` and is kept on
``Scenario.coverage_warnings`` for the command line (stderr, ``summary.json``).
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from typing import Any

from rareflow import resources
from rareflow.errors import Problem, RareflowDataWarning, RareflowInputError
from rareflow.scenario.model import Scenario

#: the fields that carry a record's figures, by section
LEVEL_FIELDS: dict[str, tuple[str, ...]] = {
    "facilities": ("capacity", "utilisation"),
    "production": ("values",),
    "demand": ("activity", "intensity", "quantity", "share"),
    "self_supply": ("processes", "serves"),
    "trade.import_shares": ("origins",),
    "region_groups": ("members",),
}


@dataclass(frozen=True)
class Uncovered:
    """One record used for scenario years its data do not describe."""

    path: str                      # dotted path of the record, e.g. production.cn_magnets
    file: str
    line: int | None
    described: tuple[int, int]     # first and last described year
    years: tuple[int, int]         # the scenario years outside them (first, last)
    treatment: str                 # held constant | extrapolated | zero
    detail: str = ""

    def format(self) -> str:
        where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        a, b = self.described
        desc = f"{a}" if a == b else f"{a}-{b}"
        y0, y1 = self.years
        span = f"{y0}" if y0 == y1 else f"{y0}-{y1}"
        extra = f" ({self.detail})" if self.detail else ""
        return (f"{where}{self.path}: warning: described years {desc}; "
                f"{self.treatment} for {span}{extra}")

    def as_dict(self) -> dict[str, Any]:
        return {"record": self.path, "file": self.file, "line": self.line,
                "described_years": list(self.described), "years": list(self.years),
                "treatment": self.treatment, "detail": self.detail,
                "message": self.format()}


def _records(spec: Any) -> list[tuple[str, tuple[Any, ...], Any]]:
    out: list[tuple[str, tuple[Any, ...], Any]] = []
    for section in ("facilities", "production", "demand", "self_supply", "region_groups"):
        for k, rec in getattr(spec, section).items():
            if rec is not None:
                out.append((section, (section, k), rec))
    for k, rec in spec.trade.import_shares.items():
        if rec is not None:
            out.append(("trade.import_shares", ("trade", "import_shares", k), rec))
    return out


def _dated(series: Any) -> list[int]:
    """The years of a ``{year: value}`` schedule (none for a single value)."""
    if isinstance(series, dict) and series and all(
            str(k).isdigit() and len(str(k)) == 4 for k in series):
        return [int(y) for y in series]
    return []


def _is_reference(doc: Any, path: tuple[Any, ...]) -> bool:
    """A record first written in a bundled file or in a ``_reference/`` folder."""
    shown = doc.file_of(path)
    real = doc.real_path(shown)
    if real is None:
        return False
    return resources.is_bundled(real) or "_reference" in real.parent.parts


def check_years(scenario: Scenario) -> list[Uncovered]:
    """Records whose described years do not cover the scenario's years (before them).

    Raises :class:`RareflowInputError` for a reference record without ``years`` and for a
    record whose described years all come after the scenario's last year.
    """
    spec, doc = scenario.spec, scenario.document
    first, last = scenario.years[0], scenario.years[-1]
    problems: list[Problem] = []
    found: list[Uncovered] = []
    for section, path, rec in _records(spec):
        dotted = ".".join(map(str, path))
        if rec.years is None:
            if _is_reference(doc, path):
                problems.append(Problem(
                    "no `years:` (the years its figures describe: `years: 2024` or "
                    "`years: [2021, 2024]`)", doc.file_of(path), doc.line_of(path), dotted))
            continue
        doc_rec = _doc_at(doc, path)
        fields = [f for f in LEVEL_FIELDS[section] if f in doc_rec]
        years_file = doc.file_of((*path, "years"))
        if fields and all(doc.file_of((*path, f)) != years_file for f in fields):
            continue  # every figure overridden without `years`: describes every year
        # described years: `years`, plus the years of the record's schedules
        dated: list[int] = []
        for f in fields:
            if doc.file_of((*path, f)) == years_file:
                dated += _dated(doc_rec.get(f))
        d0 = min([rec.years[0], *dated])
        d1 = max([rec.years[1], *dated])
        if first >= d0:
            continue
        start = getattr(rec, "start_year", None)
        if section == "facilities":
            if rec.status == "idle" or rec.capacity is None:
                continue
            y_from = first
            y_to = min(d0 - 1, last)
            if start is not None:
                if start > y_to:
                    continue  # zero before the plant's start, by definition
                y_from = max(first, start)
            cap_years = _dated(rec.capacity)
            if cap_years and y_to < min(cap_years):
                treatment, detail = "zero", (f"no start_year; capacity given from "
                                             f"{min(cap_years)}")
            else:
                treatment, detail = "held constant", "capacity and utilisation"
            found.append(Uncovered(f"{dotted}.capacity", doc.file_of((*path, "capacity")),
                                   doc.line_of((*path, "capacity")), (d0, d1),
                                   (y_from, y_to), treatment, detail))
            continue
        if d0 > last:
            problems.append(Problem(
                f"described years {_span(d0, d1)}; the scenario's years {first}-{last} all "
                "come before them and figures are not extrapolated backwards: give "
                "values for these years (a {year: value} schedule) or later years",
                doc.file_of(path), doc.line_of(path), dotted))
            continue
        treatment, detail, where = "held constant", "", fields[0] if fields else None
        growth = getattr(rec, "growth", 0.0) or 0.0
        if section in ("production", "demand"):
            main = "values" if section == "production" else (
                "quantity" if rec.quantity is not None else "activity")
            where = main
            undated = not _dated(doc_rec.get(main))
            if undated and growth:
                treatment = "extrapolated"
                factor = (1.0 + growth) ** (d0 - first)
                detail = (f"its {d0} figure is taken for {first} and grown "
                          f"{growth:.1%}/yr from there: {factor:.2g}x the figure by {d0}")
        sub = (*path, where) if where else path
        found.append(Uncovered(f"{dotted}.{where}" if where else dotted, doc.file_of(sub),
                               doc.line_of(sub), (d0, d1), (first, d0 - 1), treatment,
                               detail))
    if problems:
        raise RareflowInputError(problems)
    return found


def _span(a: int, b: int) -> str:
    return f"{a}" if a == b else f"{a}-{b}"


def _doc_at(doc: Any, path: tuple[Any, ...]) -> dict[str, Any]:
    node: Any = doc.data
    for p in path:
        node = node.get(p) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def with_coverage(scenario: Scenario) -> Scenario:
    """The scenario with its coverage warnings attached, each also issued through
    :mod:`warnings` as a :class:`RareflowDataWarning`."""
    found = check_years(scenario)
    for u in found:
        warnings.warn(u.format(), RareflowDataWarning, stacklevel=4)
    return dataclasses.replace(scenario, coverage_warnings=tuple(found))
