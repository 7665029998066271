"""What a chain file is: elements, materials with composition, stages, processes, sectors.

The chain is data: the engines know none of these names. Another critical-mineral
chain (graphite anodes, gallium) is a new chain file, not new code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rareflow.scenario.provenance import Sourced
from rareflow.scenario.types import Fraction, StrictModel


class ChainInfo(StrictModel):
    id: str
    name: str
    description: str = ""
    reference_material: str | None = Field(
        None, description="final product whose demand drives the chain (e.g. ndfeb_sintered)"
    )


class Element(StrictModel):
    """A chemical element (or a pseudo-element such as ``other``)."""

    name: str
    atomic_weight: float | None = Field(None, gt=0, description="g/mol, IUPAC standard")
    oxide: str | None = Field(None, description="formula of the traded oxide, e.g. Nd2O3")
    metal_atoms: int | None = Field(None, gt=0, description="metal atoms in the oxide formula")
    oxygen_atoms: int | None = Field(None, ge=0, description="oxygen atoms in the oxide formula")


class Stage(StrictModel):
    """A step of the chain. ``kind`` says how the engines treat it."""

    id: str
    name: str
    kind: Literal["conversion", "use", "stock", "end_of_life", "recycling"] = "conversion"


class Material(Sourced):
    """A material and its element composition, given in exactly one of four ways.

    * ``composition``: element mass fractions (the rest, if any, is element ``other``);
    * ``oxides``: mass shares of each element's oxide (a concentrate's REO distribution);
    * ``metal_of``: the metal with the same element ratio as that oxide material;
    * ``constituents``: mass shares of other materials (an alloy, a magnet grade).
    """

    name: str
    stage: str = Field(description="the stage whose product this material is")
    basis: str = Field("t", description="what a tonne of it means, e.g. 't REO'")
    composition: dict[str, float] | None = None
    oxides: dict[str, float] | None = None
    metal_of: str | None = None
    constituents: dict[str, float] | None = None
    external: bool = Field(False, description="supplied from outside the modelled chain (Fe, B)")


class Process(Sourced):
    """A linear recipe, per unit of activity.

    * ``extract``: takes material from nature (mining, unconventional feeds); activity =
      t of ``output``;
    * ``split``: separates a ``feed`` into ``products`` (element groups, filled in the
      listed order, each limited by its scarcest element); ``recovery`` of every element;
      activity = t of feed;
    * ``convert``: makes ``output`` from ``inputs`` (t per t of output before losses, or
      derived from the output's ``constituents`` / ``metal_of``) with mass ``yield``;
      ``scrap`` names a co-product collecting a share of the loss (manufacturing swarf).
    """

    name: str
    stage: str
    kind: Literal["extract", "split", "convert"]
    output: str | None = None
    feed: str | None = None
    products: list[str] | None = None
    recovery: Fraction | None = None
    yield_: Fraction | None = Field(None, alias="yield")
    inputs: dict[str, float] | None = None
    scrap: str | None = None
    scrap_share: Fraction = Field(0.0, description="share of the mass loss collected as scrap")
    draws: list[str] = Field(
        default_factory=list,
        description="elements the process may take in from outside (O when metals are oxidised)",
    )


class Sector(StrictModel):
    """An end-use sector: products that contain magnets."""

    name: str
    uses: list[str] = Field(description="materials the sector consumes, e.g. [ndfeb_sintered]")
    activity_unit: str | None = Field(None, description="vehicle, MW, unit ... for intensities")
    unmeasured: bool = Field(
        False, description="a use the data do not measure everywhere: where no demand record "
        "gives it, the reconciliation may send a region's output of what the sector uses to "
        "it, without a figure (named in the answer as an unmeasured use)")


class Grades(Sourced):
    """Grades of a product made by variants of the same process (magnet grades with their
    own heavy-rare-earth content). ``variants[base_process][grade] = variant_process``:
    activity given for the base process (a facility, a reported output) is shared over the
    base and its variants in proportion to the world's final demand for what each makes,
    and a region whose base process follows its consumption has its variants follow too."""

    ids: list[str]
    variants: dict[str, dict[str, str]]


class ChainFile(StrictModel):
    """A whole chain file."""

    chain: ChainInfo
    elements: dict[str, Element]
    stages: list[Stage]
    materials: dict[str, Material]
    processes: dict[str, Process]
    sectors: dict[str, Sector] = Field(default_factory=dict)
    routes: dict[str, str] = Field(
        default_factory=dict,
        description="material -> process that makes it when requirements are back-calculated",
    )
    grades: Grades | None = None
