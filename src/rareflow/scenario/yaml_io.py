"""Read YAML safely, keeping the line of every key, and refuse hostile documents fast.

We use ruamel.yaml's round-trip loader only to *read*: it records where each key and
item sits, so every later error can name ``FILE:LINE``. The document is then converted to
plain Python containers under a node budget, so an alias bomb ("billion laughs") or a
huge document is refused after a bounded amount of work instead of exhausting memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rareflow.errors import Problem, RareflowInputError

MAX_BYTES = 5_000_000        # a scenario is hand-written: 5 MB is far beyond any real one
MAX_NODES = 500_000          # nodes after alias expansion
MAX_DEPTH = 64

Path_ = tuple[str | int, ...]


@dataclass
class Located:
    """A parsed YAML document and where each dotted path inside it was written.

    ``lines`` maps a path to its 1-based line; ``files`` maps a path to the file it came
    from when documents were merged (``extends:``), falling back to ``file``.
    """

    data: Any
    file: str
    lines: dict[Path_, int] = field(default_factory=dict)
    files: dict[Path_, str] = field(default_factory=dict)

    def _nearest(self, path: Path_) -> Path_:
        p = tuple(path)
        while p and p not in self.lines:
            p = p[:-1]
        return p

    def line_of(self, path: Path_) -> int | None:
        """Line of ``path`` or of its nearest ancestor that has one."""
        p = self._nearest(path)
        return self.lines.get(p, 1 if not p else None)

    def file_of(self, path: Path_) -> str:
        return self.files.get(self._nearest(path), self.file)


def load_yaml(path: str | Path, *, text: str | None = None) -> Located:
    """Parse ``path`` (or ``text``) into plain dicts/lists with line numbers.

    Raises
    ------
    RareflowInputError
        On a missing or unreadable file, a syntax error, duplicate keys, an alias bomb,
        a document that is too large or too deep.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    fname = str(path)
    if text is None:
        p = Path(path)
        if not p.is_file():
            raise RareflowInputError.single(
                "no such file (give a scenario file path or a bundled scenario name; "
                "`rareflow scenarios` lists them)",
                file=fname,
            )
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise RareflowInputError.single(
                f"file is {size:,} bytes; scenario files are limited to {MAX_BYTES:,} bytes",
                file=fname,
            )
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RareflowInputError.single(f"cannot read file: {exc}", file=fname) from None
    elif len(text.encode("utf-8")) > MAX_BYTES:
        raise RareflowInputError.single(
            f"document is larger than {MAX_BYTES:,} bytes", file=fname
        )

    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        root = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = (exc.problem or exc.context or "invalid YAML").strip()
        raise RareflowInputError.single(f"YAML syntax error: {what}", file=fname, line=line) from None
    except YAMLError as exc:
        raise RareflowInputError.single(f"YAML error: {exc}", file=fname) from None
    except RecursionError:
        raise RareflowInputError.single(
            f"document nested deeper than {MAX_DEPTH} levels", file=fname
        ) from None

    try:
        expanded = _expanded_size(root, {}, 0)
    except _TooDeep:
        raise RareflowInputError.single(
            f"document nested deeper than {MAX_DEPTH} levels; refused", file=fname
        ) from None
    if expanded > MAX_NODES:
        raise RareflowInputError.single(
            f"document expands to {expanded:,} nodes, more than {MAX_NODES:,} (an alias bomb "
            "or a huge file); refused",
            file=fname,
        )
    located = Located(data=None, file=fname)
    budget = [MAX_NODES]
    located.data = _plain(root, (), located, budget, 0)
    return located


class _TooDeep(Exception):
    pass


def _expanded_size(node: Any, memo: dict[int, int], depth: int) -> int:
    """Number of nodes once aliases are expanded, counted in time linear in the *unique*
    nodes (memoised by identity), so a billion-laughs document is measured, not expanded."""
    if depth > MAX_DEPTH:
        raise _TooDeep
    key = id(node)
    if key in memo:
        return memo[key]
    if isinstance(node, dict):
        n = 1 + sum(_expanded_size(v, memo, depth + 1) for v in node.values())
    elif isinstance(node, list):
        n = 1 + sum(_expanded_size(v, memo, depth + 1) for v in node)
    else:
        return 1
    memo[key] = n
    return n


def _plain(node: Any, path: Path_, loc: Located, budget: list[int], depth: int) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    budget[0] -= 1
    if budget[0] < 0:
        raise RareflowInputError.single(
            f"document expands to more than {MAX_NODES:,} nodes (an alias bomb or a huge "
            "file); refused",
            file=loc.file,
        )
    if depth > MAX_DEPTH:
        raise RareflowInputError.single(
            f"document nested deeper than {MAX_DEPTH} levels", file=loc.file,
            line=loc.line_of(path),
        )
    if isinstance(node, CommentedMap):
        out: dict[Any, Any] = {}
        for key, value in node.items():
            if not isinstance(key, str | int | float | bool) or key is None:
                raise RareflowInputError.single(
                    "mapping keys must be plain scalars", file=loc.file,
                    line=loc.line_of(path),
                )
            k = key if isinstance(key, str) else str(key)
            try:
                line = node.lc.key(key)[0] + 1
            except (KeyError, TypeError, AttributeError):
                line = loc.line_of(path)
            loc.lines[(*path, k)] = line
            out[k] = _plain(value, (*path, k), loc, budget, depth + 1)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, value in enumerate(node):
            try:
                loc.lines[(*path, i)] = node.lc.item(i)[0] + 1
            except (KeyError, TypeError, AttributeError):
                pass
            items.append(_plain(value, (*path, i), loc, budget, depth + 1))
        return items
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    # dates and other scalars: keep their text form
    return str(node)
