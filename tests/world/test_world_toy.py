"""World totals and net import reliance on hand-made tables of a three-stage toy chain.

Three regions, one year. Every expected figure below is worked out by hand from the rows.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from rareflow.report import section_world
from rareflow.results import world
from rareflow.results.balance_check import FLOW_COLUMNS, stored_flows
from rareflow.testing import compile_chain_dict

A = "fixture"
Y = 2024


def toy_chain_dict() -> dict:
    return {
        "chain": {"id": "toy", "name": "toy magnet chain", "reference_material": "magnet"},
        "elements": {"X": {"name": "x-ium"}, "Fe": {"name": "iron"}, "O": {"name": "oxygen"}},
        "stages": [
            {"id": "dig", "name": "digging"},
            {"id": "refine", "name": "refining"},
            {"id": "make", "name": "making"},
            {"id": "use", "name": "use", "kind": "use"},
        ],
        "materials": {
            "ore": {"name": "ore", "stage": "dig", "basis": "t XO", "composition": {"X": 0.5},
                    "assumption": A},
            "oxide": {"name": "oxide", "stage": "refine", "composition": {"X": 0.8, "O": 0.2},
                      "assumption": A},
            "fe": {"name": "iron", "stage": "make", "composition": {"Fe": 1.0},
                   "external": True, "assumption": A},
            "magnet": {"name": "magnet", "stage": "make",
                       "composition": {"X": 0.25, "Fe": 0.75}, "assumption": A},
            "scrap": {"name": "scrap", "stage": "make",
                      "composition": {"X": 0.25, "Fe": 0.75}, "assumption": A},
        },
        "processes": {
            "dig_ore": {"name": "dig", "stage": "dig", "kind": "extract", "output": "ore",
                        "assumption": A},
            "refine_ore": {"name": "refine", "stage": "refine", "kind": "split", "feed": "ore",
                           "recovery": 0.9, "products": ["oxide"], "draws": ["O"],
                           "assumption": A},
            "make_magnet": {"name": "make", "stage": "make", "kind": "convert",
                            "output": "magnet", "inputs": {"oxide": 0.3125, "fe": 0.75},
                            "yield": 1.0, "assumption": A},
        },
        "sectors": {"users": {"name": "users", "uses": ["magnet"], "activity_unit": "unit"}},
    }


def _flows(rows: list[dict]) -> pd.DataFrame:
    out = []
    for r in rows:
        row = {"year": Y, **{c: 0.0 for c in FLOW_COLUMNS}, **r}
        row["consumption_t"] = row["process_use_t"] + row["final_demand_t"]
        row["net_imports_t"] = row["consumption_t"] - row["production_t"]
        out.append(row)
    return pd.DataFrame(out)


@pytest.fixture(scope="module")
def toy():  # type: ignore[no-untyped-def]
    chain = compile_chain_dict(toy_chain_dict())
    flows = _flows([
        # dig: A mines 100 and ships 70 to B; C mines 20 and uses them
        {"region": "A", "material": "ore", "production_t": 100, "process_use_t": 30,
         "exports_t": 70},
        {"region": "B", "material": "ore", "process_use_t": 70, "imports_t": 70},
        {"region": "C", "material": "ore", "production_t": 20, "process_use_t": 20},
        # refine: A makes 10, uses 4, ships 6 to B; B makes 25, uses 31; C none
        {"region": "A", "material": "oxide", "production_t": 10, "process_use_t": 4,
         "exports_t": 6},
        {"region": "B", "material": "oxide", "production_t": 25, "process_use_t": 31,
         "imports_t": 6},
        # make: A makes 10 magnets (+3 scrap nobody takes), keeps 2, ships 5 to B, 3 to C;
        # B needs 30 and gets 5 (25 unmet); C needs 3
        {"region": "A", "material": "magnet", "production_t": 10, "final_demand_t": 2,
         "exports_t": 8},
        {"region": "A", "material": "scrap", "production_t": 3, "unsold_t": 3},
        {"region": "A", "material": "fe", "process_use_t": 7.5},
        {"region": "B", "material": "magnet", "final_demand_t": 30, "imports_t": 5,
         "unmet_t": 25},
        {"region": "C", "material": "magnet", "final_demand_t": 3, "imports_t": 3},
    ])
    trade = pd.DataFrame([
        {"year": Y, "region": "B", "origin": "A", "material": "ore", "imports_t": 70.0},
        {"year": Y, "region": "B", "origin": "A", "material": "oxide", "imports_t": 6.0},
        {"year": Y, "region": "B", "origin": "A", "material": "magnet", "imports_t": 5.0},
        {"year": Y, "region": "C", "origin": "A", "material": "magnet", "imports_t": 3.0},
    ])
    activity = pd.DataFrame([
        {"year": Y, "region": "A", "process": "dig_ore", "activity_t": 100.0},
        {"year": Y, "region": "C", "process": "dig_ore", "activity_t": 20.0},
        {"year": Y, "region": "A", "process": "make_magnet", "activity_t": 10.0},
    ])
    return stored_flows(chain, flows, trade, activity, ("A", "B", "C"), (Y,))


def test_roles_come_from_the_chain(toy) -> None:  # type: ignore[no-untyped-def]
    c = toy.chain
    assert world.production_stages(c) == ["dig", "refine", "make"]
    assert world.mining_stage(c) == "dig"
    assert world.magnet_stage(c) == "make"
    assert world.magnet_materials(c) == ["magnet"]          # scrap: no sector uses it
    assert world.magnet_elements(c) == ["X"]                # Fe comes from outside the chain
    assert world.magnet_elements(c, ["X", "Fe"]) == ["X", "Fe"]
    with pytest.raises(KeyError, match="Zz"):
        world.magnet_elements(c, ["Zz"])


def test_world_totals_by_hand(toy) -> None:  # type: ignore[no-untyped-def]
    w = world.world_by_year(toy, exporters_of_note=["A"], region_names={"A": "Land of A"})
    row = w[str(Y)]
    assert list(w) == ["2024"]
    assert row["mine_production_t_reo"] == pytest.approx(120.0)        # 100 + 20
    assert row["magnet_production_t"] == pytest.approx(10.0)           # scrap left out
    assert row["magnet_rare_earth_demand_t"] == pytest.approx(2.5)     # 10 t x 25 % X
    assert row["magnet_rare_earth_demand_by_element_t"] == {"X": pytest.approx(2.5)}
    assert row["magnet_exports_t"] == {"A": pytest.approx(8.0)}
    assert row["largest_magnet_producer"] == "A"
    assert row["largest_magnet_producer_exports_t"] == pytest.approx(8.0)
    assert row["land_of_a_magnet_exports_t"] == pytest.approx(8.0)
    with pytest.raises(KeyError, match="ZZ"):
        world.world_by_year(toy, exporters_of_note=["ZZ"])


def test_net_import_reliance_by_hand(toy) -> None:  # type: ignore[no-untyped-def]
    nir = world.net_import_reliance_tree(toy)
    assert set(nir) == {"A", "B", "C"}
    for r in nir:
        assert set(nir[r]) == {"dig", "refine", "make"}
    y = str(Y)
    # net exporters: clipped at 0
    assert nir["A"]["dig"][y] == 0.0
    assert nir["A"]["refine"][y] == 0.0
    assert nir["A"]["make"][y] == 0.0          # 8 t exported and 3 t scrap stocked
    # no production at all: 1
    assert nir["B"]["dig"][y] == pytest.approx(1.0)
    assert nir["B"]["make"][y] == pytest.approx(1.0)   # 5 t traded + 25 t from unnamed origins
    assert nir["C"]["make"][y] == pytest.approx(1.0)
    # partly imported: 6 t of 31 t apparent consumption
    assert nir["B"]["refine"][y] == pytest.approx(6 / 31, abs=1e-6)
    # self-sufficient: 0; nothing consumed: null
    assert nir["C"]["dig"][y] == 0.0
    assert nir["C"]["refine"][y] is None


def test_reliance_equals_net_imports_over_consumption(toy) -> None:  # type: ignore[no-untyped-def]
    for g in world.production_stages(toy.chain):
        tot = world.stage_totals(toy, g)
        net = world.net_imports(tot)
        np.testing.assert_allclose(net, tot["consumption_t"] - tot["production_t"])


def test_unrecorded_exports_count_as_stock_draw() -> None:
    one = np.array([[10.0]])
    zero = np.zeros((1, 1))
    tot = {"production_t": one, "consumption_t": one, "imports_t": zero,
           "exports_t": 0.5 * one, "unmet_t": zero, "unsold_t": zero,
           "unrecorded_t": 0.5 * one}
    assert world.net_import_reliance(tot)[0, 0] == 0.0
    tot = {**tot, "production_t": zero, "imports_t": 0.4 * one, "exports_t": zero,
           "unrecorded_t": zero, "unmet_t": 0.6 * one}
    assert world.net_import_reliance(tot)[0, 0] == pytest.approx(1.0)


def test_world_summary_layout(toy) -> None:  # type: ignore[no-untyped-def]
    s = world.world_summary(toy)
    assert set(s) == {"world", "world_basis", "net_import_reliance"}
    assert s["world_basis"]["magnet_materials"] == ["magnet"]
    assert s["world_basis"]["mining_stage"] == "dig"
    assert not any(k.endswith("_magnet_exports_t") and k.startswith("land")
                   for k in s["world"][str(Y)])


def test_report_section_tables_by_hand(toy) -> None:  # type: ignore[no-untyped-def]
    dep = {(r["stage"], r["region"]): r for r in section_world.dependence_rows(toy, Y)}
    assert set(dep) == {("dig", "B"), ("refine", "B"), ("make", "B"), ("make", "C")}
    assert dep[("make", "B")]["origins"] == [("A", pytest.approx(1.0))]
    assert dep[("make", "B")]["imports_t"] == pytest.approx(5.0)
    rows = {(r["stage"], r["region"]): r for r in section_world.stage_rows(toy, Y)}
    assert ("refine", "C") not in rows
    assert rows[("make", "B")]["net_imports_t"] == pytest.approx(30.0)
    assert rows[("make", "A")]["production_t"] == pytest.approx(13.0)


def _fake_results(s):  # type: ignore[no-untyped-def]
    spec = SimpleNamespace(regions={}, world_summary=None)
    return SimpleNamespace(stored_flows=lambda: s, scenario=SimpleNamespace(spec=spec))


def test_world_section_renders_for_several_regions(toy) -> None:  # type: ignore[no-untyped-def]
    [(title, body)] = section_world.sections(_fake_results(toy))
    assert "world" in title.lower()
    assert "Who depends on whom" in body and "\"heatmap\"" in body and "t XO" in body


def test_world_section_absent_for_one_region(toy) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    keep = [0]
    one = dataclasses.replace(toy, regions=("A",),
                              flows={k: v[keep] for k, v in toy.flows.items()},
                              trade=toy.trade[np.ix_(keep, keep)], activity=toy.activity[keep])
    assert section_world.sections(_fake_results(one)) == []


def test_settings_from_a_scenario_key() -> None:
    spec = SimpleNamespace(regions={"A": SimpleNamespace(name="Land of A")},
                           world_summary={"exporter_of_note": "A", "magnet_elements": ["X"]})
    kw = world.settings_of(SimpleNamespace(spec=spec))
    assert kw == {"exporters_of_note": ["A"], "elements": ["X"],
                  "region_names": {"A": "Land of A"}}
