"""The dashboard in a real Chromium: loads without errors, redraws on a selector change,
talks to nobody but 127.0.0.1; screenshots of the comparison and of the map."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from browser import screenshot_path

TIMEOUT_MS = 30_000


def _data(page: Any, graph: str, expr: str) -> Any:
    return page.evaluate(f"() => {{ const g = document.querySelector('#{graph} .js-plotly-plot');"
                         f" return g && g.data ? JSON.stringify({expr}) : null; }}")


def _wait_graph(page: Any, graph: str) -> None:
    page.wait_for_function(f"() => {{ const g = document.querySelector('#{graph} .js-plotly-plot');"
                           " return g && g.data && g.data.length > 0; }", timeout=TIMEOUT_MS)


def _set(page: Any, component: str, value: Any) -> None:
    page.evaluate(f"() => window.dash_clientside.set_props('{component}', {{value: {json.dumps(value)}}})")


def _wait_change(page: Any, graph: str, expr: str, before: str) -> str:
    page.wait_for_function(
        f"([b]) => {{ const g = document.querySelector('#{graph} .js-plotly-plot');"
        f" return g && g.data && JSON.stringify({expr}) !== b; }}", arg=[before], timeout=TIMEOUT_MS)
    return str(_data(page, graph, expr))


@pytest.fixture(scope="module")
def page_log(chromium: Any, server: str) -> Any:
    ctx = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    log: dict[str, list[str]] = {"errors": [], "requests": []}
    page.on("console", lambda m: log["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log["errors"].append(str(e)))
    page.on("request", lambda r: log["requests"].append(r.url))
    page.goto(server + "/", wait_until="load")
    for g in ("sankey-a", "sankey-b", "reliance", "map", "fan", "survive", "stockpile", "builds"):
        _wait_graph(page, g)
    yield page, log
    ctx.close()


def test_loads_without_errors(page_log: Any) -> None:
    page, log = page_log
    assert log["errors"] == []
    assert page.locator("#map .js-plotly-plot .geo").count() == 1
    assert page.locator("#sankey-a .sankey").count() == 1


def test_year_change_redraws_sankey(page_log: Any) -> None:
    page, log = page_log
    expr = "g.data[0].link.value"
    before = str(_data(page, "sankey-a", expr))
    _set(page, "year", 2034)
    after = _wait_change(page, "sankey-a", expr, before)
    assert after != before
    assert "2034" in page.evaluate("() => document.querySelector('#sankey-a .gtitle').textContent")
    assert log["errors"] == []


def test_region_and_scenario_change_redraw(page_log: Any, small_store: Path) -> None:
    from rareflow.app.data import load_store

    page, log = page_log
    expr = "g.data.map(t => t.y)"
    before = str(_data(page, "reliance", expr))
    _set(page, "region", "JP")
    assert _wait_change(page, "reliance", expr, before) != before
    _set(page, "region", "US")
    _wait_change(page, "reliance", expr, str(_data(page, "reliance", expr)))
    on_time, late = (r.run_id for r in load_store(small_store).static)
    title = "g.layout.title.text"
    before = str(_data(page, "sankey-a", title))
    assert "vulcan_delay_years=0" in before
    _set(page, "scenario", late)
    assert "vulcan_delay_years=2" in _wait_change(page, "sankey-a", title, before)
    _set(page, "year", 2030)
    values = "g.data[0].link.value"
    page.wait_for_function("() => document.querySelector('#sankey-a .gtitle').textContent.includes('2030')")
    a = _data(page, "sankey-a", values)
    _set(page, "scenario", on_time)
    _wait_change(page, "sankey-a", title, str(_data(page, "sankey-a", title)))
    assert _data(page, "sankey-a", values) != a  # Vulcan late: less U.S. magnet output in 2030
    assert log["errors"] == []


def test_stress_fans_and_plan_drawn(page_log: Any) -> None:
    """Fans of both stress runs (two bands and a median each), time to survive and recover,
    stockpile needs, the plan's builds; a sector change redraws the fan."""
    page, log = page_log
    names = json.loads(_data(page, "fan", "g.data.map(t => t.name)"))
    assert sum(n.startswith("median: ") for n in names) == 2 and len(names) == 6
    assert "ev_bev" in str(_data(page, "fan", "g.layout.title.text"))
    expr = "g.data.map(t => t.y)"
    before = str(_data(page, "fan", expr))
    _set(page, "sector", "defence")
    assert _wait_change(page, "fan", expr, before) != before
    assert "defence" in str(_data(page, "fan", "g.layout.title.text"))
    assert len(json.loads(_data(page, "survive", "g.data.map(t => t.name)"))) == 4
    builds = json.loads(_data(page, "builds", "g.data.map(t => t.y)"))
    assert sum(map(sum, builds)) > 0
    assert "t/yr added" in page.locator("#builds-table").inner_text()
    assert "time to survive" in page.locator("#stress-tables").inner_text()
    before = str(_data(page, "builds", expr))
    _set(page, "variant", "no_recycling_no_allied")
    assert "no_recycling_no_allied" in _wait_change(page, "builds", "g.layout.title.text",
                                                    str(_data(page, "builds", "g.layout.title.text")))
    assert log["errors"] == []


def test_sources_one_click_away(page_log: Any) -> None:
    page, _ = page_log
    details = page.locator("details.source").first
    details.locator("summary").click()
    page.wait_for_function("() => document.querySelector('details.source table tbody tr') !== null",
                           timeout=TIMEOUT_MS)
    assert "records behind these figures" in details.inner_text()


def test_every_request_is_local(page_log: Any) -> None:
    _, log = page_log
    hosts = {urlparse(u).hostname for u in log["requests"] if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, hosts
    assert any(u.endswith("/assets/topojson/world_110m.json") for u in log["requests"])


def test_screenshots(chromium: Any, server: str, tmp_path: Path) -> None:
    ctx = chromium.new_context(viewport={"width": 1500, "height": 1100})
    page = ctx.new_page()
    hosts: set[str | None] = set()
    page.on("request", lambda r: hosts.add(urlparse(r.url).hostname))
    page.goto(server + "/", wait_until="load")
    for g in ("sankey-a", "sankey-b", "reliance", "map"):
        _wait_graph(page, g)
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot_path(tmp_path, "dashboard-compare.png")), full_page=False)
    page.locator("#map").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.locator("#map").screenshot(path=str(screenshot_path(tmp_path, "dashboard-map.png")))
    for g in ("fan", "survive", "stockpile", "builds", "plan-coverage"):
        _wait_graph(page, g)
    page.locator("#stress").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(screenshot_path(tmp_path, "dashboard-stress-plan.png")), full_page=False)
    ctx.close()
    assert hosts <= {"127.0.0.1"}
