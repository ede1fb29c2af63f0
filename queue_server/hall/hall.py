"""The hall: commands in, events out. Pure and synchronous.

``Hall.handle(command, now, actor)`` checks the command against the current state and the
transition tables, then emits events, applying each to the state as it is emitted. All
checks of a command come before its first event, so a refused command (``HallError``)
changes nothing. Time is a value passed in; this module never reads a clock.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from . import cases as case_rules
from . import commands as c
from . import ratings as rating_rules
from .calendar import WorkCalendar
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
from . import events as ev
from .events import PRIVATE_FIELDS, Event
from .model import Case, Rating, Rectification, Ticket, Window
from .scheduling import is_due_appointment, pick_next, queue_rank
from .states import (
    CaseState as CS,
    RectificationState as RS,
    TicketState as T,
    WindowState as W,
    ticket_transition,
    window_transition,
)


MAX_NUMBERS_PER_DAY = 999


@dataclass
class Changes:
    """Rows the store must write with this batch of events."""

    tickets: dict[str, Ticket] = field(default_factory=dict)
    windows: set[int] = field(default_factory=set)
    numbers: set[tuple[date, str]] = field(default_factory=set)
    service_times: set[str] = field(default_factory=set)
    cases: dict[str, Case] = field(default_factory=dict)
    case_numbers: set[date] = field(default_factory=set)
    ratings: dict[int, Rating] = field(default_factory=dict)
    rectifications: dict[int, Rectification] = field(default_factory=dict)


class Hall:
    def __init__(
        self,
        config: HallConfig,
        *,
        tickets: Iterable[Ticket] = (),
        windows: Iterable[Window] = (),
        numbers: dict[tuple[date, str], int] | None = None,
        service_times: dict[str, ServiceTime] | None = None,
        service_date: date | None = None,
        cases: Iterable[Case] = (),
        case_numbers: dict[date, int] | None = None,
        ratings: Iterable[Rating] = (),
        rectifications: Iterable[Rectification] = (),
        last_rating_id: int = 0,
        last_rectification_id: int = 0,
        calendar: WorkCalendar | None = None,
        matters: Mapping[str, Any] | None = None,
    ) -> None:
        """``calendar``: working days for deadlines (default: the ``chinese_calendar`` years;
        the server passes ``load_calendar()``). ``matters``: the matter catalogue, code →
        ``queue_server.matters.Matter`` (any object with its attributes)."""
        self.config = config
        self.tz = ZoneInfo(config.timezone)
        self.tickets: dict[str, Ticket] = {t.id: t for t in tickets}
        self.windows: dict[int, Window] = {w.number: w for w in windows}
        for wcfg in config.windows:
            self.windows.setdefault(wcfg.number, Window(number=wcfg.number))
        self.numbers: dict[tuple[date, str], int] = dict(numbers or {})
        self.service_times: dict[str, ServiceTime] = dict(service_times or {})
        for q in config.queues:
            self.service_times.setdefault(q.code, ServiceTime(mean_s=q.default_service_s))
        self.service_date = service_date or max(
            (t.service_date for t in self.tickets.values()), default=None
        )
        self._queues = {q.code: q for q in config.queues}
        self._wcfg = {w.number: w for w in config.windows}
        self.calendar = calendar if calendar is not None else WorkCalendar.from_package()
        self.matters: Mapping[str, Any] = dict(matters or {})
        self.cases: dict[str, Case] = {k.receipt_no: k for k in cases}
        self.case_numbers: dict[date, int] = dict(case_numbers or {})
        self.ratings: dict[int, Rating] = {r.id: r for r in ratings}
        self.rectifications: dict[int, Rectification] = {r.id: r for r in rectifications}
        self.last_rating_id = max([last_rating_id, *self.ratings])
        self.last_rectification_id = max([last_rectification_id, *self.rectifications])
        if self.service_date is not None:
            self._prune(self.service_date)
        self.changes = Changes()
        self.cycles: dict[int, WindowCycle] = {}  # in memory only: a restart skips one sample

    # ------------------------------------------------------------------ public API

    def handle(self, cmd: c.Command, now: datetime, actor: c.Actor = c.SYSTEM) -> list[Event]:
        """Run one command. Returns the events it produced (already applied)."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        now = now.astimezone(self.tz)
        out: list[Event] = []
        self._roll_over(now, out)
        handler = _HANDLERS.get(type(cmd))
        if handler is None:
            raise HallError("unknown_command", f"unknown command {type(cmd).__name__}")
        try:
            handler(self, cmd, now, str(actor), out)
        except HallError as err:
            if out:  # a day roll-over still stands: the error carries its events
                raise HallError(err.code, err.message, events=tuple(out)) from err
            raise
        return out

    def take_changes(self) -> Changes:
        ch, self.changes = self.changes, Changes()
        return ch

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
        if number not in self._wcfg:
            raise HallError("unknown_window", f"no window {number} in this hall")
        return self.windows[number]

    def case(self, receipt_no: str) -> Case:
        k = self.cases.get(receipt_no.strip().upper())
        if k is None:
            raise HallError("unknown_case", f"no open case {receipt_no}")
        return k

    def rectification(self, rid: int) -> Rectification:
        r = self.rectifications.get(rid)
        if r is None:
            raise HallError("unknown_rectification", f"no open rectification {rid}")
        return r

    def rating_of_ticket(self, ticket_id: str) -> Rating | None:
        """The (first) rating of a service; a 追评 is not counted here."""
        return next((r for r in self.ratings.values() if r.ticket == ticket_id and r.follow_up_of is None), None)

    def rectification_of_rating(self, rating_id: int) -> Rectification | None:
        return next((r for r in self.rectifications.values() if r.rating_id == rating_id), None)

    def waiting(self, queue: str | None = None) -> list[Ticket]:
        return [
            t for t in self.tickets.values()
            if t.state is T.WAITING and (queue is None or t.queue == queue)
        ]

    # ------------------------------------------------------------------ estimates

    def shares(self, queue: str) -> list[tuple[Window, float]]:
        """Every window serving ``queue`` with its share of attention for it:
        ``weight(queue) / sum of the weights of the queues it serves that have someone waiting``."""
        waiting_queues = {t.queue for t in self.tickets.values() if t.state is T.WAITING}
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
        return Capacity(servers=sum(share for _, share in open_),
                        free=sum(share for win, share in open_ if win.current_ticket is None))

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
            t.appointment_slot - early for t in order
            if t.priority == c.Priority.APPOINTMENT.value and t.appointment_slot is not None
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
        qcfg = self._queues[queue]
        waiting = self.queue_order(queue, now)
        longest = max(((now - t.arrived_at).total_seconds() for t in waiting), default=0.0)
        cap = self.capacity(queue)
        mean = self.service_times[queue].mean_s
        issued = self.numbers.get((now.date(), queue), 0)
        return {
            "code": queue,
            "name": qcfg.name,
            "kind": qcfg.kind.value,
            "open": self._queue_open(qcfg, now),
            "waiting": len(waiting),
            "longest_wait_s": round(longest),
            "estimated_wait_s": round(self._waits(queue, now, len(waiting) + 1)[-1]),
            "issued_today": issued,
            "remaining_today": max(0, min(qcfg.daily_cap, MAX_NUMBERS_PER_DAY) - issued),
        }

    # ------------------------------------------------------------------ views

    def window_view(self, number: int) -> dict[str, Any]:
        wcfg, win = self._wcfg[number], self.windows[number]
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

    def public_state(self, now: datetime) -> dict[str, Any]:
        """The snapshot every screen starts from: masked, no phone or ID numbers."""
        now = now.astimezone(self.tz)
        tickets = []
        for q in self.config.queues:
            est = self.estimates(q.code, now)
            for t in self.tickets.values():
                if t.queue != q.code or t.state in (T.DONE, T.CANCELLED, T.NO_SHOW):
                    continue
                view = t.public()
                if t.id in est:
                    view["position"], w = est[t.id]
                    view["estimated_wait_s"] = round(w)
                tickets.append(view)
        calls = sorted(
            (t for t in self.tickets.values() if t.called_at is not None and t.window is not None),
            key=lambda t: t.called_at or now,
            reverse=True,
        )[: self.config.rules.recent_calls]
        return {
            "hall": {
                "code": self.config.code,
                "name": self.config.name,
                "timezone": self.config.timezone,
                "notice": self.config.notice,
                "service_date": self.service_date.isoformat() if self.service_date else None,
                "now": now.isoformat(),
                "recent_calls": self.config.rules.recent_calls,
                "announce_repeat": self.config.rules.announce_repeat,
            },
            "queues": [self.queue_summary(q.code, now) for q in self.config.queues],
            "windows": [self.window_view(w.number) for w in self.config.windows],
            "tickets": sorted(tickets, key=lambda v: v["issued_at"]),
            "recent_calls": [
                {"ticket": t.number, "ticket_id": t.id, "queue": t.queue, "window": t.window,
                 "called_at": t.called_at.isoformat() if t.called_at else None, "state": t.state.value}
                for t in calls
            ],
        }

    # ------------------------------------------------------------------ cases and ratings: views

    def case_view(self, case: Case, now: datetime) -> dict[str, Any]:
        """A case for staff: masked applicant name, no phone or ID; 超期 / 即将到期 marks."""
        return {**case.public(), **case_rules.case_marks(self, case, now.astimezone(self.tz))}

    def rating_view(self, rating: Rating) -> dict[str, Any]:
        view = rating.public()
        view["level"] = rating_rules.SCORES[rating.score]
        view["follow_up"] = next((r.public() for r in self.ratings.values() if r.follow_up_of == rating.id), None)
        return view

    def rectification_view(self, r: Rectification, now: datetime) -> dict[str, Any]:
        view = {**r.public(), **rating_rules.rectification_marks(self, r, now.astimezone(self.tz))}
        rating = self.ratings.get(r.rating_id)
        view["rating"] = self.rating_view(rating) if rating is not None else None
        return view

    def list_cases(self, now: datetime, *, department: str | None = None,
                   states: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Cases held (open ones and those finished today), soonest due first."""
        wanted = set(states) if states is not None else None
        far = datetime.max.replace(tzinfo=self.tz)
        rows = [k for k in self.cases.values()
                if case_rules.department_matches(department, k.department)
                and (wanted is None or k.state.value in wanted)]
        rows.sort(key=lambda k: (k.final, k.due_at or far, k.receipt_no))
        return [self.case_view(k, now) for k in rows]

    def list_rectifications(self, now: datetime, *, department: str | None = None,
                            open_only: bool = False) -> list[dict[str, Any]]:
        rows = [r for r in self.rectifications.values()
                if case_rules.department_matches(department, r.owner_department)
                and (not open_only or r.state is not RS.CLOSED)]
        rows.sort(key=lambda r: (r.state is RS.CLOSED, r.rectify_due, r.id))
        return [self.rectification_view(r, now) for r in rows]

    def rateable_service(self, window: int, now: datetime) -> dict[str, Any] | None:
        """What a window's rating pad shows: its last finished service while it may be rated."""
        self.window(window)
        t = rating_rules.last_finished(self, window)
        if t is None or now > rating_rules.rateable_until(self, t):
            return None
        rating = self.rating_of_ticket(t.id)
        return {**rating_rules.service_of(self, t),
                "rateable_until": rating_rules.rateable_until(self, t).isoformat(),
                "rated": rating is not None}

    def rating_status(self, status_token: str) -> dict[str, Any]:
        """What the citizen's status page may know about the rating of its own ticket."""
        wanted = rating_rules.token_hash(status_token)
        t = self.ticket_by_token(status_token)
        rating = self.rating_of_ticket(t.id) if t is not None else next(
            (r for r in self.ratings.values() if r.follow_up_of is None and r.rater_token_hash == wanted), None)
        if t is None and rating is None:
            raise HallError("unknown_ticket", "no ticket with that status token today")
        out: dict[str, Any] = {
            "ticket_number": t.number if t is not None else rating.ticket_number if rating is not None else "",
            "finished": t is not None and t.state is T.DONE or t is None,
            "rated": rating is not None, "score": rating.score if rating else None,
            "follow_up_allowed": False, "follow_up_score": None, "rectification_state": None,
        }
        if t is not None and t.state is T.DONE:
            service = rating_rules.service_of(self, t)
            out.update(matter_name=service["matter_name"], staff_name=service["staff_name"],
                       window=t.window, window_name=service["window_name"])
        if rating is not None:
            follow = next((r for r in self.ratings.values() if r.follow_up_of == rating.id), None)
            rect = self.rectification_of_rating(rating.id)
            out["follow_up_score"] = follow.score if follow else None
            out["rectification_state"] = rect.state.value if rect else None
            out["follow_up_allowed"] = bool(
                rect is not None and follow is None and rect.outcome != "appeal_upheld"
                and (rect.rectified_at is not None or rect.state is RS.CLOSED))
        return out

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

    def describe(self, event: Event, now: datetime) -> dict[str, Any]:
        """The public form of an event for screens: the record plus the views it changed.

        Case, rating and rectification events carry ``"audience": "staff"``: the fan-out
        gives them only to staff subscriptions, with the masked case view and the rating
        (never the rater's token hash) attached."""
        rec = event.to_record()
        data = rec["data"] = {k: v for k, v in rec["data"].items() if k not in PRIVATE_FIELDS}
        if event.staff_only:
            rec["audience"] = "staff"
            receipt = data.get("receipt_no")
            if receipt and receipt in self.cases:
                rec["case_view"] = self.case_view(self.cases[receipt], now)
            rid = data.get("rectification_id")
            if rid in self.rectifications:
                rec["rectification_view"] = self.rectification_view(self.rectifications[rid], now)
            rating_id = data.get("rating_id")
            if rating_id in self.ratings:
                rec["rating_view"] = self.rating_view(self.ratings[rating_id])
        queues: set[str] = set()
        if event.ticket and event.ticket in self.tickets:
            t = self.tickets[event.ticket]
            rec["ticket_view"] = self.ticket_view(t.id, now)
            queues.add(t.queue)
            if isinstance(event, ev.TicketTransferred):
                queues.add(event.from_queue)
        if event.window is not None and event.window in self._wcfg:
            rec["window_view"] = self.window_view(event.window)
            queues.update(wq.queue for wq in self._wcfg[event.window].queues)
        if isinstance(event, ev.DayStarted):
            queues.update(self._queues)
        rec["queues"] = [self.queue_summary(q, now) for q in sorted(queues) if q in self._queues]
        return rec

    # ------------------------------------------------------------------ internals

    def _emit(self, out: list[Event], event: Event) -> None:
        _APPLY[type(event)](self, event)
        out.append(event)

    def replay(self, event: Event) -> None:
        """Apply one logged event (a fact: no checks beyond the transition tables)."""
        _APPLY[type(event)](self, event)

    def _roll_over(self, now: datetime, out: list[Event]) -> None:
        today = now.date()
        if self.service_date == today:
            return
        leftover = [t.id for t in self.tickets.values() if t.state not in (T.DONE, T.CANCELLED, T.NO_SHOW)]
        self._emit(out, ev.DayStarted(at=now, actor=str(c.SYSTEM), service_date=today,
                                      previous_date=self.service_date, expired=tuple(leftover)))

    def _prune(self, today: date) -> None:
        """Keep what a restart on ``today`` would load: open cases and those changed today,
        today's ratings, open rectifications and those closed within ``follow_up_days`` (a
        追评 may still come), and the ratings those refer to."""
        self.cases = {k: v for k, v in self.cases.items()
                      if not v.final or v.updated_at.astimezone(self.tz).date() >= today}
        since = today - timedelta(days=self.config.rules.follow_up_days)
        self.rectifications = {k: r for k, r in self.rectifications.items()
                               if r.closed_at is None or r.closed_at.astimezone(self.tz).date() >= since}
        kept = {r.rating_id for r in self.rectifications.values()}
        self.ratings = {k: r for k, r in self.ratings.items()
                        if r.service_date >= today or k in kept or r.follow_up_of in kept}
        self.case_numbers = {d: n for d, n in self.case_numbers.items() if d >= today}

    def _queue_open(self, q: QueueConfig, now: datetime) -> bool:
        return q.hours.is_open(now.weekday(), now.hour * 60 + now.minute)

    def _queue_cfg(self, code: str) -> QueueConfig:
        q = self._queues.get(code)
        if q is None:
            raise HallError("unknown_queue", f"no queue {code} in this hall")
        return q

    def _wcfg_of(self, number: int) -> WindowConfig:
        wcfg = self._wcfg.get(number)
        if wcfg is None:
            raise HallError("unknown_window", f"no window {number} in this hall")
        return wcfg

    def _current(self, number: int, action: str) -> Ticket:
        win = self.window(number)
        if win.current_ticket is None:
            raise HallError("no_current_ticket", f"cannot {action}: window {number} has no ticket at the counter")
        return self.tickets[win.current_ticket]

    def _require_free_open(self, number: int) -> Window:
        win = self.window(number)
        if win.state is not W.OPEN:
            raise HallError("window_not_open", f"window {number} is {win.state.value}: open or resume it first")
        if win.current_ticket is not None:
            cur = self.tickets[win.current_ticket]
            raise HallError("window_busy", f"window {number} still has {cur.number} ({cur.state.value}): finish it, mark it no-show or transfer it first")
        return win

    def _touch_ticket(self, t: Ticket) -> None:
        self.changes.tickets[t.id] = t

    def _touch_window(self, number: int) -> None:
        self.changes.windows.add(number)


# ---------------------------------------------------------------------- command handlers
# Each checks everything first, then emits. ``a`` is the actor string.


def _issue(h: Hall, cmd: c.IssueTicket, now: datetime, a: str, out: list[Event]) -> None:
    q = h._queue_cfg(cmd.queue)
    if not h._queue_open(q, now):
        raise HallError("queue_closed", f"{q.name} ({q.code}) is not open now")
    issued = h.numbers.get((now.date(), q.code), 0)
    cap = min(q.daily_cap, MAX_NUMBERS_PER_DAY)  # numbers are the queue code + 3 digits
    if issued >= cap:
        raise HallError("queue_full", f"{q.name} ({q.code}) has issued all {cap} tickets for today")
    if cmd.priority == c.Priority.APPOINTMENT and cmd.appointment_slot is None:
        raise HallError("invalid_field", "an appointment ticket needs its appointment_slot")
    seq = issued + 1
    number = f"{q.code}{seq:03d}"
    tid = f"{now:%Y%m%d}-{number}"
    ap = cmd.applicant or c.Applicant()
    draft = ev.TicketIssued(
        at=now, actor=a, ticket=tid, queue=q.code, number=number, seq=seq, channel=cmd.channel.value,
        priority=cmd.priority.value, checked_in=cmd.checked_in, status_token=cmd_token(cmd, h.config.code, tid),
        appointment_slot=cmd.appointment_slot.astimezone(h.tz) if cmd.appointment_slot else None,
        applicant_name=ap.name, applicant_phone=ap.phone, applicant_id=ap.id_number,
        position=0, estimated_wait_s=0,
    )
    _APPLY[ev.TicketIssued](h, draft)  # the estimate counts the new ticket in its line
    pos, wait = h.estimates(q.code, now).get(tid, (0, 0.0))
    h.tickets[tid].estimated_wait_s = round(wait, 1)
    out.append(replace(draft, position=pos, estimated_wait_s=round(wait)))


def cmd_token(cmd: c.IssueTicket, hall_code: str, tid: str) -> str:
    if cmd.status_token:
        return cmd.status_token
    # Deterministic fallback for simulations and tests; the server always passes a random one.
    return hashlib.sha256(f"{hall_code}/{tid}".encode()).hexdigest()[:22]


def _check_in(h: Hall, cmd: c.CheckIn, now: datetime, a: str, out: list[Event]) -> None:
    t = h.find_ticket(cmd.ticket)
    ticket_transition("check in", t.number, t.state)
    if t.checked_in:
        raise HallError("illegal_transition", f"cannot check in {t.number}: it is already checked in")
    h._emit(out, ev.TicketCheckedIn(at=now, actor=a, ticket=t.id))


def _call_next(h: Hall, cmd: c.CallNext, now: datetime, a: str, out: list[Event]) -> None:
    win = h._require_free_open(cmd.window)
    wcfg = h._wcfg[cmd.window]
    t = pick_next(wcfg, win.priority_streak, h.waiting(), now, h.config.rules)
    if t is None:
        raise HallError("queue_empty", f"nobody is waiting for window {cmd.window}")
    _emit_call(h, t, cmd.window, now, a, out, reason="")


def _emit_call(h: Hall, t: Ticket, window: int, now: datetime, a: str, out: list[Event], *, reason: str) -> None:
    win = h.windows[window]
    h._emit(out, ev.TicketCalled(at=now, actor=a, ticket=t.id, window=window, number=t.number, queue=t.queue,
                                 priority=t.priority, reason=reason, staff=win.staff,
                                 waited_s=round((now - t.arrived_at).total_seconds())))


def _call_ticket(h: Hall, cmd: c.CallTicket, now: datetime, a: str, out: list[Event]) -> None:
    if not cmd.reason.strip():
        raise HallError("reason_required", "calling a ticket out of order needs a reason")
    h._require_free_open(cmd.window)
    t = h.find_ticket(cmd.ticket)
    ticket_transition("call", t.number, t.state)
    wcfg = h._wcfg[cmd.window]
    served = {wq.queue for wq in wcfg.queues}
    if t.queue not in served and t.target_window != cmd.window:
        raise HallError("not_served_here", f"window {cmd.window} does not serve queue {t.queue} of {t.number}")
    if t.target_window is not None and t.target_window != cmd.window:
        raise HallError("not_served_here", f"{t.number} was sent to window {t.target_window}")
    _emit_call(h, t, cmd.window, now, a, out, reason=cmd.reason.strip())


def _recall(h: Hall, cmd: c.Recall, now: datetime, a: str, out: list[Event]) -> None:
    t = h._current(cmd.window, "recall")
    ticket_transition("recall", t.number, t.state)
    limit = h.config.rules.recall_limit
    if t.recalls >= limit:
        if not h.config.rules.auto_no_show:
            raise HallError("recall_limit", f"{t.number} has been recalled {t.recalls} times (limit {limit})")
        ticket_transition("mark no-show", t.number, t.state)
        h._emit(out, ev.TicketNoShow(at=now, actor=a, ticket=t.id, window=cmd.window, number=t.number,
                                     reason="recall_limit", recalls=t.recalls))
        return
    h._emit(out, ev.TicketRecalled(at=now, actor=a, ticket=t.id, window=cmd.window, number=t.number,
                                   queue=t.queue, recall=t.recalls + 1))


def _start(h: Hall, cmd: c.StartService, now: datetime, a: str, out: list[Event]) -> None:
    t = h._current(cmd.window, "start service")
    ticket_transition("start", t.number, t.state)
    h._emit(out, ev.ServiceStarted(at=now, actor=a, ticket=t.id, window=cmd.window, number=t.number, queue=t.queue))


def _finish(h: Hall, cmd: c.FinishService, now: datetime, a: str, out: list[Event]) -> None:
    t = h._current(cmd.window, "finish service")
    ticket_transition("finish", t.number, t.state)
    occupancy = (now - t.called_at).total_seconds() if t.called_at else 0.0
    service = (now - t.served_at).total_seconds() if t.served_at else 0.0
    matter = rating_rules.service_of(h, t)["matter_name"]  # what the window's rating pad shows
    win = h.windows[cmd.window]
    h._emit(out, ev.ServiceFinished(at=now, actor=a, ticket=t.id, window=cmd.window, number=t.number,
                                    queue=t.queue, service_s=round(service), occupancy_s=round(occupancy),
                                    staff=win.staff, staff_name=win.staff_name, matter_name=matter))


def _no_show(h: Hall, cmd: c.NoShow, now: datetime, a: str, out: list[Event]) -> None:
    t = h._current(cmd.window, "mark no-show")
    ticket_transition("mark no-show", t.number, t.state)
    h._emit(out, ev.TicketNoShow(at=now, actor=a, ticket=t.id, window=cmd.window, number=t.number,
                                 reason="manual", recalls=t.recalls))


def _reactivate(h: Hall, cmd: c.Reactivate, now: datetime, a: str, out: list[Event]) -> None:
    t = h.find_ticket(cmd.ticket)
    ticket_transition("reactivate", t.number, t.state)
    if not h.config.rules.reactivate_same_day:
        raise HallError("not_allowed", "this hall does not reactivate no-show tickets")
    if t.service_date != now.date():
        raise HallError("illegal_transition", f"cannot reactivate {t.number}: it was issued on another day")
    h._emit(out, ev.TicketReactivated(at=now, actor=a, ticket=t.id, number=t.number, queue=t.queue))


def _transfer(h: Hall, cmd: c.Transfer, now: datetime, a: str, out: list[Event]) -> None:
    t = h.find_ticket(cmd.ticket)
    ticket_transition("transfer", t.number, t.state)
    to_queue = cmd.to_queue or t.queue
    h._queue_cfg(to_queue)
    if cmd.to_window is not None:
        h._wcfg_of(cmd.to_window)
        if cmd.to_window == t.window and t.active:
            raise HallError("invalid_field", f"{t.number} is already at window {cmd.to_window}")
    if cmd.to_queue is None and cmd.to_window is None:
        raise HallError("invalid_field", "a transfer needs to_queue or to_window")
    if to_queue == t.queue and cmd.to_window is None and t.state is T.WAITING:
        raise HallError("invalid_field", f"{t.number} already waits in queue {to_queue}")
    h._emit(out, ev.TicketTransferred(at=now, actor=a, ticket=t.id, window=t.window if t.active else None,
                                      number=t.number, from_queue=t.queue, to_queue=to_queue,
                                      to_window=cmd.to_window, reason=cmd.reason))


def _cancel(h: Hall, cmd: c.CancelTicket, now: datetime, a: str, out: list[Event]) -> None:
    t = h.find_ticket(cmd.ticket)
    ticket_transition("cancel", t.number, t.state)
    h._emit(out, ev.TicketCancelled(at=now, actor=a, ticket=t.id, window=t.window if t.active else None,
                                    number=t.number, queue=t.queue, reason=cmd.reason))


def _open(h: Hall, cmd: c.OpenWindow, now: datetime, a: str, out: list[Event]) -> None:
    win = h.window(cmd.window)
    window_transition("open", cmd.window, win.state)
    h._emit(out, ev.WindowOpened(at=now, actor=a, window=cmd.window, staff=win.staff))


def _pause(h: Hall, cmd: c.PauseWindow, now: datetime, a: str, out: list[Event]) -> None:
    win = h.window(cmd.window)
    window_transition("pause", cmd.window, win.state)
    if not cmd.reason.strip():
        raise HallError("reason_required", "pausing a window needs a reason")
    h._emit(out, ev.WindowPaused(at=now, actor=a, window=cmd.window, reason=cmd.reason.strip(), staff=win.staff))


def _resume(h: Hall, cmd: c.ResumeWindow, now: datetime, a: str, out: list[Event]) -> None:
    win = h.window(cmd.window)
    window_transition("resume", cmd.window, win.state)
    h._emit(out, ev.WindowResumed(at=now, actor=a, window=cmd.window, staff=win.staff))


def _close(h: Hall, cmd: c.CloseWindow, now: datetime, a: str, out: list[Event]) -> None:
    win = h.window(cmd.window)
    window_transition("close", cmd.window, win.state)
    if win.current_ticket is not None:
        cur = h.tickets[win.current_ticket]
        raise HallError("window_busy", f"cannot close window {cmd.window}: {cur.number} is still {cur.state.value} there")
    h._emit(out, ev.WindowClosed(at=now, actor=a, window=cmd.window, staff=win.staff))


def _login(h: Hall, cmd: c.StaffLogin, now: datetime, a: str, out: list[Event]) -> None:
    win = h.window(cmd.window)
    if win.staff == cmd.username:
        return  # already there: a terminal reconnecting logs in again
    if win.staff is not None and win.current_ticket is not None:
        raise HallError("window_busy", f"window {cmd.window}: {win.staff_name or win.staff} is serving a ticket there")
    for other in h.windows.values():
        if other.staff == cmd.username and other.current_ticket is not None:
            raise HallError("window_busy", f"{cmd.username} is serving a ticket at window {other.number}")
    for other in h.windows.values():
        if other.staff == cmd.username:
            _leave(h, other.number, now, a, out)
    if win.staff is not None:
        _leave(h, cmd.window, now, a, out)
    h._emit(out, ev.StaffLoggedIn(at=now, actor=a, window=cmd.window, staff=cmd.username, staff_name=cmd.name))


def _leave(h: Hall, number: int, now: datetime, a: str, out: list[Event]) -> None:
    win = h.windows[number]
    if win.state is not W.CLOSED:
        h._emit(out, ev.WindowClosed(at=now, actor=a, window=number, staff=win.staff, reason="logout"))
    h._emit(out, ev.StaffLoggedOut(at=now, actor=a, window=number, staff=win.staff))


def _logout(h: Hall, cmd: c.StaffLogout, now: datetime, a: str, out: list[Event]) -> None:
    win = h.window(cmd.window)
    if win.staff is None:
        raise HallError("illegal_transition", f"cannot log out of window {cmd.window}: nobody is logged in")
    if win.current_ticket is not None:
        cur = h.tickets[win.current_ticket]
        raise HallError("window_busy", f"cannot log out of window {cmd.window}: {cur.number} is still {cur.state.value} there")
    _leave(h, cmd.window, now, a, out)


def _tick(h: Hall, cmd: c.Tick, now: datetime, a: str, out: list[Event]) -> None:
    return  # the roll-over in handle() is all a tick does


Handler = Callable[[Hall, Any, datetime, str, list[Event]], None]

_HANDLERS: dict[type, Handler] = {
    c.IssueTicket: _issue, c.CheckIn: _check_in, c.CallNext: _call_next, c.CallTicket: _call_ticket,
    c.Recall: _recall, c.StartService: _start, c.FinishService: _finish, c.NoShow: _no_show,
    c.Reactivate: _reactivate, c.Transfer: _transfer, c.CancelTicket: _cancel,
    c.OpenWindow: _open, c.PauseWindow: _pause, c.ResumeWindow: _resume, c.CloseWindow: _close,
    c.StaffLogin: _login, c.StaffLogout: _logout, c.Tick: _tick,
    **case_rules.HANDLERS, **rating_rules.HANDLERS,
}


# ---------------------------------------------------------------------- event application
# Pure state changes, no checks: events are facts. States move by the tables (states.py).


def _ticket_step(t: Ticket, action: str) -> None:
    t.state = ticket_transition(action, t.number, t.state)


def _a_day_started(h: Hall, e: ev.DayStarted) -> None:
    for tid in e.expired:
        t = h.tickets[tid]
        if t.window is not None and h.windows[t.window].current_ticket == tid:
            h.windows[t.window].current_ticket = None
            h._touch_window(t.window)
        _ticket_step(t, "expire")
        t.note = "day_closed"
        h._touch_ticket(t)
    for win in h.windows.values():
        if win.priority_streak or win.current_ticket:
            win.priority_streak = 0
            win.current_ticket = None
            h._touch_window(win.number)
    h.tickets = {}
    h.service_date = e.service_date
    h._prune(h.service_date)


def _a_issued(h: Hall, e: ev.TicketIssued) -> None:
    assert e.ticket is not None
    t = Ticket(
        id=e.ticket, number=e.number, queue=e.queue, service_date=e.at.date(), seq=e.seq,
        channel=e.channel, priority=e.priority, state=T.WAITING, issued_at=e.at,
        arrived_at=e.at, status_token=e.status_token, checked_in=e.checked_in,
        appointment_slot=e.appointment_slot, applicant_name=e.applicant_name,
        applicant_phone=e.applicant_phone, applicant_id=e.applicant_id,
    )
    h.tickets[t.id] = t
    h.numbers[(e.at.date(), t.queue)] = e.seq
    h.changes.numbers.add((e.at.date(), t.queue))
    h._touch_ticket(t)


def _ticket_of(h: Hall, e: Event) -> Ticket:
    assert e.ticket is not None
    return h.tickets[e.ticket]


def _a_checked_in(h: Hall, e: ev.TicketCheckedIn) -> None:
    t = _ticket_of(h, e)
    _ticket_step(t, "check in")
    t.checked_in = True
    t.arrived_at = e.at
    h._touch_ticket(t)


def _a_called(h: Hall, e: ev.TicketCalled) -> None:
    t = _ticket_of(h, e)
    assert e.window is not None
    win = h.windows[e.window]
    _ticket_step(t, "call")
    t.called_at = e.at
    t.window = e.window
    t.target_window = None
    t.recalls = 0
    t.served_by = win.staff
    if e.reason:
        t.note = e.reason
    win.current_ticket = t.id
    _observe_cycle(h, win.number, e.at, t.queue)
    if not e.reason:  # out-of-order calls leave the fairness count alone
        win.priority_streak = win.priority_streak + 1 if t.priority != "normal" else 0
    h._touch_ticket(t)
    h._touch_window(win.number)


def _observe_cycle(h: Hall, window: int, at: datetime, queue: str) -> None:
    """A call right after the window's previous citizen left closes one window cycle
    (call to next call): a sample of the previous ticket's queue (see estimate.py)."""
    cyc = h.cycles.setdefault(window, WindowCycle())
    sample = cyc.sample(at)
    if sample is not None and cyc.last_queue in h.service_times:
        h.service_times[cyc.last_queue].observe(sample, h.config.rules.ewma_alpha)
        h.changes.service_times.add(cyc.last_queue)
    cyc.last_call_at, cyc.last_queue = at, queue


def _a_recalled(h: Hall, e: ev.TicketRecalled) -> None:
    t = _ticket_of(h, e)
    _ticket_step(t, "recall")
    t.recalls += 1
    h._touch_ticket(t)


def _a_started(h: Hall, e: ev.ServiceStarted) -> None:
    t = _ticket_of(h, e)
    _ticket_step(t, "start")
    t.served_at = e.at
    h._touch_ticket(t)


def _release(h: Hall, t: Ticket, at: datetime) -> None:
    if t.window is not None and h.windows[t.window].current_ticket == t.id:
        h.windows[t.window].current_ticket = None
        h._touch_window(t.window)
        h.cycles.setdefault(t.window, WindowCycle()).released_at = at


def _a_finished(h: Hall, e: ev.ServiceFinished) -> None:
    t = _ticket_of(h, e)
    _ticket_step(t, "finish")
    t.finished_at = e.at
    _release(h, t, e.at)
    h._touch_ticket(t)


def _a_no_show(h: Hall, e: ev.TicketNoShow) -> None:
    t = _ticket_of(h, e)
    _ticket_step(t, "mark no-show")
    _release(h, t, e.at)
    h._touch_ticket(t)


def _a_reactivated(h: Hall, e: ev.TicketReactivated) -> None:
    t = _ticket_of(h, e)
    _ticket_step(t, "reactivate")
    t.recalls = 0
    h._touch_ticket(t)


def _a_transferred(h: Hall, e: ev.TicketTransferred) -> None:
    t = _ticket_of(h, e)
    _release(h, t, e.at)
    _ticket_step(t, "transfer")
    t.queue = e.to_queue
    t.target_window = e.to_window
    t.transfers += 1
    t.recalls = 0
    t.note = e.reason
    h._touch_ticket(t)


def _a_cancelled(h: Hall, e: ev.TicketCancelled) -> None:
    t = _ticket_of(h, e)
    _release(h, t, e.at)
    _ticket_step(t, "cancel")
    t.note = e.reason
    h._touch_ticket(t)


def _window_step(h: Hall, e: Event, action: str, pause_reason: str = "") -> None:
    assert e.window is not None
    win = h.windows[e.window]
    win.state = window_transition(action, win.number, win.state)
    win.state_since = e.at
    win.pause_reason = pause_reason
    if win.state is not W.OPEN:
        win.priority_streak = 0 if win.state is W.CLOSED else win.priority_streak
        h.cycles.pop(win.number, None)  # a break is no part of a service cycle
    h._touch_window(win.number)


def _a_opened(h: Hall, e: ev.WindowOpened) -> None:
    _window_step(h, e, "open")


def _a_paused(h: Hall, e: ev.WindowPaused) -> None:
    _window_step(h, e, "pause", e.reason)


def _a_resumed(h: Hall, e: ev.WindowResumed) -> None:
    _window_step(h, e, "resume")


def _a_closed(h: Hall, e: ev.WindowClosed) -> None:
    _window_step(h, e, "close")


def _a_logged_in(h: Hall, e: ev.StaffLoggedIn) -> None:
    assert e.window is not None
    win = h.windows[e.window]
    win.staff = e.staff
    win.staff_name = e.staff_name
    h._touch_window(win.number)


def _a_logged_out(h: Hall, e: ev.StaffLoggedOut) -> None:
    assert e.window is not None
    win = h.windows[e.window]
    win.staff = None
    win.staff_name = ""
    h._touch_window(win.number)


Apply = Callable[[Hall, Any], None]

_APPLY: dict[type[Event], Apply] = {
    ev.DayStarted: _a_day_started, ev.TicketIssued: _a_issued, ev.TicketCheckedIn: _a_checked_in,
    ev.TicketCalled: _a_called, ev.TicketRecalled: _a_recalled, ev.ServiceStarted: _a_started,
    ev.ServiceFinished: _a_finished, ev.TicketNoShow: _a_no_show,
    ev.TicketReactivated: _a_reactivated, ev.TicketTransferred: _a_transferred,
    ev.TicketCancelled: _a_cancelled, ev.WindowOpened: _a_opened, ev.WindowPaused: _a_paused,
    ev.WindowResumed: _a_resumed, ev.WindowClosed: _a_closed, ev.StaffLoggedIn: _a_logged_in,
    ev.StaffLoggedOut: _a_logged_out,
    **case_rules.APPLY, **rating_rules.APPLY,
}
