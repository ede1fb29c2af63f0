"""Complaint commands: receive (any staff; the 办不成事 window too), assign and reassign (the
management or a manager), handle, reply and close (the owner's back office or a manager),
督办 (a manager). Every check comes before the first event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from . import commands as c
from . import events as ev
from .cases import department_matches
from .complaints import Complaints
from .errors import HallError
from .events import Event
from .model import Complaint
from .ratings import SCORES
from .responsibility import decide, is_management, owner_of
from .states import ComplaintState as CP
from .states import complaint_transition

_TEXT_MAX = 1000


def _need(value: str, what: str, limit: int = _TEXT_MAX) -> str:
    value = value.strip()
    if not value:
        raise HallError("reason_required", f"{what} is required")
    if len(value) > limit:
        raise HallError("invalid_field", f"{what} is at most {limit} characters")
    return value


def _department(g: Complaints, cmd: c.ReceiveComplaint) -> tuple[str, str, str | None]:
    """(department, matter code, receipt) of what the complaint is about."""
    matter_code, receipt = cmd.matter_code.strip(), cmd.receipt_no.strip().upper() or None
    department = cmd.department.strip()
    case = g.cases.cases.get(receipt) if receipt else None
    if case is not None:
        matter_code = matter_code or case.matter_code
        department = department or case.department
    if cmd.rating_id is not None:
        rating = g.ratings.ratings.get(cmd.rating_id)
        if rating is None:
            raise HallError("unknown_rating", f"no rating {cmd.rating_id} held")
        matter_code = matter_code or rating.matter_code
        department = department or rating.department
    if matter_code:
        matter = g.cases.matters.get(matter_code)
        if matter is None:
            raise HallError("unknown_matter", f"no matter {matter_code} in the catalogue")
        department = department or str(matter.department)
    return department, matter_code, receipt


def _receive(g: Complaints, cmd: c.ReceiveComplaint, now: datetime, a: str, out: list[Event]) -> None:
    channel = c.ComplaintChannel(cmd.channel)
    content = _need(cmd.content, "the content of the complaint")
    category = cmd.category.strip()
    if category and g.config.reason(category) is None:
        known = "、".join(r.text for r in g.config.reasons)
        raise HallError(
            "invalid_field",
            f"category {category!r} is not in the catalogue ({known}); "
            "leave it empty for the management to triage",
        )
    hotline_ref = cmd.hotline_ref.strip()
    if channel is c.ComplaintChannel.HOTLINE and not hotline_ref:
        raise HallError("missing_field", "a 12345 转办 item names its work-order number (hotline_ref)")
    if channel is c.ComplaintChannel.RATING and cmd.rating_id is None:
        raise HallError("missing_field", "a 好差评 follow-up names its rating (rating_id)")
    department, matter_code, receipt = _department(g, cmd)
    if cmd.hotline_due is not None:
        if channel is not c.ComplaintChannel.HOTLINE:
            raise HallError("invalid_field", "hotline_due is the 12345 platform's 反馈 date")
        if cmd.hotline_due < now.date():
            raise HallError("invalid_field", "the 12345 反馈 date is in the past")
        due_at, provisional = (
            datetime.combine(cmd.hotline_due, g.config.close_of_business, tzinfo=g.tz),
            False,
        )
    else:
        due_at, provisional = g.due(channel, now)
    who = cmd.complainant or c.Applicant()
    if len(who.name) > 40 or len(who.phone) > 20:
        raise HallError("invalid_field", "the complainant's name is at most 40 and the phone 20 characters")
    owner = decide(g.config, [category] if category else [], department)
    cid = g.last_complaint_id + 1
    g.emit(
        out,
        ev.ComplaintReceived(
            at=now,
            actor=a,
            ticket=cmd.ticket or None,
            window=cmd.window,
            complaint_id=cid,
            channel=channel.value,
            category=category,
            content=content,
            matter_code=matter_code,
            responsible=owner.responsible.value,
            owner_department=owner.owner_department,
            triage=owner.triage,
            due_at=due_at,
            provisional=provisional,
            receipt_no=receipt,
            rating_id=cmd.rating_id,
            hotline_ref=hotline_ref,
            complainant_name=who.name.strip(),
            complainant_phone=who.phone.strip(),
        ),
    )
    if not owner.triage:  # 分办 by the catalogue: the owner has it at once
        g.emit(
            out,
            ev.ComplaintAssigned(
                at=now,
                actor=a,
                ticket=cmd.ticket or None,
                window=cmd.window,
                complaint_id=cid,
                responsible=owner.responsible.value,
                owner_department=owner.owner_department,
                previous_owner_department="",
                reason=f"按内容分办:{category}",
            ),
        )


def _about(k: Complaint, now: datetime, a: str) -> dict[str, Any]:
    return {"at": now, "actor": a, "ticket": k.ticket, "window": k.window, "complaint_id": k.id}


def _assign(g: Complaints, cmd: c.AssignComplaint, now: datetime, a: str, out: list[Event]) -> None:
    k = g.complaint(cmd.complaint)
    if not is_management(g.config, cmd.scope):
        raise HallError(
            "not_your_department", f"only {g.config.management} or a manager assigns complaints (分办)"
        )
    again = k.state is not CP.RECEIVED
    complaint_transition("reassign" if again else "assign", k.id, k.state)
    responsible, department = owner_of(g.config, cmd.responsible, cmd.department)
    reason = cmd.reason.strip()
    if again:
        reason = _need(reason, "the reason of the reassignment", 500)
        if department == k.owner_department:
            raise HallError("invalid_field", f"complaint {k.id} is already {department}'s")
    g.emit(
        out,
        ev.ComplaintAssigned(
            **_about(k, now, a),
            responsible=responsible,
            owner_department=department,
            previous_owner_department=k.owner_department if again else "",
            reason=reason[:500],
        ),
    )


def _owned(g: Complaints, cid: int, scope: str | None) -> Complaint:
    k = g.complaint(cid)
    if not department_matches(scope, k.owner_department):
        raise HallError(
            "not_your_department", f"complaint {cid} belongs to {k.owner_department}, not to {scope}"
        )
    return k


def _handle(g: Complaints, cmd: c.HandleComplaint, now: datetime, a: str, out: list[Event]) -> None:
    k = _owned(g, cmd.complaint, cmd.scope)
    complaint_transition("handle", k.id, k.state)
    g.emit(out, ev.ComplaintHandled(**_about(k, now, a), handling=_need(cmd.handling, "what was done")))


def _reply(g: Complaints, cmd: c.ReplyComplaint, now: datetime, a: str, out: list[Event]) -> None:
    k = _owned(g, cmd.complaint, cmd.scope)
    complaint_transition("reply to", k.id, k.state)
    g.emit(
        out,
        ev.ComplaintReplied(
            **_about(k, now, a), reply=_need(cmd.reply, "the reply"), on_time=now <= k.due_at
        ),
    )


def _close(g: Complaints, cmd: c.CloseComplaint, now: datetime, a: str, out: list[Event]) -> None:
    k = _owned(g, cmd.complaint, cmd.scope)
    complaint_transition("close", k.id, k.state)
    if isinstance(cmd.satisfaction, bool) or cmd.satisfaction not in SCORES:
        raise HallError("invalid_field", "satisfaction is 1 to 5 (5 非常满意 … 1 非常不满意)")
    g.emit(out, ev.ComplaintClosed(**_about(k, now, a), satisfaction=cmd.satisfaction))


def _remind(g: Complaints, cmd: c.RemindComplaint, now: datetime, a: str, out: list[Event]) -> None:
    k = g.complaint(cmd.complaint)
    complaint_transition("remind the owner of", k.id, k.state)
    g.emit(
        out,
        ev.ComplaintReminded(
            **_about(k, now, a),
            note=_need(cmd.note, "the 督办 note", 500),
            owner_department=k.owner_department,
            due_at=k.due_at,
            overdue=k.overdue(now),
        ),
    )


HANDLERS: dict[type, Callable[[Complaints, Any, datetime, str, list[Event]], None]] = {
    c.ReceiveComplaint: _receive,
    c.AssignComplaint: _assign,
    c.HandleComplaint: _handle,
    c.ReplyComplaint: _reply,
    c.CloseComplaint: _close,
    c.RemindComplaint: _remind,
}
