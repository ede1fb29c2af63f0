"""Complaints (投诉/纠纷) as tracked items (seed 001 三(一)4 后台审核审批区: 咨询、纠纷、投诉处理和
回复; 四(四) 投诉处理; seed 002: 12345 转办事项的分办、督办、反馈).

A complaint comes by a channel (现场, 电话, 12345 转办, 好差评 follow-up, 办不成事 反映), with a
category from the hall's responsibility catalogue (``responsibility.decide`` names its owner:
the management or the department of the matter) or free text (the management triages and
assigns it). It runs ``states.COMPLAINT_TRANSITIONS``: received → assigned → handled →
replied → closed with the complainant's satisfaction. Its reply (12345: 反馈) is due at close
of business of ``rules.complaint_<channel>_working_days`` working days after receipt (the
hall's ``WorkCalendar``), or of the 12345 platform's own 反馈 date. A complaint still open past
its due instant is overdue. Every complaint has exactly one owner at any time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from . import commands as c
from . import events as ev
from .calendar import WorkCalendar
from .cases import Cases, department_matches
from .config import HallConfig, Party
from .errors import HallError
from .events import Event
from .model import Complaint
from .ratings import Ratings
from .states import COMPLAINT_CREATION, complaint_transition
from .states import ComplaintState as CP

CHANNEL_DAYS = {
    c.ComplaintChannel.ONSITE: "complaint_onsite_working_days",
    c.ComplaintChannel.PHONE: "complaint_phone_working_days",
    c.ComplaintChannel.HOTLINE: "complaint_hotline_working_days",
    c.ComplaintChannel.RATING: "complaint_rating_working_days",
    c.ComplaintChannel.UNRESOLVED: "complaint_unresolved_working_days",
}


@dataclass
class ComplaintChanges:
    complaints: dict[int, Complaint] = field(default_factory=dict)


class Complaints:
    """The complaints kept (open ones and those closed today)."""

    def __init__(
        self,
        config: HallConfig,
        cases: Cases,
        ratings: Ratings,
        *,
        complaints: Iterable[Complaint] = (),
        last_complaint_id: int = 0,
    ) -> None:
        self.config = config
        self.cases = cases
        self.ratings = ratings
        self.tz = ratings.tz
        self.complaints: dict[int, Complaint] = {k.id: k for k in complaints}
        self.last_complaint_id = max([last_complaint_id, *self.complaints])
        self.changes = ComplaintChanges()

    @property
    def calendar(self) -> WorkCalendar:
        return self.cases.calendar

    def take_changes(self) -> ComplaintChanges:
        ch, self.changes = self.changes, ComplaintChanges()
        return ch

    def emit(self, out: list[Event], event: Event) -> None:
        self.apply(event)
        out.append(event)

    def apply(self, event: Event) -> None:
        _APPLY[type(event)](self, event)

    def owns(self, event: Event) -> bool:
        return type(event) in _APPLY

    def complaint(self, cid: int) -> Complaint:
        k = self.complaints.get(cid)
        if k is None:
            raise HallError("unknown_complaint", f"no open complaint {cid}")
        return k

    def due(self, channel: c.ComplaintChannel, received_at: datetime) -> tuple[datetime, bool]:
        days = getattr(self.config.rules, CHANNEL_DAYS[channel])
        d = self.calendar.deadline(received_at, days, self.config.close_of_business, self.tz)
        return d.at, d.provisional

    def prune(self, today: date) -> None:
        """Keep what a restart on ``today`` would load: open complaints and those changed today."""
        self.complaints = {
            k: v
            for k, v in self.complaints.items()
            if v.state is not CP.CLOSED or v.updated_at.astimezone(self.tz).date() >= today
        }

    # ------------------------------------------------------------------ views

    def owner_name(self, k: Complaint) -> str:
        return self.config.management if k.responsible == Party.MANAGEMENT.value else k.owner_department

    def view(self, k: Complaint, now: datetime) -> dict[str, Any]:
        """The masked view (the server adds the complainant's data for whom may see it)."""
        now = now.astimezone(self.tz)
        soon_s = self.config.rules.due_soon_hours * 3600
        view = k.public()
        view.update(
            channel_name=c.COMPLAINT_CHANNEL_NAMES[c.ComplaintChannel(k.channel)],
            owner_name=self.owner_name(k),
            overdue=k.overdue(now),
            due_soon=k.is_open and not k.overdue(now) and (k.due_at - now).total_seconds() <= soon_s,
        )
        return view

    def listing(
        self,
        now: datetime,
        *,
        department: str | None = None,
        open_only: bool = False,
        overdue_only: bool = False,
    ) -> list[dict[str, Any]]:
        rows = [
            k
            for k in self.complaints.values()
            if department_matches(department, k.owner_department)
            and (not open_only or k.is_open)
            and (not overdue_only or k.overdue(now))
        ]
        rows.sort(key=lambda k: (not k.is_open, k.due_at, k.id))
        return [self.view(k, now) for k in rows]


# ---------------------------------------------------------------------- event application


def _actor_id(actor: str) -> str:
    return actor.split(":", 1)[1] if ":" in actor else actor


def _a_received(g: Complaints, e: ev.ComplaintReceived) -> None:
    k = Complaint(
        id=e.complaint_id,
        channel=e.channel,
        category=e.category,
        content=e.content,
        state=COMPLAINT_CREATION["receive"],
        received_at=e.at,
        due_at=e.due_at,
        updated_at=e.at,
        responsible=e.responsible,
        owner_department=e.owner_department,
        triage=e.triage,
        provisional=e.provisional,
        matter_code=e.matter_code,
        receipt_no=e.receipt_no,
        rating_id=e.rating_id,
        ticket=e.ticket,
        window=e.window,
        hotline_ref=e.hotline_ref,
        complainant_name=e.complainant_name,
        complainant_phone=e.complainant_phone,
        received_by=_actor_id(e.actor),
    )
    g.complaints[k.id] = k
    g.last_complaint_id = max(g.last_complaint_id, k.id)
    g.changes.complaints[k.id] = k


def _step(
    g: Complaints,
    e: ev.ComplaintAssigned
    | ev.ComplaintHandled
    | ev.ComplaintReplied
    | ev.ComplaintClosed
    | ev.ComplaintReminded,
    action: str,
) -> Complaint:
    k = g.complaints[e.complaint_id]
    k.state = complaint_transition(action, k.id, k.state)
    k.updated_at = e.at
    g.changes.complaints[k.id] = k
    return k


def _a_assigned(g: Complaints, e: ev.ComplaintAssigned) -> None:
    k = g.complaints[e.complaint_id]
    again = k.state is not CP.RECEIVED
    k = _step(g, e, "reassign" if again else "assign")
    k.responsible, k.owner_department, k.triage = e.responsible, e.owner_department, False
    if again:
        k.reassignments += 1
        k.reassign_reason = e.reason
    else:
        k.assigned_at, k.assigned_by = e.at, _actor_id(e.actor)


def _a_handled(g: Complaints, e: ev.ComplaintHandled) -> None:
    k = _step(g, e, "handle")
    k.handled_at, k.handling, k.handled_by = e.at, e.handling, _actor_id(e.actor)


def _a_replied(g: Complaints, e: ev.ComplaintReplied) -> None:
    k = _step(g, e, "reply to")
    k.replied_at, k.reply, k.replied_by, k.reply_on_time = e.at, e.reply, _actor_id(e.actor), e.on_time


def _a_closed(g: Complaints, e: ev.ComplaintClosed) -> None:
    k = _step(g, e, "close")
    k.closed_at, k.satisfaction = e.at, e.satisfaction


def _a_reminded(g: Complaints, e: ev.ComplaintReminded) -> None:
    k = _step(g, e, "remind the owner of")
    k.reminders += 1
    k.last_reminded_at, k.reminder_note = e.at, e.note


_APPLY: dict[type[Event], Callable[[Complaints, Any], None]] = {
    ev.ComplaintReceived: _a_received,
    ev.ComplaintAssigned: _a_assigned,
    ev.ComplaintHandled: _a_handled,
    ev.ComplaintReplied: _a_replied,
    ev.ComplaintClosed: _a_closed,
    ev.ComplaintReminded: _a_reminded,
}
