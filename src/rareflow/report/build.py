"""The whole report for one scenario in one call (what ``rareflow demo`` does, without the
console): run the static balance and every section's engine for the scenario, then render."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def build(scenario: Any, path: str | Path, settings: Any = None, *,
          self_contained: bool = False) -> Path:
    """Write ``path`` (report.html; plotly.min.js beside it unless ``self_contained``) for
    ``scenario`` (a Scenario, bundled name or file); ``settings`` is a
    :class:`~rareflow.report.extras.ReportSettings` (sample counts)."""
    from rareflow.report.extras import compute_extra, render_extra
    from rareflow.report.html import build_report
    from rareflow.results.results import run_static
    from rareflow.scenario.loader import load_scenario

    sc = load_scenario(scenario)
    res = run_static(sc)
    computed = compute_extra(sc, settings)
    return build_report(res, path, extra_sections=render_extra(computed),
                        self_contained=self_contained, scorecard=scorecard_for(sc, res))


def scorecard_for(scenario: Any, results: Any, samples: int = 200) -> Any:
    """The scorecard of ``results`` (the static run of ``scenario``), with the plan measures
    from the scenario's build plan (variant ``base``) when it has a ``plan:`` section and
    the economics measures priced when it has an ``economics:`` section (``samples`` price paths
    at the economics engine's default seed): what ``rareflow scorecard`` prints and the
    report opens with."""
    from rareflow.metrics.scorecard import scorecard

    econ = None
    if getattr(scenario.spec, "economics", None) is not None:
        from rareflow.results.economics_results import economics

        econ = economics(scenario, samples=samples).summary()
    plan = None
    if getattr(scenario.spec, "plan", None) is not None:
        from rareflow.results.plan_results import plan as run_plan

        plan = run_plan(scenario, variants=["base"], raise_infeasible=False).runs["base"]
    return scorecard(results, economics_summary=econ, plan=plan)
