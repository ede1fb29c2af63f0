"""The simulated hall: citizens and staff as a discrete-event model, and the in-process driver.

``HallModel`` holds a heap of timed steps. A step may produce a ``Request``: a hall command,
who sends it (a kiosk, the staff member of a desk, the system) and what to do with the
outcome. The model never looks inside the hall; it only learns what a client would learn
from the reply (the ticket called, or an error code such as ``queue_empty``). So the same
model drives

* the hall core in-process (``simulate``: ``Hall.handle`` → ``recorder.batch_for`` →
  ``SqliteStore.commit``, one transaction per simulated minute or per ``batch_events``
  events, like the server's writer), and
* a running server over the websocket protocol (``live.run_live``, ``hallops demo``).

A desk is one staff member at one physical window. Through the day it follows its
sessions (``plan.Session``): log in before opening, open, call the next ticket whenever
free, wait for the citizen to walk up (or recall, then mark no-show), serve, finish or
transfer, take an occasional short break, pause for lunch (午休) once the morning queue is
served out, and close and log out at the end of the day.
"""

from __future__ import annotations

import heapq
import random
import time as _time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..hall import commands as c
from ..hall.calendar import WorkCalendar
from ..hall.config import HallConfig
from ..hall.errors import HallError
from ..hall.events import Event
from ..hall.hall import Hall
from ..recorder import batch_for, rebuild_hall
from ..store.base import Store
from .arrivals import (
    Citizen,
    DayKind,
    absent_probability,
    base_rates,
    day_citizens,
    day_kind,
    lognormal,
    midnight_ts,
)
from .behaviour.profile import Profile
from .cases import CaseBehaviour
from .plan import StaffingPlan, desk_accounts
from .steps import Desk, Outcome, Request

KIOSK = c.Actor(kind="device", id="kiosk-1", name="kiosk-1")
LUNCH = "午休"
BREAK = "临时离开"
AWAY = "暂停服务"
TRANSFER_REASON = "非本窗口事项,转分领域窗口办理"


class HallModel:
    """Citizens and staff of a hall; steps on a heap, requests out, outcomes in."""

    def __init__(
        self,
        config: HallConfig,  # the simulated hall (the plan's extra windows included)
        base_config: HallConfig,  # the hall the arrivals are derived from
        profile: Profile,
        plan: StaffingPlan,
        seed: int,
        calendar: WorkCalendar,
        matters: dict[str, Any] | None = None,
    ) -> None:
        """``matters`` (code → ``queue_server.matters.Matter``) switches on cases and ratings
        (``queue_server.sim.cases``) when the hall core has them."""
        self.config = config
        self.base_config = base_config
        self.profile = profile
        self.plan = plan
        self.seed = seed
        self.calendar = calendar
        self.tz = ZoneInfo(config.timezone)
        self.rates = base_rates(base_config, profile)
        self.max_recalls = max(0, min(profile.recalls, config.rules.recall_limit))
        accounts = desk_accounts(config, plan.desks(base_config))
        self.desks: dict[int, Desk] = {}
        for n in plan.desks(base_config):
            username, name = accounts[n]
            speed_rng = random.Random(f"{seed}:desk:{n}")
            self.desks[n] = Desk(
                number=n,
                username=username,
                name=name,
                speed=lognormal(speed_rng, 1.0, profile.staff_speed_sigma),
            )
        self.by_ticket: dict[str, Citizen] = {}
        self.citizens: list[Citizen] = []
        self.turned_away: Counter[str] = Counter()
        self.unexpected: Counter[str] = Counter()
        self.heap: list[tuple[float, int, Callable[..., Request | None], tuple[Any, ...]]] = []
        self._seq = 0
        self._queues = {q.code: q for q in config.queues}
        self._day: date | None = None
        self.cases: CaseBehaviour | None = CaseBehaviour(self, matters) if matters else None

    # ------------------------------------------------------------------ the heap

    def push(self, ts: float, fn: Callable[..., Request | None], *args: Any) -> None:
        self._seq += 1
        heapq.heappush(self.heap, (ts, self._seq, fn, args))

    def next_ts(self) -> float | None:
        return self.heap[0][0] if self.heap else None

    def pop(self) -> tuple[float, Request | None]:
        ts, _, fn, args = heapq.heappop(self.heap)
        return ts, fn(ts, *args)

    # ------------------------------------------------------------------ a day

    def begin_day(self, day: date, *, from_ts: float | None = None, tick: bool = True) -> DayKind:
        """Put the day's steps on the heap. ``from_ts``: resume a day part-way (live demo)."""
        kind = day_kind(day, self.calendar, self.profile)
        self._day = day
        midnight = midnight_ts(day, self.tz)
        self.by_ticket = {}
        if tick and from_ts is None:
            self.push(midnight + 5.0, self._tick)
        self.citizens = day_citizens(
            self.base_config, self.profile, kind, self.seed, self.rates, self.config.rules.recall_limit
        )
        if self.cases is not None:
            self.citizens = take_places(self.citizens, self.cases.begin_day(day, kind))
        for cit in self.citizens:
            if from_ts is None or cit.arrive_ts >= from_ts:
                self.push(cit.arrive_ts, self._arrive, cit)
        sessions = self.plan.sessions(self.config, day) if kind.factor > 0 else {}
        for n, desk in self.desks.items():
            desk.rng = random.Random(f"{self.seed}:{day.isoformat()}:desk:{n}")
            desk.midnight = midnight
            desk.idx = -1
            desk.phase = "off"
            desk.cit = None
            desk.sessions = [
                s for s in sessions.get(n, []) if from_ts is None or desk.ts(s.end_min) > from_ts
            ]
            if not desk.sessions:
                continue
            first = desk.sessions[0]
            lead = desk.rng.uniform(self.profile.login_lead_min_s, self.profile.login_lead_max_s)
            at = desk.ts(first.start_min) - lead
            if from_ts is not None:
                at = max(at, from_ts + desk.rng.uniform(0.0, 20.0))
            self.push(at, self._begin, desk, 0)
        return kind

    def _tick(self, ts: float) -> Request:
        return Request(c.Tick(), c.SYSTEM)

    # ------------------------------------------------------------------ citizens

    def _arrive(self, ts: float, cit: Citizen) -> Request:
        applicant = c.Applicant(name=cit.name, phone=cit.phone) if cit.name else None
        cmd = c.IssueTicket(
            queue=cit.queue,
            channel=cit.channel,
            priority=cit.priority,
            appointment_slot=datetime.fromtimestamp(cit.slot_ts, self.tz)
            if cit.slot_ts is not None
            else None,
            applicant=applicant,
        )

        def then(out: Outcome, ts: float) -> None:
            if not out.ok or out.ticket is None:
                self.turned_away[out.code or "unknown"] += 1
                return
            cit.ticket = out.ticket
            cit.wait_since = ts
            self.by_ticket[out.ticket] = cit
            self._wake(ts, cit.queue)

        return Request(cmd, KIOSK, then=then)

    def _citizen_for(self, ticket: str, desk: Desk, out: Outcome, ts: float) -> Citizen:
        cit = self.by_ticket.get(ticket)
        if cit is not None:
            return cit
        # A ticket this model did not issue (the demo resumed on a database): someone who
        # is there and needs an ordinary service of the window's first queue.
        queue = desk.session.queues[0]
        cit = Citizen(
            key=f"resumed/{ticket}",
            arrive_ts=out.issued_ts or ts,
            queue=queue,
            priority=c.Priority.NORMAL,
            channel=c.Channel.KIOSK,
            slot_ts=None,
            service_s=lognormal(
                desk.rng, self.profile.service_mean_s.get(queue, 300.0), self.profile.service_sigma
            ),
            walk_s=lognormal(desk.rng, self.profile.walk_mean_s, self.profile.walk_sigma),
            absent_u=1.0,
            late_after=0,
            return_after_s=None,
            transfer_to=None,
            transfer_service_s=0.0,
            ticket=ticket,
            wait_since=out.issued_ts or ts,
        )
        self.by_ticket[ticket] = cit
        return cit

    def _wake(self, ts: float, queue: str) -> None:
        """Idle desks serving ``queue`` call again after a short reaction time."""
        for n in sorted(self.desks):
            desk = self.desks[n]
            if desk.phase == "idle" and queue in desk.session.queues:
                desk.phase = "ready"
                self.push(ts + desk.rng.uniform(3.0, 15.0), self._call, desk)

    # ------------------------------------------------------------------ a desk's day

    def _begin(self, ts: float, desk: Desk, i: int) -> Request | None:
        desk.idx = i
        s = desk.session
        self.push(max(ts, desk.ts(s.end_min)), self._session_end, desk, i)
        if desk.logical == s.window:
            return self._open(ts, desk)
        cmd = c.StaffLogin(window=s.window, username=desk.username, name=desk.name)

        def then(out: Outcome, ts: float) -> None:
            if not out.ok:
                self.unexpected[f"login:{out.code}"] += 1
                desk.phase = "off"
                return
            if desk.logical != s.window:
                desk.wstate = "closed"
            desk.logical = s.window
            at = desk.ts(s.start_min) + desk.rng.uniform(-30.0, 60.0) if i == 0 else ts + 5.0
            self.push(max(ts + 1.0, at), self._open, desk)

        return Request(cmd, desk.actor, desk.number, then)

    def _open(self, ts: float, desk: Desk) -> Request | None:
        window = desk.session.window
        if desk.wstate == "open":
            self._ready(ts, desk)
            return None
        cmd: Any = c.OpenWindow(window=window) if desk.wstate == "closed" else c.ResumeWindow(window=window)

        def then(out: Outcome, ts: float) -> None:
            if out.ok or out.code == "illegal_transition":
                # illegal_transition: a resumed demo finds the window already open or paused
                if not out.ok and isinstance(cmd, c.OpenWindow):
                    desk.wstate = "paused"
                    self.push(ts + 1.0, self._open, desk)
                    return
                desk.wstate = "open"
                self._ready(ts, desk)
            else:
                self.unexpected[f"open:{out.code}"] += 1

        return Request(cmd, desk.actor, desk.number, then)

    def _ready(self, ts: float, desk: Desk) -> None:
        desk.phase = "ready"
        self.push(ts + desk.rng.uniform(2.0, 10.0), self._call, desk)

    def _call(self, ts: float, desk: Desk) -> Request | None:
        if desk.phase != "ready":
            return None
        s = desk.session
        if ts >= desk.ts(s.end_min) and not s.drain:
            return self._end_session(ts, desk)

        def then(out: Outcome, ts: float) -> None:
            if out.ok and out.ticket is not None:
                desk.phase = "busy"
                cit = desk.cit = self._citizen_for(out.ticket, desk, out, ts)
                desk.recalls = 0
                present = (
                    cit.transferred
                    or cit.returned
                    or (cit.absent_u >= absent_probability(self.profile, ts - cit.wait_since))
                )
                if present:
                    self.push(ts + cit.walk_s, self._start, desk)
                elif self.max_recalls > 0:
                    self.push(ts + self._recall_gap(desk), self._recall, desk)
                else:
                    self.push(ts + self._recall_gap(desk), self._no_show, desk)
            elif out.code == "queue_empty":
                if ts >= desk.ts(s.end_min):
                    self.push(ts, self._end_step, desk)
                else:
                    desk.phase = "idle"
            elif out.code == "window_busy":
                self.push(ts + 1.0, self._recover, desk, 0)
            elif out.code == "window_not_open":
                desk.wstate = "closed"
                self.push(ts + 1.0, self._open, desk)
            else:
                self.unexpected[f"call_next:{out.code}"] += 1
                desk.phase = "idle"

        return Request(c.CallNext(window=s.window), desk.actor, desk.number, then)

    def _recall_gap(self, desk: Desk) -> float:
        return desk.rng.uniform(0.7, 1.3) * self.profile.recall_gap_s

    def _recall(self, ts: float, desk: Desk) -> Request:
        cit = desk.cit
        assert cit is not None

        def then(out: Outcome, ts: float) -> None:
            desk.recalls += 1
            if cit.late_after == desk.recalls:
                self.push(ts + cit.walk_s, self._start, desk)
            elif desk.recalls >= self.max_recalls:
                self.push(ts + self._recall_gap(desk), self._no_show, desk)
            else:
                self.push(ts + self._recall_gap(desk), self._recall, desk)

        return Request(c.Recall(window=desk.session.window), desk.actor, desk.number, then)

    def _no_show(self, ts: float, desk: Desk) -> Request:
        cit = desk.cit
        assert cit is not None

        def then(out: Outcome, ts: float) -> None:
            if cit.return_after_s is not None and not cit.returned:
                self.push(ts + cit.return_after_s, self._reactivate, cit, desk)
            self._free(ts, desk)

        return Request(c.NoShow(window=desk.session.window), desk.actor, desk.number, then)

    def _reactivate(self, ts: float, cit: Citizen, desk: Desk) -> Request | None:
        q = self._queues[cit.queue]
        local = datetime.fromtimestamp(ts, self.tz)
        if cit.ticket is None or not q.hours.is_open(local.weekday(), local.hour * 60 + local.minute):
            return None  # back too late: told to take a new ticket another day

        def then(out: Outcome, ts: float) -> None:
            if out.ok:
                cit.returned = True
                cit.wait_since = ts
                self._wake(ts, cit.queue)

        return Request(c.Reactivate(ticket=cit.ticket), desk.actor, desk.number, then)

    def _start(self, ts: float, desk: Desk) -> Request:
        cit = desk.cit
        assert cit is not None

        def then(out: Outcome, ts: float) -> None:
            if not out.ok:
                self.unexpected[f"start_service:{out.code}"] += 1
                self._free(ts, desk)
                return
            if cit.transferred:
                end = ts + cit.transfer_service_s * desk.speed
                self.push(end, self._finish, desk)
            elif cit.transfer_to is not None and self._queue_open(cit.transfer_to, ts):
                end = ts + cit.service_s * desk.speed
                self.push(end, self._transfer, desk)
            else:
                end = ts + cit.service_s * desk.speed
                self.push(end, self._finish, desk)
            if self.cases is not None:
                self.cases.service(desk, cit, ts, end)

        return Request(c.StartService(window=desk.session.window), desk.actor, desk.number, then)

    def _queue_open(self, code: str, ts: float) -> bool:
        q = self._queues.get(code)
        local = datetime.fromtimestamp(ts, self.tz)
        return q is not None and q.hours.is_open(local.weekday(), local.hour * 60 + local.minute)

    def _finish(self, ts: float, desk: Desk) -> Request:
        cit = desk.cit

        def then(out: Outcome, ts: float) -> None:
            if not out.ok:
                self.unexpected[f"finish_service:{out.code}"] += 1
            elif self.cases is not None and cit is not None:
                self.cases.finished(desk, cit, ts)
            self._free(ts, desk)

        return Request(c.FinishService(window=desk.session.window), desk.actor, desk.number, then)

    def _transfer(self, ts: float, desk: Desk) -> Request:
        cit = desk.cit
        assert cit is not None and cit.ticket is not None and cit.transfer_to is not None
        target = cit.transfer_to

        def then(out: Outcome, ts: float) -> None:
            if out.ok:
                cit.transferred = True
                cit.queue = target
                cit.wait_since = ts
                self._free(ts, desk)
                self._wake(ts, cit.queue)
            else:
                self.unexpected[f"transfer:{out.code}"] += 1
                self.push(ts, self._finish, desk)

        return Request(
            c.Transfer(ticket=cit.ticket, to_queue=cit.transfer_to, reason=TRANSFER_REASON),
            desk.actor,
            desk.number,
            then,
        )

    def _free(self, ts: float, desk: Desk) -> None:
        desk.cit = None
        desk.phase = "ready"
        end = desk.ts(desk.session.end_min)
        gap = lognormal(desk.rng, self.profile.call_gap_mean_s, 0.5)
        if desk.rng.random() < self.profile.break_prob and ts + 600.0 < end:
            self.push(ts + gap, self._break, desk)
        else:
            self.push(ts + gap, self._call, desk)

    def _break(self, ts: float, desk: Desk) -> Request:
        window = desk.session.window

        def paused(out: Outcome, ts: float) -> None:
            if not out.ok:
                self.unexpected[f"pause:{out.code}"] += 1
                self.push(ts, self._call, desk)
                return
            desk.wstate = "paused"
            desk.phase = "break"
            length = desk.rng.uniform(self.profile.break_min_s, self.profile.break_max_s)
            self.push(ts + length, self._back, desk)

        return Request(c.PauseWindow(window=window, reason=BREAK), desk.actor, desk.number, paused)

    def _back(self, ts: float, desk: Desk) -> Request | None:
        s = desk.session
        if ts >= desk.ts(s.end_min) and not s.drain:
            return self._end_session(ts, desk)

        def then(out: Outcome, ts: float) -> None:
            desk.wstate = "open"
            self._ready(ts, desk)

        return Request(c.ResumeWindow(window=s.window), desk.actor, desk.number, then)

    def _recover(self, ts: float, desk: Desk, stage: int) -> Request:
        """Clear a counter holding a ticket this model does not know (a resumed demo)."""
        cmd: Any = (
            c.StartService(window=desk.session.window)
            if stage == 0
            else c.FinishService(window=desk.session.window)
        )

        def then(out: Outcome, ts: float) -> None:
            if stage == 0:
                self.push(ts + 1.0, self._recover, desk, 1)
            else:
                desk.phase = "ready"
                self.push(ts + 1.0, self._call, desk)

        return Request(cmd, desk.actor, desk.number, then)

    def _session_end(self, ts: float, desk: Desk, i: int) -> Request | None:
        if desk.idx != i:
            return None
        if desk.phase == "idle":
            return self._end_session(ts, desk)
        return None  # ready, busy or on a break: the desk ends the session when it gets there

    def _end_step(self, ts: float, desk: Desk) -> Request | None:
        return self._end_session(ts, desk)

    def _end_session(self, ts: float, desk: Desk) -> Request | None:
        i = desk.idx
        s = desk.session
        nxt = desk.sessions[i + 1] if i + 1 < len(desk.sessions) else None
        desk.phase = "off"
        window = s.window
        if nxt is not None and nxt.window == window:
            start = desk.ts(nxt.start_min)
            if start - ts <= 60.0:
                return self._begin(ts, desk, i + 1)
            resume_at = start - desk.rng.uniform(0.0, 120.0)
            if desk.wstate == "paused":
                self.push(max(ts, resume_at), self._begin, desk, i + 1)
                return None
            lunch = desk.ts(s.end_min) <= desk.midnight + 12.5 * 3600 <= start

            def paused(out: Outcome, ts: float) -> None:
                desk.wstate = "paused" if out.ok else desk.wstate
                self.push(max(ts, resume_at), self._begin, desk, i + 1)

            return Request(
                c.PauseWindow(window=window, reason=LUNCH if lunch else AWAY), desk.actor, desk.number, paused
            )

        def closed(out: Outcome, ts: float) -> None:
            if out.ok:
                desk.wstate = "closed"
            if nxt is not None:
                self.push(
                    max(ts + 1.0, desk.ts(nxt.start_min) - desk.rng.uniform(0.0, 120.0)),
                    self._begin,
                    desk,
                    i + 1,
                )
            else:
                self.push(ts + desk.rng.uniform(30.0, 180.0), self._logout, desk)

        return Request(c.CloseWindow(window=window), desk.actor, desk.number, closed)

    def _logout(self, ts: float, desk: Desk) -> Request | None:
        if desk.logical is None:
            return None
        window = desk.logical

        def then(out: Outcome, ts: float) -> None:
            desk.logical = None
            desk.wstate = "closed"

        return Request(c.StaffLogout(window=window), desk.actor, desk.number, then)


def take_places(drawn: list[Citizen], back: list[Citizen]) -> list[Citizen]:
    """The day's citizens when ``back`` come back for a case (补正 materials, 出件): each takes
    the place of the drawn arrival of its queue nearest in time, so every queue keeps the
    volume of the profile (the drawn 出件 arrivals stand for people collecting results, some
    of whom are now the simulated cases' applicants). Extra ones come on top."""
    if not back:
        return drawn
    by_queue: dict[str, list[Citizen]] = {}
    for cit in drawn:
        by_queue.setdefault(cit.queue, []).append(cit)
    dropped: set[str] = set()
    for b in sorted(back, key=lambda c: (c.arrive_ts, c.key)):
        options = [c for c in by_queue.get(b.queue, []) if c.key not in dropped]
        if options:
            dropped.add(min(options, key=lambda c: (abs(c.arrive_ts - b.arrive_ts), c.key)).key)
    kept = [c for c in drawn if c.key not in dropped]
    return sorted(kept + back, key=lambda c: (c.arrive_ts, c.key))


# ---------------------------------------------------------------------- in-process driver


Observer = Callable[[list[Event], Hall], None]


class CoreBackend:
    """Runs requests on the hall core and writes what they produce, a batch at a time."""

    def __init__(self, hall: Hall, store: Store, observers: Iterable[Observer] = ()) -> None:
        self.hall = hall
        self.store = store
        self.observers = list(observers)
        self.tz = hall.tz
        self.pending: list[Event] = []
        self.events_written = 0
        self.commits = 0

    def execute(self, req: Request, ts: float) -> Outcome:
        now = datetime.fromtimestamp(ts, self.tz)
        try:
            events = self.hall.handle(req.cmd, now, req.actor)
            outcome_ok, code = True, ""
        except HallError as err:
            events = list(err.events)
            outcome_ok, code = False, err.code
        self.pending.extend(events)
        for obs in self.observers:
            obs(events, self.hall)
        if not outcome_ok:
            return Outcome(False, code)
        ticket = next((e.ticket for e in reversed(events) if e.ticket), None)
        data: dict[str, Any] = {}
        for e in events:
            data.update(e.payload())
        return Outcome(True, "", ticket, data=data)

    async def flush(self) -> None:
        batch = batch_for(self.hall, self.pending)
        if batch.events or batch.tickets or batch.windows:
            await self.store.commit(batch)
            self.events_written += len(batch.events)
            self.commits += 1
        self.pending = []


@dataclass
class SimResult:
    first_day: date | None = None
    last_day: date | None = None
    days: int = 0  # calendar days simulated
    working_days: int = 0
    events: int = 0
    commits: int = 0
    elapsed_s: float = 0.0
    turned_away: Counter[str] = field(default_factory=Counter)
    unexpected: Counter[str] = field(default_factory=Counter)


Progress = Callable[[int, int, date, float], None]  # working days done, of, day, elapsed


async def simulate(
    config: HallConfig,
    store: Store,
    *,
    start: date,
    days: int,
    seed: int,
    profile: Profile,
    plan: StaffingPlan,
    calendar: WorkCalendar,
    observers: Iterable[Observer] = (),
    progress: Progress | None = None,
    batch_minutes: int = 1,
    batch_events: int = 500,
    matters: dict[str, Any] | None = None,
) -> SimResult:
    """Simulate from ``start`` until ``days`` working days are done (the days between included).

    The store must be open; the hall is rebuilt from it, so a run continues a database.
    What the hall produces is committed a batch at a time: the events of ``batch_minutes``
    simulated minutes, or ``batch_events`` events, whichever comes first; each batch is one
    transaction, like a group of commands in the server's writer."""
    sim_config = plan.hall_config(config)
    if matters is None:  # the core needs its calendar and catalogue for cases
        from ..matters import load_matters

        matters = {m.code: m for m in load_matters()}
    hall = rebuild_hall(sim_config, await store.load(), calendar=calendar, matters=matters)
    model = HallModel(sim_config, config, profile, plan, seed, calendar, matters=matters)
    backend = CoreBackend(hall, store, observers)
    result = SimResult(first_day=start)
    t0 = _time.perf_counter()
    day = start
    while result.working_days < days:
        kind = model.begin_day(day)
        minute = -1
        while model.heap:
            ts = model.heap[0][0]
            m = int(ts // (60 * batch_minutes))
            if (m != minute or len(backend.pending) >= batch_events) and backend.pending:
                await backend.flush()
            minute = m
            ts, req = model.pop()
            if req is not None:
                out = backend.execute(req, ts)
                if req.then is not None:
                    req.then(out, ts)
        await backend.flush()
        result.days += 1
        result.working_days += 1 if kind.working else 0
        result.last_day = day
        if progress is not None:
            progress(result.working_days, days, day, _time.perf_counter() - t0)
        day += timedelta(days=1)
    result.events = backend.events_written
    result.commits = backend.commits
    result.elapsed_s = _time.perf_counter() - t0
    result.turned_away = model.turned_away
    result.unexpected = model.unexpected
    return result
