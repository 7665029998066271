"""Country centroids from the bundled basemap (``assets/topojson/world_110m.json``).

A region's point on the map is the area centroid of the largest polygon of its country in
the Natural Earth 1:110m shapes that plotly draws (so the trade lines end on the land the
map shows). Aggregate regions (XE, XR) have no point: their trade is listed, not drawn.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

TOPOJSON_DIR = Path(__file__).parent / "assets" / "topojson"
WORLD = TOPOJSON_DIR / "world_110m.json"

#: ISO 3166 alpha-2 (the scenario's regions) -> alpha-3 (the basemap's country ids)
ISO3: dict[str, str] = {
    "US": "USA", "CN": "CHN", "AU": "AUS", "MM": "MMR", "BR": "BRA", "CA": "CAN", "GL": "GRL",
    "IN": "IND", "MG": "MDG", "MY": "MYS", "NG": "NGA", "RU": "RUS", "TH": "THA", "VN": "VNM",
    "JP": "JPN", "KR": "KOR", "EE": "EST", "DE": "DEU", "FR": "FRA", "GB": "GBR", "FI": "FIN",
    "SE": "SWE", "NO": "NOR", "IT": "ITA", "KP": "PRK", "IR": "IRN",
}

Ring = list[tuple[float, float]]


def _decode_arcs(doc: dict) -> list[Ring]:
    """The topology's arcs as lon/lat point lists (undo quantisation and delta coding)."""
    (sx, sy), (tx, ty) = doc["transform"]["scale"], doc["transform"]["translate"]
    out: list[Ring] = []
    for arc in doc["arcs"]:
        x = y = 0
        pts: Ring = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            pts.append((x * sx + tx, y * sy + ty))
        out.append(pts)
    return out


def _ring(indices: list[int], arcs: list[Ring]) -> Ring:
    pts: Ring = []
    for i in indices:
        seg = arcs[i] if i >= 0 else arcs[~i][::-1]
        pts.extend(seg if not pts else seg[1:])
    return pts


def _area_centroid(ring: Ring) -> tuple[float, float, float]:
    """(|area|, lon, lat) of a closed ring, planar in degrees (shoelace)."""
    xs = [x for x, _ in ring]
    if max(xs) - min(xs) > 180:  # cut at the antimeridian: put the far-east bits east of 180
        ring = [(x + 360 if x < 0 else x, y) for x, y in ring]
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if a == 0:
        return 0.0, ring[0][0], ring[0][1]
    return abs(a / 2), cx / (3 * a), cy / (3 * a)


@cache
def country_centroids() -> dict[str, tuple[float, float]]:
    """alpha-3 id -> (lat, lon) of the centroid of the country's largest polygon."""
    doc = json.loads(WORLD.read_text(encoding="utf-8"))
    arcs = _decode_arcs(doc)
    out: dict[str, tuple[float, float]] = {}
    for geom in doc["objects"]["countries"]["geometries"]:
        polys = geom.get("arcs") or []
        if geom.get("type") == "Polygon":
            polys = [polys]
        best = max((_area_centroid(_ring(p[0], arcs)) for p in polys if p), default=None)
        if best is not None and geom.get("id"):
            out[str(geom["id"])] = (best[2], _wrap(best[1]))
    return out


def _wrap(lon: float) -> float:
    """Longitude in [-180, 180) (Russia's and Fiji's shapes run past the antimeridian)."""
    return (lon + 180.0) % 360.0 - 180.0


def region_centroid(region: str) -> tuple[float, float] | None:
    """(lat, lon) of a region's country, or None (an aggregate or a country not drawn)."""
    iso3 = ISO3.get(region)
    return country_centroids().get(iso3) if iso3 else None
