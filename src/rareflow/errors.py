"""Errors that reach a user: each names where (file, line, field) and what is allowed.

The command line turns :class:`RareflowInputError` into one line per problem and exit
code 2; nothing else of ours should reach a user as a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can.

    ``path`` is the dotted field path inside the document (``facilities.vulcan.capacity``),
    ``line`` the 1-based line in ``file`` (``None`` when not known).
    """

    message: str
    file: str | None = None
    line: int | None = None
    path: str = ""

    def __post_init__(self) -> None:
        if self.line is not None and self.line < 1:
            # no line: overrides given in code record line 0 (``ORIGIN: path: ...``)
            object.__setattr__(self, "line", None)

    def format(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        field_path = f"{self.path}: " if self.path else ""
        return f"{where}{field_path}{self.message}"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.format()


class RareflowError(Exception):
    """Base class of all rareflow errors."""


@dataclass
class RareflowInputError(RareflowError):
    """Bad input: a scenario file, a chain file, a CLI option or an API argument.

    Carries every problem found in one pass, so the user can fix them all at once.
    """

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.format())

    def format(self) -> str:
        return "\n".join(p.format() for p in self.problems)

    @classmethod
    def single(
        cls, message: str, *, file: str | Path | None = None, line: int | None = None, path: str = ""
    ) -> RareflowInputError:
        return cls([Problem(message, str(file) if file else None, line, path)])


class MassBalanceError(RareflowError):
    """Raised when a run breaks conservation of mass beyond the tolerance."""


class InfeasibleError(RareflowError):
    """An optimisation target that cannot be met; the message names the binding constraint."""


class RareflowDataWarning(UserWarning):
    """A scenario uses reference figures for years they do not describe."""
