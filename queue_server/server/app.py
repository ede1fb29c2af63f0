"""The queue server: a thin asyncio shell around the pure hall core.

For each request: parse → validate (protocol table, role) → core → persist (one
transaction) → acknowledge the sender → broadcast to subscribers. Commands go through one
writer task, which groups the commands that arrive together into one transaction; replies
and broadcasts go out only after that transaction committed.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from .. import __version__
from ..hall import commands as c
from ..hall.config import HallConfig, StaffRole
from ..hall.errors import HallError
from ..hall.events import Event, FollowUpRated, RectificationOpened, ServiceRated, TicketIssued
from ..hall.hall import Hall
from ..hall.calendar import WorkCalendar
from ..hall.model import Case, Ticket
from ..calendar_data import load_calendar
from ..matters import load_matters
from ..passwords import verify_password
from ..recorder import batch_for, rebuild_hall
from ..store.base import DeviceToken, Store
from . import protocol as p
from .auth import hash_token, new_token
from .commands import build_command
from .fanout import Fanout, Filter, LocalFanout, encode
from .http import HttpRoutes
from ..hall.cases import department_matches as case_department_matches
from ..hall.masking import mask_id_number, mask_name, mask_phone
from ..hall.ratings import BAD_REASONS, SCORES as RATING_LEVELS

log = logging.getLogger("hallops.server")

Clock = Callable[[], datetime]


@dataclass(eq=False)
class Client:
    conn: ServerConnection
    role: str = "anonymous"
    window: int | None = None
    actor: c.Actor = field(default_factory=lambda: c.Actor(kind="anonymous", id="-"))
    token_hash: str | None = None


@dataclass(eq=False)
class _Work:
    """One item for the writer: a command, or a read that must see committed state only."""

    run: Callable[[Hall, datetime], Any]
    future: asyncio.Future[Any]
    is_read: bool = False


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
        self.hall: Hall | None = None
        self.clients: dict[ServerConnection, Client] = {}
        self.max_batch = max_batch
        self.started_monotonic = time.monotonic()
        self.http = HttpRoutes(self, static_dir)
        self._queue: asyncio.Queue[_Work] = asyncio.Queue()
        self._issued_by_kiosk: dict[str, deque[float]] = {}  # monotonic issue times per kiosk token
        self._writer: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._server: Server | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        await self.store.open()
        if self.calendar is None:
            self.calendar = load_calendar()
        if self.matters is None:
            self.matters = {m.code: m for m in load_matters()}
        self.hall = await self._rebuild()
        self._writer = asyncio.create_task(self._write_loop(), name="hallops-writer")
        self._ticker = asyncio.create_task(self._tick_loop(), name="hallops-ticker")
        self._server = await serve(
            self._handle_connection, self.host, self.port,
            process_request=self.http.process_request,
            compression=None,  # LAN displays: compression costs memory and CPU per connection
            max_size=p.TRANSPORT_MAX_BYTES,
            ping_interval=20, ping_timeout=20,
            write_limit=2**16,
            open_timeout=3,  # a browser's spare idle connection must not hold up stop()
        )
        sock = next(iter(self._server.sockets))
        self.port = sock.getsockname()[1]
        self.started_monotonic = time.monotonic()
        if self.hall.cases or self.hall.rectifications:
            # calendar data may have arrived since the deadlines were computed (a provisional
            # year published): recompute them once, as one command
            await self.submit(lambda hall, now: {"_events": hall.handle(c.RecomputeDeadlines(), now)})
        log.info("HallOps %s serving %s on ws://%s:%s/ws", __version__, self.config.code, self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in (self._ticker, self._writer):
            if task is not None:
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
        await self.store.close()

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    async def _rebuild(self) -> Hall:
        return rebuild_hall(self.config, await self.store.load(), calendar=self.calendar, matters=self.matters)

    # ------------------------------------------------------------------ writer

    def now(self) -> datetime:
        return self.clock().astimezone(self.tz)

    async def submit(self, run: Callable[[Hall, datetime], Any], *, is_read: bool = False) -> Any:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Work(run, fut, is_read))
        return await fut

    async def _write_loop(self) -> None:
        while True:
            first = await self._queue.get()
            items = [first]
            while not first.is_read and len(items) < self.max_batch and not self._queue.empty():
                nxt = self._queue.get_nowait()
                items.append(nxt)
                if nxt.is_read:
                    break
            await self._run_batch(items)

    async def _run_batch(self, items: list[_Work]) -> None:
        hall = self.hall
        assert hall is not None
        now = self.now()
        events: list[Event] = []
        results: list[tuple[_Work, bool, Any]] = []
        reads = [w for w in items if w.is_read]
        for work in items:
            if work.is_read:
                continue
            try:
                value = work.run(hall, now)
                produced = value.pop("_events", []) if isinstance(value, dict) else []
                events.extend(produced)
                results.append((work, True, value))
            except HallError as err:
                events.extend(getattr(err, "events", []))
                results.append((work, False, err))
            except Exception as exc:  # noqa: BLE001 - a bug must not kill the writer
                # The core may have half-applied this command: drop the in-memory state,
                # fail this command, and run the rest of the batch again on rebuilt state.
                log.exception("command failed unexpectedly; rebuilding state from the database")
                hall.take_changes()
                self.hall = await self._rebuild()
                work.future.set_exception(exc)
                await self._run_batch([w for w in items if w is not work])
                return
        batch = batch_for(hall, events)
        if batch.has_writes:
            try:
                await self.store.commit(batch)
            except Exception as exc:  # noqa: BLE001
                log.exception("commit failed; rebuilding state from the database")
                self.hall = await self._rebuild()
                for work, _, _ in results:
                    if not work.future.done():
                        work.future.set_exception(HallError("storage_failed", f"the database refused the change: {exc}"))
                for work in reads:
                    self._run_read(work)
                return
        for work, good, value in results:
            if work.future.done():
                continue
            if good:
                work.future.set_result(value)
            else:
                work.future.set_exception(value)
        if events:
            # Let the senders' replies go out first; then announce, one event at a time,
            # yielding between events so a long batch never blocks the loop for long.
            await asyncio.sleep(0)
            views: dict[str, dict[str, Any] | None] = {}

            def ticket_view(tid: str) -> dict[str, Any] | None:
                if tid not in views:
                    views[tid] = hall.ticket_view(tid, now)
                return views[tid]

            for ev in events:
                self.fanout.publish([hall.describe(ev, now)], ticket_view=ticket_view)
                views.clear()
                if len(events) > 1:
                    await asyncio.sleep(0)
        for work in reads:
            self._run_read(work)

    def _run_read(self, work: _Work) -> None:
        try:
            work.future.set_result(work.run(self.hall, self.now()))  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001
            work.future.set_exception(exc)

    async def _tick_loop(self) -> None:
        """The core's only timer: roll over to a new service day at local midnight."""
        while True:
            await asyncio.sleep(30)
            await self.submit(lambda hall, now: {"_events": hall.handle(c.Tick(), now)})

    # ------------------------------------------------------------------ connections

    async def _handle_connection(self, conn: ServerConnection) -> None:
        client = Client(conn=conn)
        self.clients[conn] = client
        try:
            async for raw in conn:
                reply = await self._handle_message(client, raw)
                if reply is not None:
                    await conn.send(encode(reply))
        except ConnectionClosed:
            pass
        finally:
            self.fanout.unsubscribe(conn)
            self.clients.pop(conn, None)

    async def _handle_message(self, client: Client, raw: str | bytes) -> dict[str, Any] | None:
        rid: Any = None
        try:
            rid, msg = p.parse_request(raw)
            spec = p.validate(msg, client.role)
            handler = getattr(self, f"_on_{spec.type}")
            return await handler(client, rid, msg)
        except p.ProtocolError as err:
            return p.error(rid, err.code, err.message)
        except HallError as err:
            return p.error(rid, err.code, err.message)
        except Exception:  # noqa: BLE001 - a bug answers this request, never kills the connection
            log.exception("internal error on %r", raw[:200])
            return p.error(rid, "internal_error", "the server failed on this request; nothing was changed")

    # ------------------------------------------------------------------ session messages

    async def _on_ping(self, client: Client, rid: Any, msg: dict[str, Any]) -> dict[str, Any]:
        return p.ok(rid, server_time=self.now().isoformat(), version=__version__)

    async def _on_auth(self, client: Client, rid: Any, msg: dict[str, Any]) -> dict[str, Any]:
        tok = await self.store.find_token(hash_token(msg["token"]))
        if tok is None:
            raise p.ProtocolError("unauthenticated", "unknown or revoked token")
        self._become(client, tok, hash_token(msg["token"]))
        return p.ok(rid, role=client.role, window=client.window, name=tok.name)

    def _become(self, client: Client, tok: DeviceToken, token_hash: str) -> None:
        client.role = tok.role
        client.window = tok.window
        client.token_hash = token_hash
        if tok.username:
            account = self.config.staff_account(tok.username)
            client.actor = c.Actor(kind="staff", id=tok.username, name=account.name if account else tok.name)
        else:
            client.actor = c.Actor(kind="device", id=tok.name, name=tok.name)

    async def _on_login(self, client: Client, rid: Any, msg: dict[str, Any]) -> dict[str, Any]:
        account = self.config.staff_account(msg["username"])
        if account is None or not verify_password(msg["password"], account.password_hash):
            raise p.ProtocolError("unauthenticated", "wrong username or password")
        window = msg.get("window")
        if account.role is StaffRole.WINDOW and window is None:
            raise p.ProtocolError("missing_field", "window staff must say which window they work at")
        role = account.role.value
        if window is not None:
            hall = self.hall
            assert hall is not None
            hall.window(window)  # unknown_window before anything is written
            actor = c.Actor(kind="staff", id=account.username, name=account.name)
            await self.submit(lambda h, now: {"_events": h.handle(
                c.StaffLogin(window=window, username=account.username, name=account.name), now, actor)})
            if role == StaffRole.BACKOFFICE.value:
                role = "window"
        token = new_token()
        tok = DeviceToken(role=role, window=window, name=account.name, username=account.username)
        await self.store.add_token(hash_token(token), tok, self.now().isoformat())
        self._become(client, tok, hash_token(token))
        return p.ok(rid, token=token, role=client.role, window=window, name=account.name)

    async def _on_logout(self, client: Client, rid: Any, msg: dict[str, Any]) -> dict[str, Any]:
        if client.window is not None and client.actor.kind == "staff":
            window, actor = client.window, client.actor
            hall = self.hall
            assert hall is not None
            if hall.windows[window].staff == actor.id:
                await self.submit(lambda h, now: {"_events": h.handle(c.StaffLogout(window=window), now, actor)})
        if client.token_hash and client.actor.kind == "staff":
            await self.store.revoke_token(client.token_hash, self.now().isoformat())
        client.role, client.window, client.token_hash = "anonymous", None, None
        client.actor = c.Actor(kind="anonymous", id="-")
        return p.ok(rid)

    async def _on_subscribe(self, client: Client, rid: Any, msg: dict[str, Any]) -> dict[str, Any]:
        flt, ticket_id = self._filter_from(client, msg)
        conn = client.conn

        def read(hall: Hall, now: datetime) -> None:
            self.fanout.subscribe(conn, flt, ticket_id, hall.public_state(now))

        await self.submit(read, is_read=True)
        return p.ok(rid, subscribed=True)

    async def _on_resync(self, client: Client, rid: Any, msg: dict[str, Any]) -> dict[str, Any]:
        last = getattr(client, "_last_filter", None)
        # never subscribed: the same checks as a plain subscribe (display token and all)
        flt, ticket_id = last if last is not None else self._filter_from(client, {})
        conn = client.conn
        await self.submit(lambda hall, now: self.fanout.subscribe(conn, flt, ticket_id, hall.public_state(now)),
                          is_read=True)
        return p.ok(rid, resynced=True)

    def _filter_from(self, client: Client, msg: dict[str, Any]) -> tuple[Filter, str | None]:
        hall = self.hall
        assert hall is not None
        token = msg.get("ticket_token")
        if token is not None:
            t = hall.ticket_by_token(token)
            if t is None:
                raise p.ProtocolError("unknown_ticket", "no ticket with that status token today")
            result: tuple[Filter, str | None] = (Filter(ticket_token=token), t.id)
        else:
            if self.config.require_display_token and client.role == "anonymous":
                raise p.ProtocolError("display_token_required", "this hall requires a display token: auth first")
            queues = msg.get("queues")
            windows = msg.get("windows")
            zone = msg.get("zone")
            if queues is not None:
                if not all(isinstance(q, str) for q in queues):
                    raise p.ProtocolError("invalid_field", "queues must be a list of queue codes")
                for q in queues:
                    if self.config.queue(q) is None:
                        raise p.ProtocolError("unknown_queue", f"no queue {q} in this hall")
            if windows is not None:
                if not all(isinstance(w, int) and not isinstance(w, bool) for w in windows):
                    raise p.ProtocolError("invalid_field", "windows must be a list of window numbers")
                for w in windows:
                    hall.window(w)
            if zone is not None:
                zone_windows = [w for w in self.config.windows if w.zone == zone]
                if not zone_windows:
                    raise p.ProtocolError("invalid_field", f"no window in zone {zone!r}")
                windows = sorted({*(windows or []), *(w.number for w in zone_windows)})
                queues = sorted({*(queues or []), *(wq.queue for w in zone_windows for wq in w.queues)})
            result = (Filter(queues=frozenset(queues) if queues is not None else None,
                             windows=frozenset(windows) if windows is not None else None,
                             staff=client.role in p.STAFF_ROLES), None)
        client._last_filter = result  # type: ignore[attr-defined]
        return result

    # ------------------------------------------------------------------ hall commands

    def _check_window(self, client: Client, window: int) -> None:
        if client.role == "window" and client.window != window:
            raise p.ProtocolError("not_your_window", f"this terminal works at window {client.window}, not {window}")

    def _check_ticket(self, client: Client, ticket_ref: str) -> None:
        """A window may touch the ticket at its counter or tickets of the queues it serves."""
        if client.role != "window":
            return
        hall = self.hall
        assert hall is not None
        t = hall.find_ticket(ticket_ref)
        if t.active and t.window == client.window:
            return
        wcfg = self.config.window(client.window or 0)
        served = {wq.queue for wq in wcfg.queues} if wcfg else set()
        if not t.active and (t.queue in served or t.target_window == client.window):
            return
        raise p.ProtocolError("not_your_window", f"{t.number} is not at or for window {client.window}")

    async def _command(self, client: Client, rid: Any, cmd: Any, reply: Callable[[Hall, list[Event]], dict[str, Any]]) -> dict[str, Any]:
        actor = client.actor

        def run(hall: Hall, now: datetime) -> dict[str, Any]:
            events = hall.handle(cmd, now, actor)
            return {"_events": events, **reply(hall, events)}

        return p.ok(rid, **await self.submit(run))

    async def _on_issue_ticket(self, client: Client, rid: Any, msg: dict[str, Any]) -> dict[str, Any]:
        if client.role == "kiosk":
            # per kiosk token, so reconnecting does not reset the count
            recent = self._issued_by_kiosk.setdefault(client.token_hash or "", deque())
            limit = self.config.rules.issue_rate_per_min
            now_m = time.monotonic()
            while recent and now_m - recent[0] > 60:
                recent.popleft()
            if len(recent) >= limit:
                raise p.ProtocolError("rate_limited", f"this kiosk may issue {limit} tickets a minute; try again shortly")
            recent.append(now_m)
        cmd = build_command(msg, self.tz, status_token=secrets.token_urlsafe(16))

        def reply(hall: Hall, events: list[Event]) -> dict[str, Any]:
            ev = events[-1]
            assert isinstance(ev, TicketIssued) and ev.ticket is not None
            t = hall.tickets[ev.ticket]
            view = t.public()
            view.update(position=ev.position, estimated_wait_s=ev.estimated_wait_s,
                        status_token=t.status_token, queue_name=hall.config.queue(t.queue).name)  # type: ignore[union-attr]
            return {"ticket": view}

        return await self._command(client, rid, cmd, reply)

    async def _window_command(self, client: Client, rid: Any, msg: dict[str, Any]) -> dict[str, Any]:
        self._check_window(client, msg["window"])
        cmd = build_command(msg, self.tz)
        window = msg["window"]

        def reply(hall: Hall, events: list[Event]) -> dict[str, Any]:
            out: dict[str, Any] = {"window": hall.window_view(window)}
            tid = next((e.ticket for e in reversed(events) if e.ticket), None)
            if tid and tid in hall.tickets:
                out["ticket"] = self._ticket_detail(client, hall.tickets[tid])
            return out

        return await self._command(client, rid, cmd, reply)

    _on_call_next = _on_call_ticket = _on_recall = _window_command
    _on_start_service = _on_finish_service = _on_no_show = _window_command
    _on_open_window = _on_pause_window = _on_resume_window = _on_close_window = _window_command

    async def _ticket_command(self, client: Client, rid: Any, msg: dict[str, Any]) -> dict[str, Any]:
        self._check_ticket(client, msg["ticket"])
        if msg.get("to_window") is not None:
            assert self.hall is not None
            self.hall.window(msg["to_window"])
        cmd = build_command(msg, self.tz)

        def reply(hall: Hall, events: list[Event]) -> dict[str, Any]:
            tid = next((e.ticket for e in reversed(events) if e.ticket), None)
            return {"ticket": hall.tickets[tid].public()} if tid and tid in hall.tickets else {}

        return await self._command(client, rid, cmd, reply)

    _on_reactivate = _on_transfer = _on_cancel_ticket = _on_check_in = _ticket_command

    async def _on_get_ticket(self, client: Client, rid: Any, msg: dict[str, Any]) -> dict[str, Any]:
        hall = self.hall
        assert hall is not None
        t = hall.find_ticket(msg["ticket"])
        return p.ok(rid, ticket=self._ticket_detail(client, t))

    def _ticket_detail(self, client: Client, t: Ticket) -> dict[str, Any]:
        """Full applicant data only for the window the ticket is at; masked for everyone else."""
        view = t.public()
        if client.role in ("window", "manager") and client.window is not None and t.active and t.window == client.window:
            view["applicant"] = {"name": t.applicant_name, "phone": t.applicant_phone, "id_number": t.applicant_id}
        else:
            from ..hall.masking import mask_id_number, mask_name, mask_phone

            view["applicant"] = {"name": mask_name(t.applicant_name), "phone": mask_phone(t.applicant_phone),
                                 "id_number": mask_id_number(t.applicant_id)}
        view["note"] = t.note
        return view

    # ------------------------------------------------------------------ cases (办件)

    def _scope(self, client: Client) -> str | None:
        """The department a back-office connection acts for; None (all) for the others."""
        if client.role != "backoffice":
            return None
        account = self.config.staff_account(client.actor.id)
        return account.department if account is not None and account.department else "(no department)"

    def _case_detail(self, client: Client, hall: Hall, case: Case, now: datetime) -> dict[str, Any]:
        """The masked case view, with the applicant's full data only for the back office of
        its department, managers, and the window serving the case's ticket."""
        view = hall.case_view(case, now)
        window_serving = (client.role == "window" and client.window is not None
                          and hall.windows[client.window].current_ticket in (case.ticket, case.delivery_ticket))
        if client.role == "manager" or window_serving or (
                client.role == "backoffice" and case_department_matches(self._scope(client), case.department)):
            view["applicant"] = {"name": case.applicant_name, "phone": case.applicant_phone,
                                 "id_number": case.applicant_id}
        else:
            view["applicant"] = {"name": mask_name(case.applicant_name), "phone": mask_phone(case.applicant_phone),
                                 "id_number": mask_id_number(case.applicant_id)}
        return view

    async def _case_command(self, client: Client, rid: Any, msg: dict[str, Any]) -> dict[str, Any]:
        window = msg.get("window")
        if window is not None:
            self._check_window(client, window)
        if client.role == "window" and msg["type"] in ("decide_case", "deliver_case") and window is None \
                and msg.get("method") != "post":
            raise p.ProtocolError("missing_field", f"{msg['type']} from a window needs its window")
        cmd = build_command(msg, self.tz, scope=self._scope(client))

        def reply(hall: Hall, events: list[Event]) -> dict[str, Any]:
            receipt = msg.get("receipt_no") or next(
                (e.receipt_no for e in reversed(events) if getattr(e, "receipt_no", None)), None)
            case = hall.cases.get(receipt) if receipt else None
            return {"case": self._case_detail(client, hall, case, self.now())} if case else {}

        return await self._command(client, rid, cmd, reply)

    _on_accept_case = _on_reject_case = _on_request_materials = _on_resume_case = _case_command
    _on_supply_materials = _on_start_review = _on_suspend_case = _on_resume_review = _case_command
    _on_extend_case = _on_decide_case = _on_deliver_case = _case_command

    async def _on_get_case(self, client: Client, rid: Any, msg: dict[str, Any]) -> dict[str, Any]:
        receipt = msg["receipt_no"].strip().upper()

        def read(hall: Hall, now: datetime) -> dict[str, Any] | None:
            case = hall.cases.get(receipt)
            return self._case_detail(client, hall, case, now) if case else None

        view = await self.submit(read, is_read=True)
        if view is None:  # a case finished on an earlier day: from the database
            row = await self.store.find_case(receipt)
            if row is None:
                raise HallError("unknown_case", f"no case {receipt}")
            hall = self.hall
            assert hall is not None
            view = self._case_detail(client, hall, Case.from_row(row), self.now())
        return p.ok(rid, case=view)

    async def _on_list_cases(self, client: Client, rid: Any, msg: dict[str, Any]) -> dict[str, Any]:
        department = msg.get("department")
        scope = self._scope(client)
        if scope is not None:
            if department is not None and not case_department_matches(scope, department):
                raise HallError("not_your_department", f"the back office of {scope} sees its own cases only")
            department = scope
        states = msg.get("states")
        if states is not None and not all(isinstance(x, str) for x in states):
            raise p.ProtocolError("invalid_field", "states must be a list of case states")
        cases = await self.submit(lambda hall, now: hall.list_cases(now, department=department, states=states),
                                  is_read=True)
        return p.ok(rid, cases=cases, department=department, due_soon_hours=self.config.rules.due_soon_hours)

    async def _on_list_matters(self, client: Client, rid: Any, msg: dict[str, Any]) -> dict[str, Any]:
        linked: dict[str, list[str]] = {}
        for q in self.config.queues:
            for code in q.matters:
                linked.setdefault(code, []).append(q.code)
        matters = [{
            "code": m.code, "name": m.name, "department": m.department, "field": m.field,
            "window_kind": str(m.window_kind), "case_type": str(m.case_type),
            "promised_working_days": m.promised_working_days, "statutory_working_days": m.statutory_working_days,
            "one_window": m.one_window, "queues": linked.get(m.code, []),
        } for m in (self.matters or {}).values()]
        return p.ok(rid, matters=matters, suspension_reasons=list(c.SUSPENSION_REASONS))

    # ------------------------------------------------------------------ 好差评

    async def _on_get_rateable_service(self, client: Client, rid: Any, msg: dict[str, Any]) -> dict[str, Any]:
        window = client.window
        if window is None:
            raise p.ProtocolError("not_your_window", "this rating pad is not bound to a window")
        service = await self.submit(lambda hall, now: hall.rateable_service(window, now), is_read=True)
        return p.ok(rid, window=window, service=service, **self._rating_choices())

    def _rating_choices(self) -> dict[str, Any]:
        return {"levels": {str(k): v for k, v in RATING_LEVELS.items()}, "reasons": list(BAD_REASONS)}

    async def _on_get_rating(self, client: Client, rid: Any, msg: dict[str, Any]) -> dict[str, Any]:
        token = msg["ticket_token"]
        status = await self.submit(lambda hall, now: hall.rating_status(token), is_read=True)
        return p.ok(rid, rating=status, **self._rating_choices())

    async def _on_rate_service(self, client: Client, rid: Any, msg: dict[str, Any]) -> dict[str, Any]:
        pad_window = client.window if client.role == "rating_pad" else None
        if client.role == "rating_pad" and pad_window is None:
            raise p.ProtocolError("not_your_window", "this rating pad is not bound to a window")
        cmd = build_command(msg, self.tz, pad_window=pad_window)

        def reply(hall: Hall, events: list[Event]) -> dict[str, Any]:
            rated = next(e for e in events if isinstance(e, ServiceRated))  # (after a day roll-over, if any)
            out: dict[str, Any] = {"rating": {"rating_id": rated.rating_id, "score": rated.score,
                                              "level": rated.level, "bad": rated.bad}}
            opened = [e for e in events if isinstance(e, RectificationOpened)]
            if opened:  # the rater learns when to expect a call, nothing about staff
                out["rating"]["contact_due"] = opened[0].contact_due.isoformat()
            return out

        return await self._command(client, rid, cmd, reply)

    async def _on_follow_up_rating(self, client: Client, rid: Any, msg: dict[str, Any]) -> dict[str, Any]:
        cmd = build_command(msg, self.tz)

        def reply(hall: Hall, events: list[Event]) -> dict[str, Any]:
            ev = events[-1]
            assert isinstance(ev, FollowUpRated)
            return {"rating": {"rating_id": ev.rating_id, "score": ev.score, "level": ev.level,
                               "follow_up_of": ev.follow_up_of}}

        return await self._command(client, rid, cmd, reply)

    async def _on_list_rectifications(self, client: Client, rid: Any, msg: dict[str, Any]) -> dict[str, Any]:
        department = msg.get("department")
        scope = self._scope(client)
        if scope is not None:
            if department is not None and not case_department_matches(scope, department):
                raise HallError("not_your_department", f"the back office of {scope} sees its own rectifications only")
            department = scope
        open_only = bool(msg.get("open_only", False))
        rows = await self.submit(
            lambda hall, now: hall.list_rectifications(now, department=department, open_only=open_only), is_read=True)
        return p.ok(rid, rectifications=rows, department=department, due_soon_hours=self.config.rules.due_soon_hours)

    async def _rectification_command(self, client: Client, rid: Any, msg: dict[str, Any]) -> dict[str, Any]:
        staff = client.actor.id if client.role == "window" and client.actor.kind == "staff" else ""
        if client.role == "window" and msg["type"] == "appeal_rating" and not staff:
            raise p.ProtocolError("forbidden", "an appeal comes from the staff member rated, not from a device")
        cmd = build_command(msg, self.tz, scope=self._scope(client), staff=staff)
        number, window = msg["rectification"], client.window
        role = client.role

        def run(hall: Hall, now: datetime) -> dict[str, Any]:
            if role == "window" and msg["type"] == "resolve_on_the_spot":
                r = hall.rectification(number)
                if r.window != window:
                    raise HallError("not_your_window", f"rectification {number} is about window {r.window}")
            events = hall.handle(cmd, now, client.actor)
            r = hall.rectifications.get(number)
            return {"_events": events, **({"rectification": hall.rectification_view(r, now)} if r else {})}

        return p.ok(rid, **await self.submit(run))

    _on_contact_rater = _on_rectify = _on_revisit = _on_resolve_on_the_spot = _rectification_command
    _on_explain_rating = _on_appeal_rating = _on_decide_appeal = _rectification_command

    # ------------------------------------------------------------------ health

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
