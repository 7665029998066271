"""One results interface across engines (issue 11, part 2): ``rareflow.run``, ``stress``,
``recycling``, ``plan`` and ``economics`` answer ``to_xarray``, ``table``, ``to_netcdf``,
``to_parquet`` and ``summary`` alike; files round-trip and tables carry their units."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import rareflow
from rareflow.errors import RareflowDataWarning, RareflowInputError
from rareflow.results.base import EngineResults
from rareflow.results.io import UNITS_KEY, read_parquet_units

xr = pytest.importorskip("xarray")

FAST = {"reconcile": None}   # the world as reported: the same interface, a faster run


def _quiet(fn: Any, *args: Any, **kw: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RareflowDataWarning)
        return fn(*args, **kw)


def _values(da: Any) -> np.ndarray:
    v = np.asarray(da.values)
    if da.attrs.get("rareflow_dtype") == "bool":
        v = v.astype(bool)
    if v.dtype.kind in "OSU":
        v = v.astype(str)
    return v


def assert_round_trips(res: Any, tmp_path: Path, engine: str) -> None:
    """netCDF and Parquet files read back equal to what the object holds, with units."""
    assert isinstance(res, EngineResults)
    assert res.engine == engine
    ds = res.to_xarray()
    assert len(ds.data_vars) > 0
    for v in ds.data_vars:
        assert "units" in ds[v].attrs, v
    path = res.to_netcdf(tmp_path / f"{engine}.nc")
    assert path == tmp_path / f"{engine}.nc"
    with xr.open_dataset(path) as back:
        assert set(back.data_vars) == set(ds.data_vars)
        assert dict(back.sizes) == dict(ds.sizes)
        for v in ds.data_vars:
            a, b = _values(ds[v]), _values(back[v])
            if a.dtype.kind == "f":
                np.testing.assert_array_equal(a, b.astype(a.dtype), err_msg=str(v))
            else:
                np.testing.assert_array_equal(a.astype(b.dtype) if a.dtype.kind != "U" else a,
                                              b, err_msg=str(v))
            assert back[v].attrs["units"] == ds[v].attrs["units"]
        assert back.attrs["engine"] == engine if "engine" in ds.attrs else True
    written = res.to_parquet(tmp_path / engine)
    assert set(written) == {*res.table_names, "summary"}
    for name in res.table_names:
        df = res.table(name)
        assert set(res.units(name)) >= set(df.columns) or name in ("cash_flows", "samples")
        units = read_parquet_units(written[name])
        assert list(units) == list(df.columns)
        assert units == {c: res.units(name).get(c, "") for c in df.columns}
        import pyarrow.parquet as pq

        meta = pq.read_schema(written[name]).metadata
        assert meta[b"rareflow.engine"] == engine.encode()
        assert UNITS_KEY.encode() in meta
        pd.testing.assert_frame_equal(pd.read_parquet(written[name]), df.reset_index(drop=True),
                                      check_dtype=False)
    summary = res.summary()
    text = json.dumps(summary, allow_nan=False)             # JSON-able as it stands
    assert json.loads(written["summary"].read_text()) == json.loads(text)
    with pytest.raises(KeyError, match="unknown table 'nope'"):
        res.table("nope")


def test_run(tmp_path: Path) -> None:
    res = _quiet(rareflow.run, "us-baseline", overrides=FAST)
    assert isinstance(res, rareflow.results.results.Results)     # still the static Results
    assert res.units("stages")["capacity_t"] == "t/yr"
    assert res.units("stages")["import_reliance"] == "1"
    s = res.summary()
    assert s["world_figures"] == "reported"
    ds = res.to_xarray()
    mag = float(ds["stage_capacity"].sel(region="US", stage="magnet", year=2030))
    stages = res.table("stages")
    row = stages[(stages.region == "US") & (stages.stage == "magnet") & (stages.year == 2030)]
    assert mag == pytest.approx(float(row["capacity_t"].iloc[0]), rel=1e-12)
    assert_round_trips(res, tmp_path, "run")
    # what the command writes (``Results.write`` of run_static), byte for byte
    from rareflow.results.results import run_static

    res.write(tmp_path / "api")
    run_static(res.scenario).write(tmp_path / "cli")
    for f in sorted((tmp_path / "cli").iterdir()):
        assert (tmp_path / "api" / f.name).read_bytes() == f.read_bytes(), f.name


@pytest.fixture(scope="module")
def stress_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("stress")
    p = d / "embargo-fast.yaml"
    p.write_text("name: embargo-fast\nextends: us-embargo-6m\nreconcile: null\n")
    return p


def test_stress_matches_what_the_command_writes(tmp_path: Path, stress_file: Path) -> None:
    from typer.testing import CliRunner

    from rareflow.cli.main import app

    res = _quiet(rareflow.stress, str(stress_file), samples=12, seed=3)
    assert res.result.n_samples == 12
    out = tmp_path / "cli"
    r = CliRunner().invoke(app, ["stress", str(stress_file), "--samples", "12", "--seed", "3",
                                 "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    pd.testing.assert_frame_equal(pd.read_parquet(out / "stress_samples.parquet"),
                                  res.table("samples"), check_dtype=False)
    cli = json.loads((out / "stress_summary.json").read_text())
    mine = res.summary()
    assert mine["US"] == cli["US"]
    assert {k: v for k, v in mine["_meta"].items() if k in cli["_meta"]} == cli["_meta"]
    assert mine["_meta"]["scenario_sha256"] == res.scenario.content_hash()
    ds = res.to_xarray()
    assert ds.sizes["sample"] == 12 and ds.attrs["seed"] == 3
    assert ds["time_to_survive"].attrs["units"] == "month"
    assert_round_trips(res, tmp_path, "stress")


def test_stress_same_seed_same_results_with_1_or_2_threads(stress_file: Path) -> None:
    a = _quiet(rareflow.stress, str(stress_file), samples=8, seed=5, monthly=True, workers=1)
    b = _quiet(rareflow.stress, str(stress_file), samples=8, seed=5, monthly=True, workers=2)
    xr.testing.assert_identical(a.to_xarray(), b.to_xarray())
    assert "monthly" in a.table_names and len(a.table("monthly")) == 8 * a.result.months * len(
        a.result.labels["sectors"])


def test_recycling(tmp_path: Path) -> None:
    res = _quiet(rareflow.recycling, "us-recycling-85", overrides=FAST, years=[2030, 2035])
    s = res.summary()
    assert list(s["by_year"]) == ["2030", "2035"] and s["elements"] == ["Nd", "Pr", "Dy", "Tb"]
    ds = res.to_xarray()
    j = list(ds.year.values).index(2035)
    e = list(ds.element.values).index("Nd")
    recycled = float(res.run.chain.recycled_eol_by_element.sum(axis=0)[j, e])
    assert s["by_year"]["2035"]["recycled_t"]["Nd"] == pytest.approx(recycled, rel=1e-12)
    assert res.units("recycling")["in_use_stock_t"] == "t (end of year)"
    assert_round_trips(res, tmp_path, "recycling")
    with pytest.raises(RareflowInputError, match="year"):
        _quiet(rareflow.recycling, res.static.scenario, years=[1700])


def test_plan(tmp_path: Path) -> None:
    res = _quiet(rareflow.plan, "us-50pct-coverage", variants=["base"])
    s = res.summary()
    base = s["variants"]["base"]
    assert base["status"] in ("ok", "optimal")
    ds = res.to_xarray()
    assert float(ds["objective_usd_discounted"].sel(variant="base")) == pytest.approx(
        base["objective_usd_discounted"], rel=1e-12)
    builds = res.table("builds")
    assert builds["build_t_per_yr"].sum() == pytest.approx(
        sum(b["build_t_per_yr"] for b in base["builds"]), rel=1e-12)
    plan_table = res.table("plan")
    assert (plan_table["kind"] == "build").sum() == len(base["builds"])
    assert res.units("coverage")["marginal_cost_usd_per_t"] == "USD/t"
    assert_round_trips(res, tmp_path, "plan")


def test_economics(tmp_path: Path) -> None:
    res = _quiet(rareflow.economics, "vulcan-10k", samples=64, seed=7)
    s = res.summary()
    (fid,) = s["facilities"]
    per = res.table("samples")
    assert len(per) == 64
    mc = s["facilities"][fid]["monte_carlo"]["npv_project"]
    assert mc["p50"] == pytest.approx(float(np.percentile(per["npv_project"], 50)), rel=1e-9)
    assert res.units("samples")["npv_project"] == "USD"
    assert res.units("cash_flows")["year"] == "year"
    again = _quiet(rareflow.economics, "vulcan-10k", samples=64, seed=7)
    xr.testing.assert_identical(res.to_xarray(), again.to_xarray())
    assert_round_trips(res, tmp_path, "economics")


def test_engines_take_overrides_and_the_answer_moves_by_hand() -> None:
    base = _quiet(rareflow.economics, "vulcan-10k", samples=8, seed=1)
    fixed = "facilities.vulcan_benson_magnets.plant.opex_fixed.value"
    dearer = _quiet(rareflow.economics, base.scenario, samples=8, seed=1,
                    overrides={fixed: "55 MUSD"})          # the file: 45 MUSD/yr
    assert dearer.scenario.overrides == {fixed: "55 MUSD"}
    a = base.table("cash_flows").set_index("year")["ebitda"]
    b = dearer.table("cash_flows").set_index("year")["ebitda"]
    cod = 2027                                               # fixed opex runs from cod
    np.testing.assert_allclose((b - a).loc[cod:], -10e6, rtol=0, atol=1e-3)
    np.testing.assert_allclose((b - a).loc[:cod - 1], 0.0, rtol=0, atol=1e-3)
    assert dearer.summary()["scenario_sha256"] != base.summary()["scenario_sha256"]
    with pytest.raises(RareflowInputError) as e:
        _quiet(rareflow.economics, base.scenario, samples=8, overrides={fixed: "55 t"})
    assert str(e.value) == (f"<overrides>: {fixed}: '55 t' is a mass, an amount of money is "
                            "needed (e.g. '620 MUSD')")
