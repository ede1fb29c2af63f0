"""Events: what happened. Past-tense type strings, one stable name used alike in the
``events`` table, websocket JSON and the dashboard.

An event is a plain record: type, local instant, actor, the ticket and window it concerns,
and a small JSON-able ``data`` dict. The core applies events to its state; the store
appends them to the log in the same transaction as the state tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


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


@dataclass(frozen=True, kw_only=True)
class Event:
    type: str
    at: datetime  # aware, in the hall's timezone
    actor: str  # "staff:w01", "device:kiosk-1", "system:hall"
    ticket: str | None = None
    window: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "ticket": self.ticket,
            "window": self.window,
            "data": self.data,
        }

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Event:
        return cls(
            type=rec["type"],
            at=datetime.fromisoformat(rec["at"]),
            actor=rec["actor"],
            ticket=rec.get("ticket"),
            window=rec.get("window"),
            data=dict(rec.get("data") or {}),
        )
