"""The run store: one folder per finished run, Parquet tables partitioned by run id, and a
DuckDB catalogue over them.

Layout::

    STORE/
      runs/run_id=<id>/<table>.parquet   every table of a finished run
      runs/run_id=<id>/summary.json      the run's summary (its answers)
      runs/run_id=<id>/manifest.json     scenario, overrides, hashes, version, seed, engine,
                                         timing, status=finished: the last file written
      failed/<id>.json                   the manifest of a run that failed (status=failed,
                                         error); removed when a rerun finishes
      tmp/                               runs being written (never read)
      catalogue.duckdb                   views over the Parquet files (rebuilt, never trusted)

A run is written into ``tmp/<id>-<pid>-<random>/`` (tables, summary, the manifest last), each
file fsynced, then the folder is renamed to ``runs/run_id=<id>`` in one ``os.rename``: a
reader, a resumed sweep or a kill -9 at any moment sees the whole run or none of it. Two
writers of the same run (a task retried after its worker died) race on the rename; the
loser finds the folder there and discards its copy, so no run is ever held twice.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUNS = "runs"
FAILED = "failed"
TMP = "tmp"
PREFIX = "run_id="
MANIFEST = "manifest.json"
SUMMARY = "summary.json"
CATALOGUE = "catalogue.duckdb"
#: summary keys that say where a result came from, not what it is (left out of result_hash)
PROVENANCE_KEYS = frozenset({"scenario", "scenario_sha256", "rareflow_version", "_meta"})
#: the columns of ``runs`` (the catalogue table and :meth:`Store.runs`), in order
RUN_COLUMNS = ["run_id", "sweep", "scenario", "engine", "status", "result_hash", "overrides",
               "factors", "seed", "seconds", "scenario_hash", "rareflow_version", "options",
               "error", "started", "finished", "tables"]


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys (every key as text) and no whitespace: equal content, equal text."""
    return json.dumps(_keys_as_text(obj), sort_keys=True, separators=(",", ":"), default=str,
                      allow_nan=True)


def _keys_as_text(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _keys_as_text(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_keys_as_text(v) for v in obj]
    return obj


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def table_digest(df: Any) -> str:
    """A content hash of a DataFrame: column names, dtypes and every value's bytes (floats
    bit for bit), independent of the Parquet writer and its metadata."""
    import numpy as np

    h = hashlib.sha256()
    h.update(canonical_json([list(map(str, df.columns)), [str(t) for t in df.dtypes]]).encode())
    for col in df.columns:
        values = df[col].to_numpy()
        if values.dtype.kind in "biufcmM":
            h.update(np.ascontiguousarray(values).tobytes())
        else:
            h.update("\x1f".join("\x00" if v is None else repr(v) for v in values.tolist()).encode())
    return h.hexdigest()


def result_hash(tables: dict[str, Any], summary: dict[str, Any]) -> str:
    """Content hash of a run's results: every table and the summary without its provenance
    keys (scenario name, scenario hash, version). Equal results give equal hashes, whatever
    the scenario was called or which worker computed them."""
    parts = {name: table_digest(tables[name]) for name in sorted(tables)}
    parts["summary"] = sha256_text(canonical_json(
        {k: v for k, v in summary.items() if k not in PROVENANCE_KEYS}))
    return sha256_text(canonical_json(parts))


@dataclass(frozen=True)
class Store:
    """A run store folder (created on first write). See the module docstring for the layout.

    Examples
    --------
    >>> from rareflow.store import open_store
    >>> store = open_store("sweep-store")            # doctest: +SKIP
    >>> store.runs()[["run_id", "scenario", "engine", "status"]]   # doctest: +SKIP
    >>> store.query("SELECT run_id, count(*) FROM flows GROUP BY run_id")  # doctest: +SKIP
    """

    root: Path

    # ------------------------------------------------------------------ paths
    def run_dir(self, run_id: str) -> Path:
        return self.root / RUNS / f"{PREFIX}{run_id}"

    def failed_path(self, run_id: str) -> Path:
        return self.root / FAILED / f"{run_id}.json"

    def is_finished(self, run_id: str) -> bool:
        """True only if the run's folder with its finished manifest is there."""
        return (self.run_dir(run_id) / MANIFEST).is_file()

    def finished_ids(self) -> set[str]:
        d = self.root / RUNS
        if not d.is_dir():
            return set()
        return {p.name[len(PREFIX):] for p in d.iterdir()
                if p.name.startswith(PREFIX) and (p / MANIFEST).is_file()}

    # ------------------------------------------------------------------ writing
    def write_run(self, manifest: dict[str, Any], tables: dict[str, Any],
                  summary: dict[str, Any], metadata: dict[str, dict[str, str]] | None = None
                  ) -> bool:
        """Write a finished run atomically; False if it was already there (nothing changed).

        Tables go first, then ``summary.json``, then ``manifest.json`` (status finished),
        each fsynced, into a private folder under ``tmp/`` that one ``os.rename`` makes the
        run's folder."""
        from rareflow.results.io import atomic_write_json, atomic_write_parquet, fsync_dir

        run_id = manifest["run_id"]
        final = self.run_dir(run_id)
        if (final / MANIFEST).is_file():
            return False
        tmp = self.root / TMP / _tmp_name(run_id)
        tmp.mkdir(parents=True)
        try:
            for name, df in tables.items():
                meta = {"rareflow.run_id": run_id, **((metadata or {}).get(name, {}))}
                atomic_write_parquet(tmp / f"{name}.parquet", df, meta)
            atomic_write_json(tmp / SUMMARY, summary)
            atomic_write_json(tmp / MANIFEST, {**manifest, "status": "finished"})  # last
            fsync_dir(tmp)
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists() and not (final / MANIFEST).is_file():
                # not from our writer (its folders appear whole): damage; replace it
                shutil.rmtree(final, ignore_errors=True)
            try:
                os.rename(tmp, final)
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                    return False  # another writer of the same run won the race
                raise
            fsync_dir(final.parent)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        self.failed_path(run_id).unlink(missing_ok=True)
        return True

    def write_failed(self, manifest: dict[str, Any]) -> None:
        """Record a failed run (status failed, its error); a finished run is never replaced."""
        from rareflow.results.io import atomic_write_json

        if not self.is_finished(manifest["run_id"]):
            atomic_write_json(self.failed_path(manifest["run_id"]), {**manifest, "status": "failed"})

    def clean_tmp(self) -> int:
        """Remove what killed writers of this machine left under ``tmp/``: the folders whose
        writing process is gone (a live writer's folder, or another machine's, is kept)."""
        import socket

        from rareflow.results.io import _pid_alive

        d = self.root / TMP
        if not d.is_dir():
            return 0
        host = socket.gethostname()
        n = 0
        for p in d.iterdir():
            parts = p.name.split("~", 3)
            if len(parts) == 4 and parts[3] == host and parts[1].isdigit() \
                    and not _pid_alive(int(parts[1])):
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
                n += 1
        return n

    # ------------------------------------------------------------------ reading
    def manifests(self) -> Iterator[dict[str, Any]]:
        """Every finished run's manifest, then every failed run that has not finished since."""
        done = set()
        runs = self.root / RUNS
        if runs.is_dir():
            for p in sorted(runs.iterdir()):
                m = p / MANIFEST
                if p.name.startswith(PREFIX) and m.is_file():
                    doc = json.loads(m.read_text(encoding="utf-8"))
                    done.add(doc["run_id"])
                    yield doc
        failed = self.root / FAILED
        if failed.is_dir():
            for p in sorted(failed.glob("*.json")):
                try:
                    doc = json.loads(p.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    continue
                if doc.get("run_id") not in done:
                    yield doc

    def manifest(self, run_id: str) -> dict[str, Any]:
        """The manifest of one run, by its id or a unique prefix of it (KeyError if none)."""
        rid = self.resolve_id(run_id)
        p = self.run_dir(rid) / MANIFEST
        if p.is_file():
            return dict(json.loads(p.read_text(encoding="utf-8")))
        return dict(json.loads(self.failed_path(rid).read_text(encoding="utf-8")))

    def resolve_id(self, run_id: str) -> str:
        ids = [str(m["run_id"]) for m in self.manifests()]
        if run_id in ids:
            return run_id
        hits = [i for i in ids if i.startswith(run_id)]
        if len(hits) == 1:
            return hits[0]
        raise KeyError(run_id if not hits else f"{run_id} (matches {len(hits)} runs)")

    def summary(self, run_id: str) -> dict[str, Any]:
        rid = self.resolve_id(run_id)
        return dict(json.loads((self.run_dir(rid) / SUMMARY).read_text(encoding="utf-8")))

    def table(self, run_id: str, name: str) -> Any:
        import pandas as pd

        return pd.read_parquet(self.run_dir(self.resolve_id(run_id)) / f"{name}.parquet")

    def runs(self) -> Any:
        """One row per run (finished or failed) as pandas, columns :data:`RUN_COLUMNS`;
        ``overrides``, ``factors`` and ``options`` are JSON text."""
        import pandas as pd

        rows = [_run_row(m) for m in self.manifests()]
        return pd.DataFrame(rows, columns=RUN_COLUMNS)

    def table_files(self) -> dict[str, list[Path]]:
        """Table name -> the Parquet files of every finished run that has it (a folder
        without its finished manifest is never read)."""
        out: dict[str, list[Path]] = {}
        for rid in sorted(self.finished_ids()):
            for q in sorted(self.run_dir(rid).glob("*.parquet")):
                out.setdefault(q.stem, []).append(q)
        return out

    def table_names(self) -> list[str]:
        return sorted(self.table_files())

    def connect(self, path: str | Path | None = None) -> Any:
        """A DuckDB connection with the catalogue, rebuilt from the manifests: a table
        ``runs`` and one view per table name over the finished runs' Parquet files
        (``runs/run_id=<id>/<name>.parquet``, with a ``run_id`` column from the folder
        name). In memory unless ``path`` is given."""
        import duckdb

        con = duckdb.connect(str(path) if path else ":memory:")
        df = self.runs()
        con.register("_runs_df", df)
        con.execute("CREATE OR REPLACE TABLE runs AS SELECT * FROM _runs_df")
        con.unregister("_runs_df")
        for name, files in self.table_files().items():
            listed = ", ".join("'" + f.as_posix().replace("'", "''") + "'" for f in files)
            con.execute(
                f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM read_parquet([{listed}], '
                "hive_partitioning = true, hive_types = {'run_id': VARCHAR}, union_by_name = true)")
        return con

    def query(self, sql: str) -> Any:
        """Run DuckDB SQL over the catalogue (see :meth:`connect`); a pandas DataFrame."""
        con = self.connect()
        try:
            return con.execute(sql).df()
        finally:
            con.close()

    def write_catalogue(self) -> Path:
        """(Re)build ``catalogue.duckdb`` from the manifests, atomically (a temp file renamed)."""
        tmp = self.root / TMP / _tmp_name("catalogue")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        con = self.connect(tmp)
        con.close()
        final = self.root / CATALOGUE
        os.replace(tmp, final)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
        return final


def _tmp_name(what: str) -> str:
    """``<what>~<pid>~<random>~<host>``: whose it is, so :meth:`Store.clean_tmp` can tell."""
    import socket

    return f"{what}~{os.getpid()}~{secrets.token_hex(4)}~{socket.gethostname()}"


def _run_row(m: dict[str, Any]) -> dict[str, Any]:
    row = {k: m.get(k) for k in RUN_COLUMNS}
    for k in ("overrides", "factors", "options"):
        row[k] = canonical_json(m.get(k) or {})
    row["tables"] = ",".join(m.get("tables") or [])
    return row


def open_store(root: str | Path) -> Store:
    """The run store in folder ``root`` (it need not exist yet)."""
    return Store(Path(os.path.abspath(os.path.expanduser(str(root)))))
