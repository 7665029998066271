"""Fuzz the bundled scenarios: mutate them at random and check every outcome is clean.

    python tools/fuzz_scenarios.py --mutants 500 --seed 1 --workers 2

Each mutant is one bundled scenario file (a top-level scenario or one of the ``_``-prefixed
parts it extends) with one to three random mutations (a deleted key, a swapped type, a
wrong or malformed unit, an unknown id, an out-of-range share, reversed years, a NaN,
infinite, huge or negative value, a bad distribution, a deep or empty ``extends:``). The
whole scenario folder is copied once per worker into a temp folder; the mutated file is
written in place there (its ``extends:`` still names the bundled parents as the original
did) and a scenario that reaches it is loaded and run in-process, in a worker process with
a per-mutant timeout. Outcomes:

``refused``
    a clean :class:`rareflow.errors.RareflowInputError` (good);
``accepted``
    a run whose every tonnage in every results table is finite and non-negative (good);
``traceback``
    any other exception (bad: type, message and the mutation are recorded);
``bad_result``
    a run with a NaN, infinite or negative tonnage in some table (bad);
``timeout``
    the mutant ran past ``--timeout`` seconds (bad).

Exits 1 if any bad outcome occurred. The mutation functions are reused by
``tests/fuzz/test_fuzz_property.py``; :func:`mutate` is deterministic given its RNG.
"""

from __future__ import annotations

import argparse
import copy
import math
import multiprocessing as mp
import random
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

import yaml

# --- the mutation library ------------------------------------------------------------------

BAD_UNITS = ["5 kg/furlong", "5 t/yr/yr", "t/yr 5", "1e999 t/yr", "5 t", "5 USD/kg", "5",
             "5 kt/yr kt", "five t/yr", "", " ", "5 %", "5 vehicle/yr", "5 kg/MW", "-5 t/yr",
             "nan t/yr", "inf t/yr", "-inf kt/yr", "1e300 t/yr", "1e30 kt/yr", "0x10 t/yr",
             "5 t/s", "5 t/yr * yr", "5 REO", "%", "5 %/yr/yr", "5 months/yr"]
BAD_SHARES: list[Any] = [-0.1, 1.5, 1e300, -1e300, "150 %", "-10 %", "1e300 %", "101 %",
                         float("nan"), float("inf"), float("-inf"), 2, -1, "nan %"]
BAD_NUMBERS: list[Any] = [float("nan"), float("inf"), float("-inf"), 1e300, -1e300, -5,
                          -1e-9, 0, 1e18, -0.0, 10**30, "nan", ".inf", "-.inf", "1e400"]
BAD_GROWTH = ["-150 %/yr", "-100 %/yr", "-99.9999 %/yr", "1e6 %/yr", "1e300 %/yr",
              "-1e300 %/yr", "nan %/yr", "inf %/yr", "-200 %/yr", "500 %/yr", "-1 /yr"]
SWAPS: list[Any] = [{"a": 1}, [1, 2], "abc", True, False, None, 5, 5.5, [], {}, [{"a": 1}],
                    "5 t/yr", {"2025": {"a": 1}}, {"dist": "uniform"}]
UNKNOWN_IDS = ["zz_unknown", "QQ", "us", "", "X", "cn_embargo ", "ÜÜ", "a" * 300]
BAD_DISTS: list[Any] = [
    {"dist": "triangular", "low": "5 t/yr", "mode": "1 t/yr", "high": "3 t/yr"},
    {"dist": "triangular", "low": "5 t/yr", "high": "7 t/yr"},
    {"dist": "pert", "low": "10 %", "mode": "90 %", "high": "50 %"},
    {"dist": "uniform", "low": "9 t/yr", "high": "1 t/yr"},
    {"dist": "uniform", "low": "1 t/yr"},
    {"dist": "normal", "mean": "5 t/yr", "sd": "-1 t/yr"},
    {"dist": "normal", "mean": "5 t/yr"},
    {"dist": "normal", "mean": "5 %", "sd": "0 %"},
    {"dist": "lognormal", "mean": "-5 t/yr", "sd": "1 t/yr"},
    {"dist": "discrete", "values": []},
    {"dist": "discrete", "values": ["1 t/yr", "2 t/yr"], "weights": [0.9, 0.9]},
    {"dist": "discrete", "values": ["1 t/yr", "2 t/yr"], "weights": [-0.5, 1.5]},
    {"dist": "bogus", "low": 1},
    {"dist": "uniform", "low": {"a": 1}, "high": [1]},
    {"dist": "uniform", "low": "nan t/yr", "high": "inf t/yr"},
    {"dist": "uniform", "low": "-5 t/yr", "high": "5 t/yr"},
    {"dist": "uniform", "low": "10 %", "high": "150 %"},
    {"dist": "triangular", "low": "1 t/yr", "mode": "2 t/yr", "high": "1e300 t/yr"},
    {"dist": "pert", "low": 0.1, "mode": 0.2, "high": 0.3, "lambda": -1},
    {"dist": None},
    {"dist": "uniform", "low": True, "high": False},
]
# hostile unit strings: parsing them safely is the loader's/units' job (``--hostile``)
HOSTILE_UNITS = ["9**9**9 t/yr", "1" + "0" * 5000 + " t/yr", "(" * 200 + "5 t/yr" + ")" * 200,
                 "5 t/yr" + " * yr/yr" * 300, "1e308 * 1e308 t/yr", "5 kt/yr ** 0.5 ** 2"]
ID_KEYS = {"region", "process", "sector", "material", "stage", "owner", "capacity_basis",
           "basis", "focus_region", "chain", "allied_group", "facility", "origin"}


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    """Every (path, value) below ``node`` (the root excluded)."""
    out: list[tuple[tuple[Any, ...], Any]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append(((*path, k), v))
            out.extend(_paths(v, (*path, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.append(((*path, i), v))
            out.extend(_paths(v, (*path, i)))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    node = doc
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value


def _delete(doc: Any, path: tuple[Any, ...]) -> None:
    node = doc
    for p in path[:-1]:
        node = node[p]
    del node[path[-1]]


def _is_quantity(v: Any) -> bool:
    if not isinstance(v, str):
        return False
    parts = v.strip().split(maxsplit=1)
    if len(parts) != 2:
        return False
    try:
        float(parts[0])
    except ValueError:
        return False
    return True


def _leaves(doc: Any) -> list[tuple[tuple[Any, ...], Any]]:
    return [(p, v) for p, v in _paths(doc) if not isinstance(v, dict | list)]


def _skip(path: tuple[Any, ...]) -> bool:
    # mutations of free text (notes, descriptions, sources) teach nothing
    return any(str(p) in ("note", "description", "sources", "assumption", "confidence",
                          "name", "source", "url", "title") for p in path)


def m_delete_key(doc: dict, rng: random.Random) -> str:
    cands = [p for p, _ in _paths(doc) if not _skip(p) and p != ("name",)]
    if not cands:
        return "noop"
    p = rng.choice(cands)
    _delete(doc, p)
    return f"delete {_dot(p)}"


def m_swap_type(doc: dict, rng: random.Random) -> str:
    cands = [p for p, v in _paths(doc) if not _skip(p)]
    if not cands:
        return "noop"
    p = rng.choice(cands)
    v = copy.deepcopy(rng.choice(SWAPS))
    _set(doc, p, v)
    return f"swap {_dot(p)} -> {v!r}"


def m_bad_unit(doc: dict, rng: random.Random) -> str:
    cands = [p for p, v in _leaves(doc) if _is_quantity(v) and not _skip(p)]
    if not cands:
        return m_swap_type(doc, rng)
    p = rng.choice(cands)
    v = rng.choice(BAD_UNITS)
    _set(doc, p, v)
    return f"unit {_dot(p)} -> {v!r}"


def m_hostile_unit(doc: dict, rng: random.Random) -> str:
    cands = [p for p, v in _leaves(doc) if _is_quantity(v) and not _skip(p)]
    if not cands:
        return "noop"
    p = rng.choice(cands)
    v = rng.choice(HOSTILE_UNITS)
    _set(doc, p, v)
    return f"hostile-unit {_dot(p)} -> {v[:40]!r}"


def m_bad_number(doc: dict, rng: random.Random) -> str:
    """Replace the number of a quantity (keeping its unit), or a bare number."""
    cands = [(p, v) for p, v in _leaves(doc) if not _skip(p)
             and (_is_quantity(v) or (isinstance(v, int | float) and not isinstance(v, bool)))]
    if not cands:
        return "noop"
    p, old = rng.choice(cands)
    x = rng.choice(BAD_NUMBERS)
    if isinstance(old, str):
        unit = old.strip().split(maxsplit=1)[1]
        num = {float("nan"): "nan"}.get(x, x) if isinstance(x, float) and x != x else x
        if isinstance(num, float) and math.isinf(num):
            num = "inf" if num > 0 else "-inf"
        v: Any = f"{num} {unit}" if rng.random() < 0.7 else x
    else:
        v = x
    _set(doc, p, v)
    return f"number {_dot(p)} -> {v!r}"


def m_bad_share(doc: dict, rng: random.Random) -> str:
    cands = [p for p, v in _leaves(doc) if not _skip(p) and (
        (isinstance(v, str) and v.strip().endswith("%"))
        or (isinstance(v, float) and 0 <= v <= 1)
        or str(p[-1]) in ("share", "utilisation", "yield", "recovery", "severity"))]
    if not cands:
        return m_bad_number(doc, rng)
    p = rng.choice(cands)
    v = rng.choice(BAD_SHARES)
    _set(doc, p, v)
    return f"share {_dot(p)} -> {v!r}"


def m_bad_growth(doc: dict, rng: random.Random) -> str:
    cands = [p for p, v in _leaves(doc) if "growth" in str(p[-1]) or (
        isinstance(v, str) and v.replace(" ", "").endswith("%/yr"))]
    if not cands:
        cands = [p for p, v in _paths(doc) if len(p) == 2 and p[0] == "demand"
                 and isinstance(v, dict)]
        if not cands:
            return m_bad_number(doc, rng)
        p = (*rng.choice(cands), "growth")
    else:
        p = rng.choice(cands)
    v = rng.choice(BAD_GROWTH)
    _set(doc, p, v)
    return f"growth {_dot(p)} -> {v!r}"


def m_unknown_id(doc: dict, rng: random.Random) -> str:
    cands = [(p, v) for p, v in _paths(doc) if (
        isinstance(v, str) and str(p[-1]) in ID_KEYS)
        or (len(p) >= 2 and str(p[-2]) in ("origins", "members", "processes"))]
    if not cands:
        return m_swap_type(doc, rng)
    p, v = rng.choice(cands)
    new = rng.choice(UNKNOWN_IDS)
    parent = doc
    for q in p[:-1]:
        parent = parent[q]
    if str(p[-2:-1][0] if len(p) >= 2 else "") == "origins" and isinstance(parent, dict):
        parent[new] = parent.pop(p[-1])
        return f"rename {_dot(p)} -> {new!r}"
    _set(doc, p, new)
    return f"id {_dot(p)} -> {new!r}"


def m_years(doc: dict, rng: random.Random) -> str:
    choices: list[Any] = [{"start": 2035, "end": 2024}, {"start": 2024, "end": 2200},
                          {"start": 1800, "end": 2030}, {"start": 2024, "end": 99999},
                          {"start": 2024.5, "end": 2030}, {"start": "2024", "end": "x"},
                          {"start": -5, "end": 2030}, {"start": 2024}, 2024, [2024, 2030],
                          {"start": 2024, "end": 2101}, {"start": 1949, "end": 2000},
                          {"start": 2100, "end": 2100}, {"start": float("nan"), "end": 2030}]
    v = copy.deepcopy(rng.choice(choices))
    doc["years"] = v
    return f"years -> {v!r}"


def m_schedule_years(doc: dict, rng: random.Random) -> str:
    """Damage the year keys of a {year: value} schedule."""
    cands = [(p, v) for p, v in _paths(doc) if isinstance(v, dict) and v
             and all(str(k).isdigit() and len(str(k)) == 4 for k in v)]
    if not cands:
        return m_years(doc, rng)
    p, v = rng.choice(cands)
    k = rng.choice(list(v))
    new = rng.choice([1800, 2500, "20x5", -1, 2024.5, "2025-01", 99999, True])
    v[new] = v.pop(k)
    return f"schedule-year {_dot((*p, k))} -> {new!r}"


def m_distribution(doc: dict, rng: random.Random) -> str:
    cands = [p for p, v in _leaves(doc) if (_is_quantity(v) or isinstance(v, float))
             and not _skip(p)]
    if not cands:
        return "noop"
    p = rng.choice(cands)
    v = copy.deepcopy(rng.choice(BAD_DISTS))
    _set(doc, p, v)
    return f"dist {_dot(p)} -> {v!r}"


def m_delete_entry(doc: dict, rng: random.Random) -> str:
    """Delete (or null) a whole collection entry: a facility, a self-supply row..."""
    cands = [p for p, v in _paths(doc) if len(p) == 2 and isinstance(v, dict)
             and p[0] not in ("sources", "years")]
    if not cands:
        return m_delete_key(doc, rng)
    p = rng.choice(cands)
    if rng.random() < 0.5:
        _delete(doc, p)
        return f"delete-entry {_dot(p)}"
    _set(doc, p, None)
    return f"null-entry {_dot(p)}"


MUTATIONS = [m_delete_key, m_swap_type, m_bad_unit, m_bad_number, m_bad_share, m_bad_growth,
             m_unknown_id, m_years, m_schedule_years, m_distribution, m_delete_entry]


def _dot(p: tuple[Any, ...]) -> str:
    return ".".join(map(str, p))


HOSTILE = False     # set by --hostile: add hostile unit strings to the mutations


def mutate(doc: dict, rng: random.Random, n: int | None = None) -> list[str]:
    """Apply one to three random mutations to ``doc`` in place; return their descriptions."""
    n = n if n is not None else rng.choice([1, 1, 1, 2, 3])
    pool = [*MUTATIONS, m_hostile_unit] if HOSTILE else MUTATIONS
    out = []
    for _ in range(n):
        out.append(rng.choice(pool)(doc, rng))
    return out


def extends_mutation(rng: random.Random) -> tuple[str, int]:
    """What to do with ``extends:``: 'chain' (deep), 'empty' (``extends: []``) or 'keep'."""
    r = rng.random()
    if r < 0.04:
        return "chain", rng.choice([1, 3, 8, 15, 16, 17, 30])
    if r < 0.07:
        return "empty", 0
    return "keep", 0


# --- running one mutant ----------------------------------------------------------------------

def scenario_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.yaml"))


def entry_for(rel: Path) -> Path:
    """A top-level scenario (relative to the scenario folder) whose load reads ``rel``."""
    if not (rel.stem.startswith("_") or rel.parent.name.startswith("_")):
        return rel
    if rel.parent.name == "_reference":
        return Path("us-baseline.yaml")
    if rel.stem == "_us-stress-base":
        return Path("stress/us-embargo-6m.yaml")
    if rel.stem == "_us-recycling-common":
        return Path("recycling/us-recycling-today.yaml")
    # an unknown part: the first sibling that names it
    for sib in sorted(rel.parent.glob("*.yaml")) if rel.is_absolute() else []:
        if rel.name in sib.read_text():
            return sib
    return Path("us-baseline.yaml")


TONNAGE_SIGNED = {"net_imports_t"}
NAN_ALLOWED = {"capacity"}          # facilities.capacity: NaN when not disclosed


def check_results(results: Any) -> list[str]:
    """Problems with the numbers of a run: NaN/inf anywhere a tonnage is, negative tonnages,
    and infinite ratios. Empty when the run is sound."""
    import numpy as np

    from rareflow.results.results import TABLES

    bad: list[str] = []
    for name in TABLES:
        df = results.table(name)
        for col in df.columns:
            if df[col].dtype.kind not in "fiu":
                continue
            v = df[col].to_numpy(dtype=float)
            tonnage = col.endswith("_t") or col == "capacity"
            if tonnage:
                finite = np.isfinite(v) | (np.isnan(v) if col in NAN_ALLOWED else False)
                if not finite.all():
                    bad.append(f"{name}.{col}: {int((~finite).sum())} non-finite values")
                if col not in TONNAGE_SIGNED and (v < 0).any():
                    bad.append(f"{name}.{col}: {int((v < 0).sum())} negative values "
                               f"(min {np.nanmin(v):.4g})")
                if (np.abs(np.nan_to_num(v)) > 1e12).any():
                    bad.append(f"{name}.{col}: astronomically large values (max "
                               f"{np.nanmax(np.abs(v)):.4g} t/yr)")
            elif np.isinf(v).any():
                bad.append(f"{name}.{col}: {int(np.isinf(v).sum())} infinite values")
    return bad


def run_mutant(root: Path, seed: int, index: int) -> dict[str, Any]:
    """Build mutant ``index`` of ``seed`` inside the scenario tree copy ``root``, load and run
    it, restore the tree, and classify the outcome."""
    from rareflow.errors import RareflowInputError

    rng = random.Random(f"{seed}-{index}")
    files = scenario_files(root)
    target = rng.choice(files)
    rel = target.relative_to(root)
    original = target.read_text()
    doc = yaml.safe_load(original)
    extra: list[Path] = []
    info: dict[str, Any] = {"index": index, "file": str(rel)}
    try:
        muts = mutate(doc, rng) if isinstance(doc, dict) else ["noop"]
        how, depth = extends_mutation(rng)
        if how == "empty":
            doc["extends"] = []
            muts.append("extends -> []")
        target.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
        entry = root / entry_for(rel)
        if how == "chain":
            # a chain of `depth` files, each extending the previous, the first the entry
            prev = entry
            for k in range(depth):
                f = entry.parent / f"zz-chain-{index}-{k}.yaml"
                f.write_text(yaml.safe_dump({"name": f"chain-{k}", "extends": prev.name}))
                extra.append(f)
                prev = f
            entry = prev
            muts.append(f"extends chain of {depth}")
        info["mutations"] = muts
        info["entry"] = str(entry.relative_to(root))
        try:
            import rareflow

            scenario = rareflow.load_scenario(entry)
            results = rareflow.run(scenario)
            bad = check_results(results)
        except RareflowInputError as exc:
            info["outcome"] = "refused"
            info["detail"] = exc.format()[:400]
            unlocated = [p for p in exc.problems if not p.file or not p.line]
            info["unlocated"] = bool(unlocated)
            return info
        except Exception as exc:  # noqa: BLE001 - that is what we are looking for
            info["outcome"] = "traceback"
            tb = traceback.extract_tb(exc.__traceback__)
            last = tb[-1] if tb else None
            where = f"{Path(last.filename).name}:{last.lineno}" if last else "?"
            info["detail"] = f"{type(exc).__name__}: {str(exc)[:300]} (at {where})"
            return info
        if bad:
            info["outcome"] = "bad_result"
            info["detail"] = "; ".join(bad[:4])
        else:
            info["outcome"] = "accepted"
        return info
    finally:
        target.write_text(original)
        for f in extra:
            f.unlink(missing_ok=True)


def _worker(conn: Any, seed: int) -> None:
    from rareflow.resources import scenario_dir

    tmp = Path(tempfile.mkdtemp(prefix="rareflow-fuzz-"))
    root = tmp / "scenarios"
    shutil.copytree(scenario_dir(), root)
    try:
        while True:
            index = conn.recv()
            if index is None:
                break
            try:
                conn.send(run_mutant(root, seed, index))
            except Exception as exc:  # noqa: BLE001 - a fault of the fuzzer itself
                conn.send({"index": index, "outcome": "fuzzer_error",
                           "detail": f"{type(exc).__name__}: {exc}", "mutations": []})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


BAD = ("traceback", "bad_result", "timeout", "fuzzer_error")


def fuzz(mutants: int, seed: int, workers: int, timeout: float,
         progress: bool = True) -> list[dict[str, Any]]:
    ctx = mp.get_context("fork" if sys.platform != "win32" else "spawn")
    pending = list(range(mutants))[::-1]
    results: list[dict[str, Any]] = []
    slots: list[dict[str, Any]] = []

    def start() -> dict[str, Any]:
        parent, child = ctx.Pipe()
        p = ctx.Process(target=_worker, args=(child, seed), daemon=True)
        p.start()
        child.close()
        return {"proc": p, "conn": parent, "task": None, "since": 0.0}

    for _ in range(max(1, workers)):
        slots.append(start())
    t0 = time.time()
    last_report = t0
    while pending or any(s["task"] is not None for s in slots):
        for s in slots:
            if s["task"] is None and pending:
                s["task"] = pending.pop()
                s["since"] = time.time()
                s["conn"].send(s["task"])
        ready = wait([s["conn"] for s in slots if s["task"] is not None], timeout=0.5)
        now = time.time()
        for i, s in enumerate(slots):
            if s["task"] is None:
                continue
            if s["conn"] in ready:
                try:
                    results.append(s["conn"].recv())
                    s["task"] = None
                    continue
                except EOFError:
                    results.append({"index": s["task"], "outcome": "traceback",
                                    "detail": f"worker died (exit {s['proc'].exitcode})",
                                    "mutations": []})
            elif now - s["since"] > timeout:
                results.append({"index": s["task"], "outcome": "timeout",
                                "detail": f"over {timeout:g} s", "mutations": []})
            else:
                continue
            s["proc"].kill()
            s["proc"].join()
            slots[i] = start()
        if progress and now - last_report > 30:
            last_report = now
            print(f"  {len(results)}/{mutants} in {now - t0:.0f} s", file=sys.stderr)
    for s in slots:
        try:
            s["conn"].send(None)
        except OSError:
            pass
        s["proc"].join(timeout=5)
        if s["proc"].is_alive():
            s["proc"].kill()
    results.sort(key=lambda r: r["index"])
    return results


def describe(seed: int, index: int) -> str:
    """The mutations of one mutant, rebuilt (for timeouts, whose worker was killed)."""
    from rareflow.resources import scenario_dir

    tmp = Path(tempfile.mkdtemp(prefix="rareflow-fuzz-"))
    try:
        root = tmp / "scenarios"
        shutil.copytree(scenario_dir(), root)
        rng = random.Random(f"{seed}-{index}")
        target = rng.choice(scenario_files(root))
        doc = yaml.safe_load(target.read_text())
        muts = mutate(doc, rng)
        how, depth = extends_mutation(rng)
        return f"{target.relative_to(root)}: {muts} extends={how}{depth or ''}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mutants", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per mutant")
    ap.add_argument("--examples", type=int, default=5, help="examples shown per bad class")
    ap.add_argument("--hostile", action="store_true",
                    help="also write hostile unit strings ('9**9**9 t/yr', 5000 digits...)")
    args = ap.parse_args(argv)
    global HOSTILE
    HOSTILE = args.hostile
    t0 = time.time()
    results = fuzz(args.mutants, args.seed, args.workers, args.timeout)
    counts = Counter(r["outcome"] for r in results)
    print(f"{len(results)} mutants (seed {args.seed}, {args.workers} workers) in "
          f"{time.time() - t0:.1f} s")
    for k in ("refused", "accepted", *BAD):
        print(f"  {k:13s} {counts.get(k, 0)}")
    unlocated = [r for r in results if r.get("unlocated")]
    if unlocated:
        print(f"  (refusals with a problem lacking FILE:LINE: {len(unlocated)})")
    for k in BAD:
        bad = [r for r in results if r["outcome"] == k]
        if not bad:
            continue
        print(f"\n{k}: {len(bad)}")
        seen: set[str] = set()
        shown = 0
        for r in bad:
            key = r["detail"][:80]
            if key in seen:
                continue
            seen.add(key)
            muts = r.get("mutations") or describe(args.seed, r["index"])
            print(f"  #{r['index']} {r.get('file', '')} -> {r.get('entry', '')}\n"
                  f"      mutations: {muts}\n      {r['detail']}")
            shown += 1
            if shown >= args.examples:
                break
    if unlocated:
        print("\nrefusals without FILE:LINE (first few):")
        for r in unlocated[: args.examples]:
            print(f"  #{r['index']} {r['file']}: {r['mutations']}\n      {r['detail'][:200]}")
    return 1 if any(counts.get(k) for k in BAD) else 0


if __name__ == "__main__":
    sys.exit(main())
