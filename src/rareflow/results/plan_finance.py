"""Finance coupled to the plan: the plants of a least-cost plan priced with their deals.

For each economics scenario named in ``plan.finance`` and each facility it analyses:

* a facility the plan *builds* (a build option with ``facility:``) takes the plan's
  schedule: its capacity becomes the option's cumulative build by year and its start year
  the first build year, so its commercial operation, utilisation ramp, capex spending and
  milestone draws all follow the plan (:mod:`rareflow.model.plants`); a facility the plan
  does not build is reported as such and carries no exposure;
* a facility that exists in the plan (status in ``plan.existing_status``) is analysed on
  its own schedule;

then :func:`rareflow.economics` gives each plant's NPV, its debt-service coverage (base
case and the share of sampled price paths in which the minimum DSCR falls below 1), and
the government's side: loans (amount, peak balance outstanding, the lender's NPV at the
government's discount rate), the expected cost of price floors and its 95th percentile,
and the value of warrants. Loans are repaid in full in the economics engine (no default
is modelled): the probability of DSCR < 1 is what the model says about default risk.

Government expected cost = floor cost (mean PV) − lender NPV of government loans − value
of government warrants; exposure = peak government loan balance + floor payments at P95.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _built_schedule(builds: list[dict[str, Any]], option: str) -> dict[int, float]:
    """{year: cumulative capacity, t/yr} of one option's builds (in the option's basis)."""
    total, out = 0.0, {}
    for b in sorted((b for b in builds if b["option"] == option), key=lambda b: b["year"]):
        total += float(b["build_t_per_yr"])
        out[int(b["year"])] = round(total, 6)
    return out


def _resolve(source: str, plan_scenario: Any) -> str:
    from pathlib import Path

    base = Path(plan_scenario.source_file).parent if plan_scenario.source_file else None
    if base is not None and (base / source).is_file():
        return str(base / source)
    return source


def plant_overrides(plan_scenario: Any, variant: dict[str, Any], fid: str
                    ) -> tuple[str, dict[str, Any]]:
    """How facility ``fid`` stands in the plan: ('built', overrides) with the plan's
    schedule, ('existing', {}), or ('not built', {}) / ('not in plan', {})."""
    plan = plan_scenario.spec.plan
    options = [k for k, c in plan.candidates.items() if c.facility == fid]
    if options:
        sched: dict[int, float] = {}
        for k in options:
            for y, v in _built_schedule(variant.get("builds", []), k).items():
                sched[y] = sched.get(y, 0.0) + v
        if not sched:
            return "not built", {}
        first = min(sched)
        return "built", {f"facilities.{fid}.capacity": {y: f"{v} t/yr" for y, v in sched.items()},
                         f"facilities.{fid}.start_year": first,
                         f"facilities.{fid}.years": first,
                         f"facilities.{fid}.status": "construction"}
    fac = plan_scenario.spec.facilities.get(fid)
    if fac is not None and fac.status in plan.existing_status:
        return "existing", {}
    return "not in plan", {}


def _plant_figures(fe: Any) -> dict[str, Any]:
    s, res = fe.summary, fe.result
    dscr = np.asarray(res.samples.get("dscr_min", []), dtype=float)   # none without debt
    gov_loans = {k: v for k, v in s["loans"].items() if v.get("government")}
    peak = {k: float(np.max(res.loans[k].closing)) for k in gov_loans}
    first_draw = {k: int(s["years"][0] + np.flatnonzero(res.loans[k].draw > 0)[0])
                  for k in gov_loans if np.any(res.loans[k].draw > 0)}
    floor = s.get("floor_government_cost")
    warrants = sum(float(w.get("total", 0.0)) for w in s.get("warrants", {}).values())
    return {
        "npv_project_base_usd": s["base_case"]["npv_project"],
        "npv_project_mean_usd": s["monte_carlo"]["npv_project"]["mean"],
        "dscr_min_base": s["base_case"].get("dscr_min"),
        "p_dscr_below_1": (float(np.mean(dscr[np.isfinite(dscr)] < 1.0))
                           if np.isfinite(dscr).any() else None),
        "government_loans": {k: {"amount_usd": v["amount"], "peak_outstanding_usd": peak[k],
                                 "first_draw_year": first_draw.get(k),
                                 "lender_npv_usd": v["lender_npv_at_government_rate"]}
                             for k, v in gov_loans.items()},
        "floor_cost_mean_usd": floor["mean"] if floor else 0.0,
        "floor_cost_p95_usd": floor["p95"] if floor else 0.0,
        "warrants_value_usd": warrants,
    }


def price_plan(plan_scenario: Any, variant: dict[str, Any], *, samples: int = 500,
               seed: int = 1) -> dict[str, Any]:
    """The plan's plants with their financing (see the module); JSON-ready."""
    import rareflow

    plan = plan_scenario.spec.plan
    plants: list[dict[str, Any]] = []
    for deal in plan.finance:
        source = _resolve(deal, plan_scenario)
        base = rareflow.load_scenario(source)
        section = base.spec.economics
        for fid in (section.facilities if section is not None else {}):
            status, over = plant_overrides(plan_scenario, variant, fid)
            row: dict[str, Any] = {"deal": deal, "facility": fid, "status": status}
            if status in ("built", "existing"):
                sc = rareflow.load_scenario(source, over or None,
                                            origin=f"<plan {plan_scenario.name}>")
                from rareflow.model.plants import economics_section

                res = rareflow.economics(sc, facility=fid, samples=samples, seed=seed)
                row["cod"] = economics_section(sc).facilities[fid].cod
                row.update(_plant_figures(res.facilities[fid]))
            plants.append(row)
    priced = [p for p in plants if "npv_project_base_usd" in p]
    lend = sum(v["lender_npv_usd"] for p in priced for v in p["government_loans"].values())
    floor = sum(p["floor_cost_mean_usd"] for p in priced)
    warr = sum(p["warrants_value_usd"] for p in priced)
    peak = sum(v["peak_outstanding_usd"] for p in priced for v in p["government_loans"].values())
    floor95 = sum(p["floor_cost_p95_usd"] for p in priced)
    return {
        "variant": variant.get("variant"), "samples": samples, "seed": seed,
        "plants": plants,
        "government": {
            "expected_cost_usd": floor - lend - warr,
            "floor_cost_mean_usd": floor, "loans_lender_npv_usd": lend,
            "warrants_value_usd": warr,
            "exposure_usd": peak + floor95,
            "peak_loan_outstanding_usd": peak, "floor_cost_p95_usd": floor95,
            "discounting": "each deal's government_discount_rate, to its start year",
            "note": "loans repaid in full (no default modelled); p_dscr_below_1 per plant is "
                    "the default-risk indicator",
        },
    }
