"""Capacity-expansion planning: least-cost builds to meet demand and coverage targets.

Two-stage stochastic LP (linopy + HiGHS): build decisions shared by every disruption
scenario, operation per scenario; the coverage target holds in every scenario::

    from rareflow.engines.optimize import PlanInputs, optimize_plan
    result = optimize_plan(PlanInputs(demand=..., input_coef=..., output_coef=...,
                                      existing_capacity=..., capex=..., fixed_opex=...))
    result.build_table()              # what is built where and when
    result.coverage_marginal_cost     # USD per t of secure supply [region, material, year]

Steps, each usable on its own: :func:`prepare` (validate, fill defaults) →
:func:`build_model` (one ``define_*`` per constraint family, equations in docstrings) →
:func:`solve_model` (HiGHS) → :func:`extract` (new arrays, duals).
"""

from rareflow.engines.optimize.inputs import (
    OPTION,
    PlanInputs,
    prepare,
    upstream_requirements,
)
from rareflow.engines.optimize.model import FAMILIES, build_model, weights
from rareflow.engines.optimize.solve import (
    PlanResult,
    Shortfall,
    diagnose_infeasible,
    extract,
    optimize_plan,
    solve_model,
)

__all__ = [
    "FAMILIES",
    "OPTION",
    "PlanInputs",
    "PlanResult",
    "Shortfall",
    "build_model",
    "diagnose_infeasible",
    "extract",
    "optimize_plan",
    "prepare",
    "solve_model",
    "upstream_requirements",
    "weights",
]
