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
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from . import commands as c
from .errors import HallError
from . import events as ev
from .events import Event
from .model import Case, Ticket
from .states import CASE_CLOCK_RUNNING, CASE_CREATION, CaseState as CS, TicketState as T, case_transition

if TYPE_CHECKING:
    from .hall import Hall

RECEIPT_PREFIX = "SL"  # 受理
_LEVEL_PREFIXES = ("县", "市", "区", "省", "自治县", "旗")
_TEXT_MAX = 500


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


def _check_scope(scope: str | None, case: Case) -> None:
    if not department_matches(scope, case.department):
        raise HallError("not_your_department",
                        f"case {case.receipt_no} belongs to {case.department}, not to {scope}")


# ---------------------------------------------------------------------- helpers


def _text(value: str, what: str, *, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise HallError("reason_required", f"{what} is required")
    if len(value) > _TEXT_MAX:
        raise HallError("invalid_field", f"{what} is longer than {_TEXT_MAX} characters")
    return value


def _serving(h: Hall, window: int, action: str) -> Ticket:
    """The ticket being served at ``window``: cases are created during a service."""
    t = h._current(window, action)
    if t.state is not T.SERVING:
        raise HallError("not_serving", f"cannot {action} at window {window}: {t.number} is {t.state.value}, "
                                       "start the service first")
    return t


def _matter(h: Hall, code: str, window: int) -> Any:
    m = h.matters.get(code)
    if m is None:
        raise HallError("unknown_matter", f"no matter {code} in the catalogue")
    linked = {q.code: q.matters for q in h.config.queues}
    if any(linked.values()):  # the hall links matters to queues: the window must serve it
        wcfg = h._wcfg_of(window)
        if not any(code in linked.get(wq.queue, ()) for wq in wcfg.queues):
            raise HallError("not_served_here", f"window {window} does not accept matter {code} ({m.name})")
    return m


def _applicant(cmd_applicant: c.Applicant | None, t: Ticket) -> dict[str, str]:
    if cmd_applicant is not None:
        return {"applicant_name": cmd_applicant.name.strip(), "applicant_phone": cmd_applicant.phone.strip(),
                "applicant_id": cmd_applicant.id_number.strip()}
    return {"applicant_name": t.applicant_name, "applicant_phone": t.applicant_phone,
            "applicant_id": t.applicant_id}


def _next_receipt(h: Hall, now: datetime) -> tuple[str, int]:
    seq = h.case_numbers.get(now.date(), 0) + 1
    return f"{RECEIPT_PREFIX}-{now:%Y%m%d}-{seq:04d}", seq


def _creation_data(h: Hall, m: Any, t: Ticket, window: int, applicant: dict[str, str], now: datetime) -> dict[str, Any]:
    receipt, seq = _next_receipt(h, now)
    win = h.windows[window]
    return {
        "receipt_no": receipt, "seq": seq, "matter_code": m.code, "matter_name": m.name,
        "department": m.department, "field": m.field, "case_type": str(m.case_type),
        "window_kind": str(m.window_kind), "one_window": bool(m.one_window),
        "promised_working_days": int(m.promised_working_days), "ticket_number": t.number,
        "accepted_window_kind": h._wcfg[window].kind.value, "staff": win.staff,
        "staff_name": win.staff_name, **applicant,
    }


def case_due(h: Hall, case: Case, *, extra_days: int = 0, paused: int | None = None) -> tuple[datetime, bool]:
    """The case's deadline and its provisional flag, from its stored history."""
    assert case.clock_started_at is not None
    n = case.promised_working_days + case.extension_days + extra_days
    p = case.paused_working_days if paused is None else paused
    if case.state is CS.SUSPENDED and paused is None:
        p += case.suspension_expected_days or 0
    d = h.calendar.deadline(case.clock_started_at, n, h.config.close_of_business, h.tz, p)
    return d.at, d.provisional


def _due_for_new(h: Hall, promised: int, now: datetime) -> tuple[datetime, bool]:
    d = h.calendar.deadline(now, promised, h.config.close_of_business, h.tz)
    return d.at, d.provisional


# ---------------------------------------------------------------------- front desk


def _accept(h: Hall, cmd: c.AcceptCase, now: datetime, a: str, out: list[Event]) -> None:
    t = _serving(h, cmd.window, "accept a case")
    m = _matter(h, cmd.matter, cmd.window)
    item = _text(cmd.deficiency_item, "the missing item", required=False)
    if item and cmd.deficiency_promised_date is None:
        raise HallError("missing_field", "容缺受理 needs the date the applicant promises to supply the item")
    if cmd.deficiency_promised_date is not None:
        if not item:
            raise HallError("missing_field", "容缺受理 needs the missing item")
        if cmd.deficiency_promised_date < now.date():
            raise HallError("invalid_field", "the promised supply date is in the past")
    data = _creation_data(h, m, t, cmd.window, _applicant(cmd.applicant, t), now)
    due, provisional = _due_for_new(h, data["promised_working_days"], now)
    h._emit(out, ev.CaseAccepted(at=now, actor=a, ticket=t.id, window=cmd.window, **data, due_at=due,
                                 provisional=provisional, deficiency_item=item,
                                 deficiency_promised_date=cmd.deficiency_promised_date, after_materials=False))


def _request_materials(h: Hall, cmd: c.RequestMaterials, now: datetime, a: str, out: list[Event]) -> None:
    t = _serving(h, cmd.window, "issue a 补正 notice")
    m = _matter(h, cmd.matter, cmd.window)
    missing = [s.strip() for s in cmd.missing_materials if s.strip()]
    if not missing:
        raise HallError("missing_field", "a 补正 notice lists every missing material: give at least one")
    if len(set(missing)) != len(missing):
        raise HallError("invalid_field", "a material is listed twice")
    for s in missing:
        _text(s, "a missing material")
    data = _creation_data(h, m, t, cmd.window, _applicant(cmd.applicant, t), now)
    h._emit(out, ev.MaterialsRequested(at=now, actor=a, ticket=t.id, window=cmd.window, **data,
                                       missing_materials=tuple(missing)))


def _reject(h: Hall, cmd: c.RejectCase, now: datetime, a: str, out: list[Event]) -> None:
    t = _serving(h, cmd.window, "reject a case")
    reason = _text(cmd.reason, "不予受理 needs a reason; the reason")
    if cmd.receipt_no:
        case = h.case(cmd.receipt_no)
        case_transition("reject", case.receipt_no, case.state)
        if cmd.matter and cmd.matter != case.matter_code:
            raise HallError("invalid_field", f"case {case.receipt_no} is for matter {case.matter_code}, not {cmd.matter}")
        h._emit(out, ev.CaseRejected(at=now, actor=a, ticket=t.id, window=cmd.window, receipt_no=case.receipt_no,
                                     reason=reason, ticket_number=t.number, new=False))
        return
    if not cmd.matter:
        raise HallError("missing_field", "reject_case needs the matter (or the receipt_no of a 补正 case)")
    m = _matter(h, cmd.matter, cmd.window)
    data = _creation_data(h, m, t, cmd.window, _applicant(cmd.applicant, t), now)
    h._emit(out, ev.CaseRejected(at=now, actor=a, ticket=t.id, window=cmd.window, **data, reason=reason, new=True))


def _resume(h: Hall, cmd: c.ResumeCase, now: datetime, a: str, out: list[Event]) -> None:
    t = _serving(h, cmd.window, "resume a case")
    case = h.case(cmd.receipt_no)
    case_transition("resume", case.receipt_no, case.state)
    due, provisional = _due_for_new(h, case.promised_working_days, now)
    win = h.windows[cmd.window]
    h._emit(out, ev.CaseAccepted(
        at=now, actor=a, ticket=t.id, window=cmd.window, receipt_no=case.receipt_no,
        matter_code=case.matter_code, matter_name=case.matter_name, department=case.department,
        case_type=case.case_type, ticket_number=t.number, accepted_window_kind=h._wcfg[cmd.window].kind.value,
        staff=win.staff, staff_name=win.staff_name, due_at=due, provisional=provisional, after_materials=True,
        deficiency_item="", deficiency_promised_date=None,
    ))


def _supply(h: Hall, cmd: c.SupplyMaterials, now: datetime, a: str, out: list[Event]) -> None:
    case = h.case(cmd.receipt_no)
    _check_scope(cmd.scope, case)
    case_transition("supply materials for", case.receipt_no, case.state)
    if not case.deficiency_item:
        raise HallError("not_allowed", f"case {case.receipt_no} was not accepted with a missing item (容缺)")
    if case.deficiency_supplied_at is not None:
        raise HallError("illegal_transition", f"the missing item of case {case.receipt_no} was already supplied")
    on_time = case.deficiency_promised_date is None or now.date() <= case.deficiency_promised_date
    h._emit(out, ev.MaterialsSupplied(**_about(case, now, a), item=case.deficiency_item, on_time=on_time))


# ---------------------------------------------------------------------- back office


def _about(case: Case, now: datetime, a: str) -> dict[str, Any]:
    """The fields every back-office event of a case has."""
    return {"at": now, "actor": a, "ticket": case.ticket, "window": case.window,
            "receipt_no": case.receipt_no, "matter_code": case.matter_code}


def _start_review(h: Hall, cmd: c.StartReview, now: datetime, a: str, out: list[Event]) -> None:
    case = h.case(cmd.receipt_no)
    _check_scope(cmd.scope, case)
    case_transition("start the review of", case.receipt_no, case.state)
    h._emit(out, ev.ReviewStarted(**_about(case, now, a)))


def _suspend(h: Hall, cmd: c.SuspendCase, now: datetime, a: str, out: list[Event]) -> None:
    case = h.case(cmd.receipt_no)
    _check_scope(cmd.scope, case)
    case_transition("suspend", case.receipt_no, case.state)
    if cmd.reason not in c.SUSPENSION_REASONS:
        raise HallError("invalid_field", "a case is suspended only for " + "、".join(c.SUSPENSION_REASONS)
                        + " (行政许可法 art. 45)")
    if cmd.expected_working_days < 1:
        raise HallError("invalid_field", "the expected length is at least 1 working day")
    note = _text(cmd.note, "the note", required=False)
    due, provisional = case_due(h, case, paused=case.paused_working_days + cmd.expected_working_days)
    h._emit(out, ev.CaseSuspended(**_about(case, now, a), reason=cmd.reason, note=note,
                                  expected_working_days=cmd.expected_working_days, due_at=due,
                                  provisional=provisional))


def _resume_review(h: Hall, cmd: c.ResumeReview, now: datetime, a: str, out: list[Event]) -> None:
    case = h.case(cmd.receipt_no)
    _check_scope(cmd.scope, case)
    case_transition("resume the review of", case.receipt_no, case.state)
    assert case.suspended_since is not None
    paused = max(0, h.calendar.working_days_between(case.suspended_since.astimezone(h.tz).date(), now.date()))
    due, provisional = case_due(h, case, paused=case.paused_working_days + paused)
    h._emit(out, ev.ReviewResumed(**_about(case, now, a), paused_working_days=paused,
                                  reason=case.suspension_reason, due_at=due, provisional=provisional))


def _extend(h: Hall, cmd: c.ExtendCase, now: datetime, a: str, out: list[Event]) -> None:
    case = h.case(cmd.receipt_no)
    _check_scope(cmd.scope, case)
    if case.extension_days:
        raise HallError("extension_used", f"case {case.receipt_no} was already extended once (延期原则上不得超过1次)")
    case_transition("extend", case.receipt_no, case.state)
    if case.case_type == "即办件":
        raise HallError("not_allowed", f"case {case.receipt_no} is a 即办件: it is decided on the spot")
    reason = _text(cmd.reason, "an extension needs a reason; the reason")
    limit = h.config.rules.max_extension_working_days
    if not 1 <= cmd.working_days <= limit:
        raise HallError("invalid_field", f"an extension is 1 to {limit} working days")
    assert case.due_at is not None
    if now > case.due_at:
        raise HallError("deadline_passed", f"case {case.receipt_no} was due {case.due_at:%Y-%m-%d %H:%M}: "
                                           "an extension must be decided before the deadline")
    due, provisional = case_due(h, case, extra_days=cmd.working_days)
    h._emit(out, ev.CaseExtended(**_about(case, now, a), working_days=cmd.working_days, reason=reason,
                                 previous_due_at=case.due_at, due_at=due, provisional=provisional))


def _decide(h: Hall, cmd: c.DecideCase, now: datetime, a: str, out: list[Event]) -> None:
    case = h.case(cmd.receipt_no)
    _check_scope(cmd.scope, case)
    if cmd.window is not None:
        case_transition("decide on the spot", case.receipt_no, case.state)
        if case.case_type != "即办件":
            raise HallError("not_allowed", f"case {case.receipt_no} is a 承诺件: the back office decides it after review")
        t = _serving(h, cmd.window, "decide a case on the spot")
        if t.id != case.ticket:
            raise HallError("not_your_window", f"case {case.receipt_no} is not the one served at window {cmd.window}")
    else:
        case_transition("decide", case.receipt_no, case.state)
    note = _text(cmd.note, "the note", required=cmd.decision is c.Decision.DISAPPROVED)
    on_time = case.due_at is None or now <= case.due_at
    h._emit(out, ev.CaseDecided(**_about(case, now, a), decision=cmd.decision.value, note=note,
                                on_time=on_time, on_the_spot=cmd.window is not None))


def _deliver(h: Hall, cmd: c.DeliverCase, now: datetime, a: str, out: list[Event]) -> None:
    case = h.case(cmd.receipt_no)
    _check_scope(cmd.scope, case)
    case_transition("deliver", case.receipt_no, case.state)
    note = _text(cmd.note, "the note", required=False)
    ticket_id = None
    if cmd.method is c.DeliveryMethod.WINDOW:
        if cmd.window is None:
            raise HallError("missing_field", "delivery at a window needs the window")
        t = _serving(h, cmd.window, "hand out a result")
        wkind = h._wcfg[cmd.window].kind.value
        own_instant = case.case_type == "即办件" and cmd.window == case.window and t.id == case.ticket
        if wkind != "出件" and not own_instant:
            raise HallError("not_served_here", f"window {cmd.window} is not a 出件 window; results are handed out there")
        ticket_id = t.id
    elif cmd.window is not None:
        raise HallError("invalid_field", "delivery by post takes no window")
    h._emit(out, ev.CaseDelivered(
        at=now, actor=a, ticket=ticket_id or case.ticket, window=cmd.window if cmd.window is not None else case.window,
        receipt_no=case.receipt_no, matter_code=case.matter_code, method=cmd.method.value,
        delivery_window=cmd.window, delivery_ticket=ticket_id, note=note))


def _recompute(h: Hall, cmd: c.RecomputeDeadlines, now: datetime, a: str, out: list[Event]) -> None:
    from .ratings import rectification_dues  # noqa: PLC0415 - the two modules meet only here

    for case in sorted(h.cases.values(), key=lambda x: x.receipt_no):
        if case.final or case.clock_started_at is None or case.state is CS.DECIDED:
            continue
        due, provisional = case_due(h, case)
        if due != case.due_at or provisional != case.provisional:
            h._emit(out, ev.DeadlineRecomputed(**_about(case, now, a), due_at=due, previous_due_at=case.due_at,
                                               provisional=provisional))
    for r in sorted(h.rectifications.values(), key=lambda x: x.id):
        if r.closed_at is not None:
            continue
        contact, rectify, provisional = rectification_dues(h, r.opened_at)
        if (contact, rectify, provisional) != (r.contact_due, r.rectify_due, r.provisional):
            h._emit(out, ev.DeadlineRecomputed(at=now, actor=a, ticket=r.ticket, window=r.window,
                                               rectification_id=r.id, contact_due=contact, rectify_due=rectify,
                                               provisional=provisional, previous_contact_due=r.contact_due,
                                               previous_rectify_due=r.rectify_due))


HANDLERS: dict[type, Any] = {
    c.AcceptCase: _accept, c.RequestMaterials: _request_materials, c.RejectCase: _reject,
    c.ResumeCase: _resume, c.SupplyMaterials: _supply, c.StartReview: _start_review,
    c.SuspendCase: _suspend, c.ResumeReview: _resume_review, c.ExtendCase: _extend,
    c.DecideCase: _decide, c.DeliverCase: _deliver, c.RecomputeDeadlines: _recompute,
}


# ---------------------------------------------------------------------- event application
# States move by the tables (states.py): creation by CASE_CREATION, the rest by CASE_TRANSITIONS.


def _new_case(h: Hall, e: ev.CaseAccepted | ev.CaseRejected | ev.MaterialsRequested, action: str) -> Case:
    assert e.seq is not None and e.field is not None and e.window_kind is not None
    assert e.one_window is not None and e.promised_working_days is not None
    assert e.matter_code is not None and e.matter_name is not None and e.department is not None
    assert e.case_type is not None
    case = Case(
        receipt_no=e.receipt_no, service_date=e.at.date(), matter_code=e.matter_code,
        matter_name=e.matter_name, department=e.department, field=e.field, case_type=e.case_type,
        window_kind=e.window_kind, one_window=e.one_window, promised_working_days=e.promised_working_days,
        state=CASE_CREATION[action], created_at=e.at, updated_at=e.at, ticket=e.ticket,
        ticket_number=e.ticket_number, window=e.window, accepted_window_kind=e.accepted_window_kind,
        accepted_by=_actor_id(e.actor), accepted_by_name=e.staff_name or "",
        applicant_name=e.applicant_name or "", applicant_phone=e.applicant_phone or "",
        applicant_id=e.applicant_id or "",
    )
    h.cases[case.receipt_no] = case
    h.case_numbers[e.at.date()] = max(h.case_numbers.get(e.at.date(), 0), e.seq)
    h.changes.case_numbers.add(e.at.date())
    return case


def _actor_id(actor: str) -> str:
    return actor.split(":", 1)[1] if ":" in actor else actor


def _step(case: Case, action: str) -> None:
    case.state = case_transition(action, case.receipt_no, case.state)


def _a_accepted(h: Hall, e: ev.CaseAccepted) -> None:
    if e.after_materials:
        case = h.cases[e.receipt_no]
        _step(case, "resume")
        case.ticket, case.ticket_number, case.window = e.ticket, e.ticket_number, e.window
        case.accepted_window_kind = e.accepted_window_kind
        case.accepted_by, case.accepted_by_name = _actor_id(e.actor), e.staff_name or ""
    else:
        case = _new_case(h, e, "accept")
        case.deficiency_item = e.deficiency_item
        case.deficiency_promised_date = e.deficiency_promised_date
    case.accepted_at = case.clock_started_at = e.at
    case.due_at, case.provisional = e.due_at, e.provisional
    _touch(h, case, e)


def _a_materials_requested(h: Hall, e: ev.MaterialsRequested) -> None:
    case = _new_case(h, e, "request materials for")
    case.missing_materials = list(e.missing_materials)
    case.materials_requested_at = e.at
    _touch(h, case, e)


def _a_rejected(h: Hall, e: ev.CaseRejected) -> None:
    if e.new:
        case = _new_case(h, e, "reject")
    else:
        case = h.cases[e.receipt_no]
        _step(case, "reject")
    case.rejection_reason = e.reason
    _touch(h, case, e)


def _a_supplied(h: Hall, e: ev.MaterialsSupplied) -> None:
    case = h.cases[e.receipt_no]
    _step(case, "supply materials for")
    case.deficiency_supplied_at = e.at
    _touch(h, case, e)


def _a_review_started(h: Hall, e: ev.ReviewStarted) -> None:
    case = h.cases[e.receipt_no]
    _step(case, "start the review of")
    case.review_started_at = e.at
    case.reviewer = _actor_id(e.actor)
    _touch(h, case, e)


def _a_suspended(h: Hall, e: ev.CaseSuspended) -> None:
    case = h.cases[e.receipt_no]
    _step(case, "suspend")
    case.suspended_since = e.at
    case.suspension_reason = e.reason
    case.suspension_expected_days = e.expected_working_days
    case.suspensions += 1
    case.due_at, case.provisional = e.due_at, e.provisional
    _touch(h, case, e)


def _a_review_resumed(h: Hall, e: ev.ReviewResumed) -> None:
    case = h.cases[e.receipt_no]
    _step(case, "resume the review of")
    case.paused_working_days += e.paused_working_days
    case.suspended_since = None
    case.suspension_expected_days = None
    case.due_at, case.provisional = e.due_at, e.provisional
    _touch(h, case, e)


def _a_extended(h: Hall, e: ev.CaseExtended) -> None:
    case = h.cases[e.receipt_no]
    _step(case, "extend")
    case.extension_days = e.working_days
    case.extension_reason = e.reason
    case.extended_at = e.at
    case.due_at, case.provisional = e.due_at, e.provisional
    _touch(h, case, e)


def _a_decided(h: Hall, e: ev.CaseDecided) -> None:
    case = h.cases[e.receipt_no]
    _step(case, "decide on the spot" if e.on_the_spot else "decide")
    case.decided_at = e.at
    case.decision = e.decision
    case.decision_note = e.note
    case.decided_by = _actor_id(e.actor)
    case.decided_on_time = e.on_time
    _touch(h, case, e)


def _a_delivered(h: Hall, e: ev.CaseDelivered) -> None:
    case = h.cases[e.receipt_no]
    _step(case, "deliver")
    case.delivered_at = e.at
    case.delivery_method = e.method
    case.delivery_window = e.delivery_window
    case.delivery_ticket = e.delivery_ticket
    case.delivery_note = e.note
    _touch(h, case, e)


def _a_recomputed(h: Hall, e: ev.DeadlineRecomputed) -> None:
    if e.receipt_no is not None:
        case = h.cases[e.receipt_no]
        case.due_at, case.provisional = e.due_at, e.provisional
        _touch(h, case, e)
        return
    assert e.rectification_id is not None and e.contact_due is not None and e.rectify_due is not None
    r = h.rectifications[e.rectification_id]
    r.contact_due, r.rectify_due = e.contact_due, e.rectify_due
    r.provisional = e.provisional
    r.updated_at = e.at
    h.changes.rectifications[r.id] = r


def _touch(h: Hall, case: Case, e: Event) -> None:
    case.updated_at = e.at
    h.changes.cases[case.receipt_no] = case


APPLY: dict[type[Event], Any] = {
    ev.CaseAccepted: _a_accepted, ev.MaterialsRequested: _a_materials_requested, ev.CaseRejected: _a_rejected,
    ev.MaterialsSupplied: _a_supplied, ev.ReviewStarted: _a_review_started, ev.CaseSuspended: _a_suspended,
    ev.ReviewResumed: _a_review_resumed, ev.CaseExtended: _a_extended, ev.CaseDecided: _a_decided,
    ev.CaseDelivered: _a_delivered, ev.DeadlineRecomputed: _a_recomputed,
}


# ---------------------------------------------------------------------- views


def case_marks(h: Hall, case: Case, now: datetime) -> dict[str, Any]:
    """超期 / 即将到期 and the 容缺 item's status, at ``now``."""
    due = case.due_at if case.state in CASE_CLOCK_RUNNING else None
    overdue = due is not None and now > due
    soon = due is not None and not overdue and (due - now).total_seconds() <= h.config.rules.due_soon_hours * 3600
    deficiency = None
    if case.deficiency_item:
        if case.deficiency_supplied_at is not None:
            deficiency = "supplied"
        elif case.deficiency_promised_date is not None and now.date() > case.deficiency_promised_date:
            deficiency = "overdue"
        else:
            deficiency = "pending"
    return {"overdue": overdue, "due_soon": soon, "deficiency_status": deficiency}
