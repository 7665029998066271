"""``rareflow plan SCENARIO --out DIR``: least-cost build plan for a coverage target.

Solves the scenario's ``plan:`` section (linopy + HiGHS) for each variant (with and
without recycling and allied supply, and without disruptions) and writes

* ``DIR/plan.parquet``: one row per build (variant, region, process, option, facility
  name, year, t/yr added, capacity built so far), and one row per coverage constraint
  (requirement, secure supply, marginal cost in USD/t);
* ``DIR/plan_summary.json``: per variant, status, discounted costs by component, builds,
  coverage and marginal costs, binding constraint families; an infeasible variant gives
  the coverage constraint that cannot be met and by how much.

Both are written atomically. If the first variant (``base``) is infeasible the command
prints ``infeasible: coverage[...] ... short by N t/yr`` and exits with code 2.
"""

from __future__ import annotations

from pathlib import Path

import typer

from rareflow.cli.common import handle_errors


@handle_errors
def plan(
    scenario: str = typer.Argument(..., help="Scenario path or bundled name with a `plan:` section."),
    out: Path = typer.Option(None, "--out", "-o",
                             help="Output folder (default rareflow-out/plan-<name>)."),
    variants: str = typer.Option(
        None, "--variants",
        help="Comma-separated: base,no_recycling,no_allied,no_recycling_no_allied,"
        "no_disruption (default: all when plan.variants is true, else base)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the output folder."),
    finance_samples: int = typer.Option(
        500, "--finance-samples", min=1,
        help="Price paths for the plan's plants and their deals (plan.finance)."),
    seed: int = typer.Option(1, "--seed", help="Seed of the finance price paths."),
) -> None:
    """Least-cost capacity-expansion plan to reach the scenario's coverage target."""

    import rareflow
    from rareflow.cli.common import console
    from rareflow.engines.optimize.from_scenario import run_plan
    from rareflow.results.io import (
        atomic_write_json,
        atomic_write_parquet,
        check_output_folder,
        output_folder,
    )

    if out is not None:
        check_output_folder(out)  # refuse a bad --out before the solve
    sc = rareflow.load_scenario(scenario)
    chosen = [v.strip() for v in variants.split(",")] if variants else None
    runs = run_plan(sc, chosen)
    out = out or Path("rareflow-out") / f"plan-{sc.name}"

    from rareflow.results.plan_results import PlanResults

    # the table and the variants' summaries of the results interface (``rareflow.plan``)
    api = PlanResults(scenario=sc, runs=runs)
    summary = {"scenario": sc.name, "units": {
        "build_t_per_yr": "t/yr of process activity (its activity basis)",
        "costs": "USD, discounted to the first plan year, expected over disruption scenarios",
        "marginal_cost_usd_per_t": "USD per t of secure supply, in that year's money"},
        "variants": dict(api.variants)}
    first_ok = next((v for v in summary["variants"].values() if v["status"] != "infeasible"),
                    None)
    if sc.spec.plan.finance and first_ok is not None:
        from rareflow.results.plan_finance import price_plan

        # the first solved variant's plants priced with their loans, floors and offtakes
        summary["finance"] = price_plan(sc, first_ok, samples=finance_samples, seed=seed)
    df = api.table("plan")
    with output_folder(out) as d:  # the whole folder, or nothing, is replaced
        atomic_write_parquet(d / "plan.parquet", df, {
            "scenario": sc.name,
            "units": "value: t/yr (build: capacity added; coverage: requirement); "
                     "marginal_cost_usd_per_t: USD/t"})
        atomic_write_json(d / "plan_summary.json", summary)
        from rareflow.report.html import build_page
        from rareflow.report.section_plan import plan_html

        build_page(f"rareflow plan: {sc.name}", sc.spec.description,
                   [("Least-cost build-out", plan_html(sc, summary))], d / "plan_report.html")

    first = next(iter(runs))
    if "error" in runs[first]:
        # outputs are written (with the shortfall rows); the run itself failed: exit 2
        raise runs[first]["error"]
    if quiet:
        print(out)
        return
    con = console()
    for v, s in summary["variants"].items():
        if s["status"] == "infeasible":
            con.print(f"[bold]{v}[/bold]: infeasible - {s['message'].splitlines()[0]}")
            continue
        total = s["objective_usd_discounted"] / 1e9
        con.print(f"[bold]{v}[/bold]: {total:,.2f} GUSD discounted; overnight capex "
                  f"{s['overnight_capex_usd'] / 1e6:,.0f} MUSD; {len(s['builds'])} builds")
        for b in s["builds"]:
            con.print(f"   {b['year']}  {b['name']:<48s} {b['process']:<24s} "
                      f"+{b['build_t_per_yr']:>9,.0f} t/yr")
        binding = [c for c in s["coverage"] if c["marginal_cost_usd_per_t"] > 1e-6]
        for c in binding[:8]:
            con.print(f"   coverage {c['material']} {c['year']}: "
                      f"{c['marginal_cost_usd_per_t']:,.0f} USD/t")
    if "finance" in summary:
        _print_finance(con, summary["finance"])
    con.print(f"written: {out / 'plan.parquet'}, {out / 'plan_summary.json'}, "
              f"{out / 'plan_report.html'}")


def _print_finance(con, fin) -> None:  # type: ignore[no-untyped-def]
    g = fin["government"]
    con.print(f"[bold]finance ({fin['variant']}, {fin['samples']} price paths)[/bold]: "
              f"government expected cost {g['expected_cost_usd'] / 1e6:,.0f} MUSD "
              f"(floors {g['floor_cost_mean_usd'] / 1e6:,.0f}, less loans' lender NPV "
              f"{g['loans_lender_npv_usd'] / 1e6:,.0f} and warrants "
              f"{g['warrants_value_usd'] / 1e6:,.0f}); exposure {g['exposure_usd'] / 1e6:,.0f} "
              f"MUSD (peak loans {g['peak_loan_outstanding_usd'] / 1e6:,.0f} + floors at P95 "
              f"{g['floor_cost_p95_usd'] / 1e6:,.0f})")
    for p in fin["plants"]:
        if "npv_project_base_usd" not in p:
            con.print(f"   {p['facility']:<30s} {p['status']} (deal {p['deal']}: no exposure)")
            continue
        dscr = p["dscr_min_base"]
        pb = p["p_dscr_below_1"]
        con.print(f"   {p['facility']:<30s} {p['status']:<9s} from {p['cod']}: NPV "
                  f"{p['npv_project_base_usd'] / 1e6:,.0f} MUSD, min DSCR "
                  f"{'n/a' if dscr is None else f'{dscr:.2f}'}"
                  f"{'' if pb is None else f', P(DSCR<1) {pb:.0%}'}")
