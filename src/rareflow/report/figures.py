"""Plotly figures of a static run (each returns a plotly Figure)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rareflow.results.results import Results

GROUP_COLOURS = {"China": "#d62728", "Allies (MSP)": "#1f77b4", "Others": "#7f7f7f",
                 "Domestic": "#2ca02c"}


def _origin_group(results: Results, origin: str) -> str:
    if origin == "CN":
        return "China"
    if origin in results.arrays.groups.get("msp", ()):
        return "Allies (MSP)"
    return "Others"


def sankey(results: Results, region: str, year: int) -> Any:
    """Flows through the focus region's chain in one year, t/yr: imports by origin group,
    stage-to-stage use, exports, losses, final demand by sector."""
    import plotly.graph_objects as go

    c, f = results.chain, results.flows
    ri, yi = results.regions.index(region), results.years.index(year)
    stages = results.conversion_stages
    labels: list[str] = []
    idx: dict[str, int] = {}

    def node(name: str) -> int:
        if name not in idx:
            idx[name] = len(labels)
            labels.append(name)
        return idx[name]

    src, dst, val, lab = [], [], [], []

    def link(a: str, b: str, v: float, what: str) -> None:
        if v > 1e-6:
            src.append(node(a))
            dst.append(node(b))
            val.append(v)
            lab.append(what)

    stage_of_mat = dict(zip(c.materials, c.material_stage, strict=True))
    stage_of_proc = dict(zip(c.processes, c.process_stage, strict=True))
    for s in stages:
        node(s)
    for j, mat in enumerate(c.materials):
        g = stage_of_mat[mat]
        if g not in stages or mat in c.external_materials:
            continue
        for oi, o in enumerate(results.regions):
            v = f.imports[ri, oi, j, yi]
            link(f"Imports: {_origin_group(results, o)}", g, v, mat)
        link(g, "Exports", f.exports[ri, j, yi], mat)
        link(g, "Surplus not taken (stock or unmodelled use)", f.unsold[ri, j, yi], mat)
        for k, p in enumerate(c.processes):
            use = f.activity[ri, k, yi] * c.inputs[k, j]
            h = stage_of_proc[p]
            if h != g and h in stages:
                link(g, h, use, mat)
            elif h != g:
                link(g, h.replace("_", " "), use, mat)
        for si, sec in enumerate(results.arrays.sectors):
            link(g, f"Demand: {sec}", results.arrays.final_demand[ri, si, j, yi], mat)
    for k, p in enumerate(c.processes):
        loss = f.activity[ri, k, yi] * c.losses[k].sum()
        if stage_of_proc[p] in stages:
            link(stage_of_proc[p], "Losses and residues", loss, p)
    fig = go.Figure(go.Sankey(
        valueformat=",.0f", valuesuffix=" t",
        node={"label": labels, "pad": 14, "thickness": 14},
        link={"source": src, "target": dst, "value": val, "label": lab},
    ))
    fig.update_layout(title=f"{region} chain in {year} (t/yr)", height=520,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def import_reliance(results: Results, region: str) -> Any:
    import plotly.graph_objects as go

    m = results.stage_metrics
    ri = results.regions.index(region)
    fig = go.Figure()
    for s in results.conversion_stages:
        gi = results.chain.stages.index(s)
        y = m["import_reliance"][ri, gi]
        if np.isfinite(y).any():
            fig.add_trace(go.Scatter(x=list(results.years), y=100 * y, mode="lines+markers",
                                     name=s))
    fig.add_hline(y=0, line_dash="dot", line_color="#999")
    fig.update_layout(title=f"{region} net import reliance by stage (%; negative = net exporter)",
                      yaxis_title="% of apparent consumption", height=420)
    return fig


def coverage(results: Results, region: str, stage: str = "magnet") -> Any:
    import plotly.graph_objects as go

    m = results.stage_metrics
    ri = results.regions.index(region)
    gi = results.chain.stages.index(stage)
    years = list(results.years)
    fig = go.Figure()
    for key, name in (("domestic_coverage", "domestic production"),
                      ("allied_coverage", "domestic + allied (MSP) imports"),
                      ("capacity_coverage", "announced capacity (nameplate)")):
        fig.add_trace(go.Scatter(x=years, y=100 * m[key][ri, gi], mode="lines+markers",
                                 name=name))
    fig.add_hline(y=100, line_dash="dot", line_color="#999")
    fig.update_layout(title=f"{region} {stage} demand covered by ... (%)", height=420,
                      yaxis_title="% of consumption")
    return fig


def demand_by_sector(results: Results, region: str) -> Any:
    import plotly.graph_objects as go

    ri = results.regions.index(region)
    c = results.chain
    fd = results.arrays.final_demand[ri]                          # [S, M, Y]
    magnet_mats = [j for j, mat in enumerate(c.materials) if c.material_stage[j] == "magnet"]
    fig = go.Figure()
    for si, sec in enumerate(results.arrays.sectors):
        y = fd[si, magnet_mats].sum(axis=0)
        if y.any():
            fig.add_trace(go.Scatter(x=list(results.years), y=y, stackgroup="one", name=sec))
    fig.update_layout(title=f"{region} magnet demand by sector (t NdFeB/yr)", height=420)
    return fig


def concentration(results: Results, year: int) -> Any:
    import plotly.graph_objects as go

    m = results.stage_metrics
    yi = results.years.index(year)
    stages = results.conversion_stages
    fig = go.Figure()
    for group in ("China", "Allies (MSP)", "Others"):
        vals = []
        for s in stages:
            gi = results.chain.stages.index(s)
            prod = m["production"][:, gi, yi]
            tot = prod.sum()
            share = sum(prod[i] for i, r in enumerate(results.regions)
                        if _origin_group(results, r) == group) / tot if tot > 0 else np.nan
            vals.append(100 * share)
        fig.add_trace(go.Bar(x=stages, y=vals, name=group,
                             marker_color=GROUP_COLOURS[group]))
    fig.update_layout(barmode="stack", title=f"World production share by stage, {year} (%)",
                      height=420, yaxis_title="%")
    return fig
