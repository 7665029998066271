"""``rareflow requirements SCENARIO --target ndfeb_sintered=10kt``: what a target needs."""

from __future__ import annotations

import typer

from rareflow.cli.common import handle_errors


def parse_targets(targets: list[str]) -> dict[str, float]:
    """``['ndfeb_sintered=10kt', 'ndfeb_bonded=500 t/yr']`` -> {material: t/yr}."""
    from rareflow.errors import Problem, RareflowInputError
    from rareflow.units import UnitProblem, parse

    out: dict[str, float] = {}
    problems = []
    for t in targets:
        if "=" not in t:
            problems.append(Problem(f"'{t}': write MATERIAL=QUANTITY, e.g. ndfeb_sintered=10kt",
                                    path="--target"))
            continue
        mat, qty = (x.strip() for x in t.split("=", 1))
        q = qty if "/" in qty else f"{qty}/yr"
        import re

        q = re.sub(r"^([0-9.eE+-]+)([a-zA-Z])", r"\1 \2", q)
        try:
            out[mat] = out.get(mat, 0.0) + parse(q, "mass_rate")
        except UnitProblem as exc:
            problems.append(Problem(f"'{qty}': {exc}", path="--target"))
    if problems:
        raise RareflowInputError(problems)
    return out


@handle_errors
def requirements(
    scenario: str = typer.Argument(..., help="Scenario file path or bundled name."),
    target: list[str] = typer.Option(..., "--target", "-t",
                                     help="MATERIAL=QUANTITY, e.g. ndfeb_sintered=10kt (t/yr)."),
    region: str = typer.Option(None, "--region", help="Region the target is built in "
                               "(recorded in the output; routes are the chain's)."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON object material -> t/yr."),
    detail: bool = typer.Option(False, "--detail", help="With --json: also co-products, "
                                "elements and process activity."),
) -> None:
    """Back-calculate the upstream requirement of a production target, element by element,
    with the co-products that come out."""
    import json

    from rareflow.engines.flows.requirements import requirements as req
    from rareflow.errors import RareflowInputError
    from rareflow.scenario.loader import load_scenario

    targets = parse_targets(target)
    sc = load_scenario(scenario)
    if region is not None and region not in sc.spec.regions:
        raise RareflowInputError.single(f"unknown region '{region}'", path="--region")
    r = req(sc.chain, targets)
    if json_out:
        if not detail:
            print(json.dumps({k: round(v, 6) for k, v in r.as_dict().items()}, indent=2))
            return
        c = sc.chain
        print(json.dumps({
            "target": targets, "region": region,
            "requirements_t_per_yr": {k: round(v, 6) for k, v in r.as_dict().items()},
            "coproducts_t_per_yr": {k: round(v, 6) for k, v in r.coproducts_dict().items()},
            "process_activity_t_per_yr": {p: round(float(a), 6) for p, a in
                                          zip(c.processes, r.activity, strict=True) if a > 0},
        }, indent=2))
        return
    from rich.table import Table

    from rareflow.cli.common import console

    c = sc.chain
    con = console()
    t = Table("material", "stage", "need (t/yr)", "made (t/yr)", "co-product (t/yr)",
              title=f"Requirements for {', '.join(f'{k} {v:,.0f} t/yr' for k, v in targets.items())}"
              + (f" in {region}" if region else ""))
    for j, m in enumerate(c.materials):
        if r.need[j] > 1e-9 or r.coproducts[j] > 1e-9:
            t.add_row(m, c.material_stage[j], f"{r.need[j]:,.1f}", f"{r.production[j]:,.1f}",
                      f"{r.coproducts[j]:,.1f}" if r.coproducts[j] > 1e-9 else "")
    con.print(t)
