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
from functools import lru_cache
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
        text = _read_text(Path(path), fname)
    elif len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise RareflowInputError.single(
            f"document is larger than {MAX_BYTES:,} bytes (allowed: at most {MAX_BYTES:,})",
            file=fname)

    yaml = YAML(typ="safe", pure=False)  # libyaml-backed parser when ruamel.yaml.clib is there
    yaml.Resolver = _resolver_class()
    try:
        # events first: libyaml's composer recurses in C and kills the process on a document
        # nested thousands deep, so depth (and tags) are checked on the flat event stream
        _prescan(yaml, text, fname)
        root = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = _one_line(exc.problem or exc.context or "invalid YAML")
        raise RareflowInputError.single(f"YAML syntax error: {what}", file=fname, line=line) from None
    except YAMLError as exc:
        pos = getattr(exc, "position", None)
        line = text.count("\n", 0, pos) + 1 if isinstance(pos, int) else None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid YAML"
        raise RareflowInputError.single(f"YAML error: {_one_line(first)}", file=fname,
                                        line=line) from None
    except RecursionError:
        raise RareflowInputError.single(
            f"document nested deeper than {MAX_DEPTH} levels (allowed: at most {MAX_DEPTH})",
            file=fname) from None

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


@lru_cache(maxsize=1)
def _resolver_class() -> Any:
    """ruamel's VersionedResolver, minus its per-scalar cost: with the C parser its
    ``processing_version`` raises and catches two AttributeErrors for every scalar (a third
    of the time of composing a large file) to end up with the loader's version every time."""
    from ruamel.yaml.resolver import _DEFAULT_YAML_VERSION, VersionedResolver

    class _Resolver(VersionedResolver):  # type: ignore[misc]
        @property
        def processing_version(self) -> Any:
            return self._loader_version or _DEFAULT_YAML_VERSION

        @property
        def versioned_resolver(self) -> Any:
            # the same table for every scalar of a document: looked up once
            table = self.__dict__.get("_rareflow_table")
            if table is None:
                table = VersionedResolver.versioned_resolver.fget(self)
                self.__dict__["_rareflow_table"] = table
            return table

    return _Resolver


def _one_line(text: str, limit: int = 200) -> str:
    t = " ".join(str(text).split())
    return t if len(t) <= limit else t[: limit - 3] + "..."


def _read_text(p: Path, fname: str) -> str:
    """The text of a regular file of at most :data:`MAX_BYTES` bytes, as UTF-8.

    A directory, a device (``/dev/zero``), a pipe or a socket is refused before it is
    opened, and at most ``MAX_BYTES + 1`` bytes are read, so nothing can hang or fill
    memory."""
    import stat

    try:
        st = p.stat()
    except (OSError, ValueError):
        raise RareflowInputError.single(
            "no such file (give a scenario file path or a bundled scenario name; "
            "`rareflow scenarios` lists them)", file=fname) from None
    if not stat.S_ISREG(st.st_mode):
        what = "a directory" if stat.S_ISDIR(st.st_mode) else "a device, pipe or socket"
        raise RareflowInputError.single(
            f"is {what}, not a regular file (allowed: a YAML scenario file)", file=fname)
    if st.st_size > MAX_BYTES:
        raise RareflowInputError.single(
            f"file is {st.st_size:,} bytes; scenario files are limited to {MAX_BYTES:,} bytes",
            file=fname)
    try:
        with open(p, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise RareflowInputError.single(
            f"cannot read file: {_one_line(exc.strerror or str(exc))}", file=fname) from None
    if len(raw) > MAX_BYTES:
        raise RareflowInputError.single(
            f"file is more than {MAX_BYTES:,} bytes; scenario files are limited to "
            f"{MAX_BYTES:,} bytes", file=fname)
    nul = raw.find(b"\0")
    if nul >= 0:
        raise RareflowInputError.single(
            "file is binary (a NUL byte), not YAML text (allowed: a UTF-8 YAML file)",
            file=fname, line=raw.count(b"\n", 0, nul) + 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RareflowInputError.single(
            f"file is not UTF-8 text (byte 0x{raw[exc.start]:02x}; allowed: a UTF-8 YAML "
            "file)", file=fname, line=raw.count(b"\n", 0, exc.start) + 1) from None
    return text[1:] if text.startswith("\ufeff") else text


#: the only tags a scenario may carry: YAML's core schema (``!`` forces a string)
CORE_TAGS = frozenset({"!", *(f"tag:yaml.org,2002:{t}" for t in
                              ("str", "int", "float", "bool", "null", "map", "seq"))})
_STR = "tag:yaml.org,2002:str"
MAX_NUMBER_CHARS = 40       # a number in YAML longer than this is refused, not converted


def _prescan(yaml: Any, text: str, fname: str) -> None:
    """One pass over the parser's events (flat, no recursion): refuse nesting deeper than
    :data:`MAX_DEPTH` and any tag outside the core schema, with its line, before the
    composer (recursive, in C) and the constructor (``!!python/...``) see the document."""
    from ruamel.yaml.events import (
        CollectionEndEvent,
        CollectionStartEvent,
        NodeEvent,
    )

    depth = 0
    for ev in yaml.parse(text):
        if isinstance(ev, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise RareflowInputError.single(
                    f"document nested deeper than {MAX_DEPTH} levels (allowed: at most "
                    f"{MAX_DEPTH})", file=fname, line=ev.start_mark.line + 1)
        elif isinstance(ev, CollectionEndEvent):
            depth -= 1
        if isinstance(ev, NodeEvent):
            tag = getattr(ev, "tag", None)
            if tag is not None and str(tag) not in CORE_TAGS:
                shown = _one_line(str(tag), 60)
                raise RareflowInputError.single(
                    f"tag '{shown}' is not allowed (allowed: plain YAML values; no tags such "
                    "as !include or !!python/...)", file=fname, line=ev.start_mark.line + 1)


class _TooDeep(Exception):
    pass


def _expanded_size(node: Any, memo: dict[int, int], depth: int) -> int:
    """Number of nodes once aliases are expanded, counted in time linear in the *unique*
    nodes (memoised by identity), so a billion-laughs document is measured, not expanded."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    if isinstance(node, ScalarNode):
        return 1
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
            if _tag(key_node) == "tag:yaml.org,2002:merge":
                raise RareflowInputError.single(
                    "merge keys ('<<') are not supported; use `extends:` to reuse a scenario",
                    file=loc.file, line=line, path=".".join(map(str, path)))
            if not hasattr(key_node, "value") or isinstance(key_node, MappingNode | SequenceNode):
                raise RareflowInputError.single("mapping keys must be plain scalars",
                                                file=loc.file, line=line)
            key = _scalar(key_node, (*path, "<key>"), loc, constructor)
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
    value = _scalar(node, path, loc, constructor)
    if isinstance(value, bool) or value is None or isinstance(value, int | float | str):
        return value
    return str(value)  # dates and other scalars: keep their text form


_FAST = {f"tag:yaml.org,2002:{t}": f"construct_yaml_{t}" for t in ("int", "float", "bool", "null")}


def _tag(node: Any) -> str:
    """A node's tag as text; ``str(node.tag)`` decodes the tag's URI anew for every node."""
    ct = node.ctag
    if ct is None:
        return ""
    return ct.suffix if ct.handle is None and "%" not in ct.suffix else str(ct)


def _scalar(node: Any, path: Path_, loc: Located, constructor: Any) -> Any:
    """One scalar node's value; a number too long or out of range, or one that cannot be
    constructed, is refused with its line (never Python's int-str-limit ValueError)."""
    tag = _tag(node)
    text = node.value
    if tag == _STR and type(text) is str:
        return text  # what the constructor returns for a plain string, without its bookkeeping
    line = node.start_mark.line + 1
    dotted = ".".join(map(str, path))
    text = text if isinstance(text, str) else ""
    if tag.endswith((":int", ":float")) and len(text) > MAX_NUMBER_CHARS:
        raise RareflowInputError.single(
            f"number of {len(text):,} characters (allowed: at most {MAX_NUMBER_CHARS} "
            "characters, a finite number)", file=loc.file, line=line, path=dotted)
    try:
        fast = _FAST.get(tag)
        value = (getattr(constructor, fast)(node) if fast
                 else constructor.construct_object(node, deep=True))
    except Exception as exc:  # ruamel raises several types on odd scalars
        raise RareflowInputError.single(
            f"cannot read value '{_one_line(text, 60)}' ({type(exc).__name__})",
            file=loc.file, line=line, path=dotted) from None
    if (isinstance(value, float) and value in (float("inf"), float("-inf"))
            and "inf" not in text.lower()):
        raise RareflowInputError.single(
            f"number '{_one_line(text, 60)}' is outside the range of a number (allowed: a "
            "finite number, at most about 1.8e308)", file=loc.file, line=line, path=dotted)
    return value
