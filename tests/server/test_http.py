"""``server/http.py``: the static path guard and the routes, on a real static directory."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

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


@pytest.mark.parametrize(
    "rel",
    [
        "../secret.txt",
        "js/../../secret.txt",
        "../../outside.txt",
        "/etc/passwd",
        "//etc/passwd",
        "",
        ".",
        "js/..",
        "link-out",
        "loop",
        "a\x00b",
        "../static/../secret.txt",
    ],
    ids=[
        "dotdot",
        "nested-dotdot",
        "two-up",
        "absolute",
        "double-slash",
        "empty",
        "dot",
        "dir-itself",
        "symlink-out",
        "symlink-loop",
        "nul",
        "back-in-and-out",
    ],
)
def test_paths_that_leave_the_static_directory_are_refused(site: Path, rel: str):
    assert static_target(site / "static", rel) is None


async def get(routes: HttpRoutes, path: str, conn: Any = None, **headers: str):
    """The response to a GET of ``path``; ``Host`` defaults to the loopback address."""
    headers.setdefault("Host", "127.0.0.1:8765")
    return await routes.process_request(conn, Request(path, Headers(headers)))


async def health() -> dict:
    return {"status": "ok"}


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
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
    ],
)
async def test_routes(site: Path, small_config: HallConfig, path: str, status: int, body: bytes):
    routes = HttpRoutes(small_config, health, site)
    resp = await get(routes, path)
    assert resp is not None
    assert (resp.status_code, resp.body) == (status, body)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_the_websocket_path_checks_the_origin(site: Path, small_config: HallConfig):
    routes = HttpRoutes(dataclasses.replace(small_config, allowed_hosts=("hall",)), health, site)
    assert await get(routes, "/ws") is None  # no Origin: not a browser
    assert await get(routes, "/ws", Host="hall:8765", Origin="http://hall:8765") is None
    refused = await get(routes, "/ws", Host="hall:8765", Origin="http://evil.example")
    assert refused is not None and refused.status_code == 403


@pytest.mark.parametrize("path", ["/ws", "/healthz", "/display/wall", "/static/js/app.js", "/config.json"])
async def test_dns_rebinding_gets_403_everywhere(site: Path, small_config: HallConfig, path: str):
    """Finding 3: the allowed origin was built from the request's own Host, so a page of
    evil.example whose name resolved to the hall passed the check."""
    routes = HttpRoutes(small_config, health, site)
    refused = await get(routes, path, Host="evil.example", Origin="http://evil.example")
    assert refused is not None and refused.status_code == 403
    assert (await get(routes, path, Host="evil.example:8765")).status_code == 403


async def test_allowed_hosts_come_from_the_config_and_public_url(site: Path, small_config: HallConfig):
    cfg = dataclasses.replace(
        small_config, allowed_hosts=("hall.lan",), public_url="https://hall.example.gov.cn"
    )
    routes = HttpRoutes(cfg, health, site, bind_host="192.168.1.10")
    for host in (
        "hall.lan",
        "HALL.LAN:8765",
        "hall.example.gov.cn",
        "192.168.1.10:8765",
        "localhost",
        "[::1]:80",
    ):
        resp = await get(routes, "/display/wall", Host=host)
        assert resp is not None and resp.status_code == 200, host
    assert await get(routes, "/ws", Host="hall.example.gov.cn", Origin="https://hall.example.gov.cn") is None
    for host in ("other.lan", "hall.lan.evil.example", ""):
        assert (await get(routes, "/display/wall", Host=host)).status_code == 403, host


class _Conn:
    def __init__(self, ip: str) -> None:
        self.remote_address = (ip, 50000)


async def test_healthz_details_only_to_loopback_or_a_manager(site: Path, small_config: HallConfig):
    async def details() -> dict:
        return {"status": "ok", "database": {"path": "/srv/hall.db"}}

    async def is_manager(token: str) -> bool:
        return token == "mgr-token"

    routes = HttpRoutes(small_config, details, site, is_manager=is_manager)
    local = await get(routes, "/healthz", _Conn("127.0.0.1"))
    assert json.loads(local.body)["database"]["path"] == "/srv/hall.db"
    lan = await get(routes, "/healthz", _Conn("192.168.1.20"))
    assert (lan.status_code, json.loads(lan.body)) == (200, {"status": "ok"})
    proxied = await get(routes, "/healthz", _Conn("127.0.0.1"), **{"X-Forwarded-For": "1.2.3.4"})
    assert json.loads(proxied.body) == {"status": "ok"}
    manager = await get(routes, "/healthz", _Conn("192.168.1.20"), Authorization="Bearer mgr-token")
    assert "database" in json.loads(manager.body)
    wrong = await get(routes, "/healthz", _Conn("192.168.1.20"), Authorization="Bearer guess")
    assert json.loads(wrong.body) == {"status": "ok"}


async def test_healthz_is_503_when_not_ok(site: Path, small_config: HallConfig):
    async def degraded() -> dict:
        return {"status": "degraded"}

    resp = await get(HttpRoutes(small_config, degraded, site), "/healthz")
    assert (resp.status_code, json.loads(resp.body)) == (503, {"status": "degraded"})


@pytest.mark.parametrize(
    "path",
    [
        "/static/" + "a" * 5000,
        "/static/a\x00b",
        "//[",
        "/static/%00",
        "/\udcff",
        "/static/" + "/".join(["x"] * 3000),
    ],
)
async def test_odd_paths_get_400_or_404_never_500(site: Path, small_config: HallConfig, path: str):
    resp = await get(HttpRoutes(small_config, health, site), path)
    assert resp is not None and resp.status_code in (400, 404), (path, resp.status_code)


async def test_config_json_has_no_staff(site: Path, small_config: HallConfig):
    routes = HttpRoutes(small_config, health, site)
    resp = await get(routes, "/config.json")
    assert resp is not None and resp.status_code == 200
    public = json.loads(resp.body)
    assert public["hall"]["code"] == small_config.code
    assert "staff" not in public and "password" not in resp.body.decode()
