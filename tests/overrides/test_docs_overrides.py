"""docs/overrides.md runs as written (every ``python`` block, in order)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from rareflow.errors import RareflowDataWarning

DOC = Path(__file__).resolve().parents[2] / "docs" / "overrides.md"


def _blocks() -> list[str]:
    if not DOC.is_file():   # pragma: no cover - the docs are in the checkout only
        pytest.skip("docs/overrides.md is not beside these tests")
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


@pytest.mark.slow
def test_the_documented_examples_run(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = _blocks()
    assert len(blocks) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RareflowDataWarning)
        for code in blocks:
            exec(compile(code, str(DOC), "exec"), {})
    printed = capsys.readouterr().out
    assert printed.startswith("<overrides>: facilities.vulcan_benson_magnetz.capacity.2029: "
                              "'vulcan_benson_magnetz' is not in facilities; did you mean "
                              "'vulcan_benson_magnets'?")
    assert printed.rstrip().endswith("USD")
