"""The stored-table mass-balance check fails on wrong flows, and residual_share is reported."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from rareflow.errors import MassBalanceError
from rareflow.results import balance_check as bc
from rareflow.results.results import run_static
from rareflow.scenario.loader import load_scenario

REPO = Path(__file__).resolve().parents[2]
GRAPHITE = REPO / "tests" / "fixtures" / "graphite" / "scenario.yaml"


@pytest.fixture(scope="module")
def baseline():  # type: ignore[no-untyped-def]
    return run_static(load_scenario("us-baseline"))


def _tables(res):  # type: ignore[no-untyped-def]
    return res.table("flows"), res.table("trade"), res.table("activity")


def _stored(res, flows, trade, activity) -> bc.StoredFlows:  # type: ignore[no-untyped-def]
    return bc.stored_flows(res.chain, flows, trade, activity, tuple(res.regions),
                           tuple(res.years))


def test_solved_baseline_passes(baseline) -> None:  # type: ignore[no-untyped-def]
    assert bc.balance_violations(baseline.stored_flows()) == []
    bc.check_stored_balance(baseline.stored_flows())


def test_graphite_chain_passes() -> None:
    res = run_static(load_scenario(str(GRAPHITE)))
    assert bc.balance_violations(res.stored_flows()) == []
    assert set(res.residual_share()["stage"]) <= set(res.chain.stages)


def test_wrong_unmet_fails_naming_region_material_year(baseline) -> None:  # type: ignore[no-untyped-def]
    flows, trade, activity = _tables(baseline)
    i = flows.index[flows["unmet_t"] > 0][0]
    flows.loc[i, "unmet_t"] += 1.2e6          # 1.2 Mt/yr
    r, m, y = flows.loc[i, ["region", "material", "year"]]
    with pytest.raises(MassBalanceError) as e:
        bc.check_stored_balance(_stored(baseline, flows, trade, activity))
    msg = str(e.value)
    assert f"region {r}, material {m}, year {y}" in msg
    assert "regional balance" in msg and "unmet_t vs its definition" in msg


def test_wrong_trade_flow_fails(baseline) -> None:  # type: ignore[no-untyped-def]
    flows, trade, activity = _tables(baseline)
    trade.loc[0, "imports_t"] += 1.2e6
    r, m, y = trade.loc[0, ["region", "material", "year"]]
    with pytest.raises(MassBalanceError, match=f"region {r}, material {m}, year {y}"):
        bc.check_stored_balance(_stored(baseline, flows, trade, activity))


def test_moved_trade_into_residuals_fails(baseline) -> None:  # type: ignore[no-untyped-def]
    """A 'solver' that drops a trade flow and books it as unmet at the importer and
    unsold at the origin keeps every regional identity but leaves trade uncleared."""
    flows, trade, activity = _tables(baseline)
    row = trade.sort_values("imports_t").iloc[-1]
    q = float(row["imports_t"])
    trade.loc[row.name, "imports_t"] = 0.0
    key = (flows["material"] == row["material"]) & (flows["year"] == row["year"])
    imp = key & (flows["region"] == row["region"])
    org = key & (flows["region"] == row["origin"])
    flows.loc[imp, "imports_t"] -= q
    flows.loc[imp, "unmet_t"] += q
    flows.loc[org, "exports_t"] -= q
    flows.loc[org, "unsold_t"] += q
    s = _stored(baseline, flows, trade, activity)
    assert bc.check_regional_balance(s) == []
    with pytest.raises(MassBalanceError,
                       match=f"trade does not clear.*material {row['material']}, "
                             f"year {row['year']}"):
        bc.check_stored_balance(s)


def test_corrupted_activity_breaks_process_balance(baseline) -> None:  # type: ignore[no-untyped-def]
    flows, trade, activity = _tables(baseline)
    i = activity.index[activity["activity_t"] > 0][0]
    activity.loc[i, "activity_t"] *= 1.01
    r, p, y = activity.loc[i, ["region", "process", "year"]]
    s = _stored(baseline, flows, trade, activity)
    bad = bc.check_process_flows(s)
    assert bad and any(f"region {r}," in v.where and f"year {y}" in v.where
                       and p in v.detail for v in bad)
    assert bc.check_region_elements(s)
    with pytest.raises(MassBalanceError, match=f"processes: .*{p}"):
        bc.check_stored_balance(s)


def test_broken_recipe_is_detected(baseline) -> None:  # type: ignore[no-untyped-def]
    s = baseline.stored_flows()
    c = s.chain
    k = int(np.flatnonzero(s.activity.sum(axis=(0, 2)) > 0)[0])
    losses = c.losses.copy()
    losses[k] += 0.01 * (c.inputs[k] @ c.composition + c.from_nature[k]).max()
    s = dataclasses.replace(s, chain=dataclasses.replace(c, losses=losses))
    bad = bc.check_recipes(s)
    assert bad and f"process {c.processes[k]}" in bad[0].where


def test_world_imports_vs_exports(baseline) -> None:  # type: ignore[no-untyped-def]
    flows, trade, activity = _tables(baseline)
    i = flows.index[flows["exports_t"] > 0][0]
    flows.loc[i, "exports_t"] *= 1.5
    m, y = flows.loc[i, ["material", "year"]]
    bad = bc.check_world(_stored(baseline, flows, trade, activity))
    assert bad[0].check == "world imports vs world exports"
    assert bad[0].where == f"world, material {m}, year {y}"
    with pytest.raises(MassBalanceError, match="world imports vs world exports"):
        bc.check_stored_balance(_stored(baseline, flows, trade, activity))


def test_residual_share_by_hand(baseline) -> None:  # type: ignore[no-untyped-def]
    df = baseline.residual_share()
    row = df[df["residual_t"] > 0].sort_values("residual_t").iloc[-1]
    flows = baseline.table("flows")
    c = baseline.chain
    e = c.elements.index(row["element"])
    sel = flows[(flows["region"] == row["region"]) & (flows["stage"] == row["stage"])
                & (flows["year"] == row["year"])]
    frac = sel["material"].map(lambda m: c.composition[c.m(m), e])
    resid = ((sel["unmet_t"] + sel["unsold_t"] + sel["unrecorded_t"]) * frac).sum()
    prod = (sel["production_t"] * frac).sum()
    cons = (sel["consumption_t"] * frac).sum()
    assert row["residual_share"] == pytest.approx(resid / max(prod, cons), rel=1e-12)
    tree = bc.residual_share_tree(df)
    assert tree[row["region"]][row["stage"]][row["element"]][str(row["year"])] == \
        pytest.approx(resid / max(prod, cons), rel=1e-6)
    assert (df[["production_t", "consumption_t"]].max(axis=1) > 0).all()


def test_summary_json_has_residual_share(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from rareflow.cli.main import app

    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", "us-baseline", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    rs = summary["residual_share"]
    assert rs and all(isinstance(v, float) for r in rs.values() for g in r.values()
                      for e in g.values() for v in e.values())
