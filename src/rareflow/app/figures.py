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
