"""The ``rareflow`` command. Each command lives in its own module under ``rareflow.cli``;
this file only wires them so that ``rareflow --help`` imports nothing heavy."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="rareflow",
    help="Model, stress-test and plan the rare-earth permanent-magnet supply chain.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# (command name, module under rareflow.cli, function name)
COMMANDS: list[tuple[str, str, str]] = [
    ("run", "run", "run"),
    ("validate", "validate", "validate"),
    ("sources", "sources", "sources"),
    ("requirements", "requirements", "requirements"),
    ("scenarios", "scenarios", "scenarios"),
    ("demo", "demo", "demo"),
    ("recycling", "recycling", "recycling"),
    ("stress", "stress", "stress"),
    ("sensitivity", "sensitivity", "sensitivity"),
    ("plan", "plan", "plan"),
    ("economics", "economics", "economics"),
    ("reconcile", "reconcile", "reconcile"),
    ("stocks", "stocks", "stocks"),
    ("sweep", "sweep", "sweep"),
    ("runs", "runs", "runs"),
    ("compare", "runs", "compare"),
    ("query", "runs", "query"),
    ("serve", "serve", "serve"),
    ("scorecard", "scorecard", "scorecard"),
]



def _version(value: bool) -> None:
    if value:
        from rareflow import __version__

        print(f"rareflow {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Model, stress-test and plan the rare-earth permanent-magnet supply chain."""


for _name, _module, _func in COMMANDS:
    try:
        _mod = importlib.import_module(f"rareflow.cli.{_module}")
    except ModuleNotFoundError as _exc:  # a command not built yet
        if _exc.name != f"rareflow.cli.{_module}":
            raise
        continue
    app.command(_name)(getattr(_mod, _func))


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
