"""``hallops demo``: a real queue server on a simulated clock, fed by the simulator through
the websocket protocol.

The server (``HallServer``) runs on ``ScaledClock``: simulated hall time that starts at a
day's opening (or where the database's last event left off) and runs ``speed`` times faster
than real time, jumping over nights and lunch breaks when nothing happens. The same
``HallModel`` as ``hallops simulate`` decides what citizens and staff do; here its requests
go over websocket connections like any client's: kiosk connections authenticated with a
minted kiosk token send ``issue_ticket``, one connection per window desk logs in with the
staff account (``login``) and sends ``call_next``, ``start_service`` ...
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from ..hall import commands as c
from ..hall.calendar import WorkCalendar
from ..hall.config import HallConfig
from .arrivals import day_kind, midnight_ts
from .behaviour.profile import Profile
from .engine import HallModel
from .plan import DEFAULT_PLAN
from .steps import Outcome, Request

SKIP_IDLE_S = 600.0  # jump the clock over quiet stretches longer than this (simulated)
DEMO_PASSWORD = "hallops-demo"  # the demo hall's accounts (data/halls/demo.toml)


class ScaledClock:
    """Simulated time: ``start`` at creation, then ``speed`` simulated seconds per real one."""

    def __init__(self, start: datetime, speed: float) -> None:
        self.speed = speed
        self.tz = start.tzinfo
        self._sim0 = start.timestamp()
        self._real0 = time.monotonic()

    def ts(self) -> float:
        return self._sim0 + (time.monotonic() - self._real0) * self.speed

    def __call__(self) -> datetime:
        return datetime.fromtimestamp(self.ts(), self.tz)

    def jump_to(self, ts: float) -> None:
        """Move forward (never back) to ``ts``."""
        if ts > self.ts():
            self._sim0, self._real0 = ts, time.monotonic()


def to_message(cmd: Any) -> dict[str, Any] | None:
    """The protocol request for a hall command (``None``: the server does it itself)."""
    if isinstance(cmd, c.IssueTicket):
        msg: dict[str, Any] = {
            "type": "issue_ticket",
            "queue": cmd.queue,
            "priority": cmd.priority.value,
            "channel": cmd.channel.value,
            "checked_in": cmd.checked_in,
        }
        if cmd.appointment_slot is not None:
            msg["appointment_slot"] = cmd.appointment_slot.isoformat()
        if cmd.applicant is not None:
            msg["applicant"] = {"name": cmd.applicant.name, "phone": cmd.applicant.phone}
        return msg
    window_commands = {
        c.CallNext: "call_next",
        c.Recall: "recall",
        c.StartService: "start_service",
        c.FinishService: "finish_service",
        c.NoShow: "no_show",
        c.OpenWindow: "open_window",
        c.ResumeWindow: "resume_window",
        c.CloseWindow: "close_window",
    }
    if type(cmd) in window_commands:
        return {"type": window_commands[type(cmd)], "window": cmd.window}
    if isinstance(cmd, c.PauseWindow):
        return {"type": "pause_window", "window": cmd.window, "reason": cmd.reason}
    if isinstance(cmd, c.Transfer):
        msg = {"type": "transfer", "ticket": cmd.ticket, "reason": cmd.reason}
        if cmd.to_queue is not None:
            msg["to_queue"] = cmd.to_queue
        if cmd.to_window is not None:
            msg["to_window"] = cmd.to_window
        return msg
    if isinstance(cmd, c.Reactivate):
        return {"type": "reactivate", "ticket": cmd.ticket}
    if isinstance(cmd, c.StaffLogout):
        return {"type": "logout"}
    if isinstance(cmd, c.Tick):
        return None
    raise TypeError(f"no protocol message for {type(cmd).__name__}")


class Conn:
    """One websocket client. Requests may overlap; a reader task matches replies by id."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._id = 0
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())
        self.sent: list[float] = []  # monotonic times of issue_ticket (kiosk rate limit)

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                fut = self._waiting.pop(msg.get("re"), None) if "re" in msg else None
                if fut is not None and not fut.done():
                    fut.set_result(msg)
        except ConnectionClosed:
            pass
        finally:
            for fut in self._waiting.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("the server closed the connection"))
            self._waiting.clear()

    async def request(self, msg: dict[str, Any]) -> dict[str, Any]:
        self._id += 1
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[self._id] = fut
        await self.ws.send(json.dumps({"id": self._id, **msg}, ensure_ascii=False))
        return await fut

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()


@dataclass
class LiveCounts:
    issued: int = 0
    called: int = 0
    finished: int = 0
    errors: dict[str, int] = field(default_factory=dict)


class LiveBackend:
    """Sends the model's requests to a running server as its clients would."""

    def __init__(
        self, url: str, kiosk_token: Any, issue_limit: int, *, password: str, window_token: Any
    ) -> None:
        self.url = url
        self.kiosk_token = kiosk_token  # async (n) -> token of kiosk n (1, 2, ...)
        self.issue_limit = issue_limit  # per kiosk per minute (rules.issue_rate_per_min)
        self.password = password
        self.window_token = window_token  # async (window) -> token, for desks without an account
        self.kiosks: list[Conn] = []
        self.desks: dict[int, Conn] = {}
        self.counts = LiveCounts()
        self._kiosk_lock = asyncio.Lock()
        self._desk_lock = asyncio.Lock()

    async def _connect(self) -> Conn:
        return Conn(await connect(self.url, compression=None, max_size=2**22))

    async def _kiosk(self) -> Conn:
        """A kiosk with issuing quota left this minute. The server limits each kiosk to
        ``issue_rate_per_min``; at demo speed a real minute holds an hour of arrivals, so the
        simulated hall gets as many kiosks as it needs (kiosk-1, kiosk-2 ...)."""
        async with self._kiosk_lock:
            now = time.monotonic()
            for k in self.kiosks:
                k.sent = [t for t in k.sent if now - t < 61.0]
                if len(k.sent) < self.issue_limit:
                    k.sent.append(now)
                    return k
            k = await self._connect()
            reply = await k.request({"type": "auth", "token": await self.kiosk_token(len(self.kiosks) + 1)})
            if reply.get("type") != "ok":
                raise RuntimeError(f"kiosk auth refused: {reply}")
            self.kiosks.append(k)
            k.sent.append(now)
            return k

    async def _desk(self, number: int) -> Conn:
        async with self._desk_lock:
            if number not in self.desks:
                self.desks[number] = await self._connect()
            return self.desks[number]

    async def execute(self, req: Request) -> Outcome:
        cmd = req.cmd
        if isinstance(cmd, c.StaffLogin):
            return await self._login(req.desk or cmd.window, cmd)
        msg = to_message(cmd)
        if msg is None:
            return Outcome(True)
        if isinstance(cmd, c.IssueTicket):
            for _ in range(3):
                conn = await self._kiosk()
                reply = await conn.request(msg)
                if reply.get("code") != "rate_limited":
                    break
                conn.sent = [time.monotonic()] * self.issue_limit  # full for this minute
        else:
            desk = req.desk if req.desk is not None else int(getattr(cmd, "window", 0))
            conn = await self._desk(desk)
            reply = await conn.request(msg)
        if reply.get("type") != "ok":
            code = str(reply.get("code", "error"))
            self.counts.errors[code] = self.counts.errors.get(code, 0) + 1
            return Outcome(False, code)
        ticket = reply.get("ticket") or {}
        issued = ticket.get("issued_at")
        if isinstance(cmd, c.IssueTicket):
            self.counts.issued += 1
        elif isinstance(cmd, c.CallNext):
            self.counts.called += 1
        elif isinstance(cmd, c.FinishService):
            self.counts.finished += 1
        return Outcome(
            True, "", ticket.get("id"), datetime.fromisoformat(issued).timestamp() if issued else None
        )

    async def _login(self, desk: int, cmd: c.StaffLogin) -> Outcome:
        conn = await self._desk(desk)
        reply = await conn.request(
            {"type": "login", "username": cmd.username, "password": self.password, "window": cmd.window}
        )
        if reply.get("type") == "ok":
            return Outcome(True)
        if reply.get("code") != "unauthenticated":
            return Outcome(False, str(reply.get("code")))
        # No such account (or another password): the desk works with a window device token.
        reply = await conn.request({"type": "auth", "token": await self.window_token(cmd.window)})
        return Outcome(reply.get("type") == "ok", str(reply.get("code", "")))

    async def close(self) -> None:
        for conn in [*self.kiosks, *self.desks.values()]:
            with contextlib.suppress(Exception):  # closing anyway
                await conn.close()


def last_event_at(db: Path) -> datetime | None:
    """The instant of the database's last event (None: no database or no events)."""
    if not db.exists():
        return None
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT at FROM events ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        con.close()
    return datetime.fromisoformat(row[0]) if row else None


def first_opening(
    config: HallConfig, calendar: WorkCalendar, profile: Profile, day: date, lead_s: float = 600.0
) -> datetime:
    """``lead_s`` before the first opening of ``day`` if it is a working day, else of the next one."""
    tz = ZoneInfo(config.timezone)
    for i in range(60):
        d = day + timedelta(days=i)
        kind = day_kind(d, calendar, profile)
        if kind.factor <= 0 or not kind.working:
            continue
        sessions = DEFAULT_PLAN.sessions(config, d)
        starts = [s.start_min for ss in sessions.values() for s in ss]
        if starts:
            return datetime.fromtimestamp(midnight_ts(d, tz) + min(starts) * 60.0 - lead_s, tz)
    raise RuntimeError("the hall has no opening hours in the next 60 days")


async def drive(
    model: HallModel,
    backend: LiveBackend,
    clock: ScaledClock,
    stop: asyncio.Event,
    start: datetime,
    *,
    resume: bool,
) -> None:
    """Run the model against the server, day after day, until ``stop`` is set.

    Each due step's request goes out at once, without waiting for the replies of others:
    desks and kiosks are separate clients, as in a hall (a desk never has two requests out,
    since its next step is only scheduled by the outcome of the previous one). Follow-ups are
    scheduled in model time, so a driver running late does not slow the simulated hall down."""
    inflight: set[asyncio.Task[None]] = set()
    failure: list[BaseException] = []

    async def run(req: Request, ts: float) -> None:
        try:
            out = await backend.execute(req)
        except Exception as exc:  # reported by drive()
            if not stop.is_set():
                failure.append(exc)
                stop.set()
            return
        if req.then is not None:
            req.then(out, ts)

    day = start.date()
    model.begin_day(day, from_ts=start.timestamp() if resume else None, tick=False)
    empty_days = 0
    while not stop.is_set():
        if not model.heap:
            if inflight:
                await asyncio.wait(inflight, timeout=0.25)
                continue
            day += timedelta(days=1)
            model.begin_day(day, tick=False)
            empty_days = empty_days + 1 if not model.heap else 0
            if empty_days > 60:
                return
            continue
        due = model.heap[0][0]
        now = clock.ts()
        if due > now:
            if due - now > SKIP_IDLE_S and not inflight:
                clock.jump_to(due - 30.0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=min((due - now) / clock.speed, 0.25))
            continue
        ts, req = model.pop()
        if req is not None:
            task = asyncio.create_task(run(req, ts))
            inflight.add(task)
            task.add_done_callback(inflight.discard)
    for task in list(inflight):
        task.cancel()
    if failure:
        raise failure[0]


@dataclass(kw_only=True)
class DemoOptions:
    config_path: Path
    db: Path
    host: str = "127.0.0.1"
    port: int = 8765
    speed: float = 60.0
    seed: int = 1
    fresh: bool = False
    dashboard: bool = True
    dashboard_port: int = 8501
    seconds: float | None = None
    start: date | None = None  # a new database's first day (default: today or the next working day)
    password: str = DEMO_PASSWORD
    synchronous: str = "NORMAL"


async def run_demo(config: HallConfig, profile: Profile, calendar: WorkCalendar, opts: DemoOptions) -> int:
    from ..server.app import HallServer
    from ..server.auth import hash_token, new_token
    from ..store import SqliteStore
    from ..store.base import DeviceToken

    tz = ZoneInfo(config.timezone)
    if opts.fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{opts.db}{suffix}").unlink(missing_ok=True)
    last = last_event_at(opts.db)
    if last is None:
        start = first_opening(config, calendar, profile, opts.start or datetime.now(tz).date())
        resume = False
    else:
        start, resume = last.astimezone(tz) + timedelta(seconds=1), True
    clock = ScaledClock(start, opts.speed)
    store = SqliteStore(opts.db, synchronous=opts.synchronous)
    server = HallServer(config, store, host=opts.host, port=opts.port, clock=clock)
    try:
        await server.start()
    except OSError as exc:
        await store.close()
        print(f"hallops: cannot listen on {opts.host}:{opts.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1

    async def mint(role: str, name: str, window: int | None = None) -> str:
        token = new_token()
        await store.add_token(
            hash_token(token), DeviceToken(role=role, window=window, name=name), clock().isoformat()
        )
        return token

    kiosk_tokens: dict[int, str] = {1: await mint("kiosk", "kiosk-1")}

    async def kiosk_token(n: int) -> str:
        if n not in kiosk_tokens:
            kiosk_tokens[n] = await mint("kiosk", f"kiosk-{n}")
        return kiosk_tokens[n]

    window_tokens: dict[int, str] = {}

    async def window_token(window: int) -> str:
        if window not in window_tokens:
            window_tokens[window] = await mint("window", f"window-{window}", window)
        return window_tokens[window]

    base = f"http://{opts.host}:{server.port}"
    dash: subprocess.Popen[bytes] | None = None
    dash_line = "not started (--no-dashboard)"
    if opts.dashboard:
        log = open(opts.db.parent / "demo-dashboard.log", "ab")  # noqa: SIM115 - lives as long as the child
        dash = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "queue_server.cli",
                "dashboard",
                "--db",
                str(opts.db),
                "--config",
                str(opts.config_path),
                "--port",
                str(opts.dashboard_port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        dash_line = f"http://{opts.host}:{opts.dashboard_port}"
    first_window = min((w.number for w in config.windows), default=1)
    print(f"HallOps demo · {config.name} ({config.code}) · database {opts.db}", flush=True)
    print(
        f"  simulated clock {'continues at' if resume else 'starts at'} {start:%Y-%m-%d %H:%M:%S} "
        f"and runs {opts.speed:g}× real time",
        flush=True,
    )
    print(f"  wall display    {base}/display/wall", flush=True)
    print(f"  window display  {base}/display/window/{first_window}", flush=True)
    print(f"  kiosk           {base}/kiosk?token={kiosk_tokens[1]}", flush=True)
    print(f"  staff terminal  {base}/terminal   (accounts w01…: password {opts.password})", flush=True)
    print(f"  rating pad      {base}/rate/{first_window}", flush=True)
    print(f"  dashboard       {dash_line}", flush=True)
    print(f"  health          {base}/healthz", flush=True)
    print("Ctrl-C stops.", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if opts.seconds is not None:
        loop.call_later(opts.seconds, stop.set)

    model = HallModel(config, config, profile, DEFAULT_PLAN, opts.seed, calendar)
    backend = LiveBackend(
        f"ws://{opts.host}:{server.port}/ws",
        kiosk_token,
        config.rules.issue_rate_per_min,
        password=opts.password,
        window_token=window_token,
    )
    driver = asyncio.create_task(drive(model, backend, clock, stop, start, resume=resume))
    status = asyncio.create_task(_status(backend, clock, stop))
    code = 0
    try:
        done, _ = await asyncio.wait(
            {driver, asyncio.create_task(stop.wait())}, return_when=asyncio.FIRST_COMPLETED
        )
        if driver in done and driver.exception() is not None:
            failure = driver.exception()
            print(f"hallops: the simulator stopped: {failure!r}", file=sys.stderr)
            code = 1
    finally:
        stop.set()
        for task in (driver, status):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # shutting down
                await task
        await backend.close()
        await server.stop()
        if dash is not None:
            _stop_process(dash)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    c_ = backend.counts
    print(
        f"stopped at simulated {clock():%Y-%m-%d %H:%M:%S}: {c_.issued} tickets issued, {c_.called} called, "
        f"{c_.finished} served this run",
        flush=True,
    )
    if c_.errors:
        print(f"  refused: {dict(sorted(c_.errors.items()))}", flush=True)
    if model.unexpected:
        print(f"  unexpected outcomes: {dict(sorted(model.unexpected.items()))}", flush=True)
    return code


async def _status(backend: LiveBackend, clock: ScaledClock, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=15.0)
        except TimeoutError:
            c_ = backend.counts
            print(
                f"  [{clock():%m-%d %H:%M}] issued {c_.issued} · called {c_.called} · served {c_.finished}",
                flush=True,
            )


def _stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
