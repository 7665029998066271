"""``rareflow serve``'s command line: no Dash at import, store resolution, bad arguments."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rareflow.app.build import cache_root, is_store, resolve_store
from rareflow.errors import RareflowInputError


def test_help_does_not_import_dash() -> None:
    code = "import sys, rareflow.cli.main; assert 'dash' not in sys.modules and 'flask' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_store_served_as_is(small_store: Path) -> None:
    assert is_store(small_store) and resolve_store([str(small_store)]) == small_store


def test_folder_that_is_not_a_store(tmp_path: Path) -> None:
    with pytest.raises(RareflowInputError, match="not a run store"):
        resolve_store([str(tmp_path)])


def test_unknown_scenario_is_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_root() == tmp_path / "rareflow" / "serve"
    with pytest.raises(RareflowInputError):
        resolve_store(["no-such-scenario-xyz"])
    assert not any(tmp_path.rglob("runs"))


def test_serve_help_lists_options() -> None:
    r = subprocess.run([sys.executable, "-m", "rareflow", "serve", "--help"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and "--allow-remote" in r.stdout and "--port" in r.stdout
