"""The bundled network scenarios (found through the installed package by name)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import rareflow
from rareflow.analysis.stress import backtest, trade_links
from rareflow.engines.network import check_mass_balance, simulate_network
from rareflow.model.network import build_network, sample_network_parameters

NETWORK = ("cn-dytb-ban-12m", "cn-magnet-ban-12m", "us-embargo-12m-network",
           "cn-licence-2025-network", "myanmar-clay-halt", "us-ramps-delayed-network")


@pytest.mark.parametrize("name", NETWORK)
def test_bundled_network_scenarios_load(name: str) -> None:
    sc = rareflow.load_scenario(name)
    assert sc.spec.stress is not None and sc.spec.stress.model == "network"


@pytest.fixture(scope="module")
def dytb():  # noqa: ANN201
    sc = rareflow.load_scenario("cn-dytb-ban-12m")
    static = rareflow.run(sc)
    params = sample_network_parameters(sc, 16, seed=3)
    nm = build_network(sc, n_samples=16, parameters=params, results=static)
    res = simulate_network(nm.inputs, chunk=5, trade_links=trade_links(nm))
    central = build_network(sc, results=static)
    cres = simulate_network(central.inputs, trace=True)
    return sc, nm, res, central, cres


def test_dytb_ban_reaches_us_japan_and_europe(dytb) -> None:  # noqa: ANN001
    sc, nm, res, _, _ = dytb
    short = {}
    for g, (region, sector) in enumerate(nm.group_labels):
        if (res.first_short[:, g] >= 0).any():
            short.setdefault(region, set()).add(sector)
    assert "US" in short and "JP" in short
    assert "DE" in short or "FR" in short
    # the U.S. sectors differ: defence (tier 0, longer stocks) loses a smaller share
    share = res.shortfall_share()
    g = {lab: i for i, lab in enumerate(nm.group_labels)}
    assert share[:, g[("US", "defence")]].mean() < share[:, g[("US", "ev_bev")]].mean()


def test_dytb_stockpiles_hold_dy_and_tb(dytb) -> None:  # noqa: ANN001
    sc, nm, res, _, _ = dytb
    chain = sc.chain
    dy, tb = chain.elements.index("Dy"), chain.elements.index("Tb")
    held = {}
    for k in range(nm.inputs.K):
        region, mat = nm.pool_label(k)
        c = chain.composition[chain.m(mat)]
        held.setdefault(region, [0.0, 0.0])
        held[region][0] += float(np.median(res.deficit[:, k])) * c[dy]
        held[region][1] += float(np.median(res.deficit[:, k])) * c[tb]
    assert held["US"][0] > 0 and held["US"][1] > 0
    assert held["JP"][0] > 0


def test_dytb_central_run_mass_balanced(dytb) -> None:  # noqa: ANN001
    _, _, _, central, cres = dytb
    assert check_mass_balance(central.inputs, cres.trace) < 1e-9


def test_cli_same_seed_same_bytes_for_workers_and_chunks(tmp_path: Path) -> None:
    from rareflow.cli.main import app

    runner = CliRunner()
    outs = []
    for i, extra in enumerate((["--workers", "1", "--chunk", "6"],
                               ["--workers", "2", "--chunk", "2"])):
        out = tmp_path / f"o{i}"
        res = runner.invoke(app, ["stress", "cn-dytb-ban-12m", "--samples", "6", "--seed", "3",
                                  "--out", str(out), "--quiet", *extra])
        assert res.exit_code == 0, res.output
        outs.append((out / "stress_summary.json").read_bytes())
    assert outs[0] == outs[1]
    doc = json.loads(outs[0])
    assert doc["US"]["ev_bev"]["p_shortfall"] > 0
    assert set(doc["US"]["ev_bev"]["shortfall_share"]) == {"p5", "p50", "p95"}
    assert "world" in doc["trade_t"]["CN"]
    some = next(iter(doc["stockpile_needed_t"]["US"].values()))
    assert set(some) == {"p50", "p95"}
    assert {"Dy", "Tb"} <= set(doc["stockpile_needed_elements_t"]["US"])


def test_licence_backtest_has_the_recorded_months() -> None:
    sc = rareflow.load_scenario("cn-licence-2025-network")
    nm = build_network(sc)
    res = simulate_network(nm.inputs, trade_links=trade_links(nm))
    bt = backtest(sc, nm, res)
    assert set(bt["cn_magnet_exports"]) == {f"2025-{m:02d}" for m in range(4, 11)}
    assert set(bt["cn_magnet_exports_us"]) == {f"2025-{m:02d}" for m in range(5, 11)}
    # exports collapse under the licence delay and come back after it
    tot = bt["cn_magnet_exports"]
    assert tot["2025-05"]["p50"] < 0.5 * tot["2025-10"]["p50"]


def test_network_section_errors_are_located(tmp_path: Path) -> None:
    from rareflow.errors import RareflowInputError

    f = tmp_path / "bad.yaml"
    f.write_text("name: bad\nextends: cn-dytb-ban-12m\nstress:\n  restrictions:\n"
                 "    cn_dytb:\n      destinations: [JPN]\n")
    with pytest.raises(RareflowInputError) as e:
        rareflow.load_scenario(str(f))
    msg = str(e.value)
    assert "stress.restrictions.cn_dytb.destinations.0" in msg and "JP" in msg


def test_sobol_ranks_network_parameters() -> None:
    from rareflow.analysis.sensitivity import sobol_indices

    doc = sobol_indices("cn-dytb-ban-12m", base_samples=4, seed=0)
    assert doc["model"] == "network"
    assert set(doc["parameters"]) >= {"stress.inventories.months", "stress.spare_capacity.value"}
    assert doc["runs"] == 4 * (len(doc["parameters"]) + 2)
