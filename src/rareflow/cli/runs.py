"""``rareflow runs STORE``, ``rareflow compare STORE A B`` and ``rareflow query STORE SQL``:
reading a run store (see :mod:`rareflow.store`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from rareflow.cli.common import handle_errors

#: summary keys that hold answers (compare shows these unless --all)
ANSWER_WORDS = ("import_reliance", "china_dependence", "coverage", "shortfall", "cost", "npv",
                "irr", "dscr", "survive", "recover", "stockpile", "capacity", "price")


def _open(store: Path) -> Any:
    from rareflow.errors import RareflowInputError
    from rareflow.store import open_store

    st = open_store(store)
    if not (st.root / "runs").is_dir() and not (st.root / "failed").is_dir():
        raise RareflowInputError.single(f"'{store}' is not a run store (no runs/ folder; make one "
                                        "with `rareflow sweep SWEEP --store DIR`)", path="STORE")
    return st


@handle_errors
def runs(
    store: Path = typer.Argument(..., help="Run store folder."),
    as_json: bool = typer.Option(False, "--json", help="A JSON list of runs."),
    status: str = typer.Option(None, "--status", help="Only runs with this status (finished, failed)."),
) -> None:
    """List the runs of a store: id, scenario, engine, status, result hash, overrides, seconds."""
    import json

    st = _open(store)
    df = st.runs()
    if status:
        df = df[df["status"] == status]
    if as_json:
        out = []
        for rec in df.to_dict(orient="records"):
            for k in ("overrides", "factors", "options"):
                rec[k] = json.loads(rec[k])
            rec["tables"] = [t for t in str(rec["tables"] or "").split(",") if t]
            out.append({k: (None if isinstance(v, float) and v != v else v) for k, v in rec.items()})
        print(json.dumps(out, indent=2, default=str))
        return
    from rich.table import Table

    from rareflow.cli.common import console

    con = console()
    table = Table(show_edge=False)
    for c in ("run_id", "scenario", "engine", "status", "result_hash", "factors", "seconds"):
        table.add_column(c, justify="right" if c == "seconds" else "left",
                         no_wrap=c in ("run_id", "result_hash", "status", "engine"),
                         min_width=20 if c == "run_id" else None)
    for rec in df.to_dict(orient="records"):
        sec = rec["seconds"]
        table.add_row(rec["run_id"], str(rec["scenario"]), str(rec["engine"]),
                      str(rec["status"]), str(rec["result_hash"] or "")[:12],
                      _factors(rec["factors"]), "" if sec is None or sec != sec else f"{sec:.2f}")
    con.print(table)
    n_fail = int((df["status"] == "failed").sum())
    con.print(f"{len(df)} runs ({len(df) - n_fail} finished, {n_fail} failed) in {store}")


def _factors(text: str) -> str:
    import json

    f = json.loads(text or "{}")
    return ", ".join(f"{k}={v}" for k, v in f.items())


def flatten(doc: Any, prefix: str = "") -> dict[str, Any]:
    """Numeric leaves of a nested summary by dotted path (booleans and text left out)."""
    out: dict[str, Any] = {}
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.update(flatten(v, f"{prefix}{i}."))
    elif isinstance(doc, int | float) and not isinstance(doc, bool):
        out[prefix[:-1]] = doc
    elif doc is None:
        out[prefix[:-1]] = None
    return out


def differences(a: dict[str, Any], b: dict[str, Any], every: bool = False) -> list[dict[str, Any]]:
    """The answers that differ between two summaries: key, a, b, delta (b - a), largest first."""
    from rareflow.store.store import PROVENANCE_KEYS

    fa, fb = flatten(a), flatten(b)
    rows: list[dict[str, Any]] = []
    for key in sorted(set(fa) | set(fb)):
        if key.split(".")[0] in PROVENANCE_KEYS or key in ("seed",):
            continue
        if not every and not any(w in key for w in ANSWER_WORDS):
            continue
        va, vb = fa.get(key), fb.get(key)
        if va == vb:
            continue
        delta = vb - va if isinstance(va, int | float) and isinstance(vb, int | float) else None
        rows.append({"key": key, "a": va, "b": vb, "delta": delta})
    rows.sort(key=lambda r: -abs(float(r["delta"])) if r["delta"] is not None else float("-inf"))
    return rows


@handle_errors
def compare(
    store: Path = typer.Argument(..., help="Run store folder."),
    run_a: str = typer.Argument(..., help="Run id (or a unique prefix of it)."),
    run_b: str = typer.Argument(..., help="Run id (or a unique prefix of it)."),
    every: bool = typer.Option(False, "--all",
                               help="Every numeric figure of the summaries, not only the answers."),
    limit: int = typer.Option(40, "--limit", min=0, help="Rows shown, largest differences first (0: all)."),
    as_json: bool = typer.Option(False, "--json", help="The differences as JSON."),
) -> None:
    """The differences in the answers of two runs (import reliance, coverage, shortfall,
    costs): only figures that differ, with B - A."""
    import json

    from rareflow.errors import RareflowInputError

    st = _open(store)
    ids = []
    for rid, name in ((run_a, "RUN_A"), (run_b, "RUN_B")):
        try:
            ids.append(st.resolve_id(rid))
        except KeyError as exc:
            raise RareflowInputError.single(f"no run {exc.args[0]} in the store (`rareflow runs "
                                            f"{store}` lists them)", path=name) from None
    ma, mb = (st.manifest(i) for i in ids)
    for m in (ma, mb):
        if m.get("status") != "finished":
            raise RareflowInputError.single(f"run {m['run_id']} has status {m.get('status')} "
                                            "(only finished runs have answers)", path="RUN")
    rows = differences(st.summary(ids[0]), st.summary(ids[1]), every)
    if as_json:
        print(json.dumps({"a": ids[0], "b": ids[1], "differences": rows}, indent=2))
        return
    from rich.table import Table

    from rareflow.cli.common import console

    con = console()
    for tag, m in (("A", ma), ("B", mb)):
        con.print(f"{tag}: {m['run_id']}  {m['scenario']} ({m['engine']})  "
                  f"{_factors(json.dumps(m.get('factors') or {}))}  result {str(m.get('result_hash'))[:12]}")
    if not rows:
        con.print("no differences in the answers" + ("" if every else " (--all compares every figure)"))
        return
    shown = rows if limit == 0 else rows[:limit]
    table = Table(show_edge=False)
    for c, j in (("figure", "left"), ("A", "right"), ("B", "right"), ("B - A", "right")):
        table.add_column(c, justify=j)  # type: ignore[arg-type]
    for r in shown:
        table.add_row(r["key"], _num(r["a"]), _num(r["b"]), _num(r["delta"], signed=True))
    con.print(table)
    if len(shown) < len(rows):
        con.print(f"... and {len(rows) - len(shown)} more differences (--limit 0 shows all)")


def _num(v: Any, signed: bool = False) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:+.4g}" if signed else f"{v:.4g}"
    return f"{v:+d}" if signed else str(v)


@handle_errors
def query(
    store: Path = typer.Argument(..., help="Run store folder."),
    sql: str = typer.Argument(..., help="DuckDB SQL over the views runs, flows, stages, ... "
                              "(one per table; each has a run_id column)."),
    as_json: bool = typer.Option(False, "--json", help="Rows as a JSON list of objects."),
    limit: int = typer.Option(100, "--limit", min=0, help="Rows printed (0: all; --json prints all)."),
) -> None:
    """DuckDB SQL over every run's tables, e.g. SELECT scenario, sum(imports_t) FROM flows
    JOIN runs USING (run_id) GROUP BY scenario."""

    import duckdb

    from rareflow.errors import RareflowInputError

    st = _open(store)
    try:
        df = st.query(sql)
    except duckdb.Error as exc:
        views = ", ".join(["runs", *st.table_names()])
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RareflowInputError.single(f"{first} (tables: {views})", path="SQL") from None
    if as_json:
        print(df.to_json(orient="records", indent=2, date_format="iso"))
        return
    from rich.table import Table

    from rareflow.cli.common import console

    con = console()
    table = Table(show_edge=False)
    for c in df.columns:
        table.add_column(str(c), justify="right" if df[c].dtype.kind in "iuf" else "left")
    shown = df if limit == 0 else df.head(limit)
    for rec in shown.itertuples(index=False):
        table.add_row(*(_cell(v) for v in rec))
    con.print(table)
    if len(shown) < len(df):
        print(f"... {len(df) - len(shown)} more rows (--limit 0 shows all)", file=sys.stderr)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)
