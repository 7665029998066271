"""Reports built once per test session (baseline and the Vulcan-two-years-late example), with
small sample counts so the stress, back-test and sensitivity runs stay short."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VULCAN_LATE = REPO / "docs" / "examples" / "vulcan-late.yaml"


def _build(tmp_path_factory: pytest.TempPathFactory, key: str, src: str | Path) -> Path:
    from rareflow.report.build import build
    from rareflow.report.extras import ReportSettings

    settings = ReportSettings(samples=40, sobol_n=16, backtest_samples=20)
    return build(src, tmp_path_factory.mktemp(f"report-{key}") / "report.html", settings)


@pytest.fixture(scope="session")
def baseline_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """report.html of us-baseline (plotly.min.js beside it)."""
    return _build(tmp_path_factory, "baseline", "us-baseline")


@pytest.fixture(scope="session")
def reports(baseline_report: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """scenario -> report.html: the baseline and docs/examples/vulcan-late.yaml."""
    return {"baseline": baseline_report,
            "vulcan-late": _build(tmp_path_factory, "vulcan-late", VULCAN_LATE)}
