"""``rareflow stress SCENARIO --samples N --seed S --out DIR``: monthly supply stress test.

Samples the scenario's uncertain ``stress:`` parameters (Latin hypercube), runs every
sample at once as arrays (in chunks), writes per-sample results to Parquet and
``stress_summary.json``, and prints which sectors run short first.
"""

from __future__ import annotations

from pathlib import Path

import typer

from rareflow.cli.common import handle_errors


@handle_errors
def stress(
    scenario: str = typer.Argument(
        ...,
        help="Scenario path or bundled name with a `stress:` section.",
    ),
    samples: int = typer.Option(1000, "--samples", "-n", help="Number of samples (>= 1)."),
    seed: int = typer.Option(
        0, "--seed", min=0, max=2**32 - 1,
        help="Random seed, 0..2**32-1; the same seed gives the same results.",
    ),
    out: Path = typer.Option(
        None, "--out", "-o",
        help="Output folder (default rareflow-out/stress-<name>).",
    ),
    method: str = typer.Option("lhs", "--method", help="lhs (Latin hypercube) or mc."),
    monthly: bool = typer.Option(False, "--monthly", help="Also write monthly shortfall shares."),
    central: bool = typer.Option(
        False, "--central",
        help="One deterministic run at the central values (ignores --samples and --seed).",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the output folder."),
) -> None:
    """Monthly supply stress test over sampled disruptions: time to survive, time to recover,
    shortfall by sector; writes Parquet and stress_summary.json."""
    import numpy as np
    import pandas as pd

    from rareflow.cli.common import console
    from rareflow.engines.simulate.summary import shortfall_share_total, summarise
    from rareflow.results.io import (
        atomic_write_json,
        atomic_write_parquet,
        check_output_folder,
        output_folder,
    )

    if out is not None:
        check_output_folder(out)  # refuse a bad --out before the run
    con = console()
    from rareflow.analysis.stress import run_stress

    sc, cs, res, dem = run_stress(scenario, 1 if central else samples, seed, method=method,
                                  monthly=monthly, central=central)
    out = out or Path("rareflow-out") / f"stress-{sc.name}"
    with output_folder(out) as d:  # the whole folder, or nothing, is replaced
        summary = summarise(res, dem)
        share = shortfall_share_total(res, dem)
        S = res.n_samples
        sectors = res.labels["sectors"]
        rows = {
            "sample": np.repeat(np.arange(S), len(sectors)),
            "region": cs.focus,
            "sector": np.tile(np.array(sectors), S),
            "time_to_survive_months": res.time_to_survive[:, 0].ravel(),
            "time_to_recover_months": res.time_to_recover[:, 0].ravel(),
            "recovered": res.recovered[:, 0].ravel(),
            "cumulative_shortfall_t": res.cumulative_shortfall[:, 0].ravel(),
            "shortfall_share": share[:, 0].ravel(),
            "peak_shortfall_share": res.peak_shortfall_share[:, 0].ravel(),
            "stockpile_needed_t": res.stockpile_needed[:, 0].sum(axis=-1).ravel(),
        }
        meta = {"scenario": sc.name, "seed": str(seed), "samples": str(S), "method": method,
                "units": "months; t of " + cs.material + "; shares 0-1",
                "disruption_start": cs.month_label(int(np.min(res.disruption_start)))}
        atomic_write_parquet(d / "stress_samples.parquet", pd.DataFrame(rows), meta)
        if cs.parameters:
            atomic_write_parquet(d / "stress_parameters.parquet",
                                 pd.DataFrame({"sample": np.arange(S), **cs.parameters}), meta)
        if monthly and res.shortfall_share is not None:
            T = res.months
            mrows = {
                "sample": np.repeat(np.arange(S), T * len(sectors)),
                "month": np.tile(np.repeat([cs.month_label(t) for t in range(T)], len(sectors)), S),
                "sector": np.tile(np.array(sectors), S * T),
                "shortfall_share": res.shortfall_share[:, :, 0, :].ravel(),
            }
            atomic_write_parquet(d / "stress_monthly.parquet", pd.DataFrame(mrows), meta)
        definitions = {
            "time_to_survive_months": "months from the disruption start to the first month "
            "with more than `tolerance` of the sector's demand unmet (months left in the horizon "
            "if never: censored)",
            "time_to_recover_months": "months from the disruption start to the end of the last "
            "abnormal month (shortfall, or a stock serving the sector below its initial/target "
            "level); 0 if never abnormal; censored at the horizon (see p_recovered)",
            "shortfall_share": "cumulative shortfall / cumulative demand over the horizon",
            "p_shortfall": "share of samples with at least one short month",
            "stockpile_needed_t": "cumulative shortfall without the strategic stockpiles: the "
            "stock (unlimited draw rate) that would have prevented every shortfall",
        }
        doc = {cs.focus: summary[cs.focus], "_meta": {"definitions": definitions,
            **meta, "horizon_start": cs.month_label(0), "months": res.months,
            "assumptions": cs.assumptions, "notes": cs.notes,
            "uncertain_parameters": sorted(cs.parameters),
            "not_sampled": sorted(k for k in sc.uncertain if not k.startswith("stress."))}}
        atomic_write_json(d / "stress_summary.json", doc)
    if quiet:
        print(out)
        return

    s = summary[cs.focus]
    order = sorted(sectors, key=lambda k: (-s[k]["p_shortfall"],
                                           s[k]["time_to_survive_months"]["p50"]))
    con.print(f"[bold]{sc.name}[/]: {S:,} samples (seed {seed}, {method}), {res.months} months "
              f"from {cs.month_label(0)}; region {cs.focus}, material {cs.material}; "
              f"disruption from {cs.month_label(int(np.median(res.disruption_start)))}")
    con.print("sectors in the order they run short (months from the disruption start; "
              "p5 / p50 / p95):")
    con.print(f"  {'sector':<20}{'P(short)':>9}  {'survive':>15}  {'recover':>15}  "
              f"{'shortfall share':>17}")
    for k in order:
        v = s[k]
        tts, ttr, sh = (v["time_to_survive_months"], v["time_to_recover_months"],
                        v["shortfall_share"])
        con.print(f"  {k:<20}{v['p_shortfall']:>9.0%}  "
                  f"{tts['p5']:>4.0f} /{tts['p50']:>4.0f} /{tts['p95']:>4.0f}  "
                  f"{ttr['p5']:>4.0f} /{ttr['p50']:>4.0f} /{ttr['p95']:>4.0f}  "
                  f"{sh['p5']:>5.1%} /{sh['p50']:>5.1%} /{sh['p95']:>5.1%}")
    left = int(np.median(res.months - res.disruption_start))
    con.print(f"  (survive = {left} months: never short within the horizon)")
    short = sorted((k for k in sectors if s[k]["p_shortfall"] > 0),
                   key=lambda k: (s[k]["time_to_survive_if_short_months"]["p50"],
                                  -s[k]["p_shortfall"]))
    if short:
        first = short[0]
        v = s[first]
        con.print(f"first short: [bold]{first}[/] in {v['p_shortfall']:.0%} of samples; when "
                  f"short, existing inventories and unaffected supply last a median "
                  f"{v['time_to_survive_if_short_months']['p50']:.0f} months "
                  f"(p5 {v['time_to_survive_if_short_months']['p5']:.0f}, "
                  f"p95 {v['time_to_survive_if_short_months']['p95']:.0f})")
        never = [k for k in sectors if s[k]["p_shortfall"] == 0]
        if never:
            con.print(f"never short: {', '.join(never)}")
    else:
        con.print("no sector runs short in any sample")
    con.print("assumptions:")
    for a in cs.assumptions:
        con.print(f"  - {a}")
    for n in cs.notes:
        con.print(f"  - {n}")
    if cs.parameters:
        con.print(f"sampled: {', '.join(sorted(cs.parameters))}")
    con.print(f"wrote stress_samples.parquet, stress_summary.json to {out}")
