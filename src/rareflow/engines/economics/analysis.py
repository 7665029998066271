"""One facility's economics over Monte Carlo price paths, with its financing and contracts.

Inputs are plain frozen dataclasses (canonical units: USD, USD/kg, t/yr, fractions,
years as model-year indices, index 0 = ``start_year``); :mod:`.compile` builds them from
an ``economics:`` scenario section. :func:`run_case` returns arrays [sample, year] and a
JSON-ready summary.

Definitions used in the summary:

* project NPV / IRR: unlevered after-tax free cash flow (``project_fcf``) at the
  facility's ``discount_rate``, with and without the price floor;
* equity NPV (all common equity together): project FCF + interest tax shield + loan
  draws - debt service + preferred issued - preferred cash dividends - the preferred
  balance (liquidation preference) at the horizon, at ``equity_discount_rate``;
* DSCR: CFADS / debt service over operating years with debt service, per sample;
* government cost of a floor: present value at ``government_discount_rate`` of the
  floor payments (net of any upside sharing received), per sample; summarised by mean,
  P5/P50/P95 and the probability that it pays anything. This is an expected cost under
  the simulated (real-world) price paths discounted at a Treasury-like rate, not a
  market (risk-neutral) value of the put.
* base case: the median price path (the path with all shocks zero); for a zero-drift
  GBM that path falls by σ²/2 per year, so its base case is below the mean.
* loans are repaid in full (no default is modelled); interest capitalised during grace
  is not deducted for tax (it would enter the asset's tax basis; ignored); loan
  schedules do not depend on the price path (sculpting follows the base case).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from rareflow.engines.economics import _checks as chk
from rareflow.engines.economics.cashflows import (
    CashFlows,
    facility_cash_flows,
    straight_line,
    utilisation_path,
)
from rareflow.engines.economics.contracts import (
    contract_window,
    offtake_adjustment,
    price_floor_payout,
)
from rareflow.engines.economics.financing import (
    LoanSchedule,
    black_scholes_call,
    draw_schedule,
    loan_schedule,
    preferred_schedule,
    warrant_value,
)
from rareflow.engines.economics.metrics import discount_factors, dscr, irr, npv, payback
from rareflow.engines.economics.prices import gbm_paths, mean_reverting_paths

__all__ = [
    "PriceLinkSpec",
    "ProductSpec",
    "FeedSpec",
    "FacilitySpec",
    "LoanSpec",
    "EquitySpec",
    "WarrantSpec",
    "FloorSpec",
    "OfftakeSpec",
    "IndexSpec",
    "Case",
    "CaseResult",
    "run_case",
    "index_paths",
]


@dataclass(frozen=True)
class PriceLinkSpec:
    """Price USD/kg = (fixed · (1+escalation)^t) + pass_through · index price."""

    fixed: float = 0.0
    index: str | None = None
    pass_through: float = 0.0
    escalation: float = 0.0


@dataclass(frozen=True)
class ProductSpec:
    name: str
    yield_: float
    price: PriceLinkSpec


@dataclass(frozen=True)
class FeedSpec:
    name: str
    use: float
    price: PriceLinkSpec


@dataclass(frozen=True)
class FacilitySpec:
    """A facility; arrays are [year] over the model horizon."""

    id: str
    capacity: float                      # t/yr
    cod: int                             # model year index of commercial operation
    utilisation: np.ndarray              # [operating year] fractions
    capex: np.ndarray                    # [year] USD (initial + sustaining)
    opex_fixed: float                    # USD/yr from cod
    opex_variable: float                 # USD/kg of output
    products: tuple[ProductSpec, ...]
    feeds: tuple[FeedSpec, ...] = ()
    tax_rate: float = 0.21
    loss_offset_limit: float = 1.0
    depreciation_schedule: np.ndarray = field(default_factory=lambda: straight_line(10))
    working_capital: float = 0.0
    discount_rate: float = 0.08
    equity_discount_rate: float = 0.12


@dataclass(frozen=True)
class LoanSpec:
    id: str
    amount: float
    rate: float
    tenor: int
    grace: int
    start: int
    draw_shares: np.ndarray               # [loan year] fractions summing to 1
    grace_interest: Literal["pay", "capitalise"] = "capitalise"
    amortisation: Literal["level", "linear", "sculpted"] = "level"
    lender: str = ""
    government: bool = False


@dataclass(frozen=True)
class EquitySpec:
    id: str
    holder: str
    amount: float
    year: int
    kind: Literal["common", "preferred"] = "common"
    dividend_rate: float = 0.0
    pik: bool = False
    government: bool = False


@dataclass(frozen=True)
class WarrantSpec:
    id: str
    holder: str
    maturity: float
    volatility: float
    rate: float
    share_price: float | None = None
    strike: float | None = None
    count: float | None = None
    shares_outstanding: float | None = None
    fraction: float | None = None
    strike_equity_value: float | None = None
    equity_value: float | Literal["model"] | None = None
    government: bool = False


@dataclass(frozen=True)
class FloorSpec:
    id: str
    product: str
    floor: float                          # USD/kg
    start: int
    years: int
    covered_share: float = 1.0
    upside_share: float = 0.0
    upside_from: int | None = None


@dataclass(frozen=True)
class OfftakeSpec:
    id: str
    product: str
    share: float
    start: int
    years: int
    price: PriceLinkSpec | None = None


@dataclass(frozen=True)
class IndexSpec:
    name: str
    model: Literal["gbm", "mean_reverting"]
    start: float                          # USD/kg, observed
    lag: int                              # years from observation to model year 0
    volatility: float
    drift: float = 0.0
    speed: float | None = None
    long_run: float | None = None
    calibration: str = ""


@dataclass(frozen=True)
class Case:
    facility: FacilitySpec
    start_year: int
    n_years: int
    government_discount_rate: float
    indices: tuple[IndexSpec, ...] = ()
    loans: tuple[LoanSpec, ...] = ()
    equity: tuple[EquitySpec, ...] = ()
    warrants: tuple[WarrantSpec, ...] = ()
    floors: tuple[FloorSpec, ...] = ()
    offtakes: tuple[OfftakeSpec, ...] = ()


@dataclass
class CaseResult:
    years: np.ndarray                                  # [year] calendar
    index: dict[str, np.ndarray]                       # name -> [sample, year] USD/kg
    base: dict[str, np.ndarray]                        # base-case flows [year], USD/yr
    loans: dict[str, LoanSchedule]
    samples: dict[str, np.ndarray]                     # per-sample metrics [sample]
    summary: dict[str, Any]


# ---------------------------------------------------------------------------------------


def index_paths(
    spec: IndexSpec, n_years: int, n_samples: int, rng: np.random.Generator | None
) -> np.ndarray:
    """Price paths [sample, year] USD/kg; with ``rng=None`` the median path [1, year]."""
    if rng is None:
        t = np.arange(n_years) + spec.lag
        if spec.model == "gbm":
            return (spec.start * np.exp((spec.drift - 0.5 * spec.volatility**2) * t))[None, :]
        assert spec.speed is not None and spec.long_run is not None
        m = math.log(spec.long_run)
        return np.exp(m + np.exp(-spec.speed * t) * (math.log(spec.start) - m))[None, :]
    if spec.model == "gbm":
        return gbm_paths(
            rng, spec.start, n_years, n_samples, spec.volatility, spec.drift, lag=spec.lag
        )
    if spec.speed is None or spec.long_run is None:
        raise chk.fail(f"price_model.{spec.name}", "mean_reverting needs speed and long_run")
    return mean_reverting_paths(
        rng, spec.start, n_years, n_samples, spec.volatility, spec.speed, spec.long_run,
        lag=spec.lag,
    )


def _price(link: PriceLinkSpec, idx: dict[str, np.ndarray], N: int, path: str) -> np.ndarray:
    t = np.arange(N)
    fixed = link.fixed * (1.0 + link.escalation) ** t
    if link.index is None:
        return fixed[None, :]
    if link.index not in idx:
        raise chk.fail(f"{path}.index", f"unknown price index '{link.index}'")
    return fixed[None, :] + link.pass_through * idx[link.index]


def _flows(
    case: Case,
    idx: dict[str, np.ndarray],
    interest: np.ndarray,
    with_floor: bool,
) -> tuple[CashFlows, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Cash flows for paths ``idx``; returns flows, floor payments, floor receipts, prices."""
    f = case.facility
    N = case.n_years
    u = utilisation_path(f.utilisation, N, f.cod)
    prices = {
        p.name: _price(p.price, idx, N, f"facilities.{f.id}.products.{p.name}.price")
        for p in f.products
    }
    S = max(v.shape[0] for v in prices.values())
    pp = np.stack([np.broadcast_to(prices[p.name], (S, N)) for p in f.products], axis=1)
    if f.feeds:
        fp = np.stack(
            [
                np.broadcast_to(
                    _price(fd.price, idx, N, f"facilities.{f.id}.feedstocks.{fd.name}.price"),
                    (S, N),
                )
                for fd in f.feeds
            ],
            axis=1,
        )
        use = np.array([fd.use for fd in f.feeds])
    else:
        fp = np.zeros((S, 0, N))
        use = np.zeros(0)
    yields = {p.name: p.yield_ for p in f.products}
    output = f.capacity * u
    extra = np.zeros((S, N))
    pays = np.zeros((S, N))
    recv = np.zeros((S, N))
    for fl in case.floors if with_floor else ():
        vol = fl.covered_share * yields[fl.product] * output
        active = contract_window(N, fl.start, fl.years)
        up = active.copy()
        if fl.upside_from is not None:
            up &= np.arange(N) >= fl.upside_from
        res = price_floor_payout(
            np.broadcast_to(prices[fl.product], (S, N)), fl.floor, vol, active,
            upside_share=fl.upside_share, upside_active=up,
        )
        pays += res.government_pays
        recv += res.government_receives
        extra += res.net
    for off in case.offtakes:
        vol = yields[off.product] * output
        cp = None if off.price is None else _price(off.price, idx, N, f"contracts.{off.id}.price")
        extra += offtake_adjustment(
            np.broadcast_to(prices[off.product], (S, N)), vol, off.share, cp,
            contract_window(N, off.start, off.years),
        )
    cf = facility_cash_flows(
        capacity=f.capacity,
        utilisation=u,
        product_yield=np.array([p.yield_ for p in f.products]),
        product_price=pp,
        feed_use=use,
        feed_price=fp,
        opex_fixed=f.opex_fixed,
        opex_variable=f.opex_variable * 1000.0,
        capex=f.capex,
        cod=f.cod,
        depreciation_schedule=f.depreciation_schedule,
        tax_rate=f.tax_rate,
        loss_offset_limit=f.loss_offset_limit,
        working_capital=f.working_capital,
        extra_revenue=extra,
        interest=interest,
    )
    return cf, pays, recv, {k: np.broadcast_to(v, (S, N)) for k, v in prices.items()}


def _stats(x: np.ndarray) -> dict[str, float | None]:
    x = np.asarray(x, dtype=np.float64)
    ok = x[np.isfinite(x)]
    if ok.size == 0:
        return {"mean": None, "p5": None, "p50": None, "p95": None, "n_defined": 0}
    p5, p50, p95 = np.percentile(ok, [5, 50, 95])
    return {
        "mean": float(ok.mean()),
        "p5": float(p5),
        "p50": float(p50),
        "p95": float(p95),
        "n_defined": int(ok.size),
    }


def _equity_cf(
    case: Case, cf: CashFlows, loans: dict[str, LoanSchedule]
) -> tuple[np.ndarray, np.ndarray]:
    """Equity cash flows [..., year] to the sponsor's common equity, and total debt service."""
    N = case.n_years
    draws = sum((s.draw for s in loans.values()), np.zeros(N))
    service = sum((s.debt_service for s in loans.values()), np.zeros(N))
    shield = cf.tax_unlevered - cf.tax_levered
    eq = cf.project_fcf + shield + draws - service
    for e in case.equity:
        # common equity from any holder is part of the common-equity cash flow itself
        # (its contributions are the negative years); only preferred sits outside it
        if e.kind == "preferred":
            ps = preferred_schedule(e.amount, e.dividend_rate, N, start=e.year, pik=e.pik)
            term = np.zeros(N)
            term[-1] = ps.balance[-1]
            eq = eq + ps.issue - ps.dividend_cash - term
    return eq, service


def run_case(case: Case, *, n_samples: int = 1000, rng: np.random.Generator) -> CaseResult:
    """Simulate ``case`` over ``n_samples`` price paths drawn with ``rng``.

    The same generator state gives bit-identical results. Indices are drawn in the order
    of ``case.indices``.
    """
    S = chk.whole_years(n_samples, "samples", minimum=1)
    if not isinstance(rng, np.random.Generator):
        raise chk.fail("rng", "must be a numpy.random.Generator (np.random.default_rng(seed))")
    f = case.facility
    N = case.n_years
    years = case.start_year + np.arange(N)
    gdr = case.government_discount_rate

    base_idx = {ix.name: index_paths(ix, N, 1, None) for ix in case.indices}
    mc_idx = {ix.name: index_paths(ix, N, S, rng) for ix in case.indices}

    # loans: sculpted profiles follow the base-case unlevered CFADS
    cf0, *_ = _flows(case, base_idx, np.zeros(N), with_floor=True)
    profile = (cf0.ebitda - cf0.tax_unlevered - cf0.delta_working_capital)[0] - np.where(
        np.arange(N) >= f.cod, f.capex, 0.0
    )
    loans: dict[str, LoanSchedule] = {}
    for ln in case.loans:
        d = draw_schedule(ln.amount, ln.draw_shares, path=f"loans.{ln.id}.draws")
        try:
            loans[ln.id] = loan_schedule(
                d, ln.rate, ln.tenor, ln.grace, n_years=N, start=ln.start,
                grace_interest=ln.grace_interest, amortisation=ln.amortisation,
                profile=profile if ln.amortisation == "sculpted" else None,
            )
        except Exception as exc:
            from rareflow.errors import Problem, RareflowInputError

            if isinstance(exc, RareflowInputError):
                raise RareflowInputError(
                    [
                        Problem(p.message, p.file, p.line, f"loans.{ln.id}.{p.path}")
                        for p in exc.problems
                    ]
                ) from None
            raise
    interest = sum((s.interest_paid for s in loans.values()), np.zeros(N))

    ops = np.arange(N) >= f.cod
    out_samples: dict[str, np.ndarray] = {}
    base: dict[str, np.ndarray] = {}
    for with_floor in (True, False) if case.floors else (True,):
        tag = "" if with_floor else "_no_floor"
        cf_b, pays_b, recv_b, prices_b = _flows(case, base_idx, interest, with_floor)
        cf, pays, recv, _ = _flows(case, mc_idx, interest, with_floor)
        eq, service = _equity_cf(case, cf, loans)
        eq_b, _ = _equity_cf(case, cf_b, loans)
        out_samples[f"npv_project{tag}"] = npv(f.discount_rate, cf.project_fcf)
        ir = irr(cf.project_fcf)
        out_samples[f"irr_project{tag}"] = ir.rate
        out_samples[f"npv_equity{tag}"] = npv(f.equity_discount_rate, eq)
        out_samples[f"irr_equity{tag}"] = irr(eq).rate
        out_samples[f"payback{tag}"] = payback(cf.project_fcf)
        if loans:
            ds = dscr(cf.cfads, service, mask=ops)
            out_samples[f"dscr_min{tag}"] = ds.minimum
            out_samples[f"dscr_avg{tag}"] = ds.average
        if with_floor:
            base = {k: v[0] for k, v in cf_b.as_dict().items()}
            base["equity_cf"] = eq_b[0]
            base["debt_service"] = service
            for name, p in prices_b.items():
                base[f"price_{name}"] = p[0]
            for name, p in base_idx.items():
                base[f"index_{name}"] = p[0]
            if case.floors:
                base["floor_government_pays"] = pays_b[0]
                base["floor_government_receives"] = recv_b[0]
                disc = discount_factors(gdr, N)
                out_samples["floor_gov_cost_pv"] = (pays - recv) @ disc
                out_samples["floor_gov_payments_pv"] = pays @ disc
                out_samples["floor_gov_receipts_pv"] = recv @ disc
                out_samples["floor_years_paying"] = (pays > 0).sum(axis=-1).astype(np.float64)
                base_cost = float(((pays_b - recv_b) @ disc)[0])
            base_metrics = {
                "npv_project": float(npv(f.discount_rate, cf_b.project_fcf)[0]),
                "irr_project": float(irr(cf_b.project_fcf).rate[0]),
                "irr_project_reason": str(irr(cf_b.project_fcf).reason[0]),
                "npv_equity": float(npv(f.equity_discount_rate, eq_b)[0]),
                "irr_equity": float(irr(eq_b).rate[0]),
                "irr_equity_reason": str(irr(eq_b).reason[0]),
                "payback_years": float(payback(cf_b.project_fcf)[0]),
            }
            if loans:
                dsb = dscr(cf_b.cfads, service, mask=ops)
                base_metrics["dscr_min"] = float(dsb.minimum[0])
                base_metrics["dscr_avg"] = float(dsb.average[0])
            if case.floors:
                base_metrics["floor_gov_cost_pv"] = base_cost
            irr_reasons = ir.reason
        else:
            base_metrics["npv_project_no_floor"] = float(npv(f.discount_rate, cf_b.project_fcf)[0])
            base_metrics["npv_equity_no_floor"] = float(npv(f.equity_discount_rate, eq_b)[0])

    # warrants
    warrants_out: dict[str, Any] = {}
    for w in case.warrants:
        if w.share_price is not None:
            assert w.strike is not None and w.count is not None
            v = warrant_value(
                w.share_price, w.strike, w.count, w.maturity, w.volatility, w.rate,
                shares_outstanding=w.shares_outstanding,
            )
            warrants_out[w.id] = {"holder": w.holder, "basis": "per share", **v}
        else:
            assert w.fraction is not None and w.strike_equity_value is not None
            if w.equity_value == "model":
                disc = discount_factors(f.equity_discount_rate, N)
                E = float(np.sum(np.where(ops, base["equity_cf"], 0.0) * disc))
                basis = (
                    "equity value from the model (PV of base-case equity cash flows "
                    "from operation)"
                )
            else:
                E = float(w.equity_value)  # type: ignore[arg-type]
                basis = "equity value given"
            if E <= 0:
                warrants_out[w.id] = {
                    "holder": w.holder, "basis": basis, "equity_value": E, "total": 0.0,
                    "note": "equity value is not positive: the warrants are worth ~0",
                }
            else:
                call = float(
                    black_scholes_call(E, w.strike_equity_value, w.maturity, w.volatility, w.rate)
                )
                warrants_out[w.id] = {
                    "holder": w.holder, "basis": basis, "equity_value": E,
                    "strike_equity_value": w.strike_equity_value, "fraction": w.fraction,
                    "total": w.fraction * call,
                }

    notes = []
    if base_metrics["payback_years"] < 1.0:
        notes.append(
            "the base case pays back within its first year (an existing plant without "
            "initial investment): IRR and payback are not meaningful here, use NPV"
        )
    summary: dict[str, Any] = {
        "facility": f.id,
        "notes": notes,
        "years": [int(years[0]), int(years[-1])],
        "samples": S,
        "government_discount_rate": gdr,
        "base_case": base_metrics,
        "monte_carlo": {k: _stats(v) for k, v in out_samples.items()},
        "irr_undefined_share": float(np.mean(~np.isfinite(out_samples["irr_project"]))),
        "irr_reasons": sorted({str(r) for r in np.ravel(irr_reasons) if r}),
        "loans": {
            ln.id: {
                "lender": ln.lender,
                "government": ln.government,
                "amount": float(loans[ln.id].draw.sum()),
                "rate": ln.rate,
                "interest_capitalised": float(loans[ln.id].interest_capitalised.sum()),
                "total_debt_service": float(loans[ln.id].debt_service.sum()),
                # lender's NPV at the government discount rate, repaid in full (no default)
                "lender_npv_at_government_rate": float(
                    npv(gdr, loans[ln.id].debt_service - loans[ln.id].draw)
                ),
            }
            for ln in case.loans
        },
        "warrants": warrants_out,
        "price_indices": {
            ix.name: {
                "model": ix.model, "start": ix.start, "volatility": ix.volatility,
                "drift": ix.drift, "speed": ix.speed, "long_run": ix.long_run,
                "calibration": ix.calibration,
            }
            for ix in case.indices
        },
    }
    if case.floors:
        cost = out_samples["floor_gov_cost_pv"]
        summary["floor_government_cost"] = {
            **_stats(cost),
            "probability_of_paying": float(np.mean(out_samples["floor_gov_payments_pv"] > 0)),
            "expected_years_paying": float(np.mean(out_samples["floor_years_paying"])),
            "payments_pv": _stats(out_samples["floor_gov_payments_pv"]),
            "upside_receipts_pv": _stats(out_samples["floor_gov_receipts_pv"]),
            "discount_rate": gdr,
            "floors": [
                {"id": fl.id, "product": fl.product, "floor": fl.floor,
                 "years": [int(years[0] + fl.start), int(years[0] + fl.start + fl.years - 1)],
                 "covered_share": fl.covered_share, "upside_share": fl.upside_share}
                for fl in case.floors
            ],
        }
        summary["npv_project_with_floor"] = _stats(out_samples["npv_project"])
        summary["npv_project_without_floor"] = _stats(out_samples["npv_project_no_floor"])
    return CaseResult(years, mc_idx, base, loans, out_samples, summary)
