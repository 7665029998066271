"""Recycling coupled into the chain: secondary supply displaces imports; mass conserved."""

from __future__ import annotations

import numpy as np
import pytest

import rareflow


@pytest.fixture(scope="module")
def runs() -> dict:
    return {n: rareflow.run(n) for n in ("us-baseline", "us-recycling-today", "us-recycling-85")}


def test_mass_balances_hold(runs: dict) -> None:
    for r in runs.values():
        assert r.mass_balance_max_rel_error < 1e-9
    assert runs["us-recycling-85"].mass_balance["recycling_chain"] < 1e-9


def test_more_recycling_recovers_more_every_year(runs: dict) -> None:
    low = runs["us-recycling-today"].recycling.chain.recycled_eol_by_element.sum(axis=(0, 2))
    high = runs["us-recycling-85"].recycling.chain.recycled_eol_by_element.sum(axis=(0, 2))
    assert np.all(high >= low - 1e-12)
    assert high[-1] > 10 * low[-1]


def test_secondary_supply_enters_the_static_balance(runs: dict) -> None:
    r = runs["us-recycling-85"]
    c = r.chain
    us = r.regions.index("US")
    y = r.years.index(2035)
    rec = r.recycling
    j = rec.years.index(2035)
    liberated = rec.chain.liberated.sum(axis=0)[j]
    assert r.flows.activity[us, c.p("collect_eol_magnets"), y] == pytest.approx(liberated)
    # alloy made from end-of-life magnets = short-loop input x recovery
    short = rec.chain.recycled_short.sum(axis=0)[j]
    k = c.p("recycle_eol_short_loop")
    assert r.flows.activity[us, k, y] * c.outputs[k, c.m("ndfeb_alloy_sintered")] == \
        pytest.approx(short)


def test_today_rate_matches_the_sourced_one_percent(runs: dict) -> None:
    rec = runs["us-recycling-today"].recycling
    nd = rec.elements.index("Nd")
    j = rec.years.index(2030)
    rr = rec.metrics.eol_rr[j, nd]
    assert 0.005 < rr < 0.015


def test_unknown_sector_in_recycling_section_is_located(tmp_path) -> None:
    from rareflow.errors import RareflowInputError

    f = tmp_path / "bad.yaml"
    f.write_text("extends: us-recycling-85\nname: bad\nrecycling:\n  sectors:\n"
                 "    ev_bevv:\n      lifetime: {fixed: 10 yr}\n      assumption: test\n")
    with pytest.raises(RareflowInputError) as exc:
        rareflow.load_scenario(str(f))
    msg = exc.value.format()
    assert f"{f}:5: recycling.sectors.ev_bevv: unknown sector 'ev_bevv'" in msg


def test_bad_lifetime_is_located(tmp_path) -> None:
    from rareflow.errors import RareflowInputError

    f = tmp_path / "bad.yaml"
    f.write_text("extends: us-recycling-85\nname: bad\nrecycling:\n  sectors:\n"
                 "    ev_bev:\n      lifetime: {weibull: {shape: -1, scale: 15 yr}}\n")
    with pytest.raises(RareflowInputError) as exc:
        rareflow.load_scenario(str(f))
    assert f"{f}:6: recycling.sectors.ev_bev.lifetime.weibull.shape:" in exc.value.format()
