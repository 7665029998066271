"""``rareflow recycling SCENARIO``: what end-of-life magnets could supply, element by element."""

from __future__ import annotations

from pathlib import Path

import typer

from rareflow.cli.common import handle_errors


@handle_errors
def recycling(
    scenario: str = typer.Argument(..., help="Scenario with a `recycling:` section, e.g. "
                                   "us-recycling-85."),
    out: Path = typer.Option(None, "--out", "-o", help="Write recycling.parquet and "
                             "recycling_summary.json here."),
    years: str = typer.Option("2030,2035,2040", "--years", help="Years to report."),
    elements: str = typer.Option("Nd,Pr,Dy,Tb", "--elements", help="Elements to report."),
) -> None:
    """Magnets in use, end-of-life flows and the secondary supply recycling makes possible."""
    from rareflow.errors import RareflowInputError
    from rareflow.results.recycling_tables import recycling_summary, recycling_table
    from rareflow.results.results import run_static
    from rareflow.scenario.loader import load_scenario

    if out is not None:
        from rareflow.results.io import check_output_folder

        check_output_folder(out)
    sc = load_scenario(scenario)
    if sc.spec.recycling is None:
        f, line = sc.where("name")
        raise RareflowInputError.single("this scenario has no `recycling:` section (try "
                                        "us-recycling-today or us-recycling-85)", file=f,
                                        line=line, path="recycling")
    res = run_static(sc)
    rec = res.recycling
    try:
        ys = [int(y) for y in years.split(",") if y.strip()]
    except ValueError:
        raise RareflowInputError.single(f"'{years}': give years like 2030,2035", path="--years") \
            from None
    els = [e.strip() for e in elements.split(",") if e.strip()]
    bad = [e for e in els if e not in rec.elements]
    if bad:
        raise RareflowInputError.single(f"unknown element(s) {', '.join(bad)} (known: "
                                        f"{', '.join(rec.elements)})", path="--elements")
    bad_y = [y for y in ys if y not in rec.years]
    if bad_y:
        raise RareflowInputError.single(f"year(s) {bad_y} outside the scenario "
                                        f"({rec.years[0]}-{rec.years[-1]})", path="--years")
    summary = recycling_summary(res, ys, els)
    if out is not None:
        from rareflow.results.io import atomic_write_json, atomic_write_parquet, output_folder

        with output_folder(out) as d:
            atomic_write_parquet(d / "recycling.parquet", recycling_table(res))
            atomic_write_json(d / "recycling_summary.json", summary)
    _print(sc, summary)


def _print(sc, summary) -> None:  # type: ignore[no-untyped-def]
    from rich.table import Table

    from rareflow.cli.common import console

    con = console()
    t = Table(title=f"{summary['region']}: element recovered from end-of-life magnets, t/yr, "
              f"and % of demand ({sc.name})")
    t.add_column("year")
    for e in summary["elements"]:
        t.add_column(f"{e} t", justify="right", no_wrap=True)
        t.add_column(f"{e} %", justify="right", no_wrap=True)
    for y, row in summary["by_year"].items():
        cells = [str(y)]
        for e in summary["elements"]:
            cells += [f"{row['recycled_t'][e]:,.1f}", f"{100 * row['share_of_demand'][e]:.1f}"]
        t.add_row(*cells)
    con.print(t)
    for y, row in summary["by_year"].items():
        con.print(f"{y}: in use {row['in_use_stock_t']:,.0f} t NdFeB; end of life "
                  f"{row['eol_t']:,.0f} t; collected {row['collected_t']:,.0f} t; recycled "
                  f"short loop {row['short_loop_t']:,.0f} t, long loop input "
                  f"{row['long_loop_input_t']:,.0f} t; EOL-RIR "
                  f"{100 * row['eol_rir_nd']:.1f} % (Nd)")
    con.print("[bold]Assumptions[/]")
    for a in summary["assumptions"]:
        con.print(f"  - {a}")
