"""Benchmark of ``rareflow serve``: the time a selector change takes to be answered.

Serves the bundled dashboard store (built into the cache on first use, ~2 min) from a
werkzeug server in this process, then times N HTTP round trips of the figures callback
(``POST /_dash-update-component``, as the page sends when a selector changes), cycling the
year, region, stage, element and the compared scenario; then the stress panel's sector and
the plan panel's variant. Prints the median and the maximum; the goal is under 1 s.

    python benchmarks/bench_serve.py            # 40 changes on the bundled store
    python benchmarks/bench_serve.py --store DIR --changes 100
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import statistics
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any


def _payload(app: Any, key: str, values: dict[str, Any], changed: str) -> bytes:
    spec = app.callback_map[key]
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]}
               for o in key.strip(".").split("...")]
    inputs = [{"id": i["id"], "property": i["property"], "value": values[i["id"]]} for i in spec["inputs"]]
    return json.dumps({"output": key, "outputs": outputs, "inputs": inputs,
                       "changedPropIds": [f"{changed}.value"], "state": []}).encode()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, help="run store (default: the bundled dashboard runs)")
    ap.add_argument("--changes", type=int, default=40)
    args = ap.parse_args()

    from werkzeug.serving import make_server

    from rareflow.app.build import resolve_store
    from rareflow.app.data import load_store
    from rareflow.app.server import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    t0 = time.perf_counter()
    root = resolve_store([str(args.store)] if args.store else [])
    t1 = time.perf_counter()
    data = load_store(root)
    app = create_app(data)
    t2 = time.perf_counter()
    srv = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_port}/_dash-update-component"
    key = next(k for k in app.callback_map if "sankey-a.figure" in k)
    runs = [r.run_id for r in data.static]
    values: dict[str, Any] = {"scenario": runs[0], "compare": runs[-1], "region": "US", "stage": "magnet",
                              "element": "Nd", "year": 2030}
    changes = itertools.cycle([
        ("year", data.years), ("region", ["US", "JP", "CN", "DE"]), ("stage", data.stages),
        ("element", data.elements[:6]), ("compare", [None, runs[-1]]), ("scenario", runs)])
    times: list[float] = []
    sizes: list[int] = []
    for i in range(args.changes):
        name, options = next(changes)
        values[name] = options[(i // 6 + 1) % len(options)]
        body = _payload(app, key, values, name)
        req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        t = time.perf_counter()
        with urllib.request.urlopen(req, timeout=30) as resp:
            sizes.append(len(resp.read()))
        times.append(time.perf_counter() - t)
    # the stress and plan panels: sector and variant changes
    panel: dict[str, list[float]] = {}
    stress = [r.run_id for r in data.of_engine("stress")]
    plans = data.of_engine("plan")
    if stress:
        from rareflow.app.data import plan_variants, stress_sectors

        k = next(k for k in app.callback_map if "fan.figure" in k)
        v = {"stress-run": stress[0], "stress-compare": stress[-1], "sector": None}
        for sector in stress_sectors(data.of_engine("stress")[0]) * 2:
            v["sector"] = sector
            panel.setdefault("stress (sector change)", []).append(_time(url, _payload(app, k, v, "sector")))
    if plans:
        k = next(k for k in app.callback_map if "builds.figure" in k)
        v = {"plan-run": plans[0].run_id, "variant": None}
        for variant in plan_variants(plans[0]) * 2:
            v["variant"] = variant
            panel.setdefault("plan (variant change)", []).append(_time(url, _payload(app, k, v, "variant")))
    srv.shutdown()
    print(f"store {root}: {len(data.runs)} runs; store ready {t1 - t0:.1f} s, tables and "
          f"scenarios read {t2 - t1:.1f} s")
    print(f"selector changes: {len(times)}; round trip median {statistics.median(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms (goal < 1000 ms); response median "
          f"{statistics.median(sizes) / 1024:.0f} KiB")
    for name, ts in panel.items():
        print(f"{name}: {len(ts)} changes; round trip median {statistics.median(ts) * 1000:.0f} ms, "
              f"max {max(ts) * 1000:.0f} ms")


def _time(url: str, body: bytes) -> float:
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=30) as resp:
        resp.read()
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
