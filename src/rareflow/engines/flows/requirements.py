"""Back-calculate what a production target needs upstream, through yields and routes.

For a target such as 10,000 t/yr of sintered NdFeB, each material is made by the process
its chain ``routes:`` name. A conversion runs at need / yield; a separation (split) runs
at the largest need among the products routed to it (the limiting element), and what it
makes beyond the needs comes out as co-products (the La and Ce that come with NdPr).
Materials without a route (iron, boron) are inputs from outside the chain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rareflow.errors import RareflowInputError
from rareflow.model.chain import CompiledChain

MAX_PASSES = 200


@dataclass(frozen=True)
class Requirement:
    """Requirement of a target, t/yr per material [M] and per element [E].

    need        : gross need of each material (target included)
    production  : what the routed processes make of each material
    coproducts  : production beyond need (sold, stored or wasted)
    activity    : [P] process activity (t/yr of each process's basis)
    element_need: [E] element content of the need of primary feeds (t/yr)
    """

    chain: CompiledChain
    target: dict[str, float]
    need: np.ndarray
    production: np.ndarray
    coproducts: np.ndarray
    activity: np.ndarray

    def as_dict(self, *, include_target: bool = False, tol: float = 1e-9) -> dict[str, float]:
        """Material id -> t/yr needed, for every material with a need (upstream only by
        default)."""
        out = {}
        for j, m in enumerate(self.chain.materials):
            if self.need[j] > tol and (include_target or m not in self.target):
                out[m] = float(self.need[j])
        return out

    def coproducts_dict(self, tol: float = 1e-9) -> dict[str, float]:
        return {m: float(self.coproducts[j]) for j, m in enumerate(self.chain.materials)
                if self.coproducts[j] > tol}

    def element_content(self, material: str) -> dict[str, float]:
        j = self.chain.m(material)
        return {e: float(self.need[j] * self.chain.composition[j, k])
                for k, e in enumerate(self.chain.elements) if self.chain.composition[j, k] > 0}


def requirements(chain: CompiledChain, target: dict[str, float],
                 routes: dict[str, str] | None = None) -> Requirement:
    """Requirement of producing ``target`` (material -> t/yr) through ``routes``.

    Raises
    ------
    RareflowInputError
        For an unknown target material, a negative target, or a target no route makes.
    """
    routes = dict(chain.routes if routes is None else routes)
    M, P = len(chain.materials), len(chain.processes)
    t = np.zeros(M)
    for m, q in target.items():
        if m not in chain.materials:
            raise RareflowInputError.single(
                f"unknown material '{m}' (known: {', '.join(chain.materials)})", path="target")
        if not np.isfinite(q) or q < 0:
            raise RareflowInputError.single(f"target for '{m}' must be a non-negative number "
                                            f"of t/yr (got {q})", path="target")
        if m not in routes:
            makers = chain.producers(m)
            if not makers:
                raise RareflowInputError.single(f"no process makes '{m}'", path="target")
            routes[m] = makers[0]
        t[chain.m(m)] += q
    A, B = chain.inputs, chain.outputs
    routed = [(chain.m(m), chain.p(p)) for m, p in routes.items()]
    act = np.zeros(P)
    for _ in range(MAX_PASSES):
        need = t + act @ A
        prod = act @ B
        new = np.zeros(P)
        for j, k in routed:
            if B[k, j] <= 0:
                continue
            other = prod[j] - act[k] * B[k, j]
            new[k] = max(new[k], max(need[j] - other, 0.0) / B[k, j])
        if np.allclose(new, act, rtol=1e-14, atol=1e-12):
            act = new
            break
        act = new
    need = t + act @ A
    prod = act @ B
    return Requirement(chain=chain, target=dict(target), need=need, production=prod,
                       coproducts=np.maximum(prod - need, 0.0), activity=act)
