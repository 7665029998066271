"""Probability distributions that any numeric scenario parameter may carry.

In a scenario file a number can be replaced by a mapping with a ``dist`` key::

    licence_delay: {dist: triangular, low: 1 month, mode: 2 months, high: 4 months}
    severity:      {dist: pert, low: 50 %, mode: 74 %, high: 90 %}
    start:         {dist: discrete, values: [0, 6, 12], weights: [0.5, 0.3, 0.2]}

=============  =================================  ======================================
``dist``       keys                               ``central()`` (deterministic value)
=============  =================================  ======================================
uniform        low, high                          mean = (low + high) / 2
triangular     low, mode, high                    mode
pert           low, mode, high (lambda = 4)       mode
normal         mean, sd [, low, high truncation]  mean
lognormal      mean, sd (of the variable itself)  mean
discrete       values, weights (sum to 1)         the most probable value (first on ties)
=============  =================================  ======================================

Why these central values: triangular and PERT are elicited around a "most likely" value,
which is what an analyst means by the deterministic case; for the symmetric or
moment-specified laws the mean is the natural figure; for ``discrete`` the mean may not be
one of the allowed values (e.g. a delay of 0, 12 or 24 months), so the mode is used.

Numbers may carry units (``"6 months"``, ``"20 %"``): every number or string is passed
through the caller's ``convert`` callable, which returns a float in the canonical unit of
the field (the loader passes the field's unit parser).

Sampling: every distribution is sampled through its inverse CDF (:meth:`Distribution.ppf`)
applied to uniform numbers. :meth:`Distribution.sample` draws those uniforms either by
plain Monte Carlo (``method="mc"``: ``rng.random(n)``) or by Latin hypercube
(``method="lhs"``, the default: one draw in each of ``n`` equal-probability strata, in a
random order). Sampling several parameters with independent LHS columns gives a Latin
hypercube design with independent (uncorrelated in expectation) columns; see
:func:`sample_all`. The same ``rng`` state gives bit-identical draws.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rareflow.errors import RareflowInputError

__all__ = [
    "Distribution",
    "Uniform",
    "Triangular",
    "Pert",
    "Normal",
    "LogNormal",
    "Discrete",
    "parse_distribution",
    "is_distribution_node",
    "uniforms",
    "sample_all",
    "ALLOWED",
]

ALLOWED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # name: (required keys, optional keys)
    "uniform": (("low", "high"), ()),
    "triangular": (("low", "mode", "high"), ()),
    "pert": (("low", "mode", "high"), ("lambda",)),
    "normal": (("mean", "sd"), ("low", "high")),
    "lognormal": (("mean", "sd"), ()),
    "discrete": (("values",), ("weights",)),
}


def uniforms(rng: np.random.Generator, n: int, method: str = "lhs") -> np.ndarray:
    """``n`` numbers in (0, 1): Latin hypercube strata in random order, or plain MC."""
    if n < 0:
        raise ValueError("n must be >= 0")
    if method == "mc":
        return rng.random(n)
    if method == "lhs":
        u = (np.arange(n) + rng.random(n)) / max(n, 1)
        return rng.permutation(u)
    raise ValueError(f"unknown sampling method {method!r}: use 'lhs' or 'mc'")


@dataclass(frozen=True)
class Distribution:
    """Base class. Subclasses implement :meth:`ppf`, :meth:`central` and bounds."""

    def central(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def ppf(self, u: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def support(self) -> tuple[float, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, n: int, method: str = "lhs") -> np.ndarray:
        """``n`` draws (float64 [n]) by inverse CDF of LHS (default) or MC uniforms."""
        return self.ppf(uniforms(rng, n, method))

    def describe(self) -> str:
        fields = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in self.__dict__.items())
        return f"{type(self).__name__.lower()}({fields})"


@dataclass(frozen=True)
class Uniform(Distribution):
    low: float
    high: float

    def central(self) -> float:
        return 0.5 * (self.low + self.high)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * np.asarray(u, dtype=float)

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


@dataclass(frozen=True)
class Triangular(Distribution):
    low: float
    mode: float
    high: float

    def central(self) -> float:
        return self.mode

    def ppf(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        a, c, b = self.low, self.mode, self.high
        if b == a:
            return np.full_like(u, a)
        fc = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1.0 - u) * (b - a) * (b - c))
        return np.where(u < fc, left, right)

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


@dataclass(frozen=True)
class Pert(Distribution):
    """Beta-PERT: a Beta law on [low, high] with mean (low + lam*mode + high)/(lam + 2)."""

    low: float
    mode: float
    high: float
    lam: float = 4.0

    def central(self) -> float:
        return self.mode

    def ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy.special import betaincinv

        u = np.asarray(u, dtype=float)
        a, c, b = self.low, self.mode, self.high
        if b == a:
            return np.full_like(u, a)
        alpha = 1.0 + self.lam * (c - a) / (b - a)
        beta = 1.0 + self.lam * (b - c) / (b - a)
        return a + (b - a) * betaincinv(alpha, beta, u)

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


@dataclass(frozen=True)
class Normal(Distribution):
    """Normal(mean, sd), optionally truncated to [low, high] (either may be omitted)."""

    mean: float
    sd: float
    low: float = -math.inf
    high: float = math.inf

    def central(self) -> float:
        return self.mean

    def ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy.special import ndtr, ndtri

        u = np.asarray(u, dtype=float)
        lo = ndtr((self.low - self.mean) / self.sd) if math.isfinite(self.low) else 0.0
        hi = ndtr((self.high - self.mean) / self.sd) if math.isfinite(self.high) else 1.0
        x = self.mean + self.sd * ndtri(lo + (hi - lo) * u)
        return np.clip(x, self.low, self.high)

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


@dataclass(frozen=True)
class LogNormal(Distribution):
    """Log-normal given by the mean and sd of the variable itself (not of its log)."""

    mean: float
    sd: float

    @property
    def _mu_sigma(self) -> tuple[float, float]:
        s2 = math.log1p((self.sd / self.mean) ** 2)
        return math.log(self.mean) - 0.5 * s2, math.sqrt(s2)

    def central(self) -> float:
        return self.mean

    def ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy.special import ndtri

        mu, sigma = self._mu_sigma
        return np.exp(mu + sigma * ndtri(np.asarray(u, dtype=float)))

    def support(self) -> tuple[float, float]:
        return (0.0, math.inf)


@dataclass(frozen=True)
class Discrete(Distribution):
    values: tuple[float, ...]
    weights: tuple[float, ...]

    def central(self) -> float:
        return self.values[int(np.argmax(np.asarray(self.weights)))]

    def ppf(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        cum = np.cumsum(self.weights)
        cum[-1] = 1.0
        idx = np.searchsorted(cum, u, side="right")
        return np.asarray(self.values, dtype=float)[np.minimum(idx, len(self.values) - 1)]

    def support(self) -> tuple[float, float]:
        return (min(self.values), max(self.values))


def is_distribution_node(node: Any) -> bool:
    """True for a YAML mapping that stands for a distribution (has a ``dist`` key)."""
    return isinstance(node, Mapping) and "dist" in node


def _allowed_text() -> str:
    return "; ".join(
        f"{name}: {', '.join(req)}" + (f" [optional {', '.join(opt)}]" if opt else "")
        for name, (req, opt) in ALLOWED.items()
    )


def parse_distribution(
    node: Mapping[str, Any], convert: Callable[[Any], float], where: str
) -> Distribution:
    """Build a :class:`Distribution` from a YAML mapping such as ``{dist: pert, ...}``.

    Parameters
    ----------
    node : Mapping
        The mapping; ``dist`` names the law, the other keys its parameters.
    convert : callable
        Turns each parameter (number or unit string) into a float in the field's canonical
        unit; may raise ``ValueError`` with a message (reported with ``where``).
    where : str
        Dotted field path used in error messages (``stress.restrictions.cn.severity``).

    Raises
    ------
    RareflowInputError
        Unknown ``dist``, missing or unknown keys, unreadable values, ``low > high``,
        mode outside [low, high], ``sd <= 0``, lognormal mean <= 0, weights negative or not
        summing to 1, values and weights of different lengths. The message names ``where``
        and what is allowed.
    """

    def fail(msg: str) -> RareflowInputError:
        return RareflowInputError.single(msg, path=where)

    if not isinstance(node, Mapping):
        raise fail("a distribution must be a mapping with a 'dist' key; allowed: "
                   f"{_allowed_text()}")
    name = node.get("dist")
    if not isinstance(name, str) or name.lower() not in ALLOWED:
        raise fail(f"unknown distribution {name!r}; allowed: {_allowed_text()}")
    name = name.lower()
    required, optional = ALLOWED[name]
    keys = set(node) - {"dist"}
    missing = [k for k in required if k not in keys]
    unknown = sorted(keys - set(required) - set(optional))
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown key(s) {', '.join(unknown)}")
        opt = f" (optional: {', '.join(optional)})" if optional else ""
        raise fail(f"{name} distribution: {'; '.join(parts)}; it takes {', '.join(required)}{opt}")

    def num(key: str, value: Any = None, *, raw: bool = False) -> float:
        v = node[key] if value is None else value
        try:
            x = float(v) if raw else float(convert(v))
        except (ValueError, TypeError) as exc:
            raise fail(f"{name} distribution: {key}: {exc}") from None
        if not math.isfinite(x):
            raise fail(f"{name} distribution: {key} must be a finite number (got {v!r})")
        return x

    if name == "uniform":
        lo, hi = num("low"), num("high")
        if lo > hi:
            raise fail(f"uniform distribution: low ({lo:g}) must not exceed high ({hi:g})")
        return Uniform(lo, hi)
    if name in ("triangular", "pert"):
        lo, mo, hi = num("low"), num("mode"), num("high")
        if lo > hi:
            raise fail(f"{name} distribution: low ({lo:g}) must not exceed high ({hi:g})")
        if not lo <= mo <= hi:
            raise fail(f"{name} distribution: mode ({mo:g}) must lie between low ({lo:g}) "
                       f"and high ({hi:g})")
        if name == "triangular":
            return Triangular(lo, mo, hi)
        lam = num("lambda", raw=True) if "lambda" in node else 4.0
        if lam <= 0:
            raise fail(f"pert distribution: lambda must be > 0 (got {lam:g}); default 4")
        return Pert(lo, mo, hi, lam)
    if name == "normal":
        mean, sd = num("mean"), num("sd")
        if sd <= 0:
            raise fail(f"normal distribution: sd must be > 0 (got {sd:g})")
        lo = num("low") if "low" in node else -math.inf
        hi = num("high") if "high" in node else math.inf
        if lo >= hi:
            raise fail(f"normal distribution: truncation low ({lo:g}) must be below high ({hi:g})")
        if not lo <= mean <= hi:
            raise fail(f"normal distribution: mean ({mean:g}) must lie within the truncation "
                       f"bounds [{lo:g}, {hi:g}]")
        return Normal(mean, sd, lo, hi)
    if name == "lognormal":
        mean, sd = num("mean"), num("sd")
        if mean <= 0:
            raise fail(f"lognormal distribution: mean must be > 0 (got {mean:g})")
        if sd <= 0:
            raise fail(f"lognormal distribution: sd must be > 0 (got {sd:g})")
        return LogNormal(mean, sd)
    # discrete
    values = node["values"]
    if isinstance(values, str | bytes) or not isinstance(values, Sequence) or len(values) == 0:
        raise fail("discrete distribution: values must be a non-empty list")
    vals = tuple(num("values", v) for v in values)
    if "weights" in node:
        weights = node["weights"]
        if isinstance(weights, str | bytes) or not isinstance(weights, Sequence):
            raise fail("discrete distribution: weights must be a list of numbers summing to 1")
        if len(weights) != len(vals):
            raise fail(f"discrete distribution: {len(vals)} values but {len(weights)} weights; "
                       "give one weight per value")
        ws = tuple(num("weights", w, raw=True) for w in weights)
        if any(w < 0 for w in ws):
            raise fail("discrete distribution: weights must not be negative")
        if abs(sum(ws) - 1.0) > 1e-9:
            raise fail(f"discrete distribution: weights sum to {sum(ws):g}; they must sum to 1")
    else:
        ws = tuple(1.0 / len(vals) for _ in vals)
    return Discrete(vals, ws)


def sample_all(
    dists: Mapping[str, Distribution],
    n: int,
    *,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    method: str = "lhs",
) -> dict[str, np.ndarray]:
    """Sample every distribution ``n`` times, in the (sorted) order of the keys.

    Sorting the keys makes the draws independent of dict insertion order: the same seed
    and the same set of parameters give bit-identical samples.
    """
    if rng is None:
        rng = np.random.default_rng(seed)
    return {key: dists[key].sample(rng, n, method) for key in sorted(dists)}
