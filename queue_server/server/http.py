"""Plain HTTP on the websocket port: health, the screens (static files from ``displays/``)
and QR codes. Everything a screen needs is served from here, nothing from a CDN, so the
hall works on a closed network.

Every request's ``Host`` must name this hall (``allowed_hosts``: loopback, the address the
server listens on, ``public_url``'s host and the hall's ``allowed_hosts``), otherwise 403:
a page of another site that points its own name at the hall's address (DNS rebinding) gets
nothing. The websocket endpoint is ``/ws``; its ``Origin`` must be the server's own origin
under an allowed Host, or one of the hall's ``allowed_origins`` (no Origin header: a
non-browser client). ``/healthz`` says ok (200) or not (503) to anyone; its details go only
to loopback and to a manager's session token (``Authorization: Bearer``).
"""

from __future__ import annotations

import io
import json
import mimetypes
import re
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from ..hall.config import HallConfig

Health = Callable[[], Awaitable[dict[str, Any]]]
IsManager = Callable[[str], Awaitable[bool]]  # a bearer token -> is it a manager's session
MetricsPage = Callable[[], bytes]  # the Prometheus text of the server's figures (server/metrics.py)

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

DEFAULT_STATIC = Path(__file__).resolve().parents[2] / "displays"
mimetypes.add_type("audio/ogg", ".ogg")  # the wall's voice clips (not in every system's table)

# route pattern -> page file in displays/
PAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^/$"), "index.html"),
    (re.compile(r"^/display/wall$"), "wall.html"),
    (re.compile(r"^/display/window/\d+$"), "window.html"),
    (re.compile(r"^/kiosk$"), "kiosk.html"),
    (re.compile(r"^/terminal$"), "terminal.html"),
    (re.compile(r"^/t/[A-Za-z0-9_-]{8,64}$"), "status.html"),
    (re.compile(r"^/rate/\d+$"), "rate.html"),
    (re.compile(r"^/backoffice$"), "backoffice.html"),
]
STATIC_PREFIX = "/static/"
MAX_QR_TEXT = 512


def _response(status: HTTPStatus, body: bytes, content_type: str, *, cache: str = "no-cache") -> Response:
    headers = Headers(
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", cache),
            ("X-Content-Type-Options", "nosniff"),
        ]
    )
    return Response(status.value, status.phrase, headers, body)


def _text(status: HTTPStatus, text: str) -> Response:
    return _response(status, text.encode(), "text/plain; charset=utf-8")


def host_name(value: str) -> str:
    """The host of a ``Host`` header or of an origin's authority, lowercase, without port:
    ``Hall.Example:8765`` → ``hall.example``, ``[::1]:80`` → ``::1``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def allowed_hosts(config: HallConfig, bind_host: str = "") -> frozenset[str]:
    """The Host names this hall answers to."""
    hosts = set(LOOPBACK_HOSTS) | {host_name(h) for h in config.allowed_hosts}
    if config.public_url:
        hosts.add(host_name(urlsplit(config.public_url).netloc))
    if bind_host and bind_host not in ("0.0.0.0", "::", ""):
        hosts.add(host_name(bind_host))
    return frozenset(hosts)


def static_target(root: Path, rel: str) -> Path | None:
    """The file under ``root`` that ``rel`` names, or None when it would leave ``root``
    (``..``, an absolute path, a symlink out) or cannot be a file name (a NUL byte)."""
    if not rel or "\x00" in rel:
        return None
    try:
        base = root.resolve()
        target = (root / rel).resolve()
    except (OSError, ValueError, RuntimeError):  # RuntimeError: a symlink loop
        return None
    return target if base in target.parents else None


def qr_svg(text: str) -> bytes:
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buf = io.BytesIO()
    img.save(buf)
    return buf.getvalue()


class HttpRoutes:
    """The routes need the hall's configuration and a health probe, nothing else of the server."""

    def __init__(
        self,
        config: HallConfig,
        health: Health,
        static_dir: Path | str | None = None,
        *,
        metrics: MetricsPage | None = None,
        bind_host: str = "",
        is_manager: IsManager | None = None,
    ) -> None:
        self.config = config
        self.health = health
        self.metrics = metrics
        self.static_dir = Path(static_dir) if static_dir else DEFAULT_STATIC
        self.hosts = allowed_hosts(config, bind_host)
        self.is_manager = is_manager
        self.demo_links: list[dict[str, str]] | None = None  # hallops demo: its screens with tokens

    def host_allowed(self, request: Request) -> bool:
        hosts = request.headers.get_all("Host")
        return len(hosts) == 1 and host_name(hosts[0]) in self.hosts

    def origin_allowed(self, request: Request) -> bool:
        origins = request.headers.get_all("Origin")
        if not origins:
            return True  # not a browser
        if len(origins) > 1:
            return False
        origin, host = origins[0], request.headers.get("Host", "")
        own = {f"http://{host}", f"https://{host}"}
        return (origin in own and self.host_allowed(request)) or origin in self.config.allowed_origins

    async def _may_see_details(self, conn: Any, request: Request) -> bool:
        remote = getattr(conn, "remote_address", None)
        if (
            remote
            and host_name(str(remote[0])) in ("127.0.0.1", "::1")
            and "X-Forwarded-For" not in request.headers
        ):
            return True
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and self.is_manager is not None:
            return await self.is_manager(auth[len("Bearer ") :].strip())
        return False

    async def process_request(self, conn: Any, request: Request) -> Response | None:
        """The response to an HTTP request, or None to go on with the websocket handshake.
        An odd path (bad escapes, a NUL, a name too long for the file system) gets 400/404,
        never 500."""
        try:
            return await self._route(conn, request)
        except (ValueError, UnicodeError):
            return _text(HTTPStatus.BAD_REQUEST, "bad request\n")
        except OSError:
            return _text(HTTPStatus.NOT_FOUND, "not found\n")

    async def _route(self, conn: Any, request: Request) -> Response | None:
        if not self.host_allowed(request):
            return _text(
                HTTPStatus.FORBIDDEN, "host not allowed by this hall's configuration (allowed_hosts)\n"
            )
        parts = urlsplit(request.path)
        path = parts.path
        if path == "/ws":
            if not self.origin_allowed(request):
                return _text(HTTPStatus.FORBIDDEN, "origin not allowed by this hall's configuration\n")
            return None  # go on with the websocket handshake
        if path == "/healthz":
            health = await self.health()
            status = HTTPStatus.OK if health.get("status") == "ok" else HTTPStatus.SERVICE_UNAVAILABLE
            shown = health if await self._may_see_details(conn, request) else {"status": health.get("status")}
            body = json.dumps(shown, ensure_ascii=False).encode()
            return _response(status, body, "application/json; charset=utf-8")
        if path == "/metrics" and self.metrics is not None:
            if not await self._may_see_details(conn, request):  # loopback, or a manager's session token
                return _text(HTTPStatus.FORBIDDEN, "metrics are for this host (loopback) or a manager only\n")
            return _response(HTTPStatus.OK, self.metrics(), "text/plain; version=0.0.4; charset=utf-8")
        if path == "/qr.svg":
            text = parse_qs(parts.query).get("text", [""])[0]
            if not text or len(text) > MAX_QR_TEXT:
                return _text(HTTPStatus.BAD_REQUEST, f"text must be 1 to {MAX_QR_TEXT} characters\n")
            return _response(HTTPStatus.OK, qr_svg(text), "image/svg+xml")
        if path == "/config.json":
            public = self.public_config()
            if self.demo_links is not None:  # only the demo shares its screens' tokens
                public["demo"] = self.demo_links
            return _response(
                HTTPStatus.OK,
                json.dumps(public, ensure_ascii=False).encode(),
                "application/json; charset=utf-8",
            )
        for pattern, page in PAGES:
            if pattern.match(path):
                return self._file(self.static_dir / page)
        if path.startswith(STATIC_PREFIX):
            target = static_target(self.static_dir / "static", path[len(STATIC_PREFIX) :])
            if target is None:
                return _text(HTTPStatus.NOT_FOUND, "not found\n")
            return self._file(target, cache="max-age=300")
        return _text(HTTPStatus.NOT_FOUND, "not found\n")

    def _file(self, target: Path, *, cache: str = "no-cache") -> Response:
        if not target.is_file():
            return _text(HTTPStatus.NOT_FOUND, "not found\n")
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/javascript", "application/json"):
            ctype += "; charset=utf-8"
        return _response(HTTPStatus.OK, target.read_bytes(), ctype, cache=cache)

    def public_config(self) -> dict[str, Any]:
        """What pages need before the websocket: hall name, queues, windows, rules. No staff."""
        cfg = self.config
        return {
            "hall": {
                "code": cfg.code,
                "name": cfg.name,
                "timezone": cfg.timezone,
                "notice": cfg.notice,
                "public_url": cfg.public_url,
            },
            "rules": {
                "recent_calls": cfg.rules.recent_calls,
                "announce_repeat": cfg.rules.announce_repeat,
                "recall_limit": cfg.rules.recall_limit,
            },
            "queues": [
                {
                    "code": q.code,
                    "name": q.name,
                    "kind": q.kind.value,
                    "department": q.department,
                    "daily_cap": q.daily_cap,
                }
                for q in cfg.queues
            ],
            "windows": [
                {
                    "number": w.number,
                    "name": w.name,
                    "kind": w.kind.value,
                    "zone": w.zone,
                    "department": w.department,
                    "queues": [wq.queue for wq in w.queues],
                }
                for w in cfg.windows
            ],
        }
