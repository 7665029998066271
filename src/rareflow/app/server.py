"""The Dash app of ``rareflow serve``: layout, callbacks and the request limits.

Everything is served from this process: Dash's JavaScript bundles (``serve_locally``), the
basemap (``assets/topojson/world_110m.json``, passed to plotly as ``topojsonURL``). Flask
refuses request bodies over :data:`MAX_BODY` (413) and any path with a ``..`` segment,
a backslash or a NUL, even URL-encoded (404); debug mode is never on.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import unquote

from rareflow.app.data import RunData, StoreData, provenance_rows, stress_rows
from rareflow.app.figures import element_figure, map_figure, reliance_figure, sankey_figure

MAX_BODY = 1024 * 1024  # bytes: a callback request is a few kB
FIGURES = ("sankey-a", "sankey-b", "reliance", "elements", "map")
#: provenance prefixes per figure ("" = every record of the scenario)
PROVENANCE = {"sankey": (), "reliance": (), "elements": (), "map": ("facilities.",)}


def is_local_host(host: str) -> bool:
    """True for a loopback address or ``localhost`` (what serve binds without --allow-remote)."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bad_path(path: str) -> bool:
    """A request path that tries to leave its folder (``..``), in any encoding."""
    seen = path
    for _ in range(4):  # %252e%252e -> %2e%2e -> ..
        nxt = unquote(seen)
        if nxt == seen:
            break
        seen = nxt
    return "\\" in seen or "\x00" in seen or any(p in ("..", ".") for p in seen.split("/")[1:])


def create_app(data: StoreData) -> Any:
    import dash
    from flask import abort, request

    app = dash.Dash(__name__, title="rareflow", serve_locally=True, update_title="",
                    assets_folder=str(_assets()), compress=False)
    server = app.server
    server.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    server.config["DEBUG"] = False

    @server.before_request
    def _limits() -> None:
        if bad_path(request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
                    or request.full_path or request.path):
            abort(404)
        if (request.content_length or 0) > MAX_BODY:
            abort(413)

    app.layout = _layout(data, app.get_asset_url("topojson/"))
    _callbacks(app, data)
    return app


def _assets() -> Any:
    from pathlib import Path

    return Path(__file__).parent / "assets"


# ---------------------------------------------------------------------------- layout
def _dropdown(id_: str, options: list[Any], value: Any, label: str, clearable: bool = False) -> Any:
    from dash import dcc, html

    return html.Div([html.Label(label, htmlFor=id_),
                     dcc.Dropdown(id=id_, options=options, value=value, clearable=clearable)],
                    style={"minWidth": "180px", "flex": "1"})


def _graph(id_: str, topojson: str) -> Any:
    from dash import dcc

    return dcc.Graph(id=id_, config={"topojsonURL": topojson, "displaylogo": False})


def _source(id_: str) -> Any:
    from dash import html

    return html.Details([html.Summary("source"), html.Div(id=f"src-{id_}")], className="source")


def _layout(data: StoreData, topojson: str) -> Any:
    from dash import html

    runs = [{"label": r.label, "value": r.run_id} for r in data.static]
    first = runs[0]["value"] if runs else None
    second = runs[1]["value"] if len(runs) > 1 else None
    region = "US" if "US" in data.regions else (data.regions[0] if data.regions else None)
    stage = "magnet" if "magnet" in data.stages else (data.stages[0] if data.stages else None)
    year = 2030 if 2030 in data.years else (data.years[0] if data.years else None)
    el = "Nd" if "Nd" in data.elements else (data.elements[0] if data.elements else None)
    box = {"display": "flex", "gap": "12px", "flexWrap": "wrap"}
    half = {"flex": "1", "minWidth": "480px"}
    return html.Div([
        html.H2("rareflow: rare-earth magnet supply chain"),
        html.P(f"Store: {data.root} ({len(data.runs)} runs)", id="store-line"),
        html.Div([
            _dropdown("scenario", runs, first, "scenario"),
            _dropdown("compare", runs, second, "compare with", clearable=True),
            _dropdown("region", data.regions, region, "region"),
            _dropdown("stage", data.stages, stage, "stage"),
            _dropdown("element", data.elements, el, "element"),
            _dropdown("year", data.years, year, "year"),
        ], style=box),
        html.Div([html.Div([_graph("sankey-a", topojson), _source("sankey-a")], style=half),
                  html.Div([_graph("sankey-b", topojson), _source("sankey-b")], style=half)],
                 style=box),
        html.Div([html.Div([_graph("reliance", topojson), _source("reliance")], style=half),
                  html.Div([_graph("elements", topojson), _source("elements")], style=half)],
                 style=box),
        _graph("map", topojson), html.P(id="unplaced"), _source("map"),
        html.H3("Stress fans and stockpile"), html.P(_stress_note(data), id="stress"),
        html.Div([_stress_table(r) for r in data.of_engine("stress")], id="stress-tables"),
        html.H3("Build plan"), html.P(_plan_note(data), id="plan"),
    ], style={"fontFamily": "system-ui, sans-serif", "margin": "12px"})


def _stress_note(data: StoreData) -> str:
    n = len(data.of_engine("stress"))
    if not n:
        return ("No stress runs in this store (run `rareflow sweep us-ramp-delays --store DIR` "
                "and serve that store).")
    return (f"{n} stress runs in this store: time to survive and recover, stockpile needs by "
            "sector below (fans are not drawn by this version of the dashboard).")


def _stress_table(run: RunData) -> Any:
    """A stress run's answers by sector (its summary.json) as one Markdown table."""
    from dash import dcc

    def f(x: Any, fmt: str = ",.0f") -> str:
        return "" if x is None else format(float(x), fmt)

    s = run.summary
    lines = [f"**{run.label}**: {s.get('samples')} samples, {s.get('material')}, "
             f"{s.get('focus_region')}, from {s.get('horizon_start')} ({s.get('months')} months). "
             "Time to survive / recover: months (P5 / P50 / P95); stockpile needed: t; "
             "P(short): share of samples with any month short.", "",
             "| sector | time to survive (months) | time to recover (months) | "
             "stockpile needed (t) | P(short) |", "|---|---|---|---|---|"]
    for r in stress_rows(run):
        cells = [" / ".join(f(r[f"{k}_{q}"]) for q in ("p5", "p50", "p95"))
                 for k in ("time_to_survive_months", "time_to_recover_months", "stockpile_needed_t")]
        lines.append(f"| {_md(r['sector'])} | {' | '.join(cells)} | {f(r['p_shortfall'], '.2f')} |")
    return dcc.Markdown("\n".join(lines), className="stress-table")


def _plan_note(data: StoreData) -> str:
    n = len(data.of_engine("plan"))
    return f"{n} plan runs in this store (tables in the store)." if n else "No plan run in this store."


# ---------------------------------------------------------------------------- callbacks
def _callbacks(app: Any, data: StoreData) -> None:
    from dash import Input, Output

    selectors = [Input(i, "value") for i in ("scenario", "compare", "region", "stage", "element", "year")]

    @app.callback([Output(f, "figure") for f in FIGURES] + [Output("unplaced", "children")], selectors)
    def _figures(a: str, b: str | None, region: str, stage: str, element: str, year: int) -> list[Any]:
        ra, rb = data.by_id(a), data.by_id(b)
        both = [r for r in (ra, rb) if r is not None]
        year = int(year)
        m, unplaced, not_drawn = map_figure(ra, year, stage, data.regions, data.stages)
        note = (f"Unplaced facilities (no sourced location): {', '.join(unplaced) or 'none'}. "
                f"Trade of aggregate regions not drawn: {'; '.join(not_drawn) or 'none'}.")
        return [sankey_figure(ra, region, year, data.stages, data.regions),
                sankey_figure(rb, region, year, data.stages, data.regions) if rb else
                sankey_figure(None, region, year, data.stages, data.regions),
                reliance_figure(both, region, stage, data.regions),
                element_figure(both, region, element, year, data.stages), m, note]

    @app.callback([Output(f"src-{f}", "children") for f in FIGURES],
                  [Input("scenario", "value"), Input("compare", "value")])
    def _sources(a: str, b: str | None) -> list[Any]:
        ra, rb = data.by_id(a), data.by_id(b)
        return [_provenance(ra, ()), _provenance(rb, ()), _provenance(ra, ()),
                _provenance(ra, ()), _provenance(ra, PROVENANCE["map"])]


def _provenance(run: RunData | None, prefixes: tuple[str, ...]) -> Any:
    """The records behind a figure as one Markdown table (one component: fast to render)."""
    from dash import dcc

    if run is None:
        return dcc.Markdown("no run")
    rows = provenance_rows(run, prefixes)
    lines = [f"{run.label}: {len(rows)} records behind these figures (`rareflow sources` "
             "lists the sources).", "", "| figure | sources | confidence | file:line |",
             "|---|---|---|---|"]
    lines += [f"| {_md(r['figure'])} | {_md(', '.join(r['sources']) or 'assumption')} | "
              f"{_md(r['confidence'] or '')} | {_md(r['file'])}:{r['line'] or ''} |" for r in rows]
    return dcc.Markdown("\n".join(lines), className="provenance")


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
