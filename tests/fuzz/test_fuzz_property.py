"""Property: any mutant of a bundled scenario is refused cleanly or runs to sound numbers.

The mutations are those of ``tools/fuzz_scenarios.py`` (imported by path from the repo);
each example draws a mutant seed, builds the mutant in a copy of the scenario folder, loads
and runs it in-process. The outcome must be a :class:`RareflowInputError` or a run whose
every tonnage is finite and non-negative.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rareflow.resources import scenario_dir

TOOL = Path(__file__).resolve().parents[2] / "tools" / "fuzz_scenarios.py"


def _load_tool():
    name = "rareflow_fuzz_scenarios"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, TOOL)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


fuzz = _load_tool()


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz") / "scenarios"
    shutil.copytree(scenario_dir(), root)
    return root


@pytest.mark.filterwarnings("ignore::rareflow.errors.RareflowDataWarning")
@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), index=st.integers(0, 10**6))
def test_mutant_is_refused_or_sound(tree: Path, seed: int, index: int) -> None:
    info = fuzz.run_mutant(tree, seed, index)
    assert info["outcome"] in ("refused", "accepted"), info


def test_mutations_change_the_document() -> None:
    import random

    import yaml

    doc = yaml.safe_load((scenario_dir() / "us-baseline.yaml").read_text())
    before = yaml.safe_dump(doc)
    for i in range(20):
        d = yaml.safe_load(before)
        muts = fuzz.mutate(d, random.Random(i), n=1)
        assert muts and all(isinstance(m, str) for m in muts)
