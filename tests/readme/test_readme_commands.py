"""The README runs as written (as typer tests its documentation snippets): every command of
its command table, its Python API block, and the 'What it answers' block, which must be
what `rareflow demo` prints today. Commands run through the installed `rareflow` executable
from an empty folder, as a user would type them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from rareflow import resources

README = Path(__file__).resolve().parents[2] / "README.md"
RAREFLOW = Path(sys.executable).parent / "rareflow"
# what the table's placeholders stand for: a bundled scenario, and a file path to one
PLACEHOLDERS = {
    "SCENARIO": "us-baseline",
    "FILE": str(resources.scenario_dir() / "us-baseline.yaml"),
    "DIR": "out",
}


def _text() -> str:
    return README.read_text(encoding="utf-8")


def table_commands() -> list[str]:
    """The `rareflow ...` cell of each row of the README's command table, as written."""
    rows = re.findall(r"^\| `(rareflow [^`]+)` \|", _text(), re.M)
    assert len(rows) >= 10, "the README's command table went missing"
    return rows


def expand(command: str) -> list[str]:
    """A table cell as the commands a user would type: placeholders filled in, each optional
    `[...]` part once left out and once given."""
    with_opt = re.sub(r"\[([^\]]+)\]", r"\1", command)
    without_opt = re.sub(r"\s*\[[^\]]+\]", "", command)
    out = []
    for c in dict.fromkeys([without_opt, with_opt]):
        words = [PLACEHOLDERS.get(w, w) for w in c.split()]
        out.append(" ".join(words))
    return out


CASES = sorted({c for row in table_commands() for c in expand(row)})


def _run(command: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    argv = [str(RAREFLOW), *command.split()[1:]]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
@pytest.mark.parametrize("command", CASES)
def test_table_command_runs_as_written(command: str, tmp_path: Path) -> None:
    proc = _run(command, tmp_path)
    assert proc.returncode == 0, f"{command}\n{proc.stderr[-2000:]}"
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("name", sorted({row.split()[1] for row in table_commands()}))
def test_every_command_documents_its_options(name: str, tmp_path: Path) -> None:
    proc = _run(f"rareflow {name} --help", tmp_path, timeout=60)
    assert proc.returncode == 0 and "--help" in proc.stdout, proc.stderr


def test_version(tmp_path: Path) -> None:
    import rareflow

    proc = _run("rareflow --version", tmp_path, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"rareflow {rareflow.__version__}"


def test_python_api_block_runs(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", _text(), re.S)
    assert blocks, "the README should show the Python API"
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "README.md (Python API)", "exec"), namespace)  # noqa: S102
    assert namespace["results"].mass_balance_max_rel_error < 1e-9  # type: ignore[attr-defined]


def _what_it_answers() -> list[str]:
    section = _text().split("## What it answers", 1)[1]
    block = re.search(r"```\n(.*?)```", section, re.S)
    assert block is not None
    return [line.rstrip() for line in block.group(1).splitlines() if line.strip()]


@pytest.mark.slow
def test_what_it_answers_is_what_demo_prints(tmp_path: Path) -> None:
    """Every line of the README's answers block, in order, as `rareflow demo` prints it
    (a line ending in `(...)` is shown shortened there: its start must match)."""
    expected = _what_it_answers()
    proc = _run("rareflow demo --out rareflow-out", tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    printed = [line.rstrip() for line in proc.stdout.splitlines() if line.strip()]
    start = printed.index(expected[0]) if expected[0] in printed else -1
    assert start >= 0, f"first README line not printed:\n{expected[0]}\n--- printed:\n{proc.stdout}"
    got = printed[start:start + len(expected)]
    for want, have in zip(expected, got, strict=True):
        if want.endswith("(...)"):
            assert have.startswith(want[: -len("(...)")]), (want, have)
        else:
            assert have == want
