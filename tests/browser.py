"""Real-browser support for the tests: Debian's Chromium driven by Playwright.

``chromium`` (a session fixture, requested through :func:`chromium_page` or directly) launches
``/usr/bin/chromium`` (or ``$RAREFLOW_CHROMIUM``) headless with Playwright's Python API and
the flags a closed network needs (no background networking, component updates or sync), in
a fresh profile. Without a Chromium on the machine the browser tests are skipped, unless
``RAREFLOW_REQUIRE_BROWSER=1`` (set by ``.ci/run``), where a missing browser is an error.

Screenshots go to ``$RAREFLOW_SCREENSHOTS`` when set (the closing notes reference them),
else to the test's temporary folder: :func:`screenshot_path`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]


def chromium_executable() -> str | None:
    exe = os.environ.get("RAREFLOW_CHROMIUM") or shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    return exe


def require_browser() -> str:
    exe = chromium_executable()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        exe = None
    if exe is None:
        if os.environ.get("RAREFLOW_REQUIRE_BROWSER") == "1":
            pytest.fail("RAREFLOW_REQUIRE_BROWSER=1 but no Chromium/Playwright found "
                        "(apt-get install chromium; pip install playwright)")
        pytest.skip("no Chromium on this machine (apt-get install chromium) or no playwright")
    return exe


def screenshot_path(tmp_path: Path, name: str) -> Path:
    d = os.environ.get("RAREFLOW_SCREENSHOTS")
    folder = Path(d) if d else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A headless Chromium (Playwright Browser), shared by a worker's browser tests."""
    exe = require_browser()
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        # Playwright gives each context a fresh profile; ``profile`` keeps Chromium's own
        # files (crash dumps, caches) out of the home folder
        browser = p.chromium.launch(executable_path=exe, headless=True, args=FLAGS,
                                    env={**os.environ, "HOME": str(profile)})
        try:
            yield browser
        finally:
            browser.close()
