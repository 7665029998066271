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
