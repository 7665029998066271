"""The world block and net import reliance in ``rareflow run reference --out``, and the
world section of the report. Structure only: the reference data are being revised."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

WORLD_KEYS = ("mine_production_t_reo", "magnet_production_t", "magnet_rare_earth_demand_t",
              "magnet_rare_earth_demand_by_element_t", "magnet_exports_t",
              "largest_magnet_producer", "largest_magnet_producer_exports_t")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world-run") / "out"
    cwd = tmp_path_factory.mktemp("empty-cwd")
    proc = subprocess.run([sys.executable, "-m", "rareflow", "run", "reference", "--out",
                           str(out), "--quiet"], cwd=cwd, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def test_world_has_every_year(summary: dict) -> None:
    years = [str(y) for y in summary["years"]]
    assert list(summary["world"]) == years
    for y in years:
        row = summary["world"][y]
        for k in WORLD_KEYS:
            assert k in row, (y, k)
        for k in ("mine_production_t_reo", "magnet_production_t", "magnet_rare_earth_demand_t"):
            assert row[k] is not None and row[k] >= 0
        # the rare earths in magnets are part of the magnets' mass
        assert row["magnet_rare_earth_demand_t"] <= row["magnet_production_t"]
        assert sum(row["magnet_rare_earth_demand_by_element_t"].values()) == pytest.approx(
            row["magnet_rare_earth_demand_t"], rel=1e-6, abs=1e-5)
        if row["largest_magnet_producer"] is not None:
            exports = row["magnet_exports_t"].get(row["largest_magnet_producer"], 0.0)
            assert row["largest_magnet_producer_exports_t"] == pytest.approx(exports)


def test_world_basis_from_the_chain(summary: dict) -> None:
    b = summary["world_basis"]
    assert b["mining_stage"] in b["production_stages"]
    assert b["magnet_stage"] in b["production_stages"]
    # the default magnet elements of the bundled chain: its reference magnet's rare earths
    assert set(b["magnet_elements"]) == {"Nd", "Pr", "Dy", "Tb"}
    assert "swarf" not in b["magnet_materials"]


def test_net_import_reliance_every_region_stage_year(summary: dict, run_dir: Path) -> None:
    nir = summary["net_import_reliance"]
    stages = summary["world_basis"]["production_stages"]
    years = {str(y) for y in summary["years"]}
    regions = set(pd.read_parquet(run_dir / "flows.parquet")["region"])
    assert regions <= set(nir)
    for r, by_stage in nir.items():
        assert list(by_stage) == stages, r
        for g, vals in by_stage.items():
            assert set(vals) == years, (r, g)
            for v in vals.values():
                assert v is None or 0.0 <= v <= 1.0, (r, g, v)
    text = (run_dir / "summary.json").read_text()
    assert "NaN" not in text and "Infinity" not in text


def test_report_has_the_world_section(tmp_path: Path) -> None:
    from rareflow.report.html import build_report
    from rareflow.results.results import run_static
    from rareflow.scenario.loader import load_scenario

    res = run_static(load_scenario("reference"))
    text = build_report(res, tmp_path / "report.html").read_text()
    assert "The world: flows by region and stage, and who depends on whom" in text
    assert "Who depends on whom" in text and "Flows by region and stage" in text
    assert '"heatmap"' in text
