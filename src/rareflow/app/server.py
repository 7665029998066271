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

from rareflow.app.data import (
    RunData,
    StoreData,
    plan_builds,
    plan_variants,
    provenance_rows,
    stress_rows,
    stress_sectors,
)
from rareflow.app.figures import (
    builds_figure,
    element_figure,
    fan_figure,
    map_figure,
    plan_coverage_figure,
    reliance_figure,
    sankey_figure,
    stockpile_figure,
    survive_figure,
)

MAX_BODY = 1024 * 1024  # bytes: a callback request is a few kB
FIGURES = ("sankey-a", "sankey-b", "reliance", "elements", "map")
STRESS_FIGURES = ("fan", "survive", "stockpile")
PLAN_FIGURES = ("builds", "plan-coverage")
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
        *_stress_section(data, topojson, box, half),
        *_plan_section(data, topojson, box, half),
    ], style={"fontFamily": "system-ui, sans-serif", "margin": "12px"})


def _stress_section(data: StoreData, topojson: str, box: dict[str, str], half: dict[str, str]
                    ) -> list[Any]:
    """Stress fans, time to survive and recover, stockpile needs (from the stress runs)."""
    from dash import html

    runs = data.of_engine("stress")
    opts = [{"label": r.label, "value": r.run_id} for r in runs]
    sectors = stress_sectors(runs[0]) if runs else []
    sector = next((s for s in ("ev_bev", "defence") if s in sectors), sectors[0] if sectors else None)
    note = (f"{len(runs)} stress runs in this store." if runs else
            "No stress runs in this store (the bundled dashboard store has two; or run "
            "`rareflow sweep us-ramp-delays --store DIR` and serve that store).")
    return [
        html.H3("Stress: fans, time to survive and to recover, stockpile needs"),
        html.P(note, id="stress"),
        html.Div([_dropdown("stress-run", opts, opts[0]["value"] if opts else None, "stress run"),
                  _dropdown("stress-compare", opts, opts[1]["value"] if len(opts) > 1 else None,
                            "compare with", clearable=True),
                  _dropdown("sector", sectors, sector, "sector")], style=box),
        html.Div([html.Div([_graph("fan", topojson), _source("fan")], style=half),
                  html.Div([_graph("survive", topojson)], style=half)], style=box),
        html.Div([html.Div([_graph("stockpile", topojson)], style=half),
                  html.Div(id="stress-tables", style=half)], style=box),
    ]


def _plan_section(data: StoreData, topojson: str, box: dict[str, str], half: dict[str, str]
                  ) -> list[Any]:
    """The build plan: what is built where and when, and the coverage it reaches."""
    from dash import html

    runs = data.of_engine("plan")
    opts = [{"label": r.label, "value": r.run_id} for r in runs]
    variants = list(dict.fromkeys(v for r in runs for v in plan_variants(r)))
    note = (f"{len(runs)} plan runs in this store; variants: {', '.join(variants)}." if runs
            else "No plan run in this store (the bundled dashboard store has one).")
    return [
        html.H3("Build plan"), html.P(note, id="plan"),
        html.Div([_dropdown("plan-run", opts, opts[0]["value"] if opts else None, "plan run"),
                  _dropdown("variant", variants, "base" if "base" in variants else
                            (variants[0] if variants else None), "variant")], style=box),
        html.Div([html.Div([_graph("builds", topojson), _source("builds")], style=half),
                  html.Div([_graph("plan-coverage", topojson)], style=half)], style=box),
        html.Div(id="builds-table"),
    ]


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


def _builds_table(run: RunData | None, variant: str) -> Any:
    """The plan's builds (and each one's source) as one Markdown table."""
    from dash import dcc

    if run is None:
        return dcc.Markdown("")
    b = plan_builds(run, variant)
    v = (run.summary.get("variants") or {}).get(variant) or {}
    head = (f"**{run.label}, {variant}**: status {v.get('status')}, "
            f"discounted cost {float(v.get('objective_usd_discounted') or 0) / 1e9:,.2f} GUSD, "
            f"overnight capex {float(v.get('overnight_capex_usd') or 0) / 1e6:,.0f} MUSD.")
    src = {x["option"]: x.get("provenance") for x in v.get("builds", [])}
    lines = [head, "", "| year | option | process | t/yr added | capex (MUSD) | source |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r.year} | {_md(r.name)} | {_md(r.process)} | {r.build_t_per_yr:,.0f} | "
              f"{r.capex_usd / 1e6:,.1f} | {_md(src.get(r.option) or '')} |" for r in b.itertuples()]
    return dcc.Markdown("\n".join(lines), className="builds-table")


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

    @app.callback([Output(f, "figure") for f in STRESS_FIGURES]
                  + [Output("src-fan", "children"), Output("stress-tables", "children")],
                  [Input("stress-run", "value"), Input("stress-compare", "value"),
                   Input("sector", "value")])
    def _stress(a: str | None, b: str | None, sector: str | None) -> list[Any]:
        runs = [r for r in (data.by_id(a), data.by_id(b) if b != a else None) if r is not None]
        return [fan_figure(runs, sector or ""), survive_figure(runs), stockpile_figure(runs),
                _provenance(runs[0] if runs else None, (), "stress"),
                [_stress_table(r) for r in runs]]

    @app.callback([Output(f, "figure") for f in PLAN_FIGURES]
                  + [Output("src-builds", "children"), Output("builds-table", "children")],
                  [Input("plan-run", "value"), Input("variant", "value")])
    def _plan(run_id: str | None, variant: str | None) -> list[Any]:
        run = data.by_id(run_id)
        v = variant or "base"
        return [builds_figure(run, v), plan_coverage_figure(run, v),
                _provenance(run, (), "plan"), _builds_table(run, v)]


def _provenance(run: RunData | None, prefixes: tuple[str, ...], section: str | None = None) -> Any:
    """The records behind a figure as one Markdown table (one component: fast to render)."""
    from dash import dcc

    if run is None:
        return dcc.Markdown("no run")
    rows = provenance_rows(run, prefixes, section)
    lines = [f"{run.label}: {len(rows)} records behind these figures (`rareflow sources` "
             "lists the sources).", "", "| figure | sources | confidence | file:line |",
             "|---|---|---|---|"]
    lines += [f"| {_md(r['figure'])} | {_md(', '.join(r['sources']) or 'assumption')} | "
              f"{_md(r['confidence'] or '')} | {_md(r['file'])}:{r['line'] or ''} |" for r in rows]
    return dcc.Markdown("\n".join(lines), className="provenance")


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
