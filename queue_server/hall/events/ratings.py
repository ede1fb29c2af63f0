"""Events of 好差评 ratings and the rectification loop of every 差评."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .base import Event, event_type
from .base import EventType as T


@dataclass(frozen=True, kw_only=True)
class _RatingEvent(Event):
    staff_only = True
    rating_id: int
    score: int
    level: str
    bad: bool
    reasons: tuple[str, ...]
    text: str
    channel: str  # pad / status_page
    ticket_number: str
    queue: str
    staff: str | None
    staff_name: str
    department: str
    matter_code: str
    matter_name: str
    receipt_no: str | None
    rater_token_hash: str


@event_type
@dataclass(frozen=True, kw_only=True)
class ServiceRated(_RatingEvent):
    type = T.SERVICE_RATED


@event_type
@dataclass(frozen=True, kw_only=True)
class FollowUpRated(_RatingEvent):
    """追评."""

    type = T.FOLLOW_UP_RATED
    follow_up_of: int
    rectification_id: int


@event_type
@dataclass(frozen=True, kw_only=True)
class RectificationOpened(Event):
    type = T.RECTIFICATION_OPENED
    staff_only = True
    rectification_id: int
    rating_id: int
    owner_department: str
    owner_staff: str | None
    owner_staff_name: str
    contact_due: datetime
    rectify_due: datetime
    provisional: bool
    # responsibility by content (absent from records written before it: the department)
    responsible: str | None = None  # management / department
    coordinator: str | None = None  # the management, when it co-ordinates a department-led loop
    triage: bool | None = None  # free text only: the management triages (and may reassign)

    def absent(self) -> frozenset[str]:
        return frozenset(k for k in ("responsible", "coordinator", "triage") if getattr(self, k) is None)


@dataclass(frozen=True, kw_only=True)
class _LoopEvent(Event):
    staff_only = True
    rectification_id: int
    rating_id: int


@event_type
@dataclass(frozen=True, kw_only=True)
class RaterContacted(_LoopEvent):
    type = T.RATER_CONTACTED
    note: str
    on_time: bool


@event_type
@dataclass(frozen=True, kw_only=True)
class RatingRectified(_LoopEvent):
    type = T.RATING_RECTIFIED
    measures: str
    on_time: bool


@event_type
@dataclass(frozen=True, kw_only=True)
class RaterRevisited(_LoopEvent):
    type = T.RATER_REVISITED
    satisfaction: int
    note: str
    outcome: str


@event_type
@dataclass(frozen=True, kw_only=True)
class ResolvedOnTheSpot(_LoopEvent):
    type = T.RESOLVED_ON_THE_SPOT
    note: str
    outcome: str
    contact_on_time: bool
    rectify_on_time: bool


@event_type
@dataclass(frozen=True, kw_only=True)
class RatingExplained(_LoopEvent):
    type = T.RATING_EXPLAINED
    explanation: str
    outcome: str
    contact_on_time: bool
    rectify_on_time: bool


@event_type
@dataclass(frozen=True, kw_only=True)
class RatingAppealed(_LoopEvent):
    type = T.RATING_APPEALED
    reason: str
    from_state: str


@event_type
@dataclass(frozen=True, kw_only=True)
class AppealDecided(_LoopEvent):
    type = T.APPEAL_DECIDED
    decision: str  # upheld / rejected
    note: str
    state: str | None  # the state the loop is in after the decision
    outcome: str | None  # appeal_upheld, or None when rejected


@event_type
@dataclass(frozen=True, kw_only=True)
class RectificationReassigned(_LoopEvent):
    """The management gives the loop to another owner (recorded, with the reason)."""

    type = T.RECTIFICATION_REASSIGNED
    responsible: str
    owner_department: str
    previous_owner_department: str
    reason: str
