"""Report section: the least-cost plan to a coverage target - what to build, where, when,
at what cost, and the marginal cost per tonne of coverage."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from rareflow.report.palette import stage_colour
from rareflow.report.section import Section, fig_div, omitted

PLAN_SCENARIO = "us-50pct-coverage"
REPORT_VARIANTS = ["base", "no_recycling", "no_allied", "no_recycling_no_allied"]
VARIANT_TEXT = {
    "base": "with recycling and allied (MSP) supply",
    "no_recycling": "without recycling",
    "no_allied": "without allied supply",
    "no_recycling_no_allied": "without recycling or allied supply",
    "no_disruption": "target only (no disruption scenarios)",
    "no_target": "no coverage target",
    "no_target_no_disruption": "no target, no disruption",
}


def _stage_of(scenario: Any, process: str) -> str:
    c = scenario.chain
    return c.process_stage[c.p(process)] if process in c.processes else "?"


def _basis(scenario: Any, process: str) -> str:
    c = scenario.chain
    return c.activity_basis[c.p(process)] if process in c.processes else ""


def plan_html(scenario: Any, summary: dict[str, Any]) -> str:
    """HTML of a plan summary (the ``plan_summary.json`` structure)."""
    import plotly.graph_objects as go

    variants = summary["variants"]
    parts: list[str] = []
    comp_rows = []
    for v, s in variants.items():
        if s.get("status") == "infeasible":
            comp_rows.append([VARIANT_TEXT.get(v, v), "infeasible", "", "", "",
                              html.escape(s["message"].splitlines()[0])])
            continue
        c = s["costs_usd_discounted"]
        comp_rows.append([VARIANT_TEXT.get(v, v), f"{s['objective_usd_discounted'] / 1e9:,.2f}",
                          f"{s['overnight_capex_usd'] / 1e6:,.0f}",
                          f"{c.get('imports', 0) / 1e9:,.2f}", f"{s['unmet_expected_t']:,.0f}",
                          str(len(s["builds"]))])
    head = "".join(f"<th>{h}</th>" for h in ("variant", "discounted cost (GUSD)",
                                              "overnight capex (MUSD)", "imports (GUSD)",
                                              "expected unmet (t)", "builds"))
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in comp_rows)
    parts.append(f"<table><tr>{head}</tr>{body}</table>")

    for v, s in variants.items():
        if s.get("status") == "infeasible":
            continue
        builds = sorted(s["builds"], key=lambda b: (
            scenario.chain.stages.index(_stage_of(scenario, b["process"]))
            if _stage_of(scenario, b["process"]) in scenario.chain.stages else 99, b["year"]))
        rows = "".join(
            f"<tr><td>{html.escape(_stage_of(scenario, b['process']))}</td>"
            f"<td>{html.escape(b['name'])} ({html.escape(b['region'])})</td><td>{b['year']}</td>"
            f"<td class='num'>{b['build_t_per_yr']:,.0f} t {html.escape(_basis(scenario, b['process']))}</td>"
            f"<td class='num'>{b['capex_usd'] / 1e6:,.0f}</td></tr>" for b in builds)
        cov = [c for c in s["coverage"] if c["year"] in (2030, 2035)]
        cov_rows = "".join(
            f"<tr><td>{html.escape(c['material'])}</td><td>{c['year']}</td>"
            f"<td class='num'>{c['required_t']:,.0f}</td>"
            f"<td class='num'>{c['secure_supply_min_over_scenarios_t']:,.0f}</td>"
            f"<td class='num'>{c['marginal_cost_usd_per_t']:,.0f}</td></tr>" for c in cov)
        fig = go.Figure()
        by_stage: dict[str, dict[int, float]] = {}
        for b in builds:
            st = _stage_of(scenario, b["process"])
            by_stage.setdefault(st, {})
            by_stage[st][b["year"]] = by_stage[st].get(b["year"], 0) + b["capex_usd"] / 1e6
        for st, yv in by_stage.items():
            fig.add_trace(go.Bar(x=list(yv), y=list(yv.values()), name=st,
                                 marker_color=stage_colour(st, scenario.chain.stages)))
        fig.update_layout(barmode="stack", height=320, title="Capex of the builds by stage and "
                          "year (MUSD, overnight)", xaxis_title="year",
                          yaxis_title="overnight capex (MUSD)")
        parts.append(
            f"<h3>{html.escape(VARIANT_TEXT.get(v, v))}</h3>"
            "<table><tr><th>stage</th><th>what, where</th><th>year</th><th>capacity added per yr</th>"
            f"<th>capex (MUSD)</th></tr>{rows}</table>"
            + (fig_div(fig, f"plan-{v}") if builds else "")
            + "<p>Coverage (secure supply = domestic plus allied, the minimum over disruption "
            "scenarios) and the marginal cost of one more tonne of required coverage (dual "
            "value):</p><table><tr><th>material</th><th>year</th><th>required t/yr</th>"
            f"<th>secure t/yr</th><th>marginal cost USD/t</th></tr>{cov_rows}</table>")
    parts.append("<p class='small'>Costs are discounted to the first plan year and expected "
                 "over the disruption scenarios; capex figures and their derivations are in "
                 "the scenario file (<code>rareflow sources us-50pct-coverage</code>). "
                 "Marginal costs per year are not unique where capacity is shared across "
                 "years: compare the variants' costs for what the target costs.</p>")
    return "".join(parts)


def run_plan_summary(scenario: Any, variants: list[str] | None = None) -> dict[str, Any]:
    from rareflow.engines.optimize.from_scenario import run_plan, summarise

    runs = run_plan(scenario, variants)
    return {"scenario": scenario.name, "variants": {v: summarise(e) for v, e in runs.items()}}


@dataclass
class PlanResults:
    """The plan section's data: the scenario the plan was solved for and its summary."""

    scenario_name: str
    caption: str = ""
    settings: str = ""
    scenario: Any = None              # the (derived) scenario: chain stages for the tables
    description: str = ""             # what the plan settings aim at
    summary: dict[str, Any] | None = None
    omitted: list[tuple[str, str]] = field(default_factory=list)


def _follow_facilities(derived: Any) -> tuple[Any, list[str]]:
    """A build option tied to a facility (``facility:``) cannot start before the scenario's
    own schedule for that facility: its ``earliest_year`` follows the facility's
    ``start_year`` when that is later (a plant the user made late stays late in the plan)."""
    import dataclasses

    sc = derived.scenario
    plan = sc.spec.plan
    over: dict[str, Any] = {}
    moved = []
    for key, c in (plan.candidates if plan is not None else {}).items():
        fac = sc.spec.facilities.get(c.facility) if c.facility else None
        start = getattr(fac, "start_year", None)
        if start is not None and c.earliest_year is not None and start > c.earliest_year:
            over[f"plan.candidates.{key}.earliest_year"] = int(start)
            moved.append(f"Build option {key} starts no earlier than {start}, the scenario's "
                         f"start year of facility {c.facility} (plan settings: {c.earliest_year}).")
    if not over:
        return derived, []
    return dataclasses.replace(derived, scenario=sc.with_overrides(over, origin="<report>")), moved


def compute(scenario: Any, variants: list[str] | None = None) -> PlanResults:
    """Solve the plan for ``scenario``: its own ``plan:`` section, else the bundled
    :data:`PLAN_SCENARIO`'s laid on top."""
    from rareflow.report.scenario_for import Derived, with_settings_of
    from rareflow.scenario.loader import load_document

    out = PlanResults(scenario.name)
    if scenario.spec.plan is not None:
        derived = Derived(scenario, scenario.name, None, ())
    else:
        focus = load_document(PLAN_SCENARIO).data.get("focus_region")
        if focus != scenario.spec.focus_region:
            out.omitted.append(("least-cost plan", (
                f"the bundled plan settings of {PLAN_SCENARIO} are written for focus region "
                f"{focus}, this scenario's focus is {scenario.spec.focus_region}; add a plan: "
                "section to compute it")))
            return out
        derived = with_settings_of(scenario, PLAN_SCENARIO, ("plan",))
    derived, moved = _follow_facilities(derived)
    out.caption, out.scenario = derived.caption() + "".join(f" {m}" for m in moved), derived.scenario
    out.settings = derived.settings_from or scenario.name
    out.description = str(load_document(out.settings).data.get("description", "")
                          if derived.settings_from else scenario.spec.description)
    try:
        out.summary = run_plan_summary(derived.scenario, variants or REPORT_VARIANTS)
    except Exception as exc:
        out.omitted.append(("least-cost plan", f"{type(exc).__name__}: {exc}"))
    return out


def render(r: PlanResults) -> list[Section]:
    if r.summary is None:
        return [Section("plan", "Plan: least-cost build-out",
                        "".join(omitted(w, why) for w, why in r.omitted),
                        f"Scenario {r.scenario_name}.")]
    desc = r.description
    return [Section("plan", f"Plan: least-cost build-out (plan settings of {r.settings})",
                    (f"<p>{html.escape(str(desc))}</p>" if desc else "")
                    + plan_html(r.scenario, r.summary), r.caption)]


def sections(scenario: Any, out: Any = None) -> list[tuple[str, str]]:
    return [(s.title, s.body) for s in render(compute(scenario))]
