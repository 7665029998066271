"""Shared pieces of the command line: error handling, console, output folders.

Exit codes: 0 success; 1 a run that broke an invariant (mass balance); 2 bad input.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])

EXIT_BAD_INPUT = 2
EXIT_FAILED_CHECK = 1
MAX_PROBLEMS_SHOWN = 20   # a file with thousands of faults gets the first ones and a count


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def handle_errors(func: F) -> F:
    """Turn rareflow errors into one line per problem on stderr and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from rareflow.errors import InfeasibleError, MassBalanceError, RareflowInputError

        try:
            return func(*args, **kwargs)
        except RareflowInputError as exc:
            shown = exc.problems if len(exc.problems) <= MAX_PROBLEMS_SHOWN + 1 else \
                exc.problems[:MAX_PROBLEMS_SHOWN]
            for p in shown:
                print(p.format(), file=sys.stderr)
            if len(shown) < len(exc.problems):
                print(f"... and {len(exc.problems) - len(shown)} more problems (fix these first)",
                      file=sys.stderr)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except InfeasibleError as exc:
            print(f"infeasible: {exc}", file=sys.stderr)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except MassBalanceError as exc:
            print(f"mass balance check failed: {exc}", file=sys.stderr)
            raise typer.Exit(EXIT_FAILED_CHECK) from None
        except MemoryError:
            print("out of memory: reduce --samples or the scenario size", file=sys.stderr)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def load_scenario_reporting(scenario: str) -> Any:
    """Load a scenario and print on stderr, one line each, the records it uses for years
    their data do not describe (``FILE:LINE: field.path: warning: described years ...``)."""
    import warnings

    from rareflow.errors import RareflowDataWarning
    from rareflow.scenario.loader import load_scenario

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RareflowDataWarning)  # printed below, once
        sc = load_scenario(scenario)
    for u in sc.coverage_warnings:
        print(u.format(), file=sys.stderr)
    return sc

