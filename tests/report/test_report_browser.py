"""report.html in a real browser (Chromium via Playwright), opened from disk as a user would:
no console errors, nothing fetched but the page's own files (it works offline), the table
of contents resolves, every chart axis is titled with its unit; the first screen is saved
as ``report-first-screen.png`` (``$RAREFLOW_SCREENSHOTS`` or the test's folder)."""

from __future__ import annotations

import re
from pathlib import Path

from browser import screenshot_path

AXES = """() => {
  const out = [];
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    const fl = gd._fullLayout || {};
    const title = (fl.title && fl.title.text) || gd.id;
    for (const k of Object.keys(fl).filter(k => /^[xy]axis\\d*$/.test(k))) {
      const ax = fl[k];
      if (!ax || ax.visible === false || !fl._has || !fl._has('cartesian')) continue;
      out.push({plot: title, axis: k, type: ax.type, title: (ax.title && ax.title.text) || ''});
    }
  }
  return out;
}"""
TIME_AXES = {"year", "month"}
UNIT = re.compile(r"\([^)]+\)")


def test_report_in_a_browser(chromium, baseline_report: Path, tmp_path: Path) -> None:
    path = baseline_report
    assert (path.parent / "plotly.min.js").is_file()
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    foreign: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r) -> None:  # type: ignore[no-untyped-def]
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            foreign.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
    n_plots = page.evaluate("document.querySelectorAll('.js-plotly-plot').length")
    n_divs = page.evaluate("document.querySelectorAll('div[id^=\"fig-\"]').length")
    assert n_plots == n_divs > 10
    shot = screenshot_path(tmp_path, "report-first-screen.png")
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    page.locator("#chain .js-plotly-plot").first.screenshot(
        path=str(screenshot_path(tmp_path, "report-sankey.png")))

    anchors = page.evaluate("[...document.querySelectorAll('nav.toc a')].map(a => a.hash)")
    assert len(anchors) >= 10
    for h in anchors:
        assert page.evaluate(f"!!document.getElementById({h[1:]!r})"), h
    page.click(f"nav.toc a[href='{anchors[-1]}']")
    assert page.evaluate("location.hash") == anchors[-1]
    assert page.evaluate("window.scrollY") > 0

    bad = []
    for ax in page.evaluate(AXES):
        t = ax["title"].strip()
        if not t:
            bad.append(ax)
        elif ax["type"] in ("linear", "log", "date") and t not in TIME_AXES and not UNIT.search(t):
            bad.append(ax)
    assert not bad, "\n".join(map(str, bad))
    assert not errors, errors
    assert not foreign, foreign
    page.close()
