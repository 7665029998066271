"""Helpers for testing code built on rareflow: a tiny chain, random flow inputs, and a
mass-balance assertion.

Usage::

    import numpy as np
    from rareflow.testing import tiny_chain, random_flow_inputs, assert_mass_balanced
    from rareflow.engines.flows import solve_flows

    rng = np.random.default_rng(0)
    x = random_flow_inputs(rng)                     # on tiny_chain() by default
    assert_mass_balanced((x, solve_flows(x)))

Every chain built here goes through the real path (``ChainFile.model_validate`` then
``compile_chain``), so recipes are checked exactly as for a chain file. Randomness comes
only from the ``rng`` argument: the same seed gives the same chain and inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "assert_mass_balanced",
    "compile_chain_dict",
    "random_chain_dict",
    "random_flow_inputs",
    "tiny_chain",
    "tiny_chain_dict",
]

_ASSUME = "test fixture"


def tiny_chain_dict() -> dict[str, Any]:
    """A three-stage chain as a chain-file mapping (validated by ``ChainFile``).

    * ``ore`` (mining, t): 50 % element X, the rest ``other``;
    * ``oxide`` (separation, t): 80 % X, 20 % O;
    * ``metal`` (metal, t): 100 % X;
    * ``mine`` extracts ore; ``separate`` splits ore with 90 % recovery into oxide
      (0.5625 t oxide per t ore, drawing oxygen from outside); ``reduce`` makes metal from
      oxide (1.25 t oxide per t metal before losses) with 80 % yield (1.5625 t oxide per t metal).
    """
    return {
        "chain": {"id": "tiny", "name": "Tiny three-stage chain", "reference_material": "metal"},
        "elements": {"X": {"name": "x-ium"}, "O": {"name": "oxygen"}},
        "stages": [
            {"id": "mining", "name": "mining"},
            {"id": "separation", "name": "separation"},
            {"id": "metal", "name": "metal"},
            {"id": "sectors", "name": "use", "kind": "use"},
        ],
        "materials": {
            "ore": {"name": "ore", "stage": "mining", "composition": {"X": 0.5},
                    "assumption": _ASSUME},
            "oxide": {"name": "oxide", "stage": "separation",
                      "composition": {"X": 0.8, "O": 0.2}, "assumption": _ASSUME},
            "metal": {"name": "metal", "stage": "metal", "composition": {"X": 1.0},
                      "assumption": _ASSUME},
        },
        "processes": {
            "mine": {"name": "mine", "stage": "mining", "kind": "extract", "output": "ore",
                     "assumption": _ASSUME},
            "separate": {"name": "separate", "stage": "separation", "kind": "split",
                         "feed": "ore", "recovery": 0.9, "products": ["oxide"],
                         "draws": ["O"], "assumption": _ASSUME},
            "reduce": {"name": "reduce", "stage": "metal", "kind": "convert", "output": "metal",
                       "inputs": {"oxide": 1.25}, "yield": 0.8, "assumption": _ASSUME},
        },
        "sectors": {"users": {"name": "users", "uses": ["metal"], "activity_unit": "unit"}},
        "routes": {"metal": "reduce", "oxide": "separate", "ore": "mine"},
    }


def compile_chain_dict(data: dict[str, Any]) -> Any:
    """Validate a chain-file mapping and compile it (raises ``RareflowInputError`` or
    ``pydantic.ValidationError`` for a bad one)."""
    from rareflow.model.chain import compile_chain
    from rareflow.scenario.schema_chain import ChainFile

    return compile_chain(ChainFile.model_validate(data))


def tiny_chain() -> Any:
    """:func:`tiny_chain_dict` compiled to a :class:`~rareflow.model.chain.CompiledChain`."""
    return compile_chain_dict(tiny_chain_dict())


GRID = 64  # compositions and constituent shares are multiples of 1/GRID: exact in binary


def _partition(rng: np.random.Generator, k: int, units: int) -> np.ndarray:
    """``units`` split into ``k`` positive integer parts."""
    return 1 + rng.multinomial(units - k, np.ones(k) / k)


def _composition(rng: np.random.Generator, elements: list[str], *, full: bool) -> dict[str, float]:
    """Random element mass fractions over a random non-empty subset of ``elements``,
    multiples of 1/GRID (so sums are exact); summing to 1 when ``full`` (no ``other``),
    else to between about 30 % and 100 %."""
    k = int(rng.integers(1, len(elements) + 1))
    chosen = [str(e) for e in rng.choice(elements, size=k, replace=False)]
    units = GRID if full else int(rng.integers(max(k, GRID * 3 // 10), GRID + 1))
    parts = _partition(rng, k, units)
    return {e: float(u) / GRID for e, u in zip(chosen, parts, strict=True)}


def random_chain_dict(rng: np.random.Generator, *, n_elements: int | None = None,
                      n_raw: int | None = None, n_split: int | None = None,
                      n_convert: int | None = None, with_external: bool | None = None,
                      ) -> dict[str, Any]:
    """A random, valid, acyclic chain-file mapping.

    Stages ``s0`` (extracted raw materials), ``s1`` (split products) and ``s2``..
    (converted products). Split products hold only real elements (so the limiting-element
    fill cannot create ``other``); converted products are defined by ``constituents`` of
    earlier materials (so a recipe never creates an element); a convert process may send a
    share of its loss to a scrap co-product of the output's composition; an optional
    external material (supplied from outside the chain) can be a constituent.
    """
    ne = int(n_elements if n_elements is not None else rng.integers(1, 5))
    elements = [f"E{i}" for i in range(ne)]
    nr = int(n_raw if n_raw is not None else rng.integers(1, 4))
    ns = int(n_split if n_split is not None else rng.integers(0, 3))
    nc = int(n_convert if n_convert is not None else rng.integers(1, 5))
    ext = bool(rng.random() < 0.5) if with_external is None else with_external

    stages = [{"id": "s0", "name": "raw"}, {"id": "s1", "name": "split"}]
    materials: dict[str, Any] = {}
    processes: dict[str, Any] = {}
    for i in range(nr):
        materials[f"raw{i}"] = {"name": f"raw {i}", "stage": "s0",
                                "composition": _composition(rng, elements, full=False),
                                "assumption": _ASSUME}
        processes[f"extract{i}"] = {"name": f"extract {i}", "stage": "s0", "kind": "extract",
                                    "output": f"raw{i}", "assumption": _ASSUME}
    split_products: list[str] = []
    for i in range(ns):
        feed = f"raw{int(rng.integers(0, nr))}"
        feed_elems = [e for e, x in materials[feed]["composition"].items() if x > 0]
        prods = []
        for j in range(int(rng.integers(1, 4))):
            mid = f"sp{i}_{j}"
            materials[mid] = {"name": mid, "stage": "s1",
                              "composition": _composition(rng, feed_elems, full=True),
                              "assumption": _ASSUME}
            prods.append(mid)
        split_products += prods
        processes[f"split{i}"] = {"name": f"split {i}", "stage": "s1", "kind": "split",
                                  "feed": feed, "recovery": float(rng.uniform(0.05, 1.0)),
                                  "products": prods, "assumption": _ASSUME}
    if ext:
        materials["ext"] = {"name": "external", "stage": "s1", "external": True,
                            "composition": {elements[-1]: 1.0}, "assumption": _ASSUME}
    available = [m for m in materials]
    for i in range(nc):
        stage = f"s{2 + i}"
        stages.append({"id": stage, "name": f"converted {i}"})
        k = int(rng.integers(1, min(3, len(available)) + 1))
        parts = list(rng.choice(available, size=k, replace=False))
        units = _partition(rng, k, GRID)
        cons = {str(m): float(u) / GRID for m, u in zip(parts, units, strict=True)}
        mid = f"c{i}"
        materials[mid] = {"name": mid, "stage": stage, "constituents": cons,
                          "assumption": _ASSUME}
        proc: dict[str, Any] = {"name": f"convert {i}", "stage": stage, "kind": "convert",
                                "output": mid, "yield": float(rng.uniform(0.2, 1.0)),
                                "assumption": _ASSUME}
        if rng.random() < 0.3:
            scrap = f"scrap{i}"
            materials[scrap] = {"name": scrap, "stage": stage, "constituents": {mid: 1.0},
                                "assumption": _ASSUME}
            proc["scrap"] = scrap
            proc["scrap_share"] = float(rng.uniform(0.0, 1.0))
        processes[f"convert{i}"] = proc
        available.append(mid)
    stages.append({"id": "use", "name": "use", "kind": "use"})
    return {
        "chain": {"id": "random", "name": "random chain"},
        "elements": {e: {"name": e} for e in elements},
        "stages": stages,
        "materials": materials,
        "processes": processes,
        "sectors": {"all": {"name": "all", "uses": [available[-1]]}},
    }


def random_flow_inputs(rng: np.random.Generator, chain: Any = None, *, n_regions: int = 3,
                       n_years: int = 2, p_fixed: float = 0.6, p_self: float = 0.3,
                       p_residual: float = 0.5, p_demand: float = 0.3,
                       p_explicit_shares: float = 0.5, scale: float = 1000.0) -> Any:
    """Random :class:`~rareflow.engines.flows.FlowInputs` on ``chain`` (default
    :func:`tiny_chain`): fixed activities, self-supply (extract and convert processes only,
    as the scenario compiler allows), residual suppliers, final demand and import shares
    (each region-stage row either explicit origin shares summing to 1, possibly with
    zeros, or NaN = pro rata to the exporters' surplus)."""
    from rareflow.engines.flows.static import FlowInputs

    c = tiny_chain() if chain is None else chain
    R, P, M, Y, G = n_regions, len(c.processes), len(c.materials), n_years, len(c.stages)
    on = rng.random((R, P, Y)) < p_fixed
    fixed = np.where(on, rng.uniform(0.0, scale, (R, P, Y)), 0.0)
    can_follow = np.array([k != "split" for k in c.process_kind])
    self_supply = (rng.random((R, P)) < p_self) & can_follow[None, :]
    residual = self_supply & (rng.random((R, P)) < p_residual)
    external = np.array([m in c.external_materials for m in c.materials])
    demand = np.where(rng.random((R, M, Y)) < p_demand, rng.uniform(0.0, scale, (R, M, Y)), 0.0)
    shares = np.full((R, G, R), np.nan)
    for r in range(R):
        for g in range(G):
            if rng.random() < p_explicit_shares:
                w = rng.dirichlet(np.ones(R)) * (rng.random(R) < 0.7)
                if w.sum() == 0:
                    w[int(rng.integers(0, R))] = 1.0
                shares[r, g] = w / w.sum()
    stage_index = {s: i for i, s in enumerate(c.stages)}
    return FlowInputs(
        inputs=c.inputs, outputs=c.outputs, composition=c.composition,
        from_nature=c.from_nature, losses=c.losses,
        material_stage=np.array([stage_index[s] for s in c.material_stage]),
        external=external, fixed_activity=fixed, self_supply=self_supply,
        final_demand=demand, import_shares=shares, residual_supply=residual,
    )


def assert_mass_balanced(results_or_flows: Any, rtol: float = 1e-9) -> float:
    """Assert mass conservation and non-negative flows; return the largest relative error.

    Accepts a :class:`~rareflow.results.results.Results` or a pair ``(FlowInputs,
    FlowResult)``. Raises ``AssertionError`` naming the identity that is off.
    """
    from rareflow.engines.flows.static import FlowResult, mass_balance_errors

    if isinstance(results_or_flows, tuple):
        x, f = results_or_flows
    else:
        x, f = results_or_flows.inputs, results_or_flows.flows
    assert isinstance(f, FlowResult), f"expected a FlowResult, got {type(f).__name__}"
    for name in ("activity", "production", "process_use", "consumption", "imports",
                 "exports", "unmet", "unsold", "unrecorded", "boundary_in"):
        a = getattr(f, name)
        assert np.all(np.isfinite(a)), f"{name} has non-finite values"
        assert a.min(initial=0.0) >= 0.0, f"{name} has a negative value ({a.min():g})"
    errs = mass_balance_errors(x, f)
    worst = max(errs.values())
    assert np.isfinite(worst) and worst <= rtol, (
        "mass not conserved: " + ", ".join(f"{k} {v:.3g}" for k, v in errs.items()))
    return worst
