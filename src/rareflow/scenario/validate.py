"""Turn pydantic validation errors into located problems (``FILE:LINE: field.path: ...``)."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from rareflow.errors import Problem, RareflowInputError
from rareflow.scenario.yaml_io import Located

M = TypeVar("M", bound=BaseModel)


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _message(err: dict[str, Any], model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    kind = err.get("type", "")
    msg = str(err.get("msg", "invalid"))
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        close = _did_you_mean(str(loc[-1]), allowed)
        return f"unknown key '{loc[-1]}'{close}{hint}"
    if kind == "missing":
        return "required field is missing"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"{msg} (got {err.get('input')!r})"
    return msg


def _did_you_mean(word: str, options: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, options, n=1, cutoff=0.75)
    return f"; did you mean '{close[0]}'?" if close else ""


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names allowed at ``loc`` inside ``model`` (best effort through containers)."""
    import typing

    current: Any = model
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                # a field addressed by alias
                for f in current.model_fields.values():
                    if f.alias == part:
                        field = f
                        break
            if field is None:
                return []
            current = field.annotation
        else:
            args = typing.get_args(current)
            origin = typing.get_origin(current)
            if origin in (dict,) and len(args) == 2:
                current = args[1]
            elif origin in (list, tuple) and args:
                current = args[0]
            elif args:  # Optional / Union: take the model member
                models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
                containers = [a for a in args if typing.get_origin(a) in (dict, list)]
                current = models[0] if models else (containers[0] if containers else None)
                if current is None:
                    return []
                # re-consume this part with the unwrapped type
                return _allowed_keys_from(current, loc[loc.index(part):])
            else:
                return []
    while not (isinstance(current, type) and issubclass(current, BaseModel)):
        args = typing.get_args(current)
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if not models:
            return []
        current = models[0]
    return sorted(f.alias or name for name, f in current.model_fields.items())


def _allowed_keys_from(t: Any, loc: tuple[Any, ...]) -> list[str]:
    if isinstance(t, type) and issubclass(t, BaseModel):
        return _allowed_keys(t, loc)
    import typing

    args = typing.get_args(t)
    if typing.get_origin(t) is dict and len(args) == 2 and loc:
        return _allowed_keys_from(args[1], loc[1:])
    if typing.get_origin(t) in (list, tuple) and args and loc:
        return _allowed_keys_from(args[0], loc[1:])
    return []


MAX_PROBLEMS = 20
"""Problems reported in full from one validation; the rest are counted in one last line
(a file of 99,000 unknown keys is answered with 20 lines and a count, in a second)."""


def problems_from(exc: ValidationError, model: type[BaseModel], doc: Located,
                  prefix: tuple[Any, ...] = ()) -> list[Problem]:
    out: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    errors = exc.errors()
    for n, err in enumerate(errors):
        if len(out) >= MAX_PROBLEMS:
            out.append(_more(len(errors) - n, doc))
            break
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        # pydantic adds union-member tags into locs; drop the ones that are not data keys
        clean: list[Any] = []
        cursor: Any = _get(doc.data, prefix)
        for part in loc:
            if isinstance(cursor, dict) and part in cursor:
                clean.append(part)
                cursor = cursor[part]
            elif isinstance(cursor, list) and isinstance(part, int) and part < len(cursor):
                clean.append(part)
                cursor = cursor[part]
            elif err["type"] in ("extra_forbidden", "missing") and part == loc[-1]:
                clean.append(part)
        full = (*prefix, *clean)
        message = _message(err, model, tuple(clean))
        key = (_dotted(full), message)
        if key in seen:
            continue
        seen.add(key)
        out.append(Problem(message, doc.file_of(full), doc.line_of(full), _dotted(full)))
    return out


def _more(count: int, doc: Located) -> Problem:
    return Problem(f"... and {count:,} more problem{'s' if count != 1 else ''} of the same "
                   f"validation not listed (at most {MAX_PROBLEMS} are; fix these first)",
                   doc.file, 1)


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        try:
            data = data[p]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def validate(model: type[M], doc: Located, data: Any | None = None) -> M:
    """Validate ``data`` (default: the whole document) against ``model``; located errors."""
    try:
        return model.model_validate(doc.data if data is None else data)
    except ValidationError as exc:
        raise RareflowInputError(problems_from(exc, model, doc)) from None


def locate(problems: list[Problem], doc: Located, prefix: tuple[Any, ...] = ()) -> list[Problem]:
    """Fill file and line of path-only problems (from compile steps) using ``doc``."""
    out = []
    for p in problems:
        if p.file is not None:
            out.append(p)
            continue
        parts: list[Any] = list(prefix)
        for x in p.path.split(".") if p.path else []:
            parts.append(int(x) if x.isdigit() else x)
        out.append(Problem(p.message, doc.file_of(tuple(parts)), doc.line_of(tuple(parts)), p.path))
    return out
