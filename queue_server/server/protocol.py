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


ROLES = ("anonymous", "display", "kiosk", "window", "backoffice", "manager")
EVERYONE = frozenset(ROLES)
STAFF = frozenset({"window", "manager"})
ISSUERS = frozenset({"kiosk", "window", "manager"})
MANAGER = frozenset({"manager"})


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
