"""Commands: what someone asks the hall to do. Imperative names, frozen values.

The core validates each against the hall's state; the shell has already checked field
types and the sender's role.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Channel(StrEnum):
    KIOSK = "kiosk"
    MOBILE = "mobile"
    APPOINTMENT = "appointment"
    STAFF = "staff"


class Priority(StrEnum):
    NORMAL = "normal"
    GREEN = "green"  # 绿色通道: elderly, disabled, military
    APPOINTMENT = "appointment"  # 预约, served near its slot


@dataclass(frozen=True, kw_only=True)
class Actor:
    """Who acts: a staff member, a device (kiosk, window call button) or the system."""

    kind: str  # "staff" | "device" | "system"
    id: str
    name: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


SYSTEM = Actor(kind="system", id="hall", name="系统")


@dataclass(frozen=True, kw_only=True)
class Applicant:
    name: str = ""
    phone: str = ""
    id_number: str = ""


@dataclass(frozen=True, kw_only=True)
class IssueTicket:
    queue: str
    channel: Channel = Channel.KIOSK
    priority: Priority = Priority.NORMAL
    appointment_slot: datetime | None = None
    checked_in: bool = True  # False for an appointment booked ahead: check_in on arrival
    applicant: Applicant | None = None
    status_token: str = ""  # unguessable token of the citizen status page (the shell makes it)


@dataclass(frozen=True, kw_only=True)
class CheckIn:
    ticket: str


@dataclass(frozen=True, kw_only=True)
class CallNext:
    window: int


@dataclass(frozen=True, kw_only=True)
class CallTicket:
    window: int
    ticket: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class Recall:
    window: int


@dataclass(frozen=True, kw_only=True)
class StartService:
    window: int


@dataclass(frozen=True, kw_only=True)
class FinishService:
    window: int


@dataclass(frozen=True, kw_only=True)
class NoShow:
    window: int


@dataclass(frozen=True, kw_only=True)
class Reactivate:
    ticket: str


@dataclass(frozen=True, kw_only=True)
class Transfer:
    ticket: str
    to_queue: str | None = None
    to_window: int | None = None
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class CancelTicket:
    ticket: str
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class OpenWindow:
    window: int


@dataclass(frozen=True, kw_only=True)
class PauseWindow:
    window: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class ResumeWindow:
    window: int


@dataclass(frozen=True, kw_only=True)
class CloseWindow:
    window: int


@dataclass(frozen=True, kw_only=True)
class StaffLogin:
    window: int
    username: str
    name: str


@dataclass(frozen=True, kw_only=True)
class StaffLogout:
    window: int


@dataclass(frozen=True, kw_only=True)
class Tick:
    """The shell's timer: lets the core roll over to a new service day."""


Command = (
    IssueTicket | CheckIn | CallNext | CallTicket | Recall | StartService | FinishService
    | NoShow | Reactivate | Transfer | CancelTicket | OpenWindow | PauseWindow
    | ResumeWindow | CloseWindow | StaffLogin | StaffLogout | Tick
)
