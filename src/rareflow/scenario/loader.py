"""Load a scenario: find it, read it with line numbers, merge ``extends:``, validate.

``load_scenario("us-baseline")`` finds a bundled scenario by name; a path loads a file.
``extends:`` names a bundled scenario or a path relative to the extending file (or a list
of them, merged in order); the extending file then overrides any part of it. Mappings
merge key by key; a ``null`` removes an entry; lists and scalars replace.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rareflow import resources
from rareflow.errors import Problem, RareflowInputError
from rareflow.scenario.model import Scenario
from rareflow.scenario.yaml_io import Located, load_yaml

MAX_EXTENDS_DEPTH = 16
MAX_PARENTS = 16          # names in one ``extends:`` list
MAX_FILES = 64            # distinct files behind one scenario


def bundled_scenarios() -> dict[str, Path]:
    """Bundled scenarios by name (file stem), searched through the package's data."""
    out: dict[str, Path] = {}
    for p in sorted(resources.scenario_dir().rglob("*.yaml")):
        if p.parent.name.startswith("_") or p.stem.startswith("_"):
            continue
        out.setdefault(p.stem, p)
    return out


def _bundled_any(text: str) -> Path | None:
    """A bundled file by name, including the ``_``-prefixed parts that scenarios extend."""
    named = bundled_scenarios()
    if text in named:
        return named[text]
    stem = Path(text).stem if text.endswith((".yaml", ".yml")) else text
    return named.get(stem)


def resolve(name_or_path: str | Path, *, relative_to: Path | None = None) -> Path:
    """Find a scenario file: a path or a bundled name.

    With ``relative_to`` (the folder of a file that ``extends:`` this one) a path must lie
    inside that folder, or be a bundled file: ``extends:`` never reads elsewhere on the
    machine. Raises FileNotFoundError (not found) or PermissionError (outside the folder).
    """
    text = str(name_or_path)
    if relative_to is None:
        c = Path(text)
        if resources.is_file(c):
            return c.resolve()
        found = _bundled_any(text)
        if found is not None:
            return found
        raise FileNotFoundError(text)
    base = relative_to.resolve()
    for c in (base / text, base / f"{text}.yaml"):
        if resources.is_file(c):
            real = c.resolve()
            if resources.is_inside(real, base) or resources.is_bundled(real):
                return real
            raise PermissionError(text)
    found = _bundled_any(text)
    if found is not None:
        return found
    if Path(text).is_absolute() or ".." in Path(text).parts:
        raise PermissionError(text)
    raise FileNotFoundError(text)



def _merge(base: Located, top: Located) -> Located:
    """Deep-merge ``top`` over ``base``, keeping where every value was written.

    Runs in time linear in the two documents' sizes: the recorded lines are indexed by
    every ancestor path once, so replacing a subtree touches only the lines under it.
    """
    out = Located(data=None, file=top.file)
    out.lines.update(base.lines)
    out.files.update({p: base.file_of(p) for p in base.lines})
    out.sources.update(base.sources)
    out.sources.update(top.sources)
    base_under = _descendants(base.lines)
    top_under = _descendants(top.lines)

    def replace(sub: tuple[Any, ...]) -> None:
        for p in base_under.get(sub, ()):
            out.lines.pop(p, None)
            out.files.pop(p, None)
        for p in top_under.get(sub, ()):
            out.lines[p] = top.lines[p]
            out.files[p] = top.file_of(p)

    def walk(a: Any, b: Any, path: tuple[Any, ...]) -> Any:
        if isinstance(a, dict) and isinstance(b, dict):
            merged = dict(a)
            for k, v in b.items():
                sub = (*path, k)
                if (k in merged and isinstance(merged[k], dict) and isinstance(v, dict)
                        and "dist" not in v and not _is_schedule(v)
                        and not _is_schedule(merged[k])):
                    # a distribution or a {year: value} schedule replaces what it overrides:
                    # merging schedules year by year would keep the parent's other years
                    merged[k] = walk(merged[k], v, sub)
                else:
                    replace(sub)
                    merged[k] = v
                if sub in top.lines:
                    out.lines[sub] = top.lines[sub]
                    out.files[sub] = top.file_of(sub)
            return merged
        return b

    out.data = walk(base.data, top.data, ())
    return out


def _descendants(lines: dict[tuple[Any, ...], int]) -> dict[tuple[Any, ...], list[tuple[Any, ...]]]:
    """Every recorded path listed under each of its proper ancestors."""
    under: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    for p in lines:
        for i in range(1, len(p)):
            under.setdefault(p[:i], []).append(p)
    return under


def _is_schedule(d: dict) -> bool:
    """A ``{year: value}`` mapping (every key a four-digit year)."""
    return bool(d) and all(str(k).isdigit() and len(str(k)) == 4 for k in d)


def _prune_nulls(data: Any, depth: int = 0) -> Any:
    """Keys set to null are removed after merging, at any depth below the top (an entry of a
    collection, an inherited origin share, a schedule year); lists are kept as written."""
    if isinstance(data, dict):
        return {k: _prune_nulls(v, depth + 1) for k, v in data.items()
                if not (v is None and depth >= 1)}
    return data


def load_document(name_or_path: str | Path) -> Located:
    """Read a scenario file and everything it extends, merged (not yet validated).

    Each file is read and merged once however often it is named (a diamond or a doubling
    chain of parents costs one load per distinct file); at most :data:`MAX_FILES` files,
    :data:`MAX_PARENTS` names per ``extends:`` and :data:`MAX_EXTENDS_DEPTH` levels.
    """
    return _Loader().load(name_or_path, stack=(), origin=None)


class _Loader:
    def __init__(self) -> None:
        self.done: dict[Path, Located] = {}

    def _fail(self, msg: str, origin: tuple[str, int | None] | None, fallback: str) -> None:
        if origin is not None:
            raise RareflowInputError.single(msg, file=origin[0], line=origin[1], path="extends")
        raise RareflowInputError.single(msg, file=fallback)

    def load(self, name_or_path: str | Path, *, stack: tuple[Path, ...],
             origin: tuple[str, int | None] | None) -> Located:
        rel = stack[-1].parent if stack else None
        shown = _short(str(name_or_path))
        try:
            path = resolve(name_or_path, relative_to=rel)
        except PermissionError:
            self._fail(f"'{shown}' is outside the scenario's folder (extends: takes a bundled "
                       "scenario name or a file in the extending file's folder or below)",
                       origin, shown)
            raise AssertionError("unreachable") from None
        except FileNotFoundError:
            what = _not_regular(name_or_path, rel)
            if what:
                self._fail(f"'{shown}' is {what}, not a regular file (allowed: a YAML "
                           "scenario file or a bundled scenario name)", origin, shown)
            names = ", ".join(sorted(bundled_scenarios()))
            self._fail(f"cannot find scenario '{shown}' (a path, or one of the bundled names: "
                       f"{names})", origin, shown)
            raise AssertionError("unreachable") from None
        if path in stack:
            cycle = " -> ".join(p.name for p in (*stack, path))
            self._fail(f"circular extends: {cycle}", origin, resources.display_name(path))
        if path in self.done:
            return self.done[path]
        if len(stack) >= MAX_EXTENDS_DEPTH:
            self._fail(f"extends nested deeper than {MAX_EXTENDS_DEPTH} (allowed: at most "
                       f"{MAX_EXTENDS_DEPTH} levels)", origin, resources.display_name(path))
        if len(self.done) >= MAX_FILES:
            self._fail(f"more than {MAX_FILES} distinct files behind one scenario (allowed: at "
                       f"most {MAX_FILES})", origin, resources.display_name(path))
        doc = load_yaml(path, display=resources.display_name(path))
        if not isinstance(doc.data, dict):
            raise RareflowInputError.single("a scenario file must be a mapping of sections",
                                            file=doc.file, line=1)
        parents = doc.data.get("extends")
        if isinstance(parents, str):
            parents = [parents]
        if parents is None or parents == []:
            self.done[path] = doc
            return doc
        where = doc.line_of(("extends",))
        if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
            raise RareflowInputError.single("extends takes a scenario name or path, or a list "
                                            "of them", file=doc.file, line=where, path="extends")
        if len(parents) > MAX_PARENTS:
            raise RareflowInputError.single(f"extends names {len(parents)} scenarios (allowed: "
                                            f"at most {MAX_PARENTS})", file=doc.file, line=where,
                                            path="extends")
        seen: set[str] = set()
        merged: Located | None = None
        for i, parent in enumerate(parents):
            line = doc.line_of(("extends", i)) if len(parents) > 1 else where
            if parent in seen:
                raise RareflowInputError.single(f"'{_short(parent)}' is named twice (allowed: "
                                                "each parent once)", file=doc.file, line=line,
                                                path=f"extends.{i}")
            seen.add(parent)
            base = self.load(parent, stack=(*stack, path), origin=(doc.file, line))
            merged = base if merged is None else _merge(merged, base)
        assert merged is not None  # parents is a non-empty list here
        result = _merge(merged, doc)
        self.done[path] = result
        return result


def _not_regular(name_or_path: str | Path, rel: Path | None) -> str:
    """What ``name_or_path`` is when it exists but is no regular file (a directory, a
    device such as /dev/zero, a pipe), else ""; never opens it."""
    import stat

    try:
        p = Path(name_or_path) if rel is None else rel / str(name_or_path)
        mode = p.stat().st_mode
    except (OSError, ValueError):
        return ""
    if stat.S_ISREG(mode):
        return ""
    return "a directory" if stat.S_ISDIR(mode) else "a device, pipe or socket"


def _short(text: str, limit: int = 120) -> str:
    """A user's string cut for display (an over-long name must not flood the message)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _iter_dist(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], dict]]:
    if isinstance(data, dict):
        if "dist" in data:
            yield path, data
            return
        for k, v in data.items():
            yield from _iter_dist(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _iter_dist(v, (*path, i))


def _extract_distributions(doc: Located) -> dict[str, Any]:
    """Replace every ``{dist: ...}`` node by its central value; return path -> Distribution."""
    found = list(_iter_dist(doc.data))
    if not found:
        return {}
    try:
        from rareflow.uncertainty import parse_distribution
    except ImportError:  # pragma: no cover - the uncertainty module ships with rareflow
        p = found[0][0]
        raise RareflowInputError.single("distributions are not supported in this build",
                                        file=doc.file_of(p), line=doc.line_of(p),
                                        path=".".join(map(str, p))) from None
    from rareflow.units import parse

    out: dict[str, Any] = {}
    problems: list[Problem] = []

    def convert(x: Any) -> float:
        if isinstance(x, int | float) and not isinstance(x, bool):
            return float(x)
        text = str(x)
        for kind in ("mass_rate", "fraction", "price", "money", "duration", "mass", "rate"):
            try:
                return parse(text, kind)
            except Exception:
                continue
        raise ValueError(f"cannot read {x!r} as a number with a unit")

    for path, node in found:
        dotted = ".".join(map(str, path))
        try:
            dist = parse_distribution(node, convert, dotted)
        except RareflowInputError as exc:
            for pr in exc.problems:
                problems.append(Problem(pr.message, doc.file_of(path), doc.line_of(path),
                                        pr.path or dotted))
            continue
        except ValueError as exc:
            problems.append(Problem(str(exc), doc.file_of(path), doc.line_of(path), dotted))
            continue
        out[dotted] = dist
        parent: Any = doc.data
        for part in path[:-1]:
            parent = parent[part]
        unit = _unit_of(node)
        central = dist.central()
        parent[path[-1]] = f"{central!r} {unit}" if unit else central
    if problems:
        raise RareflowInputError(problems)
    return out


def _unit_of(node: dict) -> str:
    """The unit written with a distribution's parameters (``'6 months'`` -> ``months``),
    so the central value is validated by the field's own unit type."""
    for key in ("mode", "mean", "low", "high", "value"):
        v = node.get(key)
        if isinstance(v, str):
            parts = v.strip().split(maxsplit=1)
            if len(parts) == 2:
                return _canonical_unit_hint(parts[1])
    if "values" in node and node["values"] and isinstance(node["values"][0], str):
        parts = node["values"][0].strip().split(maxsplit=1)
        if len(parts) == 2:
            return _canonical_unit_hint(parts[1])
    return ""


def _canonical_unit_hint(unit: str) -> str:
    # The distribution converted its parameters to canonical units; name that unit.
    from rareflow.units import CANONICAL, parse

    for kind, canon in CANONICAL.items():
        try:
            parse(f"1 {unit}", kind)
        except Exception:
            continue
        return "" if canon == "dimensionless" else canon.replace("dimensionless", "")
    return ""


def load_scenario(name_or_path: str | Path | Scenario,
                  overrides: dict[str, Any] | None = None, *,
                  origin: str = "<overrides>") -> Scenario:
    """Load, merge and validate a scenario (a bundled name or a YAML path).

    ``overrides`` (dotted path -> value, see :mod:`rareflow.scenario.overrides`) are set
    on the merged document before it is validated, so they are checked as a file is;
    their problems are located as ``<overrides>: field.path: ...`` (``origin``).

    Raises
    ------
    RareflowInputError
        With every problem found, each located as ``FILE:LINE: field.path``.
    """
    from rareflow.scenario.overrides import build_with_overrides

    if isinstance(name_or_path, Scenario):
        return name_or_path.with_overrides(overrides, origin=origin) if overrides \
            else name_or_path
    doc = load_document(name_or_path)
    return build_with_overrides(doc, overrides, origin=origin)
