"""Provenance: every default figure names a registered source with a confidence, or is an
assumption with its reasoning; the CLI lists every cited source."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rareflow
from rareflow.cli.main import app
from rareflow.errors import RareflowInputError
from rareflow.scenario.build import load_chain
from rareflow.testing import tiny_chain_dict

BUNDLED = ["reference", "us-baseline"]
CONFIDENCE = {"high", "medium", "low"}


@pytest.fixture(scope="module", params=BUNDLED)
def scenario(request):
    return rareflow.load_scenario(request.param)


def _records(sc):
    spec = sc.spec
    for section in ("facilities", "production", "self_supply", "demand"):
        for k, rec in getattr(spec, section).items():
            if rec is not None:
                yield f"{section}.{k}", rec
    for k, rec in spec.trade.import_shares.items():
        if rec is not None:
            yield f"trade.import_shares.{k}", rec
    for k, rec in spec.region_groups.items():
        yield f"region_groups.{k}", rec
    for k, rec in spec.processes.items():
        yield f"processes.{k}", rec
    chain_file, _ = load_chain(spec.chain)
    for k, rec in chain_file.materials.items():
        yield f"chain.materials.{k}", rec
    for k, rec in chain_file.processes.items():
        yield f"chain.processes.{k}", rec


def _check(figure: str, rec, registry) -> list[str]:
    bad = []
    if rec.source:
        for s in rec.source:
            if s not in registry:
                bad.append(f"{figure}: source '{s}' not in the registry")
            if s == "unsourced":
                bad.append(f"{figure}: cites 'unsourced'")
        if rec.confidence not in CONFIDENCE:
            bad.append(f"{figure}: sourced without a confidence")
    elif rec.assumption is None or not rec.assumption.strip():
        bad.append(f"{figure}: neither a source nor an assumption with reasoning")
    return bad


def test_every_record_has_provenance(scenario) -> None:
    registry = scenario.spec.sources
    records = list(_records(scenario))
    sections = {f.split(".")[0] if not f.startswith(("chain.", "trade."))
                else ".".join(f.split(".")[:2]) for f, _ in records}
    # the reference covers every kind of record
    for s in ("facilities", "production", "self_supply", "demand", "trade.import_shares",
              "region_groups", "chain.materials", "chain.processes"):
        assert s in sections, s
    assert len(records) > 100
    bad = [b for f, rec in records for b in _check(f, rec, registry)]
    assert not bad, "\n".join(bad)


def test_registry_entries_are_complete(scenario) -> None:
    reg = scenario.spec.sources
    assert "unsourced" not in reg
    assert len(reg) > 20
    for sid, s in reg.items():
        assert s.publisher.strip(), sid
        assert s.title.strip(), sid
        assert str(s.year).strip(), sid


def test_sources_json_lists_every_cited_source(scenario) -> None:
    res = CliRunner().invoke(app, ["sources", scenario.name, "--json"])
    assert res.exit_code == 0, res.output
    listed = json.loads(res.stdout)
    cited = {s for _, rec in _records(scenario) for s in (rec.source or [])}
    assert cited, "no figure cites a source"
    missing = sorted(cited - set(listed))
    assert not missing, f"cited but not listed by `rareflow sources --json`: {missing}"
    assert "unsourced" not in listed
    for sid, entry in listed.items():
        for key in ("publisher", "title", "year"):
            assert entry.get(key) not in (None, ""), (sid, key)
        assert entry["cited_by"], sid
        assert set(entry["confidence"]) <= CONFIDENCE, sid
    # and nothing listed is uncited
    assert set(listed) <= cited


def test_sources_assumptions_json(scenario) -> None:
    res = CliRunner().invoke(app, ["sources", scenario.name, "--assumptions", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert rows
    for r in rows:
        assert r["kind"] == "assumption"
        assert r["assumption"].strip(), r["figure"]
        assert r["line"] is not None and r["file"], r["figure"]


def test_missing_provenance_in_scenario_is_located(tmp_path: Path) -> None:
    f = tmp_path / "noprov.yaml"
    f.write_text(
        "extends: us-baseline\n"
        "name: noprov\n"
        "demand:\n"
        "  us_new_sector:\n"
        "    region: US\n"
        "    sector: defence\n"
        "    material: ndfeb_sintered\n"
        "    quantity: 100 t/yr\n")
    with pytest.raises(RareflowInputError) as info:
        rareflow.load_scenario(str(f))
    [p] = info.value.problems
    assert p.file.endswith("noprov.yaml")
    assert p.line == 4
    assert p.path == "demand.us_new_sector"
    assert "no provenance" in p.message


def test_sourced_without_confidence_is_located(tmp_path: Path) -> None:
    f = tmp_path / "noconf.yaml"
    f.write_text(
        "extends: us-baseline\n"
        "name: noconf\n"
        "production:\n"
        "  us_extra:\n"
        "    region: US\n"
        "    process: mine_bastnaesite\n"
        "    values: 100 t/yr\n"
        "    source: usgs_mcs2026\n")
    with pytest.raises(RareflowInputError) as info:
        rareflow.load_scenario(str(f))
    [p] = info.value.problems
    assert (Path(p.file).name, p.line, p.path) == ("noconf.yaml", 4, "production.us_extra")
    assert "confidence" in p.message


def test_missing_provenance_in_chain_is_located(tmp_path: Path) -> None:
    chain = tiny_chain_dict()
    del chain["materials"]["oxide"]["assumption"]
    (tmp_path / "tiny.yaml").write_text(json.dumps(chain, indent=1))
    text = (tmp_path / "tiny.yaml").read_text().splitlines()
    line = next(i for i, t in enumerate(text, 1) if t.strip().startswith('"oxide": {'))
    (tmp_path / "sc.yaml").write_text(
        "name: tiny\nchain: tiny.yaml\nyears: {start: 2024, end: 2024}\n"
        "regions: {US: {name: United States}}\n")
    res = CliRunner().invoke(app, ["validate", str(tmp_path / "sc.yaml")])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert re.search(rf"tiny\.yaml:{line}: materials\.oxide: no provenance", res.output), \
        res.output


def test_source_registry_is_the_fact_sheets_sources():
    """Every source id of the registry (_reference/sources.yaml) comes from a fact sheet in
    data/reference (research_facts_*.yaml, ree-facts.yaml), so tools/build_sources.py
    rebuilds it without losing one, and every fact sheet's source is in the registry."""
    from ruamel.yaml import YAML

    from rareflow.resources import reference_dir, scenario_dir

    safe = YAML(typ="safe")
    sheets = sorted(reference_dir().glob("research_facts*.yaml")) + [reference_dir() / "ree-facts.yaml"]
    ids: set[str] = set()
    for sheet in sheets:
        ids |= set(safe.load(sheet.read_text()).get("sources") or {})
    ids.discard("unsourced")
    registry = set(safe.load((scenario_dir() / "_reference" / "sources.yaml").read_text())["sources"])
    assert registry - ids == set(), "in sources.yaml but in no fact sheet (a rebuild drops them)"
    assert ids - registry == set(), "in a fact sheet but not in sources.yaml (run tools/build_sources.py)"
