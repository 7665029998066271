"""Where rareflow's bundled data lives: found through the package, never the working directory.

Every bundled chain, scenario and reference file is located here, through
:mod:`importlib.resources`, so the same code works from a checkout, an editable install, an
installed wheel and a read-only install, whatever the current folder is. A file is *opened*
by its real path and *shown* by :func:`display_name` (``rareflow/data/...`` for bundled
files); the two are never confused.
"""

from __future__ import annotations

import atexit
import contextlib
from functools import cache
from importlib import resources
from pathlib import Path

PACKAGE = "rareflow"


@cache
def package_root() -> Path:
    """The installed ``rareflow`` package folder, as a real filesystem path."""
    root = resources.files(PACKAGE)
    if isinstance(root, Path):
        return root.resolve()
    # a zipped install: extract once for the life of the process
    stack = contextlib.ExitStack()
    atexit.register(stack.close)
    return Path(stack.enter_context(resources.as_file(root))).resolve()


def data_dir() -> Path:
    """``rareflow/data``: chains, scenarios and reference data."""
    return package_root() / "data"


def scenario_dir() -> Path:
    return data_dir() / "scenarios"


def chain_dir() -> Path:
    return data_dir() / "chains"


def reference_dir() -> Path:
    return data_dir() / "reference"


def is_bundled(path: Path) -> bool:
    """True if ``path`` (resolved) lies inside the package's data folder."""
    try:
        path.resolve().relative_to(data_dir())
    except ValueError:
        return False
    return True


def display_name(path: Path) -> str:
    """How a file is named in messages: bundled files as ``rareflow/data/...`` (the same
    wherever rareflow is installed), user files relative to the current folder when under
    it, else absolute. Only for display: never open the result."""
    p = path.resolve()
    if is_bundled(p):
        return f"{PACKAGE}/{p.relative_to(package_root()).as_posix()}"
    try:
        return str(p.relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(p)


def is_file(path: Path) -> bool:
    """``path.is_file()`` that answers False, not OSError, for a name the OS refuses
    (too long, a NUL byte, a permission-denied folder)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def is_inside(path: Path, folder: Path) -> bool:
    """True if ``path`` lies in ``folder`` or below (both taken as given: resolve first)."""
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True
