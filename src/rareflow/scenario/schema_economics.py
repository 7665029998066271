"""Scenario section ``economics:`` — plant economics, financing and government contracts.

Every figure may be written bare (``capex: 1220 MUSD``) or with its provenance::

    capex: {value: 1220 MUSD, assumption: "all announced Vulcan funding goes to the build"}
    floor: {value: 110 USD/kg, source: mp_dod, confidence: high}

``source`` is a source id of the reference data (``ree-facts.yaml`` ``sources:``) and then
needs ``confidence: high|medium|low``; otherwise ``assumption:`` gives the reasoning.
Bundled analyses label every figure (:func:`unlabelled_figures` lists those that are not).

Units: money in USD (``620 MUSD``; opex and sustaining capex are USD per year, written as
an amount), prices in USD/kg, capacities in t/yr, shares as ``85 %``, durations in whole
years (``10 yr``), rates as fractions per year (``5.3 %``). Years are calendar years.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from rareflow.scenario.types import Duration, Fraction, Price, StrictModel, to_canonical

Confidence = Literal["high", "medium", "low"]


class _Provenance(StrictModel):
    source: str | None = None
    confidence: Confidence | None = None
    assumption: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _check(self) -> _Provenance:
        if self.source is not None and self.confidence is None:
            raise ValueError("a figure with 'source' needs 'confidence: high|medium|low'")
        if self.confidence is not None and self.source is None:
            raise ValueError("'confidence' goes with a 'source'; use 'assumption' otherwise")
        if self.assumption is not None and not self.assumption.strip():
            raise ValueError("'assumption' must give the reasoning, not be empty")
        return self

    @property
    def labelled(self) -> bool:
        return self.source is not None or self.assumption is not None

    def provenance(self) -> str:
        if self.source is not None:
            return f"source {self.source} ({self.confidence})"
        if self.assumption is not None:
            return f"assumption: {self.assumption}"
        return "UNLABELLED (no source or assumption)"


class Figure(_Provenance):
    """A scalar figure in canonical units with its provenance."""

    value: float


class Series(_Provenance):
    """A list of figures (e.g. utilisation by operating year) with one provenance."""

    value: list[float]


def _convert(v: Any, kind: str, nonneg: bool, le1: bool) -> float:
    if kind == "number":
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError(f"expected a plain number (got {v!r})")
        x = float(v)
        if nonneg and x < 0:
            raise ValueError(f"must not be negative (got {v!r})")
        return x
    return to_canonical(v, kind, nonneg=nonneg, le1=le1)


def _figure(kind: str, *, nonneg: bool = True, le1: bool = False) -> Any:
    def conv(v: Any) -> Any:
        if isinstance(v, dict):
            if "value" not in v:
                raise ValueError("a figure written as a mapping needs 'value:'")
            return {**v, "value": _convert(v["value"], kind, nonneg, le1)}
        return {"value": _convert(v, kind, nonneg, le1)}

    return Annotated[Figure, BeforeValidator(conv)]


def _series(kind: str, *, nonneg: bool = True, le1: bool = False) -> Any:
    def conv(v: Any) -> Any:
        raw = v.get("value") if isinstance(v, dict) else v
        if not isinstance(raw, list) or not raw:
            raise ValueError("expected a non-empty list (or {value: [...], source/assumption})")
        vals = []
        for i, item in enumerate(raw):
            try:
                vals.append(_convert(item, kind, nonneg, le1))
            except ValueError as exc:
                raise ValueError(f"item {i}: {exc}") from None
        return {**v, "value": vals} if isinstance(v, dict) else {"value": vals}

    return Annotated[Series, BeforeValidator(conv)]


MoneyF = _figure("money")
PriceF = _figure("price")
MassRateF = _figure("mass_rate")
FractionF = _figure("fraction", le1=True)
RateF = _figure("fraction", le1=True)            # interest, discount, tax: fraction per year
SignedRateF = _figure("fraction", nonneg=False)   # drift may be negative
SpeedF = _figure("rate")                          # 1/yr, e.g. '30 %/yr'
DurationF = _figure("duration")
NumberF = _figure("number")
FractionS = _series("fraction", le1=True)


class PriceLink(StrictModel):
    """Price of a product or feed, USD/kg: ``fixed + pass_through × index price``."""

    fixed: PriceF = Field(default_factory=lambda: Figure(value=0.0, assumption="no fixed part"))
    index: str | None = None
    pass_through: NumberF = Field(
        default_factory=lambda: Figure(value=0.0, assumption="no link to an index")
    )
    escalation: SignedRateF = Field(
        default_factory=lambda: Figure(value=0.0, assumption="constant in real terms")
    )


class Product(StrictModel):
    """An output: ``yield`` t per t of the facility's capacity basis."""

    yield_: NumberF = Field(
        default_factory=lambda: Figure(value=1.0, assumption="the main product"), alias="yield"
    )
    price: PriceLink


class Feed(StrictModel):
    """An input bought per t of output (``use``, t/t) at ``price``."""

    use: NumberF
    price: PriceLink


class Depreciation(StrictModel):
    """Tax depreciation: straight line over ``life`` or an explicit ``schedule`` (shares by
    year of service, e.g. MACRS 7-year)."""

    method: Literal["straight_line", "schedule"] = "straight_line"
    life: Duration | None = None
    schedule: list[Fraction] | None = None
    source: str | None = None
    confidence: Confidence | None = None
    assumption: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Depreciation:
        if self.method == "straight_line" and self.life is None:
            raise ValueError("straight_line depreciation needs 'life' (e.g. '7 yr')")
        if self.method == "schedule" and self.schedule is None:
            raise ValueError("schedule depreciation needs 'schedule' (shares by year)")
        return self


class FacilityEconomics(StrictModel):
    """Economics of one facility. Cost fields are optional in the file so a scenario can
    name a facility before its costs are known; the economics command then says which are
    missing."""

    name: str | None = None
    description: str | None = None
    capacity: MassRateF | None = None
    construction_start: int | None = None
    cod: int | None = Field(default=None, description="year of commercial operation")
    planned_cod: int | None = Field(
        default=None, description="the commercial-operation year that this section's dated "
        "entries (construction_start, loan draws and start years, equity years) were written "
        "for; when cod (or the scenario facility's schedule) is later, they all move by the "
        "difference")
    utilisation: FractionS | None = None
    capex: MoneyF | None = None
    capex_schedule: FractionS | None = None
    sustaining_capex: MoneyF | None = None
    opex_fixed: MoneyF | None = None
    opex_variable: PriceF | None = None
    products: dict[str, Product] = Field(default_factory=dict)
    feedstocks: dict[str, Feed] = Field(default_factory=dict)
    tax_rate: RateF | None = None
    loss_offset_limit: FractionF | None = None
    depreciation: Depreciation | None = None
    working_capital: FractionF | None = None
    discount_rate: RateF | None = None
    equity_discount_rate: RateF | None = None


class Draw(StrictModel):
    year: int
    share: Fraction
    milestone: str | None = None


class Loan(StrictModel):
    borrower: str
    lender: str | None = None
    government: bool = False
    amount: MoneyF
    rate: RateF
    tenor: DurationF
    grace: DurationF = Field(default_factory=lambda: Figure(value=0.0, assumption="no grace"))
    grace_interest: Literal["pay", "capitalise"] = "capitalise"
    amortisation: Literal["level", "linear", "sculpted"] = "level"
    start_year: int
    draws: list[Draw] = Field(min_length=1)
    draws_source: str | None = None
    draws_confidence: Confidence | None = None
    draws_assumption: str | None = None


class Equity(StrictModel):
    """Equity put in by a named holder: common (funds capex) or preferred (dividends)."""

    facility: str
    holder: str
    kind: Literal["common", "preferred"] = "common"
    government: bool = False
    amount: MoneyF
    year: int
    dividend_rate: RateF | None = None
    pik: bool = False


class Warrant(StrictModel):
    """Warrants, valued by Black–Scholes on the equity.

    Per share (a listed company): ``share_price`` and ``strike`` (plain numbers, USD per
    share), ``count``, optional ``shares_outstanding`` for dilution. On the whole equity
    (a private company): ``fraction`` of the equity,
    ``strike_equity_value`` (the equity valuation at which it is struck, USD) and
    ``equity_value`` (USD, or ``model``: the present value of the facility's equity cash
    flows from commercial operation on, at the equity discount rate)."""

    facility: str
    holder: str
    government: bool = False
    maturity: DurationF
    volatility: FractionF
    rate: RateF
    share_price: NumberF | None = None
    strike: NumberF | None = None
    count: NumberF | None = None
    shares_outstanding: NumberF | None = None
    fraction: FractionF | None = None
    strike_equity_value: MoneyF | None = None
    equity_value: MoneyF | Literal["model"] | None = None

    @model_validator(mode="after")
    def _check(self) -> Warrant:
        per_share = (self.share_price, self.strike, self.count)
        whole = (self.fraction, self.strike_equity_value, self.equity_value)
        if all(x is not None for x in per_share):
            return self
        if all(x is not None for x in whole):
            return self
        raise ValueError(
            "give either share_price, strike and count (per share) or fraction, "
            "strike_equity_value and equity_value (on the whole equity)"
        )


class PriceFloor(StrictModel):
    kind: Literal["price_floor"]
    facility: str
    product: str
    floor: PriceF
    start_year: int
    years: DurationF
    covered_share: FractionF = Field(
        default_factory=lambda: Figure(value=1.0, assumption="all output covered")
    )
    upside_share: FractionF = Field(
        default_factory=lambda: Figure(value=0.0, assumption="no upside sharing")
    )
    upside_from_year: int | None = None


class Offtake(StrictModel):
    kind: Literal["offtake"]
    facility: str
    product: str
    share: FractionF
    start_year: int
    years: DurationF
    price: PriceLink | None = None


Contract = Annotated[PriceFloor | Offtake, Field(discriminator="kind")]


class IndexHistory(StrictModel):
    """Observed annual prices (USD/kg) by calendar year, for calibration."""

    values: dict[int, Price]
    source: str | None = None
    confidence: Confidence | None = None
    assumption: str | None = None


class PriceIndex(StrictModel):
    """A simulated commodity price (e.g. NdPr oxide), lognormal."""

    model: Literal["gbm", "mean_reverting"] = "mean_reverting"
    start: PriceF
    observed_year: int
    history: IndexHistory | None = None
    volatility: FractionF | None = None
    drift: SignedRateF = Field(
        default_factory=lambda: Figure(value=0.0, assumption="flat in expectation")
    )
    speed: SpeedF | None = None
    long_run: PriceF | None = None

    @model_validator(mode="after")
    def _check(self) -> PriceIndex:
        if self.volatility is None and self.history is None:
            raise ValueError("give 'volatility' or a 'history' of prices to calibrate it")
        if self.model == "mean_reverting" and self.speed is None:
            raise ValueError("a mean_reverting index needs 'speed' (e.g. '30 %/yr')")
        if self.model == "mean_reverting" and self.long_run is None and self.history is None:
            raise ValueError("give 'long_run' or a 'history' (its geometric mean is used)")
        return self


class EconomicsSection(StrictModel):
    """The ``economics:`` section of a scenario file."""

    description: str | None = None
    start_year: int
    horizon: DurationF
    government_discount_rate: RateF
    price_model: dict[str, PriceIndex] = Field(default_factory=dict)
    facilities: dict[str, FacilityEconomics] = Field(default_factory=dict)
    loans: dict[str, Loan] = Field(default_factory=dict)
    equity: dict[str, Equity] = Field(default_factory=dict)
    warrants: dict[str, Warrant] = Field(default_factory=dict)
    contracts: dict[str, Contract] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _refs(self) -> EconomicsSection:
        problems = []
        for group in ("loans", "equity", "warrants", "contracts"):
            for key, item in getattr(self, group).items():
                fac = getattr(item, "borrower", None) or getattr(item, "facility", None)
                if fac not in self.facilities:
                    problems.append(
                        f"{group}.{key}: names facility '{fac}', which is not under "
                        "economics.facilities (known: "
                        f"{', '.join(sorted(self.facilities)) or 'none'})"
                    )
        for cid, c in self.contracts.items():
            fac = self.facilities.get(c.facility)
            if fac is not None and c.product not in fac.products:
                problems.append(
                    f"contracts.{cid}: product '{c.product}' is not a product of facility "
                    f"'{c.facility}' (products: {', '.join(sorted(fac.products)) or 'none'})"
                )
        for fid, f in self.facilities.items():
            for kind, items in (("products", f.products), ("feedstocks", f.feedstocks)):
                for pid, p in items.items():
                    if p.price.index is not None and p.price.index not in self.price_model:
                        problems.append(
                            f"facilities.{fid}.{kind}.{pid}.price.index: '{p.price.index}' is "
                            f"not under economics.price_model"
                        )
        if problems:
            raise ValueError("; ".join(problems))
        return self


def iter_figures(obj: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every :class:`Figure`/:class:`Series` (and history/draw provenance holder) in
    ``obj`` with its dotted path."""
    if isinstance(obj, Figure | Series):
        yield path, obj
        return
    if isinstance(obj, StrictModel):
        for name, fld in type(obj).model_fields.items():
            label = fld.alias or name
            yield from iter_figures(getattr(obj, name), f"{path}.{label}" if path else label)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from iter_figures(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from iter_figures(v, f"{path}.{i}")


def unlabelled_figures(section: EconomicsSection) -> list[str]:
    """Dotted paths of figures that carry neither ``source`` nor ``assumption``."""
    out = [p for p, f in iter_figures(section) if not f.labelled]
    for lid, loan in section.loans.items():
        if loan.draws_source is None and loan.draws_assumption is None:
            out.append(f"loans.{lid}.draws")
    for iid, idx in section.price_model.items():
        h = idx.history
        if h is not None and h.source is None and h.assumption is None:
            out.append(f"price_model.{iid}.history")
    for fid, f in section.facilities.items():
        d = f.depreciation
        if d is not None and d.source is None and d.assumption is None:
            out.append(f"facilities.{fid}.depreciation")
    return out


def source_ids(section: EconomicsSection) -> set[str]:
    """Every source id cited in the section."""
    ids = {f.source for _, f in iter_figures(section) if f.source}
    ids |= {lo.draws_source for lo in section.loans.values() if lo.draws_source}
    ids |= {
        i.history.source for i in section.price_model.values() if i.history and i.history.source
    }
    ids |= {
        f.depreciation.source
        for f in section.facilities.values()
        if f.depreciation and f.depreciation.source
    }
    return ids


# --- standalone economics files ---------------------------------------------------------

BUNDLED_DIR = "data/scenarios/economics"
_STANDALONE_KEYS = {"name", "description", "economics", "extends"}


def bundled_economics() -> dict[str, Any]:
    """Bundled analyses: name -> path (``src/rareflow/data/scenarios/economics/*.yaml``)."""
    from rareflow.resources import package_root

    folder = package_root() / BUNDLED_DIR
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def validation_problems(exc: Any, file: str | None, line_of: Any, prefix: tuple = ()) -> list:
    """Problems (with lines) from a pydantic ValidationError."""
    from rareflow.errors import Problem

    out = []
    for err in exc.errors():
        loc = tuple(str(x) for x in err.get("loc", ()))
        # drop pydantic's union/validator tags (e.g. 'price_floor', 'function-after[...]')
        clean = tuple(x for x in loc if not (x.startswith("function-") or "[" in x))
        path = (*prefix, *clean)
        msg = err.get("msg", "invalid value")
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if err.get("type") == "extra_forbidden":
            msg = "unknown key (misspelt?)"
        elif err.get("type") == "missing":
            msg = "required field is missing"
        out.append(Problem(msg, file, line_of(path) if line_of else None, ".".join(path)))
    return out


def parse_section(data: Any, *, file: str | None = None, line_of: Any = None) -> EconomicsSection:
    """Validate the mapping under ``economics:``; errors carry ``FILE:LINE`` when known."""
    from pydantic import ValidationError

    from rareflow.errors import RareflowInputError

    if not isinstance(data, dict):
        raise RareflowInputError.single(
            "the economics section must be a mapping", file=file, path="economics"
        )
    try:
        return EconomicsSection.model_validate(data)
    except ValidationError as exc:
        raise RareflowInputError(validation_problems(exc, file, line_of, ("economics",))) from None


def load_economics(path_or_name: str) -> tuple[EconomicsSection, str, Any]:
    """Read only the ``economics:`` section of a file (top-level keys ``name``,
    ``description``, ``extends``, ``economics``; ``extends`` is not followed) or of a
    bundled analysis by name, without loading the rest of a scenario. Returns
    (section, file, line_of). ``rareflow.load_scenario`` loads the same files in full."""
    from pathlib import Path

    from rareflow.errors import RareflowInputError
    from rareflow.resources import display_name, is_file
    from rareflow.scenario.yaml_io import load_yaml

    bundled = bundled_economics()
    p = Path(path_or_name)
    if not is_file(p) and path_or_name in bundled:
        p = bundled[path_or_name]
    loc = load_yaml(p, display=display_name(p) if is_file(p) else str(path_or_name)[:120])
    data = loc.data
    if not isinstance(data, dict) or "economics" not in data:
        raise RareflowInputError.single(
            "no 'economics:' section (bundled analyses: " + ", ".join(bundled) + ")",
            file=loc.file, line=1,
        )
    extra = set(data) - _STANDALONE_KEYS
    if extra:
        key = sorted(extra)[0]
        raise RareflowInputError.single(
            f"unknown top-level key in a standalone economics file (allowed: "
            f"{', '.join(sorted(_STANDALONE_KEYS))})",
            file=loc.file, line=loc.line_of((key,)), path=key,
        )
    section = parse_section(data["economics"], file=loc.file, line_of=loc.line_of)
    return section, loc.file, loc.line_of
