"""Pydantic field types for quantities written as people write them.

Use these in every scenario schema so a value like ``"45 kt/yr"`` is converted to a float
in the canonical unit (see :mod:`rareflow.units`) and a wrong unit gives a message that
says what is allowed::

    class Facility(StrictModel):
        capacity: MassRate          # '45 kt/yr' -> 45000.0 (t/yr)
        utilisation: Fraction = 1.0 # '85 %' -> 0.85
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

from rareflow.units import UnitProblem, parse


class StrictModel(BaseModel):
    """Frozen, unknown keys rejected: a misspelt key fails with its location."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def to_canonical(v: Any, kind: str, per: str | None = None, *, nonneg: bool = True,
                 le1: bool = False) -> float:
    """Convert one written quantity to a float in ``kind``'s canonical unit, or raise
    ``ValueError`` (which pydantic reports with the field's location)."""
    try:
        x = parse(v, kind, per)
    except UnitProblem as exc:
        raise ValueError(str(exc)) from None
    if nonneg and x < 0:
        raise ValueError(f"must not be negative (got {v!r})")
    if le1 and x > 1 + 1e-12:
        raise ValueError(f"a share must lie between 0 % and 100 % (got {v!r})")
    return x


def _quantity(kind: str, per: str | None = None, *, nonneg: bool = True, le1: bool = False):
    return BeforeValidator(lambda v: to_canonical(v, kind, per, nonneg=nonneg, le1=le1))


Mass = Annotated[float, _quantity("mass")]                         # t
MassRate = Annotated[float, _quantity("mass_rate")]                # t/yr
Fraction = Annotated[float, _quantity("fraction", le1=True)]        # 0..1
Price = Annotated[float, _quantity("price")]                       # USD/kg
Money = Annotated[float, _quantity("money")]                       # USD
Duration = Annotated[float, _quantity("duration")]                 # yr
GrowthRate = Annotated[float, _quantity("rate", nonneg=False)]     # 1/yr, may be negative
SignedFraction = Annotated[float, _quantity("fraction", nonneg=False)]


def intensity(per: str) -> Any:
    """Field type for ``kg/<per>`` intensities, converted to t per ``per``."""
    return Annotated[float, _quantity("intensity", per)]


def activity(per: str) -> Any:
    """Field type for ``<per>/yr`` activities (vehicles per year, MW per year)."""
    return Annotated[float, _quantity("count_rate", per)]


def series(kind: str, per: str | None = None, *, le1: bool = False) -> Any:
    """A ``{year: value}`` schedule or a single value, converted to canonical floats."""

    def convert(v: Any) -> dict[int, float]:
        def one(x: Any, where: str) -> float:
            try:
                return to_canonical(x, kind, per, le1=le1)
            except ValueError as exc:
                raise ValueError(f"{where}{exc}") from None

        if isinstance(v, dict):
            out: dict[int, float] = {}
            for year, x in v.items():
                try:
                    y = int(year)
                except (TypeError, ValueError):
                    raise ValueError(f"schedule keys must be years, got {year!r}") from None
                if not 1900 <= y <= 2200:
                    raise ValueError(f"year {y} is outside 1900..2200")
                out[y] = one(x, f"{y}: ")
            if not out:
                raise ValueError("a schedule needs at least one year")
            return dict(sorted(out.items()))
        return {0: one(v, "")}

    return BeforeValidator(convert)


MassRateSeries = Annotated[dict[int, float], series("mass_rate")]      # {year: t/yr}
FractionSeries = Annotated[dict[int, float], series("fraction", le1=True)]  # {year: 0..1}
