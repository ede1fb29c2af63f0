"""``server/http.py``: the static path guard and the routes, on a real static directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from websockets.datastructures import Headers
from websockets.http11 import Request

from queue_server.hall.config import HallConfig
from queue_server.server.http import HttpRoutes, static_target


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """displays/-like: pages at the top, static/ below, a secret beside it."""
    root = tmp_path / "displays"
    (root / "static" / "js").mkdir(parents=True)
    (root / "static" / "js" / "app.js").write_text("console.log(1)")
    (root / "static" / "style.css").write_text("body{}")
    (root / "wall.html").write_text("<html>wall</html>")
    (root / "secret.txt").write_text("top secret")
    (tmp_path / "outside.txt").write_text("outside")
    (root / "static" / "link-out").symlink_to(tmp_path / "outside.txt")
    (root / "static" / "loop").symlink_to(root / "static" / "loop")
    return root


@pytest.mark.parametrize("rel", ["js/app.js", "style.css", "js/../style.css", "./style.css"])
def test_static_files_inside_are_found(site: Path, rel: str):
    target = static_target(site / "static", rel)
    assert target is not None and target.is_file()


@pytest.mark.parametrize("rel", [
    "../secret.txt", "js/../../secret.txt", "../../outside.txt", "/etc/passwd", "//etc/passwd",
    "", ".", "js/..", "link-out", "loop", "a\x00b", "../static/../secret.txt",
], ids=["dotdot", "nested-dotdot", "two-up", "absolute", "double-slash", "empty", "dot", "dir-itself",
        "symlink-out", "symlink-loop", "nul", "back-in-and-out"])
def test_paths_that_leave_the_static_directory_are_refused(site: Path, rel: str):
    assert static_target(site / "static", rel) is None


async def get(routes: HttpRoutes, path: str, **headers: str):
    return await routes.process_request(None, Request(path, Headers(headers)))


async def health() -> dict:
    return {"status": "ok"}


@pytest.mark.parametrize(("path", "status", "body"), [
    ("/static/js/app.js", 200, b"console.log(1)"),
    ("/static/../secret.txt", 404, b"not found\n"),
    ("/static/%2e%2e/secret.txt", 404, b"not found\n"),  # not decoded: no such file
    ("/static/..%2fsecret.txt", 404, b"not found\n"),
    ("/static//etc/passwd", 404, b"not found\n"),
    ("/static/", 404, b"not found\n"),
    ("/static/js", 404, b"not found\n"),
    ("/static/link-out", 404, b"not found\n"),
    ("/static/a\x00b", 404, b"not found\n"),
    ("/secret.txt", 404, b"not found\n"),
    ("/display/wall", 200, b"<html>wall</html>"),
    ("/display/wall?x=1", 200, b"<html>wall</html>"),
    ("/display/wall/", 404, b"not found\n"),
    ("/display/window/abc", 404, b"not found\n"),
    ("/t/short", 404, b"not found\n"),
    ("/healthz", 200, b'{"status": "ok"}'),
])
async def test_routes(site: Path, small_config: HallConfig, path: str, status: int, body: bytes):
    routes = HttpRoutes(small_config, health, site)
    resp = await get(routes, path)
    assert resp is not None
    assert (resp.status_code, resp.body) == (status, body)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_the_websocket_path_checks_the_origin(site: Path, small_config: HallConfig):
    routes = HttpRoutes(small_config, health, site)
    assert await get(routes, "/ws") is None  # no Origin: not a browser
    assert await get(routes, "/ws", Host="hall:8765", Origin="http://hall:8765") is None
    refused = await get(routes, "/ws", Host="hall:8765", Origin="http://evil.example")
    assert refused is not None and refused.status_code == 403


async def test_config_json_has_no_staff(site: Path, small_config: HallConfig):
    routes = HttpRoutes(small_config, health, site)
    resp = await get(routes, "/config.json")
    assert resp is not None and resp.status_code == 200
    public = json.loads(resp.body)
    assert public["hall"]["code"] == small_config.code
    assert "staff" not in public and "password" not in resp.body.decode()
