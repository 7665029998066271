"""``rareflow sources``: every source behind the default figures, and what cites it."""

from __future__ import annotations

import typer

from rareflow.cli.common import handle_errors


@handle_errors
def sources(
    scenario: str = typer.Argument("reference", help="Scenario whose figures to trace."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    assumptions: bool = typer.Option(False, "--assumptions", help="List the figures that rest "
                                     "on assumptions instead, with their reasoning."),
) -> None:
    """List the sources (publisher, title, year, confidence) and the figures citing them."""
    import json

    from rareflow.results.provenance import provenance_table
    from rareflow.scenario.loader import load_scenario

    sc = load_scenario(scenario)
    rows = provenance_table(sc)
    if assumptions:
        rows = [r for r in rows if r["kind"] == "assumption"]
        if json_out:
            print(json.dumps(rows, indent=2))
            return
        for r in rows:
            print(f"{r['figure']}: {r['assumption']}")
        return
    by_source: dict[str, dict] = {}
    for sid, s in sc.spec.sources.items():
        by_source[sid] = {"publisher": s.publisher, "title": s.title, "year": s.year,
                          "address": s.address, "cited_by": [], "confidence": set()}
    for r in rows:
        for sid in r["sources"]:
            if sid in by_source:
                by_source[sid]["cited_by"].append(r["figure"])
                if r["confidence"]:
                    by_source[sid]["confidence"].add(r["confidence"])
    cited = {k: v for k, v in by_source.items() if v["cited_by"]}
    if json_out:
        for v in cited.values():
            v["confidence"] = sorted(v["confidence"])
        print(json.dumps(cited, indent=2))
        return
    from rich.table import Table

    from rareflow.cli.common import console

    t = Table("id", "publisher", "title", "year", "confidence", "figures", show_lines=False)
    for sid, v in sorted(cited.items()):
        t.add_row(sid, str(v["publisher"])[:40], str(v["title"])[:70], str(v["year"]),
                  ", ".join(sorted(v["confidence"])), str(len(v["cited_by"])))
    con = console()
    con.print(t)
    n_assume = sum(1 for r in rows if r["kind"] == "assumption")
    con.print(f"{len(cited)} sources cited by {len(rows) - n_assume} figures; {n_assume} figures "
              "rest on stated assumptions (`rareflow sources --assumptions`).")
