"""``python -m rareflow``: the same as the ``rareflow`` command."""

from rareflow.cli.main import app

if __name__ == "__main__":  # pragma: no cover
    app(prog_name="rareflow")
