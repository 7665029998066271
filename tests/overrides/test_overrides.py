"""Overrides in code: applied to the merged document, validated like a file, located
errors, recorded on the scenario with a content hash (issue 11, part 1)."""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import numpy as np
import pytest

import rareflow
from rareflow import resources
from rareflow.errors import RareflowInputError
from rareflow.model.arrays import build_arrays
from rareflow.scenario.loader import load_document
from rareflow.scenario.overrides import apply_overrides

VULCAN = "facilities.vulcan_benson_magnets"
LATE = {f"{VULCAN}.capacity": {2029: "2500 t/yr", 2031: "10000 t/yr"}}
CHAINS = sorted(p.stem for p in resources.chain_dir().glob("*.yaml"))
FAST = {"reconcile": None}      # the static run without the world reconciliation (fast)


def _load(name: str, overrides: dict[str, Any] | None = None) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rareflow.errors.RareflowDataWarning)
        return rareflow.load_scenario(name, overrides=overrides)


def _with(sc: Any, overrides: dict[str, Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rareflow.errors.RareflowDataWarning)
        return sc.with_overrides(overrides)


@pytest.fixture(scope="module")
def base() -> Any:
    return _load("us-baseline")


def _message(excinfo: pytest.ExceptionInfo[RareflowInputError]) -> str:
    return str(excinfo.value)


# --------------------------------------------------------------------------- the answer
def test_override_changes_capacity_by_the_hand_computed_amount(base: Any) -> None:
    # the file: 2027 2500, 2028 5000, 2029 7500, 2030 10000 t/yr; a schedule replaces a
    # schedule whole, so two years late it is 0 before 2029, 2500 in 2029-30, 10000 after
    late = _load("us-baseline", overrides=LATE)
    assert base.spec.facilities["vulcan_benson_magnets"].capacity == {
        2027: 2500.0, 2028: 5000.0, 2029: 7500.0, 2030: 10000.0}
    assert late.spec.facilities["vulcan_benson_magnets"].capacity == {2029: 2500.0, 2031: 10000.0}
    a0, a1 = build_arrays(base), build_arrays(late)
    r = a0.regions.index("US")
    k = base.chain.processes.index("magnet_sintered")
    delta = dict(zip(a0.years, a1.capacity[r, k] - a0.capacity[r, k], strict=True))
    expected = {2027: -2500.0, 2028: -5000.0, 2029: -5000.0, 2030: -7500.0}
    for y, d in delta.items():
        assert d == pytest.approx(expected.get(y, 0.0), abs=1e-9), y


def test_override_changes_the_run_answer(base: Any) -> None:
    fast = _with(base, FAST)
    assert fast.spec.reconcile is None
    late = _with(fast, LATE)
    s0 = rareflow.run(fast).table("stages")
    s1 = rareflow.run(late).table("stages")

    def cap(df: Any, year: int) -> float:
        row = df[(df.region == "US") & (df.stage == "magnet") & (df.year == year)]
        return float(row["capacity_t"].iloc[0])

    # sintered magnets yield 1 t of magnet per t of activity: stage capacity moves by the
    # same tonnage as the facility
    k = base.chain.processes.index("magnet_sintered")
    y = float(base.chain.outputs[k].max())
    assert cap(s1, 2029) - cap(s0, 2029) == pytest.approx(-5000.0 * y, rel=1e-12)
    assert cap(s1, 2030) - cap(s0, 2030) == pytest.approx(-7500.0 * y, rel=1e-12)
    assert cap(s1, 2032) == pytest.approx(cap(s0, 2032), rel=1e-12)


def test_one_year_of_a_schedule_is_set_alone(base: Any) -> None:
    sc = _with(base, {f"{VULCAN}.capacity.2029": "2.5 kt/yr"})
    assert sc.spec.facilities["vulcan_benson_magnets"].capacity == {
        2027: 2500.0, 2028: 5000.0, 2029: 2500.0, 2030: 10000.0}


def test_a_mapping_merges_and_null_removes(base: Any) -> None:
    sc = _with(base, {VULCAN: {"capacity": "1000 t/yr", "assumption": "flat"}})
    f = sc.spec.facilities["vulcan_benson_magnets"]
    assert f.capacity == {0: 1000.0}                            # one figure for every year
    assert f.assumption == "flat"
    assert f.region == "US" and f.owner == "Vulcan Elements"   # kept from the file
    gone = _with(base, {VULCAN: None})
    assert "vulcan_benson_magnets" not in gone.spec.facilities
    assert "vulcan_benson_magnets" in base.spec.facilities


def test_a_distribution_is_sampled_like_a_file_one(base: Any) -> None:
    sc = _with(base, {f"{VULCAN}.capacity.2029": {"dist": "triangular", "low": "2000 t/yr",
                                                  "mode": "2500 t/yr", "high": "4000 t/yr"}})
    d = sc.uncertain[f"{VULCAN}.capacity.2029"]
    assert (d.low, d.mode, d.high) == (2000.0, 2500.0, 4000.0)
    assert sc.spec.facilities["vulcan_benson_magnets"].capacity[2029] == d.central()


def test_a_list_is_indexed_by_integers(base: Any) -> None:
    with pytest.raises(RareflowInputError) as e:
        _with(base, {f"{VULCAN}.source.1": "no_such_source"})
    assert _message(e).startswith(
        f"<overrides>: {VULCAN}.source.1: unknown source 'no_such_source'")


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(("overrides", "message"), [
    ({f"{VULCAN}.capacity": {2029: "2500 kg"}},
     f"<overrides>: {VULCAN}.capacity.2029: '2500 kg' is a mass, a capacity or flow needs "
     "mass per time (e.g. '10 t/yr' or '45 kt/yr')"),
    ({f"{VULCAN}.capacity.2029": "abc"},
     f"<overrides>: {VULCAN}.capacity.2029: cannot read 'abc' as a quantity (allowed: a "
     "number, then a unit made of names, '/', '*', '%' and powers such as '^2' (no "
     "arithmetic), e.g. '10 t/yr' or '45 kt/yr')"),
    ({"facilities.vulcan_benson_magnetz.capacity": {2029: "2500 t/yr"}},
     "<overrides>: facilities.vulcan_benson_magnetz.capacity: 'vulcan_benson_magnetz' is not "
     "in facilities; did you mean 'vulcan_benson_magnets'? (allowed: a path through existing "
     "entries; a new entry is given whole, as facilities.vulcan_benson_magnetz: {...})"),
    ({f"{VULCAN}.region.code": "US"},
     f"<overrides>: {VULCAN}.region.code: {VULCAN}.region is a value ('US'), not a mapping or "
     f"a list, so it has no 'code' (allowed: a path that ends at {VULCAN}.region or above)"),
    ({f"{VULCAN}.source.9": "x"},
     f"<overrides>: {VULCAN}.source.9: '9' is not an index of the list at {VULCAN}.source "
     "(allowed: an integer index, 0..2)"),
    ({"facilities..capacity": "1 t/yr"},
     "<overrides>: facilities..capacity: not a dotted path (allowed: names joined by dots, "
     "e.g. 'facilities.vulcan_benson_magnets.capacity'; no empty parts or spaces around them)"),
    ({f"{VULCAN}.capacity.2029": object()},
     f"<overrides>: {VULCAN}.capacity.2029: a value of type object cannot be written in a "
     "scenario (allowed: text with a unit such as '2500 t/yr', a number, true/false, None, a "
     "mapping or a list)"),
    ({"extends": "reference"},
     "<overrides>: extends: extends cannot be overridden: the document is already merged "
     "(allowed: load the other scenario, with these overrides, instead)"),
    ({"chain": "/etc/passwd"},   # overrides read no file a scenario file could not
     "<overrides>: chain: '/etc/passwd' is not a bundled chain (allowed: one of "
     f"{', '.join(CHAINS)}; a chain file of your own is named by a scenario file's `chain:`)"),
])
def test_bad_overrides_give_the_located_message(base: Any, overrides: dict[str, Any],
                                                message: str) -> None:
    with pytest.raises(RareflowInputError) as e:
        _with(base, overrides)
    assert _message(e) == message
    with pytest.raises(RareflowInputError) as e2:   # the same through load_scenario
        _load("us-baseline", overrides=overrides)
    assert _message(e2) == message


def test_every_problem_in_one_pass_and_an_unknown_key(base: Any) -> None:
    with pytest.raises(RareflowInputError) as e:
        _with(base, {f"{VULCAN}.capacityy": "1 t/yr", f"{VULCAN}.capacity.2030": "5 kg"})
    lines = _message(e).splitlines()
    assert f"<overrides>: {VULCAN}.capacity.2030: '5 kg' is a mass, a capacity or flow needs " \
        "mass per time (e.g. '10 t/yr' or '45 kt/yr')" in lines
    assert any(x.startswith(f"<overrides>: {VULCAN}.capacityy: unknown key 'capacityy'; did "
                            "you mean 'capacity'?") for x in lines)
    assert len(lines) == 2


def test_cross_reference_errors_name_the_origin(base: Any) -> None:
    with pytest.raises(RareflowInputError) as e:
        base.with_overrides({f"{VULCAN}.region": "XX"}, origin="sweep run 7")
    assert _message(e).startswith(f"sweep run 7: {VULCAN}.region: unknown region 'XX'")
    assert e.value.problems[0].file == "sweep run 7" and e.value.problems[0].line is None


def test_overrides_must_be_a_mapping_of_text_paths(base: Any) -> None:
    with pytest.raises(RareflowInputError) as e:
        _with(base, {("facilities", "x"): 1})   # type: ignore[dict-item]
    assert _message(e) == ("<overrides>: override key ('facilities', 'x') is not a dotted path "
                           "(allowed: text such as 'facilities.vulcan_benson_magnets.capacity')")
    with pytest.raises(RareflowInputError) as e:
        _with(base, [("a", 1)])                 # type: ignore[arg-type]
    assert _message(e) == ("<overrides>: overrides must be a mapping of dotted paths to "
                           "values (got list)")


def test_errors_in_the_file_keep_their_file_and_line(base: Any) -> None:
    # a file's own figures are not blamed on the overrides
    sc = _with(base, LATE)
    f, line = sc.where(f"{VULCAN}.region")
    assert f.endswith("facilities.yaml") and isinstance(line, int) and line > 1
    f2, line2 = sc.where(f"{VULCAN}.capacity.2029")
    assert (f2, line2) == ("<overrides>", None)


# --------------------------------------------------------------------------- record, hash
def test_the_scenario_records_its_overrides_and_a_content_hash(base: Any) -> None:
    given = {f"{VULCAN}.capacity": {2029: "2500 t/yr", 2031: "10000 t/yr"}}
    a = _with(base, given)
    given[f"{VULCAN}.capacity"][2029] = "1 t/yr"            # the caller's dict changes later
    assert a.overrides == LATE                               # the scenario's record does not
    b = _load("us-baseline", overrides=LATE)
    assert a.content_hash() == b.content_hash()
    assert len(a.content_hash()) == 64 and int(a.content_hash(), 16) >= 0
    assert base.overrides == {}
    assert base.content_hash() != a.content_hash()
    # year keys as text are what YAML gives: the same input, the same hash
    text = _with(base, {f"{VULCAN}.capacity": {"2029": "2500 t/yr", "2031": "10000 t/yr"}})
    assert text.content_hash() == a.content_hash()
    c = _with(base, {f"{VULCAN}.capacity": {2029: "2500 t/yr", 2031: "9999 t/yr"}})
    assert c.content_hash() != a.content_hash()
    # a second load of the same file hashes the same; the base is not changed by overrides
    assert _load("us-baseline").content_hash() == base.content_hash()
    assert base.spec.facilities["vulcan_benson_magnets"].capacity[2029] == 7500.0


def test_with_overrides_composes_and_can_be_replayed(base: Any) -> None:
    one = _with(base, {f"{VULCAN}.capacity.2029": "1000 t/yr"})
    two = _with(one, {f"{VULCAN}.capacity.2030": "2000 t/yr"})
    assert two.overrides == {f"{VULCAN}.capacity.2029": "1000 t/yr",
                             f"{VULCAN}.capacity.2030": "2000 t/yr"}
    assert two.spec.facilities["vulcan_benson_magnets"].capacity == {
        2027: 2500.0, 2028: 5000.0, 2029: 1000.0, 2030: 2000.0}
    again = _with(two, {f"{VULCAN}.capacity.2029": "3000 t/yr"})   # a path given again
    assert again.spec.facilities["vulcan_benson_magnets"].capacity[2029] == 3000.0
    replay = _load("us-baseline", overrides=again.overrides)
    assert replay.content_hash() == again.content_hash()
    back = pickle.loads(pickle.dumps(again))     # what a worker process receives
    assert back.content_hash() == again.content_hash()
    assert _with(back, {}).content_hash() == again.content_hash()


def test_apply_overrides_on_a_document_leaves_it_unchanged() -> None:
    doc = load_document("us-baseline")
    new = apply_overrides(doc, LATE)
    path = ("facilities", "vulcan_benson_magnets", "capacity")
    assert new.data["facilities"]["vulcan_benson_magnets"]["capacity"] == {
        "2029": "2500 t/yr", "2031": "10000 t/yr"}
    assert new.file_of((*path, "2031")) == "<overrides>"
    assert "2027" in doc.data["facilities"]["vulcan_benson_magnets"]["capacity"]
    assert doc.file_of((*path, "2027")).endswith("facilities.yaml")
    assert (*path, "2027") not in new.lines            # the replaced schedule's years are gone
    assert rareflow.apply_overrides(doc, {}).data == doc.data


def test_overrides_in_code_equal_the_same_overrides_in_a_file(base: Any, tmp_path: Any) -> None:
    # the README's scenario file, and the same overrides given in code
    f = tmp_path / "vulcan-late.yaml"
    f.write_text(
        "name: vulcan-late\nextends: us-baseline\nfacilities:\n  vulcan_benson_magnets:\n"
        "    capacity: {2029: 2500 t/yr, 2030: 5000 t/yr, 2031: 7500 t/yr, 2032: 10000 t/yr}\n"
        "    assumption: Two years late.\ndemand:\n"
        "  us_ev_bev: {growth: 15 %/yr, assumption: Faster EV uptake.}\nprocesses:\n"
        "  magnet_sintered: {yield: 80 %, assumption: Better swarf recovery.}\n")
    from_file = _load(str(f))
    in_code = _with(base, {
        "name": "vulcan-late",
        VULCAN: {"capacity": {2029: "2500 t/yr", 2030: "5000 t/yr", 2031: "7500 t/yr",
                              2032: "10000 t/yr"}, "assumption": "Two years late."},
        "demand.us_ev_bev": {"growth": "15 %/yr", "assumption": "Faster EV uptake."},
        "processes": {"magnet_sintered": {"yield": "80 %", "assumption": "Better swarf recovery."}},
    })
    # everything but what each extends (the file: us-baseline; the code: what it extends)
    assert in_code.spec.model_dump(exclude={"extends"}) == \
        from_file.spec.model_dump(exclude={"extends"})
    assert in_code.chain_file.model_dump() == from_file.chain_file.model_dump()
    assert in_code.spec.model_dump() != base.spec.model_dump()
    k = in_code.chain.processes.index("magnet_sintered")
    np.testing.assert_array_equal(in_code.chain.inputs, from_file.chain.inputs)
    assert not np.array_equal(in_code.chain.inputs[k], base.chain.inputs[k])  # yield 80 %
