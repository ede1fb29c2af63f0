"""The websocket protocol: message types, their fields, who may send them, error codes.

This table is the contract documented in docs/protocol.md; tests/server/test_protocol_docs.py
fails when a type or an error code here is missing there. Parsing never touches the hall:
a request that fails here is answered with an error and changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_MESSAGE_BYTES = 64 * 1024  # larger requests are refused with message_too_large
TRANSPORT_MAX_BYTES = 1024 * 1024  # websockets closes the connection (1009) above this


class ProtocolError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Field:
    name: str
    kind: type | tuple[type, ...]
    required: bool = True
    max_len: int = 200  # for strings and lists


ROLES = ("anonymous", "display", "kiosk", "rating_pad", "window", "backoffice", "manager")
EVERYONE = frozenset(ROLES)
STAFF = frozenset({"window", "manager"})
ISSUERS = frozenset({"kiosk", "window", "manager"})
MANAGER = frozenset({"manager"})
BACKOFFICE = frozenset({"backoffice", "manager"})  # back office: its own department; managers: all
CASE_STAFF = frozenset({"window", "backoffice", "manager"})
RATERS = frozenset({"anonymous", "rating_pad"})  # the citizen's status page and a window's rating pad
STAFF_ROLES = CASE_STAFF  # connections that get case and rating events


@dataclass(frozen=True)
class MessageSpec:
    type: str
    fields: tuple[Field, ...]
    roles: frozenset[str]
    summary: str


def _spec(type_: str, roles: frozenset[str], summary: str, *fields: Field) -> MessageSpec:
    return MessageSpec(type_, fields, roles, summary)


_WIN = Field("window", int)
_TICKET = Field("ticket", str, max_len=40)
_RECEIPT = Field("receipt_no", str, max_len=40)
_RECT = Field("rectification", int)
_APPLICANT = Field("applicant", dict, required=False)
_MATTER = Field("matter", str, max_len=20)


def _text(name: str, *, required: bool = True, max_len: int = 500) -> Field:
    return Field(name, str, required=required, max_len=max_len)

REQUESTS: dict[str, MessageSpec] = {s.type: s for s in (
    _spec("ping", EVERYONE, "Liveness check; answered with ok."),
    _spec("login", EVERYONE, "Staff login with username and password; optional window to work at.",
          Field("username", str, max_len=64), Field("password", str, max_len=256),
          Field("window", int, required=False)),
    _spec("logout", frozenset({"window", "backoffice", "manager"}), "End the staff session (and leave the window)."),
    _spec("auth", EVERYONE, "Authenticate with a device or session token.", Field("token", str, max_len=128)),
    _spec("subscribe", EVERYONE, "Receive a snapshot, then events; optional filter.",
          Field("zone", str, required=False, max_len=40), Field("queues", list, required=False, max_len=50),
          Field("windows", list, required=False, max_len=200), Field("ticket_token", str, required=False, max_len=64)),
    _spec("resync", EVERYONE, "Ask for a fresh snapshot after a gap in seq."),
    _spec("get_ticket", STAFF, "Details of one ticket (full applicant data only at its own window).", _TICKET),
    _spec("issue_ticket", ISSUERS, "Issue a ticket (取号).",
          Field("queue", str, max_len=4), Field("priority", str, required=False, max_len=20),
          Field("channel", str, required=False, max_len=20), Field("appointment_slot", str, required=False, max_len=40),
          Field("checked_in", bool, required=False), Field("applicant", dict, required=False)),
    _spec("check_in", ISSUERS, "Check in an appointment ticket booked ahead.", _TICKET),
    _spec("call_next", STAFF, "Call the next ticket at a window.", _WIN),
    _spec("call_ticket", STAFF, "Call a specific ticket out of order (reason recorded).", _WIN, _TICKET,
          Field("reason", str, max_len=200)),
    _spec("recall", STAFF, "Call the ticket at the window again.", _WIN),
    _spec("start_service", STAFF, "The citizen arrived at the counter: service starts.", _WIN),
    _spec("finish_service", STAFF, "Service done.", _WIN),
    _spec("no_show", STAFF, "The called citizen did not come (过号).", _WIN),
    _spec("reactivate", STAFF, "Put a no-show ticket back in line (same day).", _TICKET),
    _spec("transfer", STAFF, "Send a ticket to another queue and/or a named window.", _TICKET,
          Field("to_queue", str, required=False, max_len=4), Field("to_window", int, required=False),
          Field("reason", str, required=False, max_len=200)),
    _spec("cancel_ticket", STAFF, "Cancel a waiting or called ticket.", _TICKET,
          Field("reason", str, required=False, max_len=200)),
    _spec("open_window", STAFF, "Open a window for service.", _WIN),
    _spec("pause_window", STAFF, "Pause a window (reason required, shown as 暂停服务).", _WIN,
          Field("reason", str, max_len=200)),
    _spec("resume_window", STAFF, "Resume a paused window.", _WIN),
    _spec("close_window", STAFF, "Close a window.", _WIN),
    # cases (办件)
    _spec("list_matters", CASE_STAFF, "The matter catalogue, with the hall's queues that accept each matter."),
    _spec("accept_case", STAFF, "受理 (or 容缺受理 with a missing item) during the service at the window.",
          _WIN, _MATTER, _APPLICANT, _text("deficiency_item", required=False, max_len=200),
          Field("deficiency_promised_date", str, required=False, max_len=10)),
    _spec("reject_case", STAFF, "不予受理 with a reason: a new case, or a 补正 case by receipt number.",
          _WIN, _text("reason"), Field("matter", str, required=False, max_len=20),
          Field("receipt_no", str, required=False, max_len=40), _APPLICANT),
    _spec("request_materials", STAFF, "补正: one notice listing every missing material; the clock does not start.",
          _WIN, _MATTER, Field("missing_materials", list, max_len=50), _APPLICANT),
    _spec("resume_case", STAFF, "The materials of a 补正 case are complete: 受理 at any window, during a service.",
          _WIN, _RECEIPT),
    _spec("supply_materials", CASE_STAFF, "The missing item of a 容缺 case was supplied.", _RECEIPT),
    _spec("start_review", BACKOFFICE, "The back office starts reviewing a case.", _RECEIPT),
    _spec("suspend_case", BACKOFFICE, "Suspend for 听证、招标、拍卖、检验、检测、检疫、鉴定 or 专家评审 (the clock pauses).",
          _RECEIPT, Field("reason", str, max_len=10), Field("expected_working_days", int),
          _text("note", required=False)),
    _spec("resume_review", BACKOFFICE, "End the suspension; the clock runs again.", _RECEIPT),
    _spec("extend_case", BACKOFFICE, "延期: once, before the deadline, with a reason and working days.",
          _RECEIPT, Field("working_days", int), _text("reason")),
    _spec("decide_case", CASE_STAFF, "办结: approve or disapprove (a 即办件 at its window, on the spot).",
          _RECEIPT, Field("decision", str, max_len=20), _text("note", required=False),
          Field("window", int, required=False)),
    _spec("deliver_case", CASE_STAFF, "出件: at the 出件 window serving the citizen's ticket, or by post.",
          _RECEIPT, Field("method", str, max_len=10), Field("window", int, required=False),
          _text("note", required=False, max_len=200)),
    _spec("get_case", CASE_STAFF, "One case by receipt number.", _RECEIPT),
    _spec("list_cases", BACKOFFICE, "Cases of a department (the back office: its own), soonest due first.",
          Field("department", str, required=False, max_len=64), Field("states", list, required=False, max_len=10)),
    # 好差评
    _spec("get_rateable_service", frozenset({"rating_pad"}), "The service a window's rating pad may rate now."),
    _spec("get_rating", RATERS, "The rating of the status page's own ticket (and whether a 追评 is possible).",
          Field("ticket_token", str, max_len=64)),
    _spec("rate_service", RATERS, "Rate a service 1–5: the pad its window's last service, a status page its ticket.",
          Field("score", int), Field("reasons", list, required=False, max_len=10), _text("text", required=False),
          Field("ticket", str, required=False, max_len=40), Field("ticket_token", str, required=False, max_len=64)),
    _spec("follow_up_rating", frozenset({"anonymous"}), "追评: once, after the 差评 was rectified.",
          Field("ticket_token", str, max_len=64), Field("score", int),
          Field("reasons", list, required=False, max_len=10), _text("text", required=False)),
    _spec("list_rectifications", BACKOFFICE, "差评 rectifications with their due instants (the back office: its own).",
          Field("department", str, required=False, max_len=64), Field("open_only", bool, required=False)),
    _spec("contact_rater", BACKOFFICE, "核实: the rater was contacted (note).", _RECT, _text("note")),
    _spec("rectify", BACKOFFICE, "整改 done and reported back (measures).", _RECT, _text("measures")),
    _spec("revisit", BACKOFFICE, "回访: the rater's satisfaction (1–5); closes the loop.", _RECT,
          Field("satisfaction", int), _text("note", required=False)),
    _spec("resolve_on_the_spot", CASE_STAFF, "当场解决: closes the loop at once.", _RECT, _text("note")),
    _spec("explain_rating", BACKOFFICE, "解释说明: the demand has no legal basis; closes the loop.", _RECT,
          _text("explanation")),
    _spec("appeal_rating", CASE_STAFF, "申诉 against a malicious or mistaken rating (the staff member rated, "
          "their back office or a manager).", _RECT, _text("reason")),
    _spec("decide_appeal", MANAGER, "A manager upholds (rating excluded from the figures) or rejects an appeal.",
          _RECT, Field("decision", str, max_len=10), _text("note", required=False)),
)}

PUSH_TYPES = ("snapshot", "event")
REPLY_TYPES = ("ok", "error")

ERROR_CODES: dict[str, str] = {
    # protocol
    "message_too_large": "The request is larger than 64 KiB.",
    "malformed_json": "The request is not valid JSON.",
    "not_an_object": "The request is JSON but not an object.",
    "missing_id": "The request has no id (a string or an integer).",
    "missing_type": "The request has no type.",
    "unknown_type": "The type is not one of the documented request types.",
    "missing_field": "A required field is absent.",
    "invalid_field": "A field has the wrong type or an invalid value.",
    "unknown_field": "The request has a field its type does not take.",
    "forbidden": "The sender's role may not send this request.",
    "not_your_window": "A window may act only on its own window and its tickets.",
    "unauthenticated": "The credentials or the token are not valid.",
    "rate_limited": "Too many tickets from this kiosk in the last minute.",
    "display_token_required": "This hall requires a display token before subscribe.",
    "storage_failed": "The database could not record the command; nothing changed.",
    "internal_error": "The server failed on this request (a bug, logged); nothing changed.",
    # hall
    "unknown_queue": "No such queue.",
    "unknown_window": "No such window.",
    "unknown_ticket": "No such ticket today.",
    "queue_closed": "The queue is not open now.",
    "queue_full": "The queue has reached its daily cap.",
    "queue_empty": "Nobody is waiting for this window.",
    "illegal_transition": "The ticket or window is not in a state that allows this.",
    "window_not_open": "The window is closed or paused.",
    "window_busy": "The window still has a ticket at the counter.",
    "no_current_ticket": "The window has no ticket at the counter.",
    "not_served_here": "The window does not serve that ticket's queue.",
    "reason_required": "The action needs a reason.",
    "recall_limit": "The ticket was recalled as often as allowed.",
    "not_allowed": "The hall's rules do not allow this.",
    # cases and ratings
    "not_serving": "The window's ticket is called but not being served: start the service first.",
    "unknown_matter": "No such matter in the catalogue.",
    "unknown_case": "No such case (or not an open one).",
    "not_your_department": "The case or rectification belongs to another department.",
    "extension_used": "The case was already extended once.",
    "deadline_passed": "The case's deadline has passed: it can no longer be extended.",
    "already_rated": "The service was already rated (one rating per service).",
    "not_rateable": "This service cannot be rated here or now (not finished, or not the pad's last service).",
    "rating_expired": "The time to rate from the pad, or to add a 追评, has passed.",
    "unknown_rating": "The ticket has no rating that can be followed up.",
    "follow_up_used": "The rating already has its one 追评.",
    "unknown_rectification": "No such open rectification.",
    "not_owner": "Only the staff member rated, their back office or a manager may appeal.",
    "appeal_used": "The rectification was already appealed once.",
}


def parse_request(raw: str | bytes) -> tuple[Any, dict[str, Any]]:
    """Return (id, message) or raise ProtocolError. ``id`` is None when it could not be read."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError("message_too_large", f"message of {size} bytes; the limit is {MAX_MESSAGE_BYTES}")
    try:
        msg = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError("malformed_json", f"not valid JSON: {exc}") from None
    except RecursionError:
        raise ProtocolError("malformed_json", "not valid JSON: nested too deeply") from None
    if not isinstance(msg, dict):
        raise ProtocolError("not_an_object", "a request must be a JSON object")
    rid = msg.get("id")
    if rid is None or isinstance(rid, bool) or not isinstance(rid, (str, int)):
        raise ProtocolError("missing_id", "a request needs an id (string or integer)")
    return rid, msg


def validate(msg: dict[str, Any], role: str) -> MessageSpec:
    mtype = msg.get("type")
    if not isinstance(mtype, str) or not mtype:
        raise ProtocolError("missing_type", "a request needs a type")
    spec = REQUESTS.get(mtype)
    if spec is None:
        raise ProtocolError("unknown_type", f"unknown request type {mtype!r}")
    known = {f.name for f in spec.fields} | {"id", "type"}
    extra = sorted(set(msg) - known)
    if extra:
        raise ProtocolError("unknown_field", f"{mtype} does not take {', '.join(extra)}")
    for f in spec.fields:
        if f.name not in msg or msg[f.name] is None:
            if f.required:
                raise ProtocolError("missing_field", f"{mtype} needs {f.name}")
            continue
        value = msg[f.name]
        if isinstance(value, bool) and f.kind is not bool:
            raise ProtocolError("invalid_field", f"{f.name} must be {_kind_name(f.kind)}")
        if not isinstance(value, f.kind):
            raise ProtocolError("invalid_field", f"{f.name} must be {_kind_name(f.kind)}")
        if isinstance(value, (str, list)) and len(value) > f.max_len:
            raise ProtocolError("invalid_field", f"{f.name} is longer than {f.max_len}")
        if f.kind is int and not (0 < value < 100_000):
            raise ProtocolError("invalid_field", f"{f.name} must be a positive number")
    if role not in spec.roles:
        raise ProtocolError("forbidden", f"a {role} client may not send {mtype}")
    return spec


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", bool: "true or false", list: "a list", dict: "an object"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def error(rid: Any, code: str, message: str) -> dict[str, Any]:
    return {"re": rid, "type": "error", "code": code, "message": message}


def ok(rid: Any, **payload: Any) -> dict[str, Any]:
    return {"re": rid, "type": "ok", **payload}
