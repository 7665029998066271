"""The user's scenario with a bundled scenario's engine settings laid on top.

The bundled stress, plan and recycling scenarios are ``extends:`` of the baseline plus one
engine section (``stress:``, ``plan:``, ``recycling:`` and, for recycling, ``years:``). To
compute those report sections for *the user's* scenario, :func:`with_settings_of` merges just
those sections of the bundled scenario over the user's merged document, exactly as a file
written ``extends: [user, bundled-section]`` would: every figure keeps the file and line it
was written at (so provenance still points at the bundled file), then validates the result.
A section the user's scenario already has is kept as the user wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Derived:
    """A scenario computed for a report section, and how it was made."""

    scenario: Any
    user_name: str
    settings_from: str | None          # the bundled scenario whose sections were laid on top
    sections: tuple[str, ...]          # the sections taken from it (empty: the user's own)

    def caption(self) -> str:
        """One line saying what the section was computed for."""
        if not self.settings_from or not self.sections:
            return f"Computed for scenario {self.user_name} (its own settings)."
        secs = ", ".join(f"{s}:" for s in self.sections)
        return (f"Computed for scenario {self.user_name}, with the {secs} settings of the bundled "
                f"scenario {self.settings_from} laid on top.")


def _subdocument(doc: Any, keys: tuple[str, ...]) -> Any:
    from rareflow.scenario.yaml_io import Located

    out = Located(data={k: doc.data[k] for k in keys}, file=doc.file)
    for p, line in doc.lines.items():
        if p and p[0] in keys:
            out.lines[p] = line
            out.files[p] = doc.file_of(p)
    out.sources.update(doc.sources)
    return out


def with_settings_of(user: Any, bundled: str, sections: tuple[str, ...],
                     companions: tuple[str, ...] = ()) -> Derived:
    """``user`` with the ``sections`` (and, where a section is taken, the ``companions``,
    e.g. ``years`` for recycling) of the bundled scenario ``bundled`` merged on top.

    Sections the user's scenario already has are left as they are; when it has all of them
    the user's scenario is returned unchanged."""
    from rareflow.scenario.loader import _merge, load_document
    from rareflow.scenario.overrides import apply_overrides, build_with_overrides

    if user.base_document is None:
        raise ValueError("scenario has no merged document to build on")
    base = (apply_overrides(user.base_document, user.overrides) if user.overrides
            else user.base_document)
    missing = tuple(s for s in sections if s not in base.data)
    if not missing:
        return Derived(user, user.name, None, ())
    src = load_document(bundled)
    take = tuple(k for k in (*missing, *companions) if k in src.data)
    merged = _merge(base, _subdocument(src, take))
    merged.file = base.file
    sc = build_with_overrides(merged, None)
    return Derived(sc, user.name, bundled, tuple(k for k in take if k in missing))
