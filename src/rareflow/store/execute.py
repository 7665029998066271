"""Running a sweep: every run writes itself into the store as it finishes.

The workers write (each run into a private folder renamed into place, manifest last; see
:mod:`rareflow.store.store`); the client only submits, counts and shows progress. So a
kill -9 of the client or of any worker loses at most the runs in flight, never a finished
one, and a rerun of the sweep skips every run whose finished manifest is there.

``workers=1`` without a scheduler runs in this process, without dask; with a
``LocalCluster`` of process workers (one thread each) or an existing cluster
(``scheduler``) every run is the same function on the same inputs, so the results are
the same bit for bit.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from rareflow.store.store import Store, open_store, result_hash
from rareflow.store.sweep import RunSpec, Sweep


def _version() -> str:
    from rareflow import __version__

    return __version__


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def manifest_of(spec: RunSpec) -> dict[str, Any]:
    d = asdict(spec)
    d["rareflow_version"] = _version()
    return d


def execute_run(store_root: str, spec: RunSpec) -> dict[str, Any]:
    """Run one ``spec`` and write it into the store; returns its (small) manifest.

    A finished run already there is not run again (``status: skipped``). Any exception of
    the run is recorded (``status: failed`` with the error) and returned, never raised."""
    from rareflow._threads import single_blas_thread
    from rareflow.store.engines import load, run_engine

    store = open_store(store_root)
    if store.is_finished(spec.run_id):
        return {"run_id": spec.run_id, "status": "skipped"}
    manifest = manifest_of(spec)
    manifest.update(started=_now(), host=_host(), pid=os.getpid())
    t0 = time.perf_counter()
    try:
        with single_blas_thread():
            scenario = load(spec.source, spec.overrides)
            tables, summary, meta = run_engine(spec.engine, scenario, spec.options, spec.seed)
        manifest.update(seconds=round(time.perf_counter() - t0, 4), finished=_now(),
                        result_hash=result_hash(tables, summary), tables=sorted(tables),
                        scenario_content_sha256=_content_hash(scenario), error=None)
        store.write_run(manifest, tables, summary, meta)
        return {"run_id": spec.run_id, "status": "finished", "seconds": manifest["seconds"],
                "result_hash": manifest["result_hash"]}
    except Exception as exc:  # a failed run is recorded and the sweep goes on
        manifest.update(seconds=round(time.perf_counter() - t0, 4), finished=_now(),
                        result_hash=None, tables=[], error=_error_text(exc))
        store.write_failed(manifest)
        return {"run_id": spec.run_id, "status": "failed", "error": manifest["error"],
                "seconds": manifest["seconds"]}


def _content_hash(scenario: Any) -> str:
    from rareflow.store.sweep import scenario_hash

    return scenario_hash(scenario)


def _host() -> str:
    import socket

    return socket.gethostname()


def _error_text(exc: BaseException) -> str:
    from rareflow.errors import RareflowInputError

    if isinstance(exc, RareflowInputError):
        return exc.format()
    tb = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-3)
    return f"{type(exc).__name__}: {exc}\n{''.join(tb[-3:])}".strip()


@dataclass
class SweepReport:
    """What a sweep did: counts, time, and the per-run results that came back."""

    total: int
    skipped: int = 0
    finished: int = 0
    failed: int = 0
    seconds: float = 0.0
    workers: str = ""
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ran(self) -> int:
        return self.finished + self.failed

    @property
    def runs_per_second(self) -> float:
        return self.ran / self.seconds if self.seconds > 0 else 0.0


Progress = Callable[[dict[str, Any]], None]


def run_sweep(sweep: Sweep, store: Store | str, *, workers: int = 1, scheduler: str | None = None,
              progress: Progress | None = None) -> SweepReport:
    """Run every run of ``sweep`` not yet finished in ``store``; each writes itself as it
    lands. ``progress`` is called with each run's result (skipped ones included)."""
    st = store if isinstance(store, Store) else open_store(store)
    st.root.mkdir(parents=True, exist_ok=True)
    st.clean_tmp()
    done = st.finished_ids()
    todo = [r for r in sweep.runs if r.run_id not in done]
    report = SweepReport(total=len(sweep.runs), skipped=len(sweep.runs) - len(todo))
    for r in sweep.runs:
        if r.run_id in done and progress is not None:
            progress({"run_id": r.run_id, "status": "skipped"})
    t0 = time.perf_counter()

    def landed(res: dict[str, Any]) -> None:
        report.results.append(res)
        if res["status"] == "finished":
            report.finished += 1
        elif res["status"] == "failed":
            report.failed += 1
        else:
            report.skipped += 1
        if progress is not None:
            progress(res)

    if todo and scheduler is None and workers <= 1:
        report.workers = "1 (in process)"
        for spec in todo:
            landed(execute_run(str(st.root), spec))
    elif todo:
        report.workers = _run_dask(todo, st, workers, scheduler, landed)
    report.seconds = time.perf_counter() - t0
    return report


def _run_dask(todo: list[RunSpec], st: Store, workers: int, scheduler: str | None,
              landed: Progress) -> str:
    import warnings

    import distributed

    dd: Any = distributed  # untyped library: its calls are checked at run time
    Client, LocalCluster, as_completed = dd.Client, dd.LocalCluster, dd.as_completed
    cluster = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dask's port-in-use and similar notices
        if scheduler is None:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=40)
            client = Client(cluster)
            where = f"{workers} (LocalCluster, processes)"
        else:
            client = Client(scheduler)
            where = f"cluster at {scheduler}"
    try:
        root = str(st.root)
        futures = {client.submit(execute_run, root, spec, key=f"rareflow-run-{spec.run_id}",
                                 pure=False): spec for spec in todo}
        for fut in as_completed(futures):
            spec = futures[fut]
            try:
                res = fut.result()
            except Exception as exc:  # the task itself was lost (KilledWorker, cancelled)
                m = manifest_of(spec)
                m.update(seconds=None, finished=_now(), result_hash=None, tables=[],
                         error=_error_text(exc))
                st.write_failed(m)
                res = {"run_id": spec.run_id, "status": "failed", "error": m["error"]}
            fut.release()
            landed(res)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return where
