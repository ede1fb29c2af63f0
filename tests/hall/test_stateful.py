"""Random command sequences against the hall core (Hypothesis ``RuleBasedStateMachine``).

Every command is either carried out or refused with ``HallError``; a refused command
changes nothing (except the day roll-over that ``handle`` does before any command, which
must then equal what a plain ``Tick`` would have done). Invariants, checked after every step:

* no ticket at two windows: window tickets are distinct, called or serving, and point back
  to their window; every called or serving ticket is held by exactly one window; a closed
  window holds nothing, and a window that is not open never gets a newly called ticket;
* within one priority class (normal or 绿色通道, not sent to a named window), the tickets
  of a queue are called in arrival order;
* ticket numbers are unique per queue per day, ``<queue><seq:03d>`` from 001 without gaps;
* every ticket is in exactly one state and the counts are conserved: the tickets of the
  day, summed over the states, are exactly the tickets issued that day, and the count in
  each state is what the events so far say (a model fed only with the events).

The machine also restarts the hall from its rows now and then and carries on.
"""

from __future__ import annotations

import copy
import dataclasses
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from queue_server.hall import Applicant, Hall, HallError, Priority, Ticket, TicketState, WindowState
from queue_server.hall import commands as c
from queue_server.hall.config import Interval, WeeklyHours

TZ = ZoneInfo("Asia/Shanghai")
T = TicketState
W = WindowState
QUEUES = ("A", "B", "P")
WINDOWS = (1, 2, 3, 9)
FINAL_OR_GONE = (T.DONE, T.CANCELLED, T.NO_SHOW)
# the ticket state each event leaves behind
STATE_AFTER = {
    "ticket_issued": T.WAITING, "ticket_called": T.CALLED, "service_started": T.SERVING,
    "service_finished": T.DONE, "ticket_no_show": T.NO_SHOW, "ticket_reactivated": T.WAITING,
    "ticket_transferred": T.WAITING, "ticket_cancelled": T.CANCELLED,
}
ORDERED_CLASSES = (Priority.NORMAL.value, Priority.GREEN.value)

# weighted towards what the small hall is busy with; 5 and Z do not exist there
windows = st.sampled_from((1, 1, 2, 2, 3, 9, 5))
queues = st.sampled_from(("A", "A", "A", "B", "P"))
any_queue = st.sampled_from(("A", "B", "P", "Z"))
priorities = st.sampled_from([Priority.NORMAL] * 3 + [Priority.GREEN] * 2 + [Priority.APPOINTMENT])
picks = st.integers(min_value=0, max_value=10_000)
mostly = st.sampled_from([True, True, True, False])  # prefer a useful target, not always
reasons = st.sampled_from(["", "  ", "材料不全", "系统故障"])
minutes = st.integers(0, 15) | st.integers(0, 15) | st.integers(0, 15) | st.integers(60, 16 * 60)

SETTINGS = settings(
    max_examples=150,
    stateful_step_count=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def fingerprint(hall: Hall) -> tuple[Any, ...]:
    """Every field of every ticket and window, the numbers, the service times and the day.
    The same data as the rows ``to_row`` gives (fields hold immutable values), cheaper."""
    return (
        tuple((tid, tuple(vars(t).items())) for tid, t in hall.tickets.items()),
        tuple(tuple(vars(w).items()) for w in hall.windows.values()),
        tuple(hall.numbers.items()),
        tuple((q, st_.mean_s, st_.samples) for q, st_ in hall.service_times.items()),
        hall.service_date,
    )


class HallMachine(RuleBasedStateMachine):
    # set by the test function from the conftest fixtures
    base_config: Any = None
    state_of: Any = None
    restarted: Any = None

    # ------------------------------------------------------------------ set-up

    @initialize(
        auto_no_show=st.booleans(),
        office_hours_for_a=st.sampled_from([False, False, False, True]),
        start=st.sampled_from([(9, 0), (9, 0), (16, 50), (23, 20)]),
        opened=st.sets(st.sampled_from(WINDOWS), min_size=1),
        waiting=st.lists(st.tuples(st.sampled_from(QUEUES), priorities), max_size=10),
    )
    def start(self, auto_no_show, office_hours_for_a, start, opened, waiting) -> None:
        cfg = self.base_config
        cfg = dataclasses.replace(cfg, rules=dataclasses.replace(cfg.rules, auto_no_show=auto_no_show))
        if office_hours_for_a:  # A opens 08:30-17:30 on weekdays only: queue_closed happens
            day = (Interval(start_min=8 * 60 + 30, end_min=17 * 60 + 30),)
            hours = WeeklyHours(days=(day,) * 5 + ((),) * 2)
            cfg = dataclasses.replace(cfg, queues=tuple(
                dataclasses.replace(q, hours=hours) if q.code == "A" else q for q in cfg.queues
            ))
        self.hall = Hall(cfg)
        self.now = datetime(2026, 11, 23, *start, tzinfo=TZ)  # a Monday
        self.ids: list[str] = []  # every ticket id ever issued, any day
        self.seqs: dict[tuple[date, str], list[int]] = {}  # numbers handed out per day and queue
        self.issued: Counter[date] = Counter()
        self.reactivated: set[str] = set()
        self.checked_in_late: set[str] = set()
        self.last_call: dict[tuple[date, str, str], tuple[datetime, int]] = {}
        self.model: dict[str, T] = {}  # today's tickets and their states, from the events alone
        for w in sorted(opened):
            self.run(c.OpenWindow(window=w))
        for queue, priority in waiting:
            slot = self.now if priority is Priority.APPOINTMENT else None
            self.run(c.IssueTicket(queue=queue, priority=priority, appointment_slot=slot))

    # ------------------------------------------------------------------ running a command

    def run(self, cmd: Any, actor: c.Actor = c.SYSTEM) -> list[Any] | None:
        hall = self.hall
        before = fingerprint(hall)
        pre_windows = {n: w.state for n, w in hall.windows.items()}
        pre_waiting = (
            {t.id: copy.copy(t) for t in hall.tickets.values() if t.state is T.WAITING}
            if isinstance(cmd, c.CallNext) else {}
        )
        rolls = hall.service_date != self.now.date()
        pending = {t.id for t in hall.tickets.values() if t.state not in FINAL_OR_GONE}
        twin = self.restarted(hall) if rolls else None
        try:
            events = hall.handle(cmd, self.now, actor)
        except HallError as err:
            events = err.events  # type: ignore[attr-defined]
            assert [e.type for e in events] == (["day_started"] if rolls else []), (err.code, err.message)
            assert err.code and err.message
            if twin is not None:  # what a plain Tick would have done, and nothing more
                twin.handle(c.Tick(), self.now)
                assert fingerprint(hall) == fingerprint(twin), (cmd, err.code)
            else:
                assert fingerprint(hall) == before, (cmd, err.code)
            self.observe(events, cmd, pending, pre_windows, pre_waiting)
            return None
        assert events[0].type == "day_started" if rolls else all(e.type != "day_started" for e in events)
        self.observe(events, cmd, pending, pre_windows, pre_waiting)
        return events

    def observe(self, events, cmd, pending, pre_windows, pre_waiting) -> None:
        for ev in events:
            assert ev.at == self.now
            if ev.type in STATE_AFTER:
                self.model[ev.ticket] = STATE_AFTER[ev.type]
            if ev.type == "day_started":
                assert set(ev.expired) == pending
                assert ev.service_date == self.now.date()
                self.model = {}
            elif ev.type == "ticket_issued":
                self.observe_issue(ev)
            elif ev.type == "ticket_called":
                assert pre_windows[ev.window] is W.OPEN, f"called at window {ev.window} while {pre_windows[ev.window]}"
                t = self.hall.tickets[ev.ticket]
                assert (t.state, t.window, t.called_at) == (T.CALLED, ev.window, self.now)
                if isinstance(cmd, c.CallNext):
                    self.check_arrival_order(pre_waiting[ev.ticket], pre_waiting)
            elif ev.type == "ticket_reactivated":
                self.reactivated.add(ev.ticket)
            elif ev.type == "ticket_checked_in":  # arrives now: may tie with one issued now
                self.checked_in_late.add(ev.ticket)

    def observe_issue(self, ev) -> None:
        day, q, seq = ev.at.date(), ev.queue, ev.seq
        seen = self.seqs.setdefault((day, q), [])
        assert seq == len(seen) + 1, f"{q} seq {seq} after {seen} on {day}"
        assert ev.number == f"{q}{seq:03d}" and ev.ticket == f"{day:%Y%m%d}-{q}{seq:03d}"
        assert ev.ticket not in self.ids
        seen.append(seq)
        self.ids.append(ev.ticket)
        self.issued[day] += 1
        assert ev.position >= (1 if ev.checked_in else 0)
        assert ev.estimated_wait_s >= 0

    def check_arrival_order(self, called: Ticket, pre_waiting: dict[str, Ticket]) -> None:
        if called.target_window is not None or called.priority not in ORDERED_CLASSES:
            return
        key = (called.arrived_at, called.seq)
        for u in pre_waiting.values():
            if (u.id != called.id and u.queue == called.queue and u.priority == called.priority
                    and u.target_window is None and u.checked_in):
                # equal keys only between tickets issued in different queues: either may go
                assert not (u.arrived_at, u.seq) < key, f"{called.number} called before {u.number}, which arrived first"
        if called.transfers == 0 and called.id not in self.reactivated and called.id not in self.checked_in_late:
            cls = (called.service_date, called.queue, called.priority)
            last = self.last_call.get(cls)
            assert last is None or last < key, f"{called.number} called after a later {cls} ticket"
            self.last_call[cls] = key

    def pick(self, i: int, by_number: bool, today_only: bool = True,
             wanted: Callable[[Ticket], bool] = lambda t: True) -> str:
        """One of today's tickets (a ``wanted`` one when there is one), or, when not
        ``today_only``, any ticket ever issued."""
        today = list(self.hall.tickets.values())
        fitting = [t for t in today if wanted(t)] or today
        if today_only and fitting:
            tid = fitting[i % len(fitting)].id
        elif self.ids:
            tid = self.ids[i % len(self.ids)]
        else:
            return "A001"
        return tid.split("-", 1)[1] if by_number else tid

    def busy_window(self, i: int, window: int, prefer: bool) -> int:
        """A window with a ticket at its counter, when there is one and ``prefer``."""
        busy = [w.number for w in self.hall.windows.values() if w.current_ticket is not None]
        return busy[i % len(busy)] if busy and prefer else window

    def free_window(self, i: int, window: int, prefer: bool) -> int:
        """An open window with nobody at the counter, when there is one and ``prefer``."""
        free = [w.number for w in self.hall.windows.values() if w.state is W.OPEN and w.current_ticket is None]
        return free[i % len(free)] if free and prefer else window

    # Few rules with a kind each: Hypothesis switches whole rules off per example (swarm
    # testing), and with one rule per command the calls would rarely meet tickets and open
    # windows.

    # ------------------------------------------------------------------ rules: tickets

    @rule(
        queue=queues,
        priority=priorities,
        slot_in=st.none() | st.integers(-30, 90),
        checked_in=st.sampled_from([True, True, True, False]),
        named=st.booleans(),
    )
    def issue(self, queue, priority, slot_in, checked_in, named) -> None:
        slot = None if slot_in is None else self.now + timedelta(minutes=slot_in)
        applicant = Applicant(name="张三丰", phone="13812345678", id_number="110101199003071234") if named else None
        self.run(c.IssueTicket(queue=queue, priority=priority, appointment_slot=slot,
                               checked_in=checked_in, applicant=applicant))

    @rule(window=windows, i=picks, prefer=mostly, in_order=mostly, reason=reasons)
    def call(self, window, i, prefer, in_order, reason) -> None:
        window = self.free_window(i, window, prefer)
        if not in_order:
            ticket = self.pick(i // 7, False, prefer, lambda t: t.state is T.WAITING)
            self.run(c.CallTicket(window=window, ticket=ticket, reason=reason))
        else:
            self.run(c.CallNext(window=window))

    @rule(window=windows, i=picks, prefer=mostly,
          kind=st.sampled_from(["recall", "start", "start", "finish", "finish", "no_show"]))
    def at_the_counter(self, window, i, prefer, kind) -> None:
        window = self.busy_window(i, window, prefer)
        held = self.hall.windows.get(window)
        if prefer and held is not None and held.current_ticket is not None:  # what fits the ticket, mostly
            state = self.hall.tickets[held.current_ticket].state
            if state is T.CALLED and kind == "finish":
                kind = "start"
            elif state is T.SERVING and kind != "finish":
                kind = "finish"
        cmd = {"recall": c.Recall, "start": c.StartService, "finish": c.FinishService, "no_show": c.NoShow}[kind]
        self.run(cmd(window=window))

    @rule(
        i=picks,
        by_number=st.booleans(),
        today_only=mostly,
        kind=st.sampled_from(["check_in", "reactivate", "transfer", "cancel"]),
        to_queue=st.none() | any_queue,
        to_window=st.none() | windows,
    )
    def ticket_desk(self, i, by_number, today_only, kind, to_queue, to_window) -> None:
        wanted: dict[str, Callable[[Ticket], bool]] = {
            "check_in": lambda t: t.state is T.WAITING and not t.checked_in,
            "reactivate": lambda t: t.state is T.NO_SHOW,
            "transfer": lambda t: t.state in (T.WAITING, T.CALLED, T.SERVING),
            "cancel": lambda t: t.state in (T.WAITING, T.CALLED),
        }
        ticket = self.pick(i, by_number, today_only, wanted[kind])
        if kind == "check_in":
            self.run(c.CheckIn(ticket=ticket))
        elif kind == "reactivate":
            self.run(c.Reactivate(ticket=ticket))
        elif kind == "transfer":
            self.run(c.Transfer(ticket=ticket, to_queue=to_queue, to_window=to_window, reason="转办"))
        else:
            self.run(c.CancelTicket(ticket=ticket, reason="离开"))

    # ------------------------------------------------------------------ rules: windows, staff, time

    @rule(window=windows, kind=st.sampled_from(["open", "open", "pause", "resume", "close"]), reason=reasons)
    def window_switch(self, window, kind, reason) -> None:
        if kind == "open":
            self.run(c.OpenWindow(window=window))
        elif kind == "pause":
            self.run(c.PauseWindow(window=window, reason=reason))
        elif kind == "resume":
            self.run(c.ResumeWindow(window=window))
        else:
            self.run(c.CloseWindow(window=window))

    @rule(window=windows, kind=st.sampled_from(["own", "own", "own", "other", "logout"]),
          other=st.sampled_from(["w1", "w2", "w3"]))
    def staff(self, window, kind, other) -> None:
        """Mostly each window's own staff member logging in again; sometimes another one
        (who moves, closing the window left), sometimes a logout."""
        if kind == "logout":
            self.run(c.StaffLogout(window=window))
        else:
            username = f"w{window}" if kind == "own" else other
            self.run(c.StaffLogin(window=window, username=username, name=username))

    @rule(minutes=minutes, tick=st.booleans(), restart=st.sampled_from([False, False, False, True]))
    def advance(self, minutes, tick, restart) -> None:
        """Time passes (sometimes past midnight); the shell's timer ticks, or not; the
        server restarts from its rows now and then."""
        self.now += timedelta(minutes=minutes)
        if tick:
            self.run(c.Tick())
        if restart:
            before = self.state_of(self.hall)
            self.hall = self.restarted(self.hall)
            assert self.state_of(self.hall) == before

    # ------------------------------------------------------------------ invariants

    @invariant()
    def no_ticket_at_two_windows(self) -> None:
        hall = self.hall
        held: dict[str, int] = {}
        for w in hall.windows.values():
            if w.current_ticket is None:
                continue
            assert w.current_ticket not in held, f"{w.current_ticket} at window {held[w.current_ticket]} and {w.number}"
            held[w.current_ticket] = w.number
            t = hall.tickets[w.current_ticket]
            assert t.state in (T.CALLED, T.SERVING) and t.window == w.number, (w, t)
            assert w.state is not W.CLOSED, f"closed window {w.number} holds {t.number}"
        for t in hall.tickets.values():
            if t.state in (T.CALLED, T.SERVING):
                assert held.get(t.id) == t.window, f"{t.number} is {t.state} but held by no window"

    @invariant()
    def numbers_unique_and_counts_conserved(self) -> None:
        hall = self.hall
        if hall.service_date is None:
            return
        day = hall.service_date
        tickets = list(hall.tickets.values())
        assert all(t.service_date == day and isinstance(t.state, T) for t in tickets)
        numbers = [t.number for t in tickets]
        assert len(set(numbers)) == len(numbers)
        by_state = Counter(t.state for t in tickets)
        assert sum(by_state.values()) == len(tickets) == self.issued[day]
        assert by_state == Counter(self.model.values())
        assert {t.id: t.state for t in tickets} == self.model
        assert sum(hall.numbers.get((day, q), 0) for q in QUEUES) == self.issued[day]
        for q in QUEUES:
            assert hall.numbers.get((day, q), 0) == len(self.seqs.get((day, q), []))
        for t in tickets:  # one state, and the record agrees with it
            if t.state is T.DONE:
                assert t.finished_at is not None and t.served_at is not None
            if t.state is T.SERVING:
                assert t.served_at is not None and t.called_at is not None
            if t.state is T.WAITING:
                assert t.target_window is None or t.target_window in WINDOWS


def test_random_command_sequences_keep_the_hall_consistent(config, state_of, restarted):
    class Machine(HallMachine):
        pass

    Machine.base_config = config
    Machine.state_of = staticmethod(state_of)
    Machine.restarted = staticmethod(restarted)
    run_state_machine_as_test(Machine, settings=SETTINGS)
