"""Argument checks shared by the economics engine: each failure names the argument.

All raise :class:`rareflow.errors.RareflowInputError` with ``path`` set to the argument
(or field) name, so a Python caller and the CLI see the same message.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rareflow.errors import RareflowInputError


def fail(path: str, message: str) -> RareflowInputError:
    return RareflowInputError.single(message, path=path)


def finite_array(x: Any, path: str, *, ndim_min: int = 0) -> np.ndarray:
    """``x`` as a float64 array (a new array: callers' inputs are never mutated)."""
    try:
        a = np.array(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise fail(path, f"must be numbers (got {type(x).__name__})") from None
    if a.ndim < ndim_min:
        raise fail(path, f"must be an array with at least {ndim_min} dimension(s)")
    if not np.all(np.isfinite(a)):
        raise fail(path, "must be finite numbers (found NaN or infinity)")
    return a


def nonneg_array(x: Any, path: str, *, ndim_min: int = 0) -> np.ndarray:
    a = finite_array(x, path, ndim_min=ndim_min)
    if np.any(a < 0):
        raise fail(path, "must not be negative")
    return a


def rate(x: Any, path: str, *, lo: float = 0.0, hi: float = 1.0, hi_open: bool = True) -> float:
    """A rate as a fraction per year within ``[lo, hi)`` (``[lo, hi]`` if not ``hi_open``)."""
    v = number(x, path)
    bad = v < lo or (v >= hi if hi_open else v > hi)
    if bad:
        rng = f"{lo:.0%} to {hi:.0%}" + (" (exclusive)" if hi_open else "")
        raise fail(path, f"must be between {rng} per year as a fraction (got {v!r})")
    return v


def number(x: Any, path: str) -> float:
    if isinstance(x, bool):
        raise fail(path, "must be a number, not a boolean")
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise fail(path, f"must be a number (got {x!r})") from None
    if not math.isfinite(v):
        raise fail(path, f"must be a finite number (got {x!r})")
    return v


def positive(x: Any, path: str) -> float:
    v = number(x, path)
    if v <= 0:
        raise fail(path, f"must be greater than 0 (got {v!r})")
    return v


def nonneg(x: Any, path: str) -> float:
    v = number(x, path)
    if v < 0:
        raise fail(path, f"must not be negative (got {v!r})")
    return v


def fraction(x: Any, path: str) -> float:
    v = number(x, path)
    if not 0.0 <= v <= 1.0:
        raise fail(path, f"must be a share between 0 and 1 (0 % to 100 %) (got {v!r})")
    return v


def whole_years(x: Any, path: str, *, minimum: int = 0) -> int:
    """A duration in whole years (the model is annual)."""
    v = number(x, path)
    if v < minimum:
        raise fail(path, f"must be at least {minimum} year(s) (got {v!r})")
    if abs(v - round(v)) > 1e-9:
        raise fail(path, f"must be a whole number of years: the model is annual (got {v!r})")
    return int(round(v))
