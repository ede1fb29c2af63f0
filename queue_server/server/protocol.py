"""The websocket protocol's envelope: size limits, the id and type of a request, the roles,
the push and reply types and the error codes.

The request types themselves are defined in ``registry.py``. All of it is the contract
documented in docs/protocol.md; tests/server/test_protocol_docs.py fails when a type or an
error code here is missing there. Parsing never touches the hall: a request that fails here
is answered with an error and changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

MAX_MESSAGE_BYTES = 64 * 1024  # larger requests are refused with message_too_large
TRANSPORT_MAX_BYTES = 1024 * 1024  # websockets closes the connection (1009) above this


class ProtocolError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


ROLES = ("anonymous", "display", "kiosk", "rating_pad", "window", "backoffice", "manager", "agent")
EVERYONE = frozenset(ROLES)
STAFF = frozenset({"window", "manager"})
ISSUERS = frozenset({"kiosk", "window", "manager"})
MANAGER = frozenset({"manager"})
BACKOFFICE = frozenset({"backoffice", "manager"})  # back office: its own department; managers: all
CASE_STAFF = frozenset({"window", "backoffice", "manager"})
RATERS = frozenset({"anonymous", "rating_pad"})  # the citizen's status page and a window's rating pad
STAFF_ROLES = CASE_STAFF  # connections that get case and rating events
AGENT = frozenset({"agent"})  # 代办员 of a service point (its department in the staff account)


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
    # complaints
    "unknown_complaint": "No such open complaint.",
    # 集成服务 (issue 16)
    "unknown_material": "The material is not in the matter's list (材料清单).",
    "not_deferrable": "The material may not be supplied later (容缺): it is required at 受理.",
    "notice_already_issued": "The case has its one 补正 notice and the material list has not changed (一次告知).",
    "deliver_with_bundle": "A part of a 一件事 is handed out with its bundle (统一出件).",
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


def error(rid: Any, code: str, message: str) -> dict[str, Any]:
    return {"re": rid, "type": "error", "code": code, "message": message}


def ok(rid: Any, **payload: Any) -> dict[str, Any]:
    return {"re": rid, "type": "ok", **payload}
