"""The ``economics:`` schema, standalone files, provenance and input errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rareflow import resources
from rareflow.engines.economics.compile import compile_case
from rareflow.errors import RareflowInputError
from rareflow.scenario.schema_economics import (
    EconomicsSection,
    bundled_economics,
    load_economics,
    parse_section,
    source_ids,
    unlabelled_figures,
)

REE_FACTS = resources.reference_dir() / "ree-facts.yaml"   # the bundled copy of shared/reference
REGISTRY = resources.scenario_dir() / "_reference" / "sources.yaml"

MINIMAL = """\
name: tiny
economics:
  start_year: 2026
  horizon: 5 yr
  government_discount_rate: 4 %
  price_model:
    ndpr_oxide: {model: gbm, start: 69 USD/kg, observed_year: 2025, volatility: 40 %}
  facilities:
    plant:
      capacity: 1 kt/yr
      construction_start: 2026
      cod: 2027
      utilisation: [50 %, 100 %]
      capex: 100 MUSD
      capex_schedule: [100 %]
      opex_fixed: 5 MUSD
      opex_variable: 10 USD/kg
      products:
        ndpr_oxide: {price: {index: ndpr_oxide, pass_through: 1.0}}
      tax_rate: 21 %
      depreciation: {method: straight_line, life: 5 yr}
      discount_rate: 8 %
      equity_discount_rate: 12 %
  loans:
    l1:
      borrower: plant
      amount: 50 MUSD
      rate: 5 %
      tenor: 4 yr
      grace: 1 yr
      start_year: 2026
      draws: [{year: 2026, share: 100 %}]
  contracts:
    floor:
      kind: price_floor
      facility: plant
      product: ndpr_oxide
      floor: 110 USD/kg
      start_year: 2027
      years: 3 yr
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "econ.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_units_and_provenance_are_parsed(tmp_path):
    sec, file, line_of = load_economics(str(_write(tmp_path, MINIMAL)))
    f = sec.facilities["plant"]
    assert f.capacity.value == 1000.0 and f.capex.value == 100e6
    assert f.opex_variable.value == 10.0 and f.tax_rate.value == pytest.approx(0.21)
    assert sec.loans["l1"].tenor.value == 4.0
    assert sec.contracts["floor"].floor.value == 110.0
    # bare figures are flagged as unlabelled
    assert "facilities.plant.capex" in unlabelled_figures(sec)
    case = compile_case(sec, "plant", file=file, line_of=line_of)
    assert case.n_years == 5 and case.facility.cod == 1
    np.testing.assert_allclose(case.facility.capex, [100e6, 0, 0, 0, 0])


def test_figure_mapping_with_source_and_assumption():
    sec = parse_section(
        {
            "start_year": 2026,
            "horizon": {"value": "5 yr", "assumption": "short"},
            "government_discount_rate": {
                "value": "4 %", "source": "usgs_mcs2026", "confidence": "high"
            },
        }
    )
    assert sec.horizon.value == 5 and sec.horizon.assumption == "short"
    assert sec.government_discount_rate.provenance() == "source usgs_mcs2026 (high)"
    with pytest.raises(RareflowInputError, match="confidence"):
        parse_section({"start_year": 2026, "horizon": "5 yr",
                       "government_discount_rate": {"value": "4 %", "source": "x"}})


@pytest.mark.parametrize(
    ("old", "new", "path", "line", "message"),
    [
        ("      rate: 5 %", "      rate: 150 %", "economics.loans.l1.rate", 28,
         "between 0 % and 100 %"),
        ("      tenor: 4 yr", "      tenor: -5 yr", "economics.loans.l1.tenor", 29, "negative"),
        ("      opex_fixed: 5 MUSD", "      opex_fixd: 5 MUSD",
         "economics.facilities.plant.opex_fixd", 16, "unknown key"),
        ("      capex: 100 MUSD", "      capex: 100 kg", "economics.facilities.plant.capex", 14,
         "money"),
    ],
)
def test_bad_values_give_file_line_and_path(tmp_path, old, new, path, line, message):
    assert old in MINIMAL
    p = _write(tmp_path, MINIMAL.replace(old, new))
    with pytest.raises(RareflowInputError) as ei:
        load_economics(str(p))
    pr = ei.value.problems[0]
    assert pr.path == path and pr.line == line and pr.file == str(p)
    assert message in pr.message
    assert pr.format().startswith(f"{p}:{line}: {path}: ")


def test_missing_cost_data_names_facility_and_field(tmp_path):
    text = MINIMAL.replace("      opex_fixed: 5 MUSD\n", "").replace("      tax_rate: 21 %\n", "")
    sec, file, line_of = load_economics(str(_write(tmp_path, text)))
    with pytest.raises(RareflowInputError) as ei:
        compile_case(sec, "plant", file=file, line_of=line_of)
    paths = {p.path for p in ei.value.problems}
    assert paths == {"economics.facilities.plant.opex_fixed", "economics.facilities.plant.tax_rate"}
    for p in ei.value.problems:
        assert "facility 'plant'" in p.message and p.line == 9  # the facility's line


def test_unknown_facility_reference_is_rejected(tmp_path):
    with pytest.raises(RareflowInputError, match="names facility 'nowhere'"):
        text = MINIMAL.replace("borrower: plant", "borrower: nowhere")
        load_economics(str(_write(tmp_path, text)))
    sec, *_ = load_economics(str(_write(tmp_path, MINIMAL)))
    with pytest.raises(RareflowInputError, match="no facility 'other'"):
        compile_case(sec, "other")


def test_draw_outside_loan_life(tmp_path):
    sec, file, line_of = load_economics(
        str(_write(tmp_path, MINIMAL.replace("{year: 2026, share: 100 %}",
                                             "{year: 2035, share: 100 %}")))
    )
    with pytest.raises(RareflowInputError) as ei:
        compile_case(sec, "plant", file=file, line_of=line_of)
    assert ei.value.problems[0].path == "economics.loans.l1.draws.0.year"


def test_bundled_analyses_are_fully_labelled_and_cite_known_sources():
    names = set(bundled_economics())
    assert {"vulcan-10k", "reelement-80m", "mp-price-floor"} <= names
    from ruamel.yaml import YAML

    # source ids: the reference data (ree-facts) and the project's source registry
    known: set[str] = set()
    for reg in (REE_FACTS, REGISTRY):
        if reg.is_file():
            known |= set(YAML(typ="safe", pure=True).load(reg.read_text())["sources"])
    known = known or None
    import rareflow
    from rareflow.model.plants import economics_section

    for name in names:
        sec, *_ = load_economics(name)
        assert isinstance(sec, EconomicsSection)
        assert unlabelled_figures(sec) == [], name
        sec = economics_section(rareflow.load_scenario(name))   # with the plant figures
        assert unlabelled_figures(sec) == [], name
        if known is not None:
            assert source_ids(sec) <= known, (name, source_ids(sec) - known)


def test_bundled_figures_match_reference():
    import rareflow
    from rareflow.model.plants import economics_section

    v = economics_section(rareflow.load_scenario("vulcan-10k"))
    assert v.loans["osc_vulcan"].amount.value == 620e6
    assert v.equity["commerce_chips"].amount.value == 50e6
    assert v.equity["private"].amount.value == 550e6
    assert v.facilities["vulcan_benson_magnets"].capacity.value == 10_000
    assert v.facilities["vulcan_benson_magnets"].capex.value == 1000e6
    r, *_ = load_economics("reelement-80m")
    assert r.loans["osc_reelement"].amount.value == 80e6
    m, *_ = load_economics("mp-price-floor")
    fl = m.contracts["ndpr_floor"]
    assert fl.floor.value == 110.0 and fl.years.value == 10
    assert m.contracts["magnet_offtake"].share.value == 1.0


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        ("      grace: 1 yr", "      grace: 4 yr", "economics.loans.l1.grace", "shorter than"),
        ("      rate: 5 %", "      rate: 100 %", "economics.loans.l1.rate", "below 100 %"),
        ("      tenor: 4 yr", "      tenor: 9 yr", "economics.loans.l1.tenor", "horizon"),
        ("      tenor: 4 yr", "      tenor: 2.5 yr", "economics.loans.l1.tenor", "whole"),
        ("{year: 2026, share: 100 %}", "{year: 2026, share: 60 %}", "economics.loans.l1.draws",
         "100 %"),
    ],
)
def test_loan_terms_checked_with_location(tmp_path, old, new, path, message):
    sec, file, line_of = load_economics(str(_write(tmp_path, MINIMAL.replace(old, new))))
    with pytest.raises(RareflowInputError) as ei:
        compile_case(sec, "plant", file=file, line_of=line_of)
    pr = ei.value.problems[0]
    assert pr.path == path and message in pr.message and pr.line is not None
