"""Session fixtures of the dashboard tests: one small store (two cheap static runs, built
once) and one ``rareflow serve`` process on a free port, shared by every test here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from rareflow.store import open_store
    from rareflow.store.execute import run_sweep
    from rareflow.store.sweep import load_sweep

    root = tmp_path_factory.mktemp("dash") / "store"
    report = run_sweep(load_sweep(HERE / "small-sweep.yaml"), open_store(root), workers=1)
    assert report.failed == 0, report.results
    return root


@pytest.fixture(scope="session")
def server(small_store: Path) -> Iterator[str]:
    """``rareflow serve STORE --port 0`` in a subprocess; yields its base URL."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "rareflow", "serve", str(small_store), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        url = _wait_url(proc)
        # keep reading the request log, or the pipe fills and the server blocks
        threading.Thread(target=proc.stdout.read, daemon=True).start()  # type: ignore[union-attr]
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def _wait_url(proc: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    lines = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        lines.append(line)
        m = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        if m:
            return m.group(1)
    raise AssertionError("rareflow serve did not start:\n" + "".join(lines))
