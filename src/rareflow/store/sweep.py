"""Sweep files: which scenarios, which overrides and which engines to run, expanded into runs.

Example (``rareflow sweep this.yaml --store out``)::

    name: vulcan-late
    seed: 1                                   # engines' seed and the sampling seed
    scenarios: [us-baseline, us-baseline-press-demand]   # bundled names or paths
    overrides:
      set:                                    # applied to every run
        facilities.vulcan_benson_magnets.utilisation: 80 %
      grid:                                   # cartesian product of every axis
        facilities.mp_10x_magnets.capacity: [6000 t/yr, 9000 t/yr]   # a path and its values
        vulcan_delay_years:                   # a named axis: each level sets several paths
          0: {facilities.vulcan_benson_magnets.start_year: 2027}
          2: {facilities.vulcan_benson_magnets.start_year: 2029}
      zip:                                    # equal-length lists taken together
        demand.us_ev_bev.growth: [10 %/yr, 15 %/yr]
        demand.us_wind.growth: [5 %/yr, 8 %/yr]
      samples:                                # n draws (numpy Generator per draw index)
        n: 20
        params:
          processes.magnet_sintered.yield: {dist: uniform, low: 0.7, high: 0.9}
          stress.spare_capacity: {dist: triangular, low: 5, mode: 10, high: 20, unit: "%"}
    engines:
      run: {}                                 # the static mass balance
      stress:                                 # options of `rareflow stress`
        samples: 200
        overrides: {grid: {stress.restrictions.cn_embargo.duration: [6 months, 12 months]}}
    answers:                                  # printed at the end (rareflow.store.answers)
      - {engine: run, metric: domestic_coverage.US.magnet.2030, factor: vulcan_delay_years,
         below: 0.5}

Runs are the product scenarios x (grid x zip x samples) x engines x (the engine's own
overrides). A run's id hashes the scenario's content hash, its overrides, the engine, its
options and the seed, so the same sweep finds the same ids: a rerun skips finished runs.
Draws are seeded per draw index (``SeedSequence([seed, index])``), never by order, so they
do not depend on the order runs are made or on the number of workers.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from rareflow.errors import Problem, RareflowInputError
from rareflow.scenario.types import StrictModel
from rareflow.store.store import canonical_json, sha256_text

ENGINES = ("run", "stress", "recycling", "plan", "economics")
MAX_RUNS = 100_000
Dotted = Annotated[str, Field(min_length=1, max_length=300, pattern=r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")]


class Distribution(StrictModel):
    """One sampled parameter: ``uniform`` (low, high), ``normal`` (mean, sd) or
    ``triangular`` (low, mode, high); ``unit`` (e.g. ``"t/yr"``, ``"%"``) is appended to the
    drawn number, which is then read like a value written in a scenario."""

    dist: Literal["uniform", "normal", "triangular"]
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = Field(None, ge=0)
    unit: str | None = Field(None, max_length=40)

    @model_validator(mode="after")
    def _params(self) -> Distribution:
        need = {"uniform": ("low", "high"), "normal": ("mean", "sd"),
                "triangular": ("low", "mode", "high")}[self.dist]
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"{self.dist} needs {', '.join(need)} (missing: {', '.join(missing)})")
        extra = [k for k in ("low", "high", "mode", "mean", "sd")
                 if k not in need and getattr(self, k) is not None]
        if extra:
            raise ValueError(f"{self.dist} takes {', '.join(need)} (not {', '.join(extra)})")
        if self.dist in ("uniform", "triangular"):
            lo, hi = float(self.low or 0), float(self.high or 0)
            if lo > hi or (self.mode is not None and not lo <= self.mode <= hi):
                raise ValueError("needs low <= mode <= high" if self.mode is not None
                                 else "needs low <= high")
        return self

    def draw(self, rng: Any) -> Any:
        if self.dist == "uniform":
            x = float(rng.uniform(self.low, self.high))
        elif self.dist == "normal":
            x = float(rng.normal(self.mean, self.sd))
        else:
            lo, mo, hi = float(self.low or 0), float(self.mode or 0), float(self.high or 0)
            x = lo if lo == hi else float(rng.triangular(lo, mo, hi))
        return f"{x!r} {self.unit}" if self.unit else x


class Samples(StrictModel):
    n: int = Field(ge=1, le=MAX_RUNS)
    seed: int | None = Field(None, ge=0, le=2**32 - 1, description="default: the sweep's seed")
    params: dict[Dotted, Distribution] = Field(min_length=1)


Levels = list[Any] | dict[str, dict[Dotted, Any]]


class OverrideBlock(StrictModel):
    set: dict[Dotted, Any] = Field(default_factory=dict)
    grid: dict[Dotted, Levels] = Field(default_factory=dict)
    zip: dict[Dotted, list[Any]] = Field(default_factory=dict)
    samples: Samples | None = None

    @field_validator("grid")
    @classmethod
    def _levels(cls, v: dict[str, Any]) -> dict[str, Any]:
        for axis, levels in v.items():
            if len(levels) == 0:
                raise ValueError(f"axis '{axis}' has no levels (give at least one value)")
        return v

    @field_validator("zip")
    @classmethod
    def _same_length(cls, v: dict[str, list[Any]]) -> dict[str, list[Any]]:
        lengths = {k: len(x) for k, x in v.items()}
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"{k}: {n}" for k, n in lengths.items())
            raise ValueError(f"zipped lists must have equal lengths (got {shown})")
        if any(n == 0 for n in lengths.values()):
            raise ValueError("zipped lists must not be empty")
        return v


class EngineSpec(StrictModel):
    """An engine to run. ``run``: no options. ``stress``: ``samples``, ``method``,
    ``central``. Others (``recycling``, ``plan``, ``economics``): ``options`` passed to
    ``rareflow.<engine>(scenario, **options)``. ``overrides`` apply to this engine only;
    ``scenarios`` (entries of the sweep's ``scenarios:``) limits it to those."""

    samples: int | None = Field(None, ge=1, le=1_000_000)
    method: Literal["lhs", "mc"] | None = None
    central: bool | None = None
    seed: int | None = Field(None, ge=0, le=2**32 - 1, description="default: the sweep's seed")
    options: dict[str, Any] = Field(default_factory=dict)
    overrides: OverrideBlock = Field(default_factory=OverrideBlock)
    scenarios: list[str] | None = Field(
        None, min_length=1, description="entries of the sweep's scenarios: this engine runs on "
        "(default: all); e.g. stress only on the scenario with a stress: section")


class Answer(StrictModel):
    """The smallest level of ``factor`` at which a summary figure crosses a line."""

    name: str | None = None
    engine: Literal["run", "stress", "recycling", "plan", "economics"] = "run"
    metric: Dotted = Field(description="dotted path into the run's summary")
    factor: Dotted = Field(description="the sweep axis searched (a grid axis name or path)")
    below: float | None = None
    above: float | None = None

    @model_validator(mode="after")
    def _one(self) -> Answer:
        if (self.below is None) == (self.above is None):
            raise ValueError("give exactly one of below: or above:")
        return self


class SweepFile(StrictModel):
    """A sweep file (see the module docstring)."""

    name: str = Field(min_length=1, max_length=120)
    description: str | None = None
    seed: int = Field(0, ge=0, le=2**32 - 1)
    scenarios: list[str] = Field(min_length=1)
    overrides: OverrideBlock = Field(default_factory=OverrideBlock)
    engines: dict[Literal["run", "stress", "recycling", "plan", "economics"], EngineSpec] = Field(
        min_length=1)
    answers: list[Answer] = Field(default_factory=list)

    @field_validator("engines", mode="before")
    @classmethod
    def _none_is_empty(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: ({} if x is None else x) for k, x in v.items()}
        if isinstance(v, list):  # engines: [run, stress]
            return {k: {} for k in v}
        return v


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: what :func:`rareflow.store.execute.execute_run` needs (picklable)."""

    run_id: str
    sweep: str
    scenario: str              # the scenario's name
    source: str                # what is loaded: a bundled name or an absolute path
    scenario_hash: str         # content hash of the scenario without the overrides
    engine: str
    overrides: dict[str, Any] = field(default_factory=dict)
    factors: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0


@dataclass(frozen=True)
class Sweep:
    spec: SweepFile
    file: str
    runs: list[RunSpec]


def run_id(scenario_hash: str, overrides: dict[str, Any], engine: str, options: dict[str, Any],
           seed: int) -> str:
    """The id of a run: 20 hex digits of sha256 over (scenario content hash, overrides,
    engine, engine options, seed). Equal inputs, equal id, in any process."""
    key = canonical_json({"scenario_sha256": scenario_hash, "overrides": overrides,
                          "engine": engine, "options": options, "seed": seed})
    return sha256_text(key)[:20]


def _label(text: str) -> Any:
    """A level's label as a number when it reads as one (``"2"`` -> 2), else the text."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


Combo = tuple[dict[str, Any], dict[str, Any]]   # (factors, overrides)


def combos(block: OverrideBlock, seed: int) -> list[Combo]:
    """The (factors, overrides) of every combination a block makes, in a fixed order."""
    import numpy as np

    axes: list[list[Combo]] = []
    for axis, levels in block.grid.items():
        if isinstance(levels, dict):
            axes.append([({axis: _label(lab)}, dict(sets)) for lab, sets in levels.items()])
        else:
            axes.append([({axis: v}, {axis: v}) for v in levels])
    if block.zip:
        n = len(next(iter(block.zip.values())))
        axes.append([({k: v[i] for k, v in block.zip.items()},
                      {k: v[i] for k, v in block.zip.items()}) for i in range(n)])
    if block.samples is not None:
        s = block.samples
        base = s.seed if s.seed is not None else seed
        draws: list[Combo] = []
        for i in range(s.n):
            rng = np.random.default_rng(np.random.SeedSequence([base, i]))
            values = {p: d.draw(rng) for p, d in s.params.items()}
            draws.append(({"sample": i, **values}, values))
        axes.append(draws)
    out: list[Combo] = []
    for parts in itertools.product(*axes):
        factors: dict[str, Any] = {}
        ov: dict[str, Any] = dict(block.set)
        for f, o in parts:
            factors.update(f)
            ov.update(o)
        out.append((factors, ov))
    return out


def _engine_options(name: str, e: EngineSpec) -> dict[str, Any]:
    if name == "run":
        return dict(e.options)
    if name == "stress":
        return {"samples": e.samples or 200, "method": e.method or "lhs",
                "central": bool(e.central), **e.options}
    return dict(e.options)


def bundled_sweeps() -> dict[str, Path]:
    """Bundled sweep files by name (``rareflow/data/sweeps/*.yaml``)."""
    from rareflow import resources

    d = resources.data_dir() / "sweeps"
    return {p.stem: p for p in sorted(d.glob("*.yaml"))} if d.is_dir() else {}


def resolve_sweep(name_or_path: str | Path) -> Path:
    from rareflow import resources

    p = Path(name_or_path)
    if resources.is_file(p):
        return p.resolve()
    named = bundled_sweeps()
    if str(name_or_path) in named:
        return named[str(name_or_path)]
    shown = ", ".join(named) or "none"
    raise RareflowInputError.single(
        f"no such sweep file (give a path or a bundled sweep name: {shown})", file=str(name_or_path))


def load_sweep_file(name_or_path: str | Path) -> tuple[SweepFile, Path, Any]:
    """Read and validate a sweep file; problems as ``FILE:LINE: field.path: ...`` (exit 2)."""
    from rareflow import resources
    from rareflow.scenario.validate import validate
    from rareflow.scenario.yaml_io import load_yaml

    path = resolve_sweep(name_or_path)
    doc = load_yaml(path, display=resources.display_name(path))
    if not isinstance(doc.data, dict):
        raise RareflowInputError.single("a sweep file must be a mapping (name:, scenarios:, "
                                        "overrides:, engines:)", file=doc.file, line=1)
    return validate(SweepFile, doc), path, doc


def _scenario_source(text: str, folder: Path) -> str:
    """A scenario named in a sweep: a file beside (or below) the sweep file, else a bundled
    name or a path as given."""
    from rareflow import resources

    for c in (folder / text, folder / f"{text}.yaml"):
        if resources.is_file(c):
            return str(c.resolve())
    return text


def scenario_hash(scenario: Any) -> str:
    """The content hash of a loaded scenario (``Scenario.content_hash()`` where it exists)."""
    fn = getattr(scenario, "content_hash", None)
    if callable(fn):
        return str(fn())
    import json

    payload = json.dumps(scenario.spec.model_dump(mode="json"), sort_keys=True)
    return sha256_text(payload)


def load_sweep(name_or_path: str | Path) -> Sweep:
    """Validate a sweep file, load each scenario once (its content hash) and expand the runs.

    Raises
    ------
    RareflowInputError
        Located problems in the sweep file or in a scenario it names.
    """
    from rareflow.scenario.loader import load_scenario

    spec, path, doc = load_sweep_file(name_or_path)
    problems = []
    for engine, e in spec.engines.items():
        for i, text in enumerate(e.scenarios or []):
            if text not in spec.scenarios:
                problems.append(Problem(
                    f"'{text}' is not one of the sweep's scenarios (allowed: "
                    f"{', '.join(spec.scenarios)})", doc.file,
                    doc.line_of(("engines", engine, "scenarios", i)), f"engines.{engine}.scenarios.{i}"))
    if problems:
        raise RareflowInputError(problems)
    sources: list[tuple[str, str, str, str]] = []
    for i, text in enumerate(spec.scenarios):
        src = _scenario_source(text, path.parent)
        try:
            sc = load_scenario(src)
        except RareflowInputError as exc:
            problems.extend(exc.problems)
            continue
        sources.append((text, sc.name, src, scenario_hash(sc)))
        del i
    if problems:
        raise RareflowInputError(problems)
    common = combos(spec.overrides, spec.seed)
    runs: list[RunSpec] = []
    seen: set[str] = set()
    for text, name, src, h in sources:
        for engine, e in spec.engines.items():
            if e.scenarios is not None and text not in e.scenarios:
                continue
            own = combos(e.overrides, spec.seed)
            opts = _engine_options(engine, e)
            seed = e.seed if e.seed is not None else spec.seed
            for (f1, o1), (f2, o2) in itertools.product(common, own):
                ov = {**o1, **o2}
                rid = run_id(h, ov, engine, opts, seed)
                if rid in seen:
                    continue
                seen.add(rid)
                runs.append(RunSpec(rid, spec.name, name, src, h, engine, ov, {**f1, **f2},
                                    opts, seed))
                if len(runs) > MAX_RUNS:
                    raise RareflowInputError.single(
                        f"the sweep makes more than {MAX_RUNS:,} runs (allowed: at most "
                        f"{MAX_RUNS:,}; split it)", file=doc.file, line=1)
    return Sweep(spec, doc.file, runs)
