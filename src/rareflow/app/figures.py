"""Plotly figures of the dashboard, built from the filtered frames of :mod:`rareflow.app.data`.

Colours: one per stage and one per region in every figure (:mod:`rareflow.report.palette`).
Every axis carries its unit.
"""

from __future__ import annotations

from typing import Any

from rareflow.app.data import RunData, facility_points, sankey_data, trade_lines
from rareflow.app.geo import region_centroid

FONT = {"family": "system-ui, sans-serif", "size": 12}


def _layout(fig: Any, title: str, height: int = 420) -> Any:
    fig.update_layout(title={"text": title, "font": {"size": 14}}, height=height, font=FONT,
                      margin={"l": 60, "r": 20, "t": 50, "b": 40}, template="plotly_white")
    return fig


def _legend_below(fig: Any, height: int = 520) -> Any:
    """Legend under the plot (long run labels would squeeze it from the side)."""
    fig.update_layout(height=height, legend={"orientation": "h", "yanchor": "top", "y": -0.3,
                                             "xanchor": "left", "x": 0})
    return fig


def sankey_figure(run: RunData | None, region: str, year: int, stages: list[str],
                  regions: list[str]) -> Any:
    import plotly.graph_objects as go

    if run is None:
        return _layout(go.Figure(), "no run selected")
    s = sankey_data(run, region, year, stages, regions)
    fig = go.Figure(go.Sankey(
        arrangement="snap", valueformat=",.0f", valuesuffix=" t/yr",
        node={"label": s.labels, "color": s.node_colours, "pad": 14},
        link={"source": s.source, "target": s.target, "value": s.value,
              "color": s.link_colours, "label": s.link_labels}))
    return _layout(fig, f"{run.label}: {region} {year}, chain flows (t/yr, links coloured by origin)")


def reliance_figure(runs: list[RunData], region: str, stage: str, regions: list[str]) -> Any:
    """Import reliance and domestic coverage of ``stage`` in ``region`` over the years."""
    import plotly.graph_objects as go

    from rareflow.report.palette import STAGE_PALETTE

    fig = go.Figure()
    dashes = ["solid", "dash"]
    for i, run in enumerate(runs):
        st = run.table("stages")
        st = st[(st["region"] == region) & (st["stage"] == stage)].sort_values("year")
        for j, (col, name) in enumerate((("import_reliance", "import reliance"),
                                         ("domestic_coverage", "domestic coverage"))):
            fig.add_trace(go.Scatter(x=st["year"], y=st[col] * 100, mode="lines+markers",
                                     name=f"{name}: {run.label}",
                                     line={"dash": dashes[i % 2], "color": STAGE_PALETTE[j]}))
    fig.update_xaxes(title_text="year", dtick=1)
    fig.update_yaxes(title_text="% of consumption", ticksuffix=" %")
    del regions
    return _layout(fig, f"{region} {stage}: import reliance and domestic coverage (% of t/yr consumed)")


def element_figure(runs: list[RunData], region: str, element: str, year: int, stages: list[str]) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    for run in runs:
        el = run.table("elements")
        el = el[(el["region"] == region) & (el["element"] == element) & (el["year"] == year)]
        el = el.set_index("stage").reindex([s for s in stages if s in set(el["stage"])])
        fig.add_trace(go.Bar(x=el.index, y=el["production_t"], name=f"production: {run.label}"))
        fig.add_trace(go.Bar(x=el.index, y=el["consumption_t"], name=f"consumption: {run.label}"))
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text="chain stage")
    fig.update_yaxes(title_text=f"t/yr of {element}")
    return _layout(fig, f"{region} {year}: {element} by stage (t/yr of element)", 360)


def map_figure(run: RunData | None, year: int, stage: str, regions: list[str],
               stages: list[str]) -> tuple[Any, list[str], list[str]]:
    """Facilities (points) and the ``stage``'s trade (lines between country centroids, width
    by t/yr) in ``year``; also the unplaced facilities and the flows not drawn."""
    import plotly.graph_objects as go

    from rareflow.report.palette import region_colour, stage_colour

    fig = go.Figure()
    if run is None:
        return _layout(fig, "no run selected"), [], []
    lines = trade_lines(run, year, stage)
    top = float(lines["imports_t"].max()) if len(lines) else 1.0
    not_drawn: list[str] = []
    for _, row in lines.iterrows():
        a, b = region_centroid(row["origin"]), region_centroid(row["region"])
        if a is None or b is None:
            not_drawn.append(f"{row['origin']} -> {row['region']}: {row['imports_t']:,.0f} t/yr")
            continue
        fig.add_trace(go.Scattergeo(
            lat=[a[0], b[0]], lon=[a[1], b[1]], mode="lines", showlegend=False,
            line={"width": 1 + 9 * row["imports_t"] / top, "color": region_colour(row["origin"], regions)},
            opacity=0.7, hoverinfo="text",
            text=f"{row['origin']} -> {row['region']}: {row['imports_t']:,.0f} t/yr {stage}"))
    placed, unplaced = facility_points(run, year)
    by_stage: dict[str, list[dict[str, Any]]] = {}
    for p in placed:
        by_stage.setdefault(p["stage"], []).append(p)
    for st in [s for s in stages if s in by_stage]:
        pts = by_stage[st]
        fig.add_trace(go.Scattergeo(
            lat=[p["lat"] for p in pts], lon=[p["lon"] for p in pts], mode="markers", name=st,
            marker={"size": 9, "color": stage_colour(st, stages), "line": {"width": 1, "color": "#222"}},
            text=[f"{p['name']} ({p['owner']}), {p['place']}: {p['activity_t']:,.0f} t/yr; "
                  f"location: {p['source']}" for p in pts], hoverinfo="text"))
    fig.update_geos(projection_type="natural earth", showcountries=True, showland=True,
                    landcolor="#f2f2f2", countrycolor="#bbbbbb", resolution=110, fitbounds=False,
                    lonaxis_range=[-180, 180], lataxis_range=[-60, 85], showframe=False)
    _layout(fig, f"{run.label}: {year}, facilities and {stage} trade (line width: t/yr)", 480)
    fig.update_layout(legend={"title": {"text": "facility stage"}})
    return fig, unplaced, not_drawn


# ---------------------------------------------------------------------------- stress
def fan_figure(runs: list[RunData], sector: str) -> Any:
    """The stress fan of ``sector`` for each run: P5-P95 and P25-P75 bands of the monthly
    share of the sector's demand unmet, and the median."""
    import plotly.graph_objects as go

    from rareflow.app.data import fan_frame
    from rareflow.report.palette import STAGE_PALETTE, with_alpha

    fig = go.Figure()
    for i, run in enumerate(runs):
        f = fan_frame(run, sector)
        if not len(f):
            continue
        c = STAGE_PALETTE[i % len(STAGE_PALETTE)]
        x = list(f["month"])
        for lo, hi, alpha, what in (("p5", "p95", 0.18, "P5-P95"), ("p25", "p75", 0.35, "P25-P75")):
            fig.add_trace(go.Scatter(x=x + x[::-1], y=list(f[hi] * 100) + list(f[lo][::-1] * 100),
                                     fill="toself", fillcolor=with_alpha(c, alpha),
                                     line={"width": 0}, hoverinfo="skip",
                                     name=f"{what}: {run.label}"))
        fig.add_trace(go.Scatter(x=x, y=(f["p50"] * 100).tolist(), mode="lines", line={"color": c, "width": 2},
                                 name=f"median: {run.label}"))
    fig.update_xaxes(title_text="month")
    fig.update_yaxes(title_text="% of the sector's demand unmet", ticksuffix=" %", rangemode="tozero")
    return _legend_below(_layout(fig, f"Stress fan, {sector}: monthly shortfall (% of demand; bands "
                                      "over the samples)"))


def _sector_points(runs: list[RunData], keys: tuple[str, ...], fmt: str) -> Any:
    """Median markers with P5-P95 whiskers per sector, one trace per run and key."""
    import plotly.graph_objects as go

    from rareflow.app.data import stress_rows
    from rareflow.report.palette import STAGE_PALETTE

    fig = go.Figure()
    for i, run in enumerate(runs):
        rows = stress_rows(run)
        for j, key in enumerate(keys):
            p50 = [r[f"{key}_p50"] for r in rows]
            fig.add_trace(go.Scatter(
                x=[r["sector"] for r in rows], y=p50, mode="markers",
                marker={"size": 10, "color": STAGE_PALETTE[(2 * i + j) % len(STAGE_PALETTE)],
                        "symbol": ["circle", "diamond"][j % 2]},
                error_y={"type": "data", "symmetric": False,
                         "array": [(r[f"{key}_p95"] or 0) - (m or 0) for r, m in zip(rows, p50, strict=True)],
                         "arrayminus": [(m or 0) - (r[f"{key}_p5"] or 0) for r, m in zip(rows, p50, strict=True)]},
                name=f"{key.replace('_', ' ')}: {run.label}",
                hovertemplate="%{x}: median %{y:" + fmt + "}<extra></extra>"))
    fig.update_xaxes(title_text="sector")
    return fig


def survive_figure(runs: list[RunData]) -> Any:
    """Time to survive and to recover by sector: median, whiskers P5-P95 (months)."""
    fig = _sector_points(runs, ("time_to_survive_months", "time_to_recover_months"), ",.1f")
    fig.update_yaxes(title_text="months from the disruption start", rangemode="tozero")
    return _legend_below(_layout(fig, "Time to survive and to recover by sector (months; median, "
                                      "P5-P95)"), 560)


def stockpile_figure(runs: list[RunData]) -> Any:
    """Stockpile needed by sector (t of the stressed material): median, whiskers P5-P95."""
    material = next((str(r.summary.get("material")) for r in runs if r.summary.get("material")), "")
    fig = _sector_points(runs, ("stockpile_needed_t",), ",.0f")
    fig.update_yaxes(title_text=f"t of {material}", rangemode="tozero")
    return _legend_below(_layout(fig, f"Stockpile preventing every shortfall, by sector (t of "
                                      f"{material}; median, P5-P95)"), 560)


# ---------------------------------------------------------------------------- plan
def builds_figure(run: RunData | None, variant: str) -> Any:
    """Capacity the plan builds, by year and option (t/yr of each process's activity)."""
    import plotly.graph_objects as go

    from rareflow.app.data import plan_builds
    from rareflow.report.palette import STAGE_PALETTE

    fig = go.Figure()
    if run is None:
        return _layout(fig, "no plan run in this store")
    b = plan_builds(run, variant)
    options = list(dict.fromkeys(b["name"])) if len(b) else []
    for i, name in enumerate(options):
        g = b[b["name"] == name]
        fig.add_trace(go.Bar(x=g["year"].tolist(), y=g["build_t_per_yr"].tolist(), name=name,
                             marker_color=STAGE_PALETTE[i % len(STAGE_PALETTE)],
                             customdata=g[["process", "capex_usd"]].to_numpy(),
                             hovertemplate="%{x}: +%{y:,.0f} t/yr (%{customdata[0]}), capex "
                                           "%{customdata[1]:,.0f} USD<extra>" + name + "</extra>"))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title_text="year the capacity comes on line", dtick=1)
    fig.update_yaxes(title_text="capacity added (t/yr of process activity)")
    title = f"{run.label}, {variant}: builds" + ("" if options else " (none: existing capacity suffices)")
    return _legend_below(_layout(fig, title))


def plan_coverage_figure(run: RunData | None, variant: str) -> Any:
    """Required against secure supply (lowest over the disruption scenarios), by material."""
    import plotly.graph_objects as go

    from rareflow.app.data import plan_coverage
    from rareflow.report.palette import STAGE_PALETTE

    fig = go.Figure()
    if run is None:
        return _layout(fig, "no plan run in this store")
    c = plan_coverage(run, variant)
    for i, mat in enumerate(dict.fromkeys(c["material"]) if len(c) else []):
        g = c[c["material"] == mat]
        col = STAGE_PALETTE[i % len(STAGE_PALETTE)]
        fig.add_trace(go.Scatter(x=g["year"].tolist(), y=g["secure_supply_min_over_scenarios_t"].tolist(),
                                 mode="lines+markers", line={"color": col}, name=f"secure: {mat}"))
        fig.add_trace(go.Scatter(x=g["year"].tolist(), y=g["required_t"].tolist(), mode="lines",
                                 line={"color": col, "dash": "dot"}, name=f"required: {mat}"))
    fig.update_xaxes(title_text="year", dtick=1)
    fig.update_yaxes(title_text="t/yr", type="log")
    return _legend_below(_layout(fig, f"{run.label}, {variant}: required (dotted) and secure supply "
                                      "(t/yr, log scale)"))
