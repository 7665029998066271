"""Pydantic field types for quantities written as people write them.

Use these in every scenario schema so a value like ``"45 kt/yr"`` is converted to a float
in the canonical unit (see :mod:`rareflow.units`) and a wrong unit gives a message that
says what is allowed::

    class Facility(StrictModel):
        capacity: MassRate          # '45 kt/yr' -> 45000.0 (t/yr)
        utilisation: Fraction = 1.0 # '85 %' -> 0.85
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

from rareflow.units import UnitProblem, parse


class StrictModel(BaseModel):
    """Frozen, unknown keys rejected: a misspelt key fails with its location. Plain float
    fields refuse NaN and infinities (``.nan``, ``.inf``) too."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              allow_inf_nan=False)


# Largest magnitude accepted for each kind, in its canonical unit: far above anything real
# (world NdFeB output is about 3e5 t/yr), far below where sums overflow or lose precision.
UPPER_BOUNDS: dict[str, tuple[float, str]] = {
    "mass": (1e10, "1e10 t"),
    "mass_rate": (1e9, "1e9 t/yr"),
    "fraction": (1.0, "100 %"),
    "price": (1e7, "1e7 USD/kg"),
    "money": (1e15, "1e15 USD"),
    "duration": (1000.0, "1000 yr"),
    "rate": (10.0, "1000 %/yr"),
    "intensity": (1e4, "1e4 t per unit of activity"),
    "count_rate": (1e13, "1e13 per yr"),
}
MIN_GROWTH = -1.0   # -100 %/yr: everything gone in a year; below it tonnages turn negative


def _shown(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 80 else text[:77] + "..."


def to_canonical(v: Any, kind: str, per: str | None = None, *, nonneg: bool = True,
                 le1: bool = False) -> float:
    """Convert one written quantity to a float in ``kind``'s canonical unit, or raise
    ``ValueError`` (which pydantic reports with the field's location).

    Refused: anything but a number or a string (a mapping, a list, null), non-finite
    values, negative values where ``nonneg``, shares outside 0..100 % and magnitudes above
    :data:`UPPER_BOUNDS`; a growth rate (kind ``rate``) must be above -100 %/yr.
    """
    from rareflow.units import _EXAMPLES

    example = _EXAMPLES.get(kind, kind)
    if isinstance(v, dict | list | tuple | set) or v is None:
        what = {dict: "a mapping", list: "a list", tuple: "a list", set: "a set"}.get(
            type(v), "empty (null)")
        raise ValueError(f"expected a single quantity such as {example}, got {what} "
                         f"{_shown(v) if v is not None else ''}".rstrip())
    if not isinstance(v, str | int | float):
        raise ValueError(f"expected a quantity such as {example}, got {type(v).__name__} "
                         f"{_shown(v)}")
    try:
        x = parse(v, kind, per)
    except UnitProblem as exc:
        raise ValueError(str(exc)) from None
    except (TypeError, OverflowError, RecursionError, MemoryError) as exc:
        raise ValueError(f"cannot read {_shown(v)} as a quantity ({type(exc).__name__}); "
                         f"write e.g. {example}") from None
    if not math.isfinite(x):
        raise ValueError(f"must be a finite number (got {_shown(v)}; allowed: e.g. {example})")
    if kind == "rate" and not nonneg and x <= MIN_GROWTH:
        raise ValueError(f"a growth rate must be above -100 %/yr (got {_shown(v)}); at or "
                         "below it the quantity would vanish or turn negative")
    if nonneg and x < 0:
        raise ValueError(f"must not be negative (got {_shown(v)})")
    if le1 and x > 1 + 1e-12:
        raise ValueError(f"a share must lie between 0 % and 100 % (got {_shown(v)})")
    if le1 and x < -1 - 1e-12:
        raise ValueError(f"a share must lie between -100 % and 100 % (got {_shown(v)})")
    bound = UPPER_BOUNDS.get(kind)
    if bound is not None and abs(x) > bound[0] * (1 + 1e-12):
        raise ValueError(f"{_shown(v)} is implausibly large (allowed: at most {bound[1]})")
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
SignedFraction = Annotated[float, _quantity("fraction", nonneg=False, le1=True)]


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
                    if isinstance(year, float) and year != y:
                        raise ValueError
                except (TypeError, ValueError, OverflowError):
                    raise ValueError(f"schedule keys must be years, got {year!r}") from None
                if isinstance(year, bool) or not 1900 <= y <= 2200:
                    raise ValueError(f"schedule year {year!r} is outside 1900..2200")
                out[y] = one(x, f"{y}: ")
            if not out:
                raise ValueError("a schedule needs at least one year")
            return dict(sorted(out.items()))
        return {0: one(v, "")}

    return BeforeValidator(convert)


MassRateSeries = Annotated[dict[int, float], series("mass_rate")]      # {year: t/yr}
FractionSeries = Annotated[dict[int, float], series("fraction", le1=True)]  # {year: 0..1}
