"""Report sections contributed by other engines (recycling, stress, plans), computed for the
report's scenario.

Each provider module has ``compute(scenario, **settings) -> results`` (runs its engine on
the scenario, or on the scenario with the bundled engine settings laid on top, see
:mod:`rareflow.report.scenario_for`) and ``render(results) -> list[Section]`` (draws, runs
nothing). :func:`compute_extra` runs them all, :func:`render_extra` draws them; a provider
that fails leaves a visible line in the report saying why instead of breaking it.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rareflow.report.section import Section, omitted

PROVIDERS: list[str] = [
    "rareflow.report.section_recycling",
    "rareflow.report.section_stress",
    "rareflow.report.section_plan",
]


@dataclass(frozen=True)
class ReportSettings:
    """Sample counts of the report's engine runs (smaller: faster, less certain)."""

    samples: int = 1000              # Latin-hypercube samples per stress scenario
    sobol_n: int = 64                # Sobol base samples (a power of 2)
    backtest_samples: int = 100      # samples of the network back-test
    seed: int = 1


def compute_extra(scenario: Any, settings: ReportSettings | None = None,
                  step: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Provider module -> its computed results (or the exception it raised)."""
    kw = asdict(settings or ReportSettings())
    found: dict[str, Any] = {}
    for mod_name in PROVIDERS:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name == mod_name:
                continue
            raise
        if step:
            step(f"report section: {mod_name.rsplit('.', 1)[-1]}")
        params = inspect.signature(mod.compute).parameters
        try:
            found[mod_name] = mod.compute(scenario, **{k: v for k, v in kw.items()
                                                       if k in params})
        except Exception as exc:       # one engine failing must not lose the report
            found[mod_name] = exc
    return found


def render_extra(computed: dict[str, Any]) -> list[Section]:
    out: list[Section] = []
    for mod_name, res in computed.items():
        short = mod_name.rsplit(".", 1)[-1].removeprefix("section_")
        if isinstance(res, Exception):
            out.append(Section(short, short.capitalize(), omitted(
                f"the {short} section", f"{type(res).__name__}: {res}")))
            continue
        out += importlib.import_module(mod_name).render(res)
    return out


def collect_extra_sections(scenario: Any, out: Path | None = None,
                           step: Callable[[str], None] | None = None,
                           settings: ReportSettings | None = None) -> list[Section]:
    """Compute and render every provider's sections for ``scenario``."""
    return render_extra(compute_extra(scenario, settings, step))
