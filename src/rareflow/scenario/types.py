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


def _quantity(kind: str, per: str | None = None, *, nonneg: bool = True, le1: bool = False):
    def convert(v: Any) -> float:
        try:
            x = parse(v, kind, per) if isinstance(v, str) else parse(v, kind, per)
        except UnitProblem as exc:
            raise ValueError(str(exc)) from None
        if nonneg and x < 0:
            raise ValueError(f"must not be negative (got {v!r})")
        if le1 and x > 1 + 1e-12:
            raise ValueError(f"a share must lie between 0 % and 100 % (got {v!r})")
        return x

    return BeforeValidator(convert)


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
