"""``rareflow stocks SCENARIO --region R --year Y``: magnets in use, NdFeB and element by
element, from the production history since 1985 and the scenario's own demand after it."""

from __future__ import annotations

import typer

from rareflow.cli.common import handle_errors


@handle_errors
def stocks(
    scenario: str = typer.Argument(..., help="Scenario with a `history:` section, e.g. reference."),
    region: str = typer.Option(..., "--region", "-r", help="Region code (e.g. CN, US) or "
                               "`world` for the sum of all regions."),
    year: int = typer.Option(..., "--year", "-y", help="Year; the stock at its end is shown "
                             "(from the history's start to the scenario's last year)."),
    as_json: bool = typer.Option(False, "--json", help='Print only {"ndfeb": t, "Nd": t, ...}.'),
) -> None:
    """In-use stock of NdFeB magnets and of each element (t) at the end of a year."""
    import json

    from rareflow.cli.common import load_scenario_reporting
    from rareflow.errors import RareflowInputError
    from rareflow.model.history import compile_history, in_use_stocks

    sc = load_scenario_reporting(scenario)
    h = compile_history(sc)
    if region != "world" and region not in h.regions:
        raise RareflowInputError.single(
            f"unknown region '{region}' (allowed: world, {', '.join(h.regions)})",
            path="--region")
    if year not in h.years:
        raise RareflowInputError.single(
            f"year {year} is outside the history and scenario (allowed: {h.years[0]}.."
            f"{h.years[-1]})", path="--year")
    st = in_use_stocks(h)
    values = st.at(region, year)
    if as_json:
        print(json.dumps(values))
        return
    _print(sc, h, st, region, year, values)


def _print(sc, h, st, region, year, values) -> None:  # type: ignore[no-untyped-def]
    from rich.table import Table

    from rareflow.cli.common import console

    con = console()
    t = Table(title=f"In use at the end of {year}, {region} ({sc.name}), t")
    t.add_column("material")
    t.add_column("t", justify="right", no_wrap=True)
    t.add_column("% of NdFeB", justify="right", no_wrap=True)
    total = values["ndfeb"]
    for k, v in values.items():
        share = "" if k == "ndfeb" or total <= 0 else f"{100 * v / total:.2f}"
        t.add_row("NdFeB" if k == "ndfeb" else k, f"{v:,.1f}", share)
    con.print(t)
    ti = st.years.index(year)
    by_sector = (st.stock[:, :, 0, ti].sum(axis=0) if region == "world"
                 else st.stock[st.regions.index(region), :, 0, ti])
    parts = [f"{s} {v:,.0f}" for s, v in zip(st.sectors, by_sector, strict=True) if v > 0.5]
    if parts:
        con.print("by sector (t NdFeB): " + "; ".join(parts))
    used: dict[str, list[str]] = {}
    for b, recs in h.records.items():
        starts = [(y if isinstance(y, int) else y[0], k) for k, y in recs]
        keep = [k for y0, k in starts if y0 <= year]
        later = sorted((y0, k) for y0, k in starts if y0 > year)
        if b != "grades" and later and year < h.first_model_year:
            keep.append(later[0][1])      # the next anchor: filled towards it
        used[b] = keep
    hist_end = h.first_model_year - 1
    line = (f"inputs: history {h.years[0]}-{hist_end}: world anchors "
            f"{', '.join(used['world']) or 'none'} ({h.fill.replace('_', '-')} fill); region "
            f"shares {', '.join(used['regions']) or 'none'}; application shares "
            f"{', '.join(used['applications']) or 'none'}; grades "
            f"{', '.join(used['grades']) or 'none'}")
    if year >= h.first_model_year:
        line += (f"; inflow {h.first_model_year}-{year} from demand rows "
                 f"{', '.join(h.demand_rows) or 'none'}")
    con.print(line)
    by_source: dict[str, list[str]] = {}
    for sector, p in h.lifetime_provenance.items():
        by_source.setdefault("assumption" if "assumption:" in p else p, []).append(sector)
    lt = "; ".join(f"{p} for {', '.join(v)}" for p, v in by_source.items())
    con.print(f"lifetimes: {lt} (history.lifetimes; inflow at the {h.inflow_at} of the year)")
