"""Validated protocol messages → hall commands (field values checked, nothing else)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..hall import commands as c
from .protocol import ProtocolError


def _enum(enum: type, value: Any, name: str, default: Any) -> Any:
    if value is None:
        return default
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise ProtocolError("invalid_field", f"{name} must be one of {allowed}") from None


def _instant(value: str | None, tz: ZoneInfo, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise ProtocolError("invalid_field", f"{name} must be an ISO 8601 date-time") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=tz)


def _applicant(value: dict[str, Any] | None) -> c.Applicant | None:
    if value is None:
        return None
    allowed = {"name", "phone", "id_number"}
    if set(value) - allowed:
        raise ProtocolError("invalid_field", "applicant takes only name, phone and id_number")
    for k, v in value.items():
        if not isinstance(v, str) or len(v) > 64:
            raise ProtocolError("invalid_field", f"applicant.{k} must be a short string")
    return c.Applicant(name=value.get("name", ""), phone=value.get("phone", ""), id_number=value.get("id_number", ""))


def build_command(msg: dict[str, Any], tz: ZoneInfo, *, status_token: str = "") -> Any:
    t = msg["type"]
    if t == "issue_ticket":
        return c.IssueTicket(
            queue=msg["queue"],
            channel=_enum(c.Channel, msg.get("channel"), "channel", c.Channel.KIOSK),
            priority=_enum(c.Priority, msg.get("priority"), "priority", c.Priority.NORMAL),
            appointment_slot=_instant(msg.get("appointment_slot"), tz, "appointment_slot"),
            checked_in=msg.get("checked_in", True),
            applicant=_applicant(msg.get("applicant")),
            status_token=status_token,
        )
    if t == "check_in":
        return c.CheckIn(ticket=msg["ticket"])
    if t == "call_next":
        return c.CallNext(window=msg["window"])
    if t == "call_ticket":
        return c.CallTicket(window=msg["window"], ticket=msg["ticket"], reason=msg["reason"])
    if t == "recall":
        return c.Recall(window=msg["window"])
    if t == "start_service":
        return c.StartService(window=msg["window"])
    if t == "finish_service":
        return c.FinishService(window=msg["window"])
    if t == "no_show":
        return c.NoShow(window=msg["window"])
    if t == "reactivate":
        return c.Reactivate(ticket=msg["ticket"])
    if t == "transfer":
        return c.Transfer(ticket=msg["ticket"], to_queue=msg.get("to_queue"), to_window=msg.get("to_window"),
                          reason=msg.get("reason", ""))
    if t == "cancel_ticket":
        return c.CancelTicket(ticket=msg["ticket"], reason=msg.get("reason", ""))
    if t == "open_window":
        return c.OpenWindow(window=msg["window"])
    if t == "pause_window":
        return c.PauseWindow(window=msg["window"], reason=msg["reason"])
    if t == "resume_window":
        return c.ResumeWindow(window=msg["window"])
    if t == "close_window":
        return c.CloseWindow(window=msg["window"])
    raise ProtocolError("unknown_type", f"{t} is not a hall command")
