"""Commands on cases (办件): 受理 at a window during a service, back-office review, 办结 and
出件. Each checks everything first and then emits (the state machine is
``states.CASE_TRANSITIONS``); the hall dispatches here through ``HANDLERS``. Recomputing the
deadlines of rectifications is the ratings' (``rating_commands.recompute``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from . import bundle_commands as bundles
from . import commands as c
from . import events as ev
from .cases import Cases, department_matches
from .errors import HallError
from .events import Event
from .model import Case, Ticket
from .states import CaseState as CS
from .states import TicketState as T
from .states import case_transition

_TEXT_MAX = 500


def _check_scope(scope: str | None, case: Case) -> None:
    if not department_matches(scope, case.department):
        raise HallError(
            "not_your_department", f"case {case.receipt_no} belongs to {case.department}, not to {scope}"
        )


def _text(value: str, what: str, *, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise HallError("reason_required", f"{what} is required")
    if len(value) > _TEXT_MAX:
        raise HallError("invalid_field", f"{what} is longer than {_TEXT_MAX} characters")
    return value


def _serving(k: Cases, window: int, action: str) -> Ticket:
    """The ticket being served at ``window``: cases are created during a service."""
    t = k.queue.current(window, action)
    if t.state is not T.SERVING:
        raise HallError(
            "not_serving",
            f"cannot {action} at window {window}: {t.number} is {t.state.value}, start the service first",
        )
    return t


def _matter(k: Cases, code: str, window: int) -> Any:
    m = k.matters.get(code)
    if m is None:
        raise HallError("unknown_matter", f"no matter {code} in the catalogue")
    linked = {q.code: q.matters for q in k.config.queues}
    if any(linked.values()):  # the hall links matters to queues: the window must serve it
        wcfg = k.queue.window_config(window)
        if not any(code in linked.get(wq.queue, ()) for wq in wcfg.queues):
            raise HallError("not_served_here", f"window {window} does not accept matter {code} ({m.name})")
    return m


def _applicant(cmd_applicant: c.Applicant | None, t: Ticket) -> dict[str, str]:
    if cmd_applicant is not None:
        return {
            "applicant_name": cmd_applicant.name.strip(),
            "applicant_phone": cmd_applicant.phone.strip(),
            "applicant_id": cmd_applicant.id_number.strip(),
        }
    return {
        "applicant_name": t.applicant_name,
        "applicant_phone": t.applicant_phone,
        "applicant_id": t.applicant_id,
    }


def _creation_data(
    k: Cases, m: Any, t: Ticket, window: int, applicant: dict[str, str], now: datetime
) -> dict[str, Any]:
    receipt, seq = k.next_receipt(now)
    win = k.queue.windows[window]
    return {
        "receipt_no": receipt,
        "seq": seq,
        "matter_code": m.code,
        "matter_name": m.name,
        "department": m.department,
        "field": m.field,
        "case_type": str(m.case_type),
        "window_kind": str(m.window_kind),
        "one_window": bool(m.one_window),
        "promised_working_days": int(m.promised_working_days),
        "ticket_number": t.number,
        "accepted_window_kind": k.queue.window_configs[window].kind.value,
        "staff": win.staff,
        "staff_name": win.staff_name,
        **applicant,
    }


# ---------------------------------------------------------------------- front desk


def _accept(k: Cases, cmd: c.AcceptCase, now: datetime, a: str, out: list[Event]) -> None:
    t = _serving(k, cmd.window, "accept a case")
    m = _matter(k, cmd.matter, cmd.window)
    item = _text(cmd.deficiency_item, "the missing item", required=False)
    if item and cmd.deficiency_promised_date is None:
        raise HallError("missing_field", "容缺受理 needs the date the applicant promises to supply the item")
    if cmd.deficiency_promised_date is not None:
        if not item:
            raise HallError("missing_field", "容缺受理 needs the missing item")
        if cmd.deficiency_promised_date < now.date():
            raise HallError("invalid_field", "the promised supply date is in the past")
    bundles.check_deferrable(m, item)
    data = _creation_data(k, m, t, cmd.window, _applicant(cmd.applicant, t), now)
    due, provisional = k.due_for_new(data["promised_working_days"], now)
    k.emit(
        out,
        ev.CaseAccepted(
            at=now,
            actor=a,
            ticket=t.id,
            window=cmd.window,
            **data,
            due_at=due,
            provisional=provisional,
            deficiency_item=item,
            deficiency_promised_date=cmd.deficiency_promised_date,
            after_materials=False,
        ),
    )
    if getattr(m, "parts", ()):  # 一件事: one acceptance, one part per department
        bundles.open_parts(k, k.cases[data["receipt_no"]], m, now, a, out)


def _request_materials(k: Cases, cmd: c.RequestMaterials, now: datetime, a: str, out: list[Event]) -> None:
    t = _serving(k, cmd.window, "issue a 补正 notice")
    m = _matter(k, cmd.matter, cmd.window)
    missing = [s.strip() for s in cmd.missing_materials if s.strip()]
    if not missing:
        raise HallError("missing_field", "a 补正 notice lists every missing material: give at least one")
    if len(set(missing)) != len(missing):
        raise HallError("invalid_field", "a material is listed twice")
    for s in missing:
        _text(s, "a missing material")
    bundles.check_missing(m, missing)
    data = _creation_data(k, m, t, cmd.window, _applicant(cmd.applicant, t), now)
    version = m.materials_version if getattr(m, "materials", ()) else None
    k.emit(
        out,
        ev.MaterialsRequested(
            at=now,
            actor=a,
            ticket=t.id,
            window=cmd.window,
            **data,
            missing_materials=tuple(missing),
            materials_version=version,
        ),
    )


def _reject(k: Cases, cmd: c.RejectCase, now: datetime, a: str, out: list[Event]) -> None:
    t = _serving(k, cmd.window, "reject a case")
    reason = _text(cmd.reason, "不予受理 needs a reason; the reason")
    if cmd.receipt_no:
        case = k.case(cmd.receipt_no)
        case_transition("reject", case.receipt_no, case.state)
        if cmd.matter and cmd.matter != case.matter_code:
            raise HallError(
                "invalid_field", f"case {case.receipt_no} is for matter {case.matter_code}, not {cmd.matter}"
            )
        k.emit(
            out,
            ev.CaseRejected(
                at=now,
                actor=a,
                ticket=t.id,
                window=cmd.window,
                receipt_no=case.receipt_no,
                reason=reason,
                ticket_number=t.number,
                new=False,
            ),
        )
        return
    if not cmd.matter:
        raise HallError("missing_field", "reject_case needs the matter (or the receipt_no of a 补正 case)")
    m = _matter(k, cmd.matter, cmd.window)
    data = _creation_data(k, m, t, cmd.window, _applicant(cmd.applicant, t), now)
    k.emit(
        out, ev.CaseRejected(at=now, actor=a, ticket=t.id, window=cmd.window, **data, reason=reason, new=True)
    )


def _resume(k: Cases, cmd: c.ResumeCase, now: datetime, a: str, out: list[Event]) -> None:
    t = _serving(k, cmd.window, "resume a case")
    case = k.case(cmd.receipt_no)
    case_transition("resume", case.receipt_no, case.state)
    due, provisional = k.due_for_new(case.promised_working_days, now)
    win = k.queue.windows[cmd.window]
    k.emit(
        out,
        ev.CaseAccepted(
            at=now,
            actor=a,
            ticket=t.id,
            window=cmd.window,
            receipt_no=case.receipt_no,
            matter_code=case.matter_code,
            matter_name=case.matter_name,
            department=case.department,
            case_type=case.case_type,
            ticket_number=t.number,
            accepted_window_kind=k.queue.window_configs[cmd.window].kind.value,
            staff=win.staff,
            staff_name=win.staff_name,
            due_at=due,
            provisional=provisional,
            after_materials=True,
            deficiency_item="",
            deficiency_promised_date=None,
        ),
    )
    m = k.matters.get(case.matter_code)
    if getattr(m, "parts", ()):  # a 一件事 whose materials are complete now fans out
        bundles.open_parts(k, case, m, now, a, out)


def _supply(k: Cases, cmd: c.SupplyMaterials, now: datetime, a: str, out: list[Event]) -> None:
    case = k.case(cmd.receipt_no)
    _check_scope(cmd.scope, case)
    case_transition("supply materials for", case.receipt_no, case.state)
    if not case.deficiency_item:
        raise HallError("not_allowed", f"case {case.receipt_no} was not accepted with a missing item (容缺)")
    if case.deficiency_supplied_at is not None:
        raise HallError(
            "illegal_transition", f"the missing item of case {case.receipt_no} was already supplied"
        )
    on_time = case.deficiency_promised_date is None or now.date() <= case.deficiency_promised_date
    k.emit(out, ev.MaterialsSupplied(**_about(case, now, a), item=case.deficiency_item, on_time=on_time))


# ---------------------------------------------------------------------- back office


def _about(case: Case, now: datetime, a: str) -> dict[str, Any]:
    """The fields every back-office event of a case has."""
    return {
        "at": now,
        "actor": a,
        "ticket": case.ticket,
        "window": case.window,
        "receipt_no": case.receipt_no,
        "matter_code": case.matter_code,
    }


def _start_review(k: Cases, cmd: c.StartReview, now: datetime, a: str, out: list[Event]) -> None:
    case = k.case(cmd.receipt_no)
    _check_scope(cmd.scope, case)
    case_transition("start the review of", case.receipt_no, case.state)
    k.emit(out, ev.ReviewStarted(**_about(case, now, a)))


def _suspend(k: Cases, cmd: c.SuspendCase, now: datetime, a: str, out: list[Event]) -> None:
    case = k.case(cmd.receipt_no)
    _check_scope(cmd.scope, case)
    case_transition("suspend", case.receipt_no, case.state)
    if cmd.reason not in c.SUSPENSION_REASONS:
        raise HallError(
            "invalid_field",
            "a case is suspended only for " + "、".join(c.SUSPENSION_REASONS) + " (行政许可法 art. 45)",
        )
    if cmd.expected_working_days < 1:
        raise HallError("invalid_field", "the expected length is at least 1 working day")
    note = _text(cmd.note, "the note", required=False)
    due, provisional = k.due(case, paused=case.paused_working_days + cmd.expected_working_days)
    k.emit(
        out,
        ev.CaseSuspended(
            **_about(case, now, a),
            reason=cmd.reason,
            note=note,
            expected_working_days=cmd.expected_working_days,
            due_at=due,
            provisional=provisional,
        ),
    )


def _resume_review(k: Cases, cmd: c.ResumeReview, now: datetime, a: str, out: list[Event]) -> None:
    case = k.case(cmd.receipt_no)
    _check_scope(cmd.scope, case)
    case_transition("resume the review of", case.receipt_no, case.state)
    assert case.suspended_since is not None
    paused = max(0, k.calendar.working_days_between(case.suspended_since.astimezone(k.tz).date(), now.date()))
    due, provisional = k.due(case, paused=case.paused_working_days + paused)
    k.emit(
        out,
        ev.ReviewResumed(
            **_about(case, now, a),
            paused_working_days=paused,
            reason=case.suspension_reason,
            due_at=due,
            provisional=provisional,
        ),
    )


def _extend(k: Cases, cmd: c.ExtendCase, now: datetime, a: str, out: list[Event]) -> None:
    case = k.case(cmd.receipt_no)
    _check_scope(cmd.scope, case)
    if case.extension_days:
        raise HallError(
            "extension_used", f"case {case.receipt_no} was already extended once (延期原则上不得超过1次)"
        )
    case_transition("extend", case.receipt_no, case.state)
    if case.case_type == "即办件":
        raise HallError("not_allowed", f"case {case.receipt_no} is a 即办件: it is decided on the spot")
    reason = _text(cmd.reason, "an extension needs a reason; the reason")
    limit = k.config.rules.max_extension_working_days
    if not 1 <= cmd.working_days <= limit:
        raise HallError("invalid_field", f"an extension is 1 to {limit} working days")
    assert case.due_at is not None
    if now > case.due_at:
        raise HallError(
            "deadline_passed",
            f"case {case.receipt_no} was due {case.due_at:%Y-%m-%d %H:%M}: "
            "an extension must be decided before the deadline",
        )
    due, provisional = k.due(case, extra_days=cmd.working_days)
    k.emit(
        out,
        ev.CaseExtended(
            **_about(case, now, a),
            working_days=cmd.working_days,
            reason=reason,
            previous_due_at=case.due_at,
            due_at=due,
            provisional=provisional,
        ),
    )


def _decide(k: Cases, cmd: c.DecideCase, now: datetime, a: str, out: list[Event]) -> None:
    case = k.case(cmd.receipt_no)
    _check_scope(cmd.scope, case)
    if cmd.window is not None:
        case_transition("decide on the spot", case.receipt_no, case.state)
        if case.case_type != "即办件":
            raise HallError(
                "not_allowed", f"case {case.receipt_no} is a 承诺件: the back office decides it after review"
            )
        t = _serving(k, cmd.window, "decide a case on the spot")
        if t.id != case.ticket:
            raise HallError(
                "not_your_window", f"case {case.receipt_no} is not the one served at window {cmd.window}"
            )
    else:
        case_transition("decide", case.receipt_no, case.state)
    note = _text(cmd.note, "the note", required=cmd.decision is c.Decision.DISAPPROVED)
    on_time = case.due_at is None or now <= case.due_at
    k.emit(
        out,
        ev.CaseDecided(
            **_about(case, now, a),
            decision=cmd.decision.value,
            note=note,
            on_time=on_time,
            on_the_spot=cmd.window is not None,
        ),
    )
    if case.bundle_receipt is not None:
        bundles.part_decided(k, case, now, a, out)


def _deliver(k: Cases, cmd: c.DeliverCase, now: datetime, a: str, out: list[Event]) -> None:
    case = k.case(cmd.receipt_no)
    _check_scope(cmd.scope, case)
    bundles.refuse_part_delivery(case)
    case_transition("deliver", case.receipt_no, case.state)
    note = _text(cmd.note, "the note", required=False)
    ticket_id = None
    if cmd.method is c.DeliveryMethod.WINDOW:
        if cmd.window is None:
            raise HallError("missing_field", "delivery at a window needs the window")
        t = _serving(k, cmd.window, "hand out a result")
        wkind = k.queue.window_configs[cmd.window].kind.value
        own_instant = case.case_type == "即办件" and cmd.window == case.window and t.id == case.ticket
        if wkind != "出件" and not own_instant:
            raise HallError(
                "not_served_here", f"window {cmd.window} is not a 出件 window; results are handed out there"
            )
        ticket_id = t.id
    elif cmd.window is not None:
        raise HallError("invalid_field", "delivery by post takes no window")
    delivered = ev.CaseDelivered(
        at=now,
        actor=a,
        ticket=ticket_id or case.ticket,
        window=cmd.window if cmd.window is not None else case.window,
        receipt_no=case.receipt_no,
        matter_code=case.matter_code,
        method=cmd.method.value,
        delivery_window=cmd.window,
        delivery_ticket=ticket_id,
        note=note,
    )
    k.emit(out, delivered)
    bundles.deliver_parts(k, case, delivered, out)


def recompute(k: Cases, cmd: c.RecomputeDeadlines, now: datetime, a: str, out: list[Event]) -> None:
    for case in sorted(k.cases.values(), key=lambda x: x.receipt_no):
        if case.final or case.clock_started_at is None or case.state is CS.DECIDED:
            continue
        due, provisional = k.due(case)
        if due != case.due_at or provisional != case.provisional:
            k.emit(
                out,
                ev.DeadlineRecomputed(
                    **_about(case, now, a), due_at=due, previous_due_at=case.due_at, provisional=provisional
                ),
            )


HANDLERS: dict[type, Callable[[Cases, Any, datetime, str, list[Event]], None]] = {
    c.AcceptCase: _accept,
    c.RequestMaterials: _request_materials,
    c.RejectCase: _reject,
    c.ResumeCase: _resume,
    c.SupplyMaterials: _supply,
    c.StartReview: _start_review,
    c.SuspendCase: _suspend,
    c.ResumeReview: _resume_review,
    c.ExtendCase: _extend,
    c.DecideCase: _decide,
    c.DeliverCase: _deliver,
    **bundles.HANDLERS,
}
