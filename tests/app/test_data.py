"""The dashboard's data layer: chain order, centroids, facility locations, figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from rareflow.app.data import StoreData, load_store, sankey_data, trade_lines
from rareflow.app.geo import ISO3, country_centroids, region_centroid


@pytest.fixture(scope="module")
def data(small_store: Path) -> StoreData:
    return load_store(small_store)


def test_stages_follow_the_chain(data: StoreData) -> None:
    chain = list(data.static[0].scenario_obj.chain.stages)
    assert data.stages == [s for s in chain if s in data.stages]
    assert data.stages[:2] == ["mining", "separation"]


def test_sankey_nodes_in_chain_order(data: StoreData) -> None:
    s = sankey_data(data.static[0], "US", 2030, data.stages, data.regions)
    stage_nodes = [lab.split(" ", 1)[1] for lab in s.labels if lab.startswith("US ")]
    assert stage_nodes == [st for st in data.stages if st in stage_nodes]
    assert len(s.source) == len(s.target) == len(s.value) == len(s.link_colours) > 0
    assert all(v >= 0.5 for v in s.value)
    assert any(lab == "imports from CN" for lab in s.labels)


def test_runs_differ_where_vulcan_is_late(data: StoreData) -> None:
    on_time, late = data.static
    a = sankey_data(on_time, "US", 2028, data.stages, data.regions)
    b = sankey_data(late, "US", 2028, data.stages, data.regions)
    assert a.value != b.value


def test_trade_lines_largest_first(data: StoreData) -> None:
    t = trade_lines(data.static[0], 2030, "magnet")
    assert list(t["imports_t"]) == sorted(t["imports_t"], reverse=True)
    assert (t["origin"] != t["region"]).all()


def test_centroids_inside_their_country_box() -> None:
    c = country_centroids()
    assert set(ISO3.values()) <= set(c)
    lat, lon = region_centroid("US")  # type: ignore[misc]
    assert 25 < lat < 50 and -125 < lon < -65
    lat, lon = region_centroid("RU")  # type: ignore[misc]
    assert 50 < lat < 70 and 40 < lon < 140  # not pulled across the antimeridian
    assert region_centroid("XR") is None


def test_facility_locations_are_sourced(data: StoreData) -> None:
    from rareflow.scenario.loader import load_scenario

    sc = load_scenario("us-baseline")
    known = set(_source_ids())
    for fid, fac in sc.spec.facilities.items():
        loc = fac.location
        if loc is None:
            continue
        assert -90 <= loc.lat <= 90 and -180 <= loc.lon <= 180, fid
        assert loc.place and loc.source, fid
        assert set(loc.source) <= known, (fid, loc.source)


def _source_ids() -> list[str]:
    import yaml

    from rareflow import resources

    doc = yaml.safe_load((resources.scenario_dir() / "_reference" / "sources.yaml").read_text(encoding="utf-8"))
    return list(doc["sources"])


# ---------------------------------------------------------------------------- stress and plan
def test_store_holds_every_kind_of_run(data: StoreData) -> None:
    assert [len(data.of_engine(e)) for e in ("run", "stress", "plan")] == [2, 2, 1]


def test_fan_is_ordered_and_below_the_peak(data: StoreData) -> None:
    """Each month's percentile of the shortfall share cannot exceed the same percentile of
    the per-sample peak over the months (stress_samples, computed by the engine apart from
    the fan)."""
    import numpy as np

    from rareflow.app.data import fan_frame, stress_sectors

    run = data.of_engine("stress")[0]
    samples = run.table("stress_samples")
    assert stress_sectors(run) == list(dict.fromkeys(samples["sector"]))
    for sector in stress_sectors(run):
        f = fan_frame(run, sector)
        assert len(f) == run.summary["months"]
        q = f[["p5", "p25", "p50", "p75", "p95"]].to_numpy()
        assert (np.diff(q, axis=1) >= -1e-12).all() and (q >= 0).all() and (q <= 1 + 1e-12).all()
        peak = samples.loc[samples["sector"] == sector, "peak_shortfall_share"].to_numpy()
        for j, p in enumerate((5, 25, 50, 75, 95)):
            assert q[:, j].max() <= np.percentile(peak, p) + 1e-6, (sector, p)  # float32 peaks
    # the embargo bites: some sector's median month is short
    assert max(fan_frame(run, s)["p50"].max() for s in stress_sectors(run)) > 0.1


def test_survive_figure_medians_from_the_samples(data: StoreData) -> None:
    """The dashboard's medians (from summary.json) agree with the per-sample table."""
    import numpy as np

    from rareflow.app.figures import stockpile_figure, survive_figure

    run = data.of_engine("stress")[0]
    s = run.table("stress_samples")
    fig = survive_figure([run])
    survive = dict(zip(fig.data[0].x, fig.data[0].y, strict=True))
    stock = dict(zip(stockpile_figure([run]).data[0].x, stockpile_figure([run]).data[0].y, strict=True))
    for sector, g in s.groupby("sector"):
        assert survive[sector] == pytest.approx(np.percentile(g["time_to_survive_months"], 50))
        assert stock[sector] == pytest.approx(np.percentile(g["stockpile_needed_t"], 50), rel=1e-9, abs=1e-6)
    assert "months" in fig.layout.yaxis.title.text


def test_builds_figure_adds_up_to_the_plan(data: StoreData) -> None:
    """The stacked bars carry every build of the plan's summary (independent of the
    builds table they are drawn from)."""
    from rareflow.app.figures import builds_figure, plan_coverage_figure

    run = data.of_engine("plan")[0]
    fig = builds_figure(run, "base")
    drawn = sum(sum(t.y) for t in fig.data)
    builds = run.summary["variants"]["base"]["builds"]
    assert len(builds) > 0
    assert drawn == pytest.approx(sum(b["build_t_per_yr"] for b in builds))
    assert "t/yr" in fig.layout.yaxis.title.text
    cov = plan_coverage_figure(run, "base")
    assert {t.name.split(": ", 1)[1] for t in cov.data} >= {"ndfeb_sintered"}


def test_stress_and_plan_sources(data: StoreData) -> None:
    from rareflow.app.data import provenance_rows

    stress = provenance_rows(data.of_engine("stress")[0], (), "stress")
    assert stress[0]["figure"].startswith("stress.")
    assert any(r["sources"] for r in stress if r["figure"].startswith("stress."))
    plan = provenance_rows(data.of_engine("plan")[0], (), "plan")
    heads = [r for r in plan if r["figure"].startswith("plan.")]
    assert len(heads) > 10 and all(r["file"] and r["line"] for r in heads)
