"""Plotly figures of a static run (each returns a plotly Figure).

Colours come from :mod:`rareflow.report.palette` (one per stage, per region, per sector,
the same in every chart); every value axis names its unit. No stage, region or mineral name
is written here: stages come from the chain, regions from the scenario.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rareflow.report.palette import OTHER_COLOUR, region_colour, sector_colour, stage_colour, with_alpha
from rareflow.results.results import Results

MIN_ORIGIN_SHARE = 0.005   # import origins below this share of a year's imports are pooled
MIN_DEST_SHARE = 0.05     # export destinations below this share of a year's exports are pooled
MIN_PRODUCER_SHARE = 0.02  # producers below this share of every stage are pooled as "others"


def end_stage(results: Results) -> str:
    """The chain's last conversion stage (the product the demand is for)."""
    return results.conversion_stages[-1]


def _place(column: dict[str, int], ncols: int) -> tuple[dict[str, float], dict[str, float]]:
    """x (by column) and y (spread evenly within the column) of every node."""
    xs: dict[str, float] = {}
    ys: dict[str, float] = {}
    by_col: dict[int, list[str]] = {}
    for name, col in column.items():
        by_col.setdefault(col, []).append(name)
    for col, names in by_col.items():
        for i, name in enumerate(names):
            xs[name] = min(0.999, max(0.001, col / max(ncols - 1, 1)))
            ys[name] = min(0.999, max(0.001, (i + 0.5) / len(names)))
    return xs, ys


def sankey_data(results: Results, region: str, year: int) -> dict[str, Any]:
    """Nodes and links of the ``region``'s chain in ``year`` (t/yr), in chain order.

    Columns: imports by origin region; the chain's conversion stages in order; then exports
    by destination region, final demand by sector, losses, other stages (e.g. end of life)
    and what is produced but neither used nor exported ("unsold": stock build or unmodelled
    use). Exports are split by destination from the trade flows; any part no importer
    records is its own node."""
    c, f = results.chain, results.flows
    regions = list(results.regions)
    ri, yi = regions.index(region), results.years.index(year)
    stages = results.conversion_stages
    ncols = len(stages) + 2
    nodes: dict[str, dict[str, Any]] = {}
    links: list[dict[str, Any]] = []

    def node(name: str, col: int, colour: str) -> str:
        nodes.setdefault(name, {"col": col, "colour": colour, "in": 0.0, "out": 0.0})
        return name

    def link(a: str, b: str, v: float, what: str, colour: str) -> None:
        if v > 1e-6:
            links.append({"source": a, "target": b, "value": float(v), "label": what,
                          "colour": colour})
            nodes[a]["out"] += v
            nodes[b]["in"] += v

    own = region_colour(region, regions)
    for gi, s in enumerate(stages):
        node(s, gi + 1, stage_colour(s, c.stages))
    stage_of_mat = dict(zip(c.materials, c.material_stage, strict=True))
    stage_of_proc = dict(zip(c.processes, c.process_stage, strict=True))
    imp = f.imports[ri, :, :, yi]                                   # [origin, material]
    total_imp = imp.sum()
    big = {o for o in range(len(regions))
           if total_imp > 0 and imp[o].sum() >= MIN_ORIGIN_SHARE * total_imp}
    last = len(stages) + 1
    exp = f.imports[:, ri, :, yi].sum(axis=1)                       # [destination]
    exp[ri] = 0.0
    big_dest = {d for d in range(len(regions)) if exp.sum() > 0 and exp[d] >= MIN_DEST_SHARE * exp.sum()}
    for j, mat in enumerate(c.materials):
        g = stage_of_mat[mat]
        if g not in stages or mat in c.external_materials:
            continue
        for oi, o in enumerate(regions):
            name = f"Imports from {o}" if oi in big else "Imports from other regions"
            col = region_colour(o, regions) if oi in big else OTHER_COLOUR
            link(node(name, 0, col), g, imp[oi, j], mat, with_alpha(col, 0.45))
        exported = f.exports[ri, j, yi]
        by_dest = f.imports[:, ri, j, yi]
        for di, d in enumerate(regions):
            if di != ri and by_dest[di] > 1e-6:
                name = f"Exports to {d}" if di in big_dest else "Exports to other regions"
                col = region_colour(d, regions) if di in big_dest else OTHER_COLOUR
                link(g, node(name, last, col), min(by_dest[di], exported), mat,
                     with_alpha(own, 0.45))
        rest = exported - by_dest[[d for d in range(len(regions)) if d != ri]].sum()
        if rest > 1e-3 * max(exported, 1.0):
            link(g, node("Exports, destination not recorded", last, OTHER_COLOUR), rest, mat,
                 with_alpha(own, 0.45))
        if f.unsold[ri, j, yi] > 1e-6:
            link(g, node("Unsold: stock build or unmodelled use", last, OTHER_COLOUR),
                 f.unsold[ri, j, yi], mat, with_alpha(OTHER_COLOUR, 0.45))
        for k, p in enumerate(c.processes):
            use = f.activity[ri, k, yi] * c.inputs[k, j]
            h = stage_of_proc[p]
            if h != g and h in stages:
                link(g, h, use, mat, with_alpha(own, 0.45))
            elif h != g:
                link(g, node(h.replace("_", " "), last, stage_colour(h, c.stages)), use, mat,
                     with_alpha(own, 0.45))
        for si, sec in enumerate(results.arrays.sectors):
            v = results.arrays.final_demand[ri, si, j, yi]
            if v > 1e-6:
                link(g, node(f"Demand: {sec}", last, sector_colour(sec, results.arrays.sectors)),
                     v, mat, with_alpha(own, 0.45))
    for k, p in enumerate(c.processes):
        loss = f.activity[ri, k, yi] * c.losses[k].sum()
        if stage_of_proc[p] in stages and loss > 1e-6:
            link(stage_of_proc[p], node("Losses and residues", last, OTHER_COLOUR), loss, p,
                 with_alpha(OTHER_COLOUR, 0.45))
    used = {lk["source"] for lk in links} | {lk["target"] for lk in links}
    nodes = {n: v for n, v in nodes.items() if n in used}
    return {"region": region, "year": year, "nodes": nodes, "links": links, "ncols": ncols}


def sankey(results: Results, region: str, year: int) -> Any:
    """Flows through the focus region's chain in one year, t/yr: imports by origin region,
    stage-to-stage use in chain order, exports by destination, final demand by sector,
    losses, and the unsold remainder as its own labelled node."""
    import plotly.graph_objects as go

    d = sankey_data(results, region, year)
    names = list(d["nodes"])
    idx = {n: i for i, n in enumerate(names)}
    xs, ys = _place({n: v["col"] for n, v in d["nodes"].items()}, d["ncols"])
    labels = [f"{n}: {max(v['in'], v['out']):,.0f} t" for n, v in d["nodes"].items()]
    fig = go.Figure(go.Sankey(
        arrangement="snap", valueformat=",.0f", valuesuffix=" t",
        node={"label": labels, "pad": 12, "thickness": 14,
              "color": [v["colour"] for v in d["nodes"].values()],
              "x": [xs[n] for n in names], "y": [ys[n] for n in names],
              "hovertemplate": "%{label}<extra></extra>"},
        link={"source": [idx[lk["source"]] for lk in d["links"]],
              "target": [idx[lk["target"]] for lk in d["links"]],
              "value": [lk["value"] for lk in d["links"]],
              "label": [lk["label"] for lk in d["links"]],
              "color": [lk["colour"] for lk in d["links"]],
              "hovertemplate": "%{source.label} -> %{target.label}<br>%{label}: "
                               "%{value:,.0f} t<extra></extra>"},
    ))
    fig.update_layout(title=f"{region} chain in {year}, t/yr (stages left to right in chain "
                            "order; node labels give t/yr)", height=560,
                      margin={"l": 10, "r": 10, "t": 50, "b": 10})
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
                                     name=s, line={"color": stage_colour(s, results.chain.stages)}))
    fig.add_hline(y=0, line_dash="dot", line_color="#999")
    fig.update_layout(title=f"{region} net import reliance by stage (negative = net exporter)",
                      xaxis_title="year", yaxis_title="net import reliance (% of apparent "
                      "consumption)", height=420)
    return fig


def coverage(results: Results, region: str, stage: str | None = None) -> Any:
    import plotly.graph_objects as go

    stage = stage or end_stage(results)
    m = results.stage_metrics
    ri = results.regions.index(region)
    gi = results.chain.stages.index(stage)
    years = list(results.years)
    fig = go.Figure()
    col = stage_colour(stage, results.chain.stages)
    for key, name, dash in (("domestic_coverage", "domestic production", "solid"),
                            ("allied_coverage", "domestic + allied (MSP) imports", "dash"),
                            ("capacity_coverage", "announced capacity (nameplate)", "dot")):
        fig.add_trace(go.Scatter(x=years, y=100 * m[key][ri, gi], mode="lines+markers",
                                 name=name, line={"color": col, "dash": dash}))
    fig.add_hline(y=100, line_dash="dot", line_color="#999")
    fig.update_layout(title=f"{region} {stage} demand covered by ...", height=420,
                      xaxis_title="year", yaxis_title=f"coverage (% of {stage} consumption)")
    return fig


def demand_by_sector(results: Results, region: str, stage: str | None = None) -> Any:
    import plotly.graph_objects as go

    stage = stage or end_stage(results)
    ri = results.regions.index(region)
    c = results.chain
    fd = results.arrays.final_demand[ri]                          # [S, M, Y]
    mats = [j for j, mat in enumerate(c.materials) if c.material_stage[j] == stage]
    sectors = list(results.arrays.sectors)
    fig = go.Figure()
    for si, sec in enumerate(sectors):
        y = fd[si, mats].sum(axis=0)
        if y.any():
            col = sector_colour(sec, sectors)
            fig.add_trace(go.Scatter(x=list(results.years), y=y, stackgroup="one", name=sec,
                                     line={"color": col}, fillcolor=with_alpha(col, 0.6)))
    fig.update_layout(title=f"{region} {stage} demand by sector", height=420,
                      xaxis_title="year", yaxis_title=f"{stage} demand (t/yr)")
    return fig


def concentration(results: Results, year: int) -> Any:
    """World production share by stage and producing region (small producers pooled)."""
    import plotly.graph_objects as go

    m = results.stage_metrics
    yi = results.years.index(year)
    stages = results.conversion_stages
    regions = list(results.regions)
    prod = np.array([m["production"][:, results.chain.stages.index(s), yi] for s in stages])
    tot = prod.sum(axis=1, keepdims=True)
    share = np.divide(prod, tot, out=np.full_like(prod, np.nan), where=tot > 0)   # [G, R]
    big = [r for r in range(len(regions)) if np.nanmax(share[:, r], initial=0) >= MIN_PRODUCER_SHARE]
    fig = go.Figure()
    for r in big:
        fig.add_trace(go.Bar(x=stages, y=100 * share[:, r], name=regions[r],
                             marker_color=region_colour(regions[r], regions)))
    rest = [r for r in range(len(regions)) if r not in big]
    if rest:
        fig.add_trace(go.Bar(x=stages, y=100 * np.nansum(share[:, rest], axis=1),
                             name="others", marker_color=OTHER_COLOUR))
    fig.update_layout(barmode="stack", title=f"World production share by stage, {year}",
                      height=420, xaxis_title="stage (chain order)",
                      yaxis_title="share of world production (%)")
    return fig
