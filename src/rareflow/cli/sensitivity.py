"""``rareflow sensitivity SCENARIO``: Sobol indices of the stress test's uncertain inputs.

Every ``stress:`` figure written as a distribution is a factor. SALib's Sobol sequence
(Saltelli design, first and total order) is drawn on the unit hypercube and mapped through
each distribution's inverse CDF; all ``N * (k + 2)`` runs go through the engine at once as
samples. The output is the cumulative shortfall (t, all sectors, or ``--sector``) or, with
``--metric survive``, the sector's time to survive.
"""

from __future__ import annotations

from pathlib import Path

import typer

from rareflow.cli.common import handle_errors


@handle_errors
def sensitivity(
    scenario: str = typer.Argument(
        ...,
        help="Scenario path or bundled name with a `stress:` section.",
    ),
    base_samples: int = typer.Option(
        256, "--samples", "-n",
        help="Sobol base sample N (power of 2); runs = N (k + 2).",
    ),
    seed: int = typer.Option(
        0, "--seed", min=0, max=2**32 - 1,
        help="Seed of the scrambled Sobol sequence and the bootstrap (0..2**32-1).",
    ),
    metric: str = typer.Option(
        "shortfall", "--metric",
        help="shortfall (cumulative, t) or survive (months).",
    ),
    sector: str = typer.Option(
        None, "--sector",
        help="Sector of the output (default: all sectors; survive needs one).",
    ),
    out: Path = typer.Option(
        None, "--out", "-o",
        help="Output folder (default rareflow-out/sensitivity-<name>).",
    ),
) -> None:
    """Rank the uncertain stress parameters by their Sobol indices (first and total order)."""
    from rareflow.analysis.sensitivity import sobol_indices
    from rareflow.cli.common import console
    from rareflow.results.io import atomic_write_json, check_output_folder, output_folder

    if out is not None:
        check_output_folder(out)  # refuse a bad --out before the runs
    con = console()
    doc = sobol_indices(scenario, base_samples, seed, metric, sector)
    out = out or Path("rareflow-out") / f"sensitivity-{doc['scenario']}"
    with output_folder(out) as d:
        atomic_write_json(d / "stress_sensitivity.json", doc)
    if doc["output_sd"] == 0:
        con.print(f"[bold]{doc['scenario']}[/]: {doc['output']} is the same in every run: "
                  "no parameter matters")
    con.print(f"[bold]{doc['scenario']}[/]: Sobol indices of {doc['output']}, {doc['runs']:,} "
              f"runs (N = {base_samples}, {len(doc['parameters'])} parameters); mean "
              f"{doc['output_mean']:,.1f}, sd {doc['output_sd']:,.1f}")
    con.print(f"  {'parameter':<58}{'S1':>7}{'ST':>7}  (+/- 95 % conf. of ST)")
    for name, p in doc["parameters"].items():
        con.print(f"  {name:<58}{p['S1']:>7.2f}{p['ST']:>7.2f}  +/- {p['ST_conf']:.2f}")
    con.print(f"wrote stress_sensitivity.json to {out}")
