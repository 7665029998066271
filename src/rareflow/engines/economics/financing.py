"""Financing: term loans with grace and milestone draws, warrants, preferred equity.

Timing convention (annual periods, index 0 = the first model year):

* a draw made in period t is disbursed at the *start* of t and earns interest in t;
* interest for period t is computed on (opening balance + draw) at the end of t;
* during the grace period no principal is repaid; interest is either paid in cash
  (``grace_interest="pay"``) or added to the balance (``"capitalise"``);
* after grace, the balance is repaid over ``tenor - grace`` years, by level payments
  (annuity), linear (equal principal) or sculpted payments (proportional to a profile,
  typically the expected CFADS, so that coverage is flat).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import ndtr

from rareflow.engines.economics import _checks as chk

__all__ = [
    "LoanSchedule",
    "loan_schedule",
    "draw_schedule",
    "black_scholes_call",
    "warrant_value",
    "PreferredSchedule",
    "preferred_schedule",
]


@dataclass(frozen=True)
class LoanSchedule:
    """Arrays [year], USD (per year for flows, end of year for ``closing``)."""

    draw: np.ndarray
    opening: np.ndarray
    interest: np.ndarray
    interest_paid: np.ndarray
    interest_capitalised: np.ndarray
    principal: np.ndarray
    debt_service: np.ndarray
    closing: np.ndarray

    def as_dict(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def draw_schedule(amount: float, shares: np.ndarray, *, path: str = "draws") -> np.ndarray:
    """Milestone draws: ``amount`` (USD) split by ``shares`` [year] (fractions summing to 1)."""
    a = chk.nonneg(amount, "amount")
    s = chk.nonneg_array(shares, path, ndim_min=1)
    total = float(s.sum())
    if abs(total - 1.0) > 1e-6:
        raise chk.fail(path, f"draw shares must add up to 100 % (they add up to {total:.4%})")
    return a * s


def loan_schedule(
    draws: np.ndarray,
    rate: float,
    tenor: float,
    grace: float = 0,
    *,
    n_years: int | None = None,
    start: int = 0,
    grace_interest: Literal["pay", "capitalise"] = "capitalise",
    amortisation: Literal["level", "linear", "sculpted"] = "level",
    profile: np.ndarray | None = None,
) -> LoanSchedule:
    """Schedule of a term loan.

    Parameters
    ----------
    draws : ndarray [loan year], USD
        Amount disbursed at the start of each loan year (index 0 = ``start``); all draws
        must fall within the grace period (or in year 0 when ``grace`` is 0).
    rate : float
        Interest rate per year, fraction (0.05 = 5 %/yr), 0 <= rate < 1.
    tenor : float
        Life of the loan in whole years, grace included; > grace.
    grace : float
        Years without principal repayment, counted from ``start``.
    n_years : int, optional
        Length of the output arrays (model years); default ``start + tenor``.
    start : int
        Model year index of the loan's first year.
    grace_interest : "pay" | "capitalise"
        Interest during grace paid in cash, or added to the balance.
    amortisation : "level" | "linear" | "sculpted"
        Level annuity payments, equal principal instalments, or payments proportional to
        ``profile`` (same present value at ``rate`` as the balance to repay).
    profile : ndarray [model year], optional
        Required for "sculpted": relative payment sizes, e.g. expected CFADS (USD/yr); must
        be positive over the repayment years.

    Returns
    -------
    LoanSchedule with arrays [model year], USD.

    Raises
    ------
    RareflowInputError
        Naming the argument: negative tenor, rate out of range, draws after grace, ...
    """
    r = chk.rate(rate, "rate", lo=0.0, hi=1.0)
    ten = chk.whole_years(tenor, "tenor", minimum=1)
    g = chk.whole_years(grace, "grace", minimum=0)
    st = chk.whole_years(start, "start", minimum=0)
    if g >= ten:
        raise chk.fail("grace", f"grace ({g} yr) must be shorter than the tenor ({ten} yr)")
    d = chk.nonneg_array(draws, "draws", ndim_min=1)
    if d.ndim != 1:
        raise chk.fail("draws", "must be one-dimensional [year]")
    last_draw = int(np.flatnonzero(d > 0)[-1]) if np.any(d > 0) else 0
    if last_draw >= max(g, 1):
        raise chk.fail(
            "draws",
            f"a draw falls in loan year {last_draw}, after the grace period of {g} yr; "
            "draws must be disbursed before repayment starts",
        )
    if d.size > ten:
        if np.any(d[ten:] > 0):
            raise chk.fail("draws", "draws extend beyond the tenor")
        d = d[:ten]
    if grace_interest not in ("pay", "capitalise"):
        raise chk.fail("grace_interest", f"must be 'pay' or 'capitalise' (got {grace_interest!r})")
    if amortisation not in ("level", "linear", "sculpted"):
        raise chk.fail(
            "amortisation", f"must be 'level', 'linear' or 'sculpted' (got {amortisation!r})"
        )
    N = st + ten if n_years is None else chk.whole_years(n_years, "n_years", minimum=1)
    if st + ten > N:
        raise chk.fail(
            "tenor",
            f"the loan runs to model year {st + ten - 1} but the horizon has {N} years; "
            "lengthen the horizon or shorten the tenor",
        )
    n_rep = ten - g
    prof = None
    if amortisation == "sculpted":
        if profile is None:
            raise chk.fail("profile", "sculpted amortisation needs a payment profile (e.g. CFADS)")
        prof = chk.finite_array(profile, "profile", ndim_min=1)
        if prof.shape != (N,):
            raise chk.fail("profile", f"must have shape ({N},) [model year] (got {prof.shape})")
        prof = prof[st + g : st + ten]
        if np.any(prof <= 0):
            raise chk.fail(
                "profile",
                "must be positive in every repayment year (a sculpted loan cannot be repaid "
                "from a non-positive cash flow)",
            )

    out = {k: np.zeros(N) for k in LoanSchedule.__dataclass_fields__}
    bal = 0.0
    payment = 0.0
    weights = None
    for k in range(ten):
        t = st + k
        draw = float(d[k]) if k < d.size else 0.0
        opening = bal
        base = bal + draw
        interest = base * r
        out["draw"][t] = draw
        out["opening"][t] = opening
        out["interest"][t] = interest
        if k < g:
            if grace_interest == "pay":
                out["interest_paid"][t] = interest
                bal = base
            else:
                out["interest_capitalised"][t] = interest
                bal = base + interest
            principal = 0.0
        else:
            j = k - g  # repayment year 0..n_rep-1
            if j == 0:
                B = base
                if amortisation == "level":
                    payment = B / n_rep if r == 0 else B * r / (1.0 - (1.0 + r) ** -n_rep)
                elif amortisation == "sculpted":
                    assert prof is not None
                    disc = (1.0 + r) ** -np.arange(1, n_rep + 1)
                    weights = prof * (B / float(prof @ disc))
            if amortisation == "level":
                principal = payment - interest
            elif amortisation == "linear":
                principal = B / n_rep
            else:
                assert weights is not None
                principal = float(weights[j]) - interest
            if j == n_rep - 1:
                principal = base  # clear rounding residue
            out["interest_paid"][t] = interest
            bal = base - principal
        out["principal"][t] = principal
        out["debt_service"][t] = out["interest_paid"][t] + principal
        out["closing"][t] = bal
    return LoanSchedule(**out)


def black_scholes_call(
    spot: np.ndarray | float,
    strike: np.ndarray | float,
    maturity: float,
    volatility: float,
    rate: float,
    dividend_yield: float = 0.0,
) -> np.ndarray:
    """Black–Scholes–Merton value of a European call, per unit of underlying.

    ``C = S e^{-qT} N(d1) - K e^{-rT} N(d2)``, ``d1 = [ln(S/K) + (r - q + σ²/2)T] / (σ√T)``,
    ``d2 = d1 - σ√T``.

    Parameters
    ----------
    spot : float or ndarray, USD per share (or USD for a whole-equity underlying), > 0
    strike : float or ndarray, same unit as ``spot``, > 0
    maturity : float, yr, > 0
    volatility : float, 1/√yr as a fraction (0.6 = 60 %), > 0
    rate : float, continuously compounded risk-free rate per year, fraction
    dividend_yield : float, continuous per year, fraction

    Returns
    -------
    ndarray, same unit as ``spot``.
    """
    S = chk.finite_array(spot, "spot")
    K = chk.finite_array(strike, "strike")
    if np.any(S <= 0):
        raise chk.fail("spot", "must be greater than 0")
    if np.any(K <= 0):
        raise chk.fail("strike", "must be greater than 0")
    T = chk.positive(maturity, "maturity")
    sig = chk.positive(volatility, "volatility")
    if sig > 5:
        raise chk.fail("volatility", f"must be a fraction per √yr, at most 500 % (got {sig!r})")
    r = chk.rate(rate, "rate", lo=-0.2, hi=1.0)
    q = chk.rate(dividend_yield, "dividend_yield", lo=0.0, hi=1.0)
    sq = sig * math.sqrt(T)
    d1 = (np.log(S / K) + (r - q + 0.5 * sig * sig) * T) / sq
    d2 = d1 - sq
    return S * math.exp(-q * T) * ndtr(d1) - K * math.exp(-r * T) * ndtr(d2)


def warrant_value(
    share_price: float,
    strike: float,
    count: float,
    maturity: float,
    volatility: float,
    rate: float,
    *,
    shares_outstanding: float | None = None,
    dividend_yield: float = 0.0,
) -> dict[str, float]:
    """Value of ``count`` warrants, Black–Scholes on the equity with dilution.

    Inputs: ``share_price`` (USD/share, the equity value per share before exercise),
    ``strike`` (USD/share), ``count`` (warrants, one share each), ``maturity`` (yr),
    ``volatility`` (annual, fraction), ``rate`` (risk-free, continuous, fraction/yr),
    ``shares_outstanding`` (shares before exercise; when given, the call is scaled by the
    dilution factor N / (N + count), the standard approximation of Galai & Schneller
    that keeps the share price as the underlying).

    Returns
    -------
    dict with ``per_warrant`` (USD), ``total`` (USD), ``call_per_share`` (USD, undiluted),
    ``dilution_factor``.
    """
    n = chk.nonneg(count, "count")
    call = float(
        black_scholes_call(share_price, strike, maturity, volatility, rate, dividend_yield)
    )
    factor = 1.0
    if shares_outstanding is not None:
        N = chk.positive(shares_outstanding, "shares_outstanding")
        factor = N / (N + n)
    per = call * factor
    return {"per_warrant": per, "total": per * n, "call_per_share": call, "dilution_factor": factor}


@dataclass(frozen=True)
class PreferredSchedule:
    """Preferred equity, arrays [year] in USD: cash in, cash dividends, accrued (PIK)
    dividends, and the liquidation preference at the end of each year."""

    issue: np.ndarray
    dividend_cash: np.ndarray
    dividend_accrued: np.ndarray
    balance: np.ndarray


def preferred_schedule(
    amount: float, dividend_rate: float, n_years: int, *, start: int = 0, pik: bool = False
) -> PreferredSchedule:
    """Preferred equity of ``amount`` USD issued at the start of model year ``start`` with
    dividends of ``dividend_rate`` (fraction/yr) on the preference amount, paid in cash at
    each year end, or paid in kind (added to the preference, compounding) if ``pik``."""
    a = chk.nonneg(amount, "amount")
    d = chk.rate(dividend_rate, "dividend_rate", lo=0.0, hi=1.0)
    N = chk.whole_years(n_years, "n_years", minimum=1)
    st = chk.whole_years(start, "start", minimum=0)
    if st >= N:
        raise chk.fail("start", f"must be a model year index below {N} (got {st})")
    issue = np.zeros(N)
    cash = np.zeros(N)
    acc = np.zeros(N)
    bal = np.zeros(N)
    issue[st] = a
    b = a
    for t in range(st, N):
        div = b * d
        if pik:
            acc[t] = div
            b += div
        else:
            cash[t] = div
        bal[t] = b
    return PreferredSchedule(issue, cash, acc, bal)
