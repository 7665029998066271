"""Bundled data is found through the package, from any folder; `extends:` and `chain:`
read only bundled files or files beside the scenario; each parent is loaded once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import rareflow
from rareflow import resources
from rareflow.errors import RareflowInputError
from rareflow.scenario import loader


def test_bundled_names_load_from_any_folder(tmp_path: Path) -> None:
    os.chdir(tmp_path)
    sc = rareflow.load_scenario("us-baseline")
    assert sc.document.file == "rareflow/data/scenarios/us-baseline.yaml"


def test_absolute_path_to_a_bundled_file(tmp_path: Path) -> None:
    os.chdir(tmp_path)
    path = resources.scenario_dir() / "stress" / "cn-licence-2025.yaml"
    sc = rareflow.load_scenario(str(path))
    assert sc.document.file == "rareflow/data/scenarios/stress/cn-licence-2025.yaml"


def test_user_file_extending_a_bundled_name(tmp_path: Path) -> None:
    f = tmp_path / "mine.yaml"
    f.write_text("name: mine\nextends: us-baseline\n")
    os.chdir(Path("/"))
    sc = rareflow.load_scenario(str(f))
    assert sc.name == "mine"


def test_user_files_shown_relative_to_the_cwd(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    f = tmp_path / "sub" / "bad.yaml"
    f.write_text("name: bad\nextends: us-baseline\nyears: {start: 2024, end: 2035, bogus: 1}\n")
    os.chdir(tmp_path)
    with pytest.raises(RareflowInputError) as e:
        rareflow.load_scenario("sub/bad.yaml")
    assert e.value.problems[0].file == "sub/bad.yaml"


@pytest.mark.parametrize("parent", ["/etc/passwd", "../outside.yaml"])
def test_extends_reads_nothing_outside_the_scenario_folder(tmp_path: Path, parent: str) -> None:
    (tmp_path / "outside.yaml").write_text("name: secret-content-xyz\n")
    (tmp_path / "d").mkdir()
    f = tmp_path / "d" / "s.yaml"
    f.write_text(f"name: s\nextends: {parent}\n")
    with pytest.raises(RareflowInputError) as e:
        rareflow.load_scenario(str(f))
    text = e.value.format()
    assert "outside the scenario's folder" in text and ":2: extends:" in text
    assert "root:" not in text and "secret-content-xyz" not in text


def test_extends_a_file_beside_it(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("name: base\nextends: us-baseline\n")
    f = tmp_path / "top.yaml"
    f.write_text("name: top\nextends: base.yaml\n")
    assert rareflow.load_scenario(str(f)).name == "top"


def test_over_long_names_are_refused_cleanly(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(f"name: s\nextends: {'x' * 5000}\n")
    with pytest.raises(RareflowInputError) as e:
        rareflow.load_scenario(str(f))
    assert "cannot find scenario" in e.value.format() and len(e.value.format()) < 2000
    with pytest.raises(RareflowInputError):
        rareflow.load_scenario("y" * 5000)


def test_empty_extends_is_no_parent(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("name: s\nextends: []\n")
    doc = loader.load_document(str(f))
    assert doc.data["name"] == "s"


def test_same_parent_twice_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("name: s\nextends: [us-baseline, us-baseline]\n")
    with pytest.raises(RareflowInputError, match="named twice"):
        rareflow.load_scenario(str(f))


def test_a_doubling_chain_of_parents_loads_each_file_once(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # level k extends two files of level k+1, which both extend the same file of level k+2
    depth = 8
    (tmp_path / f"l{depth}.yaml").write_text(f"name: l{depth}\nextends: us-baseline\n")
    for k in range(depth - 1, -1, -1):
        (tmp_path / f"l{k}a.yaml").write_text(f"name: l{k}a\nextends: {_next(k, depth)}\n")
        (tmp_path / f"l{k}b.yaml").write_text(f"name: l{k}b\nextends: {_next(k, depth)}\n")
    top = tmp_path / "top.yaml"
    top.write_text("name: top\nextends: [l0a.yaml, l0b.yaml]\n")
    reads: list[str] = []
    real = loader.load_yaml

    def counting(path, **kw):  # type: ignore[no-untyped-def]
        reads.append(str(path))
        return real(path, **kw)

    monkeypatch.setattr(loader, "load_yaml", counting)
    t0 = time.perf_counter()
    loader.load_document(str(top))
    assert len(reads) == len(set(reads))  # every file read once
    assert time.perf_counter() - t0 < 5


def _next(k: int, depth: int) -> str:
    if k + 1 == depth:
        return f"l{depth}.yaml"
    return f"[l{k + 1}a.yaml, l{k + 1}b.yaml]"


def test_a_run_writes_nothing_into_the_package(tmp_path: Path) -> None:
    def listing() -> set[str]:
        root = resources.package_root()
        return {str(p.relative_to(root)) for p in root.rglob("*")
                if "__pycache__" not in p.parts}

    before = listing()
    rareflow.run("us-baseline")
    assert listing() == before


def test_python_dash_m_and_version(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "rareflow", "--version"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"rareflow {rareflow.__version__}"
