"""The hall's entities: tickets, windows, cases, ratings and rectifications, as mutable
records owned by the core.

``to_row`` / ``from_row`` give the flat dicts the store keeps in its current-state tables;
rebuilding after a restart goes through ``from_row`` alone.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from .masking import mask_name
from .states import (
    CASE_FINAL,
    COMPLAINT_OPEN,
    TICKET_ACTIVE,
    CaseState,
    ComplaintState,
    RectificationState,
    TicketState,
    WindowState,
)

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _shallow(obj: Any) -> dict[str, Any]:
    """The record's fields as a dict, in field order: ``dataclasses.asdict`` without its deep
    copy (the values are immutable or are converted by the caller), which made ``to_row`` the
    most expensive step of writing a batch."""
    names = _FIELD_NAMES.get(type(obj))
    if names is None:
        names = _FIELD_NAMES[type(obj)] = tuple(f.name for f in fields(obj))
    return {n: getattr(obj, n) for n in names}


def _iso(v: datetime | None) -> str | None:
    return v.isoformat() if v is not None else None


def _dt(v: str | None) -> datetime | None:
    return datetime.fromisoformat(v) if v else None


@dataclass(kw_only=True)
class Ticket:
    id: str  # "<yyyymmdd>-<number>", unique across days
    number: str  # "A012": the queue prefix at issue and 3 digits
    queue: str  # the queue it waits in now (changes on transfer)
    service_date: date
    seq: int
    channel: str
    priority: str
    state: TicketState
    issued_at: datetime
    arrived_at: datetime  # ordering key; kept across transfer and reactivation
    status_token: str
    appointment_slot: datetime | None = None
    checked_in: bool = True
    called_at: datetime | None = None
    served_at: datetime | None = None
    finished_at: datetime | None = None
    window: int | None = None  # window holding it (called / serving) or that last held it
    target_window: int | None = None  # transferred to a named window
    recalls: int = 0
    transfers: int = 0
    served_by: str | None = None  # staff username at the window when called
    estimated_wait_s: float | None = None  # given at issue
    applicant_name: str = ""
    applicant_phone: str = ""
    applicant_id: str = ""
    note: str = ""  # reason of an out-of-order call, cancellation, transfer

    @property
    def active(self) -> bool:
        return self.state in TICKET_ACTIVE

    def to_row(self) -> dict[str, Any]:
        row = _shallow(self)
        row["state"] = self.state.value
        row["service_date"] = self.service_date.isoformat()
        for k in ("issued_at", "arrived_at", "appointment_slot", "called_at", "served_at", "finished_at"):
            row[k] = _iso(getattr(self, k))
        row["checked_in"] = int(self.checked_in)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Ticket:
        names = {f.name for f in fields(cls)}
        data = {k: v for k, v in row.items() if k in names}
        data["state"] = TicketState(data["state"])
        data["service_date"] = date.fromisoformat(data["service_date"])
        for k in ("issued_at", "arrived_at", "appointment_slot", "called_at", "served_at", "finished_at"):
            data[k] = _dt(data.get(k))
        data["checked_in"] = bool(data.get("checked_in", 1))
        for k in ("applicant_name", "applicant_phone", "applicant_id", "note"):
            data[k] = data.get(k) or ""
        return cls(**data)

    def public(self) -> dict[str, Any]:
        """What any screen may see: no phone, no ID number, the name masked."""
        return {
            "id": self.id,
            "number": self.number,
            "queue": self.queue,
            "state": self.state.value,
            "priority": self.priority,
            "channel": self.channel,
            "issued_at": _iso(self.issued_at),
            "called_at": _iso(self.called_at),
            "window": self.window,
            "target_window": self.target_window,
            "recalls": self.recalls,
            "applicant": mask_name(self.applicant_name),
        }


@dataclass(kw_only=True)
class Window:
    number: int
    state: WindowState = WindowState.CLOSED
    pause_reason: str = ""
    staff: str | None = None  # username logged in
    staff_name: str = ""
    current_ticket: str | None = None  # ticket called or being served here
    priority_streak: int = 0  # consecutive priority calls (fairness ratio)
    state_since: datetime | None = None

    def to_row(self) -> dict[str, Any]:
        row = _shallow(self)
        row["state"] = self.state.value
        row["state_since"] = _iso(self.state_since)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Window:
        names = {f.name for f in fields(cls)}
        data = {k: v for k, v in row.items() if k in names}
        data["state"] = WindowState(data["state"])
        data["state_since"] = _dt(data.get("state_since"))
        data["pause_reason"] = data.get("pause_reason") or ""
        data["staff_name"] = data.get("staff_name") or ""
        return cls(**data)


def _d(v: str | None) -> date | None:
    return date.fromisoformat(v) if v else None


def _flag(v: bool | None) -> int | None:
    return None if v is None else int(v)


def _bool(v: Any) -> bool | None:
    return None if v is None else bool(v)


def _rowify(
    obj: Any,
    *,
    instants: tuple[str, ...],
    dates: tuple[str, ...] = (),
    flags: tuple[str, ...] = (),
    lists: tuple[str, ...] = (),
) -> dict[str, Any]:
    row = _shallow(obj)
    for k in instants:
        row[k] = _iso(row[k])
    for k in dates:
        row[k] = row[k].isoformat() if row[k] is not None else None
    for k in flags:
        row[k] = _flag(row[k])
    for k in lists:
        row[k] = json.dumps(list(row[k]), ensure_ascii=False)
    return row


def _unrow(
    cls: type,
    row: dict[str, Any],
    *,
    instants: tuple[str, ...],
    dates: tuple[str, ...] = (),
    flags: tuple[str, ...] = (),
    lists: tuple[str, ...] = (),
) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    data = {k: v for k, v in row.items() if k in names}
    for k in instants:
        data[k] = _dt(data.get(k))
    for k in dates:
        data[k] = _d(data.get(k))
    for k in flags:
        data[k] = _bool(data.get(k))
    for k in lists:
        raw = data.get(k)
        data[k] = list(json.loads(raw)) if isinstance(raw, str) and raw else list(raw or [])
    for f in fields(cls):  # NULL text columns come back as ''
        if f.default == "" and data.get(f.name) is None:
            data[f.name] = ""
    return data


@dataclass(kw_only=True)
class Case:
    """A case (办件): created at a window by 受理, 容缺受理, 不予受理 or a 补正 notice."""

    receipt_no: str  # "SL-20261123-0001"
    service_date: date
    matter_code: str
    matter_name: str
    department: str  # the matter's deciding department
    field: str
    case_type: str  # 即办件 / 承诺件
    window_kind: str  # the matter's: 无差别 / 分领域 / 专窗
    one_window: bool
    promised_working_days: int
    state: CaseState
    created_at: datetime
    updated_at: datetime
    ticket: str | None = None
    ticket_number: str | None = None
    window: int | None = None
    accepted_window_kind: str | None = None
    accepted_by: str | None = None
    accepted_by_name: str = ""
    applicant_name: str = ""
    applicant_phone: str = ""
    applicant_id: str = ""
    accepted_at: datetime | None = None
    clock_started_at: datetime | None = None
    due_at: datetime | None = None
    provisional: bool = False
    paused_working_days: int = 0
    suspended_since: datetime | None = None
    suspension_reason: str = ""
    suspension_expected_days: int | None = None
    suspensions: int = 0
    extension_days: int = 0
    extension_reason: str = ""
    extended_at: datetime | None = None
    deficiency_item: str = ""
    deficiency_promised_date: date | None = None
    deficiency_supplied_at: datetime | None = None
    missing_materials: list[str] = dataclasses.field(default_factory=list)  # (a field is named field)
    materials_requested_at: datetime | None = None
    rejection_reason: str = ""
    review_started_at: datetime | None = None
    reviewer: str | None = None
    decided_at: datetime | None = None
    decision: str | None = None
    decision_note: str = ""
    decided_by: str | None = None
    decided_on_time: bool | None = None
    delivered_at: datetime | None = None
    delivery_method: str | None = None
    delivery_window: int | None = None
    delivery_ticket: str | None = None
    delivery_note: str = ""
    # 集成服务 (issue 16)
    bundle_receipt: str | None = None  # a part: the receipt of its 一件事 bundle
    part_after: list[str] = dataclasses.field(default_factory=list)  # a part: the parts it waits for
    share_working_days: int | None = None  # a part: its share of the bundle's promise
    released_at: datetime | None = None  # a waiting part: when its inputs were approved
    withdrawn_reason: str = ""
    assisted_by: str = ""  # 帮办: the hall helper's id
    assisted_by_name: str = ""
    agent: str = ""  # 代办: the 代办员 who submitted it (no visit)
    agent_point: str = ""  # the 代办员's service point
    notices: int = 0  # written notices of missing items (补正 and 容缺): 一次告知 keeps it at 1
    notice_version: str = ""  # the material list the 补正 notice was written against

    _INSTANTS = (
        "created_at",
        "updated_at",
        "accepted_at",
        "clock_started_at",
        "due_at",
        "suspended_since",
        "extended_at",
        "deficiency_supplied_at",
        "materials_requested_at",
        "review_started_at",
        "decided_at",
        "delivered_at",
        "released_at",
    )
    _DATES = ("service_date", "deficiency_promised_date")
    _FLAGS = ("one_window", "provisional", "decided_on_time")
    _LISTS = ("missing_materials", "part_after")

    @property
    def final(self) -> bool:
        return self.state in CASE_FINAL

    def to_row(self) -> dict[str, Any]:
        row = _rowify(self, instants=self._INSTANTS, dates=self._DATES, flags=self._FLAGS, lists=self._LISTS)
        row["state"] = self.state.value
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Case:
        data = _unrow(cls, row, instants=cls._INSTANTS, dates=cls._DATES, flags=cls._FLAGS, lists=cls._LISTS)
        data["state"] = CaseState(data["state"])
        data["one_window"] = bool(data["one_window"])
        data["provisional"] = bool(data.get("provisional"))
        return cls(**data)

    def public(self) -> dict[str, Any]:
        """The case for staff screens and lists: the applicant's name masked, no phone or ID."""
        row = self.to_row()
        for k in ("applicant_phone", "applicant_id"):
            row.pop(k)
        row["applicant_name"] = mask_name(self.applicant_name)
        row["missing_materials"] = list(self.missing_materials)
        row["part_after"] = list(self.part_after)
        row["one_window"] = self.one_window
        row["provisional"] = self.provisional
        row["decided_on_time"] = self.decided_on_time
        return row


@dataclass(kw_only=True)
class Rating:
    """One 好差评 rating of a service (a finished ticket), or a 追评 (``follow_up_of``)."""

    id: int
    ticket: str
    ticket_number: str
    service_date: date
    queue: str
    window: int
    score: int
    channel: str  # pad / status_page
    at: datetime
    staff: str | None = None
    staff_name: str = ""
    department: str = ""
    matter_code: str = ""
    matter_name: str = ""
    receipt_no: str | None = None
    reasons: list[str] = field(default_factory=list)
    text: str = ""
    excluded: bool = False
    follow_up_of: int | None = None
    rater_token_hash: str = ""

    @property
    def is_bad(self) -> bool:
        """差评: 1 非常不满意 or 2 不满意."""
        return self.score <= 2

    def to_row(self) -> dict[str, Any]:
        row = _rowify(self, instants=("at",), dates=("service_date",), lists=("reasons",))
        row["excluded"] = int(self.excluded)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Rating:
        data = _unrow(cls, row, instants=("at",), dates=("service_date",), lists=("reasons",))
        data["excluded"] = bool(data.get("excluded"))
        return cls(**data)

    def public(self) -> dict[str, Any]:
        """For staff: everything but the status-token hash."""
        row = self.to_row()
        row.pop("rater_token_hash")
        row["reasons"] = list(self.reasons)
        row["excluded"] = self.excluded
        return row


@dataclass(kw_only=True)
class Rectification:
    """The closed loop of one 差评: 核实 → 整改 → 反馈 → 回访."""

    id: int
    rating_id: int
    ticket: str
    window: int
    state: RectificationState
    opened_at: datetime
    contact_due: datetime
    rectify_due: datetime
    updated_at: datetime
    owner_department: str = ""
    owner_staff: str | None = None
    owner_staff_name: str = ""
    provisional: bool = False
    contacted_at: datetime | None = None
    contact_note: str = ""
    contacted_by: str | None = None
    rectified_at: datetime | None = None
    measures: str = ""
    rectified_by: str | None = None
    revisit_at: datetime | None = None
    revisit_satisfaction: int | None = None
    revisit_note: str = ""
    revisited_by: str | None = None
    closed_at: datetime | None = None
    outcome: str | None = None  # rectified / on_the_spot / explained / appeal_upheld
    explanation: str = ""
    appeal_reason: str = ""
    appealed_at: datetime | None = None
    appealed_by: str | None = None
    appeal_from_state: str | None = None
    appeal_decision: str | None = None
    appeal_decided_at: datetime | None = None
    appeal_decided_by: str | None = None
    appeal_note: str = ""
    contact_on_time: bool | None = None
    rectify_on_time: bool | None = None
    responsible: str = "department"  # management / department (rows before it: the department)
    coordinator: str = ""  # the management, when it co-ordinates a department-led loop
    triage: bool = False  # free text only: the management triages
    reassigned_at: datetime | None = None
    reassigned_by: str | None = None
    reassign_reason: str = ""

    _INSTANTS = (
        "opened_at",
        "contact_due",
        "rectify_due",
        "updated_at",
        "contacted_at",
        "rectified_at",
        "revisit_at",
        "closed_at",
        "appealed_at",
        "appeal_decided_at",
        "reassigned_at",
    )
    _FLAGS = ("provisional", "contact_on_time", "rectify_on_time", "triage")

    def to_row(self) -> dict[str, Any]:
        row = _rowify(self, instants=self._INSTANTS, flags=self._FLAGS)
        row["state"] = self.state.value
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Rectification:
        data = _unrow(cls, row, instants=cls._INSTANTS, flags=cls._FLAGS)
        data["state"] = RectificationState(data["state"])
        data["provisional"] = bool(data.get("provisional"))
        data["triage"] = bool(data.get("triage"))
        data["responsible"] = data.get("responsible") or "department"
        return cls(**data)

    def public(self) -> dict[str, Any]:
        row = self.to_row()
        for k in self._FLAGS:
            row[k] = getattr(self, k)
        return row


@dataclass(kw_only=True)
class Complaint:
    """A complaint (投诉/纠纷): received → assigned (分办) → handled → replied → closed."""

    id: int
    channel: str  # onsite / phone / hotline_12345 / rating / unresolved
    category: str  # the responsibility catalogue's entry, "" for free text
    content: str
    state: ComplaintState
    received_at: datetime
    due_at: datetime  # reply (12345: 反馈) due, close of business
    updated_at: datetime
    responsible: str  # management / department
    owner_department: str  # never empty: the management's name or a department
    triage: bool = False
    provisional: bool = False
    matter_code: str = ""
    receipt_no: str | None = None
    rating_id: int | None = None
    ticket: str | None = None
    window: int | None = None
    hotline_ref: str = ""
    complainant_name: str = ""
    complainant_phone: str = ""
    received_by: str | None = None
    assigned_at: datetime | None = None
    assigned_by: str | None = None
    reassignments: int = 0
    reassign_reason: str = ""
    handled_at: datetime | None = None
    handling: str = ""
    handled_by: str | None = None
    replied_at: datetime | None = None
    reply: str = ""
    replied_by: str | None = None
    reply_on_time: bool | None = None
    closed_at: datetime | None = None
    satisfaction: int | None = None
    reminders: int = 0
    last_reminded_at: datetime | None = None
    reminder_note: str = ""

    _INSTANTS = (
        "received_at",
        "due_at",
        "updated_at",
        "assigned_at",
        "handled_at",
        "replied_at",
        "closed_at",
        "last_reminded_at",
    )
    _FLAGS = ("triage", "provisional", "reply_on_time")

    @property
    def is_open(self) -> bool:
        return self.state in COMPLAINT_OPEN

    def overdue(self, now: datetime) -> bool:
        """Still to be replied to after its due instant."""
        return self.is_open and now > self.due_at

    def to_row(self) -> dict[str, Any]:
        row = _rowify(self, instants=self._INSTANTS, flags=self._FLAGS)
        row["state"] = self.state.value
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Complaint:
        data = _unrow(cls, row, instants=cls._INSTANTS, flags=cls._FLAGS)
        data["state"] = ComplaintState(data["state"])
        data["triage"] = bool(data.get("triage"))
        data["provisional"] = bool(data.get("provisional"))
        return cls(**data)

    def public(self) -> dict[str, Any]:
        """For staff lists: the complainant's name masked, no phone."""
        row = self.to_row()
        for k in self._FLAGS:
            row[k] = getattr(self, k)
        row.pop("complainant_phone")
        row["complainant_name"] = mask_name(self.complainant_name)
        return row
