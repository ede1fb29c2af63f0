"""The queue: tickets, windows and their staff, the day's numbers and service times, and
the estimates and views built on them. It owns that state; only its events change it.

Commands on tickets and windows are in ``queue_commands.py``; they read this class's public
methods and emit through ``emit``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from . import commands as c
from . import events as ev
from .config import HallConfig, QueueConfig, WindowConfig
from .errors import HallError
from .estimate import (
    Capacity,
    Release,
    ServiceTime,
    WindowCycle,
    release_times,
    remaining_service,
    wait_seconds,
)
from .events import Event
from .model import Ticket, Window
from .scheduling import is_due_appointment, queue_rank
from .states import TICKET_CREATION, ticket_transition, window_transition
from .states import TicketState as T
from .states import WindowState as W

MAX_NUMBERS_PER_DAY = 999


@dataclass
class QueueChanges:
    """Rows of the queue the store must write with this batch of events."""

    tickets: dict[str, Ticket] = field(default_factory=dict)
    windows: set[int] = field(default_factory=set)
    numbers: set[tuple[date, str]] = field(default_factory=set)
    service_times: set[str] = field(default_factory=set)


class Queue:
    def __init__(
        self,
        config: HallConfig,
        *,
        tickets: Iterable[Ticket] = (),
        windows: Iterable[Window] = (),
        numbers: dict[tuple[date, str], int] | None = None,
        service_times: dict[str, ServiceTime] | None = None,
        service_date: date | None = None,
        matter_of: Callable[[Ticket], str] = lambda t: "",
    ) -> None:
        """``matter_of``: the matter name a finished service records (the cases know it)."""
        self.config = config
        self.tz = ZoneInfo(config.timezone)
        self.tickets: dict[str, Ticket] = {t.id: t for t in tickets}
        self._order: dict[str, int] = {tid: i for i, tid in enumerate(self.tickets)}  # see touch_ticket
        self._waiting: dict[str, Ticket] = {t.id: t for t in self.tickets.values() if t.state is T.WAITING}
        self.windows: dict[int, Window] = {w.number: w for w in windows}
        for wcfg in config.windows:
            self.windows.setdefault(wcfg.number, Window(number=wcfg.number))
        self.numbers: dict[tuple[date, str], int] = dict(numbers or {})
        self.service_times: dict[str, ServiceTime] = dict(service_times or {})
        for q in config.queues:
            self.service_times.setdefault(q.code, ServiceTime(mean_s=q.default_service_s))
        self.service_date = service_date or max((t.service_date for t in self.tickets.values()), default=None)
        self.queues = {q.code: q for q in config.queues}
        self.window_configs = {w.number: w for w in config.windows}
        self.matter_of = matter_of
        self.changes = QueueChanges()
        self.cycles: dict[int, WindowCycle] = {}  # in memory only: a restart skips one sample

    def take_changes(self) -> QueueChanges:
        ch, self.changes = self.changes, QueueChanges()
        return ch

    def emit(self, out: list[Event], event: Event) -> None:
        """Apply one of the queue's events and add it to ``out``."""
        self.apply(event)
        out.append(event)

    def apply(self, event: Event) -> None:
        _APPLY[type(event)](self, event)

    def owns(self, event: Event) -> bool:
        return type(event) in _APPLY

    def leftover(self) -> list[str]:
        """The tickets a day roll-over expires: everything not done, cancelled or a no-show."""
        return [t.id for t in self.tickets.values() if t.state not in (T.DONE, T.CANCELLED, T.NO_SHOW)]

    # ------------------------------------------------------------------ lookups

    def ticket(self, ticket_id: str) -> Ticket:
        t = self.tickets.get(ticket_id)
        if t is None:
            raise HallError("unknown_ticket", f"no ticket {ticket_id} today")
        return t

    def find_ticket(self, number_or_id: str) -> Ticket:
        """By id ("20261121-A012") or today's number ("A012")."""
        if number_or_id in self.tickets:
            return self.tickets[number_or_id]
        if self.service_date is not None:
            tid = f"{self.service_date:%Y%m%d}-{number_or_id}"
            if tid in self.tickets:
                return self.tickets[tid]
        raise HallError("unknown_ticket", f"no ticket {number_or_id} today")

    def ticket_by_token(self, token: str) -> Ticket | None:
        return next((t for t in self.tickets.values() if t.status_token == token), None)

    def window(self, number: int) -> Window:
        if number not in self.window_configs:
            raise HallError("unknown_window", f"no window {number} in this hall")
        return self.windows[number]

    def last_finished(self, window: int) -> Ticket | None:
        """The service that finished last at ``window`` today."""
        done = [
            t for t in self.tickets.values() if t.state is T.DONE and t.window == window and t.finished_at
        ]
        return max(done, key=lambda t: t.finished_at.timestamp() if t.finished_at else 0.0, default=None)

    # ------------------------------------------------------------------ estimates and views

    def waiting(self, queue: str | None = None) -> list[Ticket]:
        """The waiting tickets (of ``queue``), in the order of ``tickets``."""
        return sorted(
            (t for t in self._waiting.values() if queue is None or t.queue == queue),
            key=lambda t: self._order[t.id],
        )

    # ------------------------------------------------------------------ estimates

    def shares(self, queue: str) -> list[tuple[Window, float]]:
        """Every window serving ``queue`` with its share of attention for it:
        ``weight(queue) / sum of the weights of the queues it serves that have someone waiting``."""
        waiting_queues = {t.queue for t in self._waiting.values()}
        out: list[tuple[Window, float]] = []
        for wcfg in self.config.windows:
            weights = {wq.queue: wq.weight for wq in wcfg.queues}
            if queue not in weights:
                continue
            busy_with = {q for q in weights if q in waiting_queues} | {queue}
            out.append((self.windows[wcfg.number], weights[queue] / sum(weights[q] for q in busy_with)))
        return out

    def capacity(self, queue: str) -> Capacity:
        shares = self.shares(queue)
        open_ = [(win, share) for win, share in shares if win.state is W.OPEN]
        if not open_:  # nobody open yet: the windows serving the queue are expected to open
            return Capacity(servers=sum(share for _, share in shares), free=0.0)
        return Capacity(
            servers=sum(share for _, share in open_),
            free=sum(share for win, share in open_ if win.current_ticket is None),
        )

    def queue_order(self, queue: str, now: datetime) -> list[Ticket]:
        rules = self.config.rules
        return sorted(
            (t for t in self.waiting(queue) if t.checked_in and t.target_window is None),
            key=lambda t: queue_rank(t, now, rules),
        )

    def releases(self, queue: str, now: datetime) -> list[Release]:
        """When each open window serving ``queue`` is next free for it, and how often after.

        A window with nobody at the counter is free now; otherwise when the ticket at its
        counter is expected to be done, judged by how long it has taken already. After
        that it takes one of this queue's citizens every ``mean / share`` seconds."""
        mean = self.service_times[queue].mean_s
        out: list[Release] = []
        for win, share in self.shares(queue):
            if win.state is not W.OPEN:
                continue
            first = 0.0
            if win.current_ticket is not None:
                cur = self.tickets[win.current_ticket]
                elapsed = (now - cur.called_at).total_seconds() if cur.called_at else 0.0
                first = remaining_service(self.service_times[cur.queue].mean_s, elapsed)
            out.append(Release(first=first, period=mean / share))
        return out

    def _waits(self, queue: str, now: datetime, n: int) -> list[float]:
        """Estimated waits of the first ``n`` places of a queue's line."""
        releases = self.releases(queue, now)
        if not releases:  # nobody open: the windows that serve the queue are expected to open
            cap, mean = self.capacity(queue), self.service_times[queue].mean_s
            return [wait_seconds(i, mean, cap) for i in range(n)]
        return release_times(releases, n)

    def estimates(self, queue: str, now: datetime) -> dict[str, tuple[int, float]]:
        """ticket id -> (position, estimated wait in seconds) for a queue's waiting tickets.

        Checked-in appointments that are not due yet stand at the end of the line, but one
        that falls due before a walk-in ticket's call goes first: it pushes that ticket's
        call one release later."""
        rules = self.config.rules
        order = self.queue_order(queue, now)
        early = timedelta(minutes=rules.appointment_early_min)
        comes_due = sorted(
            t.appointment_slot - early
            for t in order
            if t.priority == c.Priority.APPOINTMENT.value
            and t.appointment_slot is not None
            and not is_due_appointment(t, now, rules)
        )
        waits = self._waits(queue, now, len(order) + len(comes_due))
        out: dict[str, tuple[int, float]] = {}
        for i, t in enumerate(order):
            wait = waits[i]
            if t.priority != c.Priority.APPOINTMENT.value and comes_due:
                first_due = bisect_right(comes_due, now + timedelta(seconds=wait))
                wait = waits[i + first_due]
            out[t.id] = (i + 1, wait)
        return out

    def queue_summary(self, queue: str, now: datetime) -> dict[str, Any]:
        qcfg = self.queues[queue]
        waiting = self.queue_order(queue, now)
        longest = max(((now - t.arrived_at).total_seconds() for t in waiting), default=0.0)
        issued = self.numbers.get((now.date(), queue), 0)
        return {
            "code": queue,
            "name": qcfg.name,
            "kind": qcfg.kind.value,
            "open": self.queue_open(qcfg, now),
            "waiting": len(waiting),
            "longest_wait_s": round(longest),
            "estimated_wait_s": round(self._waits(queue, now, len(waiting) + 1)[-1]),
            "issued_today": issued,
            "remaining_today": max(0, min(qcfg.daily_cap, MAX_NUMBERS_PER_DAY) - issued),
        }

    def window_view(self, number: int) -> dict[str, Any]:
        wcfg, win = self.window_configs[number], self.windows[number]
        cur = self.tickets.get(win.current_ticket) if win.current_ticket else None
        return {
            "number": number,
            "name": wcfg.name,
            "kind": wcfg.kind.value,
            "zone": wcfg.zone,
            "queues": [wq.queue for wq in wcfg.queues],
            "state": win.state.value,
            "pause_reason": win.pause_reason,
            "staff_name": win.staff_name,
            "ticket": cur.number if cur else None,
            "ticket_id": cur.id if cur else None,
            "ticket_state": cur.state.value if cur else None,
        }

    def ticket_view(self, ticket_id: str, now: datetime) -> dict[str, Any] | None:
        """One ticket's public view, with position and estimate while it waits."""
        t = self.tickets.get(ticket_id)
        if t is None:
            return None
        view = t.public()
        if t.state is T.WAITING:
            est = self.estimates(t.queue, now).get(t.id)
            if est:
                view["position"], w = est
                view["estimated_wait_s"] = round(w)
        return view

    # ------------------------------------------------------------------ checks the commands share

    def queue_open(self, q: QueueConfig, now: datetime) -> bool:
        return q.hours.is_open(now.weekday(), now.hour * 60 + now.minute)

    def queue_config(self, code: str) -> QueueConfig:
        q = self.queues.get(code)
        if q is None:
            raise HallError("unknown_queue", f"no queue {code} in this hall")
        return q

    def window_config(self, number: int) -> WindowConfig:
        wcfg = self.window_configs.get(number)
        if wcfg is None:
            raise HallError("unknown_window", f"no window {number} in this hall")
        return wcfg

    def current(self, number: int, action: str) -> Ticket:
        win = self.window(number)
        if win.current_ticket is None:
            raise HallError(
                "no_current_ticket", f"cannot {action}: window {number} has no ticket at the counter"
            )
        return self.tickets[win.current_ticket]

    def require_free_open(self, number: int) -> Window:
        win = self.window(number)
        if win.state is not W.OPEN:
            raise HallError(
                "window_not_open", f"window {number} is {win.state.value}: open or resume it first"
            )
        if win.current_ticket is not None:
            cur = self.tickets[win.current_ticket]
            raise HallError(
                "window_busy",
                f"window {number} still has {cur.number} ({cur.state.value}): finish it, mark it no-show or transfer it first",
            )
        return win

    def clear_tickets(self) -> None:
        self.tickets, self._order, self._waiting = {}, {}, {}

    def touch_ticket(self, t: Ticket) -> None:
        """Every change of a ticket touches it: the change set, the waiting tickets, its place."""
        self.changes.tickets[t.id] = t
        self._order.setdefault(t.id, len(self._order))
        if t.state is T.WAITING:
            self._waiting[t.id] = t
        else:
            self._waiting.pop(t.id, None)

    def touch_window(self, number: int) -> None:
        self.changes.windows.add(number)


# ---------------------------------------------------------------------- event application
# Pure state changes, no checks: events are facts. States move by the tables (states.py).


def _ticket_step(t: Ticket, action: str) -> None:
    t.state = ticket_transition(action, t.number, t.state)


def _a_day_started(q: Queue, e: ev.DayStarted) -> None:
    for tid in e.expired:
        t = q.tickets[tid]
        if t.window is not None and q.windows[t.window].current_ticket == tid:
            q.windows[t.window].current_ticket = None
            q.touch_window(t.window)
        _ticket_step(t, "expire")
        t.note = "day_closed"
        q.touch_ticket(t)
    for win in q.windows.values():
        if win.priority_streak or win.current_ticket:
            win.priority_streak = 0
            win.current_ticket = None
            q.touch_window(win.number)
    q.clear_tickets()
    q.service_date = e.service_date


def _a_issued(q: Queue, e: ev.TicketIssued) -> None:
    assert e.ticket is not None
    t = Ticket(
        id=e.ticket,
        number=e.number,
        queue=e.queue,
        service_date=e.at.date(),
        seq=e.seq,
        channel=e.channel,
        priority=e.priority,
        state=TICKET_CREATION["issue"],
        issued_at=e.at,
        arrived_at=e.at,
        status_token=e.status_token,
        checked_in=e.checked_in,
        appointment_slot=e.appointment_slot,
        applicant_name=e.applicant_name,
        applicant_phone=e.applicant_phone,
        applicant_id=e.applicant_id,
    )
    q.tickets[t.id] = t
    q.numbers[(e.at.date(), t.queue)] = e.seq
    q.changes.numbers.add((e.at.date(), t.queue))
    q.touch_ticket(t)


def _ticket_of(q: Queue, e: Event) -> Ticket:
    assert e.ticket is not None
    return q.tickets[e.ticket]


def _a_checked_in(q: Queue, e: ev.TicketCheckedIn) -> None:
    t = _ticket_of(q, e)
    _ticket_step(t, "check in")
    t.checked_in = True
    t.arrived_at = e.at
    q.touch_ticket(t)


def _a_called(q: Queue, e: ev.TicketCalled) -> None:
    t = _ticket_of(q, e)
    assert e.window is not None
    win = q.windows[e.window]
    _ticket_step(t, "call")
    t.called_at = e.at
    t.window = e.window
    t.target_window = None
    t.recalls = 0
    t.served_by = win.staff
    if e.reason:
        t.note = e.reason
    win.current_ticket = t.id
    _observe_cycle(q, win.number, e.at, t.queue)
    if not e.reason:  # out-of-order calls leave the fairness count alone
        win.priority_streak = win.priority_streak + 1 if t.priority != "normal" else 0
    q.touch_ticket(t)
    q.touch_window(win.number)


def _observe_cycle(q: Queue, window: int, at: datetime, queue: str) -> None:
    """A call right after the window's previous citizen left closes one window cycle
    (call to next call): a sample of the previous ticket's queue (see estimate.py)."""
    cyc = q.cycles.setdefault(window, WindowCycle())
    sample = cyc.sample(at)
    if sample is not None and cyc.last_queue in q.service_times:
        q.service_times[cyc.last_queue].observe(sample, q.config.rules.ewma_alpha)
        q.changes.service_times.add(cyc.last_queue)
    cyc.last_call_at, cyc.last_queue = at, queue


def _a_recalled(q: Queue, e: ev.TicketRecalled) -> None:
    t = _ticket_of(q, e)
    _ticket_step(t, "recall")
    t.recalls += 1
    q.touch_ticket(t)


def _a_started(q: Queue, e: ev.ServiceStarted) -> None:
    t = _ticket_of(q, e)
    _ticket_step(t, "start")
    t.served_at = e.at
    q.touch_ticket(t)


def _release(q: Queue, t: Ticket, at: datetime) -> None:
    if t.window is not None and q.windows[t.window].current_ticket == t.id:
        q.windows[t.window].current_ticket = None
        q.touch_window(t.window)
        q.cycles.setdefault(t.window, WindowCycle()).released_at = at


def _a_finished(q: Queue, e: ev.ServiceFinished) -> None:
    t = _ticket_of(q, e)
    _ticket_step(t, "finish")
    t.finished_at = e.at
    _release(q, t, e.at)
    q.touch_ticket(t)


def _a_no_show(q: Queue, e: ev.TicketNoShow) -> None:
    t = _ticket_of(q, e)
    _ticket_step(t, "mark no-show")
    _release(q, t, e.at)
    q.touch_ticket(t)


def _a_reactivated(q: Queue, e: ev.TicketReactivated) -> None:
    t = _ticket_of(q, e)
    _ticket_step(t, "reactivate")
    t.recalls = 0
    q.touch_ticket(t)


def _a_transferred(q: Queue, e: ev.TicketTransferred) -> None:
    t = _ticket_of(q, e)
    _release(q, t, e.at)
    _ticket_step(t, "transfer")
    t.queue = e.to_queue
    t.target_window = e.to_window
    t.transfers += 1
    t.recalls = 0
    t.note = e.reason
    q.touch_ticket(t)


def _a_cancelled(q: Queue, e: ev.TicketCancelled) -> None:
    t = _ticket_of(q, e)
    _release(q, t, e.at)
    _ticket_step(t, "cancel")
    t.note = e.reason
    q.touch_ticket(t)


def _window_step(q: Queue, e: Event, action: str, pause_reason: str = "") -> None:
    assert e.window is not None
    win = q.windows[e.window]
    win.state = window_transition(action, win.number, win.state)
    win.state_since = e.at
    win.pause_reason = pause_reason
    if win.state is not W.OPEN:
        win.priority_streak = 0 if win.state is W.CLOSED else win.priority_streak
        q.cycles.pop(win.number, None)  # a break is no part of a service cycle
    q.touch_window(win.number)


def _a_opened(q: Queue, e: ev.WindowOpened) -> None:
    _window_step(q, e, "open")


def _a_paused(q: Queue, e: ev.WindowPaused) -> None:
    _window_step(q, e, "pause", e.reason)


def _a_resumed(q: Queue, e: ev.WindowResumed) -> None:
    _window_step(q, e, "resume")


def _a_closed(q: Queue, e: ev.WindowClosed) -> None:
    _window_step(q, e, "close")


def _a_logged_in(q: Queue, e: ev.StaffLoggedIn) -> None:
    assert e.window is not None
    win = q.windows[e.window]
    win.staff = e.staff
    win.staff_name = e.staff_name
    q.touch_window(win.number)


def _a_logged_out(q: Queue, e: ev.StaffLoggedOut) -> None:
    assert e.window is not None
    win = q.windows[e.window]
    win.staff = None
    win.staff_name = ""
    q.touch_window(win.number)


_Apply = Callable[[Queue, Any], None]

_APPLY: dict[type[Event], _Apply] = {
    ev.DayStarted: _a_day_started,
    ev.TicketIssued: _a_issued,
    ev.TicketCheckedIn: _a_checked_in,
    ev.TicketCalled: _a_called,
    ev.TicketRecalled: _a_recalled,
    ev.ServiceStarted: _a_started,
    ev.ServiceFinished: _a_finished,
    ev.TicketNoShow: _a_no_show,
    ev.TicketReactivated: _a_reactivated,
    ev.TicketTransferred: _a_transferred,
    ev.TicketCancelled: _a_cancelled,
    ev.WindowOpened: _a_opened,
    ev.WindowPaused: _a_paused,
    ev.WindowResumed: _a_resumed,
    ev.WindowClosed: _a_closed,
    ev.StaffLoggedIn: _a_logged_in,
    ev.StaffLoggedOut: _a_logged_out,
}
