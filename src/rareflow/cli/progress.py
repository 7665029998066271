"""A rich progress display for multi-step commands (silent when not a terminal or quiet)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def steps(con: Any, quiet: bool = False) -> Iterator[Callable[[str], None]]:
    if quiet or not con.is_terminal:
        yield lambda _msg: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=con, transient=True) as prog:
        task = prog.add_task("starting", total=None)

        def step(msg: str) -> None:
            prog.update(task, description=msg)

        yield step
