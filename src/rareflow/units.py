"""Units as people write them (``45 kt/yr``, ``1.5 kg/vehicle``, ``110 USD/kg``, ``85 %``).

One pint registry, created lazily, extended with the trade's units. Quantities are
converted to rareflow's canonical units at the edge (scenario loading); engines only see
plain floats in canonical units:

============  =====================  ==========================================
kind          canonical unit         accepted examples
============  =====================  ==========================================
mass          t                      ``t``, ``kt``, ``kg``, ``t REO``, ``lb``
mass_rate     t/yr                   ``kt/yr``, ``t/a``, ``t/month``, ``kt/year``
fraction      dimensionless (0..1)   ``85 %``, ``0.85``
price         USD/kg                 ``110 USD/kg``, ``110000 USD/t``
money         USD                    ``620 MUSD``, ``1.4 GUSD``, ``620e6 USD``
duration      yr                     ``10 yr``, ``18 months``
intensity     kg/<activity>          ``1.5 kg/vehicle``, ``650 kg/MW``
rate          1/yr                   ``8 %/yr``
============  =====================  ==========================================

``REO`` is accepted as a label after a mass (``45 kt REO/yr``); it states the basis of
the figure, not a different unit.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

CANONICAL = {
    "mass": "t",
    "mass_rate": "t/yr",
    "fraction": "dimensionless",
    "price": "USD/kg",
    "money": "USD",
    "duration": "yr",
    "rate": "1/yr",
    "count_rate": "1/yr",
    "power_rate": "MW/yr",
}

_DEFINITIONS = [
    "USD = [currency]",
    "MUSD = 1e6 USD",
    "GUSD = 1e9 USD",
    "kUSD = 1e3 USD",
    "EUR = [currency_eur]",
    "AUD = [currency_aud]",
    "CNY = [currency_cny]",
    "vehicle = [vehicle]",
    "turbine = [turbine]",
    "unit = [unit_count]",
    "device = unit",
    "motor = unit",
    "robot = unit",
    "platform = unit",
    "kt = 1000 * t",
    "Mt = 1e6 * t",
]

_REO = re.compile(r"\bREO\b")


@lru_cache(maxsize=1)
def registry() -> Any:
    """The shared pint UnitRegistry (created on first use: pint is slow to import)."""
    import pint

    ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    for d in _DEFINITIONS:
        ureg.define(d)
    ureg.define("yr = year")
    ureg.define("percent_ = 0.01 = pct")
    return ureg


class UnitProblem(ValueError):
    """A unit string that cannot be read or has the wrong kind; message says what is allowed."""


def _normalise(text: str) -> str:
    t = _REO.sub("", text).replace("%", " percent ")
    t = re.sub(r"/\s*a\b", "/yr", t)
    t = re.sub(r"\s+", " ", t).strip()
    return t


MAX_TEXT = 100           # characters in one written quantity
MAX_DIGITS = 30          # significant digits of its number

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?"
_TOKEN = r"(?:[A-Za-z_\u00b5][A-Za-z0-9_]*|%)(?:\^[+-]?\d{1,2})?"
_UNIT = rf"/?\s*{_TOKEN}(?:\s*[/*]?\s*{_TOKEN})*"
_GRAMMAR = re.compile(rf"\s*(?P<num>{_NUMBER})\s*(?P<unit>{_UNIT})?\s*")
_NONFINITE = re.compile(r"\s*[+-]?\.?(?:nan|inf|infinity)\b", re.IGNORECASE)
_ALLOWED = ("a number, then a unit made of names, '/', '*', '%' and powers such as "
            "'^2' (no arithmetic)")


def _split(text: str, kind: str) -> tuple[float, str]:
    """``text`` checked against the grammar of a written quantity: (number, unit text).

    Checked before pint sees anything: pint's parser evaluates arithmetic (``9**9**9``
    never returns), so only a plain decimal number and a unit name reach it."""
    example = _EXAMPLES.get(kind, kind)
    shown = text if len(text) <= 40 else text[:37] + "..."
    if len(text) > MAX_TEXT:
        raise UnitProblem(f"'{shown}' is {len(text):,} characters long (allowed: at most "
                          f"{MAX_TEXT}: {_ALLOWED}, e.g. {example})")
    m = _GRAMMAR.fullmatch(text)
    if m is None and _NONFINITE.match(text):
        raise UnitProblem(f"'{shown}' is not a finite number (allowed: a finite number, then "
                          f"a unit, e.g. {example})")
    if m is None:
        raise UnitProblem(f"cannot read '{shown}' as a quantity (allowed: {_ALLOWED}, "
                          f"e.g. {example})")
    num = m.group("num")
    mantissa = re.split(r"[eE]", num)[0]
    digits = re.sub(r"\D", "", mantissa).lstrip("0")
    if len(digits) > MAX_DIGITS:
        raise UnitProblem(f"'{shown}' has a number of {len(digits):,} significant digits "
                          f"(allowed: at most {MAX_DIGITS})")
    value = float(num)
    if value in (float("inf"), float("-inf")):
        raise UnitProblem(f"'{shown}' is outside the range of a number (allowed: a finite "
                          "number, at most about 1.8e308)")
    return value, m.group("unit") or ""


@lru_cache(maxsize=1024)
def _factor(unit: str, target: str) -> tuple[float | None, str]:
    """Factor from ``unit`` (grammar-checked) to ``target``, or None and why not."""
    ureg = registry()
    try:
        q = ureg.Quantity(_normalise(f"1 {unit}"))
    except Exception as exc:  # pint raises several unrelated types
        return None, f"read:{type(exc).__name__}"
    try:
        return float(q.to(target).magnitude), ""
    except Exception:
        return None, "dim:" + _describe(q)


@lru_cache(maxsize=4096)
def parse(text: str | int | float, kind: str, per: str | None = None) -> float:
    """Convert ``text`` to a float in the canonical unit of ``kind``.

    Parameters
    ----------
    text : str | float
        ``"45 kt/yr"``, ``"85 %"``, ``0.85`` ... A bare number is accepted only for
        ``fraction`` (as a share, 0..1) and for ``count_rate`` (activity per year).
        A string is a plain decimal number (at most :data:`MAX_DIGITS` significant
        digits) and a unit name, at most :data:`MAX_TEXT` characters: no arithmetic.
    kind : str
        One of :data:`CANONICAL` keys, or ``"intensity"`` with ``per`` naming the
        activity unit (``vehicle``, ``MW``, ``unit``): result in t per activity unit.

    Raises
    ------
    UnitProblem
        With a message naming what was expected, e.g. ``'10 kg' is a mass, a capacity
        needs mass per time (e.g. '10 t/yr')``.
    """
    if isinstance(text, bool):
        raise UnitProblem(f"expected {_EXAMPLES.get(kind, kind)}, got a boolean")
    if isinstance(text, int | float):
        if kind in ("fraction", "count_rate"):
            try:
                return float(text)
            except OverflowError:
                raise UnitProblem(f"'{str(text)[:37]}...' is outside the range of a number "
                                  "(allowed: a finite number)") from None
        raise UnitProblem(
            f"'{text}' has no unit; write it with one, e.g. {_EXAMPLES.get(kind, kind)}"
        )
    text = str(text)
    number, unit = _split(text, kind)
    if kind == "intensity":
        target = f"t / {per or 'unit'}"
    elif kind == "count_rate":
        target = f"{per or 'unit'} / yr" if per else "1/yr"
    else:
        target = CANONICAL[kind]
    factor, why = _factor(unit, target)
    if factor is None:
        if why.startswith("read:"):
            raise UnitProblem(
                f"cannot read '{text}' as a quantity ({why[5:]}); "
                f"write e.g. {_EXAMPLES.get(kind, kind)}"
            )
        raise UnitProblem(
            f"'{text}' is {why[4:]}, {_NEEDS.get(kind, 'expected ' + target)} "
            f"(e.g. {_EXAMPLES.get(kind, target)})"
        )
    value = number * factor
    if value != value or value in (float("inf"), float("-inf")):
        raise UnitProblem(f"'{text}' is not a finite number")
    return value


def _describe(q: Any) -> str:
    dims = str(q.dimensionality)
    table = {
        "[mass]": "a mass",
        "[mass] / [time]": "a mass per time",
        "[time]": "a duration",
        "dimensionless": "a plain number",
        "[currency]": "an amount of money",
        "[currency] / [mass]": "a price",
    }
    return table.get(dims, f"of dimension {dims}")


_NEEDS = {
    "mass": "a mass is needed",
    "mass_rate": "a capacity or flow needs mass per time",
    "fraction": "a share needs a percentage or a number between 0 and 1",
    "price": "a price needs money per mass",
    "money": "an amount of money is needed",
    "duration": "a duration is needed",
    "rate": "a growth rate needs a share per time",
    "intensity": "an intensity needs mass per unit of activity",
    "count_rate": "an activity needs units per time",
}

_EXAMPLES = {
    "mass": "'500 t'",
    "mass_rate": "'10 t/yr' or '45 kt/yr'",
    "fraction": "'85 %' or 0.85",
    "price": "'110 USD/kg'",
    "money": "'620 MUSD'",
    "duration": "'10 yr' or '18 months'",
    "rate": "'8 %/yr'",
    "intensity": "'1.5 kg/vehicle' or '650 kg/MW'",
    "count_rate": "'1.3e6 vehicle/yr'",
}
