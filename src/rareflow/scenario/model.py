"""The loaded, validated scenario handed to the engines: immutable."""

from __future__ import annotations

from collections.abc import Mapping
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
    overrides : dict
        The overrides given in code (``load_scenario(..., overrides=...)``,
        :meth:`with_overrides`), dotted path -> value, as given; empty for a file as written.
    base_document : Located or None
        The merged document before overrides (distributions not yet reduced to their
        central values): where :meth:`with_overrides` starts from.
    """

    spec: ScenarioFile
    chain: CompiledChain
    document: Located
    uncertain: dict[str, Any] = field(default_factory=dict)
    coverage_warnings: tuple[Any, ...] = ()
    chain_file: Any = None    # the validated ChainFile (overrides applied) the chain compiles from
    overrides: dict[str, Any] = field(default_factory=dict)
    base_document: Located | None = field(default=None, repr=False, compare=False)

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
        """File and line where a dotted field path was written (line ``None`` for a value
        given as an override in code: the file is then the overrides' origin)."""
        parts = tuple(int(p) if p.isdigit() else p for p in dotted.split("."))
        return self.document.file_of(parts), self.document.line_of(parts) or None

    def with_overrides(self, overrides: Mapping[str, Any], *, origin: str = "<overrides>") -> Scenario:
        """A new scenario: this one with ``overrides`` applied, validated like a file.

        ``overrides`` maps dotted paths to values a YAML file could hold (see
        :mod:`rareflow.scenario.overrides`). They apply after this scenario's own
        overrides; a path given again takes its new value. The result records all of them
        in :attr:`overrides`.

        Examples
        --------
        >>> import rareflow
        >>> base = rareflow.load_scenario("us-baseline")
        >>> late = base.with_overrides(
        ...     {"facilities.vulcan_benson_magnets.capacity": {2029: "2500 t/yr"}})
        >>> late.spec.facilities["vulcan_benson_magnets"].capacity
        {2029: 2500.0}
        """
        from rareflow.scenario.overrides import build_with_overrides, combine, plain_copy

        if self.base_document is None:
            raise TypeError("this Scenario was not made by rareflow.load_scenario; load it "
                            "with load_scenario(..., overrides=...) instead")
        new = plain_copy(overrides, origin)
        return build_with_overrides(self.base_document, combine(self.overrides, new),
                                    origin=origin)

    def content_hash(self) -> str:
        """sha256 (hex) of the canonical JSON of the validated scenario and its overrides:
        equal for equal inputs, different when any figure or override differs."""
        cached = self.__dict__.get("_content_hash")
        if cached is None:
            from rareflow.scenario.overrides import content_hash

            cached = content_hash(self)
            self.__dict__["_content_hash"] = cached
        return str(cached)
