"""Golden LP text of the hand-checked two-region model (build-rate variant).

Every constraint family appears with its rows written out, so a change to any
``define_*`` function shows up as a readable diff. Label numbers (``#12``) are stripped.
Regenerate after an intended change with ``RAREFLOW_UPDATE_GOLDEN=1 pytest tests/optimize``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from optimize_cases import two_region

from rareflow.engines.optimize import FAMILIES, build_model, prepare

GOLDEN = Path(__file__).parent / "golden" / "two_region_rate15.lp"


def _lp_text(tmp_path: Path) -> str:
    m = build_model(prepare(two_region(coverage=(float("nan"), 80.0), rate=15.0)))
    fn = tmp_path / "model.lp"
    m.to_file(fn, explicit_coordinate_names=True)
    text = re.sub(r"#\d+", "", fn.read_text())
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def test_lp_matches_golden(tmp_path):
    text = _lp_text(tmp_path)
    if os.environ.get("RAREFLOW_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text)
    assert GOLDEN.exists(), "golden LP missing: run with RAREFLOW_UPDATE_GOLDEN=1"
    assert text == GOLDEN.read_text()
    for fam in ("capacity_accounting", "build_rate", "capacity", "material_balance",
                "origin_pool", "no_reexport", "coverage"):
        assert f"\n{fam}(" in text, fam
    assert set(FAMILIES) >= {"coverage", "build_rate"}
