"""Cash flows of one facility, annual, vectorised over leading sample dimensions.

Order of the computation (all USD per year unless stated)::

    production[p, t]   = capacity · utilisation[t] · yield[p]          (t/yr)
    revenue            = Σ_p production · price[..., p, t] · 1000 + extra_revenue
    feedstock cost     = Σ_f (capacity · utilisation · use[f]) · feed_price · 1000
    opex               = fixed[t] (from commercial operation) + variable · output
    EBITDA             = revenue - feedstock - opex
    depreciation       = capex placed in service (at the later of spend year and start of
                         operation) spread by the schedule (fractions, straight line or
                         MACRS-like table)
    tax (levered)      = rate · max(EBITDA - depreciation - interest - loss used, 0)
    tax (unlevered)    = the same without interest (for project cash flows)
    Δ working capital  = wc_share · Δrevenue (released in the final year)
    project FCF        = EBITDA - tax_unlevered - capex - ΔWC + grants
    CFADS              = EBITDA - tax_levered - ΔWC - capex after start of operation

Losses carry forward without expiry; each year's use of carried losses is limited to
``loss_offset_limit`` of that year's taxable income (0.8 in the U.S. since 2018).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rareflow.engines.economics import _checks as chk

__all__ = [
    "utilisation_path",
    "straight_line",
    "depreciation",
    "income_tax",
    "CashFlows",
    "facility_cash_flows",
]

KG_PER_T = 1000.0


def utilisation_path(ramp: np.ndarray, n_years: int, start: int) -> np.ndarray:
    """Utilisation [year] (fraction): 0 before ``start``, then ``ramp`` [operating year],
    its last value held to the horizon."""
    r = chk.nonneg_array(ramp, "utilisation", ndim_min=1)
    if r.ndim != 1 or r.size == 0:
        raise chk.fail("utilisation", "must be a non-empty list of shares by operating year")
    if np.any(r > 1 + 1e-12):
        raise chk.fail("utilisation", "shares must lie between 0 % and 100 %")
    N = chk.whole_years(n_years, "n_years", minimum=1)
    s = chk.whole_years(start, "start", minimum=0)
    u = np.zeros(N)
    k = np.arange(N) - s
    op = k >= 0
    u[op] = r[np.minimum(k[op], r.size - 1)]
    return u


def straight_line(life: int) -> np.ndarray:
    """Depreciation schedule [year of service] of equal shares over ``life`` years."""
    n = chk.whole_years(life, "depreciation_life", minimum=1)
    return np.full(n, 1.0 / n)


def depreciation(capex: np.ndarray, schedule: np.ndarray, in_service: int) -> np.ndarray:
    """Tax depreciation [year] (USD/yr) of ``capex`` [year] (USD).

    Capital spent in year s is placed in service in year max(s, ``in_service``) and
    written off by ``schedule`` [year of service] (fractions summing to 1)."""
    c = chk.nonneg_array(capex, "capex", ndim_min=1)
    sch = chk.nonneg_array(schedule, "depreciation_schedule", ndim_min=1)
    if abs(float(sch.sum()) - 1.0) > 1e-6:
        raise chk.fail(
            "depreciation_schedule", f"shares must add up to 100 % (got {float(sch.sum()):.4%})"
        )
    N = c.shape[-1]
    s = chk.whole_years(in_service, "in_service", minimum=0)
    placed = np.zeros(N)
    for t in range(N):
        placed[max(t, min(s, N - 1))] += c[t]
    return np.convolve(placed, sch)[:N]


def income_tax(
    pre_tax: np.ndarray, rate: float, *, loss_offset_limit: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Income tax with loss carry-forward.

    Parameters
    ----------
    pre_tax : ndarray [..., year], USD/yr — taxable income before loss offsets.
    rate : float — tax rate (fraction).
    loss_offset_limit : float — share of a year's positive income that carried losses may
        offset (1.0: unlimited; 0.8: U.S. rule for losses arising after 2017).

    Returns
    -------
    (tax [..., year] USD/yr ≥ 0, loss_carried [..., year] USD at each year end)
    """
    x = chk.finite_array(pre_tax, "pre_tax", ndim_min=1)
    r = chk.rate(rate, "tax_rate", lo=0.0, hi=1.0)
    lim = chk.fraction(loss_offset_limit, "loss_offset_limit")
    tax = np.zeros_like(x)
    carried = np.zeros_like(x)
    nol = np.zeros(x.shape[:-1])
    for t in range(x.shape[-1]):
        inc = x[..., t]
        pos = np.maximum(inc, 0.0)
        use = np.minimum(nol, lim * pos)
        tax[..., t] = r * (pos - use)
        nol = nol - use + np.maximum(-inc, 0.0)
        carried[..., t] = nol
    return tax, carried


@dataclass(frozen=True)
class CashFlows:
    """Facility cash flows; every array is [..., year] in USD/yr (production in t/yr)."""

    output: np.ndarray
    revenue: np.ndarray
    feedstock_cost: np.ndarray
    opex: np.ndarray
    ebitda: np.ndarray
    depreciation: np.ndarray
    interest: np.ndarray
    tax_unlevered: np.ndarray
    tax_levered: np.ndarray
    capex: np.ndarray
    grants: np.ndarray
    delta_working_capital: np.ndarray
    project_fcf: np.ndarray
    cfads: np.ndarray

    def as_dict(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def facility_cash_flows(
    *,
    capacity: float,
    utilisation: np.ndarray,
    product_yield: np.ndarray,
    product_price: np.ndarray,
    feed_use: np.ndarray,
    feed_price: np.ndarray,
    opex_fixed: float | np.ndarray,
    opex_variable: float,
    capex: np.ndarray,
    cod: int,
    depreciation_schedule: np.ndarray,
    tax_rate: float,
    loss_offset_limit: float = 1.0,
    working_capital: float = 0.0,
    extra_revenue: np.ndarray | float = 0.0,
    interest: np.ndarray | float = 0.0,
    grants: np.ndarray | float = 0.0,
) -> CashFlows:
    """Cash flows of a facility.

    Parameters
    ----------
    capacity : float, t/yr of main output.
    utilisation : ndarray [year], fraction (see :func:`utilisation_path`).
    product_yield : ndarray [product], t of product per t of output.
    product_price : ndarray [..., product, year], USD/kg.
    feed_use : ndarray [feed], t of feed per t of output.
    feed_price : ndarray [..., feed, year], USD/kg.
    opex_fixed : float or ndarray [year], USD/yr, charged from year ``cod``.
    opex_variable : float, USD per t of output.
    capex : ndarray [year], USD.
    cod : int, model year index of commercial operation (start of production).
    depreciation_schedule : ndarray [year of service], fractions summing to 1.
    tax_rate, loss_offset_limit : fractions; see :func:`income_tax`.
    working_capital : float, net working capital as a share of annual revenue.
    extra_revenue : ndarray [..., year], USD/yr — contract payments (floor, offtake).
    interest : ndarray [..., year] or [year], USD/yr — deductible interest (levered tax).
    grants : ndarray [year], USD — capital grants or incentives received (untaxed here).
    """
    cap = chk.nonneg(capacity, "capacity")
    u = chk.nonneg_array(utilisation, "utilisation", ndim_min=1)
    N = u.shape[-1]
    y = chk.nonneg_array(product_yield, "product_yield", ndim_min=1)
    pp = chk.finite_array(product_price, "product_price", ndim_min=2)
    if pp.shape[-2:] != (y.size, N):
        raise chk.fail(
            "product_price",
            f"must have shape [..., {y.size}, {N}] [product, year] (got {pp.shape})",
        )
    fu = chk.nonneg_array(feed_use, "feed_use", ndim_min=1)
    fp = chk.finite_array(feed_price, "feed_price", ndim_min=2)
    if fp.shape[-2:] != (fu.size, N):
        raise chk.fail(
            "feed_price", f"must have shape [..., {fu.size}, {N}] [feed, year] (got {fp.shape})"
        )
    cx = chk.nonneg_array(capex, "capex", ndim_min=1)
    if cx.shape != (N,):
        raise chk.fail("capex", f"must have shape ({N},) [year] (got {cx.shape})")
    c = chk.whole_years(cod, "cod", minimum=0)
    fixed = np.broadcast_to(chk.nonneg_array(opex_fixed, "opex_fixed"), (N,)).copy()
    var = chk.nonneg(opex_variable, "opex_variable")
    wc = chk.nonneg(working_capital, "working_capital")
    extra = chk.finite_array(extra_revenue, "extra_revenue")
    intr = chk.nonneg_array(interest, "interest")
    gr = np.broadcast_to(chk.nonneg_array(grants, "grants"), (N,)).copy()

    output = cap * u                                              # [year] t/yr
    operating = np.arange(N) >= c
    revenue = np.einsum("p,...pt->...t", y, pp) * output * KG_PER_T + extra
    feed = np.einsum("f,...ft->...t", fu, fp) * output * KG_PER_T
    opex = np.where(operating, fixed, 0.0) + var * output
    ebitda = revenue - feed - opex
    dep = depreciation(cx, depreciation_schedule, c)
    shape = np.broadcast_shapes(ebitda.shape, np.shape(intr) if np.ndim(intr) else (1,))
    ebitda = np.broadcast_to(ebitda, shape)
    revenue = np.broadcast_to(revenue, shape)
    tax_u, _ = income_tax(ebitda - dep, tax_rate, loss_offset_limit=loss_offset_limit)
    tax_l, _ = income_tax(ebitda - dep - intr, tax_rate, loss_offset_limit=loss_offset_limit)
    wc_bal = wc * revenue
    dwc = np.diff(wc_bal, axis=-1, prepend=0.0)
    dwc[..., -1] -= wc_bal[..., -1]  # release at the horizon
    sustaining = np.where(operating, cx, 0.0)
    fcf = ebitda - tax_u - cx - dwc + gr
    cfads = ebitda - tax_l - dwc - sustaining
    return CashFlows(
        output=np.broadcast_to(output, shape).copy(),
        revenue=np.array(revenue),
        feedstock_cost=np.broadcast_to(feed, shape).copy(),
        opex=np.broadcast_to(opex, shape).copy(),
        ebitda=np.array(ebitda),
        depreciation=np.broadcast_to(dep, shape).copy(),
        interest=np.broadcast_to(intr, shape).copy(),
        tax_unlevered=tax_u,
        tax_levered=tax_l,
        capex=np.broadcast_to(cx, shape).copy(),
        grants=np.broadcast_to(gr, shape).copy(),
        delta_working_capital=dwc,
        project_fcf=fcf,
        cfads=cfads,
    )
