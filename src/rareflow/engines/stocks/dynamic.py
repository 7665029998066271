"""Inflow-driven and stock-driven dynamic stock models on plain arrays.

Time is annual: the last axis of every flow/stock array is the model year (index
``t = 0 .. T-1``), earlier axes are any leading dimensions (region, sector, grade,
sample...), vectorised over.

Conventions (the same as flodym 1.x, so results agree with it):

* A cohort is the inflow of one year ``c``. Its survival at the end of year ``t >= c``
  is the lifetime survival function evaluated at the age

  ====================  ===============  ==========================================
  ``inflow_at``         age at end of t  meaning
  ====================  ===============  ==========================================
  ``"start"``           ``t - c + 1``    the inflow arrives at the start of year c
  ``"middle"``          ``t - c + 1/2``  ... in the middle of year c (default)
  ``"end"``             ``t - c``        ... at the end of year c
  ====================  ===============  ==========================================

  and 0 for ``t < c``. The cohort's own year counts: what does not survive to the end
  of year ``c`` leaves as outflow in year ``c``.
* ``stock[t]`` is the stock at the end of year ``t``; ``outflow[t]`` what left during
  year ``t``; ``inflow[t] - outflow[t] = stock[t] - stock[t-1]``, with ``stock[-1]``
  the total initial stock (0 without one).
* Initial stock: ``initial_stock_by_age[..., a]`` is the stock in use at the end of the
  year before the first model year, of age ``a`` (it entered in year ``-1 - a``). Its
  later survival is the lifetime's survival conditional on having reached that age:
  ``S(age_t) / S(age_-1)``; a unit older than the lifetime allows (``S = 0``) leaves
  in the first model year. Historic cohorts use the lifetime parameters of the first
  model cohort. In cohort tables they come first, ordered by cohort year: the cohort
  axis then has ``A + T`` entries, cohort years ``-A .. T-1`` (column ``j < A`` holds
  age ``A - 1 - j``; see :attr:`DynamicStockResult.cohorts`).
* Stock-driven early retirement: when the stock falls faster than the surviving
  cohorts retire (the inflow would be negative), the inflow of that year is 0 and the
  excess ``surviving - stock`` is retired early, **pro rata** from every cohort in use
  (each keeps the same share ``stock / surviving``; the cohorts' later survival follows
  the lifetime from the reduced amount). It is reported in ``early_retirement`` and is
  part of ``outflow``. Inflows are never negative.

Algorithms: when the lifetime parameters do not vary by leading dimension, one survival
matrix ``[year, cohort]`` is shared: ``stock = inflow @ S.T`` and the stock-driven
inflow is one triangular solve with all series as right-hand sides. When they vary by
leading dimension, series sharing parameters are processed together (one matrix per
group); when nearly every series has its own parameters, series are processed in
memory-bounded chunks: by age as a causal convolution if the parameters do not vary by
cohort, else with per-series matrices. Cohort tables are computed only when asked for.

Not supported (flodym has them): uneven time steps, sub-annual quadrature
(``n_pts_per_interval > 1``) and lifetime-extension factors by year or cohort.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Any, Literal

import numpy as np
from scipy.linalg import solve_triangular

from rareflow._threads import single_threaded
from rareflow.engines.stocks.lifetime import Lifetime
from rareflow.errors import MassBalanceError, RareflowInputError

__all__ = ["DynamicStockResult", "inflow_driven", "stock_driven"]

InflowAt = Literal["start", "middle", "end"]
_AGE_OFFSET = {"start": 1.0, "middle": 0.5, "end": 0.0}
_BALANCE_RTOL = 1e-9
_CHUNK_BYTES = 48 * 2**20  # working memory of one chunk of per-series survival matrices


# --------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------
def _check_array(value: Any, name: str, what: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise RareflowInputError.single(
            f"must be an array of numbers [..., {what}], got {type(value).__name__}", path=name
        ) from None
    if arr.ndim == 0:
        raise RareflowInputError.single(
            f"must be an array with a last axis '{what}', got a scalar", path=name
        )
    if arr.shape[-1] == 0:
        raise RareflowInputError.single(f"the '{what}' axis (last) must not be empty", path=name)
    if not np.all(np.isfinite(arr)):
        raise RareflowInputError.single("must be finite (no NaN or inf)", path=name)
    if np.any(arr < 0):
        raise RareflowInputError.single(
            f"must be >= 0 (t or t/yr), got minimum {arr.min():g}", path=name
        )
    return arr


def _check_inputs(
    values: np.ndarray,
    values_name: str,
    lifetime: Any,
    inflow_at: Any,
    initial_stock_by_age: Any,
) -> tuple[float, np.ndarray | None, tuple[int, ...]]:
    if not isinstance(lifetime, Lifetime):
        raise RareflowInputError.single(
            "must be a rareflow.stocks.Lifetime (e.g. Lifetime.normal(mean=15, sd=5)), "
            f"got {type(lifetime).__name__}",
            path="lifetime",
        )
    if not isinstance(inflow_at, str) or inflow_at not in _AGE_OFFSET:
        raise RareflowInputError.single(
            f"unknown value {inflow_at!r}; allowed: 'start', 'middle', 'end'", path="inflow_at"
        )
    n_years = values.shape[-1]
    lt_shape = lifetime.shape or (1,)
    if lt_shape[-1] not in (1, n_years):
        raise RareflowInputError.single(
            f"parameters have a cohort axis (last) of length {lt_shape[-1]}; allowed: 1 or the "
            f"number of years of {values_name} ({n_years}). To vary by a leading dimension "
            "only, give the parameter a trailing axis of length 1",
            path="lifetime",
        )
    shapes = [values.shape[:-1], lt_shape[:-1]]
    s0 = None
    if initial_stock_by_age is not None:
        s0 = _check_array(initial_stock_by_age, "initial_stock_by_age", "age")
        shapes.append(s0.shape[:-1])
    try:
        lead = np.broadcast_shapes(*shapes)
    except ValueError:
        names = [values_name, "lifetime", "initial_stock_by_age"]
        desc = ", ".join(f"{n} {s}" for n, s in zip(names, shapes, strict=False))
        raise RareflowInputError.single(
            f"leading dimensions (all but the last axis) do not broadcast: {desc}",
            path=values_name,
        ) from None
    return _AGE_OFFSET[inflow_at], s0, lead


# --------------------------------------------------------------------------------------
# survival matrices on the model grid
# --------------------------------------------------------------------------------------
class _Grid:
    """A lifetime evaluated on a model's annual grid, for flattened series ``[n, ...]``.

    Survival matrices have shape ``[year, A + T]``: ``A`` historic cohorts (initial stock
    by age A-1..0, i.e. cohort years -A..-1, *conditional* survival) then the ``T``
    model cohorts.
    """

    def __init__(
        self, lifetime: Lifetime, n_years: int, n_ages: int, offset: float, lead: tuple[int, ...]
    ) -> None:
        self.lifetime = lifetime
        self.T = n_years
        self.A = n_ages
        self.offset = offset
        full = lifetime.shape or (1,)
        self.n_cohort_params = full[-1]
        plead = full[:-1]
        self.G = int(np.prod(plead, dtype=np.int64))
        self.rows = {
            k: np.broadcast_to(v, full).reshape(self.G, full[-1])
            for k, v in lifetime.params.items()
        }
        self.N = int(np.prod(lead, dtype=np.int64))
        if self.G == 1:
            self.mode = "shared"
            self.gid = None
        else:
            self.gid = np.broadcast_to(np.arange(self.G).reshape(plead), lead).ravel()
            self.mode = "grouped" if self.N >= 4 * self.G else "series"
        # per-series parameters that do not vary by cohort: survival depends on age only,
        # so totals are causal convolutions over age (no [year, cohort] matrices)
        self.by_age = self.mode == "series" and self.n_cohort_params == 1

    def age_survival(self, rows: slice) -> np.ndarray:
        """Survival at whole ages 0 .. T+A-1 (+ offset) of series ``rows``, ``[k, T+A]``."""
        p0 = {n: r[self.gid[rows], :1] for n, r in self.rows.items()}
        ages = np.arange(self.T + self.A, dtype=float)[None, :] + self.offset
        return self.lifetime.survival(ages, p0)

    def row_chunks(self) -> Iterator[slice]:
        step = max(1, 2**16 // (self.T + self.A))
        for i in range(0, self.N, step):
            yield slice(i, min(i + step, self.N))

    # -- matrices ------------------------------------------------------------------------
    def survival(self, groups: np.ndarray) -> np.ndarray:
        """Survival matrices ``[k, year, A + T]`` for parameter groups ``groups [k]``."""
        T, A, off = self.T, self.A, self.offset
        k = len(groups)
        p = {n: r[groups] for n, r in self.rows.items()}
        p0 = {n: r[:, :1] for n, r in p.items()}  # first cohort's parameters
        sf = np.zeros((k, T, A + T))
        t_idx = np.arange(T)
        if self.n_cohort_params == 1 or A:
            # survival by whole age, 0 .. T + A - 1 (+ offset), per group
            s = self.lifetime.survival(np.arange(T + A, dtype=float)[None, :] + off, p0)
            s = np.broadcast_to(s, (k, T + A))
            if A:
                age = np.arange(A)[::-1]  # historic columns: oldest cohort first
                num = s[:, t_idx[:, None] + 1 + age[None, :]]  # [k, T, A]
                den = s[:, None, age]
                with np.errstate(divide="ignore", invalid="ignore"):
                    sf[:, :, :A] = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
        if self.n_cohort_params == 1:
            ti, ci = np.tril_indices(T)
            sf[:, ti, A + ci] = s[:, ti - ci]
        else:
            ti, ci = np.tril_indices(T)
            age = (ti - ci).astype(float) + off
            pc = {n: r[:, ci] for n, r in p.items()}
            sf[:, ti, A + ci] = self.lifetime.survival(age[None, :], pc)
        return sf

    def outflow_share(self, sf: np.ndarray) -> np.ndarray:
        """Share of each cohort leaving in each year, ``[k, year, A + T]``, from ``sf``."""
        A, T = self.A, self.T
        pdf = np.empty_like(sf)
        pdf[:, 0, :] = -sf[:, 0, :]
        np.subtract(sf[:, :-1, :], sf[:, 1:, :], out=pdf[:, 1:, :])
        pdf[:, 0, :A] += 1.0
        d = np.arange(T)
        pdf[:, d, A + d] += 1.0
        return pdf

    @cached_property
    def shared(self) -> tuple[np.ndarray, np.ndarray]:
        sf = self.survival(np.zeros(1, dtype=np.intp))
        return sf[0], self.outflow_share(sf)[0]

    def blocks(self, need_pdf: bool = True) -> Iterator[tuple[Any, np.ndarray, np.ndarray | None]]:
        """Yield ``(rows, sf, pdf)``: ``sf`` is ``[year, A+T]`` shared by ``rows`` or
        ``[k, year, A+T]``, one per row (``rows`` then a slice)."""
        if self.mode == "shared":
            sf, pdf = self.shared
            yield slice(None), sf, pdf
        elif self.mode == "grouped":
            order = np.argsort(self.gid, kind="stable")
            bounds = np.concatenate([[0], np.cumsum(np.bincount(self.gid, minlength=self.G))])
            for g in range(self.G):
                if bounds[g + 1] == bounds[g]:
                    continue
                sf = self.survival(np.array([g]))
                pdf = self.outflow_share(sf)[0] if need_pdf else None
                yield order[bounds[g] : bounds[g + 1]], sf[0], pdf
        else:
            per_series = self.T * (self.A + self.T) * 8 * 4
            step = max(1, _CHUNK_BYTES // per_series)
            for i in range(0, self.N, step):
                rows = slice(i, min(i + step, self.N))
                sf = self.survival(self.gid[rows])
                yield rows, sf, (self.outflow_share(sf) if need_pdf else None)


def _apply(mat: np.ndarray, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``sum_c mat[..., t, c] * x[n, c]`` for a shared ``[t, c]`` or per-row ``[n, t, c]``."""
    if mat.ndim == 2:
        return np.matmul(x, mat.T, out=out)
    res = np.matmul(mat, x[:, :, None])[:, :, 0]
    if out is not None:
        out[...] = res
        return out
    return res


def _put(dest: np.ndarray, rows: Any, mat: np.ndarray, x: np.ndarray) -> None:
    """``dest[rows] = _apply(mat, x)``, in place where ``rows`` is a slice."""
    if isinstance(rows, slice):
        _apply(mat, x, out=dest[rows])
    else:
        dest[rows] = _apply(mat, x)


def _lag_sum(coef: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Causal convolution per row: ``out[n, t] = sum_{a <= t} coef[n, a] * x[n, t - a]``."""
    n, T = x.shape
    # work year-major ([T, n]) so that every step runs over one contiguous block
    cT = np.ascontiguousarray(coef[:, :T].T)
    xT = np.ascontiguousarray(x.T)
    out = np.zeros((T, n))
    buf = np.empty((T, n))
    for a in range(T):
        m = T - a
        np.multiply(cT[a], xT[:m], out=buf[:m])
        out[a:] += buf[:m]
    return out.T


def _lag_solve(s: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``_lag_sum(s, x) = rhs`` for ``x`` by forward substitution, ``[n, T]``."""
    n, T = rhs.shape
    sT = np.ascontiguousarray(s[:, :T].T)
    xT = np.empty((T, n))
    for t in range(T):
        acc = np.einsum("an,an->n", sT[1 : t + 1], xT[t - 1 :: -1]) if t else 0.0
        xT[t] = (rhs[:, t] - acc) / sT[0]
    return xT.T


def _age_outflow_share(s: np.ndarray, T: int) -> np.ndarray:
    """Share of a cohort leaving at age index a: ``1 - s[0]``, then ``s[a-1] - s[a]``."""
    p = np.empty((s.shape[0], T))
    p[:, 0] = 1.0 - s[:, 0]
    np.subtract(s[:, : T - 1], s[:, 1:T], out=p[:, 1:])
    return p


def _historic_by_age(s: np.ndarray, x0: np.ndarray, T: int) -> tuple[np.ndarray, np.ndarray]:
    """Stock and outflow ``[n, T]`` of initial stock ``x0 [n, A]`` (oldest cohort first)."""
    n, A = x0.shape
    stock = np.zeros((n, T))
    outflow = np.zeros((n, T))
    for j in range(A):
        age = A - 1 - j
        den = s[:, age]
        ok = den > 0
        ratio = s[:, age + 1 : age + 1 + T] / np.where(ok, den, 1.0)[:, None]
        ratio[~ok] = 0.0
        stock += x0[:, j, None] * ratio
        share = np.empty((n, T))
        share[:, 0] = 1.0 - ratio[:, 0]
        np.subtract(ratio[:, :-1], ratio[:, 1:], out=share[:, 1:])
        outflow += x0[:, j, None] * share
    return stock, outflow


# --------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------
class DynamicStockResult:
    """Result of :func:`inflow_driven` or :func:`stock_driven`.

    Attributes
    ----------
    inflow, outflow, stock : ndarray [..., year]
        Flows in t/yr, stock at the end of each year in t.
    early_retirement : ndarray [..., year], t/yr
        Part of ``outflow`` retired before its lifetime to follow a falling stock
        (stock-driven only; zeros otherwise).
    initial_stock : ndarray [...], t
        Total initial stock (end of the year before the first model year).
    cohorts : ndarray [cohort], int
        Cohort years relative to the first model year: ``-A .. T-1`` (``A`` = number of
        initial-stock ages, 0 without one).
    stock_by_cohort, outflow_by_cohort : ndarray [..., year, cohort]
        Cohort tables (t and t/yr), computed on first access.
    """

    def __init__(
        self,
        grid: _Grid,
        lead: tuple[int, ...],
        x_ext: np.ndarray,
        stock: np.ndarray,
        outflow: np.ndarray,
        er_rows: np.ndarray,
        er_factor: np.ndarray,
        early_retirement: np.ndarray,
    ) -> None:
        T, A = grid.T, grid.A
        self._grid = grid
        self._lead = lead
        self._x = x_ext  # [N, A + T], initial stock by age then inflows
        self._er_rows = er_rows
        self._er_factor = er_factor
        self.inflow = x_ext[:, A:].reshape(lead + (T,))
        self.stock = stock.reshape(lead + (T,))
        self.outflow = outflow.reshape(lead + (T,))
        self.early_retirement = early_retirement.reshape(lead + (T,))
        self.initial_stock = x_ext[:, :A].sum(axis=1).reshape(lead)
        self.cohorts = np.arange(-A, T)
        self.inflow_at = {v: k for k, v in _AGE_OFFSET.items()}[grid.offset]
        self.lifetime = grid.lifetime

    @property
    def stock_change(self) -> np.ndarray:
        """``stock[t] - stock[t-1]`` [..., year], t/yr (``stock[-1]`` = initial stock)."""
        return np.diff(self.stock, axis=-1, prepend=self.initial_stock[..., None])

    def check_mass_balance(self, rtol: float = _BALANCE_RTOL) -> float:
        """Largest ``|inflow - outflow - stock change|`` relative to the series' scale.

        Raises :class:`~rareflow.errors.MassBalanceError` above ``rtol``.
        """
        T = self._grid.T
        inflow = self.inflow.reshape(-1, T)
        outflow = self.outflow.reshape(-1, T)
        stock = self.stock.reshape(-1, T)
        s0 = self.initial_stock.reshape(-1)
        parts = [0.0]
        step = max(1, 2**16 // T)  # row chunks: temporaries stay small and in cache
        for i in range(0, len(inflow), step):
            rows = slice(i, i + step)
            a, s = inflow[rows], stock[rows]
            resid = a - outflow[rows]
            resid[:, 1:] -= s[:, 1:]
            resid[:, 1:] += s[:, :-1]
            resid[:, 0] -= s[:, 0] - s0[rows]
            np.abs(resid, out=resid)
            # inflow, stock and initial stock are >= 0 and bound the outflow
            scale = np.maximum(a.max(axis=1), s.max(axis=1))
            np.maximum(scale, s0[rows], out=scale)
            scale[scale == 0] = 1.0
            parts.append(float((resid.max(axis=1) / scale).max()))
        worst = float(np.max(parts))  # NaN propagates and fails the test below
        if not worst <= rtol:
            raise MassBalanceError(
                f"dynamic stock model breaks the mass balance: relative residual {worst:.3g} "
                f"> {rtol:g}"
            )
        return worst

    @single_threaded
    def _table(self, which: str) -> np.ndarray:
        g = self._grid
        T, K = g.T, g.A + g.T
        out = np.empty((g.N, T, K))
        step = max(1, _CHUNK_BYTES // (T * K * 8))
        for rows, sf, pdf in g.blocks(need_pdf=which == "outflow"):
            mat = sf if which == "stock" else pdf
            if isinstance(rows, slice):
                x = self._x[rows]
                np.multiply(x[:, None, :], mat, out=out[rows])
            else:  # a parameter group's rows: bounded temporaries
                for i in range(0, len(rows), step):
                    r = rows[i : i + step]
                    out[r] = self._x[r][:, None, :] * mat
        step = max(1, _CHUNK_BYTES // (T * K * 8 * 3))
        for i in range(0, len(self._er_rows), step):
            self._replay(out, which, slice(i, i + step))
        return out.reshape(self._lead + (T, K))

    def _replay(self, out: np.ndarray, which: str, part: slice) -> None:
        """Cohort tables of the series with early retirement (pro rata factors)."""
        g = self._grid
        A, T = g.A, g.T
        rows = self._er_rows[part]
        factor = self._er_factor[part]
        k = len(rows)
        if g.mode == "shared":
            sf_all = np.broadcast_to(g.shared[0], (k, T, A + T))
            pdf_all = np.broadcast_to(g.shared[1], (k, T, A + T))
        else:
            sf_all = g.survival(g.gid[rows])
            pdf_all = g.outflow_share(sf_all)
        w = np.zeros((k, A + T))
        w[:, :A] = self._x[rows, :A]
        for t in range(T):
            nk = A + t
            w[:, nk] = self._x[rows, nk]
            f = factor[:, t]
            if which == "outflow":
                o = w * pdf_all[:, t, :]
                o[:, :nk] += (1.0 - f)[:, None] * w[:, :nk] * sf_all[:, t, :nk]
                out[rows, t, :] = o
            w[:, :nk] *= f[:, None]
            if which == "stock":
                out[rows, t, :] = w * sf_all[:, t, :]

    @cached_property
    def stock_by_cohort(self) -> np.ndarray:
        """Stock at the end of each year by cohort, ``[..., year, cohort]``, t."""
        return self._table("stock")

    @cached_property
    def outflow_by_cohort(self) -> np.ndarray:
        """Outflow in each year by cohort, ``[..., year, cohort]``, t/yr."""
        return self._table("outflow")

    def __repr__(self) -> str:
        return (
            f"DynamicStockResult(lead={self._lead}, years={self._grid.T}, "
            f"lifetime={self.lifetime!r}, inflow_at={self.inflow_at!r})"
        )


# --------------------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------------------
def _extended(values: np.ndarray, s0: np.ndarray | None, lead: tuple[int, ...]) -> np.ndarray:
    T = values.shape[-1]
    A = 0 if s0 is None else s0.shape[-1]
    x = np.empty(lead + (A + T,))
    x[..., A:] = values
    if A:
        x[..., :A] = s0[..., ::-1]  # by cohort year, oldest first
    return x.reshape(-1, A + T)


@single_threaded
def inflow_driven(
    inflow: Any,
    lifetime: Lifetime,
    inflow_at: InflowAt = "middle",
    *,
    initial_stock_by_age: Any = None,
    check: bool = True,
) -> DynamicStockResult:
    """Stock and outflow from a known inflow and a lifetime distribution.

    Parameters
    ----------
    inflow : array_like [..., year], t/yr
        Inflow to the in-use stock, >= 0, finite. Leading axes are any dimensions.
    lifetime : Lifetime
        Lifetime distribution; parameters broadcast to ``[..., cohort]``.
    inflow_at : {"start", "middle", "end"}
        When in the year the inflow arrives; survival is evaluated at age ``t - c + 1``,
        ``t - c + 1/2`` or ``t - c`` at the end of year ``t`` (flodym's conventions).
    initial_stock_by_age : array_like [..., age], t, optional
        Stock in use before the first model year, by age 0..A-1 (see module docstring).
    check : bool
        Assert ``inflow - outflow = stock change`` to 1e-9 relative.

    Returns
    -------
    DynamicStockResult
        ``stock``, ``outflow`` [..., year] (leading shape: inflow, lifetime and initial
        stock leading dims broadcast); cohort tables on access.

    Examples
    --------
    >>> import numpy as np
    >>> from rareflow.stocks import Lifetime, inflow_driven
    >>> r = inflow_driven(np.ones(3), Lifetime.fixed(2), inflow_at="end")
    >>> r.stock.tolist(), r.outflow.tolist()
    ([1.0, 2.0, 2.0], [0.0, 0.0, 1.0])
    """
    values = _check_array(inflow, "inflow", "year")
    offset, s0, lead = _check_inputs(values, "inflow", lifetime, inflow_at, initial_stock_by_age)
    T = values.shape[-1]
    A = 0 if s0 is None else s0.shape[-1]
    grid = _Grid(lifetime, T, A, offset, lead)
    x = _extended(values, s0, lead)
    stock = np.empty((grid.N, T))
    outflow = np.empty((grid.N, T))
    if grid.by_age:
        for rows in grid.row_chunks():
            s = grid.age_survival(rows)
            xm = x[rows, A:]
            stock[rows] = _lag_sum(s, xm)
            outflow[rows] = _lag_sum(_age_outflow_share(s, T), xm)
            if A:
                hs, ho = _historic_by_age(s, x[rows, :A], T)
                stock[rows] += hs
                outflow[rows] += ho
    else:
        for rows, sf, pdf in grid.blocks():
            xr = x[rows]
            _put(stock, rows, sf, xr)
            _put(outflow, rows, pdf, xr)
    res = DynamicStockResult(
        grid, lead, x, stock, outflow, np.zeros(0, dtype=np.intp), np.zeros((0, T)),
        np.zeros((grid.N, T)),
    )
    if check:
        res.check_mass_balance()
    return res


def _forward_solve(sf_model: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``sf_model[n] @ x[n] = rhs[n]`` (lower triangular, per row), ``[n, T]``."""
    n, T = rhs.shape
    x = np.empty((n, T))
    for t in range(T):
        acc = np.einsum("nc,nc->n", sf_model[:, t, :t], x[:, :t]) if t else 0.0
        x[:, t] = (rhs[:, t] - acc) / sf_model[:, t, t]
    return x


def _early_retirement(
    target: np.ndarray, x0: np.ndarray, sf: np.ndarray, pdf: np.ndarray, A: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Forward recursion over years with pro-rata early retirement.

    ``target [k, T]``; ``x0 [k, A]`` initial stock by age; ``sf``, ``pdf``
    ``[k, T, A+T]`` (may be broadcast views). Returns inflow, factor (share of the
    surviving cohorts kept each year), outflow and early retirement, all ``[k, T]``.
    """
    k, T = target.shape
    w = np.zeros((k, A + T))
    w[:, :A] = x0
    inflow = np.empty((k, T))
    factor = np.ones((k, T))
    outflow = np.empty((k, T))
    early = np.zeros((k, T))
    for t in range(T):
        nk = A + t
        st = sf[:, t, :]
        surv = np.einsum("nc,nc->n", w[:, :nk], st[:, :nk])
        need = target[:, t] - surv
        ok = need >= 0
        xt = np.where(ok, need, 0.0) / st[:, nk]
        w[:, nk] = xt
        inflow[:, t] = xt
        natural = np.einsum("nc,nc->n", w[:, : nk + 1], pdf[:, t, : nk + 1])
        f = np.where(ok, 1.0, target[:, t] / np.where(ok, 1.0, surv))
        early[:, t] = np.where(ok, 0.0, -need)
        factor[:, t] = f
        w[:, :nk] *= f[:, None]
        outflow[:, t] = natural + early[:, t]
    return inflow, factor, outflow, early


@single_threaded
def stock_driven(
    stock: Any,
    lifetime: Lifetime,
    inflow_at: InflowAt = "middle",
    *,
    initial_stock_by_age: Any = None,
    check: bool = True,
) -> DynamicStockResult:
    """Inflow and outflow that keep a prescribed stock, given a lifetime distribution.

    Solves ``sum_c S[t, c] inflow[c] = stock[t] - (initial stock surviving to t)`` year by
    year. Where this would need a negative inflow, the inflow is 0 and the surplus is
    retired early, pro rata from all cohorts in use (reported in ``early_retirement``).

    Parameters
    ----------
    stock : array_like [..., year], t
        In-use stock at the end of each year, >= 0, finite.
    lifetime : Lifetime
        Lifetime distribution; parameters broadcast to ``[..., cohort]``.
    inflow_at : {"start", "middle", "end"}
        See :func:`inflow_driven`.
    initial_stock_by_age : array_like [..., age], t, optional
        Stock in use before the first model year, by age 0..A-1.
    check : bool
        Assert ``inflow - outflow = stock change`` to 1e-9 relative.

    Returns
    -------
    DynamicStockResult
        ``inflow``, ``outflow``, ``early_retirement`` [..., year]; ``stock`` is the
        given stock; cohort tables on access.

    Examples
    --------
    >>> import numpy as np
    >>> from rareflow.stocks import Lifetime, stock_driven
    >>> s = stock_driven(np.array([1.0, 2.0, 2.0, 1.0]), Lifetime.fixed(2), inflow_at="end")
    >>> s.inflow.tolist(), s.early_retirement.tolist()
    ([1.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0])
    """
    values = _check_array(stock, "stock", "year")
    offset, s0, lead = _check_inputs(values, "stock", lifetime, inflow_at, initial_stock_by_age)
    T = values.shape[-1]
    A = 0 if s0 is None else s0.shape[-1]
    grid = _Grid(lifetime, T, A, offset, lead)
    x: np.ndarray | None = None  # [N, A + T]: initial stock by cohort, then inflow
    if A or grid.mode != "shared":
        x = np.empty((grid.N, A + T))
    if A:
        x[:, :A] = np.broadcast_to(s0[..., ::-1], lead + (A,)).reshape(-1, A)
    target = np.array(np.broadcast_to(values, lead + (T,)).reshape(-1, T))  # own copy
    outflow = np.empty((grid.N, T))
    early = np.zeros((grid.N, T))
    er_rows: list[np.ndarray] = []
    er_factors: list[np.ndarray] = []
    no_survivors = RareflowInputError.single(
        f"a cohort does not survive to the end of its own inflow year with "
        f"inflow_at={inflow_at!r} ({lifetime!r}); a stock-driven model cannot place "
        "inflow there. Use a later inflow_at or a longer lifetime",
        path="lifetime",
    )
    for rows in grid.row_chunks() if grid.by_age else ():
        s = grid.age_survival(rows)
        if s[:, 0].min() <= 0:
            raise no_survivors
        tr = target[rows]
        x0 = x[rows, :A]
        hs, ho = _historic_by_age(s, x0, T) if A else (0.0, 0.0)
        xin = _lag_solve(s, tr - hs)
        x[rows, A:] = xin
        outflow[rows] = _lag_sum(_age_outflow_share(s, T), xin) + ho
        if xin.size and xin.min() < 0:
            neg = np.nonzero((xin < 0).any(axis=1))[0]
            idx = np.arange(grid.N)[rows][neg]
            sf_n = grid.survival(grid.gid[idx])
            inf_n, fac_n, out_n, er_n = _early_retirement(
                tr[neg], x0[neg], sf_n, grid.outflow_share(sf_n), A
            )
            x[idx, A:] = inf_n
            outflow[idx] = out_n
            early[idx] = er_n
            er_rows.append(idx)
            er_factors.append(fac_n)
    for rows, sf, pdf in () if grid.by_age else grid.blocks():
        diag = np.diagonal(sf[..., A:], axis1=-2, axis2=-1)
        if np.any(diag <= 0):
            raise no_survivors
        tr = target[rows]
        rhs = tr - _apply(sf[..., :A], x[rows, :A]) if A else tr
        if sf.ndim == 2:
            xin = solve_triangular(sf[:, A:], rhs.T, lower=True, check_finite=False).T
        else:
            xin = _forward_solve(sf[:, :, A:], rhs)
        if x is None:  # shared matrix, no initial stock: the solution is the table
            x = xr = np.ascontiguousarray(xin)
        elif isinstance(rows, slice):
            x[rows, A:] = xin
            xr = x[rows]
        else:
            xr = x[rows]
            xr[:, A:] = xin
        out_r = _apply(pdf, xr, out=outflow[rows] if isinstance(rows, slice) else None)
        if xin.size and xin.min() < 0:
            neg = np.nonzero((xin < 0).any(axis=1))[0]
            k = len(neg)
            sf_n = np.broadcast_to(sf, (k,) + sf.shape[-2:]) if sf.ndim == 2 else sf[neg]
            pdf_n = np.broadcast_to(pdf, (k,) + pdf.shape[-2:]) if pdf.ndim == 2 else pdf[neg]
            inf_n, fac_n, out_n, er_n = _early_retirement(tr[neg], xr[neg, :A], sf_n, pdf_n, A)
            xr[neg, A:] = inf_n
            out_r[neg] = out_n
            idx = np.arange(grid.N)[rows][neg]
            early[idx] = er_n
            er_rows.append(idx)
            er_factors.append(fac_n)
        if not isinstance(rows, slice):  # fancy-indexed rows were copies
            x[rows] = xr
            outflow[rows] = out_r
    res = DynamicStockResult(
        grid,
        lead,
        x,
        target,
        outflow,
        np.concatenate(er_rows) if er_rows else np.zeros(0, dtype=np.intp),
        np.concatenate(er_factors) if er_factors else np.zeros((0, T)),
        early,
    )
    if check:
        res.check_mass_balance()
    return res
