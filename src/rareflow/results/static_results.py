"""The static run (``rareflow.run``) behind the common results interface."""

from __future__ import annotations

import dataclasses
from typing import Any

from rareflow.results.base import ResultsBase
from rareflow.results.results import TABLES, Results


def _unit(table: str, column: str) -> str:
    if column == "year":
        return "year"
    if column.endswith("_t") or column == "capacity":
        return "t/yr"
    if column == "hhi":
        return "1 (0-10,000)"
    if column in ("import_reliance", "domestic_coverage", "allied_coverage", "china_dependence",
                  "capacity_coverage", "world_share", "utilisation"):
        return "1"
    return ""


STATIC_UNITS: dict[str, dict[str, str]] = {
    name: {c: _unit(name, c) for c in cols} for name, cols in TABLES.items()}
"""Table -> column -> unit of the static run's tables (``""``: a label, ``"1"``: a share)."""


class StaticResults(ResultsBase, Results):
    """:class:`~rareflow.results.results.Results` of a static run, with the common
    interface (``to_netcdf``, ``to_parquet``, ``units``); ``write`` writes what
    ``rareflow run`` writes, byte for byte."""

    engine = "run"
    TABLE_UNITS = STATIC_UNITS

    @property
    def scenario_name(self) -> str:  # type: ignore[override]
        return str(self.scenario.name)

    @classmethod
    def of(cls, res: Results) -> StaticResults:
        """The same results (no copy of any array) with the common interface."""
        if isinstance(res, cls):
            return res
        return cls(**{f.name: getattr(res, f.name) for f in dataclasses.fields(res)})

    def table(self, name: str) -> Any:
        """A tidy pandas DataFrame (exactly :meth:`Results.table`: what ``write`` and
        ``rareflow run`` store); the units of its columns are :meth:`units`."""
        return Results.table(self, name)


def run(scenario: Any, *, check: bool = True) -> StaticResults:
    """Run the static mass balance of a loaded scenario; see :func:`rareflow.run`."""
    from rareflow.results.results import run_static

    return StaticResults.of(run_static(scenario, check=check))
