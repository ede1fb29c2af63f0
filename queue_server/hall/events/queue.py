"""Events of tickets, windows and staff at windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from .base import Event, EventType as T, event_type

_event = dataclass(frozen=True, kw_only=True)


@event_type
@_event
class DayStarted(Event):
    type = T.DAY_STARTED
    service_date: date
    previous_date: date | None
    expired: tuple[str, ...]  # the tickets left open at the end of the previous day


@event_type
@_event
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
@_event
class TicketCheckedIn(Event):
    type = T.TICKET_CHECKED_IN


@event_type
@_event
class TicketCalled(Event):
    type = T.TICKET_CALLED
    number: str
    queue: str
    priority: str
    reason: str  # out-of-order call: why; "" for the next in line
    staff: str | None
    waited_s: int


@event_type
@_event
class TicketRecalled(Event):
    type = T.TICKET_RECALLED
    number: str
    queue: str
    recall: int


@event_type
@_event
class ServiceStarted(Event):
    type = T.SERVICE_STARTED
    number: str
    queue: str


@event_type
@_event
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
@_event
class TicketNoShow(Event):
    type = T.TICKET_NO_SHOW
    number: str
    reason: str  # manual / recall_limit
    recalls: int


@event_type
@_event
class TicketReactivated(Event):
    type = T.TICKET_REACTIVATED
    number: str
    queue: str


@event_type
@_event
class TicketTransferred(Event):
    type = T.TICKET_TRANSFERRED
    number: str
    from_queue: str
    to_queue: str
    to_window: int | None
    reason: str


@event_type
@_event
class TicketCancelled(Event):
    type = T.TICKET_CANCELLED
    number: str
    queue: str
    reason: str


@event_type
@_event
class WindowOpened(Event):
    type = T.WINDOW_OPENED
    staff: str | None


@event_type
@_event
class WindowPaused(Event):
    type = T.WINDOW_PAUSED
    reason: str
    staff: str | None


@event_type
@_event
class WindowResumed(Event):
    type = T.WINDOW_RESUMED
    staff: str | None


@event_type
@_event
class WindowClosed(Event):
    type = T.WINDOW_CLOSED
    staff: str | None
    reason: str | None = None  # "logout" when a logout closed it; absent otherwise

    def absent(self) -> frozenset[str]:
        return frozenset({"reason"}) if self.reason is None else frozenset()


@event_type
@_event
class StaffLoggedIn(Event):
    type = T.STAFF_LOGGED_IN
    staff: str
    staff_name: str


@event_type
@_event
class StaffLoggedOut(Event):
    type = T.STAFF_LOGGED_OUT
    staff: str | None
