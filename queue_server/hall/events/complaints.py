"""Events of complaints (投诉/纠纷): received → assigned → handled → replied → closed, with
reassignments and 督办 reminders recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .base import Event, event_type
from .base import EventType as T


@dataclass(frozen=True, kw_only=True)
class _ComplaintEvent(Event):
    staff_only = True
    complaint_id: int


@event_type
@dataclass(frozen=True, kw_only=True)
class ComplaintReceived(_ComplaintEvent):
    type = T.COMPLAINT_RECEIVED
    channel: str  # onsite / phone / hotline_12345 / rating / unresolved
    category: str  # an entry of the responsibility catalogue, or "" (free text: triage)
    content: str
    matter_code: str
    responsible: str  # management / department
    owner_department: str
    triage: bool
    due_at: datetime  # reply (回复 / 12345 反馈) due: close of business
    provisional: bool
    receipt_no: str | None
    rating_id: int | None
    hotline_ref: str  # the 12345 work-order number
    complainant_name: str  # private: never pushed
    complainant_phone: str  # private: never pushed


@event_type
@dataclass(frozen=True, kw_only=True)
class ComplaintAssigned(_ComplaintEvent):
    """分办 to its owner, or a reassignment (``previous_owner_department`` set, reason given)."""

    type = T.COMPLAINT_ASSIGNED
    responsible: str
    owner_department: str
    previous_owner_department: str
    reason: str


@event_type
@dataclass(frozen=True, kw_only=True)
class ComplaintHandled(_ComplaintEvent):
    type = T.COMPLAINT_HANDLED
    handling: str


@event_type
@dataclass(frozen=True, kw_only=True)
class ComplaintReplied(_ComplaintEvent):
    type = T.COMPLAINT_REPLIED
    reply: str
    on_time: bool


@event_type
@dataclass(frozen=True, kw_only=True)
class ComplaintClosed(_ComplaintEvent):
    type = T.COMPLAINT_CLOSED
    satisfaction: int  # 1-5, the complainant's


@event_type
@dataclass(frozen=True, kw_only=True)
class ComplaintReminded(_ComplaintEvent):
    """督办: a manager's reminder to the owner."""

    type = T.COMPLAINT_REMINDED
    note: str
    owner_department: str
    due_at: datetime
    overdue: bool


__all__ = [
    "ComplaintAssigned",
    "ComplaintClosed",
    "ComplaintHandled",
    "ComplaintReceived",
    "ComplaintReminded",
    "ComplaintReplied",
]
