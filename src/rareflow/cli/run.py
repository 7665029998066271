"""``rareflow run SCENARIO --out DIR``: the static mass balance, written to Parquet + JSON."""

from __future__ import annotations

from pathlib import Path

import typer

from rareflow.cli.common import handle_errors, load_scenario_reporting


@handle_errors
def run(
    scenario: str = typer.Argument(..., help="Scenario file path or bundled name (see `rareflow scenarios`)."),
    out: Path = typer.Option(Path("rareflow-out/run"), "--out", "-o", help="Output folder."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the output folder."),
) -> None:
    """Run the static mass balance year by year; write tables (Parquet) and summary.json."""
    from rareflow.cli.common import console
    from rareflow.cli.progress import steps
    from rareflow.results.io import check_output_folder, output_folder
    from rareflow.results.results import TABLES

    check_output_folder(out)  # refuse a bad --out before the solve
    con = console()
    with steps(con, quiet) as step:
        step("loading scenario")
        sc = load_scenario_reporting(scenario)
        step("solving the mass balance")
        from rareflow.results.results import run_static

        res = run_static(sc)
        step("writing results")
        with output_folder(out) as d:  # the whole folder, or nothing, is replaced
            res.write(d)
    if quiet:
        print(out)
        return
    con.print(f"[bold]{sc.name}[/]: {len(res.years)} years x {len(res.regions)} regions x "
              f"{len(res.chain.processes)} processes; mass balance max relative error "
              f"{res.mass_balance_max_rel_error:.1e}")
    rec = res.arrays.reconciliation
    if rec is None:
        con.print("world: the figures as reported (the scenario has no reconcile: section)")
    else:
        r = rec.result
        p = "n/a" if not r.dof else f"{r.p_value:.3g}"
        con.print(f"world: {'reconciled' if rec.applied else 'as reported (reconciliation only reported)'}"
                  f" {rec.year}, chi2 {r.chi2:.4g} on {r.dof} degrees of freedom (p = {p}), "
                  f"{len(r.flags)} figure(s) flagged; see `rareflow reconcile {scenario}`")
    con.print(f"wrote {', '.join(f'{t}.parquet' for t in TABLES)} and summary.json to {out}")
