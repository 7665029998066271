"""The loaded, validated scenario handed to the engines: immutable."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from rareflow.model.chain import CompiledChain
    from rareflow.scenario.schema import ScenarioFile
    from rareflow.scenario.yaml_io import Located


@dataclass(frozen=True)
class Scenario:
    """A validated scenario.

    Attributes
    ----------
    spec : ScenarioFile
        The validated content (units already converted to canonical floats).
    chain : CompiledChain
        The chain it runs on, compiled to arrays (process overrides applied).
    document : Located
        The merged YAML with the file and line of every field, for error messages.
    uncertain : dict
        Dotted field path -> :class:`rareflow.uncertainty.Distribution` for every value
        written as a distribution (deterministic runs use its central value).
    coverage_warnings : tuple
        :class:`rareflow.scenario.coverage.Uncovered` for each record used for scenario
        years its data do not describe (see :mod:`rareflow.scenario.coverage`).
    """

    spec: ScenarioFile
    chain: CompiledChain
    document: Located
    uncertain: dict[str, Any] = field(default_factory=dict)
    coverage_warnings: tuple[Any, ...] = ()
    chain_file: Any = None    # the validated ChainFile (overrides applied) the chain compiles from

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def years(self) -> list[int]:
        return self.spec.years.list

    @property
    def focus_region(self) -> str:
        return self.spec.focus_region

    @property
    def source_file(self) -> str:
        return self.document.file

    def __getattr__(self, item: str) -> Any:
        # sections such as recycling, stress, plan, economics, facilities, demand
        spec = object.__getattribute__(self, "spec")
        if item in type(spec).model_fields:
            return getattr(spec, item)
        raise AttributeError(item)

    def group_members(self, group: str) -> list[str]:
        g = self.spec.region_groups.get(group)
        return list(g.members) if g else []

    def where(self, dotted: str) -> tuple[str, int | None]:
        """File and line where a dotted field path was written."""
        parts = tuple(int(p) if p.isdigit() else p for p in dotted.split("."))
        return self.document.file_of(parts), self.document.line_of(parts)
