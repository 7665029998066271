"""Monthly supply-stress simulation of destinations' supply, vectorised over samples.

Arrays in, arrays out: build a :class:`StressModel` (labels + numpy arrays, per-sample
parameters as ``[sample]`` arrays), call :func:`simulate`, read a :class:`StressResult`.
See :mod:`rareflow.engines.simulate.core` for the rules and the metric definitions.
"""

from rareflow.engines.simulate.core import StressResult, simulate
from rareflow.engines.simulate.model import (
    DemandShock,
    Inventories,
    Outage,
    Ramp,
    Restriction,
    Stockpile,
    StressModel,
    compile_model,
    months_of_demand,
)

__all__ = [
    "DemandShock",
    "Inventories",
    "Outage",
    "Ramp",
    "Restriction",
    "Stockpile",
    "StressModel",
    "StressResult",
    "compile_model",
    "months_of_demand",
    "simulate",
]
