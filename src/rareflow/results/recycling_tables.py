"""Tables and summary of a recycling run (in-use stock, end of life, secondary supply)."""

from __future__ import annotations

from typing import Any

import numpy as np


def recycling_table(res: Any) -> Any:
    """Tidy table: year, sector, element, and flows in t/yr (stock in t)."""
    import pandas as pd

    rec = res.recycling
    c = rec.chain
    rows = []
    for si, s in enumerate(rec.sectors):
        for yi, y in enumerate(rec.years):
            base = {"region": rec.region, "year": y, "sector": s}
            rows.append({**base, "element": "NdFeB", "sales_t": c.sales[si, yi],
                         "in_use_stock_t": c.stock[si, yi], "eol_t": c.eol[si, yi],
                         "collected_t": c.collected[si, yi], "liberated_t": c.liberated[si, yi],
                         "recycled_short_loop_t": c.recycled_short[si, yi],
                         "to_long_loop_t": c.to_long_loop[si, yi]})
            for ei, e in enumerate(rec.elements):
                if c.stock_by_element[si, yi, ei] <= 0 and c.eol_by_element[si, yi, ei] <= 0:
                    continue
                rows.append({**base, "element": e,
                             "sales_t": c.sales[si, yi] * c.stock_by_element[si, yi, ei] * 0
                             + c.manufacturing_input_by_element[si, yi, ei],
                             "in_use_stock_t": c.stock_by_element[si, yi, ei],
                             "eol_t": c.eol_by_element[si, yi, ei],
                             "collected_t": c.collected_by_element[si, yi, ei],
                             "liberated_t": np.nan,
                             "recycled_short_loop_t": c.recycled_short_by_element[si, yi, ei],
                             "to_long_loop_t": np.nan,
                             "recycled_long_loop_t": c.recycled_long_by_element[si, yi, ei]})
    return pd.DataFrame(rows)


def recycling_summary(res: Any, years: list[int], elements: list[str]) -> dict[str, Any]:
    rec = res.recycling
    c, m = rec.chain, rec.metrics
    sec = res.scenario.spec.recycling
    by_year = {}
    for y in years:
        j = rec.years.index(y)
        recycled = c.recycled_eol_by_element.sum(axis=0)[j]
        by_year[y] = {
            "recycled_t": {e: float(recycled[rec.elements.index(e)]) for e in elements},
            "share_of_demand": {e: _f(m.demand_share[j, rec.elements.index(e)])
                                for e in elements},
            "in_use_stock_t": float(c.stock.sum(axis=0)[j]),
            "eol_t": float(c.eol.sum(axis=0)[j]),
            "collected_t": float(c.collected.sum(axis=0)[j]),
            "short_loop_t": float(c.recycled_short.sum(axis=0)[j]),
            "long_loop_input_t": float(c.to_long_loop.sum(axis=0)[j]),
            "eol_rir_nd": _f(m.eol_rir[j, rec.elements.index("Nd")]) if "Nd" in rec.elements
            else None,
        }
    assumptions = [
        f"collection of end-of-life magnets: {_path(sec.collection)}",
        f"hand dismantling share: {_path(sec.dismantling_share)} (yield "
        f"{100 * sec.dismantling_yield:.0f} %); shredding recovers "
        f"{100 * sec.shredding_yield:.0f} %",
        f"short loop share {_path(sec.short_loop_share)}; recovery short loop "
        f"{100 * sec.short_loop_recovery:.0f} %, long loop {100 * sec.long_loop_recovery:.0f} %",
        "sales = U.S. magnet demand by sector of the scenario; before "
        f"{res.years[0]} back-cast from {sec.history_start} at each sector's history growth",
        "lifetimes: " + "; ".join(f"{s} {_life(v.lifetime)}" for s, v in sec.sectors.items()),
        "share of demand = recycled end-of-life element / element bought by magnet makers",
    ]
    return {"scenario": res.scenario.name, "region": rec.region, "elements": elements,
            "by_year": by_year, "assumptions": assumptions,
            "mass_balance_max_rel_error": res.mass_balance_max_rel_error}


def _f(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _path(series: dict[int, float]) -> str:
    if list(series) == [0]:
        return f"{100 * series[0]:.0f} %"
    return ", ".join(f"{y}: {100 * v:.0f} %" for y, v in series.items())


def _life(spec: Any) -> str:
    if spec.weibull is not None:
        return f"Weibull(shape {spec.weibull.shape:g}, scale {spec.weibull.scale:g} yr)"
    if spec.fixed is not None:
        return f"fixed {spec.fixed:g} yr"
    for k in ("normal", "folded_normal", "lognormal"):
        v = getattr(spec, k)
        if v is not None:
            return f"{k}(mean {v.mean:g} yr, sd {v.sd:g} yr)"
    return "?"
