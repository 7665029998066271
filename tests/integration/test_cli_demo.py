"""The main job end to end: `rareflow demo` writes a self-contained report and answers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_demo_writes_offline_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "rareflow.cli.main", "demo", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert f"report: {out / 'report.html'}" in proc.stdout
    html = (out / "report.html").read_text()
    # one copy of plotly.js, beside the report (opens offline, from the folder); no CDN
    import re

    srcs = re.findall(r'<script[^>]*\ssrc="([^"]+)"', html)
    assert srcs == ["plotly.min.js"], srcs
    assert (out / "plotly.min.js").stat().st_size > 1_000_000
    assert "cdn." not in html and "https://cdn" not in html
    for needle in ("Answers", "Provenance", "usgs_mcs2026", "The chain", "Recycling"):
        assert needle in html
    answers = json.loads((out / "answers.json").read_text())
    nir = answers["import_reliance"]
    assert nir["mining"] < 0 < 0.8 < nir["magnet"]
    assert answers["most_china_dependent_stage"] == "magnet"
    needs = answers["requirements_for_target"]["needs_t"]
    # 10 kt x 28.5 % NdPr / (magnet yield x metal yield) / 0.857 t metal per t oxide, with the
    # reconciled yields (between 0.28 / 0.857 = 3.3 kt at yield 1 and 7 kt at 0.6 x 0.8)
    assert 3_300 < needs["ndpr_oxide"] < 8_000
    # and the concentrate at its 15.7 % NdPr oxide (Mountain Pass), recovery 0.95 to 1
    assert 20_000 < needs["reo_concentrate"] < 60_000
    assert set(answers["capacity_coverage_of_demand"]) == {"2028", "2030"}
    assert (out / "tables" / "summary.json").exists()
