"""Recycling (``rareflow.recycling``) behind the common results interface: in-use stock,
end of life and what recycling supplies, element by element (what ``rareflow recycling``
prints and writes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rareflow.results.base import ResultsBase, clean_json

_FLOW = "t/yr of NdFeB (element rows: t/yr of the element)"
RECYCLING_UNITS: dict[str, dict[str, str]] = {"recycling": {
    "region": "", "year": "year", "sector": "", "element": "NdFeB or an element",
    "sales_t": _FLOW, "in_use_stock_t": "t (end of year)", "eol_t": _FLOW,
    "collected_t": _FLOW, "liberated_t": _FLOW, "recycled_short_loop_t": _FLOW,
    "to_long_loop_t": _FLOW, "recycled_long_loop_t": "t/yr of the element"}}

_MASS_VARS = ("sales", "manufacturing_input", "stock", "eol", "collected", "liberated",
              "to_short_loop", "to_long_loop", "recycled_short")
_ELEMENT_VARS = ("stock_by_element", "eol_by_element", "collected_by_element",
                 "recycled_short_by_element", "recycled_long_by_element")


@dataclass
class RecyclingResults(ResultsBase):
    """The recycling run of a scenario with a ``recycling:`` section.

    ``static`` is the static run it is part of (:class:`StaticResults`); ``years`` and
    ``elements`` are those :meth:`summary` reports."""

    static: Any
    years: tuple[int, ...]
    elements: tuple[str, ...]
    engine: str = field(default="recycling", init=False)
    TABLE_UNITS = RECYCLING_UNITS

    @property
    def scenario_name(self) -> str:  # type: ignore[override]
        return str(self.static.scenario.name)

    @property
    def run(self) -> Any:
        """The engine's :class:`rareflow.model.recycling.RecyclingRun`."""
        return self.static.recycling

    def _table_recycling(self) -> Any:
        from rareflow.results.recycling_tables import recycling_table

        return recycling_table(self.static)

    def to_xarray(self) -> Any:
        """Dataset on ``sector``, ``year`` (history years first) and ``element``."""
        import xarray as xr

        rec = self.run
        c, m = rec.chain, rec.metrics
        sy, sye = ("sector", "year"), ("sector", "year", "element")
        data: dict[str, Any] = {}
        for k in _MASS_VARS:
            data[k] = (sy, getattr(c, k), {"units": "t" if k == "stock" else "t/yr"})
        for k in _ELEMENT_VARS:
            data[k] = (sye, getattr(c, k), {"units": "t" if k.startswith("stock") else "t/yr"})
        for k in ("eol_rir", "recycled_content", "demand_share", "eol_rr"):
            data[k] = (("year", "element"), getattr(m, k), {"units": "1"})
        return xr.Dataset(data, coords={"sector": list(rec.sectors), "year": list(rec.years),
                                        "element": list(rec.elements)},
                          attrs={"engine": self.engine, "scenario": self.scenario_name,
                                 "region": rec.region, "units": "t/yr; stocks t; shares 0-1",
                                 "scenario_sha256": self.static.scenario.content_hash()})

    def summary(self) -> dict[str, Any]:
        """As ``recycling_summary.json``: recycled element and share of demand by year."""
        from rareflow.results.recycling_tables import recycling_summary

        s = recycling_summary(self.static, list(self.years), list(self.elements))
        s["engine"] = self.engine
        s["scenario_sha256"] = self.static.scenario.content_hash()
        return clean_json(s)  # type: ignore[no-any-return]


def recycling(scenario: Any, *, years: list[int] | tuple[int, ...] | None = None,
              elements: list[str] | tuple[str, ...] = ("Nd", "Pr", "Dy", "Tb"),
              check: bool = True) -> RecyclingResults:
    """Run a scenario with a ``recycling:`` section; see :func:`rareflow.recycling`."""
    from rareflow.errors import RareflowInputError
    from rareflow.results.static_results import run

    if scenario.spec.recycling is None:
        f, line = scenario.where("name")
        raise RareflowInputError.single("this scenario has no `recycling:` section (try "
                                        "us-recycling-today or us-recycling-85)", file=f,
                                        line=line, path="recycling")
    static = run(scenario, check=check)
    rec = static.recycling
    if years is None:
        years = [y for y in (2030, 2035, 2040) if y in rec.years] or [rec.years[-1]]
    bad_y = [y for y in years if y not in rec.years]
    if bad_y:
        raise RareflowInputError.single(f"year(s) {bad_y} outside the scenario "
                                        f"({rec.years[0]}-{rec.years[-1]})", path="years")
    bad = [e for e in elements if e not in rec.elements]
    if bad:
        raise RareflowInputError.single(f"unknown element(s) {', '.join(bad)} (known: "
                                        f"{', '.join(rec.elements)})", path="elements")
    return RecyclingResults(static=static, years=tuple(int(y) for y in years),
                            elements=tuple(elements))
