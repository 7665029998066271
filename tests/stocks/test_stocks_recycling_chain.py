"""Pure-array recycling chain: hand calculation, balances, metrics, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rareflow.engines.stocks.recycling import recycling_chain, recycling_metrics
from rareflow.errors import RareflowInputError
from rareflow.stocks import Lifetime

BASE = dict(
    collection_rate=0.5,
    dismantling_share=0.6,
    dismantling_yield=0.9,
    shredding_yield=0.1,
    short_loop_share=0.5,
    short_loop_recovery=0.8,
    long_loop_recovery=[0.95, 0.0],
    swarf_rate=0.2,
    swarf_recovery=0.8,
    inflow_at="end",
)


def _tiny():
    return recycling_chain(
        np.full((1, 4), 10.0), Lifetime.fixed(2), [[0.3, 0.7]], ["X1", "X2"], **BASE
    )


def test_hand_calculation_tiny_chain() -> None:
    r = _tiny()
    # fixed lifetime 2, inflow at end: 10 t/yr retire two years after sale
    np.testing.assert_allclose(r.stock[0], [10, 20, 20, 20])
    np.testing.assert_allclose(r.eol[0], [0, 0, 10, 10])
    y = 2
    assert r.collected[0, y] == pytest.approx(5.0)
    assert r.uncollected[0, y] == pytest.approx(5.0)
    assert r.dismantled[0, y] == pytest.approx(3.0)
    assert r.shredded[0, y] == pytest.approx(2.0)
    assert r.liberated[0, y] == pytest.approx(3.0 * 0.9 + 2.0 * 0.1)  # 2.9
    assert r.loss_preprocessing[0, y] == pytest.approx(2.1)
    assert r.to_short_loop[0, y] == pytest.approx(1.45)
    assert r.recycled_short[0, y] == pytest.approx(1.16)
    assert r.loss_short_loop[0, y] == pytest.approx(0.29)
    np.testing.assert_allclose(
        r.recycled_long_by_element[0, y], [1.45 * 0.3 * 0.95, 0.0], rtol=1e-12
    )
    np.testing.assert_allclose(r.recycled_short_by_element[0, y], [1.16 * 0.3, 1.16 * 0.7])
    # manufacturing: 10 t sold with 20 % swarf -> 12.5 t input, 2.5 t swarf, 2 t back
    assert r.manufacturing_input[0, y] == pytest.approx(12.5)
    assert r.swarf_recycled[0, y] == pytest.approx(2.0)
    assert r.swarf_lost[0, y] == pytest.approx(0.5)
    np.testing.assert_allclose(r.stock_by_element[0, 1], [6.0, 14.0])

    m = recycling_metrics(r)
    eol_rec = np.array([1.16 * 0.3 + 1.45 * 0.3 * 0.95, 1.16 * 0.7])
    inp = np.array([3.75, 8.75])
    new = np.array([0.6, 1.4])
    np.testing.assert_allclose(m.eol_rir[y], eol_rec / inp, rtol=1e-12)
    np.testing.assert_allclose(m.recycled_content[y], (eol_rec + new) / inp, rtol=1e-12)
    np.testing.assert_allclose(m.demand_share[y], eol_rec / (inp - new), rtol=1e-12)
    np.testing.assert_allclose(m.eol_rr[y], eol_rec / np.array([3.0, 7.0]), rtol=1e-12)
    # no end of life in year 0: EOL-RR undefined, EOL-RIR zero
    assert np.all(np.isnan(m.eol_rr[0]))
    np.testing.assert_array_equal(m.eol_rir[0], [0.0, 0.0])
    assert m.elements == ("X1", "X2")
    assert r.check_mass_balance() <= 1e-12


_frac = st.floats(0.0, 1.0)


@settings(max_examples=40, deadline=None)
@given(
    sales=hnp.arrays(
        float,
        st.tuples(st.integers(1, 3), st.integers(1, 25)),
        elements=st.floats(0.0, 1e4, allow_subnormal=False),
    ),
    rates=hnp.arrays(float, 7, elements=_frac),
    by_year=hnp.arrays(float, 25, elements=_frac),
    comp=hnp.arrays(float, 3, elements=st.floats(0.0, 0.33)),
    mean=st.floats(2.0, 30.0),
)
def test_chain_mass_balance_property(sales, rates, by_year, comp, mean) -> None:
    n_sec, T = sales.shape
    collection = np.broadcast_to(by_year[:T], (n_sec, T))  # varies by year
    r = recycling_chain(
        sales,
        Lifetime.normal(mean * np.ones((n_sec, 1)), mean / 3),
        np.tile(comp, (n_sec, 1)),
        ["e1", "e2", "e3"],
        collection_rate=collection,
        dismantling_share=rates[0],
        dismantling_yield=rates[1],
        shredding_yield=rates[2],
        short_loop_share=rates[3],
        short_loop_recovery=rates[4],
        long_loop_recovery=[rates[5], 1.0, 0.0],
        swarf_rate=min(rates[6], 0.9),
        swarf_recovery=0.5,
    )
    scale = max(1.0, float(sales.max()))
    # independent totals over the whole horizon, by element
    by_el = sales[..., None] * comp
    eol_el = r.eol_by_element
    np.testing.assert_allclose(
        by_el.sum(-2), r.stock_by_element[:, -1] + eol_el.sum(-2), rtol=1e-9, atol=1e-9 * scale
    )
    np.testing.assert_allclose(r.uncollected_by_element, r.uncollected[..., None] * comp)
    parts = r.uncollected_by_element
    total = (
        parts
        + r.recycled_short_by_element
        + r.recycled_long_by_element
        + r.loss_preprocessing_by_element
        + r.loss_short_loop_by_element
        + r.loss_long_loop_by_element
    )
    np.testing.assert_allclose(total, eol_el, rtol=1e-9, atol=1e-9 * scale)
    for name in ["collected", "liberated", "recycled_short", "to_long_loop", "uncollected"]:
        assert np.all(getattr(r, name) >= -1e-9 * scale), name
    m = recycling_metrics(r)
    for v in (m.eol_rir, m.recycled_content, m.demand_share, m.eol_rr):
        assert np.all(v[~np.isnan(v)] >= 0)
    # only the EoL recycling rate is bounded by 1 every year (recycled inputs can exceed a
    # year's demand when sales fall)
    assert np.all(m.eol_rr[~np.isnan(m.eol_rr)] <= 1 + 1e-9)
    both = ~np.isnan(m.eol_rir)
    assert np.all(m.recycled_content[both] >= m.eol_rir[both] * (1 - 1e-12))
    assert np.all(m.demand_share[both] >= m.eol_rir[both] * (1 - 1e-12))


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"collection_rate": 1.2}, "collection_rate"),
        ({"shredding_yield": -0.1}, "shredding_yield"),
        ({"swarf_rate": 1.0}, "swarf_rate"),
        ({"short_loop_recovery": np.nan}, "short_loop_recovery"),
        # per-sector values must be [sector, 1] (here 3 sectors against 4 years)
        ({"collection_rate": [0.1, 0.2, 0.3]}, "collection_rate"),
        ({"long_loop_recovery": [0.9, 0.9, 0.9]}, "long_loop_recovery"),
    ],
)
def test_bad_rates_raise(change: dict, path: str) -> None:
    kw = {**BASE, **change}
    with pytest.raises(RareflowInputError) as exc:
        recycling_chain(np.full((1, 4), 10.0), Lifetime.fixed(2), [[0.3, 0.7]], ["a", "b"], **kw)
    assert exc.value.problems[0].path == path


@pytest.mark.parametrize(
    ("args", "path"),
    [
        ((np.full((1, 4), -1.0), [[0.3, 0.7]], ["a", "b"]), "sales"),
        ((np.full(4, 1.0), [[0.3, 0.7]], ["a", "b"]), "sales"),
        ((np.full((1, 4), 1.0), [[0.3, 0.7]], ["a", "a"]), "elements"),
        ((np.full((1, 4), 1.0), [[0.3, 0.7, 0.1]], ["a", "b"]), "composition"),
        ((np.full((1, 4), 1.0), [[0.6, 0.7]], ["a", "b"]), "composition"),
        ((np.full((2, 4), 1.0), [[0.3, 0.7]] * 3, ["a", "b"]), "composition"),
        # lifetime by 3 sectors against 2 sectors of sales
        ((np.full((2, 4), 1.0), [[0.3, 0.7]], ["a", "b"]), "sales"),
    ],
)
def test_bad_arrays_raise(args, path: str) -> None:
    sales, comp, els = args
    lt = Lifetime.fixed(np.full((3, 1), 2.0)) if path == "sales" else Lifetime.fixed(2)
    with pytest.raises(RareflowInputError) as exc:
        recycling_chain(sales, lt, comp, els, **BASE)
    assert exc.value.problems[0].path == path


def test_composition_by_grade() -> None:
    # two grades (e.g. with and without a heavy element), two sectors mixing them
    by_grade = np.array([[0.30, 0.00], [0.25, 0.06]])  # [grade, element]
    share = np.array([[1.0, 0.0], [0.4, 0.6]])  # [sector, grade]
    sales = np.array([[10.0, 10.0, 10.0], [5.0, 5.0, 5.0]])
    kw = {**BASE, "long_loop_recovery": 0.9}
    r = recycling_chain(sales, Lifetime.fixed(1), by_grade, ["x", "y"], grade_share=share, **kw)
    expected = np.array([[0.30, 0.0], [0.4 * 0.30 + 0.6 * 0.25, 0.6 * 0.06]])
    np.testing.assert_allclose(r.stock_by_element[:, 0], sales[:, :1] * expected, rtol=1e-12)
    with pytest.raises(RareflowInputError) as exc:
        recycling_chain(
            sales, Lifetime.fixed(1), by_grade, ["x", "y"], grade_share=[[0.5, 0.4]] * 2, **kw
        )
    assert exc.value.problems[0].path == "grade_share"
