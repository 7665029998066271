"""``rareflow demo``: a scenario (default the bundled U.S. baseline), ending in an HTML report
that opens offline (``plotly.min.js`` beside it, or inlined with ``--self-contained``).

Every engine the report shows (static balance, recycling, stress, plan) is run here for the
chosen scenario; the report renders the results it is handed."""

from __future__ import annotations

from pathlib import Path

import typer

from rareflow.cli.common import handle_errors


@handle_errors
def demo(
    out: Path = typer.Option(Path("rareflow-out"), "--out", "-o", help="Output folder."),
    scenario: str = typer.Option("us-baseline", "--scenario", help="Scenario to report on."),
    self_contained: bool = typer.Option(
        False, "--self-contained", help="Inline plotly.js in report.html (one ~5 MB file) "
        "instead of writing plotly.min.js beside it."),
    samples: int = typer.Option(1000, "--samples", help="Stress-test samples per scenario."),
    sobol_samples: int = typer.Option(64, "--sobol-samples",
                                      help="Sobol base samples (a power of 2)."),
) -> None:
    """Run the U.S. baseline, print the answers and write report.html (opens offline)."""
    from rareflow.cli.common import console
    from rareflow.cli.progress import steps
    from rareflow.results.io import atomic_write_json, check_output_folder, output_folder

    check_output_folder(out)  # refuse a bad --out before the solve
    con = console()
    with steps(con) as step:
        step("loading scenario")
        from rareflow.scenario.loader import load_scenario

        sc = load_scenario(scenario)
        step("solving the mass balance")
        from rareflow.results.results import run_static

        res = run_static(sc)
        with output_folder(out) as d:  # all of tables/, answers.json, report.html, or none
            step("writing tables")
            res.write(d / "tables")
            step("answering the questions")
            from rareflow.report.answers import answer

            a = answer(res)
            atomic_write_json(d / "answers.json", a.as_dict())
            from rareflow.report.extras import ReportSettings, compute_extra, render_extra

            computed = compute_extra(sc, ReportSettings(samples=samples, sobol_n=sobol_samples),
                                     step)
            step("scoring the scenario")
            from rareflow.report.build import scorecard_for

            card = scorecard_for(sc, res)
            step("building the report")
            from rareflow.report.html import build_report

            build_report(res, d / "report.html", extra_sections=render_extra(computed),
                         self_contained=self_contained, scorecard=card)
        path = out / "report.html"
    _print_answers(con, a)
    con.print(f"tables: {out / 'tables'}   answers: {out / 'answers.json'}")
    print(f"report: {path}")


def _pct(share: float) -> str:
    """A share as whole percent; never '-0' (a tiny negative residue rounds to 0)."""
    if share != share:
        return "n/a"
    return f"{round(100 * share) + 0:d}"


def _print_answers(con, a) -> None:  # type: ignore[no-untyped-def]
    con.print(f"[bold]{a.region} net import reliance, {a.base_year}[/]")
    for s, v in a.import_reliance.items():
        chk = a.checks.get(s)
        note = f"  ({'consistent' if chk[1] else 'DIFFERS'} with {chk[0]})" if chk else ""
        con.print(f"  {s:<11} {_pct(v):>8} %   China directly "
                  f"{_pct(a.china_dependence.get(s, float('nan'))):>5} %{note}")
    con.print(f"Most China-dependent stage: [bold]{a.most_china_dependent_stage}[/]")
    r = a.requirement
    con.print(f"{a.requirement_target_t:,.0f} t/yr sintered NdFeB needs "
              f"{r.get('ndpr_oxide', 0):,.0f} t NdPr oxide, "
              f"{r.get('reo_concentrate', 0):,.0f} t REO bastnaesite concentrate, "
              f"{r.get('dy_oxide', 0):,.0f} t Dy oxide, {r.get('tb_oxide', 0):,.0f} t Tb oxide "
              f"(co-products: {a.requirement_coproducts.get('la_oxide', 0):,.0f} t La oxide, "
              f"{a.requirement_coproducts.get('ce_oxide', 0):,.0f} t Ce oxide)")
    for y in a.coverage_years:
        con.print(f"{y}: announced {a.region} magnet capacity {a.magnet_capacity_t[y]:,.0f} t = "
                  f"{100 * a.capacity_coverage.get(y, float('nan')):.0f} % of demand "
                  f"({a.magnet_demand_t[y]:,.0f} t); expected output covers "
                  f"{100 * a.output_coverage.get(y, float('nan')):.0f} %")
