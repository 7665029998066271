"""Report section: stress tests under uncertainty - fan charts and the sensitivity ranking."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np

SCENARIOS = ("cn-licence-2025", "us-embargo-12m")
SAMPLES = 1000
SEED = 1
SOBOL_SCENARIO = "cn-licence-2025"
SOBOL_N = 64
FAN_SECTORS = ("ev_bev", "industrial_motors", "defence")
BACKTEST_SCENARIO = "cn-licence-2025-network"
BACKTEST_SAMPLES = 100


def backtest_part(name: str = BACKTEST_SCENARIO, samples: int = BACKTEST_SAMPLES,
                  seed: int = SEED) -> str:
    """The network model's back-test: modelled monthly exports beside the recorded ones
    (the scenario's ``stress.observed`` series), as a chart and a table."""
    import plotly.graph_objects as go

    from rareflow.analysis.stress import backtest, run_network_stress
    from rareflow.scenario.loader import load_scenario

    sc = load_scenario(name)
    nm, res, _, _ = run_network_stress(sc, samples, seed)
    bt = backtest(sc, nm, res)
    parts = [f"<h3>Back-test: {html.escape(sc.name)} (network model)</h3>"
             f"<p>{html.escape(sc.spec.description)}; {samples} samples (seed {seed}). "
             f"Command: <code>rareflow stress {html.escape(name)} --samples 2000 --seed 1"
             "</code>.</p>"]
    stress = sc.spec.stress
    assert stress is not None       # a back-test scenario has a stress: section
    for oid, series in bt.items():
        ob = stress.observed[oid]
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
        fig.update_layout(title=f"{ob.origin} -> {ob.destination}: {'+'.join(ob.materials)} "
                          "exports, t/month", height=340)
        rows = "".join(f"<tr><td>{m}</td><td>{v['recorded']:,.0f}</td><td>{v['p50']:,.0f}</td>"
                       f"<td>{v['p5']:,.0f} - {v['p95']:,.0f}</td></tr>"
                       for m, v in series.items())
        parts.append(fig.to_html(full_html=False, include_plotlyjs=False)
                     + "<table><tr><th>month</th><th>recorded (t)</th><th>model median (t)"
                     f"</th><th>model 5-95 %</th></tr>{rows}</table>")
    return "".join(parts)


def sections(scenario: Any, out: Path) -> list[tuple[str, str]]:
    """Fan charts of the monthly shortfall and a summary per sector for the bundled U.S.
    stress scenarios, and the Sobol ranking of what drives the shortfall."""
    import plotly.graph_objects as go

    from rareflow.analysis.sensitivity import sobol_indices
    from rareflow.analysis.stress import run_stress
    from rareflow.engines.simulate.summary import summarise

    if scenario.spec.focus_region != "US":
        return []
    parts = [f"<p>{SAMPLES:,} Latin-hypercube samples per scenario (seed {SEED}); monthly "
             "shortfall as a share of each sector's demand: median and 5-95 % band. Details: "
             "<code>rareflow stress cn-licence-2025 --samples 10000 --seed 1</code>.</p>"]
    for name in SCENARIOS:
        sc, cs, res, dem = run_stress(name, SAMPLES, SEED, monthly=True)
        months = [cs.month_label(t) for t in range(res.months)]
        sectors = list(res.labels["sectors"])
        fig = go.Figure()
        for sec in FAN_SECTORS:
            if sec not in sectors:
                continue
            k = sectors.index(sec)
            s = 100 * res.shortfall_share[:, :, 0, k]             # [S, T] %
            p5, p50, p95 = np.percentile(s, [5, 50, 95], axis=0)
            fig.add_trace(go.Scatter(x=months, y=p95, line={"width": 0}, showlegend=False,
                                     hoverinfo="skip"))
            fig.add_trace(go.Scatter(x=months, y=p5, fill="tonexty", line={"width": 0},
                                     name=f"{sec} 5-95 %", opacity=0.3))
            fig.add_trace(go.Scatter(x=months, y=p50, name=f"{sec} median"))
        fig.update_layout(title=f"{sc.name}: monthly shortfall, % of demand", height=400,
                          yaxis_title="%")
        summ = summarise(res, dem)[cs.focus]
        rows = []
        for sec, v in summ.items():
            tts = v["time_to_survive_if_short_months"]["p50"]
            rows.append([sec, f"{100 * v['p_shortfall']:.0f} %",
                         "never short" if tts is None else f"{tts:g}",
                         f"{v['time_to_recover_months']['p50']:g}",
                         f"{100 * v['shortfall_share']['p95']:.1f} %",
                         f"{v['stockpile_needed_t']['p95']:,.0f}"])
        head = "".join(f"<th>{h}</th>" for h in (
            "sector", "P(any shortfall)", "months inventories last when short (median)",
            "months to recover (median)", "shortfall share P95", "stockpile needed P95 (t)"))
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>"
                       for r in rows)
        assumptions = "".join(f"<li>{html.escape(str(a))}</li>" for a in cs.assumptions[:8])
        parts.append(f"<h3>{html.escape(sc.name)}</h3><p>{html.escape(sc.spec.description)}</p>"
                     f"{fig.to_html(full_html=False, include_plotlyjs=False)}"
                     f"<table><tr>{head}</tr>{body}</table>"
                     f"<details><summary>Assumptions</summary><ul class='small'>{assumptions}"
                     "</ul></details>")
    parts.append(backtest_part())
    doc = sobol_indices(SOBOL_SCENARIO, SOBOL_N, SEED)
    names = list(doc["parameters"])[:10]
    fig = go.Figure(go.Bar(x=[doc["parameters"][n]["ST"] for n in names][::-1],
                           y=[n.replace("stress.", "") for n in names][::-1], orientation="h",
                           error_x={"array": [doc["parameters"][n]["ST_conf"]
                                              for n in names][::-1]}))
    fig.update_layout(title=f"What drives the shortfall in {SOBOL_SCENARIO}: total-order Sobol "
                      f"index ({doc['runs']:,} runs)", height=380, margin={"l": 320})
    parts.append("<h3>Sensitivity</h3>" + fig.to_html(full_html=False, include_plotlyjs=False)
                 + f"<p class='small'>Output: {html.escape(doc['output'])}. Command: "
                 f"<code>rareflow sensitivity {SOBOL_SCENARIO}</code>.</p>")
    return [("Stress tests: export restrictions and embargoes", "".join(parts))]
