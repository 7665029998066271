"""Product lifetime distributions for dynamic stock models.

A :class:`Lifetime` holds one distribution family and its parameters. Parameters are
scalars or arrays broadcastable to ``[..., cohort]``: the last axis is the cohort (length
1 or the number of model years), any axes before it are leading dimensions (region,
sector, sample...) that broadcast against the leading dimensions of the inflow or stock.
To vary a parameter by a leading dimension only, give it a trailing axis of length 1,
e.g. ``mean=np.array([[12.0], [20.0]])`` for two sectors.

Survival functions (share of a cohort still in use at a given age, ages in yr):

==================  ==========================================================
``fixed(years)``    1 while ``age < years``, else 0
``normal``          ``1 - Phi((age - mean) / sd)``; not truncated at age 0, so the
                    probability mass at negative ages leaves in the cohort's own year
``folded_normal``   ``P(|X| > age)`` for ``X ~ N(mean, sd)`` (mean, sd of the normal
                    *before* folding); 1 for ``age <= 0``
``lognormal``       lognormal with the given ``mean`` and ``sd`` *of the lifetime*
                    (not of its logarithm); 1 for ``age <= 0``
``weibull``         ``exp(-(age / scale) ** shape)``; 1 for ``age <= 0``
==================  ==========================================================

These are the definitions used by flodym 1.x, so results agree with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import special

from rareflow.errors import RareflowInputError

__all__ = ["Lifetime"]

_PARAMS = {
    "fixed": ("years",),
    "normal": ("mean", "sd"),
    "folded_normal": ("mean", "sd"),
    "lognormal": ("mean", "sd"),
    "weibull": ("shape", "scale"),
}


def _as_param(value: Any, name: str, *, allow_zero: bool = False) -> np.ndarray:
    path = f"lifetime.{name}"
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise RareflowInputError.single(
            f"must be a number or an array of numbers (yr), got {type(value).__name__}",
            path=path,
        ) from None
    if arr.size == 0:
        raise RareflowInputError.single("must not be empty", path=path)
    if not np.all(np.isfinite(arr)):
        raise RareflowInputError.single("must be finite (no NaN or inf)", path=path)
    bad = arr < 0 if allow_zero else arr <= 0
    if np.any(bad):
        allowed = ">= 0" if allow_zero else "> 0"
        raise RareflowInputError.single(
            f"must be {allowed}, got minimum {arr.min():g}", path=path
        )
    arr.setflags(write=False)
    return arr


class Lifetime:
    """A lifetime distribution, with parameters in years.

    Build one with a named constructor: :meth:`fixed`, :meth:`normal`,
    :meth:`folded_normal`, :meth:`lognormal`, :meth:`weibull`.

    Parameters are scalars or arrays broadcastable to ``[..., cohort]`` (yr), see the
    module docstring.

    Examples
    --------
    >>> from rareflow.stocks import Lifetime
    >>> lt = Lifetime.normal(mean=15, sd=5)
    >>> float(lt.survival(15.0))
    0.5
    """

    __slots__ = ("_kind", "_params", "_shape")

    def __init__(self, kind: str, params: Mapping[str, Any]) -> None:
        """Prefer the named constructors; ``params`` must name exactly the kind's parameters."""
        if kind not in _PARAMS:
            raise RareflowInputError.single(
                f"unknown lifetime kind {kind!r}; allowed: {', '.join(_PARAMS)}", path="lifetime"
            )
        expected = _PARAMS[kind]
        if set(params) != set(expected):
            raise RareflowInputError.single(
                f"{kind} lifetime takes parameters {', '.join(expected)}; got "
                f"{', '.join(params) or 'none'}",
                path="lifetime",
            )
        checked = {
            n: _as_param(params[n], n, allow_zero=(kind, n) == ("folded_normal", "mean"))
            for n in expected
        }
        try:
            shape = np.broadcast_shapes(*(p.shape for p in checked.values()))
        except ValueError:
            shapes = ", ".join(f"{n} {p.shape}" for n, p in checked.items())
            raise RareflowInputError.single(
                f"parameter shapes do not broadcast together: {shapes}", path="lifetime"
            ) from None
        self._kind = kind
        self._params = checked
        self._shape = shape

    def __setattr__(self, key: str, value: Any) -> None:
        if hasattr(self, "_shape"):
            raise AttributeError("Lifetime is immutable")
        object.__setattr__(self, key, value)

    # -- constructors -------------------------------------------------------------------
    @classmethod
    def fixed(cls, years: Any) -> Lifetime:
        """Every unit leaves when it reaches ``years`` of age (yr, > 0)."""
        return cls("fixed", {"years": years})

    @classmethod
    def normal(cls, mean: Any, sd: Any) -> Lifetime:
        """Normal lifetime, ``mean`` > 0 and ``sd`` > 0 (yr), not truncated."""
        return cls("normal", {"mean": mean, "sd": sd})

    @classmethod
    def folded_normal(cls, mean: Any, sd: Any) -> Lifetime:
        """Folded normal: ``|X|`` with ``X ~ N(mean, sd)``; ``mean`` >= 0, ``sd`` > 0 (yr).

        ``mean`` and ``sd`` are those of the normal before folding; ``mean = 0`` gives the
        half-normal distribution.
        """
        return cls("folded_normal", {"mean": mean, "sd": sd})

    @classmethod
    def lognormal(cls, mean: Any, sd: Any) -> Lifetime:
        """Lognormal with the given ``mean`` > 0 and ``sd`` > 0 of the lifetime itself (yr)."""
        return cls("lognormal", {"mean": mean, "sd": sd})

    @classmethod
    def weibull(cls, shape: Any, scale: Any) -> Lifetime:
        """Weibull with ``shape`` k > 0 (dimensionless) and ``scale`` lambda > 0 (yr)."""
        return cls("weibull", {"shape": shape, "scale": scale})

    # -- properties ---------------------------------------------------------------------
    @property
    def kind(self) -> str:
        """Distribution family: one of ``fixed, normal, folded_normal, lognormal, weibull``."""
        return self._kind

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Parameters by name (read-only arrays)."""
        return dict(self._params)

    @property
    def shape(self) -> tuple[int, ...]:
        """Broadcast shape of all parameters (``()`` for scalars)."""
        return self._shape

    def __repr__(self) -> str:
        parts = []
        for k, v in self.params.items():
            parts.append(f"{k}={float(v):g}" if v.ndim == 0 else f"{k}=<array {v.shape}>")
        return f"Lifetime.{self._kind}({', '.join(parts)})"

    # -- evaluation ---------------------------------------------------------------------
    def survival(self, age: Any, params: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        """Share of a cohort still in use at ``age`` (yr), broadcast against the parameters.

        Parameters
        ----------
        age : array_like, yr
            Ages at which to evaluate the survival function.
        params : mapping, optional
            Parameter arrays to use instead of this lifetime's own (same names, already
            indexed/broadcast by the caller); used internally to evaluate per series.

        Returns
        -------
        ndarray
            Survival share in [0, 1], shape ``broadcast(age, params)``.
        """
        p = self.params if params is None else params
        age = np.asarray(age, dtype=float)
        kind = self._kind
        if kind == "fixed":
            return (age < p["years"]).astype(float)
        if kind == "normal":
            return special.ndtr(-((age - p["mean"]) / p["sd"]))
        pos = age > 0
        if kind == "folded_normal":
            sd = p["sd"]
            x = age / sd
            c = p["mean"] / sd
            out = special.ndtr(-(x - c)) + special.ndtr(-(x + c))
        elif kind == "lognormal":
            m2 = p["mean"] * p["mean"]
            s2 = p["sd"] * p["sd"]
            mu = np.log(m2 / np.sqrt(m2 + s2))
            sigma = np.sqrt(np.log(1 + s2 / m2))
            x = np.where(pos, age, 1.0) / np.exp(mu)
            out = special.ndtr(-(np.log(x) / sigma))
        else:  # weibull
            x = np.where(pos, age, 0.0) / p["scale"]
            out = np.exp(-np.power(x, p["shape"]))
        return np.where(pos, out, 1.0)
