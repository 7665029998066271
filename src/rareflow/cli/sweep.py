"""``rareflow sweep SWEEP.yaml --store DIR [--workers N | --scheduler ADDRESS]``: many runs.

Expands the sweep file into runs, skips those already finished in the store, runs the
rest on a dask.distributed LocalCluster (or an existing cluster, or in this process with
``--workers 1``), each run written into the store as it lands, and prints the sweep's
answers at the end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from rareflow.cli.common import handle_errors


@handle_errors
def sweep(
    sweep_file: str = typer.Argument(..., metavar="SWEEP",
                                     help="Sweep file path or bundled sweep name (us-ramp-delays)."),
    store: Path = typer.Option(..., "--store", "-s", help="Run store folder (created if new)."),
    workers: int = typer.Option(None, "--workers", "-w", min=1, max=1024,
                                help="Process workers of the embedded LocalCluster (default: the "
                                     "CPUs; 1 runs in this process without dask)."),
    scheduler: str = typer.Option(None, "--scheduler",
                                  help="Address of an existing dask scheduler (tcp://HOST:PORT); "
                                       "the store must be reachable from its workers."),
    engine: list[str] = typer.Option(None, "--engine", "-e",
                                     help="Only the runs of this engine (repeatable), e.g. "
                                          "--engine run: the static half of a sweep first."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the runs, run nothing."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the summary line."),
) -> None:
    """Run a sweep of scenarios x overrides x engines into a run store; resumable."""
    import os

    from rareflow.cli.common import console
    from rareflow.errors import RareflowInputError
    from rareflow.store import open_store
    from rareflow.store.answers import save_answers_spec, sweep_answers
    from rareflow.store.execute import run_sweep
    from rareflow.store.sweep import Sweep, load_sweep

    if workers is not None and scheduler is not None:
        raise RareflowInputError.single("give --workers or --scheduler, not both",
                                        path="--scheduler")
    if store.exists() and not store.is_dir():
        raise RareflowInputError.single(f"'{store}' is a file, not a folder (give a run store "
                                        "folder, new or from an earlier sweep)", path="--store")
    con = console()
    sw = load_sweep(sweep_file)
    if engine:
        unknown = sorted(set(engine) - set(sw.spec.engines))
        if unknown:
            raise RareflowInputError.single(
                f"the sweep has no engine {', '.join(unknown)} (allowed: "
                f"{', '.join(sw.spec.engines)})", path="--engine")
        sw = Sweep(sw.spec, sw.file, [r for r in sw.runs if r.engine in engine])
    if dry_run:
        for r in sw.runs:
            print(f"{r.run_id}  {r.scenario:<32} {r.engine:<8} {_short(r.factors)}")
        print(f"{len(sw.runs)} runs")
        return
    st = open_store(store)
    n_workers = workers if workers is not None else max(1, len(os.sched_getaffinity(0)))
    st.root.mkdir(parents=True, exist_ok=True)
    save_answers_spec(st, sw.spec.name, list(sw.spec.answers))
    with _progress(con, quiet or not con.is_terminal, len(sw.runs)) as tick:
        report = run_sweep(sw, st, workers=n_workers, scheduler=scheduler, progress=tick)
    st.write_catalogue()
    print(f"{sw.spec.name}: {report.total} runs: {report.finished} finished, {report.failed} "
          f"failed, {report.skipped} already in the store; {report.ran} ran in "
          f"{report.seconds:.1f} s on {report.workers or 'no workers'} "
          f"({report.runs_per_second:.2f} runs/s); store {store}")
    if quiet:
        return
    for res in report.results:
        if res["status"] == "failed":
            first = str(res.get("error", "")).splitlines()[0] if res.get("error") else ""
            con.print(f"[red]failed[/] {res['run_id']}: {first}")
    for ans in sweep_answers(st, sw.spec.name):
        print_crossing(con, ans)


def _short(factors: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in factors.items())


def print_crossing(con: Any, ans: Any) -> None:
    """One answer as a rich table: the other factors, the crossing level and the values."""
    from rich.table import Table

    t = ans.table
    table = Table(title=ans.title, title_justify="left", show_edge=False)
    if len(t) == 0:
        con.print(f"{ans.title}: no finished runs to answer it")
        return
    cols = [c for c in t.columns if c not in ("crossing", "values")]
    for c in cols:
        table.add_column(str(c))
    table.add_column(f"{ans.spec.factor} crossing", justify="right")
    table.add_column("values by level")
    for _, row in t.iterrows():
        shown = _level(row["crossing"])
        vals = ", ".join(f"{k}: {v:.3g}" if isinstance(v, int | float) else f"{k}: {v}"
                         for k, v in row["values"].items())
        table.add_row(*(_level(row[c]) for c in cols), shown, vals)
    con.print(table)


def _level(v: Any) -> str:
    """A factor level as written: 2 not 2.0 (pandas makes a column with a None float)."""
    if v is None or (isinstance(v, float) and v != v):
        return "none"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


class _progress:
    """A rich progress bar over the runs (skipped, finished, failed); silent when quiet."""

    def __init__(self, con: Any, quiet: bool, total: int) -> None:
        self.con, self.quiet, self.total = con, quiet, total
        self.prog: Any = None
        self.counts = {"finished": 0, "failed": 0, "skipped": 0}

    def __enter__(self) -> Any:
        if self.quiet:
            return lambda _res: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.prog = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), console=self.con, transient=True)
        self.prog.__enter__()
        task = self.prog.add_task("runs", total=self.total)

        def tick(res: dict[str, Any]) -> None:
            self.counts[res["status"]] = self.counts.get(res["status"], 0) + 1
            c = self.counts
            self.prog.update(task, advance=1, description=f"runs ({c['finished']} done, "
                             f"{c['failed']} failed, {c['skipped']} skipped)")

        return tick

    def __exit__(self, *exc: Any) -> None:
        if self.prog is not None:
            self.prog.__exit__(*exc)
