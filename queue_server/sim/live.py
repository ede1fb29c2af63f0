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
import zlib
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
from ..server import registry
from .arrivals import day_kind, midnight_ts
from .behaviour.profile import Profile
from .engine import HallModel
from .plan import DEFAULT_PLAN
from .steps import Outcome, Request

SKIP_IDLE_S = 600.0  # jump the clock over quiet stretches longer than this (simulated)
MAX_LAG_S = 5.0  # how far (simulated) a step may go out ahead of a request awaiting its reply
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

    def pause(self) -> None:
        """Stand still (the demo stopping): the stored clock and the printed stop agree, and a
        restart continues from exactly here."""
        self._sim0, self._real0, self.speed = self.ts(), time.monotonic(), 0.0

    def jump_to(self, ts: float) -> None:
        """Move forward (never back) to ``ts``."""
        if ts > self.ts():
            self._sim0, self._real0 = ts, time.monotonic()


def to_message(cmd: Any) -> dict[str, Any] | None:
    """The protocol request for a hall command (``None``: the server does it itself). The
    registry builds it (one way to encode a command); a logout needs no window."""
    if isinstance(cmd, c.Tick):
        return None
    if isinstance(cmd, c.StaffLogout):
        return {"type": "logout"}
    return registry.to_message(cmd)


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
    cases: int = 0  # case commands done (受理, 补正, review, decisions, 出件 ...)
    ratings: int = 0
    loop_steps: int = 0  # rectification-loop steps done
    errors: dict[str, int] = field(default_factory=dict)
    turned_away: dict[str, int] = field(default_factory=dict)  # issue_ticket refused (queue closed ...)
    last_error: dict[str, str] = field(default_factory=dict)  # code -> the server's last message

    def refusal(self, code: str, message: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1
        self.last_error[code] = message

    def refusals_line(self) -> str:
        """One readable line: ``3 × illegal_transition (cannot open window 3: it is open)``."""
        return "; ".join(
            f"{n} × {code} ({self.last_error.get(code, '')})"
            if self.last_error.get(code)
            else f"{n} × {code}"
            for code, n in sorted(self.errors.items())
        )


TokenSource = Any  # async (role, n) -> a device token (kiosk n, window n's display or pad)
STATUS_PAGE_SHARE = 0.3  # of ratings: given on the status page (the citizen's phone), not the pad


class LiveBackend:
    """Sends the model's requests to a running server as its clients would: kiosks, the
    window desks (staff logged in at their window), the back office and the manager (staff
    logged in without a window), the windows' rating pads and the citizens' status pages."""

    def __init__(self, url: str, token: TokenSource, issue_limit: int, *, password: str) -> None:
        self.url = url
        self.token = token
        self.issue_limit = issue_limit  # per kiosk per minute (rules.issue_rate_per_min)
        self.password = password
        self.kiosks: list[Conn] = []
        self.desks: dict[int, Conn] = {}
        self.staff: dict[str, Conn] = {}  # back office and manager sessions, by username
        self.pads: dict[int, Conn] = {}
        self.page: Conn | None = None  # the citizens' status pages (anonymous)
        self.manager: str | None = None  # the account that looks up rectifications and decides appeals
        self.desk_by_user: dict[str, int] = {}  # window staff -> their desk (appeals come from there)
        self.status_tokens: dict[str, str] = {}  # ticket id -> its status token (from the kiosk's reply)
        self.counts = LiveCounts()
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    async def _connect(self) -> Conn:
        return Conn(await connect(self.url, compression=None, max_size=2**22))

    async def _kiosk(self) -> Conn:
        """A kiosk with issuing quota left this minute. The server limits each kiosk to
        ``issue_rate_per_min``; at demo speed a real minute holds an hour of arrivals, so the
        simulated hall gets as many kiosks as it needs (kiosk-1, kiosk-2 ...)."""
        async with self._lock("kiosk"):
            now = time.monotonic()
            for k in self.kiosks:
                k.sent = [t for t in k.sent if now - t < 61.0]
                if len(k.sent) < self.issue_limit:
                    k.sent.append(now)
                    return k
            k = await self._connect()
            reply = await k.request(
                {"type": "auth", "token": await self.token("kiosk", len(self.kiosks) + 1)}
            )
            if reply.get("type") != "ok":
                raise RuntimeError(f"kiosk refused its token: {describe(reply)}")
            self.kiosks.append(k)
            k.sent.append(now)
            return k

    async def _desk(self, number: int) -> Conn:
        async with self._lock("desk"):
            if number not in self.desks:
                self.desks[number] = await self._connect()
            return self.desks[number]

    async def _staff(self, username: str) -> Conn:
        """A back-office or manager session (login without a window)."""
        async with self._lock(f"staff:{username}"):
            conn = self.staff.get(username)
            if conn is None:
                conn = await self._connect()
                reply = await conn.request({"type": "login", "username": username, "password": self.password})
                if reply.get("type") != "ok":
                    await conn.close()
                    raise RuntimeError(f"{username} cannot log in: {describe(reply)}")
                self.staff[username] = conn
            return conn

    async def _pad(self, window: int) -> Conn:
        async with self._lock(f"pad:{window}"):
            conn = self.pads.get(window)
            if conn is None:
                conn = await self._connect()
                reply = await conn.request({"type": "auth", "token": await self.token("rating_pad", window)})
                if reply.get("type") != "ok":
                    await conn.close()
                    raise RuntimeError(
                        f"the rating pad of window {window} refused its token: {describe(reply)}"
                    )
                self.pads[window] = conn
            return conn

    async def _page(self) -> Conn:
        async with self._lock("page"):
            if self.page is None:
                self.page = await self._connect()
            return self.page

    async def _route(self, req: Request, msg: dict[str, Any]) -> tuple[Conn, dict[str, Any]]:
        """The client that sends ``msg``, and the message as that client sends it."""
        cmd, actor = req.cmd, req.actor
        if req.desk is not None:
            return await self._desk(req.desk), msg
        if isinstance(cmd, c.RateService):
            token = self.status_tokens.get(cmd.ticket)
            # the same citizen always chooses the same way (a stable draw from the ticket)
            if token is not None and (zlib.crc32(cmd.ticket.encode()) % 100) < STATUS_PAGE_SHARE * 100:
                page = {k: v for k, v in msg.items() if k not in ("ticket", "window")}
                return await self._page(), {**page, "ticket_token": token}
            pad = {k: v for k, v in msg.items() if k not in ("window", "ticket_token")}
            return await self._pad(int(cmd.window or 0)), pad
        if actor.kind == "staff" and actor.id in self.desk_by_user:  # a window's staff member (an appeal)
            return await self._desk(self.desk_by_user[actor.id]), msg
        if actor.kind == "staff":
            return await self._staff(actor.id), msg
        if self.manager is None:
            raise RuntimeError(f"nobody to send {msg['type']} for {actor.id}")
        return await self._staff(self.manager), msg

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
            conn, sent = await self._route(req, msg)
            reply = await conn.request(sent)
            if reply.get("code") == "rating_expired" and isinstance(cmd, c.RateService):
                # the pad's minutes are over (a driver running late): the citizen rates on the phone
                token = self.status_tokens.get(cmd.ticket)
                if token is not None:
                    page = {k: v for k, v in msg.items() if k not in ("ticket", "window")}
                    reply = await (await self._page()).request({**page, "ticket_token": token})
        if isinstance(cmd, c.RateService):
            self.status_tokens.pop(cmd.ticket, None)
        if reply.get("type") != "ok":
            code = str(reply.get("code", "error"))
            if isinstance(cmd, c.IssueTicket):  # a citizen turned away (closed, full): the model counts them
                self.counts.turned_away[code] = self.counts.turned_away.get(code, 0) + 1
            elif not (
                isinstance(cmd, c.CallNext) and code == "queue_empty"
            ):  # nobody waiting: the desk idles
                self.counts.refusal(code, str(reply.get("message", "")))
            return Outcome(False, code)
        ticket = reply.get("ticket") or {}
        issued = ticket.get("issued_at")
        data: dict[str, Any] = {}
        if isinstance(cmd, c.IssueTicket):
            self.counts.issued += 1
            if ticket.get("id") and ticket.get("status_token"):
                self.status_tokens[ticket["id"]] = ticket["status_token"]
        elif isinstance(cmd, c.CallNext):
            self.counts.called += 1
        elif isinstance(cmd, c.FinishService):
            self.counts.finished += 1
        elif "case" in reply:
            self.counts.cases += 1
            data = dict(reply["case"])
        elif "rating" in reply:
            self.counts.ratings += 1
            data = dict(reply["rating"])
            if data.get("bad"):
                data.update(await self._rectification_of(int(data["rating_id"])))
        elif "rectification" in reply:
            self.counts.loop_steps += 1
            data = dict(reply["rectification"])
        return Outcome(
            True, "", ticket.get("id"), datetime.fromisoformat(issued).timestamp() if issued else None, data
        )

    async def _rectification_of(self, rating_id: int) -> dict[str, Any]:
        """The rectification the core opened for a 差评 (its owners see it in their list)."""
        if self.manager is None:
            return {}
        conn = await self._staff(self.manager)
        reply = await conn.request({"type": "list_rectifications", "open_only": True})
        for row in reply.get("rectifications", []) if reply.get("type") == "ok" else []:
            if row.get("rating_id") == rating_id:
                return {"rectification_id": row["id"], "owner_department": row.get("owner_department", "")}
        return {}

    async def _login(self, desk: int, cmd: c.StaffLogin) -> Outcome:
        conn = await self._desk(desk)
        reply = await conn.request(
            {"type": "login", "username": cmd.username, "password": self.password, "window": cmd.window}
        )
        if reply.get("type") == "ok":
            self.desk_by_user[cmd.username] = desk
            return Outcome(True)
        if reply.get("code") != "unauthenticated":
            return Outcome(False, str(reply.get("code")))
        # No such account (or another password): the desk works with a window device token.
        reply = await conn.request({"type": "auth", "token": await self.token("window", cmd.window)})
        return Outcome(reply.get("type") == "ok", str(reply.get("code", "")))

    async def close(self) -> None:
        pages = [self.page] if self.page is not None else []
        for conn in [*self.kiosks, *self.desks.values(), *self.staff.values(), *self.pads.values(), *pages]:
            with contextlib.suppress(Exception):  # closing anyway
                await conn.close()


def describe(reply: dict[str, Any]) -> str:
    """A refusal as one readable line (never the raw reply)."""
    return f"{reply.get('code', 'error')}: {reply.get('message', '')}".rstrip(": ")


def resume_point(db: Path) -> datetime | None:
    """Where a demo database's hall time stopped: the later of its last event and the hall
    clock the server stored when it stopped (``meta.hall_clock``); None for a new database.
    The clock runs on between events, so resuming from the last event alone went back in time."""
    if not db.exists():
        return None
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT at FROM events ORDER BY id DESC LIMIT 1").fetchone()
        meta = con.execute("SELECT value FROM meta WHERE key = 'hall_clock'").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        con.close()
    if row is None:
        return None
    points = [datetime.fromisoformat(row[0]) + timedelta(seconds=1)]
    with contextlib.suppress(ValueError, TypeError, KeyError):
        points.append(datetime.fromisoformat(json.loads(meta[0])["at"]) if meta else points[0])
    return max(points)


def busy_windows(db: Path) -> list[tuple[int, str, str | None, str | None]]:
    """(window, state, current ticket, its state) of the windows not closed in a database."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [
            (int(n), str(state), ticket, tstate)
            for n, state, ticket, tstate in con.execute(
                "SELECT w.number, w.state, w.current_ticket, t.state FROM windows w"
                " LEFT JOIN tickets t ON t.id = w.current_ticket WHERE w.state != 'closed' ORDER BY w.number"
            )
        ]
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


def open_cases(db: Path) -> list[dict[str, Any]]:
    """The cases of a database the back office still has to work on."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        return [
            dict(row)
            for row in con.execute(
                "SELECT receipt_no, department, promised_working_days, state, due_at FROM cases"
                " WHERE state IN ('accepted', 'in_review', 'suspended', 'decided')"
                " AND bundle_receipt IS NULL"  # a 一件事's parts are decided and handed out with it
                " AND receipt_no NOT IN (SELECT bundle_receipt FROM cases WHERE bundle_receipt IS NOT NULL)"
                " ORDER BY receipt_no"
            )
        ]
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


async def settle(backend: LiveBackend, model: HallModel, db: Path) -> int:
    """Before a resumed demo drives again: the simulated staff finish what the last run left
    at their windows (the service in progress, a call nobody answered) and close them, so the
    model (which starts its desks from a closed window) and the hall agree. Returns the number
    of windows settled; the person's free window is left as it is."""
    settled = 0
    for number, _state, ticket, tstate in busy_windows(db):
        desk = model.desks.get(number)
        if desk is None:
            continue
        conn = await backend._connect()  # the window's own device (no password: scrypt is slow)
        steps: list[dict[str, Any]] = [{"type": "auth", "token": await backend.token("window", number)}]
        if ticket is not None and tstate == "serving":
            steps.append({"type": "finish_service", "window": number})
        elif ticket is not None and tstate == "called":
            steps.append({"type": "no_show", "window": number})
        steps.append({"type": "close_window", "window": number})
        try:
            for msg in steps:
                reply = await conn.request(msg)
                if reply.get("type") != "ok":
                    backend.counts.refusal(str(reply.get("code", "error")), str(reply.get("message", "")))
                    break
        finally:
            await conn.close()
        settled += 1
    return settled


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
    on_jump: Any = None,
    adopt: list[dict[str, Any]] | None = None,
) -> None:
    """Run the model against the server, day after day, until ``stop`` is set.

    Each due step's request goes out at once, without waiting for the replies of others:
    desks and kiosks are separate clients, as in a hall. But a step is not sent more than
    ``MAX_LAG_S`` simulated seconds ahead of a request still waiting for its reply: that
    reply may schedule an earlier step (the decision of a 即办件 before the service's end, a
    rating within the pad's time), and the hall must see them in the model's order. Follow-ups
    are scheduled in model time, so a driver running late does not slow the simulated hall."""
    inflight: dict[asyncio.Task[None], float] = {}
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
    if adopt and model.cases is not None:  # the open cases of earlier runs: the back office goes on
        model.cases.adopt(adopt, start.timestamp())
    empty_days = 0
    while not stop.is_set():
        if not model.heap:
            if inflight:
                await asyncio.wait(set(inflight), timeout=0.25)
                continue
            day += timedelta(days=1)
            model.begin_day(day, tick=False)
            empty_days = empty_days + 1 if not model.heap else 0
            if empty_days > 60:
                return
            continue
        due = model.heap[0][0]
        now = clock.ts()
        if inflight and due > min(inflight.values()) + MAX_LAG_S:  # (a login holds nobody back)
            await asyncio.wait(set(inflight), timeout=0.25, return_when=asyncio.FIRST_COMPLETED)
            continue
        if due > now:
            if due - now > SKIP_IDLE_S and not inflight:
                clock.jump_to(due - 30.0)
                if on_jump is not None:  # the stored hall clock follows the jump
                    await on_jump()
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=min((due - now) / clock.speed, 0.25))
            continue
        ts, req = model.pop()
        if req is not None:
            task = asyncio.create_task(run(req, ts))
            # a login (slow: the password's scrypt) only schedules the desk's own later steps
            inflight[task] = float("inf") if isinstance(req.cmd, c.StaffLogin) else ts
            task.add_done_callback(lambda t: inflight.pop(t, None))
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
    history_days: int = 2  # a new database: working days simulated (in-process, fast) before the live day


async def _history(
    config: HallConfig, profile: Profile, calendar: WorkCalendar, opts: DemoOptions, live_day: date
) -> None:
    """A new demo database gets ``history_days`` working days before ``live_day``, simulated
    in-process (``hallops simulate``'s engine): the dashboard's trends, the back office's cases
    in review, the rectification loops and the overdue list have something to show at once."""
    from ..matters import load_matters
    from ..store import SqliteStore
    from ..store.clock import META_KEY, clock_value
    from .engine import simulate

    first = live_day
    for _ in range(opts.history_days):
        first -= timedelta(days=1)
        while not calendar.is_working_day(first):
            first -= timedelta(days=1)
    print(f"HallOps demo: simulating {opts.history_days} working days of history from {first} …", flush=True)
    t0 = time.monotonic()
    store = SqliteStore(opts.db, synchronous=opts.synchronous)
    await store.open()
    try:
        result = await simulate(
            config,
            store,
            start=first,
            days=opts.history_days,
            seed=opts.seed,
            profile=profile,
            plan=DEFAULT_PLAN,
            calendar=calendar,
            matters={m.code: m for m in load_matters()},
        )
        if result.last_day is not None:
            end = datetime.combine(result.last_day, datetime.max.time(), ZoneInfo(config.timezone))
            await store.set_meta(META_KEY, clock_value(end.replace(microsecond=0), 0.0))
    finally:
        await store.close()
    print(f"  done in {time.monotonic() - t0:.0f} s", flush=True)


def free_seats(config: HallConfig) -> tuple[int | None, str | None]:
    """The window (the highest-numbered one serving the hall's first queue) and the back-office
    account the simulator leaves to a person joining the demo."""
    first = config.queues[0].code if config.queues else None
    serving = [w.number for w in config.windows if any(wq.queue == first for wq in w.queues)]
    bo = [s.username for s in config.staff if s.role.value == "backoffice"]
    return (max(serving) if serving else None), (bo[-1] if bo else None)


async def run_demo(config: HallConfig, profile: Profile, calendar: WorkCalendar, opts: DemoOptions) -> int:
    from ..server.app import HallServer
    from ..server.auth import hash_token, new_token
    from ..store import SqliteStore
    from ..store.base import DeviceToken

    tz = ZoneInfo(config.timezone)
    if opts.fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{opts.db}{suffix}").unlink(missing_ok=True)
    last = resume_point(opts.db)
    history = False
    if last is None:
        start = first_opening(config, calendar, profile, opts.start or datetime.now(tz).date())
        resume = False
        if opts.history_days > 0:
            await _history(config, profile, calendar, opts, start.date())
            history = True
    else:
        start, resume = last.astimezone(tz), True
    clock = ScaledClock(start, opts.speed)
    store = SqliteStore(opts.db, synchronous=opts.synchronous)
    server = HallServer(config, store, host=opts.host, port=opts.port, clock=clock, calendar=calendar)
    try:
        await server.start()
    except OSError as exc:
        await store.close()
        print(f"hallops: cannot listen on {opts.host}:{opts.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1

    tokens: dict[tuple[str, int], str] = {}

    async def token(role: str, n: int) -> str:
        """A device token minted for this run: kiosk n, or window n's display, terminal or pad."""
        if (role, n) not in tokens:
            raw = new_token()
            window = None if role == "kiosk" else n
            name = f"kiosk-{n}" if role == "kiosk" else f"{role}-{n}"
            await store.add_token(
                hash_token(raw), DeviceToken(role=role, window=window, name=name), clock().isoformat()
            )
            tokens[(role, n)] = raw
        return tokens[(role, n)]

    free_window, free_backoffice = free_seats(config)
    windows = sorted(w.number for w in config.windows)
    pads = {n: await token("rating_pad", n) for n in windows}
    kiosk = await token("kiosk", 1)

    base = f"http://{opts.host}:{server.port}"
    dash: subprocess.Popen[bytes] | None = None
    dash_url = ""
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
        dash_url = f"http://{opts.host}:{opts.dashboard_port}"

    model = HallModel(
        config, config, profile, DEFAULT_PLAN, opts.seed, calendar, matters=dict(server.matters or {})
    )
    free_account = model.desks.pop(free_window).username if free_window in model.desks else None
    if model.cases is not None:  # the person's back-office account is theirs alone
        model.cases.backoffice = [s for s in model.cases.backoffice if s.username != free_backoffice]
    manager = next((s.username for s in config.staff if s.role.value == "manager"), None)
    backend = LiveBackend(
        f"ws://{opts.host}:{server.port}/ws", token, config.rules.issue_rate_per_min, password=opts.password
    )
    backend.manager = manager

    links = demo_links(
        base,
        config,
        kiosk=kiosk,
        pads=pads,
        free_window=free_window,
        free_account=free_account,
        free_backoffice=free_backoffice,
        password=opts.password,
        dashboard=dash_url,
    )
    server.http.demo_links = links
    print(f"HallOps demo · {config.name} ({config.code}) · database {opts.db}", flush=True)
    print(
        f"  simulated clock {'continues at' if resume else 'starts at'} {start:%Y-%m-%d %H:%M:%S} "
        f"and runs {opts.speed:g}× real time",
        flush=True,
    )
    for link in links:
        if link.get("hidden"):
            continue  # every pad is listed on the index page
        print(
            f"  {link['label']:<15} {link['url']}" + (f"   ({link['note']})" if link.get("note") else ""),
            flush=True,
        )
    print(f"  {'health':<15} {base}/healthz", flush=True)
    print("  (a citizen's status page is printed with the first ticket)", flush=True)
    print("Ctrl-C stops; run the same command again to continue where it stopped.", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if opts.seconds is not None:
        loop.call_later(opts.seconds, stop.set)

    code = 0
    driver: asyncio.Task[None] | None = None
    status: asyncio.Task[None] | None = None
    try:
        if resume or history:
            await settle(backend, model, opts.db)
        driver = asyncio.create_task(
            drive(
                model,
                backend,
                clock,
                stop,
                start,
                resume=resume,
                on_jump=server.write_clock,
                adopt=open_cases(opts.db) if resume or history else None,
            )
        )
        status = asyncio.create_task(_status(backend, clock, stop, base, links))
        done, _ = await asyncio.wait(
            {driver, asyncio.create_task(stop.wait())}, return_when=asyncio.FIRST_COMPLETED
        )
        if driver in done and driver.exception() is not None:
            print(f"hallops: the simulator stopped: {driver.exception()}", file=sys.stderr)
            code = 1
    except (OSError, RuntimeError) as exc:
        print(f"hallops: the simulator could not start: {exc}", file=sys.stderr)
        code = 1
    finally:
        stop.set()
        for task in (driver, status):
            if task is None:
                continue
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # shutting down
                await task
        await backend.close()
        clock.pause()
        await server.stop()
        if dash is not None:
            _stop_process(dash)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    c_ = backend.counts
    print(
        f"stopped at simulated {clock():%Y-%m-%d %H:%M:%S}: {c_.issued} tickets issued, {c_.called} called, "
        f"{c_.finished} served, {c_.cases} case steps, {c_.ratings} ratings, {c_.loop_steps} rectification "
        "steps this run",
        flush=True,
    )
    if c_.turned_away:
        away = ", ".join(f"{n} × {code}" for code, n in sorted(c_.turned_away.items()))
        print(f"  citizens turned away at the kiosk: {away}", flush=True)
    if c_.errors:
        print(f"  refused: {c_.refusals_line()}", flush=True)
    if model.unexpected:
        unexpected = ", ".join(f"{n} × {k}" for k, n in sorted(model.unexpected.items()))
        print(f"  unexpected outcomes: {unexpected}", flush=True)
    return code


def demo_links(
    base: str,
    config: HallConfig,
    *,
    kiosk: str,
    pads: dict[int, str],
    free_window: int | None,
    free_account: str | None,
    free_backoffice: str | None,
    password: str,
    dashboard: str,
) -> list[dict[str, str]]:
    """Every screen of the demo with what it needs (tokens, accounts): printed at start and
    listed by the hall index page at ``/`` (``/config.json``'s ``demo``)."""
    first = min((w.number for w in config.windows), default=1)
    shown = free_window if free_window is not None else first
    links = [
        {"label": "hall index", "url": f"{base}/", "note": "links to every screen below"},
        {"label": "wall display", "url": f"{base}/display/wall", "note": ""},
        {
            "label": "window display",
            "url": f"{base}/display/window/{first}",
            "note": f"/display/window/1…{len(config.windows)}",
        },
        {"label": "kiosk", "url": f"{base}/kiosk?token={kiosk}", "note": ""},
        {
            "label": "rating pad",
            "url": f"{base}/rate/{shown}?token={pads[shown]}",
            "note": f"window {shown}'s pad",
        },
        {
            "label": "staff terminal",
            "url": f"{base}/terminal",
            "note": (
                f"window {free_window} is yours: account {free_account}, password {password}"
                if free_window is not None and free_account
                else f"password {password}"
            ),
        },
        {
            "label": "back office",
            "url": f"{base}/backoffice",
            "note": f"account {free_backoffice}, password {password}"
            if free_backoffice
            else f"password {password}",
        },
    ]
    links.append({"label": "dashboard", "url": dashboard or "not started (--no-dashboard)", "note": ""})
    links += [
        {"label": f"rating pad {n}", "url": f"{base}/rate/{n}?token={tok}", "note": "", "hidden": "1"}
        for n, tok in sorted(pads.items())
        if n != shown
    ]
    return links


async def _status(
    backend: LiveBackend, clock: ScaledClock, stop: asyncio.Event, base: str, links: list[dict[str, str]]
) -> None:
    """Every 15 s a line of progress; once, the status page of the first ticket issued."""
    example = False
    waited = 0.0
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=0.5)
        except TimeoutError:
            waited += 0.5
        if not example and backend.status_tokens:
            token = next(iter(backend.status_tokens.values()))
            url = f"{base}/t/{token}"
            links.append({"label": "status page", "url": url, "note": "a citizen's ticket"})
            print(f"  {'status page':<15} {url}   (a citizen's ticket)", flush=True)
            example = True
        if waited >= 15.0:
            waited = 0.0
            c_ = backend.counts
            print(
                f"  [{clock():%m-%d %H:%M}] issued {c_.issued} · called {c_.called} · served {c_.finished}"
                f" · case steps {c_.cases} · ratings {c_.ratings} · loop steps {c_.loop_steps}",
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
