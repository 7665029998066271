"""One colour per stage and per region, the same in every chart.

Colours come from the position of a stage in the chain's stage list, or of a region in the
scenario's region list, never from the names themselves, so any chain (magnets, graphite, ...)
gets a consistent palette.  Stages and regions use two different plotly qualitative palettes so a
stage colour is not mistaken for a region colour.
"""

from __future__ import annotations

from collections.abc import Sequence

from plotly.colors import qualitative

#: Palette for chain stages (in chain order).
STAGE_PALETTE: tuple[str, ...] = tuple(qualitative.Plotly)
#: Palette for regions (in the scenario's region order).
REGION_PALETTE: tuple[str, ...] = tuple(qualitative.D3) + tuple(qualitative.Dark2)
#: Colour used for anything that is not in the list (e.g. "unsold", "other").
OTHER_COLOUR = "#9e9e9e"


def _pick(name: str, names: Sequence[str], palette: Sequence[str]) -> str:
    names = list(names)
    if name not in names:
        return OTHER_COLOUR
    return palette[names.index(name) % len(palette)]


def stage_colour(stage: str, stages: Sequence[str]) -> str:
    """Colour of ``stage``, from its position in the chain's ``stages`` list."""
    return _pick(stage, stages, STAGE_PALETTE)


def region_colour(region: str, regions: Sequence[str]) -> str:
    """Colour of ``region``, from its position in the scenario's ``regions`` list."""
    return _pick(region, regions, REGION_PALETTE)


def with_alpha(colour: str, alpha: float) -> str:
    """``#rrggbb`` -> ``rgba(r,g,b,alpha)`` (for translucent Sankey links, bands)."""
    c = colour.lstrip("#")
    if len(c) != 6:
        return colour
    r, g, b = (int(c[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


#: Palette for demand sectors (in the scenario's sector order).
SECTOR_PALETTE: tuple[str, ...] = tuple(qualitative.Safe)


def sector_colour(sector: str, sectors: Sequence[str]) -> str:
    """Colour of a demand ``sector``, from its position in the scenario's ``sectors`` list."""
    return _pick(sector, sectors, SECTOR_PALETTE)
