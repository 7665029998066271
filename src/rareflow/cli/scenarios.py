"""``rareflow scenarios``: the bundled scenarios, addressable by name."""

from __future__ import annotations

import typer

from rareflow.cli.common import handle_errors


@handle_errors
def scenarios(
    json_out: bool = typer.Option(False, "--json", help="Print JSON (name -> file, description)."),
) -> None:
    """List the bundled scenarios; pass a name wherever a SCENARIO path is taken."""
    import json

    from rareflow.resources import display_name
    from rareflow.scenario.loader import bundled_scenarios
    from rareflow.scenario.yaml_io import load_yaml

    rows = []
    for name, path in bundled_scenarios().items():
        try:
            doc = load_yaml(path, display=display_name(path)).data or {}
            desc = " ".join(str(doc.get("description", "")).split())
        except Exception:  # a broken bundled file must not hide the others
            desc = "(unreadable)"
        rows.append((name, display_name(path), desc))
    if json_out:
        print(json.dumps({n: {"file": f, "description": d} for n, f, d in rows}, indent=2))
        return
    from rich.table import Table

    from rareflow.cli.common import console

    t = Table("name", "file", "description", show_lines=False)
    for n, f, d in rows:
        t.add_row(n, f, d[:110] + ("..." if len(d) > 110 else ""))
    console().print(t)
