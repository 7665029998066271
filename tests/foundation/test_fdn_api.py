"""The Python API: load, run, xarray, tables, atomic and reproducible writes, summary."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rareflow
from rareflow.results.results import TABLES, Results
from rareflow.scenario.model import Scenario
from rareflow.testing import assert_mass_balanced


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return rareflow.load_scenario("us-baseline")


@pytest.fixture(scope="module")
def results(scenario: Scenario) -> Results:
    return rareflow.run(scenario)


def test_load_scenario(scenario: Scenario) -> None:
    assert isinstance(scenario, Scenario)
    assert scenario.name == "us-baseline"
    assert scenario.years == list(range(2024, 2036))
    assert scenario.focus_region == "US"
    assert "US" in scenario.spec.regions and "CN" in scenario.spec.regions
    # loading twice gives equal content; a Scenario passes through unchanged
    assert rareflow.load_scenario("us-baseline").spec == scenario.spec
    assert rareflow.load_scenario(scenario) is scenario
    file, line = scenario.where("facilities.mp_mountain_pass_mine.capacity")
    assert file.endswith("facilities.yaml") and line and line > 1


def test_run_accepts_a_name(results: Results) -> None:
    r2 = rareflow.run("us-baseline")
    np.testing.assert_array_equal(r2.flows.imports, results.flows.imports)


def test_mass_balanced(results: Results) -> None:
    assert results.mass_balance_max_rel_error < 1e-9
    assert assert_mass_balanced(results) < 1e-9


def test_to_xarray(results: Results) -> None:
    ds = results.to_xarray()
    assert ds.sizes["year"] == 12
    assert ds.sizes["region"] == len(results.regions) == ds.sizes["origin"]
    assert list(ds["year"].values) == list(range(2024, 2036))
    expected_dims = {
        "activity": ("region", "process", "year"),
        "capacity": ("region", "process", "year"),
        "production": ("region", "material", "year"),
        "consumption": ("region", "material", "year"),
        "imports": ("region", "origin", "material", "year"),
        "exports": ("region", "material", "year"),
        "unmet": ("region", "material", "year"),
        "final_demand": ("region", "sector", "material", "year"),
        "composition": ("material", "element"),
        "stage_import_reliance": ("region", "stage", "year"),
    }
    for v, dims in expected_dims.items():
        assert ds[v].dims == dims, v
    for v in ds.data_vars:
        unit = ds[v].attrs.get("units")
        if "reliance" in v or "coverage" in v or "dependence" in v or v == "composition":
            assert unit == "1", v
        else:
            assert unit == "t/yr", v
    # the dataset agrees with the arrays and the metric accessor
    us, y = "US", 2024
    assert float(ds["stage_import_reliance"].sel(region=us, stage="magnet", year=y)) == \
        pytest.approx(results.metric("import_reliance", us, "magnet", y))
    assert float(ds["imports"].sum()) == pytest.approx(float(ds["exports"].sum()))
    np.testing.assert_allclose(ds["composition"].sum("element").values, 1.0, rtol=1e-12)


@pytest.mark.parametrize("name", list(TABLES))
def test_table_columns(results: Results, name: str) -> None:
    df = results.table(name)
    assert list(df.columns) == list(TABLES[name]), name
    assert len(df) > 0
    for col in df.columns:
        if col.endswith("_t") and col != "net_imports_t":
            assert (df[col].dropna() >= 0).all(), (name, col)
    if "year" in df.columns:
        assert set(df["year"]) <= set(results.years)


def test_unknown_table(results: Results) -> None:
    with pytest.raises(KeyError, match="unknown table 'nope'"):
        results.table("nope")


def _listing(d: Path) -> list[str]:
    return sorted(os.listdir(d))


def test_write_atomic_and_complete(results: Results, tmp_path: Path) -> None:
    written = results.write(tmp_path / "out")
    names = _listing(tmp_path / "out")
    assert names == sorted([f"{t}.parquet" for t in TABLES] + ["summary.json"])
    assert not [n for n in names if n.startswith(".") or n.endswith(".tmp")]
    assert set(written) == set(TABLES) | {"summary"}
    # overwrite in place: still no temp files
    results.write(tmp_path / "out")
    assert _listing(tmp_path / "out") == names
    import pyarrow.parquet as pq

    for t, cols in TABLES.items():
        tbl = pq.read_table(tmp_path / "out" / f"{t}.parquet")
        assert tbl.column_names == list(cols)
        meta = tbl.schema.metadata
        assert json.loads(meta[b"rareflow.columns"]) == cols


def test_bit_identical_across_runs(results: Results, tmp_path: Path) -> None:
    a = tmp_path / "a"
    results.write(a)
    b = tmp_path / "b"
    rareflow.run(rareflow.load_scenario("us-baseline")).write(b)
    # and from a fresh interpreter through the command line
    c = tmp_path / "c"
    proc = subprocess.run([sys.executable, "-m", "rareflow.cli.main", "run", "us-baseline",
                           "--out", str(c), "--quiet"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    for name in _listing(a):
        ref = (a / name).read_bytes()
        assert (b / name).read_bytes() == ref, name
        assert (c / name).read_bytes() == ref, name


def test_summary(results: Results, tmp_path: Path) -> None:
    results.write(tmp_path)
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["scenario"] == "us-baseline"
    assert s["mass_balance_max_rel_error"] < 1e-9
    ir = s["import_reliance"]
    for stage in ("mining", "separation", "metal", "alloy", "magnet"):
        assert stage in ir["US"], stage
        assert set(ir["US"][stage]) == {str(y) for y in range(2024, 2036)}
    # sourced facts: the U.S. is a net exporter of concentrate and highly import-dependent
    # for magnets
    assert ir["US"]["mining"]["2024"] < 0
    assert ir["US"]["magnet"]["2024"] > 0.8
    assert results.metric("import_reliance", "US", "magnet", 2024) == pytest.approx(
        ir["US"]["magnet"]["2024"], abs=1e-6)
    # every number is finite or null (JSON has no NaN)
    text = (tmp_path / "summary.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    for region in ir.values():
        for stage in region.values():
            for v in stage.values():
                assert v is None or math.isfinite(v)
    assert len(s["scenario_sha256"]) == 64


def test_facilities_table_columns_without_facilities(tmp_path: Path) -> None:
    from rareflow.testing import tiny_chain_dict

    (tmp_path / "tiny.yaml").write_text(json.dumps(tiny_chain_dict()))
    (tmp_path / "sc.yaml").write_text(json.dumps({
        "name": "no-facilities", "chain": "tiny.yaml", "years": {"start": 2024, "end": 2024},
        "regions": {"US": {"name": "United States"}},
        "production": {"us_mine": {"region": "US", "process": "mine", "values": "10 t/yr",
                                   "assumption": "test"}}}))
    res = rareflow.run(str(tmp_path / "sc.yaml"))
    assert list(res.table("facilities").columns) == list(TABLES["facilities"])
