"""Report section: the world - flows by region and stage, and who depends on whom.

Renders the results it is handed (the stored ``flows``, ``trade`` and ``activity`` tables
through :mod:`rareflow.results.world`); runs no engine. Shown whenever more than one
region has flows.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from rareflow.results import world

LATER_YEAR = 2030      # the later year shown beside the first model year (else the last)
TOP_ORIGINS = 3


def shown_years(years: tuple[int, ...]) -> list[int]:
    """The first model year and one later year."""
    later = LATER_YEAR if LATER_YEAR in years else years[-1]
    return [years[0]] if later == years[0] else [years[0], later]


def _table(headers: list[str], rows: list[list[Any]], num_from: int = 1) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if i >= num_from else ""}>'
                         f"{html.escape(str(c))}</td>" for i, c in enumerate(r)) + "</tr>"
        for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _t(x: float | None) -> str:
    return "n/a" if x is None or x != x else f"{x:,.0f}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None or x != x else f"{100 * x:,.0f} %"


def stage_rows(s: Any, year: int) -> list[dict[str, Any]]:
    """Per production stage and active region: production, consumption, net imports (t/yr)
    and net import reliance in ``year``."""
    yi = s.years.index(year)
    rows = []
    for g in world.production_stages(s.chain):
        tot = world.stage_totals(s, g)
        net = world.net_imports(tot)
        nir = world.net_import_reliance(tot)
        for ri, r in enumerate(s.regions):
            p, c = tot["production_t"][ri, yi], tot["consumption_t"][ri, yi]
            if p > 0 or c > 0:
                rows.append({"stage": g, "region": r, "production_t": float(p),
                             "consumption_t": float(c), "net_imports_t": float(net[ri, yi]),
                             "net_import_reliance": float(nir[ri, yi])})
    return rows


def dependence_rows(s: Any, year: int, top: int = TOP_ORIGINS) -> list[dict[str, Any]]:
    """Per stage and importing region: imports and the ``top`` origins with their shares of
    the region's recorded imports of the stage's materials, from the trade table."""
    yi = s.years.index(year)
    rows = []
    for g in world.production_stages(s.chain):
        t = world.trade_matrix(s, g)[:, :, yi]                   # [importer, origin]
        nir = world.net_import_reliance(world.stage_totals(s, g))[:, yi]
        for ri, r in enumerate(s.regions):
            total = t[ri].sum()
            if total <= 0:
                continue
            order = [int(o) for o in np.argsort(-t[ri], kind="stable")[:top] if t[ri, o] > 0]
            rows.append({"stage": g, "region": r, "imports_t": float(total),
                         "net_import_reliance": float(nir[ri]),
                         "origins": [(s.regions[o], float(t[ri, o] / total)) for o in order]})
    return rows


def flows_figure(rows: list[dict[str, Any]], year: int) -> Any:
    """Grouped bars per (stage, region): production, consumption, net imports."""
    import plotly.graph_objects as go

    x = [[r["stage"] for r in rows], [r["region"] for r in rows]]
    fig = go.Figure()
    for key, name in (("production_t", "production"), ("consumption_t", "consumption"),
                      ("net_imports_t", "net imports")):
        fig.add_trace(go.Bar(x=x, y=[r[key] for r in rows], name=name))
    fig.update_layout(barmode="group", height=460, yaxis_title="quantity (t/yr of the stage's materials)",
                      xaxis_title="stage, region (category)",
                      title=f"Production, consumption and net imports by region and stage, "
                            f"{year}")
    return fig


def trade_heatmap(s: Any, year: int) -> Any:
    """Imports by importer (rows) and origin (columns), one stage at a time (menu)."""
    import plotly.graph_objects as go

    yi = s.years.index(year)
    fig = go.Figure()
    stages: list[str] = []
    for g in world.production_stages(s.chain):
        t = world.trade_matrix(s, g)[:, :, yi]
        imp, org = np.nonzero(t.sum(axis=1) > 0)[0], np.nonzero(t.sum(axis=0) > 0)[0]
        if not len(imp):
            continue
        fig.add_trace(go.Heatmap(
            z=t[np.ix_(imp, org)], x=[s.regions[o] for o in org], y=[s.regions[i] for i in imp],
            colorscale="Blues", visible=not stages, name=g, colorbar={"title": "t/yr"},
            hovertemplate="%{y} from %{x}: %{z:,.0f} t<extra>" + g + "</extra>"))
        stages.append(g)
    buttons = [{"label": g, "method": "update",
                "args": [{"visible": [k == i for k in range(len(stages))]},
                         {"title": f"Imports by origin, {g}, {year} (t/yr)"}]}
               for i, g in enumerate(stages)]
    fig.update_layout(title=f"Imports by origin, {stages[0] if stages else ''}, {year} (t/yr)",
                      height=460, xaxis_title="origin (exporter region)",
                      yaxis_title="importer (region)",
                      updatemenus=[{"buttons": buttons, "x": 1.0, "y": 1.15,
                                    "xanchor": "right"}] if stages else [])
    return fig


def _basis(chain: Any, stage: str) -> str:
    """The stage's stated basis (e.g. 't REO') where its materials share one, else 't'."""
    found = {chain.material_basis.get(m) for m in chain.stage_materials(stage)} - {None}
    return str(found.pop()) if len(found) == 1 else "t"


def _fig_html(fig: Any, key: str) -> str:
    from rareflow.report.section import fig_div

    return fig_div(fig, key)


def sections(results: Any) -> list[tuple[str, str]]:
    """The world section for ``results`` (empty when at most one region has flows)."""
    s = results.stored_flows()
    if len(world.active_regions(s)) <= 1:
        return []
    years = shown_years(s.years)
    kw = world.settings_of(results.scenario)
    summ = world.world_by_year(s, **kw)
    basis = world.world_basis(s, exporters_of_note=kw["exporters_of_note"],
                              elements=kw["elements"])
    head_rows = [[y, _t(summ[str(y)]["mine_production_t_reo"]),
                  _t(summ[str(y)]["magnet_production_t"]),
                  _t(summ[str(y)]["magnet_rare_earth_demand_t"]),
                  summ[str(y)]["largest_magnet_producer"] or "n/a",
                  _t(summ[str(y)]["largest_magnet_producer_exports_t"])] for y in years]
    parts = [
        "<p>World totals from the stored tables. Mine production: output of the "
        f"<b>{html.escape(basis['mining_stage'])}</b> stage's processes; magnets: "
        f"{html.escape(', '.join(basis['magnet_materials']))}; rare earths in magnets: "
        f"{html.escape(', '.join(basis['magnet_elements']))} contained.</p>",
        _table(["year", f"mine production ({_basis(s.chain, basis['mining_stage'])})",
                "magnets made (t)",
                f"{'+'.join(basis['magnet_elements'])} in magnets (t)",
                "largest magnet producer", "its magnet exports (t)"], head_rows, 1),
    ]
    for y in years:
        rows = stage_rows(s, y)
        parts.append(f"<h3>Flows by region and stage, {y}</h3>"
                     + _fig_html(flows_figure(rows, y), f"world-flows-{y}"))
        parts.append("<details><summary>Table</summary>" + _table(
            ["stage", "region", "production (t/yr)", "consumption (t/yr)", "net imports (t/yr)",
             "net import reliance"],
            [[r["stage"], r["region"], _t(r["production_t"]), _t(r["consumption_t"]),
              _t(r["net_imports_t"]), _pct(r["net_import_reliance"])] for r in rows], 2)
            + "</details>")
    for y in years:
        dep = dependence_rows(s, y)
        parts.append(f"<h3>Who depends on whom, {y}</h3>"
                     + _fig_html(trade_heatmap(s, y), f"world-trade-{y}"))
        parts.append(_table(
            ["stage", "importer", "imports (t/yr)", "net import reliance",
             f"top {TOP_ORIGINS} origins (share of imports)"],
            [[r["stage"], r["region"], _t(r["imports_t"]), _pct(r["net_import_reliance"]),
              ", ".join(f"{o} {_pct(v)}" for o, v in r["origins"])] for r in dep], 2))
    parts.append('<p class="small">Net import reliance as USGS defines it: (imports - '
                 "exports + stock change) / apparent consumption, in t of the stage's "
                 "materials; deficits no modelled exporter covers count as imports from "
                 "unnamed origins and surpluses nobody takes as stock build; 0 for a net "
                 "exporter. Stage quantities are in each stage's own basis.</p>")
    return [("The world: flows by region and stage, and who depends on whom", "".join(parts))]
