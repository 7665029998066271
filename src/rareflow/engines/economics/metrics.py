"""Investment metrics on annual cash flows: NPV, IRR, payback, debt-service coverage.

Conventions (the same as numpy-financial): ``values[..., 0]`` falls at t = 0 and is not
discounted; ``values[..., t]`` is discounted by ``(1 + rate) ** t``. All functions are
vectorised over leading dimensions (e.g. ``[sample, year]``) and never mutate inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rareflow.engines.economics import _checks as chk

__all__ = ["IrrResult", "DscrResult", "npv", "irr", "payback", "dscr", "discount_factors"]


def discount_factors(rate: float, n_years: int) -> np.ndarray:
    """``(1 + rate) ** -t`` for t = 0..n_years-1 : ndarray [year], dimensionless."""
    r = chk.number(rate, "rate")
    if r <= -1.0:
        raise chk.fail("rate", f"must be greater than -100 % (got {r!r})")
    return (1.0 + r) ** -np.arange(n_years, dtype=np.float64)


def npv(rate: float, values: np.ndarray) -> np.ndarray:
    """Net present value.

    Parameters
    ----------
    rate : float
        Discount rate per year as a fraction (0.08 = 8 %/yr); must exceed -1.
    values : ndarray [..., year], USD
        Cash flows, first at t = 0.

    Returns
    -------
    ndarray [...], USD  (a 0-d array for 1-D input; ``float(result)`` works)
    """
    v = chk.finite_array(values, "values", ndim_min=1)
    return v @ discount_factors(rate, v.shape[-1])


@dataclass(frozen=True)
class IrrResult:
    """Internal rate(s) of return with the reason when one is not defined.

    ``rate`` : ndarray [...] fraction/yr, NaN where undefined. ``reason`` : ndarray [...] of
    str, empty where the IRR is unique; otherwise why it is NaN ("no sign change ..."), or
    a warning when several rates solve NPV = 0 (the one nearest 0 is given, as in
    numpy-financial). ``n_roots`` : ndarray [...] int, roots found in the searched range.
    """

    rate: np.ndarray
    reason: np.ndarray
    n_roots: np.ndarray

    def __float__(self) -> float:
        return float(self.rate)


_CHUNK = 2048


def _rate_grid() -> np.ndarray:
    return np.unique(
        np.concatenate(
            [
                np.linspace(-0.99, -0.5, 25, endpoint=False),
                np.linspace(-0.5, 1.0, 451),
                np.geomspace(1.0, 100.0, 61)[1:],
            ]
        )
    )


def irr(values: np.ndarray, *, tol: float = 1e-12) -> IrrResult:
    """Internal rate of return, robust and vectorised.

    The NPV is evaluated on a grid of rates from -99 %/yr to +10,000 %/yr; every sign
    change brackets a root, refined by bisection to ``tol``. No sign change in the cash
    flows (all inflows or all outflows) gives NaN with the reason; several roots give the
    one nearest 0 (numpy-financial's choice) with a warning in ``reason``; a root touched
    without a sign change (a double root) is not detected.

    Parameters
    ----------
    values : ndarray [..., year], USD
        Cash flows, first at t = 0.
    """
    v = chk.finite_array(values, "values", ndim_min=1)
    lead = v.shape[:-1]
    flat = v.reshape(-1, v.shape[-1])
    n, T = flat.shape
    if n > _CHUNK:  # bound memory: the NPV grid is [row, grid]
        parts = [irr(flat[i : i + _CHUNK], tol=tol) for i in range(0, n, _CHUNK)]
        return IrrResult(
            np.concatenate([p.rate for p in parts]).reshape(lead),
            np.concatenate([p.reason for p in parts]).reshape(lead),
            np.concatenate([p.n_roots for p in parts]).reshape(lead),
        )
    rate = np.full(n, np.nan)
    reason = np.full(n, "", dtype=object)
    n_roots = np.zeros(n, dtype=np.int64)

    has_pos = (flat > 0).any(axis=1)
    has_neg = (flat < 0).any(axis=1)
    ok = has_pos & has_neg
    reason[~ok] = "no sign change in the cash flows: IRR undefined"
    idx = np.flatnonzero(ok)
    if idx.size:
        grid = _rate_grid()
        t = np.arange(T, dtype=np.float64)
        disc = (1.0 + grid)[:, None] ** -t[None, :]          # [grid, year]
        vals = flat[idx]
        f = vals @ disc.T                                     # [row, grid]
        s = np.sign(f)
        exact = s == 0
        change = (s[:, :-1] * s[:, 1:] < 0) | exact[:, :-1]
        # count roots: sign changes plus exact zeros (an exact zero at a grid point counted once)
        cnt = change.sum(axis=1) + exact[:, -1]
        n_roots[idx] = cnt
        none = cnt == 0
        reason[idx[none]] = "no rate between -99 %/yr and 10,000 %/yr gives NPV = 0"
        found = np.flatnonzero(~none)
        if found.size:
            ch = change[found]
            # bracket nearest to 0 (by the nearer of its two ends)
            near = np.minimum(np.abs(grid[:-1]), np.abs(grid[1:]))
            k = np.argmin(np.where(ch, near[None, :], np.inf), axis=1)
            lo = grid[k].copy()
            hi = grid[k + 1].copy()
            vv = vals[found]
            flo = f[found, k]
            exact_lo = flo == 0
            for _ in range(200):
                mid = 0.5 * (lo + hi)
                fm = np.einsum("ij,ij->i", vv, (1.0 + mid)[:, None] ** -t[None, :])
                same = np.sign(fm) == np.sign(flo)
                lo = np.where(same, mid, lo)
                flo = np.where(same, fm, flo)
                hi = np.where(same, hi, mid)
                if np.all(hi - lo <= tol * np.maximum(1.0, np.abs(lo))):
                    break
            root = np.where(exact_lo, grid[k], 0.5 * (lo + hi))
            rate[idx[found]] = root
            multi = cnt[found] > 1
            reason[idx[found[multi]]] = [
                f"{c} rates give NPV = 0 (non-conventional cash flows); the one nearest 0 is given"
                for c in cnt[found[multi]]
            ]
    return IrrResult(rate.reshape(lead), reason.reshape(lead), n_roots.reshape(lead))


def payback(values: np.ndarray, *, rate: float | None = None) -> np.ndarray:
    """Payback period in years from t = 0 (discounted when ``rate`` is given).

    The first year in which the cumulative cash flow turns from negative to non-negative,
    interpolated linearly within that year (cash assumed spread evenly); 0 if it is never
    negative; NaN if it never recovers.

    Parameters
    ----------
    values : ndarray [..., year], USD
    rate : float, optional
        Discount rate per year for the discounted payback.

    Returns
    -------
    ndarray [...], yr
    """
    v = chk.finite_array(values, "values", ndim_min=1)
    if rate is not None:
        v = v * discount_factors(rate, v.shape[-1])
    cum = np.cumsum(v, axis=-1)
    neg = cum < 0
    T = v.shape[-1]
    # first t >= 1 with cum[t] >= 0 and cum[t-1] < 0
    cross = (~neg[..., 1:]) & neg[..., :-1]
    any_cross = cross.any(axis=-1)
    t = np.argmax(cross, axis=-1) + 1
    prev = np.take_along_axis(cum, (t - 1)[..., None], axis=-1)[..., 0]
    step = np.take_along_axis(v, t[..., None], axis=-1)[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(step > 0, -prev / np.where(step > 0, step, 1.0), 1.0)
    out = np.where(any_cross, (t - 1) + frac, np.nan)
    never_neg = ~neg.any(axis=-1)
    out = np.where(never_neg, 0.0, out)
    del T
    return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True)
class DscrResult:
    """Debt-service coverage: ``per_year`` [..., year] (NaN where no debt is serviced or
    outside ``mask``), ``minimum`` and ``average`` [...] over the serviced years."""

    per_year: np.ndarray
    minimum: np.ndarray
    average: np.ndarray


def dscr(
    cfads: np.ndarray, debt_service: np.ndarray, *, mask: np.ndarray | None = None
) -> DscrResult:
    """Debt-service coverage ratio, CFADS / debt service, year by year.

    Parameters
    ----------
    cfads : ndarray [..., year], USD/yr
        Cash flow available for debt service.
    debt_service : ndarray [..., year] or [year], USD/yr
        Interest paid plus principal repaid (broadcast against ``cfads``).
    mask : ndarray [year] of bool, optional
        Years to include (e.g. operating years only); default all years with service.

    Returns
    -------
    DscrResult : minimum and average are NaN when no year is serviced.
    """
    c = chk.finite_array(cfads, "cfads", ndim_min=1)
    d = chk.nonneg_array(debt_service, "debt_service", ndim_min=1)
    c, d = np.broadcast_arrays(c, d)
    served = d > 1e-9 * max(1.0, float(np.max(np.abs(d)) if d.size else 1.0))
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        if m.shape[-1] != c.shape[-1]:
            raise chk.fail("mask", f"must have {c.shape[-1]} years (got {m.shape[-1]})")
        served = served & m
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(served, c / np.where(served, d, 1.0), np.nan)
    any_s = served.any(axis=-1)
    mn = np.where(any_s, np.min(np.where(served, ratio, np.inf), axis=-1), np.nan)
    cnt = served.sum(axis=-1)
    avg = np.where(any_s, np.where(served, ratio, 0.0).sum(axis=-1) / np.maximum(cnt, 1), np.nan)
    return DscrResult(ratio, np.asarray(mn, dtype=np.float64), np.asarray(avg, dtype=np.float64))
