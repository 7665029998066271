"""Property tests of the static mass balance on random chains and random inputs.

Chains are generated as chain-file mappings and go through ``ChainFile.model_validate`` and
``compile_chain`` (so every recipe is checked as a real chain file would be); the inputs
are random fixed activities, self-supply and residual-supply flags, demands and import
shares (explicit rows and NaN = pro rata).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rareflow.engines.flows import FlowInputs, check_mass_balance, solve_flows
from rareflow.errors import MassBalanceError
from rareflow.testing import (
    assert_mass_balanced,
    compile_chain_dict,
    random_chain_dict,
    random_flow_inputs,
    tiny_chain,
)

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

FLOW_FIELDS = ("activity", "production", "process_use", "consumption", "imports", "exports",
               "unmet", "unsold", "unrecorded", "boundary_in")


@st.composite
def chains_and_inputs(draw: st.DrawFn) -> tuple[FlowInputs, np.random.Generator]:
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    chain = compile_chain_dict(random_chain_dict(
        rng,
        n_elements=draw(st.integers(1, 4)),
        n_raw=draw(st.integers(1, 3)),
        n_split=draw(st.integers(0, 2)),
        n_convert=draw(st.integers(1, 4)),
        with_external=draw(st.booleans()),
    ))
    x = random_flow_inputs(
        rng, chain,
        n_regions=draw(st.integers(1, 5)),
        n_years=draw(st.integers(1, 3)),
        p_fixed=draw(st.sampled_from([0.0, 0.3, 0.8, 1.0])),
        p_self=draw(st.sampled_from([0.0, 0.3, 0.7])),
        p_residual=draw(st.sampled_from([0.0, 0.5, 1.0])),
        p_demand=draw(st.sampled_from([0.0, 0.3, 0.8])),
        p_explicit_shares=draw(st.sampled_from([0.0, 0.5, 1.0])),
        scale=draw(st.sampled_from([1e-3, 1.0, 1e3, 1e6])),
    )
    return x, rng


@SETTINGS
@given(chains_and_inputs())
def test_random_chains_conserve_mass(case: tuple[FlowInputs, np.random.Generator]) -> None:
    x, _ = case
    f = solve_flows(x)
    worst = check_mass_balance(x, f, rtol=1e-9)
    assert worst <= 1e-9
    for name in FLOW_FIELDS:
        a = getattr(f, name)
        assert np.all(np.isfinite(a)), name
        assert a.min(initial=0.0) >= 0.0, f"{name} has negative flows"
    assert_mass_balanced((x, f))


@SETTINGS
@given(chains_and_inputs())
def test_flow_identities(case: tuple[FlowInputs, np.random.Generator]) -> None:
    """Identities beyond the checked ones: no region imports more than its deficit, unmet
    is the uncovered deficit, explicit shares are followed, pro-rata imports never exceed
    what exporters have left, and inputs are not mutated."""
    x, _ = case
    before = {f.name: np.array(getattr(x, f.name), copy=True) for f in dataclasses.fields(x)
              if getattr(x, f.name) is not None}
    f = solve_flows(x)
    for k, v in before.items():
        np.testing.assert_array_equal(getattr(x, k), v, err_msg=f"solve_flows mutated {k}")
    ext = x.external.astype(bool)
    net = np.where(ext[None, :, None], 0.0, f.consumption - f.production)
    deficit = np.maximum(net, 0.0)
    imports = f.imports.sum(axis=1)
    scale = 1.0 + np.abs(f.consumption) + np.abs(f.production)
    assert np.all(imports <= deficit + 1e-9 * scale)
    np.testing.assert_allclose(f.unmet, deficit - imports, atol=1e-9 * scale.max())
    # a region never has unmet demand and unsold surplus of one material at once
    assert np.all(np.minimum(f.unmet, f.unsold) <= 1e-9 * scale)
    shares = x.import_shares[:, x.material_stage, :]                        # [R, M, O]
    explicit = ~np.isnan(shares[..., 0])
    for r, m in zip(*np.nonzero(explicit), strict=True):
        expect = deficit[r, m][None, :] * shares[r, m][:, None]           # [O, Y]
        np.testing.assert_allclose(f.imports[r, :, m, :], expect, rtol=1e-12,
                                   atol=1e-12 * (1 + deficit[r, m].max()))
    # pro-rata imports never push an origin beyond its surplus (no unrecorded supply from
    # pro-rata rows); only explicit rows can draw more than an origin has
    if not explicit.any():
        assert np.all(f.unrecorded <= 1e-9 * scale)


def _tiny_case() -> tuple[FlowInputs, object]:
    """Two regions: A mines and separates 100 t ore, B demands metal and imports oxide."""
    c = tiny_chain()
    R, P, M, Y, G = 2, len(c.processes), len(c.materials), 1, len(c.stages)
    fixed = np.zeros((R, P, Y))
    fixed[0, c.p("mine")] = 100.0
    fixed[0, c.p("separate")] = 100.0
    ss = np.zeros((R, P), bool)
    ss[1, c.p("reduce")] = True
    demand = np.zeros((R, M, Y))
    demand[1, c.m("metal")] = 10.0
    x = FlowInputs(inputs=c.inputs, outputs=c.outputs, composition=c.composition,
                   from_nature=c.from_nature, losses=c.losses,
                   material_stage=np.array([c.stages.index(s) for s in c.material_stage]),
                   external=np.zeros(M, bool), fixed_activity=fixed, self_supply=ss,
                   final_demand=demand, import_shares=np.full((R, G, R), np.nan))
    return x, c


def test_corrupted_import_is_detected() -> None:
    x, c = _tiny_case()
    f = solve_flows(x)
    check_mass_balance(x, f)
    assert f.imports[1, 0, c.m("oxide"), 0] > 0
    bad = f.imports.copy()
    bad[1, 0, c.m("oxide"), 0] *= 1.001
    with pytest.raises(MassBalanceError, match="mass is not conserved"):
        check_mass_balance(x, dataclasses.replace(f, imports=bad))
    with pytest.raises(AssertionError, match="mass not conserved"):
        assert_mass_balanced((x, dataclasses.replace(f, imports=bad)))


@pytest.mark.parametrize("field", ["production", "consumption", "exports", "unmet", "unsold",
                                   "unrecorded"])
def test_corrupted_field_is_detected(field: str) -> None:
    x, _ = _tiny_case()
    f = solve_flows(x)
    arr = getattr(f, field).copy()
    arr.flat[np.argmax(arr)] += 1.0 if arr.max() > 0 else 0.5
    with pytest.raises(MassBalanceError):
        check_mass_balance(x, dataclasses.replace(f, **{field: arr}))


def test_nan_is_not_conserved() -> None:
    x, c = _tiny_case()
    f = solve_flows(x)
    bad = f.exports.copy()
    bad[0, c.m("oxide"), 0] = np.nan
    with pytest.raises(MassBalanceError):
        check_mass_balance(x, dataclasses.replace(f, exports=bad))


def test_tiny_case_by_hand() -> None:
    x, c = _tiny_case()
    f = solve_flows(x)
    ox, me = c.m("oxide"), c.m("metal")
    # B's reduction follows its metal demand: 10 t metal needs 10 * 1.25 / 0.8 t oxide
    assert f.activity[1, c.p("reduce"), 0] == pytest.approx(10.0)
    assert f.consumption[1, ox, 0] == pytest.approx(15.625)
    # A separates 100 t ore into 56.25 t oxide; exports B's need, 40.625 t unsold
    assert f.production[0, ox, 0] == pytest.approx(56.25)
    assert f.imports[1, 0, ox, 0] == pytest.approx(15.625)
    assert f.unsold[0, ox, 0] == pytest.approx(56.25 - 15.625)
    assert f.unmet.sum() == pytest.approx(0.0)
    assert f.production[1, me, 0] == pytest.approx(10.0)


def _non_dyadic_chain_dict() -> dict:
    """A valid chain whose converted material's composition sums to 1 - 1.1e-16 in
    floating point: compile_chain books the residue as element ``other`` in the output but
    not in the inputs, then clips the negative loss to zero."""
    from rareflow.testing import tiny_chain_dict

    d = tiny_chain_dict()
    d["elements"] = {"E0": {"name": "e0"}, "E1": {"name": "e1"}, "E2": {"name": "e2"},
                     "E3": {"name": "e3"}, "O": {"name": "oxygen"}}
    d["materials"] = {
        "a": {"name": "a", "stage": "mining",
              "composition": {"E2": 0.18131545098974844, "E0": 0.8186845490102516},
              "assumption": "x"},
        "b": {"name": "b", "stage": "mining",
              "composition": {"E3": 0.2765535592766869, "E1": 0.7234464407233131},
              "assumption": "x"},
        "mix": {"name": "mix", "stage": "metal",
                "constituents": {"a": 0.5873308223164255, "b": 0.4126691776835744},
                "assumption": "x"},
    }
    d["processes"] = {
        "mine_a": {"name": "m", "stage": "mining", "kind": "extract", "output": "a",
                   "assumption": "x"},
        "mine_b": {"name": "m", "stage": "mining", "kind": "extract", "output": "b",
                   "assumption": "x"},
        "blend": {"name": "blend", "stage": "metal", "kind": "convert", "output": "mix",
                  "yield": 0.8, "assumption": "x"},
    }
    d["sectors"] = {"users": {"name": "users", "uses": ["mix"]}}
    d["routes"] = {}
    d["chain"]["reference_material"] = "mix"
    return d


def test_rounding_residue_does_not_break_the_balance() -> None:
    c = compile_chain_dict(_non_dyadic_chain_dict())
    R, P, M, Y, G = 1, len(c.processes), len(c.materials), 1, len(c.stages)
    fixed = np.zeros((R, P, Y))
    fixed[0, c.p("blend")] = 1000.0
    fixed[0, c.p("mine_a")] = 1000.0
    fixed[0, c.p("mine_b")] = 1000.0
    x = FlowInputs(inputs=c.inputs, outputs=c.outputs, composition=c.composition,
                   from_nature=c.from_nature, losses=c.losses,
                   material_stage=np.array([c.stages.index(s) for s in c.material_stage]),
                   external=np.zeros(M, bool), fixed_activity=fixed,
                   self_supply=np.zeros((R, P), bool), final_demand=np.zeros((R, M, Y)),
                   import_shares=np.full((R, G, R), np.nan))
    check_mass_balance(x, solve_flows(x))
