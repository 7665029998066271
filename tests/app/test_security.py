"""Request limits of the dashboard server and the --host refusal."""

from __future__ import annotations

import http.client
import subprocess
import sys
from urllib.parse import urlparse

import pytest

from rareflow.app.server import bad_path, is_local_host

TRAVERSALS = [
    "/assets/../../etc/passwd",
    "/assets/%2e%2e/%2e%2e/etc/passwd",
    "/assets/%252e%252e/%252e%252e/etc/passwd",
    "/_dash-component-suites/../../etc/passwd",
    "/_dash-component-suites/dash/..%2f..%2f..%2fetc%2fpasswd",
    "/assets/..%5c..%5cetc%5cpasswd",
    "/assets/topojson/../../server.py",
]


def _request(url: str, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> int:
    return _fetch(url, method, path, body, headers)[0]


def _fetch(url: str, method: str, path: str, body: bytes | None = None,
           headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=20)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    except (ConnectionResetError, BrokenPipeError):
        return 413, b""  # the server closed the connection after refusing the body
    finally:
        conn.close()


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_is_404(server: str, path: str) -> None:
    assert _request(server, "GET", path) == 404


def test_assets_and_page_served(server: str) -> None:
    assert _request(server, "GET", "/") == 200
    assert _request(server, "GET", "/assets/topojson/world_110m.json") == 200
    for folder in ("/assets/", "/assets/topojson/"):  # the app page (Dash's catch-all), no listing
        status, body = _fetch(server, "GET", folder)
        assert status in (200, 404) and b"world_110m" not in body and b"LICENSE" not in body


def test_oversized_body_is_413(server: str) -> None:
    body = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    status = _request(server, "POST", "/_dash-update-component", body,
                      {"Content-Type": "application/json"})
    assert status == 413


def test_no_debug(server: str) -> None:
    status, body = _fetch(server, "GET", "/console?__debugger__=yes&cmd=resource&f=style.css")
    assert b"Werkzeug" not in body and b"debugger" not in body.lower()
    status, body = _fetch(server, "POST", "/_dash-update-component", b"{not json",
                          {"Content-Type": "application/json"})
    assert status >= 400 and b"Traceback" not in body


@pytest.mark.parametrize("host,local", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                        ("127.0.0.2", True), ("0.0.0.0", False), ("::", False),
                                        ("192.168.1.10", False), ("example.org", False)])
def test_is_local_host(host: str, local: bool) -> None:
    assert is_local_host(host) is local


def test_bad_path() -> None:
    assert bad_path("/assets/%2e%2e/x") and bad_path("/a/..") and not bad_path("/assets/a.b/c.json")


def test_remote_host_refused_without_allow_remote() -> None:
    r = subprocess.run([sys.executable, "-m", "rareflow", "serve", "--host", "0.0.0.0"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "--host" in r.stderr and "--allow-remote" in r.stderr
    assert "Traceback" not in r.stderr
