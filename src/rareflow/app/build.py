"""Where ``rareflow serve`` gets its store: a given run store, or the static runs of some
scenarios (or of the bundled ``dashboard`` sweep) made once into a cache folder.

The cache is ``$XDG_CACHE_HOME/rareflow/serve/<key>`` (default ``~/.cache/...``), ``key``
being 16 hex digits of sha256 over the run ids (which hash the scenarios' contents and
overrides): an edited scenario gets a new store, an unchanged one is served at once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from rareflow.errors import RareflowInputError

if TYPE_CHECKING:
    from rareflow.store.sweep import Sweep

DASHBOARD_SWEEP = "dashboard"


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rareflow" / "serve"


def is_store(path: Path) -> bool:
    return path.is_dir() and ((path / "runs").is_dir() or (path / "failed").is_dir())


def resolve_store(args: list[str], *, workers: int = 1) -> Path:
    """The store to serve: ``args`` is one store folder, or scenario names/paths (none: the
    bundled dashboard sweep); those are run (static engine) into the cache first."""
    if len(args) == 1 and is_store(Path(args[0])):
        return Path(args[0])
    if len(args) == 1 and Path(args[0]).is_dir():
        raise RareflowInputError.single(f"'{args[0]}' is a folder but not a run store (no runs/; make "
                                        "one with `rareflow sweep SWEEP --store DIR`)", path="STORE")
    sweep = _dashboard_sweep() if not args else _scenario_sweep(args)
    return _build(sweep, workers)


def _dashboard_sweep() -> Sweep:
    from rareflow.store.sweep import load_sweep

    return load_sweep(DASHBOARD_SWEEP)


def _scenario_sweep(names: list[str]) -> Sweep:
    """A sweep of the static run of each scenario, as written (no overrides)."""
    from rareflow.scenario.loader import load_scenario
    from rareflow.store.sweep import RunSpec, Sweep, load_sweep, run_id, scenario_hash

    base = load_sweep(DASHBOARD_SWEEP)
    runs: list[RunSpec] = []
    problems = []
    for name in names:
        src = str(Path(name).resolve()) if Path(name).is_file() else name
        try:
            sc = load_scenario(src)
        except RareflowInputError as exc:
            problems.extend(exc.problems)
            continue
        h = scenario_hash(sc)
        rid = run_id(h, {}, "run", {}, base.spec.seed)
        runs.append(RunSpec(rid, "serve", sc.name, src, h, "run", {}, {}, {}, base.spec.seed))
    if problems:
        raise RareflowInputError(problems)
    return Sweep(base.spec, base.file, runs)


def _build(sweep: Sweep, workers: int) -> Path:
    import sys

    from rareflow.store import open_store
    from rareflow.store.execute import run_sweep
    from rareflow.store.store import sha256_text

    ids = sorted(r.run_id for r in sweep.runs)
    root = cache_root() / sha256_text(",".join(ids))[:16]
    st = open_store(root)
    todo = [i for i in ids if not st.is_finished(i)]
    if todo:
        print(f"running {len(todo)} runs into {root} (once; a static or stress run takes about "
              "15 s, a plan about 40 s)", file=sys.stderr)
        report = run_sweep(sweep, st, workers=workers)
        failed = [r for r in report.results if r["status"] == "failed"]
        if failed:
            first = str(failed[0].get("error", "")).splitlines()[:1]
            raise RareflowInputError.single(f"{len(failed)} runs failed: {' '.join(first)}", path="SCENARIO")
    return root
