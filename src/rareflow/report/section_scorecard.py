"""The report's opening section: the scenario's scorecard (the field's success measures),
rendered from a :class:`~rareflow.metrics.scorecard.Scorecard` computed by the caller."""

from __future__ import annotations

import html
from typing import Any

from rareflow.report.section import Section

VERDICT_CLASS = {"pass": "pass", "fail": "fail"}


def render(card: Any, computed_for: str = "") -> Section:
    """The scorecard as a table: measure, target, value at the horizon, year reached, gap,
    verdict and sources; then the reasons for what is not assessed."""
    from rareflow.metrics.scorecard import format_value, source_text

    head = ("<table class=\"scorecard\"><thead><tr>" + "".join(
        f"<th>{h}</th>" for h in ("measure", "target", f"value in {card.years[1]}", "year reached",
                                  f"gap in {card.years[1]}", "verdict", "sources")) + "</tr></thead><tbody>")
    rows = []
    for m in card.measures:
        target = "-" if m.target is None else f"{m.comparison} {format_value(m.target, m.unit)}"
        cells = [m.title, target, format_value(m.value, m.unit),
                 "-" if m.year_reached is None else str(m.year_reached),
                 "-" if m.gap_at_horizon is None else format_value(m.gap_at_horizon, m.unit)]
        verdict = (f'<td class="verdict {VERDICT_CLASS.get(m.status, "na")}">'
                   f"{html.escape(m.status)}</td>")
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + verdict
                    + f"<td>{html.escape(source_text(m.source) or '-')}</td></tr>")
    reasons = [f"<li><b>{html.escape(m.title)}</b>: {html.escape(m.reason)}</li>"
               for m in card.measures if m.reason]
    n = {s: sum(m.status == s for m in card.measures) for s in ("pass", "fail", "not assessed")}
    body = (f"<p>{n['pass']} of {len(card.measures)} measures pass, {n['fail']} fail, "
            f"{n['not assessed']} not assessed, for {html.escape(card.region)} over "
            f"{card.years[0]}-{card.years[1]} (targets and their sources: "
            "<code>rareflow scorecard SCENARIO</code>, docs/indicators.md).</p>"
            + head + "".join(rows) + "</tbody></table>"
            + (f"<p class=\"small\">Not assessed:</p><ul class=\"small\">{''.join(reasons)}</ul>"
               if reasons else ""))
    return Section("scorecard", "Scorecard", body, computed_for)
