"""The data behind the dashboard: every table of every run read once, then only filtered.

:class:`StoreData` opens a run store, reads the Parquet tables of its finished runs into
pandas once (``flows``, ``trade``, ``stages``, ``elements``, ``facilities``), loads each
run's scenario once (its chain order, facility locations and provenance) and answers the
callbacks with small filtered frames.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATIC_TABLES = ("flows", "trade", "stages", "elements", "facilities")


@dataclass
class RunData:
    """One finished run: its manifest, its tables and (static runs) its scenario."""

    run_id: str
    scenario: str
    engine: str
    factors: dict[str, Any]
    tables: dict[str, Any] = field(default_factory=dict)
    scenario_obj: Any = None
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        f = ", ".join(f"{k}={v}" for k, v in self.factors.items())
        return f"{self.scenario} ({f})" if f else self.scenario

    def table(self, name: str) -> Any:
        import pandas as pd

        return self.tables.get(name, pd.DataFrame())


@dataclass
class StoreData:
    root: Path
    runs: list[RunData]

    def by_id(self, run_id: str | None) -> RunData | None:
        return next((r for r in self.runs if r.run_id == run_id), None)

    @property
    def static(self) -> list[RunData]:
        return [r for r in self.runs if r.engine == "run"]

    def of_engine(self, engine: str) -> list[RunData]:
        return [r for r in self.runs if r.engine == engine]

    @property
    def stages(self) -> list[str]:
        """Chain stage order (from the first static run's scenario), stages with flows only."""
        r = self.static[0] if self.static else None
        if r is None:
            return []
        seen = set(r.table("flows")["stage"].unique())
        chain = list(r.scenario_obj.chain.stages) if r.scenario_obj is not None else sorted(seen)
        return [s for s in chain if s in seen]

    @property
    def regions(self) -> list[str]:
        r = self.static[0] if self.static else None
        if r is None:
            return []
        if r.scenario_obj is not None:
            return list(r.scenario_obj.spec.regions)
        return sorted(r.table("flows")["region"].unique())

    @property
    def years(self) -> list[int]:
        r = self.static[0] if self.static else None
        return sorted(int(y) for y in r.table("flows")["year"].unique()) if r else []

    @property
    def elements(self) -> list[str]:
        r = self.static[0] if self.static else None
        return list(r.table("elements")["element"].unique()) if r else []


def load_store(root: Path) -> StoreData:
    """Read every finished run of the store at ``root`` (tables once, scenarios once)."""
    from rareflow.store import open_store

    st = open_store(root)
    runs: list[RunData] = []
    for m in st.manifests():
        if m.get("status") != "finished":
            continue
        rd = RunData(str(m["run_id"]), str(m.get("scenario")), str(m.get("engine")),
                     dict(m.get("factors") or {}))
        present = set(m.get("tables") or [])
        for name in present if rd.engine != "run" else STATIC_TABLES:
            if name in present:
                rd.tables[name] = st.table(rd.run_id, name)
        # every run's scenario (chain order, facility locations, the sources behind it);
        # stress and plan runs also keep their answers (summary.json)
        rd.scenario_obj = _scenario(m)
        if rd.engine != "run":
            rd.summary = st.summary(rd.run_id)
        runs.append(rd)
    runs.sort(key=lambda r: (r.engine != "run", r.scenario, json.dumps(r.factors, sort_keys=True)))
    return StoreData(Path(root), runs)


def _scenario(manifest: dict[str, Any]) -> Any:
    """The run's scenario with its overrides, or None if it cannot be loaded here (the
    store came from another machine with scenario files not present here)."""
    from rareflow.errors import RareflowError
    from rareflow.scenario.loader import load_scenario

    source = manifest.get("source") or manifest.get("scenario")
    try:
        return load_scenario(str(source), dict(manifest.get("overrides") or {}) or None)
    except (RareflowError, OSError):
        return None


# ---------------------------------------------------------------------------- derived data
@dataclass(frozen=True)
class SankeyData:
    labels: list[str]
    node_colours: list[str]
    source: list[int]
    target: list[int]
    value: list[float]
    link_colours: list[str]
    link_labels: list[str]


MIN_T = 0.5  # t/yr: links below this are not drawn (solver dust)


def sankey_data(run: RunData, region: str, year: int, stages: list[str], regions: list[str]
                ) -> SankeyData:
    """The region's chain in ``year``: imports by origin into each stage, stage to the next
    stage (material used by the region's processes), final demand and exports out.

    Stage nodes come first, in chain order; links are coloured by the origin region of the
    material (the region itself for domestic flows)."""
    from rareflow.report.palette import region_colour, stage_colour, with_alpha

    f = run.table("flows")
    f = f[(f["region"] == region) & (f["year"] == year)].groupby("stage")[
        ["process_use_t", "final_demand_t", "exports_t", "production_t"]].sum()
    t = run.table("trade")
    t = t[(t["region"] == region) & (t["year"] == year)].groupby(["stage", "origin"])[
        "imports_t"].sum()
    used = [s for s in stages if s in f.index]
    labels = [f"{region} {s}" for s in used]
    colours = [stage_colour(s, stages) for s in used]
    src: list[int] = []
    tgt: list[int] = []
    val: list[float] = []
    lcol: list[str] = []
    llab: list[str] = []

    def node(label: str, colour: str) -> int:
        if label not in labels:
            labels.append(label)
            colours.append(colour)
        return labels.index(label)

    def link(a: int, b: int, v: float, origin: str, text: str) -> None:
        if v >= MIN_T:
            src.append(a)
            tgt.append(b)
            val.append(round(float(v), 1))
            lcol.append(with_alpha(region_colour(origin, regions), 0.55))
            llab.append(text)

    for i, s in enumerate(used):
        for origin, v in (t[s].items() if s in t.index.get_level_values(0) else []):
            link(node(f"imports from {origin}", region_colour(origin, regions)), i, v, origin,
                 f"{origin} -> {region} {s}")
        if i + 1 < len(used):
            link(i, i + 1, f.loc[s, "process_use_t"], region, f"{s} used by {used[i + 1]}")
        link(i, node("final demand", "#555555"), f.loc[s, "final_demand_t"], region, f"{s} demand")
        link(i, node("exports", "#999999"), f.loc[s, "exports_t"], region, f"{s} exported")
    return SankeyData(labels, colours, src, tgt, val, lcol, llab)


def trade_lines(run: RunData, year: int, stage: str, top: int = 40) -> Any:
    """The ``top`` largest origin -> importer flows of ``stage`` in ``year`` (t/yr)."""
    t = run.table("trade")
    t = t[(t["year"] == year) & (t["stage"] == stage) & (t["origin"] != t["region"])]
    g = t.groupby(["origin", "region"], as_index=False)["imports_t"].sum()
    g = g[g["imports_t"] >= MIN_T]
    return g.sort_values("imports_t", ascending=False).head(top)


def facility_points(run: RunData, year: int, stage: str | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """Facilities with a location (and their output in ``year``) and the names of those
    without one (listed as unplaced)."""
    fac = run.table("facilities")
    fac = fac[fac["year"] == year]
    if stage:
        fac = fac[fac["stage"] == stage]
    spec = run.scenario_obj.spec.facilities if run.scenario_obj is not None else {}
    placed: list[dict[str, Any]] = []
    unplaced: list[str] = []
    for _, row in fac.iterrows():
        loc = getattr(spec.get(row["facility"]), "location", None)
        if loc is None:
            unplaced.append(str(row["name"]))
            continue
        placed.append({"facility": row["facility"], "name": row["name"], "owner": row["owner"],
                       "region": row["region"], "stage": row["stage"], "lat": loc.lat,
                       "lon": loc.lon, "place": loc.place, "status": row["status"],
                       "activity_t": float(row["activity_t"]),
                       "source": ", ".join(loc.source or [])})
    return placed, unplaced


def provenance_rows(run: RunData, prefixes: tuple[str, ...] = (), section: str | None = None
                    ) -> list[dict[str, Any]]:
    """The provenance rows of the run's scenario: of the analysis ``section`` (``stress``,
    ``plan``) first when given, then those of the chain and data whose figure starts with one
    of ``prefixes`` (all if none)."""
    if run.scenario_obj is None:
        return []
    from rareflow.results.provenance import provenance_table, section_provenance

    head = section_provenance(run.scenario_obj, section) if section else []
    rows = provenance_table(run.scenario_obj)
    if prefixes:
        rows = [r for r in rows if str(r["figure"]).startswith(prefixes)]
    return head + rows


def stress_rows(run: RunData) -> list[dict[str, Any]]:
    """Per sector of a stress run's summary: time to survive and to recover (months) and the
    stockpile needed (t), each as p5/p50/p95; ``p_shortfall`` the share of samples short."""
    rows = []
    for sector, v in (run.summary.get("sectors") or {}).items():
        row: dict[str, Any] = {"sector": sector, "p_shortfall": v.get("p_shortfall")}
        for key in ("time_to_survive_months", "time_to_recover_months", "stockpile_needed_t"):
            for q in ("p5", "p50", "p95"):
                row[f"{key}_{q}"] = (v.get(key) or {}).get(q)
        rows.append(row)
    return rows


def stress_sectors(run: RunData) -> list[str]:
    """The sectors of a stress run, in the order of its fan table."""
    fan = run.table("stress_fan")
    return list(dict.fromkeys(fan["sector"])) if len(fan) else []


def fan_frame(run: RunData, sector: str) -> Any:
    """The stress fan of ``sector``: per month, percentiles over the samples of the share of
    its demand unmet (columns ``month``, ``p5`` ... ``p95``; shares 0-1)."""
    fan = run.table("stress_fan")
    if not len(fan):
        return fan
    return fan[fan["sector"] == sector].reset_index(drop=True)


def plan_variants(run: RunData) -> list[str]:
    return list((run.summary.get("variants") or {}).keys())


def plan_builds(run: RunData, variant: str) -> Any:
    """The builds of a plan variant: option, name, process, year, t/yr added, capex."""
    b = run.table("builds")
    return b[b["variant"] == variant].sort_values(["year", "process"]).reset_index(drop=True) if len(b) else b


def plan_coverage(run: RunData, variant: str) -> Any:
    """Required and secure supply by material and year of a plan variant (t)."""
    c = run.table("coverage")
    return c[c["variant"] == variant].sort_values(["material", "year"]).reset_index(drop=True) if len(c) else c
