"""Suite-wide guards: no test may lean on the working directory.

Every test runs with an empty temporary folder as its current directory, so a test (or
the code under test) that opens a path relative to the cwd fails here as it would for a
user. Repository files are found relative to the test files (:data:`REPO`), bundled data
through the package (:mod:`rareflow.resources`).

With ``RAREFLOW_TEST_INSTALLED=1`` (``make test``, CI) the suite must be testing
an installed rareflow, not the checkout's ``src/``: checked once at start.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from browser import chromium  # noqa: F401  (the session fixture of the browser tests)

REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("RAREFLOW_TEST_INSTALLED") == "1":
        import rareflow

        where = Path(rareflow.__file__).resolve()
        # the test venv may live inside the checkout (.venv-test): what must not happen is
        # importing the checkout's own source tree
        if (REPO / "src") in where.parents:
            raise pytest.UsageError(
                f"RAREFLOW_TEST_INSTALLED=1 but rareflow is imported from the checkout ({where}); "
                "install the wheel into the test environment and run from outside the checkout")


@pytest.fixture(autouse=True)
def _empty_cwd(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
