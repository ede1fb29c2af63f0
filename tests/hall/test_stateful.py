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
  each state is what the events so far say (a model fed only with the events);
* cases (受理, 补正, 不予受理, review, suspension, decision, 出件) and ratings (pad and status
  page, 追评, every step of a 差评's loop, appeals) run alongside: a case is never both decided
  and open; receipt numbers and rating and rectification ids are handed out without gaps
  and every case, rating and loop the events created is still held or was let go by the
  day's pruning; every 差评 has exactly one rectification, and every rectification is a 差评's.

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
from queue_server.hall.states import CaseState as CS
from queue_server.hall.states import ComplaintState as CP
from queue_server.hall.states import RectificationState as RS
from queue_server.matters import load_matters

TZ = ZoneInfo("Asia/Shanghai")
T = TicketState
W = WindowState
QUEUES = ("A", "B", "P")
WINDOWS = (1, 2, 3, 9)
FINAL_OR_GONE = (T.DONE, T.CANCELLED, T.NO_SHOW)
# the ticket state each event leaves behind
STATE_AFTER = {
    "ticket_issued": T.WAITING,
    "ticket_called": T.CALLED,
    "service_started": T.SERVING,
    "service_finished": T.DONE,
    "ticket_no_show": T.NO_SHOW,
    "ticket_reactivated": T.WAITING,
    "ticket_transferred": T.WAITING,
    "ticket_cancelled": T.CANCELLED,
}
ORDERED_CLASSES = (Priority.NORMAL.value, Priority.GREEN.value)
MATTERS = {m.code: m for m in load_matters()}
CASE_MATTERS = ("SW-003", "SW-003", "SW-001")  # 承诺件 mostly, and a 即办件
CASE_OPEN = (CS.MATERIALS_REQUESTED, CS.ACCEPTED, CS.IN_REVIEW, CS.SUSPENDED)
STAFF = c.Actor(kind="staff", id="bo", name="后台")
CASE_CREATED = ("case_accepted", "materials_requested", "case_rejected")

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
    """Every field of every ticket, window, case, rating and rectification, the numbers, the
    service times and the day. The same data as the rows ``to_row`` gives, cheaper."""
    return (
        tuple((tid, tuple(vars(t).items())) for tid, t in hall.tickets.items()),
        tuple(tuple(vars(w).items()) for w in hall.windows.values()),
        tuple(hall.numbers.items()),
        tuple((q, st_.mean_s, st_.samples) for q, st_ in hall.service_times.items()),
        hall.service_date,
        tuple((k, repr(v.to_row())) for k, v in hall.cases.items()),
        tuple(hall.case_numbers.items()),
        tuple((k, repr(v.to_row())) for k, v in hall.ratings.items()),
        tuple((k, repr(v.to_row())) for k, v in hall.rectifications.items()),
        tuple((k, repr(v.to_row())) for k, v in hall.complaints.items()),
        (hall.last_rating_id, hall.last_rectification_id),
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
            cfg = dataclasses.replace(
                cfg,
                queues=tuple(dataclasses.replace(q, hours=hours) if q.code == "A" else q for q in cfg.queues),
            )
        self.hall = Hall(cfg, matters=MATTERS)
        self.now = datetime(2026, 11, 23, *start, tzinfo=TZ)  # a Monday
        self.ids: list[str] = []  # every ticket id ever issued, any day
        self.seqs: dict[tuple[date, str], list[int]] = {}  # numbers handed out per day and queue
        self.issued: Counter[date] = Counter()
        self.reactivated: set[str] = set()
        self.checked_in_late: set[str] = set()
        self.last_call: dict[tuple[date, str, str], tuple[datetime, int]] = {}
        self.model: dict[str, T] = {}  # today's tickets and their states, from the events alone
        self.receipts: dict[date, list[str]] = {}  # receipts created per day, from the events
        self.rating_ids: list[int] = []
        self.bad_ratings: list[int] = []  # first ratings with a score of 1-2
        self.rectification_ids: list[int] = []
        self.complaint_ids: list[int] = []
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
            if isinstance(cmd, c.CallNext)
            else {}
        )
        rolls = hall.service_date != self.now.date()
        pending = {t.id for t in hall.tickets.values() if t.state not in FINAL_OR_GONE}
        twin = self.restarted(hall) if rolls else None
        try:
            events = hall.handle(cmd, self.now, actor)
        except HallError as err:
            events = list(err.events)
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
                assert pre_windows[ev.window] is W.OPEN, (
                    f"called at window {ev.window} while {pre_windows[ev.window]}"
                )
                t = self.hall.tickets[ev.ticket]
                assert (t.state, t.window, t.called_at) == (T.CALLED, ev.window, self.now)
                if isinstance(cmd, c.CallNext):
                    self.check_arrival_order(pre_waiting[ev.ticket], pre_waiting)
            elif ev.type == "ticket_reactivated":
                self.reactivated.add(ev.ticket)
            elif ev.type == "ticket_checked_in":  # arrives now: may tie with one issued now
                self.checked_in_late.add(ev.ticket)
            elif (
                ev.type in CASE_CREATED
                and (ev.type != "case_rejected" or ev.new)
                and (ev.type != "case_accepted" or not ev.after_materials)
            ):
                created = self.receipts.setdefault(ev.at.date(), [])
                assert ev.seq == len(created) + 1 and ev.receipt_no not in created
                created.append(ev.receipt_no)
            elif ev.type in ("service_rated", "follow_up_rated"):
                assert ev.rating_id == len(self.rating_ids) + 1
                self.rating_ids.append(ev.rating_id)
                if ev.type == "service_rated" and ev.score <= 2:
                    self.bad_ratings.append(ev.rating_id)
            elif ev.type == "complaint_received":
                assert ev.complaint_id == len(self.complaint_ids) + 1 and ev.owner_department
                self.complaint_ids.append(ev.complaint_id)
            elif ev.type == "rectification_opened":
                assert ev.rectification_id == len(self.rectification_ids) + 1
                assert ev.rating_id == self.bad_ratings[-1]
                self.rectification_ids.append(ev.rectification_id)

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
            if (
                u.id != called.id
                and u.queue == called.queue
                and u.priority == called.priority
                and u.target_window is None
                and u.checked_in
            ):
                # equal keys only between tickets issued in different queues: either may go
                assert not (u.arrived_at, u.seq) < key, (
                    f"{called.number} called before {u.number}, which arrived first"
                )
        if (
            called.transfers == 0
            and called.id not in self.reactivated
            and called.id not in self.checked_in_late
        ):
            cls = (called.service_date, called.queue, called.priority)
            last = self.last_call.get(cls)
            assert last is None or last < key, f"{called.number} called after a later {cls} ticket"
            self.last_call[cls] = key

    def pick(
        self,
        i: int,
        by_number: bool,
        today_only: bool = True,
        wanted: Callable[[Ticket], bool] = lambda t: True,
    ) -> str:
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
        free = [
            w.number for w in self.hall.windows.values() if w.state is W.OPEN and w.current_ticket is None
        ]
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
        applicant = (
            Applicant(name="张三丰", phone="13812345678", id_number="110101199003071234") if named else None
        )
        self.run(
            c.IssueTicket(
                queue=queue,
                priority=priority,
                appointment_slot=slot,
                checked_in=checked_in,
                applicant=applicant,
            )
        )

    @rule(window=windows, i=picks, prefer=mostly, in_order=mostly, reason=reasons)
    def call(self, window, i, prefer, in_order, reason) -> None:
        window = self.free_window(i, window, prefer)
        if not in_order:
            ticket = self.pick(i // 7, False, prefer, lambda t: t.state is T.WAITING)
            self.run(c.CallTicket(window=window, ticket=ticket, reason=reason))
        else:
            self.run(c.CallNext(window=window))

    @rule(
        window=windows,
        i=picks,
        prefer=mostly,
        kind=st.sampled_from(["recall", "start", "start", "finish", "finish", "no_show"]),
    )
    def at_the_counter(self, window, i, prefer, kind) -> None:
        window = self.busy_window(i, window, prefer)
        held = self.hall.windows.get(window)
        if prefer and held is not None and held.current_ticket is not None:  # what fits the ticket, mostly
            state = self.hall.tickets[held.current_ticket].state
            if state is T.CALLED and kind == "finish":
                kind = "start"
            elif state is T.SERVING and kind != "finish":
                kind = "finish"
        cmd = {"recall": c.Recall, "start": c.StartService, "finish": c.FinishService, "no_show": c.NoShow}[
            kind
        ]
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

    # ------------------------------------------------------------------ rules: cases and ratings

    def serving_window(self, i: int, window: int, prefer: bool) -> int:
        """A window serving a ticket, when ``prefer``: one serving now, or window 3 after it
        calls a new ticket and starts (the next citizen sits down)."""
        serving = [
            w.number
            for w in self.hall.windows.values()
            if w.current_ticket is not None and self.hall.tickets[w.current_ticket].state is T.SERVING
        ]
        if serving or not prefer:
            return serving[i % len(serving)] if serving and prefer else window
        self.run(c.OpenWindow(window=3))
        events = self.run(c.IssueTicket(queue="B"))
        if events and self.hall.windows[3].current_ticket is None:
            self.run(c.CallTicket(window=3, ticket=events[-1].ticket, reason="办件"))
            self.run(c.StartService(window=3))
        return 3

    def pick_case(self, i: int, wanted: Callable[[Any], bool]) -> str:
        cases = sorted(self.hall.cases.values(), key=lambda k: k.receipt_no)
        fitting = [k for k in cases if wanted(k)] or cases
        return fitting[i % len(fitting)].receipt_no if fitting else "SL-20261123-0001"

    @rule(
        window=windows,
        i=picks,
        prefer=mostly,
        matter=st.sampled_from(CASE_MATTERS),
        kind=st.sampled_from(
            [
                "accept",
                "accept",
                "deficient",
                "materials",
                "reject",
                "resume",
                "reject_receipt",
                "decide_here",
                "deliver_here",
            ]
        ),
    )
    def case_desk(self, window, i, prefer, matter, kind) -> None:
        """At a window serving a ticket: 受理 (or 容缺), a 补正 notice, 不予受理, a 补正 case
        resumed or rejected, a 即办件 decided and handed out on the spot."""
        window = self.serving_window(i, window, prefer)
        if kind in ("accept", "deficient"):
            deficient = kind == "deficient"
            self.run(
                c.AcceptCase(
                    window=window,
                    matter=matter,
                    deficiency_item="身份证复印件" if deficient else "",
                    deficiency_promised_date=self.now.date() + timedelta(days=2) if deficient else None,
                )
            )
        elif kind == "materials":
            self.run(c.RequestMaterials(window=window, matter=matter, missing_materials=("营业执照副本",)))
        elif kind == "reject":
            self.run(c.RejectCase(window=window, matter=matter, reason="不属于本机关职权范围"))
        elif kind in ("resume", "reject_receipt"):
            receipt = self.pick_case(i // 3, lambda k: k.state is CS.MATERIALS_REQUESTED)
            if kind == "resume":
                self.run(c.ResumeCase(window=window, receipt_no=receipt))
            else:
                self.run(c.RejectCase(window=window, receipt_no=receipt, reason="申请人放弃"))
        elif kind == "decide_here":
            receipt = self.pick_case(i // 3, lambda k: k.state is CS.ACCEPTED and k.case_type == "即办件")
            self.run(c.DecideCase(receipt_no=receipt, decision=c.Decision.APPROVED, window=window))
        else:
            receipt = self.pick_case(i // 3, lambda k: k.state is CS.DECIDED)
            self.run(c.DeliverCase(receipt_no=receipt, method=c.DeliveryMethod.WINDOW, window=window))

    @rule(
        i=picks,
        kind=st.sampled_from(
            [
                "review",
                "review",
                "suspend",
                "resume",
                "extend",
                "decide",
                "decide",
                "post",
                "supply",
                "recompute",
            ]
        ),
        approve=st.booleans(),
    )
    def back_office(self, i, kind, approve) -> None:
        wanted = {
            "review": CS.ACCEPTED,
            "suspend": CS.IN_REVIEW,
            "resume": CS.SUSPENDED,
            "extend": CS.IN_REVIEW,
            "decide": CS.IN_REVIEW,
            "post": CS.DECIDED,
            "supply": CS.ACCEPTED,
            "recompute": CS.ACCEPTED,
        }
        receipt = self.pick_case(i, lambda k: k.state is wanted[kind])
        cmd: Any = {
            "review": lambda: c.StartReview(receipt_no=receipt),
            "suspend": lambda: c.SuspendCase(receipt_no=receipt, reason="鉴定", expected_working_days=2),
            "resume": lambda: c.ResumeReview(receipt_no=receipt),
            "extend": lambda: c.ExtendCase(receipt_no=receipt, working_days=3, reason="需现场核查"),
            "decide": lambda: c.DecideCase(
                receipt_no=receipt,
                note="不符合条件",
                decision=c.Decision.APPROVED if approve else c.Decision.DISAPPROVED,
            ),
            "post": lambda: c.DeliverCase(receipt_no=receipt, method=c.DeliveryMethod.POST, note="EMS"),
            "supply": lambda: c.SupplyMaterials(receipt_no=receipt),
            "recompute": lambda: c.RecomputeDeadlines(),
        }[kind]()
        self.run(cmd, STAFF)

    @rule(i=picks, score=st.sampled_from([5, 4, 3, 2, 1, 1]), by_pad=st.booleans(), follow_up=st.booleans())
    def rate(self, i, score, by_pad, follow_up) -> None:
        """A rating from the pad of the window that just finished, or from the status page;
        sometimes a 追评 of a 差评."""
        done = [t for t in self.hall.tickets.values() if t.state is T.DONE]
        if not done and by_pad:  # the service at the counter ends, and its pad asks
            self.run(c.FinishService(window=self.serving_window(i, 3, True)))
            done = [t for t in self.hall.tickets.values() if t.state is T.DONE]
        t = done[i % len(done)] if done else None
        reasons = ("办理时间过长",) if score <= 2 else ()
        if follow_up and self.bad_ratings:
            rating = self.hall.ratings.get(self.bad_ratings[i % len(self.bad_ratings)])
            token = next(
                (
                    x.status_token
                    for x in self.hall.tickets.values()
                    if rating is not None and x.id == rating.ticket
                ),
                "nobody",
            )
            self.run(
                c.FollowUpRating(status_token=token, score=score, reasons=reasons),
                c.Actor(kind="anonymous", id="-"),
            )
        elif t is None:
            self.run(c.RateService(score=score, window=1, ticket="A001", reasons=reasons))
        elif by_pad:
            self.run(
                c.RateService(score=score, window=t.window, ticket=t.id, reasons=reasons),
                c.Actor(kind="device", id=f"pad-{t.window}"),
            )
        else:
            self.run(
                c.RateService(score=score, status_token=t.status_token, reasons=reasons),
                c.Actor(kind="anonymous", id="-"),
            )

    @rule(
        i=picks,
        kind=st.sampled_from(
            ["contact", "rectify", "revisit", "spot", "explain", "appeal", "uphold", "reject"]
        ),
    )
    def loop(self, i, kind) -> None:
        """A step of a 差评's closed loop (核实 → 整改 → 回访, or on the spot, explained, appealed)."""
        wanted = {
            "contact": RS.OPEN,
            "rectify": RS.CONTACTED,
            "revisit": RS.RECTIFIED,
            "spot": RS.OPEN,
            "explain": RS.OPEN,
            "appeal": RS.CONTACTED,
            "uphold": RS.APPEALED,
            "reject": RS.APPEALED,
        }
        rects = sorted(self.hall.rectifications.values(), key=lambda r: r.id)
        fitting = [r for r in rects if r.state is wanted[kind]] or rects
        rid = fitting[i % len(fitting)].id if fitting else 1
        cmd: Any = {
            "contact": lambda: c.ContactRater(rectification=rid, note="已联系"),
            "rectify": lambda: c.Rectify(rectification=rid, measures="增开窗口"),
            "revisit": lambda: c.Revisit(rectification=rid, satisfaction=4),
            "spot": lambda: c.ResolveOnTheSpot(rectification=rid, note="当场解决"),
            "explain": lambda: c.ExplainRating(rectification=rid, explanation="无法律依据"),
            "appeal": lambda: c.AppealRating(rectification=rid, reason="不实"),
            "uphold": lambda: c.DecideAppeal(rectification=rid, decision=c.AppealDecision.UPHELD),
            "reject": lambda: c.DecideAppeal(
                rectification=rid, decision=c.AppealDecision.REJECTED, note="继续整改"
            ),
        }[kind]()
        self.run(cmd, STAFF)

    @rule(
        i=picks,
        kind=st.sampled_from(
            ["receive", "receive", "assign", "reassign", "handle", "reply", "close", "remind"]
        ),
        channel=st.sampled_from(list(c.ComplaintChannel)),
        category=st.sampled_from(["", "服务态度不好", "办理时间过长", "材料要求过多"]),
    )
    def complaint(self, i, kind, channel, category) -> None:
        """A complaint (投诉/纠纷) step: received by any channel, 分办, reassigned, handled,
        replied, closed, or a 督办; refused ones change nothing (``run``)."""
        wanted = {
            "assign": CP.RECEIVED,
            "reassign": CP.ASSIGNED,
            "handle": CP.ASSIGNED,
            "reply": CP.HANDLED,
            "close": CP.REPLIED,
            "remind": CP.ASSIGNED,
            "receive": CP.RECEIVED,
        }
        ks = sorted(self.hall.complaints.values(), key=lambda k: k.id)
        fitting = [k for k in ks if k.state is wanted[kind]] or ks
        cid = fitting[i % len(fitting)].id if fitting else 1
        cmd: Any = {
            "receive": lambda: c.ReceiveComplaint(
                channel=channel,
                content="投诉内容",
                category=category,
                matter_code="SW-003" if i % 2 else "",
                hotline_ref="YT-1" if i % 3 else "",
                rating_id=(self.rating_ids or [None])[-1] if i % 2 else None,
            ),
            "assign": lambda: c.AssignComplaint(
                complaint=cid, responsible="department", department="县税务局"
            ),
            "reassign": lambda: c.AssignComplaint(
                complaint=cid,
                responsible=["management", "department"][i % 2],
                department="县公安局",
                reason="改派",
            ),
            "handle": lambda: c.HandleComplaint(complaint=cid, handling="已处理"),
            "reply": lambda: c.ReplyComplaint(complaint=cid, reply="已回复"),
            "close": lambda: c.CloseComplaint(complaint=cid, satisfaction=1 + i % 5),
            "remind": lambda: c.RemindComplaint(complaint=cid, note="督办"),
        }[kind]()
        self.run(cmd, STAFF)

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

    @rule(
        window=windows,
        kind=st.sampled_from(["own", "own", "own", "other", "logout"]),
        other=st.sampled_from(["w1", "w2", "w3"]),
    )
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
            assert w.current_ticket not in held, (
                f"{w.current_ticket} at window {held[w.current_ticket]} and {w.number}"
            )
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

    @invariant()
    def a_case_is_never_both_decided_and_open(self) -> None:
        for k in self.hall.cases.values():
            decided = k.decided_at is not None or k.decision is not None
            if k.state in CASE_OPEN:
                assert not decided and k.delivered_at is None, k
            if k.state in (CS.DECIDED, CS.COMPLETED):
                assert decided and k.decided_at is not None, k
            assert (k.state is CS.COMPLETED) == (k.delivered_at is not None), k
            assert (k.state is CS.SUSPENDED) == (k.suspended_since is not None), k

    @invariant()
    def cases_ratings_and_loops_are_conserved(self) -> None:
        hall = self.hall
        created = {r for day in self.receipts.values() for r in day}
        assert set(hall.cases) <= created
        for day, receipts in self.receipts.items():
            if day in hall.case_numbers:
                assert hall.case_numbers[day] == len(receipts)
        assert hall.last_rating_id == len(self.rating_ids) and set(hall.ratings) <= set(self.rating_ids)
        assert hall.last_rectification_id == len(self.rectification_ids) == len(self.bad_ratings)
        assert set(hall.rectifications) <= set(self.rectification_ids)

    @invariant()
    def every_bad_rating_has_exactly_one_rectification(self) -> None:
        hall = self.hall
        per_rating = Counter(r.rating_id for r in hall.rectifications.values())
        for rating in hall.ratings.values():
            if rating.follow_up_of is None and rating.is_bad:
                assert per_rating[rating.id] == 1, rating
        for r in hall.rectifications.values():
            rating = hall.ratings[r.rating_id]
            assert rating.is_bad and rating.follow_up_of is None
            assert (r.state is RS.CLOSED) == (r.closed_at is not None), r

    @invariant()
    def a_complaint_has_one_owner_and_is_never_closed_and_overdue(self) -> None:
        hall = self.hall
        assert hall.last_complaint_id == len(self.complaint_ids) and set(hall.complaints) <= set(
            self.complaint_ids
        )
        for k in hall.complaints.values():
            assert k.owner_department and k.responsible in ("management", "department"), k
            assert (k.responsible == "management") == (k.owner_department == hall.config.management), k
            assert not (k.state is CP.CLOSED and k.overdue(self.now)), k
            assert (k.state is CP.CLOSED) == (k.closed_at is not None), k
            assert k.triage == (k.state is CP.RECEIVED and k.triage), k  # triage ends with the 分办


def test_random_command_sequences_keep_the_hall_consistent(config, state_of, restarted):
    class Machine(HallMachine):
        pass

    Machine.base_config = config
    Machine.state_of = staticmethod(state_of)
    Machine.restarted = staticmethod(restarted)
    run_state_machine_as_test(Machine, settings=SETTINGS)
