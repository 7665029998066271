"""Another critical-mineral chain runs from a chain file alone (no code names it)."""

from __future__ import annotations

from pathlib import Path

import pytest

import rareflow
from rareflow.engines.flows import requirements

FIXTURE = Path(__file__).parent.parent / "fixtures" / "graphite" / "scenario.yaml"


def test_graphite_chain_runs_and_balances() -> None:
    res = rareflow.run(str(FIXTURE))
    assert res.mass_balance_max_rel_error < 1e-12
    assert set(res.chain.stages) == {"mining", "purification", "anode", "sectors"}
    # 2024: U.S. has no anode plant, so every tonne of anode material is imported
    assert res.metric("import_reliance", "US", "anode", 2024) == pytest.approx(1.0)
    # 2028: 50 kt/yr x 80 % made at home against 1.3e6 x 1.1^4 vehicles x 50 kg
    demand = 1.3e6 * 1.1**4 * 0.05
    assert res.metric("import_reliance", "US", "anode", 2028) == pytest.approx(
        1 - 40_000 / demand, rel=1e-12)


def test_graphite_requirements_by_hand() -> None:
    sc = rareflow.load_scenario(str(FIXTURE))
    r = requirements(sc.chain, {"anode_material": 100_000}).as_dict()
    # coat: 0.95 spherical + 0.05 pitch per t, yield 0.98
    assert r["spherical_graphite"] == pytest.approx(100_000 * 0.95 / 0.98)
    assert r["pitch"] == pytest.approx(100_000 * 0.05 / 0.98)
    # spheronise: 1.0522 t concentrate per t before a 50 % yield
    assert r["graphite_concentrate"] == pytest.approx(100_000 * 0.95 / 0.98 * 1.0522 / 0.5)
