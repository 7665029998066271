"""``rareflow stress SCENARIO --samples N --seed S --out DIR``: monthly supply stress test.

Samples the scenario's uncertain ``stress:`` parameters (Latin hypercube), runs every
sample at once as arrays (in chunks), writes per-sample results to Parquet and
``stress_summary.json``, and prints which sectors run short first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    workers: int = typer.Option(
        1, "--workers", "-w", min=1, max=64,
        help="Processes for the network model (results do not depend on it).",
    ),
    chunk: int = typer.Option(
        500, "--chunk", min=1,
        help="Samples simulated at once by the network model (results do not depend on it).",
    ),
) -> None:
    """Monthly supply stress test over sampled disruptions: time to survive, time to recover,
    shortfall by sector; writes Parquet and stress_summary.json."""
    import numpy as np

    from rareflow.cli.common import console
    from rareflow.engines.simulate.summary import summarise
    from rareflow.results.io import (
        atomic_write_json,
        atomic_write_parquet,
        check_output_folder,
        output_folder,
    )

    if out is not None:
        check_output_folder(out)  # refuse a bad --out before the run
    con = console()
    from rareflow.analysis.stress import is_network, run_stress
    from rareflow.scenario.loader import load_scenario

    loaded = load_scenario(scenario)
    if is_network(loaded):
        _network(loaded, samples, seed, out, method=method, monthly=monthly, central=central,
                 quiet=quiet, workers=workers, chunk=chunk)
        return

    sc, cs, res, dem = run_stress(scenario, 1 if central else samples, seed, method=method,
                                  monthly=monthly, central=central)
    out = out or Path("rareflow-out") / f"stress-{sc.name}"
    with output_folder(out) as d:  # the whole folder, or nothing, is replaced
        summary = summarise(res, dem)
        from rareflow.results.stress_results import StressResults

        # the tables of the results interface (``rareflow.stress``): one place builds them
        api = StressResults(scenario=sc, compiled=cs, result=res, demand=dem, seed=seed,
                            method=method, central=central, monthly=monthly)
        S = res.n_samples
        sectors = res.labels["sectors"]
        meta = {"scenario": sc.name, "seed": str(seed), "samples": str(S), "method": method,
                "units": "months; t of " + cs.material + "; shares 0-1",
                "disruption_start": cs.month_label(int(np.min(res.disruption_start)))}
        atomic_write_parquet(d / "stress_samples.parquet", api.table("samples"), meta)
        if cs.parameters:
            atomic_write_parquet(d / "stress_parameters.parquet", api.table("parameters"), meta)
        if monthly and res.shortfall_share is not None:
            atomic_write_parquet(d / "stress_monthly.parquet", api.table("monthly"), meta)
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


def _network(sc: Any, samples: int, seed: int, out: Path | None, *, method: str,  # noqa: C901
             monthly: bool, central: bool, quiet: bool, workers: int, chunk: int) -> None:
    """The network model: every region, stage and material of the reconciled world."""
    import numpy as np
    import pandas as pd

    from rareflow.analysis.stress import cause_paths, run_network_stress, trade_links
    from rareflow.cli.common import console
    from rareflow.engines.network.summary import group_summary, stockpile_summary, trade_summary
    from rareflow.results.io import atomic_write_json, atomic_write_parquet, output_folder

    con = console()
    S = 1 if central else samples
    show = not quiet and con.is_terminal
    if show:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        bar = Progress("[progress.description]{task.description}", BarColumn(),
                       MofNCompleteColumn(), TimeElapsedColumn(), console=con, transient=True)
        bar.start()
        task = bar.add_task(f"{sc.name}: simulating", total=S)

        def progress(n: int) -> None:
            bar.advance(task, n)
    else:
        progress = None  # type: ignore[assignment]
    try:
        nm, res, cm, cres = run_network_stress(sc, samples, seed, method=method,
                                               workers=workers, chunk=chunk, central=central,
                                               monthly=monthly, progress=progress)
    finally:
        if show:
            bar.stop()
    inp = nm.inputs
    chain = sc.chain
    T = inp.months
    months = [nm.month_label(t) for t in range(T)]
    pools = [nm.pool_label(k) for k in range(inp.K)]
    links = [nm.link_labels[i] for i in trade_links(nm)]
    groups = group_summary(res, nm.group_labels)
    stock = stockpile_summary(res, pools)
    elements = [e for e in chain.elements if e not in ("O", "other")]
    watch = sorted({e for r in sc.spec.stress.restrictions.values() for e in r.contains}
                   & set(elements))
    # the watched elements the users of each region lacked: content of the deficits of
    # the pools that serve final demand, per sample
    demand_pools = sorted(set(inp.use_pool.tolist()))
    stock_el: dict[str, dict[str, dict[str, float]]] = {}
    from rareflow.engines.network.summary import quantiles

    for region in nm.regions:
        ks = [k for k in demand_pools if pools[k][0] == region]
        for e in watch:
            c = np.array([chain.composition[chain.m(pools[k][1]), chain.elements.index(e)]
                          for k in ks])
            if not ks or c.max(initial=0.0) <= 0:
                continue
            q = quantiles(res.deficit[:, ks] @ c, ("p50", "p95"))
            if q["p95"] > 1e-6:
                stock_el.setdefault(region, {})[e] = q
    causes = cause_paths(cm, cres)
    from rareflow.analysis.stress import backtest

    bt = backtest(sc, nm, res)
    out = out or Path("rareflow-out") / f"stress-{sc.name}"
    meta = {"scenario": sc.name, "model": "network", "seed": str(seed), "samples": str(S),
            "method": method, "units": "months; t; shares 0-1"}
    with output_folder(out) as d:
        G = len(nm.group_labels)
        rows = {
            "sample": np.repeat(np.arange(S), G),
            "region": np.tile(np.array([g[0] for g in nm.group_labels]), S),
            "sector": np.tile(np.array([g[1] for g in nm.group_labels]), S),
            "short": (res.first_short >= 0).ravel(),
            "time_to_survive_months": res.time_to_survive().ravel(),
            "time_to_recover_months": res.time_to_recover().ravel(),
            "shortfall_share": res.shortfall_share().ravel(),
            "cumulative_loss_t": res.cum_loss.ravel(),
            "demand_t": res.cum_demand.ravel(),
        }
        atomic_write_parquet(d / "stress_samples.parquet", pd.DataFrame(rows), meta)
        keep = [k for k in range(inp.K) if res.deficit[:, k].max(initial=0.0) > 1e-6]
        atomic_write_parquet(d / "stress_stockpiles.parquet", pd.DataFrame({
            "sample": np.repeat(np.arange(S), len(keep)),
            "region": np.tile(np.array([pools[k][0] for k in keep], dtype=object), S),
            "material": np.tile(np.array([pools[k][1] for k in keep], dtype=object), S),
            "stockpile_needed_t": res.deficit[:, keep].ravel()}), meta)
        if nm.parameters:
            atomic_write_parquet(d / "stress_parameters.parquet",
                                 pd.DataFrame({"sample": np.arange(S), **nm.parameters}), meta)
        if monthly and res.monthly_short is not None and res.monthly_demand is not None:
            atomic_write_parquet(d / "stress_monthly.parquet", pd.DataFrame({
                "sample": np.repeat(np.arange(S), T * G),
                "month": np.tile(np.repeat(np.array(months), G), S),
                "region": np.tile(np.array([g[0] for g in nm.group_labels]), S * T),
                "sector": np.tile(np.array([g[1] for g in nm.group_labels]), S * T),
                "shortfall_t": res.monthly_short.ravel(),
                "demand_t": res.monthly_demand.ravel()}), meta)
        definitions = {
            "p_shortfall": "share of samples in which the sector has at least one short month "
            "(more than `tolerance` of its demand unmet)",
            "time_to_survive_months": "months from the disruption start to the first short "
            "month (months left in the horizon if never: censored)",
            "time_to_recover_months": "months from the disruption start to the end of the last "
            "short month; 0 if never short",
            "shortfall_share": "demand lost over the horizon / demand over the horizon",
            "stockpile_needed_t": "per region holding it and material: the stock that, "
            "released without a rate limit whenever the pool's users are short, covers every "
            "allocation the disruption denied there (the pool's cumulative deficit); "
            "entries along one supply path are alternatives, not a sum",
            "stockpile_needed_elements_t": "per region: the content of the elements the "
            "restrictions name in the deficits of the pools that serve its final demand (the "
            "Dy and Tb its users lacked, held as the materials they buy)",
            "trade_t": "shipments t/month by origin, destination (or world: all export "
            "destinations) and material",
            "cause_paths": "central run: the material, origin and upstream input that limited "
            "each short sector's supply, most direct first",
        }
        doc = {
            **groups,
            "stockpile_needed_t": stock,
            "stockpile_needed_elements_t": stock_el,
            "trade_t": trade_summary(res, links, months),
            "cause_paths": causes,
            "backtest_t": bt,
            "_meta": {**meta, "definitions": definitions, "horizon_start": months[0],
                      "months": T, "assumptions": nm.assumptions, "notes": nm.notes,
                      "uncertain_parameters": sorted(nm.parameters),
                      "not_sampled": nm.not_sampled,
                      "mass_balance_central": "checked every month (independent of the solve)"},
        }
        atomic_write_json(d / "stress_summary.json", doc)
    if quiet:
        print(out)
        return
    con.print(f"[bold]{sc.name}[/] (network): {S:,} samples (seed {seed}, {method}), {T} "
              f"months from {months[0]}; {len(nm.regions)} regions, {inp.N} plants, "
              f"{inp.L} trade links")
    con.print("sectors that run short (P(short); months to survive / to recover, p50; "
              "share of demand lost p5 / p50 / p95):")
    for region in nm.regions:
        secs = groups.get(region, {})
        short = sorted(((k, v) for k, v in secs.items() if v["p_shortfall"] > 0),
                       key=lambda kv: (-kv[1]["p_shortfall"],
                                       kv[1]["time_to_survive_months"]["p50"]))
        if not short:
            continue
        con.print(f"  [bold]{region}[/]")
        for k, v in short:
            sh = v["shortfall_share"]
            con.print(f"    {k:<20}{v['p_shortfall']:>6.0%}  survive "
                      f"{v['time_to_survive_months']['p50']:>3.0f}  recover "
                      f"{v['time_to_recover_months']['p50']:>3.0f}  lost {sh['p5']:>5.1%} /"
                      f"{sh['p50']:>5.1%} /{sh['p95']:>5.1%}")
            path = causes.get(region, {}).get(k)
            if path:
                con.print(f"      cause: {' <- '.join(path)}")
    never = [r for r in nm.regions if groups.get(r) and
             all(v["p_shortfall"] == 0 for v in groups[r].values())]
    if never:
        con.print(f"  never short: {', '.join(never)}")
    if stock:
        con.print("stockpile that would have prevented it (t, p50 / p95; per region holding "
                  "it; alternatives along one path):")
        for region, mats in stock.items():
            parts = []
            for mat, q in sorted(mats.items(), key=lambda kv: -kv[1]["p95"]):
                parts.append(f"{mat} {q['p50']:,.0f} / {q['p95']:,.0f}")
            el = stock_el.get(region, {})
            lacked = ("  (its users lacked " + ", ".join(
                f"{e} {x['p50']:,.1f} / {x['p95']:,.1f} t" for e, x in el.items()) + ")"
                if el else "")
            con.print(f"  {region}: " + "; ".join(parts[:6]) + lacked)
    for oid, series in bt.items():
        ob = sc.spec.stress.observed[oid]
        con.print(f"back-test {oid}: {ob.origin} -> {ob.destination}, "
                  f"{'+'.join(ob.materials)} (t/month)")
        con.print(f"  {'month':<9}{'recorded':>10}{'model p50':>11}{'p5':>9}{'p95':>9}")
        for lab, v in series.items():
            con.print(f"  {lab:<9}{v['recorded']:>10,.0f}{v['p50']:>11,.0f}{v['p5']:>9,.0f}"
                      f"{v['p95']:>9,.0f}")
    con.print("assumptions:")
    for a in nm.assumptions:
        con.print(f"  - {a}")
    for n in nm.notes:
        con.print(f"  - {n}")
    if nm.parameters:
        con.print(f"sampled: {', '.join(sorted(nm.parameters))}")
    con.print(f"wrote stress_summary.json, stress_samples.parquet, stress_stockpiles.parquet "
              f"to {out}")
