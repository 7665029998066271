"""``rareflow reconcile SCENARIO``: reconcile the scenario's world within the data's
uncertainty and show the chi-square test, the figures that moved most and the flags."""

from __future__ import annotations

import typer

from rareflow.cli.common import handle_errors


@handle_errors
def reconcile(
    scenario: str = typer.Argument(..., help="Scenario file path or bundled name."),
    json_out: bool = typer.Option(False, "--json", help="Print the whole result as JSON: "
                                  "chi2, dof, p_value, figures (most moved first), flags."),
    top: int = typer.Option(10, "--top", min=1, max=100000,
                            help="Figures shown in the table (all are in --json)."),
) -> None:
    """Weighted least squares of every reported figure subject to every balance: the
    chi-square test overall and per balance, the figures that moved most, and the figures
    that cannot be reconciled (gross errors)."""
    import json

    from rareflow.model.reconcile import reconcile_scenario
    from rareflow.scenario.loader import load_scenario

    rec = reconcile_scenario(load_scenario(scenario))
    out = rec.summary()
    if json_out:
        print(json.dumps(out, indent=2, allow_nan=False))
        return
    from rich.table import Table

    from rareflow.cli.common import console

    con = console()
    p = out["p_value"]
    con.print(f"[bold]{scenario}[/bold]: {out['year']} reconciled from {out['n_figures']} figures, "
              f"{out['n_variables']} unknowns, {out['n_balances']} balances")
    con.print(f"chi2 = {out['chi2']:.4g} on {out['dof']} degrees of freedom, p = "
              f"{'n/a' if p is None else f'{p:.3g}'}"
              f"{'' if out['converged'] else '  [red](did not converge)[/red]'}")
    t = Table("figure", "what", "reported", "reconciled", "sigma", "moved (sigma)",
              title=f"The {min(top, len(out['figures']))} figures that moved most")
    for f in out["figures"][:top]:
        t.add_row(f["id"], f["label"], f"{f['reported']:,.4g}", f"{f['reconciled']:,.4g}",
                  f"{f['sigma']:,.3g}", f"{f['moved_sigma']:+.2f}")
    con.print(t)
    if out["flags"]:
        con.print(f"[bold red]{len(out['flags'])} figure(s) cannot be reconciled[/bold red] "
                  f"(|normalised residual| > {out['critical_normalized_residual']:.2f}):")
        for f in out["flags"]:
            con.print(f"  {f['id']}: {f['label']}: reported {f['reported']:,.4g}, reconciled "
                      f"{f['reconciled']:,.4g} (normalised residual {f['normalized_residual']:+.2f})")
    else:
        con.print("no gross errors flagged")
    if out["other_years"]:
        t = Table("year", "chi2", "dof", "p", "flags", "moved most (sigma)",
                  title="The other years, reconciled on this answer (projections carried forward)")
        for y in out["other_years"]:
            py = y["p_value"]
            top_move = y["moved_most"][0] if y["moved_most"] else None
            t.add_row(str(y["year"]), f"{y['chi2']:.4g}", str(y["dof"]),
                      "n/a" if py is None else f"{py:.3g}", str(y["n_flags"]),
                      "" if top_move is None else f"{top_move['id']} {top_move['moved_sigma']:+.2f}")
        con.print(t)
