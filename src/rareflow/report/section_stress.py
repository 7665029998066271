"""Report section: stress tests under uncertainty - fan charts, the back-test and the
sensitivity ranking, computed for the report's scenario.

:func:`compute` runs the engines (the scenario's own ``stress:`` section, or else the
``stress:`` settings of the bundled stress scenarios laid on top of it, see
:mod:`rareflow.report.scenario_for`) and returns plain data; :func:`render` turns that data
into report sections and runs nothing.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rareflow.report.palette import sector_colour, with_alpha
from rareflow.report.section import Section, fig_div, omitted

SCENARIOS = ("cn-licence-2025", "us-embargo-12m")
SAMPLES = 1000
SEED = 1
SOBOL_SCENARIO = "cn-licence-2025"
SOBOL_N = 64
SOBOL_MIN_N = 256          # below this many base samples the ranking is flagged as unsure
FAN_SECTORS = 3            # the sectors with the largest median shortfall get a fan
BACKTEST_SCENARIO = "cn-licence-2025-network"
BACKTEST_SAMPLES = 100


@dataclass
class StressRun:
    caption: str
    name: str
    description: str
    months: list[str]
    fans: dict[str, dict[str, list[float]]]        # sector -> p5/p50/p95 (% of demand)
    sectors: list[str]
    rows: list[list[str]]
    assumptions: list[str]
    samples: int


@dataclass
class StressResults:
    """Everything the stress sections show (no engine objects)."""

    scenario: str
    runs: list[StressRun] = field(default_factory=list)
    backtest: dict[str, Any] | None = None
    sobol: dict[str, Any] | None = None
    omitted: list[tuple[str, str]] = field(default_factory=list)   # (what, why)
    seed: int = SEED


def _focus_of(bundled: str) -> Any:
    from rareflow.scenario.loader import load_document

    return load_document(bundled).data.get("focus_region")


def _derive(scenario: Any, bundled: str) -> Any:
    """The scenario to stress: its own ``stress:``, else ``bundled``'s laid on top; None
    (with the reason) when the bundled settings are for another focus region."""
    from rareflow.report.scenario_for import Derived, with_settings_of

    if scenario.spec.stress is not None:
        return Derived(scenario, scenario.name, None, ()), ""
    focus = _focus_of(bundled)
    if focus != scenario.spec.focus_region:
        return None, (f"the bundled stress settings of {bundled} are written for focus region "
                      f"{focus}, this scenario's focus is {scenario.spec.focus_region}; add a "
                      "stress: section to the scenario to compute it")
    return with_settings_of(scenario, bundled, ("stress",)), ""


def _run(derived: Any, samples: int, seed: int) -> StressRun:
    from rareflow.analysis.stress import run_stress
    from rareflow.engines.simulate.summary import summarise

    sc, cs, res, dem = run_stress(derived.scenario, samples, seed, monthly=True)
    months = [cs.month_label(t) for t in range(res.months)]
    sectors = list(res.labels["sectors"])
    share = 100 * res.shortfall_share[:, :, 0, :]                     # [S, T, K] %
    p5, p50, p95 = np.percentile(share, [5, 50, 95], axis=0)          # [T, K]
    order = sorted(range(len(sectors)), key=lambda k: (-float(p95[:, k].max()), k))
    fans = {sectors[k]: {"p5": p5[:, k].tolist(), "p50": p50[:, k].tolist(),
                         "p95": p95[:, k].tolist()} for k in order[:FAN_SECTORS]}
    summ = summarise(res, dem)[cs.focus]
    rows = []
    for sec, v in summ.items():
        tts = v["time_to_survive_if_short_months"]["p50"]
        rows.append([sec, f"{100 * v['p_shortfall']:.0f} %",
                     "never short" if tts is None else f"{tts:g}",
                     f"{v['time_to_recover_months']['p50']:g}",
                     f"{100 * v['shortfall_share']['p95']:.1f} %",
                     f"{v['stockpile_needed_t']['p95']:,.0f}"])
    settings_name = derived.settings_from or sc.name
    return StressRun(derived.caption(), settings_name, _describe(settings_name, sc), months,
                     fans, sectors, rows, [str(a) for a in cs.assumptions[:8]], samples)


def _describe(settings_name: str, sc: Any) -> str:
    from rareflow.scenario.loader import load_document

    if settings_name == sc.name:
        return str(sc.spec.description)
    return str(load_document(settings_name).data.get("description", ""))


def _backtest(derived: Any, samples: int, seed: int) -> dict[str, Any]:
    from rareflow.analysis.stress import backtest, run_network_stress

    sc = derived.scenario
    nm, res, _, _ = run_network_stress(sc, samples, seed)
    bt = backtest(sc, nm, res)
    obs = sc.spec.stress.observed
    return {"caption": derived.caption(), "settings": derived.settings_from or sc.name,
            "samples": samples, "series": bt,
            "labels": {oid: f"{obs[oid].origin} -> {obs[oid].destination}: "
                            f"{'+'.join(obs[oid].materials)} exports" for oid in bt},
            "first_month": min((m for s in bt.values() for m in s), default="")}


def _sobol(derived: Any, n: int, seed: int) -> dict[str, Any]:
    from rareflow.analysis.sensitivity import sobol_indices

    doc = sobol_indices(derived.scenario, n, seed)
    doc["caption"] = derived.caption()
    doc["settings"] = derived.settings_from or derived.scenario.name
    return doc


def compute(scenario: Any, *, samples: int = SAMPLES, seed: int = SEED,
            sobol_n: int = SOBOL_N, backtest_samples: int = BACKTEST_SAMPLES) -> StressResults:
    """Run the stress engines for ``scenario`` and return what the sections show."""
    out = StressResults(scenario=scenario.name, seed=seed)
    own = scenario.spec.stress is not None
    for name in ((scenario.name,) if own else SCENARIOS):
        derived, why = _derive(scenario, name)
        if derived is None:
            out.omitted.append((f"stress test {name}", why))
            continue
        try:
            out.runs.append(_run(derived, samples, seed))
        except Exception as exc:          # a scenario the engine cannot run: say why
            out.omitted.append((f"stress test {name}", f"{type(exc).__name__}: {exc}"))
    if own:
        from rareflow.analysis.stress import is_network

        bt_derived = (derived if derived is not None and is_network(scenario)
                      and scenario.spec.stress.observed else None)
        if bt_derived is None:
            out.omitted.append(("back-test", "the scenario's stress: section is not a network "
                                "model with recorded (observed) series"))
    else:
        bt_derived, why = _derive(scenario, BACKTEST_SCENARIO)
        if bt_derived is None:
            out.omitted.append(("back-test", why))
    if bt_derived is not None:
        try:
            out.backtest = _backtest(bt_derived, backtest_samples, seed)
        except Exception as exc:
            out.omitted.append(("back-test", f"{type(exc).__name__}: {exc}"))
    sob_derived, why = _derive(scenario, scenario.name if own else SOBOL_SCENARIO)
    if sob_derived is None:
        out.omitted.append(("sensitivity", why))
    else:
        try:
            out.sobol = _sobol(sob_derived, sobol_n, seed)
        except Exception as exc:
            out.omitted.append(("sensitivity", f"{type(exc).__name__}: {exc}"))
    return out


# --------------------------------------------------------------------------- rendering
def _table(head: list[str], rows: list[list[str]]) -> str:
    h = "".join(f"<th>{html.escape(x)}</th>" for x in head)
    b = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>"
                for r in rows)
    return f"<table><tr>{h}</tr>{b}</table>"


def _fan_html(run: StressRun, key: str) -> str:
    import plotly.graph_objects as go

    fig = go.Figure()
    for sec, f in run.fans.items():
        col = sector_colour(sec, run.sectors)
        fig.add_trace(go.Scatter(x=run.months, y=f["p95"], line={"width": 0}, showlegend=False,
                                 hoverinfo="skip", legendgroup=sec))
        fig.add_trace(go.Scatter(x=run.months, y=f["p5"], fill="tonexty", line={"width": 0},
                                 fillcolor=with_alpha(col, 0.25), name=f"{sec} 5-95 %",
                                 legendgroup=sec))
        fig.add_trace(go.Scatter(x=run.months, y=f["p50"], name=f"{sec} median",
                                 line={"color": col}, legendgroup=sec))
    fig.update_layout(title=f"{run.name}: monthly shortfall, % of sector demand", height=400,
                      xaxis_title="month", yaxis_title="shortfall (% of sector demand)")
    return fig_div(fig, key)


def _sobol_html(doc: dict[str, Any]) -> str:
    import plotly.graph_objects as go

    params = doc["parameters"]
    names = list(params)[:10]
    short = [n.replace("stress.", "") for n in names][::-1]
    fig = go.Figure()
    for idx, colour in (("S1", "#8da0cb"), ("ST", "#1b2a3a")):
        fig.add_trace(go.Bar(
            x=[params[n][idx] for n in names][::-1], y=short, orientation="h",
            name={"S1": "first order S1", "ST": "total order ST"}[idx], marker_color=colour,
            error_x={"type": "data", "array": [params[n][f"{idx}_conf"] for n in names][::-1]}))
    fig.update_layout(barmode="group", height=420, margin={"l": 320},
                      title=f"What drives the shortfall: Sobol indices with 95 % intervals "
                            f"({doc['runs']:,} runs)",
                      xaxis_title="Sobol index (share of output variance, dimensionless)",
                      yaxis_title="uncertain parameter")
    warn = sobol_warning(doc)
    rows = [[n.replace("stress.", ""), f"{params[n]['S1']:.3f} ± {params[n]['S1_conf']:.3f}",
             f"{params[n]['ST']:.3f} ± {params[n]['ST_conf']:.3f}"] for n in names]
    return ((f'<p class="warn"><b>Too few samples to rank:</b> {html.escape(warn)}</p>'
             if warn else "")
            + fig_div(fig, "sobol")
            + _table(["parameter", "S1 ± 95 % half-width", "ST ± 95 % half-width"], rows)
            + f"<p class='small'>{doc['base_samples']} base samples, seed {doc['seed']}; "
              f"output: {html.escape(doc['output'])}. A longer run: "
              f"<code>rareflow sensitivity {html.escape(doc['settings'])} --samples 1024</code>."
              "</p>")


def sobol_warning(doc: dict[str, Any]) -> str:
    """Why the ranking cannot be trusted, or '' when it can."""
    params = list(doc["parameters"].values())
    why = []
    if doc["base_samples"] < SOBOL_MIN_N:
        why.append(f"{doc['base_samples']} base samples (fewer than {SOBOL_MIN_N})")
    top = params[:2]
    if any(p["ST_conf"] > abs(p["ST"]) or p["S1_conf"] > abs(p["S1"]) for p in top):
        why.append("a leading index is smaller than its 95 % interval half-width")
    if len(top) == 2:
        a, b = top
        if a["ST"] - a["ST_conf"] <= b["ST"] + b["ST_conf"]:
            why.append("the 95 % intervals of the top two total-order indices overlap")
    return "; ".join(why) + ("; the order shown may change with more samples." if why else "")


def render(r: StressResults) -> list[Section]:
    """The stress, back-test and sensitivity sections of ``r`` (engines already run)."""
    out: list[Section] = []
    parts = []
    for i, run in enumerate(r.runs):
        parts.append(
            f"<h3>Settings of {html.escape(run.name)}</h3>"
            f"<p class='small'>{html.escape(run.caption)}</p><p>{html.escape(run.description)}</p>"
            f"<p>{run.samples:,} Latin-hypercube samples (seed {r.seed}); monthly shortfall as a "
            "share of each sector's demand: median and 5-95 % band for the sectors with the "
            "largest shortfall.</p>"
            + _fan_html(run, f"stress-{i}")
            + _table(["sector", "P(any shortfall)", "months inventories last when short (median)",
                      "months to recover (median)", "shortfall share P95",
                      "stockpile needed P95 (t)"], run.rows)
            + "<details><summary>Assumptions</summary><ul class='small'>"
            + "".join(f"<li>{html.escape(a)}</li>" for a in run.assumptions) + "</ul></details>")
    parts += [omitted(w, why) for w, why in r.omitted if w.startswith("stress test")]
    out.append(Section("stress", "Stress tests: export restrictions and embargoes",
                       "".join(parts) or omitted("stress tests", "nothing to run"),
                       f"Computed for scenario {r.scenario}."))
    bt_omit = [omitted(w, why) for w, why in r.omitted if w == "back-test"]
    out.append(Section("backtest", "Back-test against recorded trade",
                       _backtest_html(r.backtest) if r.backtest else "".join(bt_omit),
                       r.backtest["caption"] if r.backtest else f"Scenario {r.scenario}."))
    sob_omit = [omitted(w, why) for w, why in r.omitted if w == "sensitivity"]
    out.append(Section("sensitivity", "Sensitivity: what drives the shortfall",
                       _sobol_html(r.sobol) if r.sobol else "".join(sob_omit),
                       r.sobol["caption"] if r.sobol else f"Scenario {r.scenario}."))
    return out


def _backtest_html(bt: dict[str, Any]) -> str:
    import plotly.graph_objects as go

    parts = [f"<p>Network model with the stress settings of {html.escape(bt['settings'])}, "
             f"{bt['samples']} samples: modelled monthly exports beside the recorded ones. "
             f"<b>This back-test covers recorded months only (from {html.escape(bt['first_month'])}); "
             "it does not depend on inputs that act after them</b> (e.g. plants that start "
             f"later). Command: <code>rareflow stress {html.escape(bt['settings'])} --samples "
             "2000 --seed 1</code>.</p>"]
    for i, (oid, series) in enumerate(bt["series"].items()):
        months = list(series)
        fig = go.Figure()
        fig.add_trace(go.Scatter(x=months, y=[series[m]["p95"] for m in months],
                                 line={"width": 0}, showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=months, y=[series[m]["p5"] for m in months], fill="tonexty",
                                 line={"width": 0}, name="model 5-95 %", opacity=0.3))
        fig.add_trace(go.Scatter(x=months, y=[series[m]["p50"] for m in months],
                                 name="model median"))
        fig.add_trace(go.Scatter(x=months, y=[series[m]["recorded"] for m in months],
                                 name="recorded", mode="lines+markers"))
        fig.update_layout(title=f"{bt['labels'][oid]}, t/month", height=340,
                          xaxis_title="month", yaxis_title="exports (t/month)")
        rows = [[m, f"{v['recorded']:,.0f}", f"{v['p50']:,.0f}",
                 f"{v['p5']:,.0f} - {v['p95']:,.0f}"] for m, v in series.items()]
        parts.append(fig_div(fig, f"backtest-{i}")
                     + _table(["month", "recorded (t)", "model median (t)", "model 5-95 % (t)"],
                              rows))
    return "".join(parts)


def sections(scenario: Any, out: Any = None) -> list[tuple[str, str]]:
    """(title, html) pairs for ``scenario`` (compute and render in one go)."""
    return [(s.title, s.body) for s in render(compute(scenario))]
