"""Events of tickets, windows and staff at windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from .base import Event, event_type
from .base import EventType as T


@event_type
@dataclass(frozen=True, kw_only=True)
class DayStarted(Event):
    type = T.DAY_STARTED
    service_date: date
    previous_date: date | None
    expired: tuple[str, ...]  # the tickets left open at the end of the previous day


@event_type
@dataclass(frozen=True, kw_only=True)
class TicketIssued(Event):
    type = T.TICKET_ISSUED
    queue: str
    number: str
    seq: int
    channel: str
    priority: str
    checked_in: bool
    status_token: str
    appointment_slot: datetime | None
    applicant_name: str
    applicant_phone: str
    applicant_id: str
    position: int  # in the queue's line at issue (0: not in line yet, e.g. not checked in)
    estimated_wait_s: int


@event_type
@dataclass(frozen=True, kw_only=True)
class TicketCheckedIn(Event):
    type = T.TICKET_CHECKED_IN


@event_type
@dataclass(frozen=True, kw_only=True)
class TicketCalled(Event):
    type = T.TICKET_CALLED
    number: str
    queue: str
    priority: str
    reason: str  # out-of-order call: why; "" for the next in line
    staff: str | None
    waited_s: int


@event_type
@dataclass(frozen=True, kw_only=True)
class TicketRecalled(Event):
    type = T.TICKET_RECALLED
    number: str
    queue: str
    recall: int


@event_type
@dataclass(frozen=True, kw_only=True)
class ServiceStarted(Event):
    type = T.SERVICE_STARTED
    number: str
    queue: str


@event_type
@dataclass(frozen=True, kw_only=True)
class ServiceFinished(Event):
    type = T.SERVICE_FINISHED
    number: str
    queue: str
    service_s: int
    occupancy_s: int
    staff: str | None
    staff_name: str
    matter_name: str


@event_type
@dataclass(frozen=True, kw_only=True)
class TicketNoShow(Event):
    type = T.TICKET_NO_SHOW
    number: str
    reason: str  # manual / recall_limit
    recalls: int


@event_type
@dataclass(frozen=True, kw_only=True)
class TicketReactivated(Event):
    type = T.TICKET_REACTIVATED
    number: str
    queue: str


@event_type
@dataclass(frozen=True, kw_only=True)
class TicketTransferred(Event):
    type = T.TICKET_TRANSFERRED
    number: str
    from_queue: str
    to_queue: str
    to_window: int | None
    reason: str


@event_type
@dataclass(frozen=True, kw_only=True)
class TicketCancelled(Event):
    type = T.TICKET_CANCELLED
    number: str
    queue: str
    reason: str


@event_type
@dataclass(frozen=True, kw_only=True)
class WindowOpened(Event):
    type = T.WINDOW_OPENED
    staff: str | None


@event_type
@dataclass(frozen=True, kw_only=True)
class WindowPaused(Event):
    type = T.WINDOW_PAUSED
    reason: str
    staff: str | None


@event_type
@dataclass(frozen=True, kw_only=True)
class WindowResumed(Event):
    type = T.WINDOW_RESUMED
    staff: str | None


@event_type
@dataclass(frozen=True, kw_only=True)
class WindowClosed(Event):
    type = T.WINDOW_CLOSED
    staff: str | None
    reason: str | None = None  # "logout" when a logout closed it; absent otherwise

    def absent(self) -> frozenset[str]:
        return frozenset({"reason"}) if self.reason is None else frozenset()


@event_type
@dataclass(frozen=True, kw_only=True)
class StaffLoggedIn(Event):
    type = T.STAFF_LOGGED_IN
    staff: str
    staff_name: str


@event_type
@dataclass(frozen=True, kw_only=True)
class StaffLoggedOut(Event):
    type = T.STAFF_LOGGED_OUT
    staff: str | None
