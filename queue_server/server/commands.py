"""Validated protocol messages → hall commands (field values checked, nothing else)."""

from __future__ import annotations

from datetime import date, datetime
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


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ProtocolError("invalid_field", f"{name} must be a date YYYY-MM-DD") from None


def _strings(value: list[Any] | None, name: str, *, max_len: int = 200) -> tuple[str, ...]:
    if value is None:
        return ()
    if not all(isinstance(v, str) and len(v) <= max_len for v in value):
        raise ProtocolError("invalid_field", f"{name} must be a list of short strings")
    return tuple(value)


def build_command(msg: dict[str, Any], tz: ZoneInfo, *, status_token: str = "", scope: str | None = None,
                  staff: str = "", pad_window: int | None = None) -> Any:
    """``scope``: the department a back-office sender acts for; ``staff``: the username of a
    window staff member (appeals); ``pad_window``: the window a rating pad is bound to."""
    t = msg["type"]
    case = _case_command(t, msg, scope)
    if case is not None:
        return case
    rating = _rating_command(t, msg, scope, staff, pad_window)
    if rating is not None:
        return rating
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


def _case_command(t: str, msg: dict[str, Any], scope: str | None) -> Any:
    if t == "accept_case":
        return c.AcceptCase(window=msg["window"], matter=msg["matter"], applicant=_applicant(msg.get("applicant")),
                            deficiency_item=msg.get("deficiency_item") or "",
                            deficiency_promised_date=_day(msg.get("deficiency_promised_date"), "deficiency_promised_date"))
    if t == "reject_case":
        return c.RejectCase(window=msg["window"], reason=msg["reason"], matter=msg.get("matter") or "",
                            receipt_no=msg.get("receipt_no") or "", applicant=_applicant(msg.get("applicant")))
    if t == "request_materials":
        return c.RequestMaterials(window=msg["window"], matter=msg["matter"],
                                  missing_materials=_strings(msg["missing_materials"], "missing_materials"),
                                  applicant=_applicant(msg.get("applicant")))
    if t == "resume_case":
        return c.ResumeCase(window=msg["window"], receipt_no=msg["receipt_no"])
    if t == "supply_materials":
        return c.SupplyMaterials(receipt_no=msg["receipt_no"], scope=scope)
    if t == "start_review":
        return c.StartReview(receipt_no=msg["receipt_no"], scope=scope)
    if t == "suspend_case":
        return c.SuspendCase(receipt_no=msg["receipt_no"], reason=msg["reason"],
                             expected_working_days=msg["expected_working_days"], note=msg.get("note") or "",
                             scope=scope)
    if t == "resume_review":
        return c.ResumeReview(receipt_no=msg["receipt_no"], scope=scope)
    if t == "extend_case":
        return c.ExtendCase(receipt_no=msg["receipt_no"], working_days=msg["working_days"], reason=msg["reason"],
                            scope=scope)
    if t == "decide_case":
        return c.DecideCase(receipt_no=msg["receipt_no"], decision=_enum(c.Decision, msg["decision"], "decision", None),
                            note=msg.get("note") or "", window=msg.get("window"), scope=scope)
    if t == "deliver_case":
        return c.DeliverCase(receipt_no=msg["receipt_no"],
                             method=_enum(c.DeliveryMethod, msg["method"], "method", None),
                             window=msg.get("window"), note=msg.get("note") or "", scope=scope)
    return None


def _rating_command(t: str, msg: dict[str, Any], scope: str | None, staff: str, pad_window: int | None) -> Any:
    if t == "rate_service":
        if pad_window is not None:
            if msg.get("ticket_token") is not None or not msg.get("ticket"):
                raise ProtocolError("invalid_field", "a rating pad sends the ticket it shows, no ticket_token")
            return c.RateService(score=msg["score"], reasons=_strings(msg.get("reasons"), "reasons"),
                                 text=msg.get("text") or "", window=pad_window, ticket=msg["ticket"])
        if not msg.get("ticket_token") or msg.get("ticket") is not None:
            raise ProtocolError("invalid_field", "a status page rates with its ticket_token (and no ticket)")
        return c.RateService(score=msg["score"], reasons=_strings(msg.get("reasons"), "reasons"),
                             text=msg.get("text") or "", status_token=msg["ticket_token"])
    if t == "follow_up_rating":
        return c.FollowUpRating(status_token=msg["ticket_token"], score=msg["score"],
                                reasons=_strings(msg.get("reasons"), "reasons"), text=msg.get("text") or "")
    rid = msg.get("rectification")
    if t == "contact_rater":
        return c.ContactRater(rectification=rid, note=msg["note"], scope=scope)
    if t == "rectify":
        return c.Rectify(rectification=rid, measures=msg["measures"], scope=scope)
    if t == "revisit":
        return c.Revisit(rectification=rid, satisfaction=msg["satisfaction"], note=msg.get("note") or "", scope=scope)
    if t == "resolve_on_the_spot":
        return c.ResolveOnTheSpot(rectification=rid, note=msg["note"], scope=scope)
    if t == "explain_rating":
        return c.ExplainRating(rectification=rid, explanation=msg["explanation"], scope=scope)
    if t == "appeal_rating":
        return c.AppealRating(rectification=rid, reason=msg["reason"], staff=staff, scope=scope)
    if t == "decide_appeal":
        return c.DecideAppeal(rectification=rid, decision=_enum(c.AppealDecision, msg["decision"], "decision", None),
                              note=msg.get("note") or "")
    return None
