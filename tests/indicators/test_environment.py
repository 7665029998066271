"""Environmental indicators (CO2e, water, radioactive residue) from a run's activity table."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import rareflow
from rareflow.metrics.environment import compute, environment, environment_table, factor_for

GRAPHITE = Path(__file__).parent.parent / "fixtures" / "graphite" / "scenario.yaml"

TABLE: dict[str, Any] = {
    "indicators": {
        "co2e_t": {"units": "t CO2e", "factor_units": "kg CO2e per t", "to_units": 0.001},
        "water_m3": {"units": "m3", "factor_units": "m3 per t", "to_units": 1.0},
    },
    "routes": {"ore_a": {"kind": "virgin"}, "loop": {"kind": "recycled"}},
    "chains": {"toy": {
        "route_of": [{"process": "dig", "route": "ore_a"}, {"process": "reuse", "route": "loop"}],
        "factors": [
            {"process": "dig", "indicator": "co2e_t", "value": 2000.0},
            {"process": "dig", "regions": ["B"], "indicator": "co2e_t", "value": 500.0},
            {"process": "cook", "indicator": "water_m3", "value": 3.0},
        ]}},
}


def _activity() -> pd.DataFrame:
    return pd.DataFrame({
        "year": [2024, 2024, 2024, 2025, 2024, 2024],
        "region": ["A", "B", "A", "A", "A", "B"],
        "process": ["dig", "dig", "cook", "dig", "reuse", "cook"],
        "stage": ["mine", "mine", "refine", "mine", "loop", "refine"],
        "activity_t": [10.0, 4.0, 6.0, 1.0, 2.0, 0.0],
    })


def test_hand_calculated_totals() -> None:
    ds = compute(_activity(), chain_id="toy", regions=["A", "B"], stages=["mine", "refine", "loop"],
                 years=[2024, 2025], table=TABLE)
    co2 = ds["co2e_t"]
    # A mines 10 t at the generic 2,000 kg/t = 20 t; B mines 4 t at its own 500 kg/t = 2 t
    assert float(co2.sel(region="A", stage="mine", year=2024)) == pytest.approx(20.0)
    assert float(co2.sel(region="B", stage="mine", year=2024)) == pytest.approx(2.0)
    assert float(co2.sel(region="A", stage="mine", year=2025)) == pytest.approx(2.0)
    assert float(co2.sum()) == pytest.approx(24.0)
    assert co2.attrs["units"] == "t CO2e"
    # water: only cooking has a factor, 6 t x 3 m3/t (B's zero-activity row does not count)
    assert float(ds["water_m3"].sum()) == pytest.approx(18.0)
    assert float(ds["water_m3"].sel(region="A", stage="refine", year=2024)) == pytest.approx(18.0)
    # coverage: mining fully covered for CO2e, refining not at all; no activity -> 0
    assert float(ds["co2e_t_coverage"].sel(region="A", stage="mine", year=2024)) == 1.0
    assert float(ds["co2e_t_coverage"].sel(region="A", stage="refine", year=2024)) == 0.0
    assert float(ds["water_m3_coverage"].sel(region="B", stage="refine", year=2024)) == 0.0
    # route intensity per t of covered activity: (20 + 2) t over 14 t of ore in 2024
    per_t = ds["route_co2e_t_per_t"].sel(route="ore_a", stage="mine", year=2024)
    assert float(per_t) == pytest.approx(22.0 / 14.0)
    assert math.isnan(float(ds["route_co2e_t_per_t"].sel(route="loop", stage="loop", year=2024)))
    assert list(ds["route_kind"].sel(route=["loop", "ore_a"]).values) == ["recycled", "virgin"]


def test_uncovered_processes_are_reported() -> None:
    ds = compute(_activity(), chain_id="toy", regions=["A", "B"], stages=["mine", "refine", "loop"],
                 years=[2024, 2025], table=TABLE)
    assert ds.attrs["co2e_t_not_covered"] == ["cook", "reuse"]
    assert ds["co2e_t"].attrs["not_covered"] == ["cook", "reuse"]
    assert ds.attrs["water_m3_not_covered"] == ["dig", "reuse"]
    assert "dig: A, B" in ds.attrs["water_m3_not_covered_detail"]
    # a chain the file does not list: zeros, coverage 0, every active process not covered
    other = compute(_activity(), chain_id="unknown", regions=["A", "B"],
                    stages=["mine", "refine", "loop"], years=[2024, 2025], table=TABLE)
    assert float(other["co2e_t"].sum()) == 0.0 and float(other["co2e_t_coverage"].max()) == 0.0
    assert other.attrs["co2e_t_not_covered"] == ["cook", "dig", "reuse"]


def test_graphite_chain_runs_with_no_factors() -> None:
    res = rareflow.run(str(GRAPHITE))
    ds = environment(res)
    act = res.table("activity")
    active = sorted(set(act.loc[act["activity_t"] > 0, "process"]))
    assert active
    for ind in environment_table()["indicators"]:
        assert float(np.abs(ds[ind]).sum()) == 0.0
        assert float(ds[f"{ind}_coverage"].max()) == 0.0
        assert ds.attrs[f"{ind}_not_covered"] == active
    assert set(ds["stage"].values) == set(res.chain.stages)


def test_every_factor_cites_a_known_source_with_confidence() -> None:
    from ruamel.yaml import YAML

    from rareflow import resources

    yaml = YAML(typ="safe")
    known = yaml.load((resources.data_dir() / "scenarios" / "_reference" / "sources.yaml")
                      .read_text(encoding="utf-8"))["sources"]
    t = environment_table()
    n = 0
    for chain_id, chain in t["chains"].items():
        doc = yaml.load((resources.chain_dir() / f"{chain_id}.yaml").read_text(encoding="utf-8"))
        processes = set(doc["processes"])
        for f in chain["factors"]:
            n += 1
            src = f["source"]
            ids = [src] if isinstance(src, str) else list(src)
            assert ids and not [i for i in ids if i not in known], f
            assert f["confidence"] in {"low", "medium", "high"}, f
            assert f["note"] and len(f["years"]) == 2, f
            assert f["indicator"] in t["indicators"], f
            assert f["process"] in processes, f
            assert float(f["value"]) > 0, f
        for r in chain["route_of"]:
            assert r["process"] in processes and r["route"] in t["routes"], r
    assert n > 0


@pytest.fixture(scope="module")
def baseline() -> Any:
    return rareflow.run("us-baseline", check=False)


def test_us_baseline_mining_co2e_by_hand(baseline: Any) -> None:
    ds = environment(baseline)
    act = baseline.table("activity")
    t = environment_table()
    factors = t["chains"][baseline.chain.id]["factors"]
    scale = float(t["indicators"]["co2e_t"]["to_units"])
    us = act[(act["region"] == "US") & (act["stage"] == "mining") & (act["year"] == 2024)]
    assert set(us["process"]) == {"mine_bastnaesite"}         # Mountain Pass
    f = factor_for(factors, "co2e_t", "mine_bastnaesite", "US")
    assert f is not None and f["regions"] == ["US"]
    expected = float(us["activity_t"].sum()) * float(f["value"]) * scale
    got = float(ds["co2e_t"].sel(region="US", stage="mining", year=2024))
    assert got == pytest.approx(expected, rel=1e-12)
    assert got > 0
    assert float(ds["co2e_t_coverage"].sel(region="US", stage="mining", year=2024)) == 1.0
    # the world total is the sum over regions and stages of covered activity x factor
    a24 = act[(act["year"] == 2024) & (act["activity_t"] > 0)]
    world = sum(a * float(g["value"]) * scale for p, r, a in
                zip(a24["process"], a24["region"], a24["activity_t"], strict=True)
                if (g := factor_for(factors, "co2e_t", p, r)) is not None)
    assert float(ds["co2e_t"].sel(year=2024).sum()) == pytest.approx(world, rel=1e-12)
    # China's Bayan Obo mining has no retrievable factor: reported, and coverage below 1
    assert "mine_bayan_obo" in ds.attrs["co2e_t_not_covered"]
    assert float(ds["co2e_t_coverage"].sel(region="CN", stage="mining", year=2024)) < 1.0


def test_scorecard_command_carries_the_environment(tmp_path) -> None:  # noqa: ANN001
    """`rareflow scorecard --json` adds the environment digest; an indicator no process has
    a factor for lists every active process as not covered and totals 0."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / "rareflow"
    proc = subprocess.run([str(exe), "scorecard", "us-baseline", "--json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)["environment"]
    y = env["years"]["2024"]
    assert y["US"]["co2e_t"] > 0 and y["world"]["co2e_t"] >= y["US"]["co2e_t"]
    assert y["US"]["co2e_t_coverage_by_stage"]["mining"] == 1.0
    assert y["world"]["water_m3"] == 0 and not any(y["world"]["water_m3_coverage_by_stage"].values())
    assert "magnet_sintered" in env["not_covered"]["water_m3"]
    text = subprocess.run([str(exe), "scorecard", "us-baseline"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300).stdout
    assert "2024 water_m3: not computed" in text
