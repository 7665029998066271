"""Read YAML safely, keeping the line of every key, and refuse hostile documents fast.

ruamel.yaml composes the document into nodes (with libyaml's C parser when
``ruamel.yaml.clib`` is installed: about ten times faster than the pure-Python parser);
every node knows its line, so every later error can name ``FILE:LINE``. Aliases stay
shared nodes, so the size of the document once expanded is measured in time linear in
its unique nodes, and an alias bomb ("billion laughs"), a huge or a too-deep document is
refused before anything is expanded. Only then are the nodes converted to plain
containers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rareflow.errors import RareflowInputError

MAX_BYTES = 5_000_000        # a scenario is hand-written: 5 MB is far beyond any real one
MAX_NODES = 200_000          # nodes after alias expansion
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
    #: display name -> real path of every file read into this document (what ``file`` and
    #: ``files`` name is for messages only; this is what to open relative to)
    sources: dict[str, Path] = field(default_factory=dict)

    def real_path(self, display: str) -> Path | None:
        """The real path of a file this document was read from, by its display name."""
        return self.sources.get(display)

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


def load_yaml(path: str | Path, *, text: str | None = None, display: str | None = None) -> Located:
    """Parse ``path`` (or ``text``) into plain dicts/lists with line numbers.

    ``path`` is what is opened; ``display`` (default: ``path`` as given) is how the file
    is named in every message and in :attr:`Located.file`.

    Raises
    ------
    RareflowInputError
        On a missing or unreadable file, a syntax error, duplicate keys, an alias bomb,
        a document that is too large or too deep.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    fname = display if display is not None else str(path)
    text_given = text is not None
    if text is None:
        from rareflow.resources import is_file

        p = Path(path)
        if not is_file(p):
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

    yaml = YAML(typ="safe", pure=False)  # libyaml-backed parser when ruamel.yaml.clib is there
    try:
        root = yaml.compose(text)
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
    if text_given is False:
        located.sources[fname] = Path(path).resolve()
    located.data = _plain(root, (), located, yaml.constructor) if root is not None else None
    return located


class _TooDeep(Exception):
    pass


def _expanded_size(node: Any, memo: dict[int, int], depth: int) -> int:
    """Number of nodes once aliases are expanded, counted in time linear in the *unique*
    nodes (memoised by identity), so a billion-laughs document is measured, not expanded."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    if depth > MAX_DEPTH:
        raise _TooDeep
    key = id(node)
    if key in memo:
        return memo[key]
    if isinstance(node, MappingNode):
        n = 1 + sum(_expanded_size(k, memo, depth + 1) + _expanded_size(v, memo, depth + 1)
                    for k, v in node.value)
    elif isinstance(node, SequenceNode):
        n = 1 + sum(_expanded_size(v, memo, depth + 1) for v in node.value)
    else:
        return 1
    memo[key] = n
    return n


def _plain(node: Any, path: Path_, loc: Located, constructor: Any) -> Any:
    """Convert composed YAML nodes to plain containers, recording each key's line."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    if isinstance(node, MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise RareflowInputError.single(
                    "merge keys ('<<') are not supported; use `extends:` to reuse a scenario",
                    file=loc.file, line=line, path=".".join(map(str, path)))
            if not hasattr(key_node, "value") or isinstance(key_node, MappingNode | SequenceNode):
                raise RareflowInputError.single("mapping keys must be plain scalars",
                                                file=loc.file, line=line)
            key = constructor.construct_object(key_node, deep=True)
            if key is None or not isinstance(key, str | int | float | bool):
                raise RareflowInputError.single("mapping keys must be plain scalars",
                                                file=loc.file, line=line)
            k = key if isinstance(key, str) else str(key)
            if k in out:
                first = loc.lines.get((*path, k))
                raise RareflowInputError.single(
                    f"duplicate key '{k}' (first at line {first})", file=loc.file, line=line,
                    path=".".join(map(str, (*path, k))))
            loc.lines[(*path, k)] = line
            out[k] = _plain(value_node, (*path, k), loc, constructor)
        return out
    if isinstance(node, SequenceNode):
        items = []
        for i, value_node in enumerate(node.value):
            loc.lines[(*path, i)] = value_node.start_mark.line + 1
            items.append(_plain(value_node, (*path, i), loc, constructor))
        return items
    value = constructor.construct_object(node, deep=True)
    if isinstance(value, bool) or value is None or isinstance(value, int | float | str):
        return value
    return str(value)  # dates and other scalars: keep their text form
