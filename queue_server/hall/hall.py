"""The hall: commands in, events out. Pure and synchronous.

``Hall.handle(command, now, actor)`` runs the one handler the command's class maps to
(``queue_commands``, ``case_commands``, ``rating_commands``). A handler checks the command
against the state and the transition tables, then emits events, each applied to the state of
its owner as it is emitted: the queue (tickets, windows), the cases, or the ratings. All checks
of a command come before its first event, so a refused command (``HallError``) changes
nothing. Time is a value passed in; this module never reads a clock.

The ``Hall`` is a thin composition: it owns no state of its own but the day roll-over, and
gives callers one face (the views the server and the simulator use).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any

from . import case_commands, complaint_commands, queue_commands, rating_commands
from . import commands as c
from . import events as ev
from .calendar import WorkCalendar
from .cases import Cases
from .complaints import Complaints
from .config import HallConfig
from .errors import HallError
from .estimate import Capacity, Release, ServiceTime, WindowCycle
from .events import PRIVATE_FIELDS, Event
from .model import Case, Complaint, Rating, Rectification, Ticket, Window
from .queue import MAX_NUMBERS_PER_DAY, Queue
from .ratings import Ratings
from .states import TicketState as T

__all__ = ["MAX_NUMBERS_PER_DAY", "Changes", "Hall"]

Run = Callable[[Any, datetime, str, list[Event]], None]


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
    complaints: dict[int, Complaint] = field(default_factory=dict)


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
        complaints: Iterable[Complaint] = (),
        last_complaint_id: int = 0,
        calendar: WorkCalendar | None = None,
        matters: Mapping[str, Any] | None = None,
    ) -> None:
        """``calendar``: working days for deadlines (default: the ``chinese_calendar`` years;
        the server passes ``load_calendar()``). ``matters``: the matter catalogue, code →
        ``queue_server.matters.Matter`` (any object with its attributes)."""
        self.config = config
        self.queue = Queue(
            config,
            tickets=tickets,
            windows=windows,
            numbers=numbers,
            service_times=service_times,
            service_date=service_date,
            matter_of=lambda t: self.rating_book.service_of(t)["matter_name"],
        )
        self.case_book = Cases(
            config,
            self.queue,
            cases=cases,
            case_numbers=case_numbers,
            calendar=calendar if calendar is not None else WorkCalendar.from_package(),
            matters=matters or {},
        )
        self.rating_book = Ratings(
            config,
            self.queue,
            self.case_book,
            ratings=ratings,
            rectifications=rectifications,
            last_rating_id=last_rating_id,
            last_rectification_id=last_rectification_id,
        )
        self.complaint_book = Complaints(
            config,
            self.case_book,
            self.rating_book,
            complaints=complaints,
            last_complaint_id=last_complaint_id,
        )
        self.tz = self.queue.tz
        if self.queue.service_date is not None:
            self._prune(self.queue.service_date)
        # the one dispatch table: command class -> its handler, bound to the part that owns it
        self._handlers: dict[type, Run] = {
            **{cls: partial(fn, self.queue) for cls, fn in queue_commands.HANDLERS.items()},
            **{cls: partial(fn, self.case_book) for cls, fn in case_commands.HANDLERS.items()},
            **{cls: partial(fn, self.rating_book) for cls, fn in rating_commands.HANDLERS.items()},
            **{cls: partial(fn, self.complaint_book) for cls, fn in complaint_commands.HANDLERS.items()},
            c.RecomputeDeadlines: self._recompute,
        }

    # ------------------------------------------------------------------ commands and events

    def handle(self, cmd: c.Command, now: datetime, actor: c.Actor = c.SYSTEM) -> list[Event]:
        """Run one command. Returns the events it produced (already applied)."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        now = now.astimezone(self.tz)
        out: list[Event] = []
        self._roll_over(now, out)
        handler = self._handlers.get(type(cmd))
        if handler is None:
            raise HallError("unknown_command", f"unknown command {type(cmd).__name__}")
        try:
            handler(cmd, now, str(actor), out)
        except HallError as err:
            if out:  # a day roll-over still stands: the error carries its events
                raise HallError(err.code, err.message, events=tuple(out)) from err
            raise
        return out

    def command_classes(self) -> frozenset[type]:
        """The command classes this hall handles: the keys of its one dispatch table."""
        return frozenset(self._handlers)

    def replay(self, event: Event) -> None:
        """Apply one logged event (a fact: no checks beyond the transition tables)."""
        if isinstance(event, ev.DayStarted):
            self.queue.apply(event)
            self._prune(event.service_date)
            return
        owner = next(
            p for p in (self.queue, self.case_book, self.rating_book, self.complaint_book) if p.owns(event)
        )
        owner.apply(event)

    def take_changes(self) -> Changes:
        q, k, r = self.queue.take_changes(), self.case_book.take_changes(), self.rating_book.take_changes()
        p = self.complaint_book.take_changes()
        return Changes(
            tickets=q.tickets,
            windows=q.windows,
            numbers=q.numbers,
            service_times=q.service_times,
            cases=k.cases,
            case_numbers=k.case_numbers,
            ratings=r.ratings,
            rectifications=r.rectifications,
            complaints=p.complaints,
        )

    def _roll_over(self, now: datetime, out: list[Event]) -> None:
        today = now.date()
        if self.queue.service_date == today:
            return
        day = ev.DayStarted(
            at=now,
            actor=str(c.SYSTEM),
            service_date=today,
            previous_date=self.queue.service_date,
            expired=tuple(self.queue.leftover()),
        )
        self.replay(day)
        out.append(day)

    def _prune(self, today: date) -> None:
        self.case_book.prune(today)
        self.rating_book.prune(today)
        self.complaint_book.prune(today)

    def _recompute(self, cmd: c.RecomputeDeadlines, now: datetime, a: str, out: list[Event]) -> None:
        case_commands.recompute(self.case_book, cmd, now, a, out)
        rating_commands.recompute(self.rating_book, cmd, now, a, out)

    # ------------------------------------------------------------------ the parts' state

    @property
    def tickets(self) -> dict[str, Ticket]:
        return self.queue.tickets

    @property
    def windows(self) -> dict[int, Window]:
        return self.queue.windows

    @property
    def numbers(self) -> dict[tuple[date, str], int]:
        return self.queue.numbers

    @property
    def service_times(self) -> dict[str, ServiceTime]:
        return self.queue.service_times

    @property
    def service_date(self) -> date | None:
        return self.queue.service_date

    @property
    def cycles(self) -> dict[int, WindowCycle]:
        return self.queue.cycles

    @property
    def cases(self) -> dict[str, Case]:
        return self.case_book.cases

    @property
    def case_numbers(self) -> dict[date, int]:
        return self.case_book.case_numbers

    @property
    def calendar(self) -> WorkCalendar:
        return self.case_book.calendar

    @calendar.setter
    def calendar(self, value: WorkCalendar) -> None:
        self.case_book.calendar = value

    @property
    def matters(self) -> Mapping[str, Any]:
        return self.case_book.matters

    @property
    def ratings(self) -> dict[int, Rating]:
        return self.rating_book.ratings

    @property
    def rectifications(self) -> dict[int, Rectification]:
        return self.rating_book.rectifications

    @property
    def last_rating_id(self) -> int:
        return self.rating_book.last_rating_id

    @property
    def last_rectification_id(self) -> int:
        return self.rating_book.last_rectification_id

    @property
    def complaints(self) -> dict[int, Complaint]:
        return self.complaint_book.complaints

    @property
    def last_complaint_id(self) -> int:
        return self.complaint_book.last_complaint_id

    # ------------------------------------------------------------------ lookups and views

    def ticket(self, ticket_id: str) -> Ticket:
        return self.queue.ticket(ticket_id)

    def find_ticket(self, number_or_id: str) -> Ticket:
        return self.queue.find_ticket(number_or_id)

    def ticket_by_token(self, token: str) -> Ticket | None:
        return self.queue.ticket_by_token(token)

    def window(self, number: int) -> Window:
        return self.queue.window(number)

    def waiting(self, queue: str | None = None) -> list[Ticket]:
        return self.queue.waiting(queue)

    def shares(self, queue: str) -> list[tuple[Window, float]]:
        return self.queue.shares(queue)

    def capacity(self, queue: str) -> Capacity:
        return self.queue.capacity(queue)

    def queue_order(self, queue: str, now: datetime) -> list[Ticket]:
        return self.queue.queue_order(queue, now)

    def releases(self, queue: str, now: datetime) -> list[Release]:
        return self.queue.releases(queue, now)

    def estimates(self, queue: str, now: datetime) -> dict[str, tuple[int, float]]:
        return self.queue.estimates(queue, now)

    def queue_summary(self, queue: str, now: datetime) -> dict[str, Any]:
        return self.queue.queue_summary(queue, now)

    def window_view(self, number: int) -> dict[str, Any]:
        return self.queue.window_view(number)

    def ticket_view(self, ticket_id: str, now: datetime) -> dict[str, Any] | None:
        return self.queue.ticket_view(ticket_id, now)

    def case(self, receipt_no: str) -> Case:
        return self.case_book.case(receipt_no)

    def case_view(self, case: Case, now: datetime) -> dict[str, Any]:
        return self.case_book.view(case, now)

    def list_cases(
        self, now: datetime, *, department: str | None = None, states: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        return self.case_book.listing(now, department=department, states=states)

    def rectification(self, rid: int) -> Rectification:
        return self.rating_book.rectification(rid)

    def rating_of_ticket(self, ticket_id: str) -> Rating | None:
        return self.rating_book.rating_of_ticket(ticket_id)

    def rectification_of_rating(self, rating_id: int) -> Rectification | None:
        return self.rating_book.rectification_of_rating(rating_id)

    def rating_view(self, rating: Rating) -> dict[str, Any]:
        return self.rating_book.rating_view(rating)

    def rectification_view(self, r: Rectification, now: datetime) -> dict[str, Any]:
        return self.rating_book.rectification_view(r, now)

    def list_rectifications(
        self, now: datetime, *, department: str | None = None, open_only: bool = False
    ) -> list[dict[str, Any]]:
        return self.rating_book.list_rectifications(now, department=department, open_only=open_only)

    def complaint(self, cid: int) -> Complaint:
        return self.complaint_book.complaint(cid)

    def complaint_view(self, k: Complaint, now: datetime) -> dict[str, Any]:
        return self.complaint_book.view(k, now)

    def list_complaints(
        self,
        now: datetime,
        *,
        department: str | None = None,
        open_only: bool = False,
        overdue_only: bool = False,
    ) -> list[dict[str, Any]]:
        return self.complaint_book.listing(
            now, department=department, open_only=open_only, overdue_only=overdue_only
        )

    def rateable_service(self, window: int, now: datetime) -> dict[str, Any] | None:
        return self.rating_book.rateable_service(window, now)

    def rating_status(self, status_token: str) -> dict[str, Any]:
        return self.rating_book.rating_status(status_token)

    def public_state(self, now: datetime) -> dict[str, Any]:
        """The snapshot every screen starts from: masked, no phone or ID numbers."""
        now = now.astimezone(self.tz)
        tickets = []
        for q in self.config.queues:
            est = self.queue.estimates(q.code, now)
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
            "queues": [self.queue.queue_summary(q.code, now) for q in self.config.queues],
            "windows": [self.queue.window_view(w.number) for w in self.config.windows],
            "tickets": sorted(tickets, key=lambda v: v["issued_at"]),
            "recent_calls": [
                {
                    "ticket": t.number,
                    "ticket_id": t.id,
                    "queue": t.queue,
                    "window": t.window,
                    "called_at": t.called_at.isoformat() if t.called_at else None,
                    "state": t.state.value,
                }
                for t in calls
            ],
        }

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
            cid = data.get("complaint_id")
            if cid in self.complaints:
                rec["complaint_view"] = self.complaint_view(self.complaints[cid], now)
        queues: set[str] = set()
        if event.ticket and event.ticket in self.tickets:
            t = self.tickets[event.ticket]
            rec["ticket_view"] = self.ticket_view(t.id, now)
            queues.add(t.queue)
            if isinstance(event, ev.TicketTransferred):
                queues.add(event.from_queue)
        if event.window is not None and event.window in self.queue.window_configs:
            rec["window_view"] = self.window_view(event.window)
            queues.update(wq.queue for wq in self.queue.window_configs[event.window].queues)
        if isinstance(event, ev.DayStarted):
            queues.update(self.queue.queues)
        rec["queues"] = [self.queue_summary(q, now) for q in sorted(queues) if q in self.queue.queues]
        return rec
