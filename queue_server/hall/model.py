"""The hall's entities: tickets and windows, as mutable records owned by the core.

``to_row`` / ``from_row`` give the flat dicts the store keeps in its current-state tables;
rebuilding after a restart goes through ``from_row`` alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from typing import Any

from .masking import mask_name
from .states import TICKET_ACTIVE, TicketState, WindowState


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
        row = asdict(self)
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
        row = asdict(self)
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
