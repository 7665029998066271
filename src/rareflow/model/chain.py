"""Compile a chain file into arrays: composition ``C[material, element]`` and, for every
process, input and output coefficients ``A[process, material]``, ``B[process, material]``
(t per unit of activity), mass taken from nature ``N[process, element]`` and losses
``L[process, element]``.

Every recipe is checked here: a process may not create an element (``L >= 0``), and total
mass is conserved by construction (``A·C + N = B·C + L``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rareflow.errors import Problem, RareflowInputError
from rareflow.scenario.schema_chain import ChainFile

OTHER = "other"
OXYGEN = "O"
TOL = 1e-12


@dataclass(frozen=True)
class CompiledChain:
    """A chain as arrays. Axis names: ``material`` (M), ``element`` (E), ``process`` (P)."""

    id: str
    name: str
    elements: tuple[str, ...]
    materials: tuple[str, ...]
    processes: tuple[str, ...]
    stages: tuple[str, ...]
    stage_kind: dict[str, str]
    material_stage: tuple[str, ...]           # [material]
    process_stage: tuple[str, ...]            # [process]
    process_kind: tuple[str, ...]             # [process]
    composition: np.ndarray                   # C [material, element], mass fraction
    inputs: np.ndarray                        # A [process, material], t per unit activity
    outputs: np.ndarray                       # B [process, material], t per unit activity
    from_nature: np.ndarray                   # N [process, element], t per unit activity
    losses: np.ndarray                        # L [process, element], t per unit activity
    activity_basis: tuple[str, ...]           # [process] material that measures activity
    sectors: dict[str, list[str]] = field(default_factory=dict)
    sector_activity_unit: dict[str, str | None] = field(default_factory=dict)
    routes: dict[str, str] = field(default_factory=dict)
    material_names: dict[str, str] = field(default_factory=dict)
    material_basis: dict[str, str] = field(default_factory=dict)
    external_materials: frozenset[str] = frozenset()
    reference_material: str | None = None
    grade_variants: dict[str, dict[str, str]] = field(default_factory=dict)
    scrap_materials: frozenset[str] = frozenset()  # co-products that collect a process's loss
    unmeasured_sectors: frozenset[str] = frozenset()  # uses the data do not measure everywhere

    def m(self, material: str) -> int:
        return self.materials.index(material)

    def p(self, process: str) -> int:
        return self.processes.index(process)

    def stage_materials(self, stage: str) -> list[str]:
        return [m for m, s in zip(self.materials, self.material_stage, strict=True) if s == stage]

    def producers(self, material: str) -> list[str]:
        j = self.m(material)
        return [p for i, p in enumerate(self.processes) if self.outputs[i, j] > 0]

    def grade_family(self, material: str) -> list[str]:
        """``material`` and the grades of it that the variants of its maker make."""
        out = [material]
        for base, variants in self.grade_variants.items():
            if self.outputs[self.p(base), self.m(material)] > 0:
                for v in variants.values():
                    k = self.p(v)
                    out.append(self.materials[int(np.argmax(self.outputs[k]))])
        return out

    @property
    def conversion_stages(self) -> list[str]:
        return [s for s in self.stages if self.stage_kind[s] in ("conversion", "recycling")]


def _oxide_metal_fraction(chain: ChainFile, el: str) -> float | None:
    e = chain.elements.get(el)
    o = chain.elements.get(OXYGEN)
    if e is None or e.atomic_weight is None or e.metal_atoms is None or e.oxygen_atoms is None:
        return None
    if o is None or o.atomic_weight is None:
        return None
    metal = e.metal_atoms * e.atomic_weight
    return metal / (metal + e.oxygen_atoms * o.atomic_weight)


def compile_chain(chain: ChainFile) -> CompiledChain:
    """Turn a validated :class:`ChainFile` into a :class:`CompiledChain`.

    Raises
    ------
    RareflowInputError
        Naming the field path of every unknown id, inconsistent composition or a recipe
        that would create mass.
    """
    problems: list[Problem] = []
    elements = list(chain.elements)
    if OTHER not in elements:
        elements.append(OTHER)
    eidx = {e: i for i, e in enumerate(elements)}
    stages = [s.id for s in chain.stages]
    if len(set(stages)) != len(stages):
        problems.append(Problem("stage ids must be unique", path="stages"))
    materials = list(chain.materials)
    midx = {m: i for i, m in enumerate(materials)}
    E, M = len(elements), len(materials)

    for mid, mat in chain.materials.items():
        if mat.stage not in stages:
            problems.append(
                Problem(f"unknown stage '{mat.stage}' (known: {', '.join(stages)})",
                        path=f"materials.{mid}.stage")
            )
        given = [k for k in ("composition", "oxides", "metal_of", "constituents")
                 if getattr(mat, k) is not None]
        if len(given) != 1:
            problems.append(
                Problem("give exactly one of composition, oxides, metal_of, constituents "
                        f"(got {', '.join(given) or 'none'})", path=f"materials.{mid}")
            )
    if problems:
        raise RareflowInputError(problems)

    comp = np.full((M, E), np.nan)
    resolving: set[str] = set()

    def resolve(mid: str, path: str) -> np.ndarray | None:
        i = midx[mid]
        if not np.isnan(comp[i, 0]):
            return comp[i]
        if mid in resolving:
            problems.append(Problem(f"composition of '{mid}' refers back to itself", path=path))
            return None
        resolving.add(mid)
        mat = chain.materials[mid]
        row = np.zeros(E)
        if mat.composition is not None:
            for el, x in mat.composition.items():
                if el not in eidx:
                    problems.append(Problem(f"unknown element '{el}' (known: "
                                            f"{', '.join(elements)})",
                                            path=f"materials.{mid}.composition.{el}"))
                    continue
                row[eidx[el]] += x
        elif mat.oxides is not None:
            for el, share in mat.oxides.items():
                f = _oxide_metal_fraction(chain, el) if el in eidx else None
                if f is None:
                    problems.append(Problem(
                        f"'{el}' needs atomic_weight, metal_atoms and oxygen_atoms in "
                        "elements (and O an atomic weight) to be given as an oxide",
                        path=f"materials.{mid}.oxides.{el}"))
                    continue
                row[eidx[el]] += share * f
                row[eidx[OXYGEN]] += share * (1 - f)
        elif mat.metal_of is not None:
            if mat.metal_of not in midx:
                problems.append(Problem(f"unknown material '{mat.metal_of}'",
                                        path=f"materials.{mid}.metal_of"))
            else:
                src = resolve(mat.metal_of, f"materials.{mid}.metal_of")
                if src is not None:
                    metal = src.copy()
                    metal[eidx[OXYGEN]] = 0.0
                    if metal.sum() <= 0:
                        problems.append(Problem(f"'{mat.metal_of}' holds no metal",
                                                path=f"materials.{mid}.metal_of"))
                    else:
                        row = metal / metal.sum()
        else:
            assert mat.constituents is not None
            total = sum(mat.constituents.values())
            if abs(total - 1) > 1e-9:
                problems.append(Problem(f"constituent shares sum to {total:.6g}; they must "
                                        "sum to 1", path=f"materials.{mid}.constituents"))
            for other, share in mat.constituents.items():
                if other not in midx:
                    problems.append(Problem(f"unknown material '{other}'",
                                            path=f"materials.{mid}.constituents.{other}"))
                    continue
                src = resolve(other, f"materials.{mid}.constituents.{other}")
                if src is not None:
                    row += share * src
        if np.any(row < -TOL):
            problems.append(Problem("composition fractions must not be negative",
                                    path=f"materials.{mid}"))
        s = row.sum()
        if s > 1 + 1e-9:
            problems.append(Problem(f"composition sums to {s:.6g} > 1",
                                    path=f"materials.{mid}"))
        elif 1.0 - s > 1e-12:
            # the unnamed rest of the material; a rounding residue is not a flow of 'other'
            row[eidx[OTHER]] += 1.0 - s
        comp[i] = row
        resolving.discard(mid)
        return row

    for mid in materials:
        resolve(mid, f"materials.{mid}")
    if problems:
        raise RareflowInputError(problems)

    procs = list(chain.processes)
    P = len(procs)
    A = np.zeros((P, M))
    B = np.zeros((P, M))
    N = np.zeros((P, E))
    basis: list[str] = []

    def need_material(mid: str | None, path: str) -> int | None:
        if mid is None:
            problems.append(Problem("missing", path=path))
            return None
        if mid not in midx:
            problems.append(Problem(f"unknown material '{mid}'", path=path))
            return None
        return midx[mid]

    for k, (pid, proc) in enumerate(chain.processes.items()):
        base = f"processes.{pid}"
        if proc.stage not in stages:
            problems.append(Problem(f"unknown stage '{proc.stage}' (known: {', '.join(stages)})",
                                    path=f"{base}.stage"))
        if proc.kind == "extract":
            j = need_material(proc.output, f"{base}.output")
            basis.append(proc.output or "")
            if j is not None:
                B[k, j] = 1.0
                N[k] = comp[j]
        elif proc.kind == "split":
            jf = need_material(proc.feed, f"{base}.feed")
            basis.append(proc.feed or "")
            if proc.recovery is None:
                problems.append(Problem("a split needs `recovery` (share of each element "
                                        "recovered into products)", path=f"{base}.recovery"))
            if not proc.products:
                problems.append(Problem("a split needs `products`", path=f"{base}.products"))
            if jf is None or proc.recovery is None or not proc.products:
                continue
            A[k, jf] = 1.0
            avail = comp[jf] * proc.recovery
            for n, prod in enumerate(proc.products):
                jp = need_material(prod, f"{base}.products.{n}")
                if jp is None:
                    continue
                c = comp[jp].copy()
                limiting = [e for e in range(E)
                            if c[e] > 0 and elements[e] not in (OXYGEN, OTHER)]
                if not limiting:
                    problems.append(Problem(f"product '{prod}' holds no element to separate",
                                            path=f"{base}.products.{n}"))
                    continue
                amount = min(avail[e] / c[e] for e in limiting)
                amount = max(amount, 0.0)
                B[k, jp] += amount
                avail = avail - amount * c
        else:
            jo = need_material(proc.output, f"{base}.output")
            basis.append(proc.output or "")
            if jo is None:
                continue
            if proc.yield_ is None or proc.yield_ <= 0:
                problems.append(Problem("a convert process needs a `yield` above 0 %",
                                        path=f"{base}.yield"))
                continue
            out = chain.materials[proc.output]  # type: ignore[index]
            recipe: dict[str, float]
            if proc.inputs is not None:
                recipe = dict(proc.inputs)
            elif out.constituents is not None:
                recipe = dict(out.constituents)
            elif out.metal_of is not None:
                src = comp[midx[out.metal_of]]
                metal_share = 1.0 - src[eidx[OXYGEN]]
                recipe = {out.metal_of: 1.0 / metal_share}
            else:
                problems.append(Problem("give `inputs` (t per t of output), or define the "
                                        "output by constituents or metal_of",
                                        path=f"{base}.inputs"))
                continue
            for mid, q in recipe.items():
                j = need_material(mid, f"{base}.inputs.{mid}")
                if j is None:
                    continue
                if q < 0:
                    problems.append(Problem("input coefficients must not be negative",
                                            path=f"{base}.inputs.{mid}"))
                A[k, j] += q / proc.yield_
            B[k, jo] = 1.0
            if proc.scrap is not None:
                js = need_material(proc.scrap, f"{base}.scrap")
                if js is not None:
                    B[k, js] += (A[k].sum() - 1.0) * proc.scrap_share
    if problems:
        raise RareflowInputError(problems)

    L = A @ comp + N - B @ comp
    for k, (pid, proc) in enumerate(chain.processes.items()):
        for el in proc.draws:
            if el not in eidx:
                problems.append(Problem(f"unknown element '{el}'", path=f"processes.{pid}.draws"))
                continue
            e = eidx[el]
            if L[k, e] < 0:
                N[k, e] += -L[k, e]
                L[k, e] = 0.0
    for k, pid in enumerate(procs):
        for e in range(E):
            if L[k, e] < -1e-9 * max(1.0, (A[k] @ comp)[e] + N[k, e]):
                problems.append(Problem(
                    f"recipe creates {elements[e]} ({-L[k, e]:.3g} t per t of activity): "
                    "outputs hold more of it than inputs; check compositions and yields",
                    path=f"processes.{pid}"))
    # L keeps rounding-level negatives (|L| < 1e-9 of throughput): clipping them would
    # break A.C + N = B.C + L, which the engines check to 1e-9.
    for mat, proc in chain.routes.items():
        if mat not in midx:
            problems.append(Problem(f"unknown material '{mat}'", path=f"routes.{mat}"))
        elif proc not in chain.processes:
            problems.append(Problem(f"unknown process '{proc}'", path=f"routes.{mat}"))
        elif B[procs.index(proc), midx[mat]] <= 0:
            problems.append(Problem(f"process '{proc}' does not make '{mat}'",
                                    path=f"routes.{mat}"))
    for sid, sec in chain.sectors.items():
        for n, u in enumerate(sec.uses):
            if u not in midx:
                problems.append(Problem(f"unknown material '{u}'", path=f"sectors.{sid}.uses.{n}"))
    if chain.grades is not None:
        for base, variants in chain.grades.variants.items():
            if base not in chain.processes:
                problems.append(Problem(f"unknown process '{base}'", path=f"grades.variants.{base}"))
            for g, v in variants.items():
                if g not in chain.grades.ids:
                    problems.append(Problem(f"unknown grade '{g}' (grades.ids: "
                                            f"{', '.join(chain.grades.ids)})",
                                            path=f"grades.variants.{base}.{g}"))
                if v not in chain.processes:
                    problems.append(Problem(f"unknown process '{v}'",
                                            path=f"grades.variants.{base}.{g}"))
                elif base in chain.processes and chain.processes[v].stage != chain.processes[base].stage:
                    problems.append(Problem(f"variant '{v}' is not of the stage of '{base}'",
                                            path=f"grades.variants.{base}.{g}"))
    if chain.chain.reference_material and chain.chain.reference_material not in midx:
        problems.append(Problem("unknown material", path="chain.reference_material"))
    if problems:
        raise RareflowInputError(problems)

    return CompiledChain(
        id=chain.chain.id,
        name=chain.chain.name,
        elements=tuple(elements),
        materials=tuple(materials),
        processes=tuple(procs),
        stages=tuple(stages),
        stage_kind={s.id: s.kind for s in chain.stages},
        material_stage=tuple(chain.materials[m].stage for m in materials),
        process_stage=tuple(chain.processes[p].stage for p in procs),
        process_kind=tuple(chain.processes[p].kind for p in procs),
        composition=comp,
        inputs=A,
        outputs=B,
        from_nature=N,
        losses=L,
        activity_basis=tuple(basis),
        sectors={k: list(v.uses) for k, v in chain.sectors.items()},
        sector_activity_unit={k: v.activity_unit for k, v in chain.sectors.items()},
        routes=dict(chain.routes),
        material_names={k: v.name for k, v in chain.materials.items()},
        material_basis={k: v.basis for k, v in chain.materials.items()},
        external_materials=frozenset(k for k, v in chain.materials.items() if v.external),
        reference_material=chain.chain.reference_material,
        grade_variants=({b: dict(v) for b, v in chain.grades.variants.items()}
                        if chain.grades is not None else {}),
        scrap_materials=frozenset(p.scrap for p in chain.processes.values() if p.scrap),
        unmeasured_sectors=frozenset(k for k, v in chain.sectors.items() if v.unmeasured),
    )
