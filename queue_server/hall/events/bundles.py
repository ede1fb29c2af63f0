"""Events of 集成服务 (issue 16): 一件事 bundles and their parts, the one-time notice, 帮办代办."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from .base import Event, event_type
from .base import EventType as T


@dataclass(frozen=True, kw_only=True)
class _CaseEvent(Event):
    staff_only = True
    receipt_no: str


@event_type
@dataclass(frozen=True, kw_only=True)
class PartOpened(_CaseEvent):
    """One component case of a bundle, created with the bundle's acceptance. ``waiting``: it
    needs the results of the parts ``after`` and its clock has not started (``due_at`` None)."""

    type = T.PART_OPENED
    bundle_receipt: str
    seq: int
    matter_code: str
    matter_name: str
    department: str
    field: str
    case_type: str
    window_kind: str
    one_window: bool
    promised_working_days: int  # the matter's own promise (for 减时间)
    share_working_days: int  # its share of the bundle's promise
    after: tuple[str, ...]
    waiting: bool
    due_at: datetime | None
    provisional: bool
    ticket_number: str | None
    applicant_name: str
    applicant_phone: str
    applicant_id: str


@event_type
@dataclass(frozen=True, kw_only=True)
class PartReleased(_CaseEvent):
    type = T.PART_RELEASED
    bundle_receipt: str
    matter_code: str
    due_at: datetime
    provisional: bool


@event_type
@dataclass(frozen=True, kw_only=True)
class PartWithdrawn(_CaseEvent):
    type = T.PART_WITHDRAWN
    bundle_receipt: str
    matter_code: str
    reason: str


@event_type
@dataclass(frozen=True, kw_only=True)
class BundleDecided(_CaseEvent):
    type = T.BUNDLE_DECIDED
    matter_code: str
    decision: str  # approved / partly_approved / disapproved
    on_time: bool


@event_type
@dataclass(frozen=True, kw_only=True)
class NoticeReissued(_CaseEvent):
    type = T.NOTICE_REISSUED
    matter_code: str
    missing_materials: tuple[str, ...]
    materials_version: str
    previous_version: str


@event_type
@dataclass(frozen=True, kw_only=True)
class CaseAssisted(_CaseEvent):
    type = T.CASE_ASSISTED
    matter_code: str
    helper: str
    helper_name: str


@event_type
@dataclass(frozen=True, kw_only=True)
class CaseSubmittedByAgent(_CaseEvent):
    """代办: a 代办员 of a service point submitted the case for the citizen (no ticket, no
    window, no visit). The clock starts now."""

    type = T.CASE_SUBMITTED_BY_AGENT
    seq: int
    matter_code: str
    matter_name: str
    department: str
    field: str
    case_type: str
    window_kind: str
    one_window: bool
    promised_working_days: int
    agent: str
    agent_point: str
    due_at: datetime
    provisional: bool
    applicant_name: str
    applicant_phone: str
    applicant_id: str
    deficiency_item: str
    deficiency_promised_date: date | None
