"""rareflow: model, stress-test and plan the rare-earth permanent-magnet supply chain.

The public API mirrors the command line::

    import rareflow
    scenario = rareflow.load_scenario("us-baseline")   # a bundled name or a YAML path
    late = scenario.with_overrides(                     # validated like a file
        {"facilities.vulcan_benson_magnets.capacity": {2029: "2500 t/yr"}})
    results = rareflow.run(late)
    results.to_xarray()       # xarray.Dataset on named dimensions
    results.table("flows")    # pandas.DataFrame

``run``, ``stress``, ``recycling``, ``plan`` and ``economics`` return results with the same
interface (:mod:`rareflow.results.base`): ``to_xarray()``, ``table(name)``,
``to_netcdf(path)``, ``to_parquet(folder)`` and ``summary()``.

Heavy libraries are imported lazily so that ``import rareflow`` and ``rareflow --help``
stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "apply_overrides", "economics", "load_scenario", "plan",
           "recycling", "run", "stress"]

if TYPE_CHECKING:  # pragma: no cover
    from rareflow.results.economics_results import EconomicsResults
    from rareflow.results.plan_results import PlanResults
    from rareflow.results.recycling_results import RecyclingResults
    from rareflow.results.static_results import StaticResults
    from rareflow.results.stress_results import StressResults
    from rareflow.scenario.model import Scenario


def load_scenario(path_or_name: str | Any, overrides: dict[str, Any] | None = None, *,
                  origin: str = "<overrides>") -> Scenario:
    """Load, merge (``extends:``) and validate a scenario; see :mod:`rareflow.scenario`.

    ``overrides`` maps dotted paths to values a YAML file could hold
    (``{"facilities.vulcan_benson_magnets.capacity": {2029: "2500 t/yr"}}``); they are
    validated as a file is, and their problems located as ``<overrides>: path: ...``
    (see :mod:`rareflow.scenario.overrides`).
    """
    from rareflow.scenario.loader import load_scenario as _load

    return _load(path_or_name, overrides, origin=origin)


def apply_overrides(doc_or_scenario: Any, overrides: dict[str, Any], *,
                    origin: str = "<overrides>") -> Any:
    """A new document or scenario with ``overrides`` applied; see
    :func:`rareflow.scenario.overrides.apply_overrides`."""
    from rareflow.scenario.overrides import apply_overrides as _apply

    return _apply(doc_or_scenario, overrides, origin=origin)


def _scenario(scenario: Scenario | str, overrides: dict[str, Any] | None) -> Scenario:
    from rareflow.scenario.loader import load_scenario as _load

    return _load(scenario, overrides)


def run(scenario: Scenario | str, *, check: bool = True,
        overrides: dict[str, Any] | None = None) -> StaticResults:
    """Run the static mass balance for every year of ``scenario`` and return its Results
    (:class:`rareflow.results.static_results.StaticResults`)."""
    from rareflow.results.static_results import run as _run

    return _run(_scenario(scenario, overrides), check=check)


def stress(scenario: Scenario | str, *, samples: int = 1000, seed: int = 0,
           method: str = "lhs", monthly: bool = False, central: bool = False,
           workers: int | None = None,
           overrides: dict[str, Any] | None = None) -> StressResults:
    """Monthly stress test over ``samples`` sampled disruptions (``rareflow stress``);
    :class:`rareflow.results.stress_results.StressResults`. ``workers``: threads of the
    simulation (default as the command: at most 2)."""
    from rareflow.results.stress_results import stress as _stress

    return _stress(_scenario(scenario, overrides), samples=samples, seed=seed, method=method,
                   monthly=monthly, central=central, workers=workers)


def recycling(scenario: Scenario | str, *, years: list[int] | None = None,
              elements: list[str] | tuple[str, ...] = ("Nd", "Pr", "Dy", "Tb"),
              check: bool = True, overrides: dict[str, Any] | None = None) -> RecyclingResults:
    """In-use stock, end of life and recycled supply (``rareflow recycling``);
    :class:`rareflow.results.recycling_results.RecyclingResults`."""
    from rareflow.results.recycling_results import recycling as _recycling

    return _recycling(_scenario(scenario, overrides), years=years, elements=elements,
                      check=check)


def plan(scenario: Scenario | str, *, variants: list[str] | None = None,
         solver_options: dict[str, Any] | None = None, raise_infeasible: bool = True,
         overrides: dict[str, Any] | None = None) -> PlanResults:
    """Least-cost build plan to the scenario's coverage target (``rareflow plan``);
    :class:`rareflow.results.plan_results.PlanResults`. An infeasible first variant
    raises :class:`rareflow.errors.InfeasibleError` unless ``raise_infeasible=False``."""
    from rareflow.results.plan_results import plan as _plan

    return _plan(_scenario(scenario, overrides), variants=variants,
                 solver_options=solver_options, raise_infeasible=raise_infeasible)


def economics(scenario: Scenario | str, *, facility: str | None = None, samples: int = 2000,
              seed: int = 42, price_model: str | None = None,
              overrides: dict[str, Any] | None = None) -> EconomicsResults:
    """Plant cash flows, financing and contracts over Monte Carlo price paths
    (``rareflow economics``); :class:`rareflow.results.economics_results.EconomicsResults`."""
    from rareflow.results.economics_results import economics as _economics

    return _economics(_scenario(scenario, overrides), facility=facility, samples=samples,
                      seed=seed, price_model=price_model)
