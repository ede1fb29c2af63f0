"""Plain HTTP on the websocket port: health, the screens (static files from ``displays/``)
and QR codes. Everything a screen needs is served from here, nothing from a CDN, so the
hall works on a closed network.

The websocket endpoint is ``/ws``; its ``Origin`` header must be the server's own origin
or one of the hall's ``allowed_origins`` (no Origin header: a non-browser client).
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
    headers = Headers([
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("Cache-Control", cache),
        ("X-Content-Type-Options", "nosniff"),
    ])
    return Response(status.value, status.phrase, headers, body)


def _text(status: HTTPStatus, text: str) -> Response:
    return _response(status, text.encode(), "text/plain; charset=utf-8")


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

    def __init__(self, config: HallConfig, health: Health, static_dir: Path | str | None = None) -> None:
        self.config = config
        self.health = health
        self.static_dir = Path(static_dir) if static_dir else DEFAULT_STATIC
        self.demo_links: list[dict[str, str]] | None = None  # hallops demo: its screens with tokens

    def origin_allowed(self, request: Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser
        host = request.headers.get("Host", "")
        own = {f"http://{host}", f"https://{host}"}
        return origin in own or origin in self.config.allowed_origins

    async def process_request(self, conn: Any, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        path = parts.path
        if path == "/ws":
            if not self.origin_allowed(request):
                return _text(HTTPStatus.FORBIDDEN, "origin not allowed by this hall's configuration\n")
            return None  # go on with the websocket handshake
        if path == "/healthz":
            body = json.dumps(await self.health(), ensure_ascii=False).encode()
            status = HTTPStatus.OK
            return _response(status, body, "application/json; charset=utf-8")
        if path == "/qr.svg":
            text = parse_qs(parts.query).get("text", [""])[0]
            if not text or len(text) > MAX_QR_TEXT:
                return _text(HTTPStatus.BAD_REQUEST, f"text must be 1 to {MAX_QR_TEXT} characters\n")
            return _response(HTTPStatus.OK, qr_svg(text), "image/svg+xml")
        if path == "/config.json":
            public = self.public_config()
            if self.demo_links is not None:  # only the demo shares its screens' tokens
                public["demo"] = self.demo_links
            return _response(HTTPStatus.OK, json.dumps(public, ensure_ascii=False).encode(),
                             "application/json; charset=utf-8")
        for pattern, page in PAGES:
            if pattern.match(path):
                return self._file(self.static_dir / page)
        if path.startswith(STATIC_PREFIX):
            target = static_target(self.static_dir / "static", path[len(STATIC_PREFIX):])
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
            "hall": {"code": cfg.code, "name": cfg.name, "timezone": cfg.timezone, "notice": cfg.notice,
                     "public_url": cfg.public_url},
            "rules": {"recent_calls": cfg.rules.recent_calls, "announce_repeat": cfg.rules.announce_repeat,
                      "recall_limit": cfg.rules.recall_limit},
            "queues": [{"code": q.code, "name": q.name, "kind": q.kind.value, "department": q.department,
                        "daily_cap": q.daily_cap} for q in cfg.queues],
            "windows": [{"number": w.number, "name": w.name, "kind": w.kind.value, "zone": w.zone,
                         "department": w.department, "queues": [wq.queue for wq in w.queues]}
                        for w in cfg.windows],
        }
