"""The queue server: a thin asyncio shell around the pure hall core.

For each request: parse → validate (the registry: schema and role) → its handler → for a
command, the writer (core → persist in one transaction) → acknowledge the sender → broadcast
to subscribers. Only the writer touches the hall; replies and broadcasts go out only after
the transaction committed. docs/architecture.md draws the path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from .. import __version__
from ..calendar_data import load_calendar
from ..hall import commands as c
from ..hall.calendar import WorkCalendar
from ..hall.config import HallConfig
from ..hall.errors import HallError
from ..hall.hall import Hall
from ..matters import load_matters
from ..recorder import rebuild_hall
from ..store.base import Store
from ..store.clock import META_KEY as CLOCK_META_KEY
from ..store.clock import clock_value
from . import protocol as p
from .auth import RateLimited, Sessions, hash_token
from .context import Client, Viewer
from .fanout import Fanout, LocalFanout, encode
from .http import HttpRoutes
from .metrics import Metrics, roles_of
from .registry import validate
from .schema import decode, text_problem
from .writer import Job, Writer

log = logging.getLogger("hallops.server")

Clock = Callable[[], datetime]


def _has_open_deadlines(hall: Hall, now: datetime) -> bool:
    return bool(hall.cases or hall.rectifications)


class HallServer:
    def __init__(
        self,
        config: HallConfig,
        store: Store,
        *,
        host: str = "127.0.0.1",
        port: int = 8765,
        clock: Clock | None = None,
        fanout: Fanout | None = None,
        static_dir: Any = None,
        max_batch: int = 64,
        calendar: WorkCalendar | None = None,
        matters: Mapping[str, Any] | None = None,
    ) -> None:
        """``calendar`` and ``matters`` default to ``load_calendar()`` (package data and the
        year files of data/calendar) and ``load_matters()`` (data/matters/matters.csv)."""
        self.config = config
        self.calendar = calendar
        self.matters = matters
        self.store = store
        self.host = host
        self.port = port
        self.tz = ZoneInfo(config.timezone)
        self.clock: Clock = clock or (lambda: datetime.now(self.tz))
        self.fanout = fanout or LocalFanout()
        self.metrics = Metrics()
        self.writer = Writer(
            store, self.fanout, self.now, self._rebuild, max_batch=max_batch, metrics=self.metrics
        )
        self.clients: dict[ServerConnection, Client] = {}
        self.started_monotonic = time.monotonic()
        self.metrics.watch(self._live_figures)
        self.http = HttpRoutes(
            config,
            self.health,
            static_dir,
            metrics=self.metrics.render,
            bind_host=host,
            is_manager=self._is_manager,
        )
        self.issued_by_kiosk: dict[str, Any] = {}  # monotonic issue times per kiosk token
        self.sessions = Sessions(config)
        self._closing: set[asyncio.Task[None]] = set()
        self._ticker: asyncio.Task[None] | None = None
        self._server: Server | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        await self.store.open()
        if self.calendar is None:
            self.calendar = load_calendar()
        if self.matters is None:
            self.matters = {m.code: m for m in load_matters()}
        await self.writer.start()
        self.metrics.start()
        await self.write_clock()
        self._ticker = asyncio.create_task(self._tick_loop(), name="hallops-ticker")
        self._server = await serve(
            self._handle_connection,
            self.host,
            self.port,
            process_request=self.http.process_request,
            compression=None,  # LAN displays: compression costs memory and CPU per connection
            max_size=p.TRANSPORT_MAX_BYTES,
            ping_interval=20,
            ping_timeout=20,
            write_limit=2**16,
            open_timeout=3,  # a browser's spare idle connection must not hold up stop()
        )
        sock = next(iter(self._server.sockets))
        self.port = sock.getsockname()[1]
        self.started_monotonic = time.monotonic()
        if await self.writer.read(_has_open_deadlines):
            # calendar data may have arrived since the deadlines were computed (a provisional
            # year published): recompute them once, as one command
            await self.writer.apply(Job(command=c.RecomputeDeadlines()))
        log.info(
            "HallOps %s serving %s on ws://%s:%s/ws", __version__, self.config.code, self.host, self.port
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        await self.writer.stop()
        with contextlib.suppress(Exception):  # stopping anyway: the clock row is a courtesy
            await self.write_clock(speed=0.0)  # stopped: the hall's time stands still
        await self.metrics.stop()
        await self.store.close()

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    async def _rebuild(self) -> Hall:
        return rebuild_hall(
            self.config, await self.store.load(), calendar=self.calendar, matters=self.matters
        )

    def now(self) -> datetime:
        return self.clock().astimezone(self.tz)

    def clock_speed(self) -> float:
        """Hall seconds per real second: 1.0 on the real clock, the demo's speed on a
        simulated one (a clock with a ``speed`` attribute)."""
        return float(getattr(self.clock, "speed", 1.0))

    async def write_clock(self, speed: float | None = None) -> None:
        """Store the hall's clock in ``meta.hall_clock`` (the dashboard's "now", see
        dashboard/hall_clock.py): at start, every tick, after a jump, and paused at stop."""
        value = clock_value(self.now(), self.clock_speed() if speed is None else speed)
        await self.store.set_meta(CLOCK_META_KEY, value)

    @property
    def hall(self) -> Hall | None:
        """The writer's hall, for inspection by tests only (``Writer.hall``)."""
        return self.writer.hall

    async def _tick_loop(self) -> None:
        """The core's only timer: roll over to a new service day at local midnight; end the
        staff sessions whose time is up."""
        while True:
            await asyncio.sleep(30)
            await self.end_sessions(self.sessions.expired(self.now()), "session expired")
            await self.writer.apply(Job(command=c.Tick()))
            await self.write_clock()

    # ------------------------------------------------------------------ connections

    def viewer(self, client: Client) -> Viewer:
        """The sender as a value; ``scope``: the department a back-office sender acts for."""
        scope = None
        if client.role == "backoffice":
            account = self.config.staff_account(client.actor.id)
            scope = account.department if account is not None and account.department else "(no department)"
        return Viewer(role=client.role, window=client.window, actor=client.actor, scope=scope)

    def address(self, client: Client) -> str:
        """The client's address; behind a reverse proxy on this host, the one it forwards."""
        remote = client.conn.remote_address
        ip = str(remote[0]) if remote else "?"
        request = client.conn.request
        if ip in ("127.0.0.1", "::1") and request is not None:
            forwarded = request.headers.get("X-Forwarded-For") or request.headers.get("X-Real-IP")
            if forwarded:
                return forwarded.split(",")[-1].strip()[:64]
        return ip

    async def end_sessions(
        self, token_hashes: Iterable[str], reason: str, *, keep: Client | None = None
    ) -> int:
        """Revoke these session tokens and close every connection that uses one (but
        ``keep``): logout, expiry, a window taken over by another staff member, a manager's
        revoke_session. The terminal reconnects and finds its token refused."""
        hashes = set(token_hashes)
        if not hashes:
            return 0
        now = self.now().isoformat()
        for h in hashes:
            self.sessions.forget(h)
            await self.store.revoke_token(h, now)
        ended = [cl for cl in self.clients.values() if cl.token_hash in hashes and cl is not keep]
        for cl in ended:
            cl.role, cl.window, cl.token_hash = "anonymous", None, None
            cl.actor = c.Actor(kind="anonymous", id="-")
            self.fanout.unsubscribe(cl.conn)
            task = asyncio.create_task(cl.conn.close(4001, reason[:100]))  # not waiting for the peer
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        return len(ended)

    async def _handle_connection(self, conn: ServerConnection) -> None:
        client = Client(conn=conn)
        self.clients[conn] = client
        inflight: set[asyncio.Task[None]] = set()
        try:
            async for raw in conn:
                rtype, is_command = self._peek(client, raw)
                if is_command:
                    # Pipelined: the next message is read while this command waits for its
                    # commit. Order holds: the task queues its job to the writer in its first
                    # step, before any later message's task runs (issue 17: a kiosk's commands
                    # no longer wait for each other's fsync).
                    task = asyncio.create_task(self._answer(client, raw, rtype))
                    inflight.add(task)
                    task.add_done_callback(inflight.discard)
                    continue
                if inflight:  # a session request sees every earlier command answered
                    await asyncio.gather(*inflight)
                await self._answer(client, raw, rtype)
        except ConnectionClosed:
            pass
        finally:
            self.fanout.unsubscribe(conn)
            self.clients.pop(conn, None)

    def _peek(self, client: Client, raw: str | bytes) -> tuple[str, bool]:
        """The request's type (for /metrics) and whether it is a command the sender may send
        (pipelined); anything else is answered in order by ``_handle_message``."""
        try:
            req = validate(p.parse_request(raw)[1], client.role)
        except Exception:
            return "invalid", False
        return req.type, req.kind == "command"

    async def _answer(self, client: Client, raw: str | bytes, rtype: str) -> None:
        t0 = time.perf_counter()
        reply = await self._handle_message(client, raw)
        if reply is not None:
            with contextlib.suppress(ConnectionClosed):
                await client.conn.send(encode(reply))
        self.metrics.command_seconds.labels(rtype).observe(time.perf_counter() - t0)

    def _live_figures(self) -> dict[str, Any]:
        return {
            "roles": roles_of(self.clients.values()),
            "subscribers": getattr(self.fanout, "subscriber_count", 0),
            "writer_queue": self.writer.queue_depth,
            "frames": getattr(self.fanout, "frames_written", 0),
            "slow_screens": getattr(self.fanout, "slow_screens", 0),
        }

    async def _handle_message(self, client: Client, raw: str | bytes) -> dict[str, Any] | None:
        rid: Any = None
        try:
            rid, msg = p.parse_request(raw)
            if isinstance(rid, str) and text_problem(rid) is not None:
                rid = None  # an id that cannot be echoed back
                raise p.ProtocolError(
                    "invalid_field", "id is not valid text (a lone surrogate or a control character)"
                )
            session = self.sessions.ends.get(client.token_hash or "")
            if session is not None and session[1] <= self.now():
                await self.end_sessions([client.token_hash or ""], "session expired")
                return None
            req = validate(msg, client.role)
            values = decode(msg, req.fields, self.tz)
            return p.ok(rid, **await req.handler(self, client, req, values))
        except (p.ProtocolError, HallError) as err:
            reply = p.error(rid, err.code, err.message)
            if isinstance(err, RateLimited):
                reply["retry_after_s"] = err.retry_after_s
            return reply
        except Exception:
            log.exception("internal error on %r", raw[:200])
            return p.error(rid, "internal_error", "the server failed on this request; nothing was changed")

    # ------------------------------------------------------------------ health

    async def _is_manager(self, token: str) -> bool:
        """For ``/healthz`` details: a manager's live session token."""
        if not token or len(token) > 128:
            return False
        tok = await self.store.find_token(hash_token(token))
        return tok is not None and tok.role == "manager" and tok.username is not None

    async def health(self) -> dict[str, Any]:
        db = await self.store.health()
        return {
            "status": "ok" if db.get("ok") else "degraded",
            "hall": self.config.code,
            "version": __version__,
            "uptime_s": round(time.monotonic() - self.started_monotonic, 1),
            "connections": len(self.clients),
            "subscribers": getattr(self.fanout, "subscriber_count", None),
            "database": db,
        }
