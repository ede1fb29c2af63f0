"""The event base class, the registry of event types and the record codec.

An event is a frozen, keyword-only value: the common fields (``at``, ``actor``, ``ticket``,
``window``) and typed fields of its own. Its record (the ``events`` table and the websocket
JSON) keeps the common fields at the top and the others in a nested ``data`` dict, keyed by
the field names: instants and dates as ISO 8601 strings, tuples as lists. A field listed by
``absent()`` is left out of ``data`` (an event type whose records have two shapes).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar, TypeVar


class EventType(StrEnum):
    DAY_STARTED = "day_started"
    TICKET_ISSUED = "ticket_issued"
    TICKET_CHECKED_IN = "ticket_checked_in"
    TICKET_CALLED = "ticket_called"
    TICKET_RECALLED = "ticket_recalled"
    SERVICE_STARTED = "service_started"
    SERVICE_FINISHED = "service_finished"
    TICKET_NO_SHOW = "ticket_no_show"
    TICKET_REACTIVATED = "ticket_reactivated"
    TICKET_TRANSFERRED = "ticket_transferred"
    TICKET_CANCELLED = "ticket_cancelled"
    WINDOW_OPENED = "window_opened"
    WINDOW_PAUSED = "window_paused"
    WINDOW_RESUMED = "window_resumed"
    WINDOW_CLOSED = "window_closed"
    STAFF_LOGGED_IN = "staff_logged_in"
    STAFF_LOGGED_OUT = "staff_logged_out"
    # cases (办件)
    CASE_ACCEPTED = "case_accepted"  # 受理 or 容缺受理; also when a 补正 case is resumed
    CASE_REJECTED = "case_rejected"  # 不予受理
    MATERIALS_REQUESTED = "materials_requested"  # 补正 notice (一次性告知)
    MATERIALS_SUPPLIED = "materials_supplied"  # the 容缺 item arrived
    REVIEW_STARTED = "review_started"
    CASE_SUSPENDED = "case_suspended"
    REVIEW_RESUMED = "review_resumed"
    CASE_EXTENDED = "case_extended"
    CASE_DECIDED = "case_decided"
    CASE_DELIVERED = "case_delivered"
    DEADLINE_RECOMPUTED = "deadline_recomputed"  # new calendar data changed a due instant
    # 集成服务: 一件事 bundles, the one-time notice, 帮办代办 (issue 16)
    PART_OPENED = "part_opened"  # a bundle's component case, routed to its department
    PART_RELEASED = "part_released"  # the parts it waited for were approved: its clock starts
    PART_WITHDRAWN = "part_withdrawn"  # a part it waited for was refused
    BUNDLE_DECIDED = "bundle_decided"  # every part decided: the bundle waits for 统一出件
    NOTICE_REISSUED = "notice_reissued"  # a second 补正 notice: only when the material list changed
    CASE_ASSISTED = "case_assisted"  # 帮办: a named hall helper accompanies the citizen
    CASE_SUBMITTED_BY_AGENT = "case_submitted_by_agent"  # 代办: the citizen made no visit
    # 好差评
    SERVICE_RATED = "service_rated"
    FOLLOW_UP_RATED = "follow_up_rated"  # 追评
    RECTIFICATION_OPENED = "rectification_opened"
    RATER_CONTACTED = "rater_contacted"
    RATING_RECTIFIED = "rating_rectified"
    RATER_REVISITED = "rater_revisited"
    RESOLVED_ON_THE_SPOT = "resolved_on_the_spot"
    RATING_EXPLAINED = "rating_explained"
    RATING_APPEALED = "rating_appealed"
    APPEAL_DECIDED = "appeal_decided"
    RECTIFICATION_REASSIGNED = "rectification_reassigned"  # the management reassigns the owner
    # complaints (投诉/纠纷)
    COMPLAINT_RECEIVED = "complaint_received"
    COMPLAINT_ASSIGNED = "complaint_assigned"  # 分办 (and every reassignment)
    COMPLAINT_HANDLED = "complaint_handled"
    COMPLAINT_REPLIED = "complaint_replied"  # 回复 the complainant / 反馈 to 12345
    COMPLAINT_CLOSED = "complaint_closed"  # with the complainant's satisfaction
    COMPLAINT_REMINDED = "complaint_reminded"  # 督办: a manager's reminder


_COMMON = ("at", "actor", "ticket", "window")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """What happened. Subclasses set ``type`` and add their own fields."""

    type: ClassVar[EventType]
    staff_only: ClassVar[bool] = False  # cases, ratings, rectifications: pushed to staff only
    at: datetime  # aware, in the hall's timezone
    actor: str  # "staff:w01", "device:kiosk-1", "system:hall"
    ticket: str | None = None
    window: int | None = None

    def absent(self) -> frozenset[str]:
        """Fields left out of this record's ``data`` (none, unless a subclass says so)."""
        return frozenset()

    def payload(self) -> dict[str, Any]:
        """The ``data`` dict of the record: the event's own fields, JSON-ready."""
        skip = self.absent()
        return {name: _encode(getattr(self, name)) for name in _own_fields(type(self)) if name not in skip}

    def to_record(self) -> dict[str, Any]:
        return {
            "type": self.type.value,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "ticket": self.ticket,
            "window": self.window,
            "data": self.payload(),
        }


def _encode(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


# ---------------------------------------------------------------------- registry

_BY_TYPE: dict[str, type[Event]] = {}
_DECODERS: dict[type[Event], dict[str, Any]] = {}
_OWN: dict[type[Event], tuple[str, ...]] = {}

E = TypeVar("E", bound=type[Event])


def event_type(cls: E) -> E:
    """Register an event class under its ``type`` string (a class decorator)."""
    if cls.type.value in _BY_TYPE:
        raise ValueError(f"event type {cls.type.value} registered twice")
    _BY_TYPE[cls.type.value] = cls
    hints = typing.get_type_hints(cls)
    _OWN[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.name not in _COMMON)
    _DECODERS[cls] = {name: _decoder(hints[name]) for name in _OWN[cls]}
    return cls


def _own_fields(cls: type[Event]) -> tuple[str, ...]:
    return _OWN[cls]


def _decoder(hint: Any) -> Any:
    """How to turn a JSON value back into a field of type ``hint``."""
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            dec = _decoder(inner[0])
            return None if dec is None else (lambda v, d=dec: None if v is None else d(v))
        return None
    if hint is datetime:
        return datetime.fromisoformat
    if hint is date:
        return date.fromisoformat
    if typing.get_origin(hint) is tuple:
        return tuple
    return None


def event_class(type_: str) -> type[Event]:
    try:
        return _BY_TYPE[type_]
    except KeyError:
        raise ValueError(f"unknown event type {type_!r}") from None


def event_classes() -> dict[str, type[Event]]:
    return dict(_BY_TYPE)


def from_record(rec: dict[str, Any]) -> Event:
    """The event of a record (from the log or JSON). A key the class does not know is an
    error; a field missing from ``data`` takes its default (the other shape of the type)."""
    cls = event_class(rec["type"])
    data = dict(rec.get("data") or {})
    unknown = set(data) - set(_OWN[cls])
    if unknown:
        raise ValueError(f"{rec['type']}: unknown data keys {sorted(unknown)}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        dec = _DECODERS[cls][name]
        kwargs[name] = value if dec is None or value is None else dec(value)
    return cls(
        at=datetime.fromisoformat(rec["at"]),
        actor=rec["actor"],
        ticket=rec.get("ticket"),
        window=rec.get("window"),
        **kwargs,
    )
