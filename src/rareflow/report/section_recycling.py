"""Report section: what end-of-life recycling can supply, computed for the report's scenario.

The scenario's own ``recycling:`` section is used when it has one; otherwise the
``recycling:`` (and ``years:``) settings of the two bundled recycling scenarios are laid on
top of it (:mod:`rareflow.report.scenario_for`). :func:`compute` runs the engine,
:func:`render` only draws.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from rareflow.report.section import Section, fig_div, omitted

SCENARIOS = ("us-recycling-today", "us-recycling-85")
YEARS = (2030, 2035, 2040)
ELEMENT_COUNT = 4          # the elements shown: the first ones of the recycling model's list


@dataclass
class RecyclingRun:
    caption: str
    settings: str
    elements: list[str]
    rows: list[list[str]]
    years: list[int]
    recycled_t: dict[str, list[float]]   # element -> t/yr recovered from end-of-life magnets
    assumptions: list[str]


@dataclass
class RecyclingResults:
    scenario: str
    region: str
    runs: list[RecyclingRun] = field(default_factory=list)
    omitted: list[tuple[str, str]] = field(default_factory=list)


def compute(scenario: Any) -> RecyclingResults:
    from rareflow.report.scenario_for import Derived, with_settings_of
    from rareflow.results.recycling_tables import recycling_summary
    from rareflow.results.results import run_static
    from rareflow.scenario.loader import load_document

    out = RecyclingResults(scenario.name, scenario.spec.focus_region)
    own = scenario.base_document is not None and "recycling" in scenario.base_document.data
    for name in ((scenario.name,) if own else SCENARIOS):
        if own:
            derived = Derived(scenario, scenario.name, None, ())
        else:
            region = (load_document(name).data.get("recycling") or {}).get("region")
            if region != scenario.spec.focus_region:
                out.omitted.append((f"recycling {name}", (
                    f"the bundled recycling settings of {name} are for region {region}, this "
                    f"scenario's focus is {scenario.spec.focus_region}; add a recycling: section "
                    "to compute it")))
                continue
            derived = with_settings_of(scenario, name, ("recycling",), ("years",))
        try:
            res = run_static(derived.scenario)
            rec = res.recycling
            elements = list(rec.elements)[:ELEMENT_COUNT]
            years = [y for y in YEARS if y in rec.years]
            summ = recycling_summary(res, years, elements)
            rows = [[str(y), *[f"{row['recycled_t'][e]:,.1f} t "
                               f"({100 * (row['share_of_demand'][e] or 0):.1f} %)"
                               for e in elements]] for y, row in summ["by_year"].items()]
            total = rec.chain.recycled_eol_by_element.sum(axis=0)          # [Y, E]
            out.runs.append(RecyclingRun(
                derived.caption(), derived.settings_from or scenario.name, elements, rows,
                list(rec.years), {e: total[:, list(rec.elements).index(e)].tolist()
                                  for e in elements},
                [str(a) for a in summ["assumptions"][:3]]))
        except Exception as exc:
            out.omitted.append((f"recycling {name}", f"{type(exc).__name__}: {exc}"))
    return out


def render(r: RecyclingResults) -> list[Section]:
    import plotly.graph_objects as go

    from rareflow.report.palette import STAGE_PALETTE

    if not r.runs:
        return [Section("recycling", "Recycling: what end-of-life magnets can supply",
                        "".join(omitted(w, why) for w, why in r.omitted),
                        f"Scenario {r.scenario}.")]
    fig = go.Figure()
    parts = []
    first = r.runs[0].elements[0]
    for i, run in enumerate(r.runs):
        fig.add_trace(go.Scatter(x=run.years, y=run.recycled_t[first], name=f"{run.settings}",
                                 line={"color": STAGE_PALETTE[i % len(STAGE_PALETTE)]}))
        head = "".join(f"<th>{html.escape(h)}</th>" for h in ["year", *run.elements])
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                       for row in run.rows)
        parts.append(f"<h3>Settings of {html.escape(run.settings)}</h3>"
                     f"<p class='small'>{html.escape(run.caption)}</p>"
                     f"<table><tr>{head}</tr>{body}</table><ul class='small'>"
                     + "".join(f"<li>{html.escape(a)}</li>" for a in run.assumptions) + "</ul>")
    fig.update_layout(title=f"{first} recovered from end-of-life magnets, {r.region}",
                      height=380, xaxis_title="year", yaxis_title=f"{first} recovered (t/yr)")
    text = (f"<p>Element recovered from {html.escape(r.region)} end-of-life magnets, t/yr (share "
            "of the element bought by magnet makers), for this scenario's demand history and "
            "stocks under each set of recycling settings.</p>"
            + "".join(parts) + fig_div(fig, "recycling")
            + "".join(omitted(w, why) for w, why in r.omitted)
            + f"<p class='small'>Details: <code>rareflow recycling {html.escape(SCENARIOS[-1])}"
              "</code>.</p>")
    return [Section("recycling", "Recycling: what end-of-life magnets can supply", text,
                    f"Computed for scenario {r.scenario} (each table says whose recycling "
                    "settings).")]


def sections(scenario: Any, out: Any = None) -> list[tuple[str, str]]:
    return [(s.title, s.body) for s in render(compute(scenario))]
