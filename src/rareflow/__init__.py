"""rareflow: model, stress-test and plan the rare-earth permanent-magnet supply chain.

The public API mirrors the command line::

    import rareflow
    scenario = rareflow.load_scenario("us-baseline")   # a bundled name or a YAML path
    results = rareflow.run(scenario)
    results.to_xarray()       # xarray.Dataset on named dimensions
    results.table("flows")    # pandas.DataFrame

Heavy libraries are imported lazily so that ``import rareflow`` and ``rareflow --help``
stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "load_scenario", "run"]

if TYPE_CHECKING:  # pragma: no cover
    from rareflow.results.results import Results
    from rareflow.scenario.model import Scenario


def load_scenario(path_or_name: str | Any) -> Scenario:
    """Load, merge (``extends:``) and validate a scenario; see :mod:`rareflow.scenario`."""
    from rareflow.scenario.loader import load_scenario as _load

    return _load(path_or_name)


def run(scenario: Scenario | str, *, check: bool = True) -> Results:
    """Run the static mass balance for every year of ``scenario`` and return its Results."""
    from rareflow.results.results import run_static

    if isinstance(scenario, str):
        scenario = load_scenario(scenario)
    return run_static(scenario, check=check)
