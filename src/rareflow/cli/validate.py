"""``rareflow validate FILE``: exit 0 on a valid scenario, 2 with one line per problem."""

from __future__ import annotations

import typer

from rareflow.cli.common import handle_errors, load_scenario_reporting


@handle_errors
def validate(
    scenario: str = typer.Argument(..., help="Scenario file path or bundled name."),
) -> None:
    """Check a scenario file: syntax, keys, units, ids, shares, extends, provenance."""
    sc = load_scenario_reporting(scenario)
    print(f"{sc.source_file}: valid ({sc.name}; {sc.years[0]}-{sc.years[-1]}; "
          f"{len(sc.spec.facilities)} facilities, {len(sc.spec.demand)} demand rows, "
          f"{len(sc.uncertain)} uncertain parameters)")
