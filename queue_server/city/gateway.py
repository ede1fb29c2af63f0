"""A display gateway: holds the websockets of a city's public screens (wall and window
displays) for any number of halls, fed by NATS, and serves their static pages. It never
touches the database and never sends a command: staff terminals, kiosks, rating pads and the
citizens' status pages talk to their hall server.

A screen names its hall with ``/ws?hall=CODE`` (or the ``hallops_hall`` cookie set when the
gateway served its page with ``?hall=CODE``), then speaks the same protocol as with its hall
server (docs/protocol.md): ``ping``, ``auth`` (display tokens), ``subscribe``, ``resync``;
one ``snapshot``, then ``event``s numbered by ``seq`` per subscription.

Per hall the gateway keeps a ``HallFeed``: the hall's event stream (``src``, ``n``, see
subjects.py) and a ``LocalFanout`` for its screens. A snapshot comes from the hall server
(request/reply) with the ``n`` it was taken at, and is handed to a screen only when the
screens' stream is at that same ``n``, so a screen gets every event after its snapshot exactly
once. When the stream shows a gap or another server run (a standby took over), the feed asks
for a fresh snapshot and pushes it to every screen of the hall (a ``snapshot`` push, as after
``resync``), then goes on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import time
from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import nats
import nats.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from .. import __version__
from ..server import protocol as p
from ..server.auth import hash_token
from ..server.fanout import Filter, LocalFanout, encode
from ..server.http import DEFAULT_STATIC, STATIC_PREFIX
from ..server.registry import validate
from . import subjects

log = logging.getLogger("hallops.city.gateway")

SUBSCRIBE_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_S = 2.0
HALL_COOKIE = "hallops_hall"
GATEWAY_PAGES = {"/display/wall": "wall.html", "/display/window/": "window.html"}
GATEWAY_TYPES = ("ping", "auth", "subscribe", "resync")


class HallUnavailable(Exception):
    pass


class HallFeed:
    """One hall's event stream and the screens subscribed to it on this gateway."""

    def __init__(self, nc: NatsClient, hall: str) -> None:
        self.nc = nc
        self.hall = hall
        self.fanout = LocalFanout()
        self.members: dict[ServerConnection, Filter] = {}
        self.src: str | None = None
        self.n = 0
        self.synced = False
        self.snap: dict[str, Any] | None = None  # the hall's public state after event n
        self.pending_snap: tuple[int, dict[str, Any]] | None = None  # a snapshot ahead of the stream
        self.buffer: list[dict[str, Any]] = []  # events seen while not synced
        self.waiters: list[tuple[ServerConnection, Filter, asyncio.Future[None]]] = []
        self.config: dict[str, Any] | None = None
        self.resyncs = 0
        self._fetch: asyncio.Task[None] | None = None
        self._sub: Any = None

    async def start(self) -> None:
        self._sub = await self.nc.subscribe(subjects.events(self.hall), cb=self._on_msg)
        self.request_snapshot()

    async def close(self) -> None:
        for _, _, fut in self.waiters:
            fut.cancel()
        self.waiters = []
        if self._fetch is not None:
            self._fetch.cancel()
            await asyncio.gather(self._fetch, return_exceptions=True)
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception as exc:
                log.debug("unsubscribe %s: %s", self.hall, exc)

    # ---------------------------------------------------------------- the stream

    async def _on_msg(self, msg: Msg) -> None:
        self.on_event(json.loads(msg.data))

    def on_event(self, m: dict[str, Any]) -> None:
        if not self.synced:
            self.buffer.append(m)
            self.request_snapshot()
            return
        if m["src"] == self.src:
            if m["n"] <= self.n:
                return  # seen already
            if m["n"] == self.n + 1:
                self._apply(m)
                return
        log.warning(
            "hall %s: %s; resyncing its screens",
            self.hall,
            "another server run" if m["src"] != self.src else f"gap after event {self.n}",
        )
        self.synced, self.snap, self.pending_snap, self.buffer = False, None, None, [m]
        self.request_snapshot()

    def _apply(self, m: dict[str, Any]) -> None:
        self.n = m["n"]
        self.snap = None
        self.fanout.publish([m["event"]])
        if self.pending_snap is not None and self.pending_snap[0] == self.n:
            state = self.pending_snap[1]
            self.pending_snap = None
            self._install(state)

    # ---------------------------------------------------------------- snapshots

    def request_snapshot(self) -> None:
        if self._fetch is None or self._fetch.done():
            self._fetch = asyncio.create_task(self._fetch_snapshot(), name=f"hallops-gw-snapshot-{self.hall}")

    async def _fetch_snapshot(self) -> None:
        delay = 0.1
        while True:
            try:
                reply = await self.nc.request(subjects.snapshot(self.hall), b"", timeout=REQUEST_TIMEOUT_S)
            except (
                TimeoutError,
                nats.errors.TimeoutError,
                nats.errors.NoRespondersError,
                nats.errors.ConnectionClosedError,
            ) as exc:
                log.info("hall %s: no snapshot yet (%s); asking again", self.hall, type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            if self._take(json.loads(reply.data)):
                return
            await asyncio.sleep(0.05)  # stale: ask again

    def _take(self, r: dict[str, Any]) -> bool:
        src, at, state = r["src"], r["n"], r["state"]
        if not self.synced or src != self.src:
            later = sorted((m for m in self.buffer if m["src"] == src and m["n"] > at), key=lambda m: m["n"])
            if any(m["n"] != at + 1 + i for i, m in enumerate(later)):
                self.buffer = []  # lost again in between: start over from the next snapshot
                return False
            first = self.src is None
            self.src, self.n, self.synced, self.buffer, self.pending_snap = src, at, True, [], None
            if not first:
                self.resyncs += 1
            self._install(state, everyone=True)
            for m in later:
                self._apply(m)
            return True
        if at == self.n:
            self._install(state)
            return True
        if at > self.n:
            self.pending_snap = (at, state)
            return True
        return False  # older than the screens' stream

    def _install(self, state: dict[str, Any], *, everyone: bool = False) -> None:
        self.snap = state
        if everyone:
            for conn, flt in list(self.members.items()):
                self.fanout.subscribe(conn, flt, None, self._fresh(state))
        waiters, self.waiters = self.waiters, []
        for conn, flt, fut in waiters:
            if fut.done():
                continue
            self.fanout.subscribe(conn, flt, None, self._fresh(state))
            self.members[conn] = flt
            fut.set_result(None)

    def _fresh(self, state: dict[str, Any]) -> dict[str, Any]:
        """The snapshot with the hall clock's current time (screens set their clock from it)."""
        hall = dict(state.get("hall") or {})
        if hall.get("timezone"):
            hall["now"] = datetime.now(ZoneInfo(hall["timezone"])).isoformat()
        return {**state, "hall": hall}

    # ---------------------------------------------------------------- screens

    async def subscribe(self, conn: ServerConnection, flt: Filter) -> None:
        """Send ``conn`` a snapshot and then the events after it (replaces its subscription)."""
        self.unsubscribe(conn)
        if self.synced and self.snap is not None:
            self.fanout.subscribe(conn, flt, None, self._fresh(self.snap))
            self.members[conn] = flt
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append((conn, flt, fut))
        self.request_snapshot()
        try:
            await asyncio.wait_for(fut, SUBSCRIBE_TIMEOUT_S)
        except (TimeoutError, asyncio.CancelledError):
            self.waiters = [w for w in self.waiters if w[2] is not fut]
            raise HallUnavailable(f"hall {self.hall} does not answer") from None

    def unsubscribe(self, conn: ServerConnection) -> None:
        self.fanout.unsubscribe(conn)
        self.members.pop(conn, None)
        for w in self.waiters:
            if w[0] is conn and not w[2].done():
                w[2].cancel()
        self.waiters = [w for w in self.waiters if w[0] is not conn]

    async def public_config(self) -> dict[str, Any]:
        if self.config is None:
            reply = await self.nc.request(subjects.config(self.hall), b"", timeout=REQUEST_TIMEOUT_S)
            self.config = json.loads(reply.data)
        return self.config

    def health(self) -> dict[str, Any]:
        return {
            "synced": self.synced,
            "src": self.src,
            "n": self.n,
            "subscribers": len(self.members),
            "resyncs": self.resyncs,
        }


class _Screen:
    def __init__(self, conn: ServerConnection, hall: str) -> None:
        self.conn = conn
        self.hall = hall
        self.role = "anonymous"
        self.last_filter: Filter | None = None


def _response(
    status: HTTPStatus,
    body: bytes,
    content_type: str,
    *,
    extra: list[tuple[str, str]] = (),  # type: ignore[assignment]
    cache: str = "no-cache",
) -> Response:
    headers = Headers(
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", cache),
            ("X-Content-Type-Options", "nosniff"),
            *extra,
        ]
    )
    return Response(status.value, status.phrase, headers, body)


def _text(status: HTTPStatus, text: str) -> Response:
    return _response(status, text.encode(), "text/plain; charset=utf-8")


def hall_of(request: Request) -> str | None:
    """The hall a request is for: ``?hall=CODE``, else the cookie set with the page."""
    query = parse_qs(urlsplit(request.path).query)
    if query.get("hall"):
        return query["hall"][0]
    for part in request.headers.get("Cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == HALL_COOKIE and value:
            return value
    return None


class Gateway:
    def __init__(
        self,
        nats_url: str,
        *,
        host: str = "127.0.0.1",
        port: int = 8770,
        static_dir: Path | str | None = None,
    ) -> None:
        self.nats_url = nats_url
        self.host = host
        self.port = port
        self.static_dir = Path(static_dir) if static_dir else DEFAULT_STATIC
        self.feeds: dict[str, HallFeed] = {}
        self.screens: dict[ServerConnection, _Screen] = {}
        self.started = time.monotonic()
        self._nc: NatsClient | None = None
        self._server: Server | None = None
        self._feed_lock = asyncio.Lock()

    async def start(self) -> None:
        self._nc = await nats.connect(
            self.nats_url,
            name="hallops-gateway",
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            connect_timeout=5,
        )
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._process_request,
            compression=None,
            max_size=p.TRANSPORT_MAX_BYTES,
            ping_interval=20,
            ping_timeout=20,
            write_limit=2**16,
            open_timeout=3,
        )
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        log.info(
            "HallOps gateway %s on ws://%s:%s/ws?hall=CODE (NATS %s)",
            __version__,
            self.host,
            self.port,
            self.nats_url,
        )

    async def stop(self) -> None:
        for feed in self.feeds.values():
            await feed.close()  # screens waiting for a snapshot get their answer now
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._nc is not None:
            await self._nc.close()

    async def feed(self, hall: str) -> HallFeed:
        async with self._feed_lock:
            feed = self.feeds.get(hall)
            if feed is None:
                assert self._nc is not None
                feed = self.feeds[hall] = HallFeed(self._nc, hall)
                await feed.start()
            return feed

    # ---------------------------------------------------------------- HTTP

    async def _process_request(self, conn: Any, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        path = parts.path
        hall = hall_of(request)
        if hall is not None:
            try:
                subjects.check_hall(hall)
            except ValueError:
                return _text(HTTPStatus.BAD_REQUEST, "not a hall id\n")
        if path == "/ws":
            origin = request.headers.get("Origin")
            host = request.headers.get("Host", "")
            if origin is not None and origin not in (f"http://{host}", f"https://{host}"):
                return _text(HTTPStatus.FORBIDDEN, "origin not allowed\n")
            if hall is None:
                return _text(HTTPStatus.BAD_REQUEST, "which hall? connect to /ws?hall=CODE\n")
            return None
        if path == "/healthz":
            return _response(
                HTTPStatus.OK,
                json.dumps(self.health(), ensure_ascii=False).encode(),
                "application/json; charset=utf-8",
            )
        if path == "/config.json":
            if hall is None:
                return _text(HTTPStatus.BAD_REQUEST, "which hall? /config.json?hall=CODE\n")
            try:
                cfg = await (await self.feed(hall)).public_config()
            except Exception:
                return _text(HTTPStatus.SERVICE_UNAVAILABLE, f"hall {hall} does not answer\n")
            public = {k: v for k, v in cfg.items() if k != "require_display_token"}
            return _response(
                HTTPStatus.OK,
                json.dumps(public, ensure_ascii=False).encode(),
                "application/json; charset=utf-8",
            )
        for prefix, page in GATEWAY_PAGES.items():
            if path == prefix or (
                prefix.endswith("/") and path.startswith(prefix) and path[len(prefix) :].isdigit()
            ):
                if hall is None:
                    return _text(HTTPStatus.BAD_REQUEST, f"which hall? {path}?hall=CODE\n")
                return self._file(
                    self.static_dir / page,
                    extra=[("Set-Cookie", f"{HALL_COOKIE}={hall}; Path=/; SameSite=Lax")],
                )
        if path.startswith(STATIC_PREFIX):
            root = (self.static_dir / "static").resolve()
            target = (root / path[len(STATIC_PREFIX) :]).resolve()
            if root not in target.parents:
                return _text(HTTPStatus.NOT_FOUND, "not found\n")
            return self._file(target, cache="max-age=300")
        return _text(
            HTTPStatus.NOT_FOUND,
            "not found (a gateway serves the wall and window displays;"
            " kiosks, terminals, pads and status pages are on the hall server)\n",
        )

    def _file(self, target: Path, *, cache: str = "no-cache", extra: list[tuple[str, str]] = ()) -> Response:  # type: ignore[assignment]
        import mimetypes

        if not target.is_file():
            return _text(HTTPStatus.NOT_FOUND, "not found\n")
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/javascript", "application/json"):
            ctype += "; charset=utf-8"
        return _response(HTTPStatus.OK, target.read_bytes(), ctype, cache=cache, extra=list(extra))

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "role": "gateway",
            "version": __version__,
            "uptime_s": round(time.monotonic() - self.started, 1),
            "connections": len(self.screens),
            "halls": {h: f.health() for h, f in self.feeds.items()},
        }

    # ---------------------------------------------------------------- websockets

    async def _handle(self, conn: ServerConnection) -> None:
        assert conn.request is not None
        hall = hall_of(conn.request)
        assert hall is not None  # checked at the handshake
        screen = _Screen(conn, hall)
        self.screens[conn] = screen
        feed = await self.feed(hall)
        try:
            async for raw in conn:
                reply = await self._on_message(screen, feed, raw)
                await conn.send(encode(reply))
        except ConnectionClosed:
            pass
        finally:
            feed.unsubscribe(conn)
            self.screens.pop(conn, None)

    async def _on_message(self, screen: _Screen, feed: HallFeed, raw: str | bytes) -> dict[str, Any]:
        rid: Any = None
        try:
            rid, msg = p.parse_request(raw)
            if msg.get("type") not in GATEWAY_TYPES:
                raise p.ProtocolError(
                    "forbidden", "a display gateway serves screens only; commands go to the hall server"
                )
            validate(msg, "anonymous")
            kind = msg["type"]
            if kind == "ping":
                cfg = await feed.public_config()
                now = datetime.now(ZoneInfo(cfg["hall"]["timezone"]))
                return p.ok(rid, server_time=now.isoformat(), version=__version__)
            if kind == "auth":
                reply = await feed.nc.request(
                    subjects.auth(feed.hall),
                    json.dumps({"token_hash": hash_token(msg["token"])}).encode(),
                    timeout=REQUEST_TIMEOUT_S,
                )
                answer = json.loads(reply.data)
                if answer.get("role") != "display":
                    raise p.ProtocolError(
                        "unauthenticated", "unknown or revoked token (a gateway takes display tokens only)"
                    )
                screen.role = "display"
                return p.ok(rid, role="display", window=None, name=answer.get("name", ""))
            if kind == "subscribe":
                flt = await self._filter_from(feed, msg, screen)
                screen.last_filter = flt
                await feed.subscribe(screen.conn, flt)
                return p.ok(rid, subscribed=True)
            flt = screen.last_filter or await self._filter_from(feed, {}, screen)
            await feed.subscribe(screen.conn, flt)
            return p.ok(rid, resynced=True)
        except p.ProtocolError as err:
            return p.error(rid, err.code, err.message)
        except (HallUnavailable, nats.errors.TimeoutError, nats.errors.NoRespondersError) as err:
            return p.error(rid, "hall_unavailable", f"the hall server does not answer ({err}); try again")

    async def _filter_from(self, feed: HallFeed, msg: dict[str, Any], screen: _Screen) -> Filter:
        cfg = await feed.public_config()
        if msg.get("ticket_token") is not None:
            raise p.ProtocolError(
                "invalid_field", "status pages subscribe at their hall server, not at a gateway"
            )
        if cfg.get("require_display_token") and screen.role == "anonymous":
            raise p.ProtocolError("display_token_required", "this hall requires a display token: auth first")
        queues, windows, zone = msg.get("queues"), msg.get("windows"), msg.get("zone")
        known_queues = {q["code"] for q in cfg["queues"]}
        known_windows = {w["number"]: w for w in cfg["windows"]}
        if queues is not None:
            if not all(isinstance(q, str) for q in queues):
                raise p.ProtocolError("invalid_field", "queues must be a list of queue codes")
            for q in queues:
                if q not in known_queues:
                    raise p.ProtocolError("unknown_queue", f"no queue {q} in this hall")
        if windows is not None:
            if not all(isinstance(w, int) and not isinstance(w, bool) for w in windows):
                raise p.ProtocolError("invalid_field", "windows must be a list of window numbers")
            for w in windows:
                if w not in known_windows:
                    raise p.ProtocolError("unknown_window", f"no window {w} in this hall")
        if zone is not None:
            zone_windows = [w for w in cfg["windows"] if w.get("zone") == zone]
            if not zone_windows:
                raise p.ProtocolError("invalid_field", f"no window in zone {zone!r}")
            windows = sorted({*(windows or []), *(w["number"] for w in zone_windows)})
            queues = sorted({*(queues or []), *(q for w in zone_windows for q in w["queues"])})
        return Filter(
            queues=frozenset(queues) if queues is not None else None,
            windows=frozenset(windows) if windows is not None else None,
        )


async def run_gateway(nats_url: str, *, host: str, port: int) -> int:
    gateway = Gateway(nats_url, host=host, port=port)
    try:
        await gateway.start()
    except OSError as exc:
        print(f"hallops: cannot start the gateway on {host}:{port}: {exc}", file=sys.stderr, flush=True)
        return 1
    print(
        f"HallOps gateway {__version__}: ws://{host}:{gateway.port}/ws?hall=CODE,"
        f" http://{host}:{gateway.port}/display/wall?hall=CODE",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await gateway.stop()
    return 0
