"""A pure-array end-of-life recycling chain for magnets contained in products.

Chain (every flow in t/yr of magnet mass, "t NdFeB", unless *by element*)::

    manufacturing input ──► products sold ──► in-use stock ──► end of life (EoL)
         │  ▲                                                     │
         │  └── swarf recycled in house                           ├─► uncollected (lost)
         └──► swarf lost                                          ▼
                                                              collected
                              ┌───────────────────────────────────┤
                       manual dismantling (yield)          shredding (yield)
                              └─────────────► liberated ◄─────────┘   (rest: pre-processing loss)
                                                │
                          short loop (magnet → alloy/magnet)    long loop (→ separated oxides)
                          recovery: one share of the alloy      recovery: per element

Definitions

* ``input = sales / (1 - swarf_rate)``; ``swarf = swarf_rate * input``; the share
  ``swarf_recovery`` of swarf is recycled in house (new scrap), the rest is lost.
* In-use stock from :func:`rareflow.stocks.inflow_driven` with the sales as inflow.
* ``collected = collection_rate * EoL``; of it ``dismantling_share`` is dismantled by
  hand and the rest shredded; ``liberated = dismantled * dismantling_yield + shredded *
  shredding_yield``. ``short_loop_share`` of the liberated magnets goes to the short loop,
  which recovers ``short_loop_recovery`` of them as alloy (all elements alike); the rest
  goes to the long loop, which recovers ``long_loop_recovery[element]`` of each element.
* Element flows are magnet mass times the sector's composition (mass fractions; they
  need not sum to 1 when only some elements are tracked). Compositions may be given by
  magnet grade with each sector's grade shares.

Mass balances, checked (1e-9 relative): ``sales = Δstock + EoL``; ``EoL = collected +
uncollected``; ``collected = liberated + pre-processing loss``; ``liberated = to short
loop + to long loop``; by element ``collected = recovered short + recovered long +
losses (pre-processing + short loop + long loop)``; ``input = sales + swarf``.

No element names are built in: they are data, passed in ``elements``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from rareflow.engines.stocks.dynamic import (
    DynamicStockResult,
    InflowAt,
    _check_array,
    inflow_driven,
)
from rareflow.engines.stocks.lifetime import Lifetime
from rareflow.errors import MassBalanceError, RareflowInputError

__all__ = ["RecyclingChainResult", "RecyclingMetrics", "recycling_chain", "recycling_metrics"]

_RTOL = 1e-9


def _fraction(value: Any, name: str, shape: tuple[int, ...], axes: str, *, upper: float = 1.0,
              open_upper: bool = False) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise RareflowInputError.single(
            f"must be a fraction 0..1 or an array of them, got {type(value).__name__}", path=name
        ) from None
    if not np.all(np.isfinite(arr)):
        raise RareflowInputError.single("must be finite (no NaN or inf)", path=name)
    too_high = arr >= upper if open_upper else arr > upper
    if np.any(arr < 0) or np.any(too_high):
        bound = f"< {upper:g}" if open_upper else f"<= {upper:g}"
        raise RareflowInputError.single(
            f"must be a fraction >= 0 and {bound}, got range {arr.min():g}..{arr.max():g}",
            path=name,
        )
    try:
        return np.broadcast_to(arr, np.broadcast_shapes(arr.shape, shape))
    except ValueError:
        raise RareflowInputError.single(
            f"shape {arr.shape} does not broadcast to {axes} {shape}; give a per-sector "
            "constant as shape [sector, 1]",
            path=name,
        ) from None


@dataclass(frozen=True)
class RecyclingChainResult:
    """Flows and stocks of :func:`recycling_chain`.

    Magnet-mass arrays are ``[..., sector, year]`` in t/yr (stocks in t); ``*_by_element``
    arrays are ``[..., sector, year, element]`` in t/yr of the element (stocks in t).
    """

    elements: tuple[str, ...]
    sales: np.ndarray
    manufacturing_input: np.ndarray
    swarf: np.ndarray
    swarf_recycled: np.ndarray
    swarf_lost: np.ndarray
    stock: np.ndarray
    eol: np.ndarray
    collected: np.ndarray
    uncollected: np.ndarray
    dismantled: np.ndarray
    shredded: np.ndarray
    liberated: np.ndarray
    loss_preprocessing: np.ndarray
    to_short_loop: np.ndarray
    to_long_loop: np.ndarray
    recycled_short: np.ndarray
    loss_short_loop: np.ndarray
    stock_by_element: np.ndarray
    eol_by_element: np.ndarray
    collected_by_element: np.ndarray
    uncollected_by_element: np.ndarray
    recycled_short_by_element: np.ndarray
    recycled_long_by_element: np.ndarray
    loss_preprocessing_by_element: np.ndarray
    loss_short_loop_by_element: np.ndarray
    loss_long_loop_by_element: np.ndarray
    manufacturing_input_by_element: np.ndarray
    swarf_recycled_by_element: np.ndarray
    stock_model: DynamicStockResult = field(repr=False)

    @property
    def recycled_eol_by_element(self) -> np.ndarray:
        """Elements recovered from end-of-life magnets by both loops, t/yr."""
        return self.recycled_short_by_element + self.recycled_long_by_element

    def check_mass_balance(self, rtol: float = _RTOL) -> float:
        """Largest relative residual of the chain's balances; raises above ``rtol``."""
        dstock = self.stock_model.stock_change
        el = self.collected_by_element
        checks = {
            "sales = stock change + EoL": (self.sales, dstock + self.eol),
            "EoL = collected + uncollected": (self.eol, self.collected + self.uncollected),
            "collected = liberated + pre-processing loss": (
                self.collected, self.liberated + self.loss_preprocessing),
            "collected = dismantled + shredded": (self.collected, self.dismantled + self.shredded),
            "liberated = short loop + long loop": (
                self.liberated, self.to_short_loop + self.to_long_loop),
            "short loop = recycled + loss": (
                self.to_short_loop, self.recycled_short + self.loss_short_loop),
            "input = sales + swarf": (self.manufacturing_input, self.sales + self.swarf),
            "swarf = recycled + lost": (self.swarf, self.swarf_recycled + self.swarf_lost),
            "collected = recovered + losses (by element)": (
                el,
                self.recycled_short_by_element + self.recycled_long_by_element
                + self.loss_preprocessing_by_element + self.loss_short_loop_by_element
                + self.loss_long_loop_by_element,
            ),
        }
        worst = 0.0
        for name, (a, b) in checks.items():
            scale = max(float(np.abs(a).max(initial=0.0)), float(np.abs(self.sales).max()), 1e-300)
            err = float(np.abs(a - b).max(initial=0.0)) / scale
            if not err <= rtol:
                raise MassBalanceError(f"recycling chain: {name} off by {err:.3g} (relative)")
            worst = max(worst, err)
        return worst


def recycling_chain(
    sales: Any,
    lifetime: Lifetime,
    composition: Any,
    elements: Sequence[str],
    *,
    collection_rate: Any,
    dismantling_share: Any,
    dismantling_yield: Any,
    shredding_yield: Any,
    short_loop_share: Any,
    short_loop_recovery: Any,
    long_loop_recovery: Any,
    swarf_rate: Any = 0.0,
    swarf_recovery: Any = 0.0,
    grade_share: Any = None,
    inflow_at: InflowAt = "middle",
    initial_stock_by_age: Any = None,
    check: bool = True,
) -> RecyclingChainResult:
    """Run the end-of-life recycling chain on arrays.

    Parameters
    ----------
    sales : array_like [..., sector, year], t/yr
        Magnet mass (t NdFeB) contained in products sold, >= 0.
    lifetime : Lifetime
        Product lifetime; parameters broadcast to ``[..., sector, cohort]`` (per-sector
        values as shape ``[sector, 1]``).
    composition : array_like [..., sector, element] or [grade, element], fraction
        Mass fraction of each element in the sector's magnets (row sums <= 1); by grade
        when ``grade_share`` is given.
    elements : sequence of str
        Element names, one per last axis of ``composition`` (data, e.g. from a scenario).
    collection_rate, dismantling_share, dismantling_yield, shredding_yield, short_loop_share,
    short_loop_recovery, swarf_recovery : array_like, fraction 0..1
        Broadcastable to ``[..., sector, year]`` (see the module docstring).
    long_loop_recovery : array_like, fraction 0..1
        Broadcastable to ``[..., sector, year, element]`` (a scalar or one per element).
    swarf_rate : array_like, fraction 0..1 (< 1)
        Swarf per t of magnet input to manufacturing, broadcastable to ``[..., sector, year]``.
    grade_share : array_like [..., sector, grade], fraction, optional
        Share of each magnet grade in a sector's magnet mass (sums to 1 over grades);
        the sector's composition is then ``grade_share @ composition``.
    inflow_at, initial_stock_by_age
        Passed to :func:`rareflow.stocks.inflow_driven` (``initial_stock_by_age``
        ``[..., sector, age]``, t).
    check : bool
        Assert every mass balance to 1e-9 relative.

    Returns
    -------
    RecyclingChainResult

    Examples
    --------
    >>> import numpy as np
    >>> from rareflow.stocks import Lifetime
    >>> r = recycling_chain(np.full((1, 4), 10.0), Lifetime.fixed(2), [[0.3, 0.7]], ["A", "B"],
    ...     collection_rate=0.5, dismantling_share=1.0, dismantling_yield=0.9,
    ...     shredding_yield=0.1, short_loop_share=1.0, short_loop_recovery=0.8,
    ...     long_loop_recovery=0.9, inflow_at="end")
    >>> r.eol.tolist(), r.recycled_short.tolist()
    ([[0.0, 0.0, 10.0, 10.0]], [[0.0, 0.0, 3.6, 3.6]])
    """
    s = _check_array(sales, "sales", "year")
    if s.ndim < 2:
        raise RareflowInputError.single(
            f"must be an array [..., sector, year] with at least 2 axes, got shape {s.shape}",
            path="sales",
        )
    elements = tuple(elements)
    if len(set(elements)) != len(elements) or not all(isinstance(e, str) for e in elements):
        raise RareflowInputError.single(
            "must be a sequence of distinct strings (element names)", path="elements"
        )
    comp = np.asarray(composition, dtype=float)
    if comp.ndim < 2 or comp.shape[-1] != len(elements):
        raise RareflowInputError.single(
            f"must be [..., sector, element] with {len(elements)} elements on the last axis "
            f"(one per name in elements), got shape {comp.shape}",
            path="composition",
        )
    if not np.all(np.isfinite(comp)) or np.any(comp < 0) or np.any(comp.sum(axis=-1) > 1 + 1e-12):
        raise RareflowInputError.single(
            "must hold finite mass fractions >= 0 whose sum over elements is <= 1",
            path="composition",
        )
    if grade_share is not None:
        gs = np.asarray(grade_share, dtype=float)
        if gs.ndim < 2 or gs.shape[-1] != comp.shape[-2]:
            raise RareflowInputError.single(
                f"must be [..., sector, grade] with {comp.shape[-2]} grades on the last axis "
                f"(one per row of composition), got shape {gs.shape}",
                path="grade_share",
            )
        if (
            not np.all(np.isfinite(gs))
            or np.any(gs < 0)
            or np.any(np.abs(gs.sum(axis=-1) - 1.0) > 1e-9)
        ):
            raise RareflowInputError.single(
                "must hold finite shares >= 0 that sum to 1 over grades for every sector",
                path="grade_share",
            )
        comp = gs @ comp  # [..., sector, element]
    try:
        stock_model = inflow_driven(
            s, lifetime, inflow_at, initial_stock_by_age=initial_stock_by_age, check=check
        )
    except RareflowInputError as err:  # our argument is called sales, not inflow
        raise RareflowInputError(
            [replace(p, path="sales") if p.path == "inflow" else p for p in err.problems]
        ) from None
    shape = stock_model.stock.shape  # [..., sector, year]
    if comp.shape[-2] not in (1, shape[-2]):
        raise RareflowInputError.single(
            f"has {comp.shape[-2]} sectors; sales have {shape[-2]}", path="composition"
        )
    axes = "[..., sector, year]"
    cr = _fraction(collection_rate, "collection_rate", shape, axes)
    ds = _fraction(dismantling_share, "dismantling_share", shape, axes)
    dy = _fraction(dismantling_yield, "dismantling_yield", shape, axes)
    sy = _fraction(shredding_yield, "shredding_yield", shape, axes)
    ss = _fraction(short_loop_share, "short_loop_share", shape, axes)
    sr = _fraction(short_loop_recovery, "short_loop_recovery", shape, axes)
    swr = _fraction(swarf_rate, "swarf_rate", shape, axes, open_upper=True)
    swc = _fraction(swarf_recovery, "swarf_recovery", shape, axes)
    ell = _fraction(
        long_loop_recovery, "long_loop_recovery", shape + (len(elements),),
        "[..., sector, year, element]",
    )

    sales_b = np.array(np.broadcast_to(s, shape))  # own copy
    eol = stock_model.outflow
    collected = eol * cr
    uncollected = eol - collected
    dismantled = collected * ds
    shredded = collected - dismantled
    liberated = dismantled * dy + shredded * sy
    loss_pre = collected - liberated
    to_short = liberated * ss
    to_long = liberated - to_short
    rec_short = to_short * sr
    loss_short = to_short - rec_short
    mfg_input = sales_b / (1.0 - swr)
    swarf = mfg_input - sales_b
    swarf_rec = swarf * swc
    swarf_lost = swarf - swarf_rec

    c = comp[..., None, :]  # [..., sector, 1, element]

    def by_el(x: np.ndarray) -> np.ndarray:
        return x[..., None] * c

    long_el = by_el(to_long)
    rec_long_el = long_el * ell
    res = RecyclingChainResult(
        elements=elements,
        sales=sales_b,
        manufacturing_input=mfg_input,
        swarf=swarf,
        swarf_recycled=swarf_rec,
        swarf_lost=swarf_lost,
        stock=stock_model.stock,
        eol=eol,
        collected=collected,
        uncollected=uncollected,
        dismantled=dismantled,
        shredded=shredded,
        liberated=liberated,
        loss_preprocessing=loss_pre,
        to_short_loop=to_short,
        to_long_loop=to_long,
        recycled_short=rec_short,
        loss_short_loop=loss_short,
        stock_by_element=by_el(stock_model.stock),
        eol_by_element=by_el(eol),
        collected_by_element=by_el(collected),
        uncollected_by_element=by_el(uncollected),
        recycled_short_by_element=by_el(rec_short),
        recycled_long_by_element=rec_long_el,
        loss_preprocessing_by_element=by_el(loss_pre),
        loss_short_loop_by_element=by_el(loss_short),
        loss_long_loop_by_element=long_el - rec_long_el,
        manufacturing_input_by_element=by_el(mfg_input),
        swarf_recycled_by_element=by_el(swarf_rec),
        stock_model=stock_model,
    )
    if check:
        res.check_mass_balance()
    return res


@dataclass(frozen=True)
class RecyclingMetrics:
    """Recycling indicators by element, summed over sectors: ``[..., year, element]``.

    Ratios are NaN where their denominator is 0. Only ``eol_rr`` is bounded by 1: in a
    year when sales fall, recycled end-of-life material can exceed that year's input.

    Attributes
    ----------
    eol_rir : end-of-life recycling input rate = EoL recycled / manufacturing input.
    recycled_content : (EoL recycled + swarf recycled in house) / manufacturing input.
    demand_share : EoL recycled / (manufacturing input - swarf recycled in house), the
        share of the material the magnet makers buy that recycling could supply.
    eol_rr : end-of-life recycling rate = EoL recycled / EoL (by element).
    """

    elements: tuple[str, ...]
    eol_rir: np.ndarray
    recycled_content: np.ndarray
    demand_share: np.ndarray
    eol_rr: np.ndarray


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(np.broadcast_shapes(num.shape, den.shape), np.nan)
    with np.errstate(over="ignore"):  # a vanishing denominator gives inf, by design
        np.divide(num, den, out=out, where=den > 0)
    return out


def recycling_metrics(result: RecyclingChainResult) -> RecyclingMetrics:
    """Recycling indicators of a :func:`recycling_chain` result (see
    :class:`RecyclingMetrics`), summed over sectors, ``[..., year, element]``.
    """
    eol_rec = result.recycled_eol_by_element.sum(axis=-3)
    new = result.swarf_recycled_by_element.sum(axis=-3)
    inp = result.manufacturing_input_by_element.sum(axis=-3)
    eol = result.eol_by_element.sum(axis=-3)
    return RecyclingMetrics(
        elements=result.elements,
        eol_rir=_ratio(eol_rec, inp),
        recycled_content=_ratio(eol_rec + new, inp),
        demand_share=_ratio(eol_rec, inp - new),
        eol_rr=_ratio(eol_rec, eol),
    )
