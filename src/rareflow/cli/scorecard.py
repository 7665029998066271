"""``rareflow scorecard``: the field's success measures of a scenario, pass/fail/not assessed."""

from __future__ import annotations

import json
from typing import Any

import typer

from rareflow.cli.common import console, handle_errors, load_scenario_reporting


def _fmt(x: Any, unit: str) -> str:
    from rareflow.metrics.scorecard import format_value

    return format_value(x, unit)


def _sources(src: Any) -> str:
    from rareflow.metrics.scorecard import source_text

    return source_text(src)


@handle_errors
def scorecard(
    scenario: str = typer.Argument(..., help="Scenario file or bundled name."),
    as_json: bool = typer.Option(False, "--json", help="Print the scorecard as JSON on stdout."),
    samples: int = typer.Option(200, "--samples", min=1, max=100_000,
                                help="Monte Carlo price paths for the economics measures "
                                     "(scenarios with an 'economics:' section only)."),
) -> None:
    """Score a scenario against the field's success measures (targets and sources in
    data/reference/indicators_targets.yaml). Exit 0 whatever the verdicts; 2 on bad input."""
    import rareflow
    from rareflow.report.build import scorecard_for

    sc = load_scenario_reporting(scenario)
    res = rareflow.run(sc)
    card = scorecard_for(sc, res, samples=samples)
    from rareflow.metrics.environment import environment, environment_summary

    env = environment_summary(environment(res), card.region, sorted({card.years[0], card.years[1]}))
    if as_json:
        print(json.dumps({**card.as_dict(), "environment": env}, indent=2, allow_nan=False))
        return
    from rich.table import Table

    t = Table(title=f"Scorecard: {card.scenario} ({card.region}, {card.years[0]}-{card.years[1]})")
    for col in ("measure", "target", "value at horizon", "year reached", "gap at horizon", "verdict",
                "sources"):
        t.add_column(col)
    colour = {"pass": "green", "fail": "red"}
    for m in card.measures:
        tgt = "-" if m.target is None else f"{m.comparison} {_fmt(m.target, m.unit)}"
        verdict = f"[{colour.get(m.status, 'yellow')}]{m.status}[/]"
        t.add_row(m.title, tgt, _fmt(m.value, m.unit),
                  "-" if m.year_reached is None else str(m.year_reached),
                  "-" if m.gap_at_horizon is None else _fmt(m.gap_at_horizon, m.unit), verdict,
                  _sources(m.source))
    out = console()
    out.width = max(out.width, 150)   # a table, not prose: keep its rows on one line in a pipe
    out.print(t)
    for m in card.measures:
        if m.reason:
            out.print(f"  {m.title}: not assessed: {m.reason}")
    for m in card.measures:
        if m.figures:
            shown = ", ".join(f"{k}={_fmt(v, '') if isinstance(v, float) else v}"
                              for k, v in m.figures.items())
            out.print(f"  {m.title}: {shown}")
    _print_environment(out, env, card.region)


def _print_environment(out: Any, env: dict[str, Any], region: str) -> None:
    """One line per year and indicator: the region's and the world's totals, the stages
    with a factor, and how many processes have none (docs/indicators.md)."""
    out.print("Environment (factors from data/reference/environment.yaml; uncovered activity "
              "is not counted, see docs/indicators.md):")
    for year, blocks in env["years"].items():
        for v, unit in env["units"].items():
            covered = [s for s, c in blocks["world"][f"{v}_coverage_by_stage"].items() if c > 0]
            if not covered:
                out.print(f"  {year} {v}: not computed (no process of the chain has a factor)")
                continue
            out.print(f"  {year} {v}: {region} {blocks[region][v]:,.0f} {unit}, world "
                      f"{blocks['world'][v]:,.0f} {unit}; covered stages: "
                      f"{', '.join(covered) or 'none'}; {len(env['not_covered'][v])} processes "
                      "without a factor")
