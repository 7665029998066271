"""Turn an ``economics:`` scenario section into a :class:`~.analysis.Case` for one facility.

Checks that the facility has every cost figure the cash flows need; a missing one is
reported with the facility and field (all missing fields at once), e.g.
``economics.facilities.vulcan_10k.opex_fixed: missing cost data for facility
'vulcan_10k': opex_fixed (fixed operating cost, USD per year, e.g. '40 MUSD') ...``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rareflow.engines.economics.analysis import (
    Case,
    EquitySpec,
    FacilitySpec,
    FeedSpec,
    FloorSpec,
    IndexSpec,
    LoanSpec,
    OfftakeSpec,
    PriceLinkSpec,
    ProductSpec,
    WarrantSpec,
)
from rareflow.engines.economics.cashflows import straight_line
from rareflow.engines.economics.prices import log_return_stats
from rareflow.errors import Problem, RareflowInputError

__all__ = ["compile_case", "REQUIRED_FIELDS"]

ROOT = "economics"

REQUIRED_FIELDS: dict[str, str] = {
    "capacity": "capacity of the main output, e.g. '10 kt/yr'",
    "construction_start": "calendar year construction starts, e.g. 2026",
    "cod": "calendar year of commercial operation, e.g. 2029",
    "utilisation": "utilisation by operating year, e.g. [25 %, 60 %, 90 %]",
    "capex": "initial capital cost, e.g. '1220 MUSD'",
    "capex_schedule": "share of capex spent each year from construction_start, e.g. [40 %, 60 %]",
    "opex_fixed": "fixed operating cost, USD per year, e.g. '40 MUSD'",
    "opex_variable": "variable operating cost per kg of output, e.g. '18 USD/kg'",
    "tax_rate": "income tax rate, e.g. '25 %'",
    "depreciation": "tax depreciation, e.g. {method: straight_line, life: 10 yr}",
    "discount_rate": "project discount rate, e.g. '8 %'",
    "equity_discount_rate": "equity discount rate, e.g. '12 %'",
}


def _v(fig: Any) -> float:
    return float(fig.value)


def _link(p: Any) -> PriceLinkSpec:
    return PriceLinkSpec(
        fixed=_v(p.fixed), index=p.index, pass_through=_v(p.pass_through),
        escalation=_v(p.escalation),
    )


def compile_case(
    section: Any,
    facility_id: str,
    *,
    file: str | None = None,
    line_of: Any = None,
    where: Any = None,
) -> Case:
    """Build the :class:`Case` of ``facility_id`` from an :class:`EconomicsSection`.

    For error messages: ``file`` and ``line_of`` (a path tuple -> line), or ``where``
    (a path tuple -> (file, line)), e.g. from a loaded scenario's document.
    """

    def problem(path: str, msg: str) -> Problem:
        parts = tuple(int(x) if x.isdigit() else x for x in path.split("."))
        if where is not None:
            f, line = where(parts)
            return Problem(msg, f, line, path)
        line = line_of(parts) if line_of is not None else None
        return Problem(msg, file, line, path)

    fac = section.facilities.get(facility_id)
    if fac is None:
        known = ", ".join(sorted(section.facilities)) or "none"
        raise RareflowInputError(
            [problem(f"{ROOT}.facilities", f"no facility '{facility_id}' (known: {known})")]
        )
    base = f"{ROOT}.facilities.{facility_id}"
    problems = [
        problem(
            f"{base}.{name}",
            f"missing cost data for facility '{facility_id}': {name} ({what}) is needed to "
            "compute its cash flows",
        )
        for name, what in REQUIRED_FIELDS.items()
        if getattr(fac, name) is None
    ]
    if not fac.products:
        problems.append(
            problem(f"{base}.products", f"facility '{facility_id}' has no products to sell")
        )
    if problems:
        raise RareflowInputError(problems)

    start = int(section.start_year)
    n = int(round(_v(section.horizon)))
    if n < 1 or abs(_v(section.horizon) - n) > 1e-9:
        raise RareflowInputError(
            [problem(f"{ROOT}.horizon", "must be a whole number of years, at least 1")]
        )

    def idx_year(year: int, path: str, *, allow_end: bool = False) -> int:
        k = int(year) - start
        if k < 0 or k >= n + (1 if allow_end else 0):
            raise RareflowInputError(
                [problem(path, f"year {year} is outside the analysis {start}–{start + n - 1}")]
            )
        return k

    cs = idx_year(fac.construction_start, f"{base}.construction_start")
    cod = idx_year(fac.cod, f"{base}.cod")
    shares = np.array(fac.capex_schedule.value)
    if abs(shares.sum() - 1) > 1e-6:
        raise RareflowInputError(
            [
                problem(
                    f"{base}.capex_schedule",
                    f"shares must add up to 100 % (they add up to {shares.sum():.2%})",
                )
            ]
        )
    if cs + shares.size > n:
        raise RareflowInputError(
            [problem(f"{base}.capex_schedule", "capex spending runs past the horizon")]
        )
    capex = np.zeros(n)
    capex[cs : cs + shares.size] = _v(fac.capex) * shares
    if fac.sustaining_capex is not None:
        capex[cod:] += _v(fac.sustaining_capex)
    dep = fac.depreciation
    if dep.method == "straight_line":
        life = dep.life
        if life < 1 or abs(life - round(life)) > 1e-9:
            raise RareflowInputError(
                [
                    problem(
                        f"{base}.depreciation.life", "must be a whole number of years, at least 1"
                    )
                ]
            )
        schedule = straight_line(int(round(life)))
    else:
        schedule = np.array(dep.schedule, dtype=float)
        if abs(schedule.sum() - 1) > 1e-6:
            raise RareflowInputError(
                [
                    problem(
                        f"{base}.depreciation.schedule",
                        f"shares must add up to 100 % (they add up to {schedule.sum():.2%})",
                    )
                ]
            )

    facility = FacilitySpec(
        id=facility_id,
        capacity=_v(fac.capacity),
        cod=cod,
        utilisation=np.array(fac.utilisation.value),
        capex=capex,
        opex_fixed=_v(fac.opex_fixed),
        opex_variable=_v(fac.opex_variable),
        products=tuple(
            ProductSpec(pid, _v(p.yield_), _link(p.price)) for pid, p in fac.products.items()
        ),
        feeds=tuple(FeedSpec(k, _v(fd.use), _link(fd.price)) for k, fd in fac.feedstocks.items()),
        tax_rate=_v(fac.tax_rate),
        loss_offset_limit=1.0 if fac.loss_offset_limit is None else _v(fac.loss_offset_limit),
        depreciation_schedule=schedule,
        working_capital=0.0 if fac.working_capital is None else _v(fac.working_capital),
        discount_rate=_v(fac.discount_rate),
        equity_discount_rate=_v(fac.equity_discount_rate),
    )

    # price indices used by this facility (and its contracts)
    used: set[str] = set()
    for p in list(fac.products.values()) + list(fac.feedstocks.values()):
        if p.price.index:
            used.add(p.price.index)
    for c in section.contracts.values():
        if c.facility == facility_id and getattr(c, "price", None) is not None and c.price.index:
            used.add(c.price.index)
    indices = []
    for name, ix in section.price_model.items():
        if name not in used:
            continue
        path = f"{ROOT}.price_model.{name}"
        lag = int(start - ix.observed_year)
        if lag < 0:
            raise RareflowInputError(
                [problem(f"{path}.observed_year", f"must not be after start_year {start}")]
            )
        stats = None
        if ix.history is not None:
            yrs = sorted(ix.history.values)
            if yrs != list(range(yrs[0], yrs[-1] + 1)):
                raise RareflowInputError(
                    [problem(f"{path}.history.values", "years must be consecutive")]
                )
            try:
                stats = log_return_stats(np.array([ix.history.values[y] for y in yrs]))
            except RareflowInputError as exc:
                raise RareflowInputError(
                    [problem(f"{path}.history", p.message) for p in exc.problems]
                ) from None
        if ix.volatility is not None:
            vol = _v(ix.volatility)
            calib = f"volatility {vol:.3f}/√yr given ({ix.volatility.provenance()})"
        else:
            assert stats is not None
            vol = stats.volatility
            calib = (
                f"volatility {vol:.3f}/√yr = sample std (ddof=1) of {stats.n} annual log returns "
                f"of {name} {yrs[0]}–{yrs[-1]} ({ix.history.source or 'assumption'}); mean log "
                f"return {stats.mean:+.3f}/yr not used as drift"
            )
        long_run = None
        if ix.model == "mean_reverting":
            if ix.long_run is not None:
                long_run = _v(ix.long_run)
                calib += f"; long-run median {long_run:.1f} USD/kg given"
            else:
                assert stats is not None
                long_run = stats.geometric_mean_price
                calib += f"; long-run median {long_run:.1f} USD/kg = geometric mean of the history"
            calib += f"; reversion speed {_v(ix.speed):.2f}/yr"
        indices.append(
            IndexSpec(
                name=name, model=ix.model, start=_v(ix.start), lag=lag, volatility=vol,
                drift=_v(ix.drift), speed=None if ix.speed is None else _v(ix.speed),
                long_run=long_run, calibration=calib,
            )
        )

    def whole(fig: Any, path: str) -> int:
        v = _v(fig)
        if v < 0 or abs(v - round(v)) > 1e-9:
            raise RareflowInputError(
                [problem(path, f"must be a whole, non-negative number of years (got {v:g})")]
            )
        return int(round(v))

    loans = []
    for lid, ln in section.loans.items():
        if ln.borrower != facility_id:
            continue
        path = f"{ROOT}.loans.{lid}"
        ls = idx_year(ln.start_year, f"{path}.start_year")
        tenor = whole(ln.tenor, f"{path}.tenor")
        grace = whole(ln.grace, f"{path}.grace")
        if tenor < 1:
            raise RareflowInputError([problem(f"{path}.tenor", "must be at least 1 year")])
        if grace >= tenor:
            raise RareflowInputError(
                [problem(f"{path}.grace", f"grace ({grace} yr) must be shorter than the tenor "
                         f"({tenor} yr)")]
            )
        if _v(ln.rate) >= 1.0:
            raise RareflowInputError(
                [problem(f"{path}.rate", "must be below 100 % per year")]
            )
        if ls + tenor > n:
            raise RareflowInputError(
                [problem(f"{path}.tenor", f"the loan runs to {ln.start_year + tenor - 1}, past "
                         f"the analysis horizon {start + n - 1}; lengthen economics.horizon "
                         "or shorten the tenor")]
            )
        for i, d in enumerate(ln.draws):
            if d.year - ln.start_year >= max(grace, 1):
                raise RareflowInputError(
                    [problem(f"{path}.draws.{i}.year", f"draw in {d.year} falls after the grace "
                             f"period ({grace} yr from {ln.start_year}); draws must come before "
                             "repayment starts")]
                )
        draw = np.zeros(max(tenor, 1))
        if abs(sum(d.share for d in ln.draws) - 1.0) > 1e-6:
            raise RareflowInputError(
                [problem(f"{path}.draws", "draw shares must add up to 100 % (they add up to "
                         f"{sum(d.share for d in ln.draws):.2%})")]
            )
        for i, d in enumerate(ln.draws):
            k = d.year - ln.start_year
            if k < 0 or k >= draw.size:
                raise RareflowInputError(
                    [
                        problem(
                            f"{path}.draws.{i}.year",
                            f"draw year {d.year} is outside the loan's life "
                            f"{ln.start_year}–{ln.start_year + tenor - 1}",
                        )
                    ]
                )
            draw[k] += d.share
        loans.append(
            LoanSpec(
                id=lid, amount=_v(ln.amount), rate=_v(ln.rate), tenor=tenor, grace=grace,
                start=ls, draw_shares=draw, grace_interest=ln.grace_interest,
                amortisation=ln.amortisation, lender=ln.lender or "", government=ln.government,
            )
        )

    equity = []
    for eid, e in section.equity.items():
        if e.facility != facility_id:
            continue
        path = f"{ROOT}.equity.{eid}"
        if e.kind == "preferred" and e.dividend_rate is None:
            raise RareflowInputError(
                [problem(f"{path}.dividend_rate", "preferred equity needs a dividend_rate")]
            )
        equity.append(
            EquitySpec(
                id=eid, holder=e.holder, amount=_v(e.amount), year=idx_year(e.year, f"{path}.year"),
                kind=e.kind, dividend_rate=0.0 if e.dividend_rate is None else _v(e.dividend_rate),
                pik=e.pik, government=e.government,
            )
        )

    warrants = []
    for wid, w in section.warrants.items():
        if w.facility != facility_id:
            continue
        ev = w.equity_value
        warrants.append(
            WarrantSpec(
                id=wid, holder=w.holder, maturity=_v(w.maturity), volatility=_v(w.volatility),
                rate=_v(w.rate),
                share_price=None if w.share_price is None else _v(w.share_price),
                strike=None if w.strike is None else _v(w.strike),
                count=None if w.count is None else _v(w.count),
                shares_outstanding=(
                    None if w.shares_outstanding is None else _v(w.shares_outstanding)
                ),
                fraction=None if w.fraction is None else _v(w.fraction),
                strike_equity_value=(
                    None if w.strike_equity_value is None else _v(w.strike_equity_value)
                ),
                equity_value=ev if ev in (None, "model") else _v(ev),
                government=w.government,
            )
        )

    floors, offtakes = [], []
    for cid, c in section.contracts.items():
        if c.facility != facility_id:
            continue
        path = f"{ROOT}.contracts.{cid}"
        cstart = idx_year(c.start_year, f"{path}.start_year")
        years = whole(c.years, f"{path}.years")
        if c.kind == "price_floor":
            floors.append(
                FloorSpec(
                    id=cid, product=c.product, floor=_v(c.floor), start=cstart, years=years,
                    covered_share=_v(c.covered_share), upside_share=_v(c.upside_share),
                    upside_from=None if c.upside_from_year is None
                    else idx_year(c.upside_from_year, f"{path}.upside_from_year", allow_end=True),
                )
            )
        else:
            offtakes.append(
                OfftakeSpec(
                    id=cid, product=c.product, share=_v(c.share), start=cstart, years=years,
                    price=None if c.price is None else _link(c.price),
                )
            )

    return Case(
        facility=facility,
        start_year=start,
        n_years=n,
        government_discount_rate=_v(section.government_discount_rate),
        indices=tuple(indices),
        loans=tuple(loans),
        equity=tuple(equity),
        warrants=tuple(warrants),
        floors=tuple(floors),
        offtakes=tuple(offtakes),
    )
