"""Atomic writes: a crash never leaves a half-written result file, or a half-written
output folder, behind. Every file rareflow writes goes through this module."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results are ordinary files
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _clean(obj: Any) -> Any:
    import math

    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def atomic_write_json(path: str | Path, obj: Any, default: Any = None) -> None:
    atomic_write_text(path, json.dumps(_clean(obj), indent=2, sort_keys=False, default=default,
                                       allow_nan=False) + "\n")


UNITS_KEY = "rareflow.units"
"""Parquet metadata key of a table's column units (JSON: column -> unit)."""


def read_parquet_units(path: str | Path) -> dict[str, str]:
    """Column -> unit recorded in a Parquet file rareflow wrote ({} if none)."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(UNITS_KEY.encode())
    return dict(json.loads(raw)) if raw else {}


def atomic_write_parquet(path: str | Path, df: Any, metadata: dict[str, str] | None = None) -> None:
    """Write a pandas DataFrame to Parquet atomically, with column units in metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    if metadata:
        meta = dict(table.schema.metadata or {})
        meta.update({k.encode(): v.encode() for k, v in metadata.items()})
        table = table.replace_schema_metadata(meta)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    atomic_write_bytes(path, sink.getvalue().to_pybytes())


# --- output folders: all of a run's files appear together, or none do -----------------------
#
# ``with output_folder(out) as d:`` validates ``out``, takes an exclusive lock
# (``fcntl.flock`` on ``.<name>.lock`` beside the folder; a second run writing the same
# folder waits for the first), writes everything into a fresh sibling ``.<name>.tmp-<pid>-<rand>``
# and, on success, swaps it in with one atomic ``renameat2(RENAME_EXCHANGE)`` (Linux): the
# old folder then sits under the temporary name and is deleted. Where the exchange is not
# available the old folder is first renamed to ``.<name>.old-<pid>-<rand>`` and the new one
# renamed into place: a kill between those two renames leaves no folder but a complete backup,
# which the next run writing that folder restores before anything else. A failure or an
# interrupt removes the temporary folder; a kill cannot, so the next run (holding the lock,
# hence the only writer) removes every stale ``.<name>.tmp-*`` / ``.<name>.old-*``. A new
# folder replaces the old one whole, so no file of an earlier run survives beside new ones.

_ACTIVE: list[Path] = []  # temporary folders of the transactions open in this process

_OUTPUT_NAMES = frozenset({
    "summary.json", "answers.json", "report.html", "tables", "stress_summary.json",
    "stress_samples.parquet", "stress_sensitivity.json", "plan_summary.json", "plan.parquet",
    "plan_report.html", "economics_summary.json", "cash_flows.parquet", "samples.parquet",
    "recycling_summary.json", "recycling.parquet",
})


def _bad(message: str, option: str) -> Exception:
    from rareflow.errors import RareflowInputError

    return RareflowInputError.single(message, path=option)


def check_output_folder(out: str | Path | None, option: str = "--out") -> Path:
    """Refuse an output folder rareflow cannot (or must not) replace; return it absolute.

    Raises :class:`~rareflow.errors.RareflowInputError` naming ``option``."""
    allowed = "give a folder path, new or an earlier rareflow output folder"
    if out is None or str(out).strip() == "":
        raise _bad(f"empty path ({allowed})", option)
    raw = str(out)
    p = Path(os.path.abspath(os.path.expanduser(raw)))
    cwd = Path(os.getcwd())
    if p == cwd or p in cwd.parents or p == Path(p.anchor) or p == Path.home():
        raise _bad(f"'{raw}' is the current, home or root folder or one above it; rareflow "
                   f"replaces its output folder whole ({allowed}, e.g. rareflow-out)", option)
    if p.exists() and not p.is_dir():
        what = "a device" if not p.is_file() else "a file"
        raise _bad(f"'{raw}' is {what}, not a folder ({allowed})", option)
    if p.is_dir():
        try:
            names = os.listdir(p)
        except OSError as exc:
            raise _bad(f"'{raw}' cannot be read: {exc.strerror} ({allowed})", option) from None
        if names and not _OUTPUT_NAMES.intersection(names):
            raise _bad(f"'{raw}' holds files that are not rareflow output, and rareflow "
                       f"replaces its output folder whole (name a new or empty folder)", option)
    parent = p.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise _bad(f"'{raw}': cannot create files in '{parent}' (permission denied; "
                   f"{allowed} in a writable place)", option)
    return p


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    import errno

    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def fsync_dir(d: Path) -> None:
    """Flush a folder's entries (a rename into it) to disk; a no-op where not supported."""
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _recover(target: Path) -> None:
    """Under the lock: restore a backup left by a kill mid-swap, remove stale temporaries."""
    import shutil

    parent, name = target.parent, target.name
    backups = sorted(parent.glob(f".{name}.old-*"), key=lambda q: q.stat().st_mtime)
    if backups and not target.exists():
        os.rename(backups.pop(), target)
    for q in [*backups, *parent.glob(f".{name}.tmp-*")]:
        try:
            pid = int(q.name.rsplit(".tmp-", 1)[-1].rsplit(".old-", 1)[-1].split("-")[0])
        except ValueError:
            pid = -1
        if pid == os.getpid() and q in _ACTIVE:
            continue
        # we hold the lock, so every other writer of this folder is gone; the pid check
        # guards against a writer that did not take the lock
        if pid > 0 and pid != os.getpid() and _pid_alive(pid) and q.name.startswith(f".{name}.tmp-"):
            continue
        shutil.rmtree(q, ignore_errors=True)


def _nested(p: Path) -> bool:
    return any(p == t or t in p.parents for t in _ACTIVE)


@contextmanager
def output_folder(out: str | Path | None, option: str = "--out") -> Iterator[Path]:
    """Write a whole output folder as one transaction; yields the folder to write into.

    Inside an open transaction (e.g. ``demo`` writing ``tables/`` in its folder) the nested
    folder is simply created in the temporary one."""
    import fcntl
    import secrets
    import shutil
    import sys

    p = Path(os.path.abspath(os.path.expanduser(str(out)))) if out not in (None, "") else None
    if p is not None and _nested(p):
        p.mkdir(parents=True, exist_ok=True)
        yield p
        return
    target = check_output_folder(out, option)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(target.parent / f".{target.name}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise _bad(f"'{out}': cannot create it: {exc.strerror} (give a folder path in a "
                   f"writable place)", option) from None
    try:
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another rareflow run writing {out} ...", file=sys.stderr)
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
        _recover(target)
        tmp = target.parent / f".{target.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
        tmp.mkdir()
        _ACTIVE.append(tmp)
        try:
            yield tmp
            fsync_dir(tmp)
            if target.exists():
                if _exchange(tmp, target):
                    fsync_dir(target.parent)
                    shutil.rmtree(tmp, ignore_errors=True)  # now the old folder
                else:
                    backup = target.parent / (f".{target.name}.old-{os.getpid()}-"
                                              f"{secrets.token_hex(4)}")
                    os.rename(target, backup)
                    os.rename(tmp, target)  # a kill just before this: next run restores backup
                    fsync_dir(target.parent)
                    shutil.rmtree(backup, ignore_errors=True)
            else:
                os.rename(tmp, target)
                fsync_dir(target.parent)
        finally:
            _ACTIVE.remove(tmp)
            if tmp.exists() and tmp != target:
                shutil.rmtree(tmp, ignore_errors=True)
    finally:
        os.close(lock_fd)  # releases the lock; the lock file stays (removing it would race)
