"""What the README shows is what runs: its scenario example validates and runs."""

from __future__ import annotations

import re
from pathlib import Path

import rareflow

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_scenario_example_runs(tmp_path: Path) -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(), re.S)
    assert blocks, "the README should show a scenario file"
    f = tmp_path / "example.yaml"
    f.write_text(blocks[0])
    base = rareflow.run("us-baseline")
    res = rareflow.run(rareflow.load_scenario(str(f)))
    assert res.mass_balance_max_rel_error < 1e-9
    # two years late: Vulcan's Benson plant adds nothing before 2029
    assert res.metric("capacity", "US", "magnet", 2028) < base.metric("capacity", "US", "magnet", 2028)


def test_readme_two_commands_come_first() -> None:
    first = re.search(r"```[a-z]*\n(.*?)```", README.read_text(), re.S)
    assert first is not None
    lines = [line for line in first.group(1).splitlines() if line.strip()]
    assert [line.split()[0:2] for line in lines] == [["make", "demo"], ["make", "test"]]
