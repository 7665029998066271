"""Estimated shares (``reconcile.compositions``): a stand-in distribution whose share of
an element the reconciliation estimates from the figures downstream.

The toy world: region A mines ore (20 % X by the stand-in, the rest Y) and splits it into
an X product and a Y product. The X product is measured. The answer is checked against
the same weighted least-squares problem written out by hand and minimised by SciPy (an
independent computation: it shares no code with the model's compilation).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize
from typer.testing import CliRunner

import rareflow
from rareflow.cli.main import app
from rareflow.model.reconcile import reconcile_scenario, scaled_material

A = "test scenario: numbers chosen to be checked by hand"
MINE, SEP = 100.0, 100.0          # reported activities, t/yr (sigma 5 % each)
S0, S_SIGMA = 0.2, 0.06           # the stand-in share of X, sigma 30 %
X_MADE, X_SIGMA = 27.0, 1.0       # the measured X product, t/yr
REC = 0.9


def _chain(recovery_uncertain: bool) -> dict:
    sep = {"name": "separate", "stage": "separation", "kind": "split", "feed": "ore",
           "recovery": REC, "products": ["x_product", "y_product"], "assumption": A}
    if recovery_uncertain:
        sep["confidence"] = "low"
    return {
        "chain": {"id": "toy", "name": "toy", "reference_material": "x_product"},
        "elements": {"X": {"name": "x-ium"}, "Y": {"name": "y-ium"}},
        "stages": [{"id": "mining", "name": "mining"},
                   {"id": "separation", "name": "separation"},
                   {"id": "use", "name": "use", "kind": "use"}],
        "materials": {
            "ore": {"name": "ore", "stage": "mining", "composition": {"X": S0, "Y": 1 - S0},
                    "assumption": A},
            "x_product": {"name": "X product", "stage": "separation",
                          "composition": {"X": 1.0}, "assumption": A},
            "y_product": {"name": "Y product", "stage": "separation",
                          "composition": {"Y": 1.0}, "assumption": A},
        },
        "processes": {
            "mine": {"name": "mine", "stage": "mining", "kind": "extract", "output": "ore",
                     "assumption": A},
            "separate": sep,
        },
        "sectors": {"users": {"name": "users", "uses": ["x_product", "y_product"],
                              "activity_unit": "unit"}},
    }


def _scenario(d: Path, *, recovery_uncertain: bool = False, composition: dict | None = None
              ) -> Path:
    (d / "toy.yaml").write_text(json.dumps(_chain(recovery_uncertain)))
    comp = composition if composition is not None else {
        "material": "ore", "elements": ["X"], "uncertainty": S_SIGMA / S0, "assumption": A}
    (d / "world.yaml").write_text(json.dumps({
        "name": "toy-world", "chain": "toy.yaml", "years": {"start": 2024, "end": 2025},
        "focus_region": "AA", "regions": {"AA": {"name": "AA"}},
        "production": {
            "mine": {"region": "AA", "process": "mine", "values": f"{MINE} t/yr",
                     "uncertainty": 0.05, "assumption": A},
            "sep": {"region": "AA", "process": "separate", "values": f"{SEP} t/yr",
                    "uncertainty": 0.05, "assumption": A},
        },
        "reconcile": {
            "year": 2024, "elements": ["X"],
            "reported": {"x_made": {"kind": "production", "region": "AA",
                                    "materials": ["x_product"], "value": f"{X_MADE} t/yr",
                                    "uncertainty": X_SIGMA / X_MADE, "assumption": A}},
            "compositions": {"ore_x": comp},
        },
    }))
    return d / "world.yaml"


def _by_hand(recovery_uncertain: bool) -> dict[str, float]:
    """The problem by hand: the ore balance makes mining equal separation (q); the X
    product is recovery x share x q."""
    def chi2(v: np.ndarray) -> float:
        q, s, r = v
        out = (((q - MINE) / 5.0) ** 2 + ((q - SEP) / 5.0) ** 2 + ((s - S0) / S_SIGMA) ** 2
               + ((r * s * q - X_MADE) / X_SIGMA) ** 2)
        return out + (((r - REC) / (0.3 * REC)) ** 2 if recovery_uncertain else 0.0)

    fixed_r = None if recovery_uncertain else (REC, REC)
    res = optimize.minimize(chi2, np.array([100.0, 0.2, REC]), method="L-BFGS-B",
                            bounds=[(0, None), (0, 1), fixed_r or (0, 1)],
                            options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10000})
    q, s, r = res.x
    return {"q": q, "s": s, "r": r, "chi2": res.fun}


@pytest.mark.parametrize("recovery_uncertain", [False, True])
def test_share_is_estimated_as_by_hand(tmp_path: Path, recovery_uncertain: bool) -> None:
    f = _scenario(tmp_path, recovery_uncertain=recovery_uncertain)
    rec = reconcile_scenario(rareflow.load_scenario(str(f)))
    hand = _by_hand(recovery_uncertain)
    assert rec.result.success
    ids = [fi.id for fi in rec.figures]
    s_hat = rec.result.reconciled[ids.index("reconcile.compositions.ore_x")]
    assert s_hat == pytest.approx(hand["s"], rel=1e-5)
    assert s_hat > S0 + 0.05        # 27 t of X from 100 t at 90 % needs more than 20 % X
    assert rec.result.chi2 == pytest.approx(hand["chi2"], rel=1e-4)
    x_hat = rec.result.reconciled[ids.index("reconcile.reported.x_made")]
    assert x_hat == pytest.approx(hand["r"] * hand["s"] * hand["q"], rel=1e-5)
    assert rec.compositions["ore_x"][3] == pytest.approx(s_hat, rel=1e-9)


def test_the_world_runs_on_the_estimated_share(tmp_path: Path) -> None:
    """The answer replaces the stand-in in the chain the static balance runs on: the ore
    holds the estimated X, Y makes up the rest, and the X product is what the share
    implies."""
    res = rareflow.run(str(_scenario(tmp_path)))
    hand = _by_hand(False)
    c = res.arrays.chain
    ore = c.composition[c.m("ore")]
    assert ore[c.elements.index("X")] == pytest.approx(hand["s"], rel=1e-5)
    assert ore[c.elements.index("X")] + ore[c.elements.index("Y")] == pytest.approx(1.0)
    flows = res.table("flows")
    made = flows[(flows.year == 2024) & (flows.material == "x_product")].production_t.sum()
    assert made == pytest.approx(REC * hand["s"] * hand["q"], rel=1e-5)
    listed = res.summary()["reconciliation"]["compositions"]
    assert listed == [{"id": "ore_x", "material": "ore", "elements": "X", "reported": S0,
                       "reconciled": pytest.approx(hand["s"], rel=1e-5)}]


def test_against_moves_only_the_parts_named() -> None:
    """``against``: the change comes out of the parts named, in proportion."""
    from rareflow.scenario.schema_chain import Material

    mat = Material.model_validate({
        "name": "alloy", "stage": "alloy", "assumption": A,
        "constituents": {"ndpr_metal": 0.26, "dy_metal": 0.04, "iron": 0.70}})
    out = scaled_material(mat, ["dy_metal"], 0.04, 0.01, by_constituents=True,
                          against=["ndpr_metal"])
    assert out.constituents == pytest.approx({"ndpr_metal": 0.29, "dy_metal": 0.01,
                                              "iron": 0.70})
    rest = scaled_material(mat, ["dy_metal"], 0.04, 0.01, by_constituents=True)
    assert rest.constituents["dy_metal"] == pytest.approx(0.01)
    assert sum(rest.constituents.values()) == pytest.approx(1.0)
    assert rest.constituents["iron"] == pytest.approx(0.70 * 0.99 / 0.96)


@pytest.mark.parametrize(("comp", "where", "what"), [
    ({"material": "slag", "elements": ["X"], "assumption": A},
     "reconcile.compositions.ore_x.material", "unknown material 'slag'"),
    ({"material": "ore", "elements": ["Z"], "assumption": A},
     "reconcile.compositions.ore_x.elements.0", "unknown element 'Z'"),
    ({"material": "ore", "constituents": ["x_product"], "assumption": A},
     "reconcile.compositions.ore_x.material", "gives no share of x_product"),
    ({"material": "ore", "assumption": A},
     "reconcile.compositions.ore_x", "give `elements`"),
])
def test_bad_compositions_are_located(tmp_path: Path, comp: dict, where: str, what: str) -> None:
    f = _scenario(tmp_path, composition=comp)
    res = CliRunner().invoke(app, ["reconcile", str(f)])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    line = next(ln for ln in res.output.splitlines() if where in ln)
    assert "world.yaml:" in line and what in line, res.output
