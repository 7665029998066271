"""Report section: what end-of-life recycling can supply (the two bundled U.S. scenarios)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

SCENARIOS = ("us-recycling-today", "us-recycling-85")
YEARS = (2030, 2035, 2040)
ELEMENTS = ("Nd", "Pr", "Dy", "Tb")


def sections(scenario: Any, out: Path) -> list[tuple[str, str]]:
    """Compare recycling today with 85 % recovery (only for U.S.-focused reports)."""
    import plotly.graph_objects as go

    from rareflow.results.recycling_tables import recycling_summary
    from rareflow.results.results import run_static
    from rareflow.scenario.loader import load_scenario

    if scenario.spec.focus_region != "US":
        return []
    rows, fig = [], go.Figure()
    notes = []
    for name in SCENARIOS:
        res = run_static(load_scenario(name))
        summ = recycling_summary(res, list(YEARS), list(ELEMENTS))
        for y, row in summ["by_year"].items():
            rows.append([name, y, *[f"{row['recycled_t'][e]:,.1f} t "
                                    f"({100 * (row['share_of_demand'][e] or 0):.1f} %)"
                                    for e in ELEMENTS]])
        rec = res.recycling
        nd = rec.elements.index("Nd")
        fig.add_trace(go.Scatter(x=list(rec.years), y=rec.chain.recycled_eol_by_element.sum(
            axis=0)[:, nd], name=f"{name}: Nd recycled"))
        notes.append(f"<li><b>{html.escape(name)}</b>: " + "; ".join(
            html.escape(a) for a in summ["assumptions"][:3]) + "</li>")
    fig.update_layout(title="Nd from end-of-life magnets, U.S. (t/yr)", height=380)
    head = "".join(f"<th>{h}</th>" for h in ["scenario", "year", *ELEMENTS])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>"
                   for r in rows)
    text = (f"<p>Element recovered from U.S. end-of-life magnets, t/yr (share of the element "
            f"bought by magnet makers).</p><table><tr>{head}</tr>{body}</table>"
            f"{fig.to_html(full_html=False, include_plotlyjs=False)}"
            f"<ul class='small'>{''.join(notes)}</ul><p class='small'>Details: "
            "<code>rareflow recycling us-recycling-85</code>.</p>")
    return [("Recycling: what end-of-life magnets can supply", text)]
