"""The reference world balances after reconciliation, matches the sourced anchors, and the
reconciliation's test fails when a figure is corrupted."""

from __future__ import annotations

import json

import pytest

import rareflow
from rareflow.model.reconcile import reconcile_scenario
from rareflow.scenario.loader import load_scenario

MAGNET_RE = ("Nd", "Pr", "Dy", "Tb")


@pytest.fixture(scope="module")
def ref():
    return rareflow.run("reference")


def test_residual_share_2024_at_most_2_percent(ref):
    df = ref.residual_share()
    df = df[(df.year == 2024) & df.element.isin(MAGNET_RE)]
    assert len(df) > 50                       # every region and stage is there
    worst = df.sort_values("residual_share").iloc[-1]
    assert worst.residual_share <= 0.02, worst.to_dict()


def test_world_figures_beside_their_sources(ref):
    s = json.loads(json.dumps(ref.summary()))
    w = s["world"]["2024"]
    assert w["china_magnet_exports_t"] == pytest.approx(58152, rel=0.05)     # GACC via Adamas
    assert w["mine_production_t_reo"] == pytest.approx(380000, rel=0.05)     # USGS MCS 2026
    # USGS: 53 % U.S. net import reliance for compounds and metals in 2024
    assert s["net_import_reliance"]["US"]["separation"]["2024"] == pytest.approx(0.53, abs=0.03)
    assert s["world_figures"] == "reconciled"
    assert s["reconciliation"]["converged"]
    assert s["reconciliation"]["max_balance_residual"] < 1e-9


def test_us_concentrate_leaves_as_exports(ref):
    t = ref.table("trade")
    us = t[(t.year == 2024) & (t.origin == "US") & (t.material == "reo_concentrate")]
    assert us.imports_t.sum() == pytest.approx(37500, rel=0.1)               # USGS MCS 2026
    f = ref.table("flows")
    left = f[(f.year == 2024) & (f.region == "US") & (f.material == "reo_concentrate")]
    assert float(left.unsold_t.sum()) < 1.0


def test_reconciliation_flags_a_corrupted_figure(tmp_path):
    """Multiply China's reported magnet exports by ten: the chi-square test rejects the
    world and the corrupted figure is flagged."""
    good = reconcile_scenario(load_scenario("reference"))
    assert good.result.success
    assert "reconcile.reported.cn_magnet_exports_2024" not in {good.figures[i].id
                                                               for i in good.result.flags}
    bad_file = tmp_path / "bad.yaml"
    bad_file.write_text(
        "name: corrupted\nextends: reference\n"
        "reconcile:\n  reported:\n    cn_magnet_exports_2024:\n      value: 581520 t/yr\n")
    bad = reconcile_scenario(load_scenario(str(bad_file)))
    assert bad.result.p_value < 1e-6
    assert bad.result.chi2 > good.result.chi2 + 50
    moved = max(range(len(bad.figures)), key=lambda i: abs(bad.result.moved_sigma[i]))
    assert bad.figures[moved].id == "reconcile.reported.cn_magnet_exports_2024"
    assert abs(bad.result.moved_sigma[moved]) > 5
