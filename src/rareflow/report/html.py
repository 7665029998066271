"""Assemble the HTML report: opens offline, plotly.js once beside it (or inlined).

By default the page loads ``plotly.min.js`` from the same folder (written there, one copy
for every page in the folder); ``self_contained=True`` inlines it for a single-file report.
Every section carries an anchor (listed in the table of contents at the top) and a line
saying which scenario it was computed for.
"""

from __future__ import annotations

import datetime as _dt
import html
from pathlib import Path
from typing import Any

from rareflow.report import figures
from rareflow.report.answers import Answers, answer
from rareflow.report.section import Section, as_section, fig_div
from rareflow.results.provenance import provenance_table
from rareflow.results.results import Results

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222}
header{background:#1b2a3a;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px} header p{margin:4px 0 0;color:#cdd}
main{padding:10px 28px 40px;max-width:1200px}
h2{border-bottom:2px solid #1b2a3a;padding-bottom:4px;margin-top:34px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f7} td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1a7f37;font-weight:600} .bad{color:#b42318;font-weight:600}
td.verdict{font-weight:600} td.pass{color:#1a7f37} td.fail{color:#b42318} td.na{color:#8a6d00}
.answer{background:#f6f8fa;border-left:4px solid #1b2a3a;padding:10px 14px;margin:10px 0}
.small{font-size:12px;color:#555} details{margin:8px 0}
nav.toc{background:#f6f8fa;border:1px solid #ddd;padding:8px 16px;margin:14px 0}
nav.toc ol{margin:4px 0;padding-left:22px;columns:2} nav.toc a{color:#1b2a3a}
.computed-for{font-size:12px;color:#1b2a3a;background:#eef3f8;padding:3px 8px;margin:4px 0}
.omitted,.warn{background:#fff4e5;border-left:4px solid #b54708;padding:6px 10px}
"""

PLOTLY_JS = "plotly.min.js"


FACILITY_YEARS = (2026, 2027, 2028, 2029, 2030)


def where(file: str) -> str:
    """A provenance location without the machine's paths: bundled files relative to the
    package data (``scenarios/_reference/facilities.yaml``), user files by name only."""
    from rareflow.resources import PACKAGE

    text = str(file).replace("\\", "/")
    for prefix in (f"{PACKAGE}/data/", f"{PACKAGE}/"):
        if text.startswith(prefix):
            return text[len(prefix):]
    if text.startswith("<"):
        return text
    return text.rsplit("/", 1)[-1]


def _fmt_pct(x: float) -> str:
    return f"{100 * x:,.0f} %"


def _fmt_t(x: float) -> str:
    return f"{x:,.0f} t"


def _table(headers: list[str], rows: list[list[Any]], num_cols: set[int] | None = None) -> str:
    num_cols = num_cols or set()
    out = ["<table><thead><tr>", *(f"<th>{html.escape(h)}</th>" for h in headers),
           "</tr></thead><tbody>"]
    for r in rows:
        out.append("<tr>")
        for i, v in enumerate(r):
            cls = ' class="num"' if i in num_cols else ""
            out.append(f"<td{cls}>{v if isinstance(v, _Raw) else html.escape(str(v))}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


class _Raw(str):
    """Trusted HTML inside a table cell."""


def _answers_html(a: Answers, results: Results) -> str:
    rows = []
    for s, v in a.import_reliance.items():
        check = a.checks.get(s)
        mark = ""
        if check:
            cls = "ok" if check[1] else "bad"
            mark = _Raw(f'<span class="{cls}">{"consistent" if check[1] else "differs"}</span>'
                        f" with: {html.escape(check[0])}")
        rows.append([s, _fmt_pct(v), _fmt_pct(a.china_dependence.get(s, float("nan"))), mark])
    nir = _table(["stage", f"net import reliance {a.base_year}", "supplied by China directly",
                  "sourced check"], rows, {1, 2})
    req = a.requirement
    key_needs = [(k, req[k]) for k in ("ndpr_oxide", "reo_concentrate", "dy_oxide", "tb_oxide",
                                       "reo_concentrate_hree", "ndpr_metal",
                                       "ndfeb_alloy_sintered") if k in req]
    req_rows = [[k, results.chain.material_names.get(k, k), _fmt_t(v)] for k, v in key_needs]
    co_rows = [[k, _fmt_t(v)] for k, v in sorted(a.requirement_coproducts.items(),
                                                  key=lambda kv: -kv[1])]
    cov_rows = [[y, _fmt_t(a.magnet_demand_t[y]), _fmt_t(a.magnet_capacity_t[y]),
                 _fmt_pct(a.capacity_coverage.get(y, float("nan"))),
                 _fmt_t(a.magnet_output_t[y]), _fmt_pct(a.output_coverage.get(y, float("nan")))]
                for y in a.coverage_years]
    most = a.most_china_dependent_stage
    return f"""
<div class="answer"><b>1. How import-reliant is {a.region} at each stage ({a.base_year})?</b>
{nir}
<p class="small">Net import reliance = (consumption - production) / consumption, as USGS
defines it; negative for a net exporter. Supplied by China directly = China's share of the imports
times net imports, over consumption.</p></div>
<div class="answer"><b>2. Where does {a.region} depend most on China?</b>
<p>At the <b>{html.escape(str(most))}</b> stage: China supplies
{_fmt_pct(a.china_dependence.get(most, float('nan'))) if most else 'n/a'} of {a.region}
consumption directly in {a.base_year}.</p></div>
<div class="answer"><b>3. What does {a.requirement_target_t:,.0f} t/yr of sintered NdFeB need
upstream?</b>{_table(["material", "name", "t/yr"], req_rows, {2})}
<details><summary>Co-products that come out (t/yr)</summary>{_table(["material", "t/yr"],
co_rows, {1})}</details>
<p class="small">Back-calculated through the chain's yields and routes (NdPr from
bastnaesite, Dy and Tb from heavy-RE concentrate). Full list:
<code>rareflow requirements {html.escape(results.scenario.name)} --target
ndfeb_sintered=10kt --json</code>.</p></div>
<div class="answer"><b>4. What share of {a.region} magnet demand could announced
{a.region} capacity cover?</b>{_table(["year", "magnet demand", "announced capacity",
"capacity / demand", "expected output", "output covers"], cov_rows, {1, 2, 3, 4, 5})}
<p class="small">Capacity is the nameplate of every operating, building and planned
plant on its announced schedule; expected output applies each plant's utilisation ramp.
Demand is magnets for products sold in {a.region} (EVs, wind from activity x intensity; other
sectors derived from trade data) - see the provenance table.</p></div>
"""


def _provenance_html(results: Results) -> str:
    rows = provenance_table(results.scenario)
    srcs = results.scenario.spec.sources
    body = []
    for r in rows:
        if r["kind"] == "sourced":
            what = "; ".join(f"{s}: {srcs[s].publisher}, {srcs[s].title} ({srcs[s].year})"
                             for s in r["sources"] if s in srcs)
        else:
            what = "ASSUMPTION: " + (r["assumption"] or "")
        body.append([r["figure"], r["confidence"] or "", what, (r["note"] or "")[:400],
                     f"{where(r['file'])}:{r['line']}" if r["line"] else where(r["file"])])
    cited = sorted({s for r in rows for s in r["sources"]})
    src_rows = [[s, srcs[s].publisher, srcs[s].title, srcs[s].year,
                 _Raw(f'<a href="{html.escape(srcs[s].address)}">{html.escape(srcs[s].address)}'
                      "</a>") if srcs[s].address else ""] for s in cited if s in srcs]
    return ("<p>Every default figure, its source and confidence, or the "
            "assumption it rests on.</p>"
            + _table(["figure", "confidence", "source or assumption", "note", "where"], body)
            + "<h3>Sources</h3>" + _table(["id", "publisher", "title", "year", "address"],
                                           src_rows))


def _facilities_html(results: Results) -> str:
    years = results.years
    show = [y for y in (years[0], *FACILITY_YEARS) if y in years]
    rows = []
    for i, fi in enumerate(results.arrays.facilities):
        caps = []
        for y in show:
            v = results.arrays.facility_capacity[i, years.index(y)]
            caps.append("n/d" if v != v else f"{v:,.0f}")
        rows.append([fi.name, fi.owner, fi.region, fi.stage, fi.status,
                     fi.capacity_basis, *caps])
    return (_table(["facility", "owner", "region", "stage", "status",
                                            "capacity in", *[f"t/yr {y}" for y in show]], rows,
                                           set(range(6, 6 + len(show))))
            + '<p class="small">n/d: capacity not disclosed.</p>')


def plotly_script(folder: Path, self_contained: bool) -> str:
    """The ``<script>`` that loads plotly.js: inline, or ``plotly.min.js`` written beside the
    page (atomically, once per folder: a page in an ``output_folder`` transaction writes it
    in the temporary folder that is renamed as a whole)."""
    import plotly.offline

    from rareflow.results.io import atomic_write_text

    js = plotly.offline.get_plotlyjs()
    if self_contained:
        return f'<script type="text/javascript">{js}</script>'
    target = folder / PLOTLY_JS
    if not (target.is_file() and target.stat().st_size == len(js.encode("utf-8"))):
        atomic_write_text(target, js)
    return f'<script type="text/javascript" src="{PLOTLY_JS}"></script>'


def toc_html(sections: list[Section]) -> str:
    items = "".join(f'<li><a href="#{html.escape(s.anchor)}">{html.escape(s.title)}</a></li>'
                    for s in sections)
    return f'<nav class="toc" id="contents"><b>Contents</b><ol>{items}</ol></nav>'


def _unique(sections: list[Section]) -> list[Section]:
    import dataclasses

    seen: dict[str, int] = {}
    out = []
    for s in sections:
        n = seen.get(s.anchor, 0)
        seen[s.anchor] = n + 1
        out.append(s if not n else dataclasses.replace(s, anchor=f"{s.anchor}-{n + 1}"))
    return out


def report_sections(results: Results, extra_sections: list[Any] | None = None,
                    scorecard: Any = None) -> list[Section]:
    """Every section of the report for ``results``, in order (no engine run here beyond the
    results' own tables: ``extra_sections`` come computed). ``scorecard`` (a
    :class:`~rareflow.metrics.scorecard.Scorecard` of these results) opens the report; without
    one it is computed from ``results`` alone (measures needing an economics run are then
    not assessed, with the reason)."""
    from rareflow.report import section_scorecard
    from rareflow.report.section_world import sections as world_sections

    region = results.arrays.focus_region
    name = results.scenario.name
    mine = f"Computed for scenario {name}."
    a = answer(results)
    later = 2030 if 2030 in results.years else results.years[-1]
    first = results.years[0]
    end = figures.end_stage(results)
    chain = "".join(fig_div(figures.sankey(results, region, y), f"sankey-{y}")
                    for y in dict.fromkeys((first, later)))
    chain += ('<p class="small">Imports enter on the left coloured by origin region, stages '
              "run left to right in chain order, exports leave on the right by destination "
              "region (from the trade flows). 'Unsold' is production neither used nor exported "
              "in the model (stock build or unmodelled use); it is shown as its own grey node, "
              "not as an export.</p>")
    if scorecard is None:
        from rareflow.metrics.scorecard import scorecard as score

        scorecard = score(results)
    out = [
        section_scorecard.render(scorecard, mine),
        Section("answers", "Answers", _answers_html(a, results), mine),
        Section("chain", "The chain", chain, mine),
        Section("import-reliance", "Import reliance",
                fig_div(figures.import_reliance(results, region), "import-reliance"), mine),
        Section("coverage", f"Coverage of {end} demand",
                fig_div(figures.coverage(results, region), "coverage")
                + fig_div(figures.demand_by_sector(results, region), "demand-by-sector"), mine),
        Section("concentration", "Where the world's supply is made",
                "".join(fig_div(figures.concentration(results, y), f"concentration-{y}")
                        for y in dict.fromkeys((first, later))), mine),
    ]
    out += [as_section(s, mine) for s in world_sections(results)]
    out += [as_section(s) for s in (extra_sections or [])]
    out += [Section("facilities", "Facilities", _facilities_html(results), mine),
            Section("provenance", "Provenance", _provenance_html(results), mine)]
    return _unique(out)


def build_report(results: Results, path: str | Path, *,
                 extra_sections: list[Any] | None = None, self_contained: bool = False,
                 scorecard: Any = None) -> Path:
    """Write the HTML report for ``results`` to ``path`` (atomically) and return the path.

    ``extra_sections`` are :class:`~rareflow.report.section.Section` objects (or (title,
    html) pairs) computed by other engines for the same scenario (stress, recycling, plans).
    ``plotly.min.js`` is written beside ``path`` unless ``self_contained``.
    """
    from rareflow.results.io import atomic_write_text

    out = Path(path)
    region = results.arrays.focus_region
    sections = report_sections(results, extra_sections, scorecard)
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    script = plotly_script(out.parent, self_contained)
    doc = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>rareflow report: {html.escape(results.scenario.name)}</title>
<style>{CSS}</style>{script}
</head><body><header><h1>rareflow: {html.escape(results.scenario.name)}</h1>
<p>{html.escape(results.scenario.spec.description)}</p>
<p class="small">Years {results.years[0]}-{results.years[-1]} · focus {region} ·
mass balance max relative error {results.mass_balance_max_rel_error:.1e} · scenario sha256
{results.scenario_hash[:12]} · generated {stamp}</p></header><main>
{toc_html(sections)}
{"".join(s.html() for s in sections)}
</main></body></html>"""
    atomic_write_text(out, doc)
    return out


def build_page(title: str, subtitle: str, sections: list[Any], path: str | Path, *,
               self_contained: bool = False) -> Path:
    """A standalone page of report sections (e.g. a plan report), with a table of contents;
    ``plotly.min.js`` beside it unless ``self_contained``."""
    from rareflow.results.io import atomic_write_text

    out = Path(path)
    secs = _unique([as_section(s) for s in sections])
    script = plotly_script(out.parent, self_contained)
    doc = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title><style>{CSS}</style>{script}</head><body>
<header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header>
<main>{toc_html(secs)}{"".join(s.html() for s in secs)}</main></body></html>"""
    atomic_write_text(out, doc)
    return out
