"""Invariants of the network engine on the hand case with random parameters."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rareflow.engines.network import check_mass_balance, simulate_network
from rareflow.engines.network.testing import three_region_case

SETTINGS = settings(max_examples=30, deadline=None)


@SETTINGS
@given(sev=st.floats(0.0, 1.0), a=st.floats(0.0, 400.0), b=st.floats(0.0, 400.0))
def test_shortfall_falls_as_the_stockpile_grows(sev: float, a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    res = simulate_network(three_region_case(severity=sev, stockpile_t=[lo, hi]))
    assert res.cum_loss[1].sum() <= res.cum_loss[0].sum() + 1e-9


@SETTINGS
@given(a=st.floats(0.0, 1.0), b=st.floats(0.0, 1.0), stock=st.floats(0.0, 300.0))
def test_shortfall_rises_with_severity(a: float, b: float, stock: float) -> None:
    lo, hi = sorted((a, b))
    res = simulate_network(three_region_case(severity=[lo, hi], stockpile_t=stock))
    assert res.cum_loss[0].sum() <= res.cum_loss[1].sum() + 1e-9


@SETTINGS
@given(sev=st.floats(0.0, 1.0), stock=st.floats(0.0, 300.0), months=st.floats(0.0, 3.0),
       start=st.integers(0, 6), length=st.integers(0, 6), spare=st.floats(0.0, 0.5),
       producer=st.floats(0.0, 200.0))
def test_mass_balance_every_month(sev: float, stock: float, months: float, start: int,
                                  length: int, spare: float, producer: float) -> None:
    inp = three_region_case(severity=sev, stockpile_t=stock, start=start,
                            end=start + length, months=12)
    inp = dataclasses.replace(inp, use_months=np.full((1, 3), months),
                              spare=np.full(1, spare),
                              producer_stock=np.array([0.0, producer, 0.0, 0.0, 0.0]))
    res = simulate_network(inp, trace=True)
    assert check_mass_balance(inp, res.trace, rtol=1e-9) <= 1e-9
    # users never get more than they asked for
    assert np.all(res.trace["served"] <= res.trace["demand"] + 1e-9)
