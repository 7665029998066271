"""``rareflow economics``: a facility's cash flows, financing and government contracts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from rareflow.cli.common import handle_errors


def _load_section(scenario: str) -> tuple[Any, Any]:
    """(section, where) for a scenario file or bundled name (through
    ``rareflow.load_scenario``; its result exposes ``.economics``) or a standalone economics
    file (top-level keys only ``name``, ``description``, ``economics``). ``where`` maps a
    path tuple to (file, line) for error messages."""
    from rareflow.errors import RareflowInputError
    from rareflow.resources import display_name, is_file
    from rareflow.scenario.schema_economics import load_economics

    p = Path(scenario)
    if is_file(p):
        from rareflow.scenario.yaml_io import load_yaml

        data = load_yaml(p, display=display_name(p)).data
        if isinstance(data, dict) and set(data) <= {"name", "description", "economics"}:
            section, file, line_of = load_economics(scenario)
            return section, lambda parts: (file, line_of(parts))
    try:
        import rareflow

        sc = rareflow.load_scenario(scenario)
    except ImportError:  # pragma: no cover - the scenario loader is not installed
        section, file, line_of = load_economics(scenario)
        return section, lambda parts: (file, line_of(parts))
    from rareflow.model.plants import economics_section

    section = economics_section(sc)   # completed from the facilities' plant figures
    doc = sc.document
    if section is None:
        raise RareflowInputError.single(
            "the scenario has no 'economics:' section (bundled analyses: vulcan-10k, "
            "reelement-80m, mp-price-floor)", file=doc.file, path="economics",
        )
    return section, lambda parts: (doc.file_of(tuple(parts)), doc.line_of(tuple(parts)))


def _fmt_money(x: float | None) -> str:
    if x is None or x != x:
        return "n/a"
    return f"{x / 1e6:,.0f} MUSD"


def _fmt_pct(x: float | None) -> str:
    if x is None or x != x:
        return "n/a"
    return f"{x:.1%}"


def _fmt_num(x: float | None, nd: int = 2) -> str:
    if x is None or x != x:
        return "n/a"
    return f"{x:.{nd}f}"


@handle_errors
def economics(
    scenario: str = typer.Argument(
        ..., help="Scenario file, bundled analysis name (vulcan-10k, reelement-80m, "
        "mp-price-floor) or a standalone economics YAML."
    ),
    facility: str = typer.Option(
        None, "--facility", help="Facility id under economics.facilities (default: each in turn)."
    ),
    out: Path = typer.Option(
        None, "--out", help="Output folder (Parquet + economics_summary.json)."
    ),
    samples: int = typer.Option(
        2000, "--samples", min=1, max=1_000_000, help="Monte Carlo price paths."
    ),
    seed: int = typer.Option(42, "--seed", min=0, max=2**32 - 1,
                              help="Random seed, 0..2**32-1 (same seed, same results)."),
    price_model: str = typer.Option(
        None, "--price-model", help="Override every index's model: gbm or mean_reverting."
    ),
) -> None:
    """NPV, IRR, payback and DSCR of a facility over Monte Carlo NdPr price paths, with its
    loans, warrants, preferred equity, price floor and offtake; the government's cost of a
    floor (P5/P50/P95). Without --facility, every facility of the analysis in turn (with
    --out, one subfolder each). Prints the assumptions beside the figures."""
    from rareflow.errors import RareflowInputError

    section, where = _load_section(scenario)
    # no --facility: every facility of the analysis, in file order (a deal such as the
    # MP/DoD floor and offtake covers several); each with the same seed, so a facility's
    # figures are the same whether it is analysed alone or beside others
    facilities = [facility] if facility is not None else list(section.facilities)
    if not facilities:
        raise RareflowInputError.single("the economics section has no facilities",
                                        path="economics.facilities")
    if out is not None:
        from rareflow.results.io import check_output_folder

        check_output_folder(out)  # refuse a bad --out before the Monte Carlo
    if price_model is not None:
        section = _override_price_model(section, price_model, where)

    done = [_analyse(section, where, f, scenario, samples, seed, price_model) for f in facilities]
    written: dict[str, list[Path]] = {}
    if out is not None:
        from rareflow.results.io import atomic_write_json, atomic_write_parquet, output_folder

        with output_folder(out) as d:  # the whole folder, or nothing, is replaced
            for s, _case, _res, flows, per in done:
                sub = d if len(done) == 1 else d / s["facility"]
                shown = out if len(done) == 1 else out / s["facility"]
                atomic_write_parquet(sub / "cash_flows.parquet", flows)
                atomic_write_parquet(sub / "samples.parquet", per)
                atomic_write_json(sub / "economics_summary.json", s, default=float)
                written[s["facility"]] = [shown / "cash_flows.parquet", shown / "samples.parquet",
                                          shown / "economics_summary.json"]
            if len(done) > 1:
                atomic_write_json(d / "economics_summary.json",
                                  {"scenario": scenario, "seed": seed,
                                   "facilities": {s["facility"]: s for s, *_ in done}},
                                  default=float)
    for i, (s, case, res, _flows, _per) in enumerate(done):
        if i:
            print("\n" + "=" * 88 + "\n")
        _print(s, case, res, written.get(s["facility"]))
    if len(done) > 1 and out is not None:
        print(f"\nwrote {out / 'economics_summary.json'} (all facilities)")


def _override_price_model(section: Any, price_model: str, where: Any) -> Any:
    from rareflow.errors import RareflowInputError

    if price_model not in ("gbm", "mean_reverting"):
        raise RareflowInputError.single(
            f"must be gbm or mean_reverting (got {price_model!r})", path="--price-model"
        )
    pm = {}
    for k, ix in section.price_model.items():
        if price_model == "mean_reverting" and ix.speed is None:
            f, line = where(("economics", "price_model", k))
            raise RareflowInputError.single(
                f"index '{k}' has no 'speed' for a mean-reverting model",
                file=f, line=line, path=f"economics.price_model.{k}.speed",
            )
        pm[k] = ix.model_copy(update={"model": price_model})
    return section.model_copy(update={"price_model": pm})


def _analyse(section: Any, where: Any, facility: str, scenario: str, samples: int, seed: int,
             price_model: str | None) -> tuple[dict, Any, Any, Any, Any]:
    """One facility's analysis: (summary, case, result, cash-flow table, per-sample table)."""
    import numpy as np
    import pandas as pd

    from rareflow.engines.economics.analysis import run_case
    from rareflow.engines.economics.compile import compile_case
    from rareflow.scenario.schema_economics import iter_figures, unlabelled_figures

    case = compile_case(section, facility, where=where)
    res = run_case(case, n_samples=samples, rng=np.random.default_rng(seed))
    s = res.summary
    s["scenario"] = scenario
    s["seed"] = seed
    s["price_model_override"] = price_model

    # assumptions used by this facility's analysis
    prefixes = (
        f"facilities.{facility}.", "price_model.", "horizon", "government_discount_rate",
    )
    related = {
        g: {k for k, v in getattr(section, g).items()
            if (getattr(v, "borrower", None) or getattr(v, "facility", None)) == facility}
        for g in ("loans", "equity", "warrants", "contracts")
    }
    provenance = {}
    for path, fig in iter_figures(section):
        keep = path.startswith(prefixes) or any(
            path.startswith(f"{g}.{k}.") for g, ks in related.items() for k in ks
        )
        if keep:
            provenance[path] = fig.provenance()
    s["provenance"] = provenance
    s["unlabelled_figures"] = unlabelled_figures(section)

    flows = pd.DataFrame({"year": res.years, **{k: np.asarray(v) for k, v in res.base.items()}})
    for lid, sch in res.loans.items():
        for k, v in sch.as_dict().items():
            flows[f"loan_{lid}_{k}"] = v
    per = pd.DataFrame(
        {
            "sample": np.arange(samples),
            **{k: np.asarray(v, dtype=float) for k, v in res.samples.items()},
        }
    )
    return s, case, res, flows, per


def _tag(s: dict, path: str) -> str:
    """Short provenance tag of a figure for printing beside it."""
    p = s["provenance"].get(path)
    if p is None:
        return ""
    if p.startswith("source "):
        return f" [{p[len('source '):]}]"
    return " [assumption]" if p.startswith("assumption") else " [UNLABELLED]"


def _print(s: dict, case: Any, res: Any, written: list[Path] | None) -> None:
    b = s["base_case"]
    mc = s["monte_carlo"]
    lines = [
        f"economics of {s['facility']} {s['years'][0]}–{s['years'][1]}, "
        f"{s['samples']} price paths (seed {s['seed']})",
        "",
        "base case (median price path):",
        f"  project NPV @ {case.facility.discount_rate:.1%}: {_fmt_money(b['npv_project'])}"
        f"   IRR: {_fmt_pct(b['irr_project'])}"
        + (f" ({b['irr_project_reason']})" if b.get("irr_project_reason") else ""),
        f"  equity NPV @ {case.facility.equity_discount_rate:.1%}: {_fmt_money(b['npv_equity'])}"
        f"   equity IRR: {_fmt_pct(b['irr_equity'])}",
        f"  payback: {_fmt_num(b['payback_years'], 1)} yr from {s['years'][0]}",
    ]
    if "dscr_min" in b:
        lines.append(f"  DSCR min {_fmt_num(b['dscr_min'])}, average {_fmt_num(b['dscr_avg'])}")
    if "npv_project_no_floor" in b:
        lines.append(f"  project NPV without the floor: {_fmt_money(b['npv_project_no_floor'])}")

    def row(label: str, key: str, fmt: Any) -> str:
        st = mc.get(key)
        if not st or st["mean"] is None:
            return f"  {label}: n/a"
        return (f"  {label}: mean {fmt(st['mean'])}, P5 {fmt(st['p5'])}, "
                f"P50 {fmt(st['p50'])}, P95 {fmt(st['p95'])}")

    lines += ["", "Monte Carlo:"]
    lines.append(row("project NPV", "npv_project", _fmt_money))
    if "npv_project_no_floor" in mc:
        lines.append(row("project NPV without floor", "npv_project_no_floor", _fmt_money))
    lines.append(row("project IRR", "irr_project", _fmt_pct))
    lines.append(f"    IRR undefined in {s['irr_undefined_share']:.1%} of paths"
                 + (f" ({'; '.join(s['irr_reasons'])})" if s["irr_reasons"] else ""))
    lines.append(row("equity NPV", "npv_equity", _fmt_money))
    lines.append(row("payback (yr)", "payback", _fmt_num))
    if "dscr_min" in mc:
        lines.append(row("minimum DSCR", "dscr_min", _fmt_num))
        lines.append(row("average DSCR", "dscr_avg", _fmt_num))
    if "floor_government_cost" in s:
        g = s["floor_government_cost"]
        lines += [
            "",
            f"government cost of the price floor (PV @ {g['discount_rate']:.1%}, "
            "net of upside sharing):",
            f"  mean {_fmt_money(g['mean'])}, P5 {_fmt_money(g['p5'])}, "
            f"P50 {_fmt_money(g['p50'])}, "
            f"P95 {_fmt_money(g['p95'])}; probability of paying {g['probability_of_paying']:.1%}"
            f", {g['expected_years_paying']:.1f} years paying on average",
            f"  payments alone: mean {_fmt_money(g['payments_pv']['mean'])}, "
            f"P95 {_fmt_money(g['payments_pv']['p95'])}; upside received: mean "
            f"{_fmt_money(g['upside_receipts_pv']['mean'])}",
        ]
        for fl in g["floors"]:
            c = f"contracts.{fl['id']}."
            lines.append(f"  floor {fl['id']}: {fl['floor']:.0f} USD/kg{_tag(s, c + 'floor')} on "
                         f"{fl['covered_share']:.0%}{_tag(s, c + 'covered_share')} "
                         f"of {fl['product']} {fl['years'][0]}–{fl['years'][1]}"
                         f"{_tag(s, c + 'years')}, upside share {fl['upside_share']:.0%}"
                         f"{_tag(s, c + 'upside_share')}")
        if "floor_gov_cost_pv" in b:
            lines.append(f"  base case (median path): {_fmt_money(b['floor_gov_cost_pv'])}")
    lines.append("")
    for lid, ln in s["loans"].items():
        lines.append(f"loan {lid} ({ln['lender'] or 'lender not named'}): "
                     f"{_fmt_money(ln['amount'])}{_tag(s, f'loans.{lid}.amount')} drawn at "
                     f"{ln['rate']:.2%}{_tag(s, f'loans.{lid}.rate')}, "
                     f"{_fmt_money(ln['interest_capitalised'])} interest capitalised, "
                     f"{_fmt_money(ln['total_debt_service'])} total debt service; lender NPV "
                     f"at {s.get('government_discount_rate', 0):.1%} if repaid: "
                     f"{_fmt_money(ln['lender_npv_at_government_rate'])}")
    for wid, w in s["warrants"].items():
        extra = f" ({w['per_warrant']:.2f} USD per warrant)" if "per_warrant" in w else ""
        lines.append(
            f"warrants {wid} ({w['holder']}): {_fmt_money(w['total'])}{extra}; {w['basis']}"
        )
    for name, ix in s["price_indices"].items():
        lines.append(
            f"price {name}: {ix['model']}, start {ix['start']:.1f} USD/kg; {ix['calibration']}"
        )
    for note in s.get("notes", []):
        lines.append(f"note: {note}")
    lines += ["", "assumptions and sources:"]
    lines += [f"  {k}: {v}" for k, v in s["provenance"].items()]
    if s["unlabelled_figures"]:
        lines.append("figures without source or assumption: " + ", ".join(s["unlabelled_figures"]))
    if written:
        lines += ["", "wrote " + ", ".join(str(p) for p in written)]
    print("\n".join(lines))
