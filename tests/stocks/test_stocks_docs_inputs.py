"""Docstring examples run, and no function mutates or aliases its inputs."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import rareflow.engines.stocks.dynamic as dynamic
import rareflow.engines.stocks.lifetime as lifetime
import rareflow.engines.stocks.recycling as recycling
import rareflow.stocks as stocks
from rareflow.stocks import Lifetime, inflow_driven, recycling_chain, stock_driven


@pytest.mark.parametrize("module", [dynamic, lifetime, recycling, stocks])
def test_docstring_examples(module) -> None:
    res = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0
    assert res.failed == 0


def test_inputs_not_mutated_nor_aliased() -> None:
    rng = np.random.default_rng(0)
    inflow = rng.uniform(0, 2, (3, 15))
    stock = np.cumsum(inflow, axis=-1)
    stock[:, 10:] *= 0.3  # forces early retirement
    s0 = rng.uniform(0, 1, (3, 4))
    keep = [a.copy() for a in (inflow, stock, s0)]
    lt = Lifetime.normal(np.array([[5.0], [7.0], [9.0]]), 2.0)
    r = inflow_driven(inflow, lt, initial_stock_by_age=s0)
    s = stock_driven(stock, lt, initial_stock_by_age=s0)
    r.stock_by_cohort, r.outflow_by_cohort, s.stock_by_cohort, s.outflow_by_cohort  # noqa: B018
    for a, b in zip((inflow, stock, s0), keep, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.shares_memory(r.inflow, inflow)
    assert not np.shares_memory(s.stock, stock)
    assert s.early_retirement.sum() > 0
    sales = inflow.copy()
    recycling_chain(
        sales, Lifetime.fixed(4), [[0.3]], ["e"], collection_rate=0.5, dismantling_share=0.5,
        dismantling_yield=0.9, shredding_yield=0.1, short_loop_share=0.5,
        short_loop_recovery=0.9, long_loop_recovery=0.9,
    )
    np.testing.assert_array_equal(sales, inflow)
