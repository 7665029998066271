"""Overrides in code: dotted paths set on a scenario's merged document before validation.

``rareflow.load_scenario("us-baseline", overrides={...})`` and
``scenario.with_overrides({...})`` write each ``"section.entry.field": value`` onto the
merged YAML document (everything ``extends:`` brought in) exactly where a scenario file
would, and then validate it the way a file is validated: units, distributions, nulls,
cross-references and provenance all apply unchanged. A problem is located like a file's,
with the overrides' origin in place of ``FILE:LINE``::

    <overrides>: facilities.vulcan_benson_magnets.capacity.2029: '2500 kg' is a mass ...

Rules (those of ``extends:``, see :mod:`rareflow.scenario.loader`):

* a key is a dotted path from the top of the document; a list is indexed by an integer
  (``stress.events.0.duration``); every step but the last must exist, the last may name a
  new key (a new entry is given whole: ``{"facilities.new_plant": {...}}``);
* a mapping value merges key by key into the mapping it overrides; a ``{year: value}``
  schedule or a ``{dist: ...}`` distribution replaces what it overrides whole; anything
  else replaces; ``None`` removes the entry;
* values are what a YAML file could hold: text with units (``"2500 t/yr"``), numbers,
  booleans, ``None``, mappings (keys become text, as YAML keys do) and lists.

Overrides are applied in the order given. The scenario records them
(:attr:`Scenario.overrides`) and a content hash of the validated result
(:meth:`Scenario.content_hash`).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rareflow.errors import Problem, RareflowInputError
from rareflow.scenario.yaml_io import MAX_DEPTH, Located

if TYPE_CHECKING:  # pragma: no cover
    from rareflow.scenario.model import Scenario

ORIGIN = "<overrides>"
NO_LINE = 0
"""The line recorded for an overridden path: none (:class:`~rareflow.errors.Problem`
prints ``ORIGIN: path: ...`` without a line)."""

MAX_OVERRIDES = 10_000

_ALLOWED = ("allowed: text with a unit such as '2500 t/yr', a number, true/false, None, "
            "a mapping or a list")


# --------------------------------------------------------------------------- public
def apply_overrides(doc_or_scenario: Located | Scenario, overrides: Mapping[str, Any] | None,
                    *, origin: str = ORIGIN) -> Any:
    """Apply dotted-path ``overrides`` to a merged document or to a scenario.

    Parameters
    ----------
    doc_or_scenario : Located or Scenario
        A merged document (:func:`rareflow.scenario.loader.load_document`; it is not
        changed: a new document is returned, not yet validated), or a validated scenario
        (a new validated :class:`~rareflow.scenario.model.Scenario` is returned, as
        :meth:`Scenario.with_overrides` does).
    overrides : mapping
        ``{"dotted.path": value}``; see the module documentation for the rules.
    origin : str
        How the overrides are named in messages (``<overrides>: path: problem``).

    Raises
    ------
    RareflowInputError
        Every problem, each located as ``ORIGIN: dotted.path: what is wrong (allowed)``.

    Examples
    --------
    >>> from rareflow.scenario.loader import load_document
    >>> doc = load_document("us-baseline")
    >>> new = apply_overrides(doc, {"facilities.vulcan_benson_magnets.capacity.2029": "2500 t/yr"})
    >>> new.data["facilities"]["vulcan_benson_magnets"]["capacity"]["2029"]
    '2500 t/yr'
    >>> new.file_of(("facilities", "vulcan_benson_magnets", "capacity", "2029"))
    '<overrides>'
    """
    from rareflow.scenario.model import Scenario

    if isinstance(doc_or_scenario, Scenario):
        return doc_or_scenario.with_overrides(overrides or {}, origin=origin)
    doc = copy_document(doc_or_scenario)
    _apply_all(doc, normalise(overrides, origin), origin)
    return doc


def build_with_overrides(base: Located, overrides: Mapping[str, Any] | None, *,
                         origin: str = ORIGIN) -> Scenario:
    """Validate ``base`` (a merged document, not changed) with ``overrides`` applied.

    The returned scenario keeps ``base`` and the overrides, so that
    :meth:`Scenario.with_overrides` can apply more onto the same starting point."""
    import dataclasses

    from rareflow.scenario.build import build_scenario
    from rareflow.scenario.loader import _extract_distributions, _prune_nulls

    given = plain_copy(overrides or {}, origin)
    doc = copy_document(base)
    _apply_all(doc, normalise(given, origin), origin)
    try:
        uncertain = _extract_distributions(doc)
        doc.data = _prune_nulls(doc.data)
        scenario = build_scenario(doc, uncertain)
    except RareflowInputError as exc:
        if not given:
            raise
        raise RareflowInputError([_refine(p, doc, origin) for p in exc.problems]) from None
    return dataclasses.replace(scenario, base_document=base, overrides=given)


def _refine(problem: Problem, doc: Located, origin: str) -> Problem:
    """Locate a problem at the overridden key it is about: a schedule's problem is
    reported at the schedule with the year first (``capacity: 2029: ...``), a figure's
    (``{value: ..., source: ...}``) at the figure quoting the value; when that year or
    value was overridden, the problem is ``<overrides>: ...capacity.2029: ...``."""
    import re

    if not problem.path:
        return problem
    parts = _doc_path(doc, tuple(problem.path.split(".")))
    m = re.match(r"([^\s:]+): (.*)", problem.message, re.S)
    if m is not None:
        sub = (*parts, m.group(1))
        if sub in doc.lines and doc.file_of(sub) == origin:
            return Problem(m.group(2), origin, None, _dot(sub))
    # a figure ({value: ..., source: ...}) is checked as a whole: the value it quotes
    # locates the problem at the overridden key that holds it
    n = len(parts)
    if problem.file == origin:
        return problem
    for p, f in doc.files.items():
        if f == origin and len(p) > n and p[:n] == parts:
            value = _get(doc.data, p)
            if isinstance(value, str | int | float) and not isinstance(value, bool) \
                    and f"'{value}'" in problem.message:
                return Problem(problem.message, origin, None, _dot(p))
    return problem


def _dot(path: tuple[Any, ...]) -> str:
    return ".".join(map(str, path))


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        try:
            data = data[p]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _doc_path(doc: Located, parts: tuple[str, ...]) -> tuple[Any, ...]:
    """Dotted parts as the document's keys (list indices as integers)."""
    out: list[Any] = []
    node: Any = doc.data
    for part in parts:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            out.append(int(part))
            node = node[int(part)]
        else:
            out.append(part)
            node = node.get(part) if isinstance(node, dict) else None
    return tuple(out)


def combine(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``old`` then ``new``: a path given again takes its new value, applied last."""
    out = {k: v for k, v in old.items() if k not in new}
    out.update(new)
    return out


def canonical_json(obj: Any) -> str:
    """Compact JSON with sorted keys (the input of every content hash)."""
    import json

    return json.dumps(_jsonable(obj), sort_keys=True, separators=(",", ":"), default=str)


# --------------------------------------------------------------------------- copying
def copy_document(doc: Located) -> Located:
    """A copy of ``doc`` that can be changed without touching ``doc``."""
    return Located(data=_copy(doc.data), file=doc.file, lines=dict(doc.lines),
                   files=dict(doc.files), sources=dict(doc.sources))


def _copy(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _copy(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_copy(v) for v in x]
    return x


def plain_copy(overrides: Mapping[str, Any], origin: str = ORIGIN) -> dict[str, Any]:
    """The overrides as given (keys kept), copied into plain Python values (numpy scalars
    to numbers, tuples to lists), so later changes to the caller's dict do not reach the
    scenario. Raises for a value no YAML file could hold."""
    if not isinstance(overrides, Mapping):
        raise RareflowInputError.single(
            f"overrides must be a mapping of dotted paths to values (got "
            f"{type(overrides).__name__})", file=origin)
    if len(overrides) > MAX_OVERRIDES:
        raise RareflowInputError.single(
            f"{len(overrides):,} overrides (allowed: at most {MAX_OVERRIDES:,})", file=origin)
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    for key, value in overrides.items():
        if not isinstance(key, str):
            problems.append(Problem(f"override key {key!r} is not a dotted path (allowed: "
                                    "text such as 'facilities.vulcan_benson_magnets.capacity')",
                                    origin))
            continue
        try:
            out[key] = _plain(value, key, 0, keep_keys=True)
        except _Bad as exc:
            problems.append(Problem(exc.message, origin, None, exc.path))
    if problems:
        raise RareflowInputError(problems)
    return out


def normalise(overrides: Mapping[str, Any] | None, origin: str = ORIGIN) -> dict[str, Any]:
    """The overrides as a YAML file would hold them: mapping keys as text."""
    given = plain_copy(overrides or {}, origin)
    return {k: _plain(v, k, 0, keep_keys=False) for k, v in given.items()}


class _Bad(Exception):
    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def _plain(value: Any, path: str, depth: int, *, keep_keys: bool) -> Any:
    if depth > MAX_DEPTH:
        raise _Bad(f"value nested deeper than {MAX_DEPTH} levels (allowed: at most "
                   f"{MAX_DEPTH})", path)
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return value if type(value) in (int, float) else (int(value) if isinstance(value, int)
                                                         else float(value))
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            if k is None or not isinstance(k, str | int | float | bool) and not _is_np_scalar(k):
                raise _Bad(f"mapping key {k!r} is not a plain value (allowed: text or a "
                           "number, such as a year)", path)
            k = _np_item(k)
            sub = f"{path}.{k}"
            key = k if keep_keys else str(k)
            if not keep_keys and key in out:
                raise _Bad(f"duplicate key '{key}'", sub)
            out[key] = _plain(v, sub, depth + 1, keep_keys=keep_keys)
        return out
    if isinstance(value, list | tuple):
        return [_plain(v, f"{path}.{i}", depth + 1, keep_keys=keep_keys)
                for i, v in enumerate(value)]
    if _is_np_scalar(value):
        return _plain(_np_item(value), path, depth, keep_keys=keep_keys)
    raise _Bad(f"a value of type {type(value).__name__} cannot be written in a scenario "
               f"({_ALLOWED})", path)


def _is_np_scalar(x: Any) -> bool:
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        return False
    return isinstance(x, np.generic) and not isinstance(x, np.datetime64 | np.timedelta64)


def _np_item(x: Any) -> Any:
    return x.item() if _is_np_scalar(x) else x


def _jsonable(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return repr(x)          # 'nan', 'inf': stable text, not invalid JSON
    return x


# --------------------------------------------------------------------------- applying
def _apply_all(doc: Located, overrides: dict[str, Any], origin: str) -> None:
    if not overrides:
        return
    if not isinstance(doc.data, dict):
        raise RareflowInputError.single("a scenario document must be a mapping of sections",
                                        file=doc.file, line=1)
    problems: list[Problem] = []
    for key, value in overrides.items():
        try:
            _apply_one(doc, key, value, origin)
        except _Bad as exc:
            problems.append(Problem(exc.message, origin, None, exc.path))
    if problems:
        raise RareflowInputError(problems)


def _apply_one(doc: Located, key: str, value: Any, origin: str) -> None:
    raw = key.split(".")
    if not key or any(p == "" or p != p.strip() for p in raw):
        raise _Bad("not a dotted path (allowed: names joined by dots, e.g. "
                   "'facilities.vulcan_benson_magnets.capacity'; no empty parts or spaces "
                   "around them)", key)
    if raw[0] == "extends":
        raise _Bad("extends cannot be overridden: the document is already merged (allowed: "
                   "load the other scenario, with these overrides, instead)", key)
    if raw[0] == "chain":
        from rareflow import resources

        known = sorted(p.stem for p in resources.chain_dir().glob("*.yaml"))
        if len(raw) > 1 or value not in known:
            raise _Bad(f"{value!r} is not a bundled chain (allowed: one of {', '.join(known)}; "
                       "a chain file of your own is named by a scenario file's `chain:`)", key)
    parts: list[Any] = []
    node: Any = doc.data
    for i, part in enumerate(raw):
        last = i == len(raw) - 1
        where = ".".join(map(str, parts)) or "the top of the scenario"
        if isinstance(node, dict):
            if part not in node and not last:
                raise _Bad(f"'{part}' is not in {where}{_hint(part, node)} (allowed: a path "
                           f"through existing entries; a new entry is given whole, as "
                           f"{'.'.join([*map(str, parts), part])}: {{...}})", key)
            step: Any = part
        elif isinstance(node, list):
            if not (part.isdigit() and int(part) < len(node)):
                n = len(node)
                allowed = f"0..{n - 1}" if n else "none: the list is empty"
                raise _Bad(f"'{part}' is not an index of the list at {where} (allowed: an "
                           f"integer index, {allowed})", key)
            step = int(part)
        else:
            shown = "null" if node is None else repr(node)
            if len(shown) > 60:
                shown = shown[:57] + "..."
            raise _Bad(f"{where} is a value ({shown}), not a mapping or a list, so it has no "
                       f"'{part}' (allowed: a path that ends at {where} or above)", key)
        parts.append(step)
        if not last:
            node = node[step]
    parent = node
    step = parts[-1]
    path = tuple(parts)
    old = parent.get(step) if isinstance(parent, dict) else parent[step]
    parent[step] = _merged(doc, old, value, path, origin)


def _merged(doc: Located, old: Any, new: Any, path: tuple[Any, ...], origin: str) -> Any:
    """``new`` over ``old`` as ``extends:`` merges (loader._merge): mappings key by key,
    a schedule or a distribution (on either side) replaces whole, anything else replaces.
    Records ``origin`` as where every written path came from."""
    from rareflow.scenario.loader import _is_schedule

    if (isinstance(old, dict) and isinstance(new, dict) and "dist" not in new
            and "dist" not in old and not _is_schedule(new) and not _is_schedule(old)):
        if path not in doc.lines:     # a mapping merged into keeps where it was written
            doc.lines[path] = NO_LINE
            doc.files[path] = origin
        out = dict(old)
        for k, v in new.items():
            out[k] = _merged(doc, old.get(k), v, (*path, k), origin)
        return out
    _forget_below(doc, path)
    _record(doc, new, path, origin)
    return new


def _forget_below(doc: Located, path: tuple[Any, ...]) -> None:
    n = len(path)
    for p in [p for p in doc.lines if len(p) > n and p[:n] == path]:
        del doc.lines[p]
        doc.files.pop(p, None)


def _record(doc: Located, value: Any, path: tuple[Any, ...], origin: str) -> None:
    doc.lines[path] = NO_LINE
    doc.files[path] = origin
    if isinstance(value, dict):
        for k, v in value.items():
            _record(doc, v, (*path, k), origin)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _record(doc, v, (*path, i), origin)


def _hint(word: str, options: Mapping[str, Any]) -> str:
    keys = sorted(str(k) for k in options)
    close = difflib.get_close_matches(word, keys, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    if len(keys) <= 12:
        return f" (known: {', '.join(keys)})" if keys else " (it is empty)"
    return f" ({len(keys)} known; e.g. {', '.join(keys[:8])}, ...)"


# --------------------------------------------------------------------------- hashing
def content_hash(scenario: Scenario) -> str:
    """sha256 of the canonical JSON of the validated scenario (its content with units
    converted, its chain, its distributions) and of its overrides."""
    import dataclasses
    import hashlib

    def dump(model: Any) -> Any:
        return model.model_dump(mode="json") if model is not None else None

    uncertain = {}
    for k, d in sorted(scenario.uncertain.items()):
        fields = (dataclasses.asdict(d) if dataclasses.is_dataclass(d)
                  and not isinstance(d, type) else repr(d))
        uncertain[k] = {"type": type(d).__name__, "fields": fields}
    payload = {
        "scenario": dump(scenario.spec),
        "chain": dump(scenario.chain_file),
        "uncertain": uncertain,
        "overrides": normalise(scenario.overrides),
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()
