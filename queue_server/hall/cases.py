"""Cases (办件): 受理 at a window during a service, back-office review, 办结 and 出件.

Handlers check everything first and then emit events (applied at once), like the ticket
handlers in ``hall.py``; the state machine is ``states.CASE_TRANSITIONS``.

Deadlines (domain rules §2–3): the promised working days (+ the one extension) counted from
the day the clock started, with the working days of completed suspensions added, end at the
hall's close of business (``WorkCalendar.deadline``). While suspended, the expected length of
the current suspension is added too (the applicant is told it in writing, art. 45). A
suspension from day A to day B pauses the working days in (A, B].
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from . import events as ev
from .bundles import APPLY as BUNDLE_APPLY
from .bundles import bundle_view
from .calendar import WorkCalendar
from .config import HallConfig
from .errors import HallError
from .events import Event
from .model import Case
from .queue import Queue
from .states import CASE_CLOCK_RUNNING, CASE_CREATION, case_transition
from .states import CaseState as CS

RECEIPT_PREFIX = "SL"  # 受理
_LEVEL_PREFIXES = ("县", "市", "区", "省", "自治县", "旗")


@dataclass
class CaseChanges:
    cases: dict[str, Case] = field(default_factory=dict)
    case_numbers: set[date] = field(default_factory=set)


# ---------------------------------------------------------------------- departments


def _norm(name: str) -> str:
    return unicodedata.normalize("NFKC", name).replace(" ", "").strip()


def department_matches(scope: str | None, department: str) -> bool:
    """Whether staff of department ``scope`` act on something of ``department``.

    ``None`` (a manager) matches everything. The hall names its departments with the county
    level (``县税务局``) while the matter catalogue does not (``税务局``); a unit in brackets
    belongs to its department (``县公安局`` acts on ``公安局（户政）``). Full-width and ASCII
    brackets are the same.
    """
    if scope is None:
        return True
    s, d = _norm(scope), _norm(department)
    if not s or not d:
        return False
    candidates = {d}
    if d.endswith(")") and "(" in d:
        candidates.add(d[: d.index("(")])
    for cand in list(candidates):
        candidates.update(p + cand for p in _LEVEL_PREFIXES)
    return s in candidates


class Cases:
    """The cases held: open ones and those finished today; the day's receipt numbers."""

    def __init__(
        self,
        config: HallConfig,
        queue: Queue,
        *,
        cases: Iterable[Case] = (),
        case_numbers: dict[date, int] | None = None,
        calendar: WorkCalendar,
        matters: Mapping[str, Any],
    ) -> None:
        self.config = config
        self.tz = queue.tz
        self.queue = queue
        self.calendar = calendar
        self.matters: Mapping[str, Any] = dict(matters)
        self.cases: dict[str, Case] = {k.receipt_no: k for k in cases}
        self.case_numbers: dict[date, int] = dict(case_numbers or {})
        self.changes = CaseChanges()
        # ticket id -> receipt numbers of the cases that ever had it as ticket or delivery
        # ticket (a superset, checked on use): ``of_ticket`` without a scan of every case held
        self._by_ticket: dict[str, set[str]] = {}
        for k in self.cases.values():
            self.index_tickets(k)

    def index_tickets(self, case: Case) -> None:
        for tid in (case.ticket, case.delivery_ticket):
            if tid is not None:
                self._by_ticket.setdefault(tid, set()).add(case.receipt_no)

    def take_changes(self) -> CaseChanges:
        ch, self.changes = self.changes, CaseChanges()
        return ch

    def emit(self, out: list[Event], event: Event) -> None:
        self.apply(event)
        out.append(event)

    def apply(self, event: Event) -> None:
        _APPLY[type(event)](self, event)

    def owns(self, event: Event) -> bool:
        return type(event) in _APPLY and (
            not isinstance(event, ev.DeadlineRecomputed) or event.receipt_no is not None
        )

    def case(self, receipt_no: str) -> Case:
        k = self.cases.get(receipt_no.strip().upper())
        if k is None:
            raise HallError("unknown_case", f"no open case {receipt_no}")
        return k

    def of_ticket(self, ticket_id: str) -> list[Case]:
        """The cases a service created or handed out, oldest first."""
        receipts = self._by_ticket.get(ticket_id)
        if not receipts:
            return []
        if len(receipts) == 1:
            k = self.cases.get(next(iter(receipts)))
            return [k] if k is not None and ticket_id in (k.ticket, k.delivery_ticket) else []
        # rare (a 补正 resumed and a new case, or several handed out): the order of the cases held
        return sorted(
            (k for k in self.cases.values() if ticket_id in (k.ticket, k.delivery_ticket)),
            key=lambda k: k.created_at,
        )

    def due(self, case: Case, *, extra_days: int = 0, paused: int | None = None) -> tuple[datetime, bool]:
        """The case's deadline and its provisional flag, from its stored history."""
        return _case_due(self, case, extra_days=extra_days, paused=paused)

    def due_for_new(self, promised: int, now: datetime) -> tuple[datetime, bool]:
        return _due_for_new(self, promised, now)

    def next_receipt(self, now: datetime) -> tuple[str, int]:
        seq = self.case_numbers.get(now.date(), 0) + 1
        return f"{RECEIPT_PREFIX}-{now:%Y%m%d}-{seq:04d}", seq

    def prune(self, today: date) -> None:
        """Keep what a restart on ``today`` would load: open cases and those changed today."""
        self.cases = {
            k: v
            for k, v in self.cases.items()
            if not v.final or v.updated_at.astimezone(self.tz).date() >= today
        }
        self.case_numbers = {d: n for d, n in self.case_numbers.items() if d >= today}
        self._by_ticket = {}
        for k in self.cases.values():
            self.index_tickets(k)

    def view(self, case: Case, now: datetime) -> dict[str, Any]:
        """A case for staff: masked applicant name, no phone or ID; 超期 / 即将到期 marks."""
        now = now.astimezone(self.tz)
        view = {**case.public(), **case_marks(self, case, now)}
        if case.state is CS.IN_PARTS or any(k.bundle_receipt == case.receipt_no for k in self.cases.values()):
            view.update(bundle_view(self.cases, case, lambda x: case_marks(self, x, now)))
        return view

    def listing(
        self, now: datetime, *, department: str | None = None, states: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        """Cases held (open ones and those finished today), soonest due first."""
        wanted = set(states) if states is not None else None
        far = datetime.max.replace(tzinfo=self.tz)
        rows = [
            k
            for k in self.cases.values()
            if department_matches(department, k.department) and (wanted is None or k.state.value in wanted)
        ]
        rows.sort(key=lambda k: (k.final, k.due_at or far, k.receipt_no))
        return [self.view(k, now) for k in rows]


# ---------------------------------------------------------------------- deadlines


def _case_due(
    k: Cases, case: Case, *, extra_days: int = 0, paused: int | None = None
) -> tuple[datetime, bool]:
    """The case's deadline and its provisional flag, from its stored history."""
    assert case.clock_started_at is not None
    promise = case.share_working_days if case.bundle_receipt is not None else case.promised_working_days
    n = (promise or 0) + case.extension_days + extra_days
    p = case.paused_working_days if paused is None else paused
    if case.state is CS.SUSPENDED and paused is None:
        p += case.suspension_expected_days or 0
    d = k.calendar.deadline(case.clock_started_at, n, k.config.close_of_business, k.tz, p)
    return d.at, d.provisional


def _due_for_new(k: Cases, promised: int, now: datetime) -> tuple[datetime, bool]:
    d = k.calendar.deadline(now, promised, k.config.close_of_business, k.tz)
    return d.at, d.provisional


# ---------------------------------------------------------------------- event application
# States move by the tables (states.py): creation by CASE_CREATION, the rest by CASE_TRANSITIONS.


def _new_case(k: Cases, e: ev.CaseAccepted | ev.CaseRejected | ev.MaterialsRequested, action: str) -> Case:
    assert e.seq is not None and e.field is not None and e.window_kind is not None
    assert e.one_window is not None and e.promised_working_days is not None
    assert e.matter_code is not None and e.matter_name is not None and e.department is not None
    assert e.case_type is not None
    case = Case(
        receipt_no=e.receipt_no,
        service_date=e.at.date(),
        matter_code=e.matter_code,
        matter_name=e.matter_name,
        department=e.department,
        field=e.field,
        case_type=e.case_type,
        window_kind=e.window_kind,
        one_window=e.one_window,
        promised_working_days=e.promised_working_days,
        state=CASE_CREATION[action],
        created_at=e.at,
        updated_at=e.at,
        ticket=e.ticket,
        ticket_number=e.ticket_number,
        window=e.window,
        accepted_window_kind=e.accepted_window_kind,
        accepted_by=_actor_id(e.actor),
        accepted_by_name=e.staff_name or "",
        applicant_name=e.applicant_name or "",
        applicant_phone=e.applicant_phone or "",
        applicant_id=e.applicant_id or "",
    )
    k.cases[case.receipt_no] = case
    k.index_tickets(case)
    k.case_numbers[e.at.date()] = max(k.case_numbers.get(e.at.date(), 0), e.seq)
    k.changes.case_numbers.add(e.at.date())
    return case


def _actor_id(actor: str) -> str:
    return actor.split(":", 1)[1] if ":" in actor else actor


def _step(case: Case, action: str) -> None:
    case.state = case_transition(action, case.receipt_no, case.state)


def _a_accepted(k: Cases, e: ev.CaseAccepted) -> None:
    if e.after_materials:
        case = k.cases[e.receipt_no]
        _step(case, "resume")
        case.ticket, case.ticket_number, case.window = e.ticket, e.ticket_number, e.window
        k.index_tickets(case)
        case.accepted_window_kind = e.accepted_window_kind
        case.accepted_by, case.accepted_by_name = _actor_id(e.actor), e.staff_name or ""
    else:
        case = _new_case(k, e, "accept")
        case.deficiency_item = e.deficiency_item
        case.deficiency_promised_date = e.deficiency_promised_date
        if e.deficiency_item:  # the 容缺 promise is a written notice of the missing item
            case.notices += 1
    case.accepted_at = case.clock_started_at = e.at
    case.due_at, case.provisional = e.due_at, e.provisional
    _touch(k, case, e)


def _a_materials_requested(k: Cases, e: ev.MaterialsRequested) -> None:
    case = _new_case(k, e, "request materials for")
    case.missing_materials = list(e.missing_materials)
    case.materials_requested_at = e.at
    case.notices = 1
    case.notice_version = e.materials_version or ""
    _touch(k, case, e)


def _a_rejected(k: Cases, e: ev.CaseRejected) -> None:
    if e.new:
        case = _new_case(k, e, "reject")
    else:
        case = k.cases[e.receipt_no]
        _step(case, "reject")
    case.rejection_reason = e.reason
    _touch(k, case, e)


def _a_supplied(k: Cases, e: ev.MaterialsSupplied) -> None:
    case = k.cases[e.receipt_no]
    _step(case, "supply materials for")
    case.deficiency_supplied_at = e.at
    _touch(k, case, e)


def _a_review_started(k: Cases, e: ev.ReviewStarted) -> None:
    case = k.cases[e.receipt_no]
    _step(case, "start the review of")
    case.review_started_at = e.at
    case.reviewer = _actor_id(e.actor)
    _touch(k, case, e)


def _a_suspended(k: Cases, e: ev.CaseSuspended) -> None:
    case = k.cases[e.receipt_no]
    _step(case, "suspend")
    case.suspended_since = e.at
    case.suspension_reason = e.reason
    case.suspension_expected_days = e.expected_working_days
    case.suspensions += 1
    case.due_at, case.provisional = e.due_at, e.provisional
    _touch(k, case, e)


def _a_review_resumed(k: Cases, e: ev.ReviewResumed) -> None:
    case = k.cases[e.receipt_no]
    _step(case, "resume the review of")
    case.paused_working_days += e.paused_working_days
    case.suspended_since = None
    case.suspension_expected_days = None
    case.due_at, case.provisional = e.due_at, e.provisional
    _touch(k, case, e)


def _a_extended(k: Cases, e: ev.CaseExtended) -> None:
    case = k.cases[e.receipt_no]
    _step(case, "extend")
    case.extension_days = e.working_days
    case.extension_reason = e.reason
    case.extended_at = e.at
    case.due_at, case.provisional = e.due_at, e.provisional
    _touch(k, case, e)


def _a_decided(k: Cases, e: ev.CaseDecided) -> None:
    case = k.cases[e.receipt_no]
    _step(case, "decide on the spot" if e.on_the_spot else "decide")
    case.decided_at = e.at
    case.decision = e.decision
    case.decision_note = e.note
    case.decided_by = _actor_id(e.actor)
    case.decided_on_time = e.on_time
    _touch(k, case, e)


def _a_delivered(k: Cases, e: ev.CaseDelivered) -> None:
    case = k.cases[e.receipt_no]
    _step(case, "deliver")
    case.delivered_at = e.at
    case.delivery_method = e.method
    case.delivery_window = e.delivery_window
    case.delivery_ticket = e.delivery_ticket
    k.index_tickets(case)
    case.delivery_note = e.note
    _touch(k, case, e)


def _a_recomputed(k: Cases, e: ev.DeadlineRecomputed) -> None:
    assert e.receipt_no is not None  # a rectification's is the ratings'
    case = k.cases[e.receipt_no]
    case.due_at, case.provisional = e.due_at, e.provisional
    _touch(k, case, e)


def _touch(k: Cases, case: Case, e: Event) -> None:
    case.updated_at = e.at
    k.changes.cases[case.receipt_no] = case


_APPLY: dict[type[Event], Callable[[Cases, Any], None]] = {
    ev.CaseAccepted: _a_accepted,
    ev.MaterialsRequested: _a_materials_requested,
    ev.CaseRejected: _a_rejected,
    ev.MaterialsSupplied: _a_supplied,
    ev.ReviewStarted: _a_review_started,
    ev.CaseSuspended: _a_suspended,
    ev.ReviewResumed: _a_review_resumed,
    ev.CaseExtended: _a_extended,
    ev.CaseDecided: _a_decided,
    ev.CaseDelivered: _a_delivered,
    ev.DeadlineRecomputed: _a_recomputed,
    **BUNDLE_APPLY,
}


def case_marks(k: Cases, case: Case, now: datetime) -> dict[str, Any]:
    """超期 / 即将到期 and the 容缺 item's status, at ``now``."""
    due = case.due_at if case.state in CASE_CLOCK_RUNNING else None
    overdue = due is not None and now > due
    soon = (
        due is not None
        and not overdue
        and (due - now).total_seconds() <= k.config.rules.due_soon_hours * 3600
    )
    deficiency = None
    if case.deficiency_item:
        if case.deficiency_supplied_at is not None:
            deficiency = "supplied"
        elif case.deficiency_promised_date is not None and now.date() > case.deficiency_promised_date:
            deficiency = "overdue"
        else:
            deficiency = "pending"
    return {"overdue": overdue, "due_soon": soon, "deficiency_status": deficiency}
