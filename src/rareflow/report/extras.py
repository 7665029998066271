"""Optional report sections contributed by other engines (recycling, stress, plans).

Each provider is a function ``(scenario, out_dir) -> list[(title, html)]`` registered in
:data:`PROVIDERS` by module path; a provider that is missing or fails is skipped with a note
in the report rather than breaking it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROVIDERS: list[str] = [
    "rareflow.report.section_recycling:sections",
    "rareflow.report.section_stress:sections",
    "rareflow.report.section_plan:sections",
]


def collect_extra_sections(scenario: Any, out: Path,
                           step: Callable[[str], None] | None = None) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for spec in PROVIDERS:
        mod_name, func = spec.split(":")
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name == mod_name:
                continue
            raise
        if step:
            step(f"report section: {mod_name.rsplit('.', 1)[-1]}")
        found += getattr(mod, func)(scenario, out)
    return found
