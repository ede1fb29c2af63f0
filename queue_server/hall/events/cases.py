"""Events of cases (办件)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from .base import Event, event_type
from .base import EventType as T

# what a case is created with (受理, 补正 notice, new 不予受理); a resumed 补正 case has none of
# the fields marked "creation only", a 不予受理 of a 补正 case none of CREATION
_CREATION_ONLY = frozenset(
    {
        "seq",
        "field",
        "window_kind",
        "one_window",
        "promised_working_days",
        "applicant_name",
        "applicant_phone",
        "applicant_id",
    }
)
_CREATION = _CREATION_ONLY | {
    "matter_code",
    "matter_name",
    "department",
    "case_type",
    "accepted_window_kind",
    "staff",
    "staff_name",
}


@dataclass(frozen=True, kw_only=True)
class _CaseEvent(Event):
    staff_only = True
    receipt_no: str


@event_type
@dataclass(frozen=True, kw_only=True)
class CaseAccepted(_CaseEvent):
    """受理 / 容缺受理 of a new case, or (``after_materials``) a 补正 case resumed."""

    type = T.CASE_ACCEPTED
    matter_code: str
    matter_name: str
    department: str
    case_type: str
    ticket_number: str
    accepted_window_kind: str
    staff: str | None
    staff_name: str
    due_at: datetime
    provisional: bool
    deficiency_item: str
    deficiency_promised_date: date | None
    after_materials: bool
    seq: int | None = None
    field: str | None = None
    window_kind: str | None = None
    one_window: bool | None = None
    promised_working_days: int | None = None
    applicant_name: str | None = None
    applicant_phone: str | None = None
    applicant_id: str | None = None

    def absent(self) -> frozenset[str]:
        return _CREATION_ONLY if self.after_materials else frozenset()


@event_type
@dataclass(frozen=True, kw_only=True)
class CaseRejected(_CaseEvent):
    """不予受理: a new case (``new``), or a 补正 case by its receipt."""

    type = T.CASE_REJECTED
    reason: str
    ticket_number: str
    new: bool
    seq: int | None = None
    matter_code: str | None = None
    matter_name: str | None = None
    department: str | None = None
    field: str | None = None
    case_type: str | None = None
    window_kind: str | None = None
    one_window: bool | None = None
    promised_working_days: int | None = None
    accepted_window_kind: str | None = None
    staff: str | None = None
    staff_name: str | None = None
    applicant_name: str | None = None
    applicant_phone: str | None = None
    applicant_id: str | None = None

    def absent(self) -> frozenset[str]:
        return frozenset() if self.new else _CREATION


@event_type
@dataclass(frozen=True, kw_only=True)
class MaterialsRequested(_CaseEvent):
    type = T.MATERIALS_REQUESTED
    seq: int
    matter_code: str
    matter_name: str
    department: str
    field: str
    case_type: str
    window_kind: str
    one_window: bool
    promised_working_days: int
    ticket_number: str
    accepted_window_kind: str
    staff: str | None
    staff_name: str
    applicant_name: str
    applicant_phone: str
    applicant_id: str
    missing_materials: tuple[str, ...]
    materials_version: str | None = None  # the material list the notice was written against

    def absent(self) -> frozenset[str]:
        return frozenset({"materials_version"}) if self.materials_version is None else frozenset()


@event_type
@dataclass(frozen=True, kw_only=True)
class MaterialsSupplied(_CaseEvent):
    type = T.MATERIALS_SUPPLIED
    matter_code: str
    item: str
    on_time: bool


@event_type
@dataclass(frozen=True, kw_only=True)
class ReviewStarted(_CaseEvent):
    type = T.REVIEW_STARTED
    matter_code: str


@event_type
@dataclass(frozen=True, kw_only=True)
class CaseSuspended(_CaseEvent):
    type = T.CASE_SUSPENDED
    matter_code: str
    reason: str
    note: str
    expected_working_days: int
    due_at: datetime
    provisional: bool


@event_type
@dataclass(frozen=True, kw_only=True)
class ReviewResumed(_CaseEvent):
    type = T.REVIEW_RESUMED
    matter_code: str
    paused_working_days: int
    reason: str
    due_at: datetime
    provisional: bool


@event_type
@dataclass(frozen=True, kw_only=True)
class CaseExtended(_CaseEvent):
    type = T.CASE_EXTENDED
    matter_code: str
    working_days: int
    reason: str
    previous_due_at: datetime
    due_at: datetime
    provisional: bool


@event_type
@dataclass(frozen=True, kw_only=True)
class CaseDecided(_CaseEvent):
    type = T.CASE_DECIDED
    matter_code: str
    decision: str
    note: str
    on_time: bool
    on_the_spot: bool


@event_type
@dataclass(frozen=True, kw_only=True)
class CaseDelivered(_CaseEvent):
    type = T.CASE_DELIVERED
    matter_code: str
    method: str
    delivery_window: int | None
    delivery_ticket: str | None
    note: str


_CASE_KEYS = frozenset({"receipt_no", "matter_code", "due_at", "previous_due_at"})
_RECT_KEYS = frozenset(
    {"rectification_id", "contact_due", "rectify_due", "previous_contact_due", "previous_rectify_due"}
)


@event_type
@dataclass(frozen=True, kw_only=True)
class DeadlineRecomputed(Event):
    """New calendar data moved a due instant: of a case (``receipt_no``) or of a
    rectification (``rectification_id``)."""

    type = T.DEADLINE_RECOMPUTED
    staff_only = True
    provisional: bool
    receipt_no: str | None = None
    matter_code: str | None = None
    due_at: datetime | None = None
    previous_due_at: datetime | None = None
    rectification_id: int | None = None
    contact_due: datetime | None = None
    rectify_due: datetime | None = None
    previous_contact_due: datetime | None = None
    previous_rectify_due: datetime | None = None

    def absent(self) -> frozenset[str]:
        return _RECT_KEYS if self.receipt_no is not None else _CASE_KEYS
