"""What a report section is, and the small helpers every section renderer shares."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Section:
    """One section of the report: an anchor, a title, its HTML body and a line saying what
    it was computed for (shown under the title)."""

    anchor: str
    title: str
    body: str
    computed_for: str = ""

    def html(self) -> str:
        cap = (f'<p class="computed-for">{html.escape(self.computed_for)}</p>'
               if self.computed_for else "")
        return (f'<section id="{html.escape(self.anchor)}" data-section="{html.escape(self.anchor)}">'
                f"<h2>{html.escape(self.title)}</h2>{cap}{self.body}</section>")


def slug(text: str) -> str:
    """An anchor from a title: lower case, runs of other characters as '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def as_section(item: Section | tuple[str, str], computed_for: str = "") -> Section:
    """A :class:`Section` from a Section or a (title, html) pair."""
    if isinstance(item, Section):
        return item
    title, body = item
    return Section(slug(title), title, body, computed_for)


def omitted(what: str, why: str) -> str:
    """The visible line for a part of the report that is left out, and why."""
    return (f'<p class="omitted"><b>Not shown: {html.escape(what)}</b> - {html.escape(why)}</p>')


def fig_div(fig: Any, key: str) -> str:
    """A figure as a ``<div>`` with a stable id (the same input gives the same HTML), no
    plotly.js (the page loads it once)."""
    return str(fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{slug(key)}",
                           config={"displaylogo": False}))
