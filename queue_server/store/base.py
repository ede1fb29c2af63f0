"""What the server needs from storage, and nothing more."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from ..hall.events import Event


@dataclass(kw_only=True)
class Batch:
    """One transaction: the events of one or more commands and the state rows they changed."""

    events: list[Event] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)
    windows: list[dict[str, Any]] = field(default_factory=list)
    numbers: list[tuple[date, str, int]] = field(default_factory=list)  # (day, queue, last seq)
    service_times: list[tuple[str, float, int]] = field(default_factory=list)  # (queue, mean, n)
    service_date: date | None = None
    cases: list[dict[str, Any]] = field(default_factory=list)
    case_numbers: list[tuple[date, int]] = field(default_factory=list)  # (day, last receipt seq)
    ratings: list[dict[str, Any]] = field(default_factory=list)
    rectifications: list[dict[str, Any]] = field(default_factory=list)
    complaints: list[dict[str, Any]] = field(default_factory=list)
    extra: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)  # (sql, params)

    @property
    def has_writes(self) -> bool:
        return bool(
            self.events
            or self.tickets
            or self.windows
            or self.cases
            or self.ratings
            or self.rectifications
            or self.complaints
            or self.case_numbers
            or self.extra
        )


@dataclass(kw_only=True)
class LoadedState:
    service_date: date | None
    tickets: list[dict[str, Any]]  # the current service day's tickets
    windows: list[dict[str, Any]]
    numbers: dict[tuple[date, str], int]
    service_times: dict[str, tuple[float, int]]
    last_event_id: int
    cases: list[dict[str, Any]] = field(default_factory=list)  # open, and those changed on service_date
    case_numbers: dict[date, int] = field(default_factory=dict)  # recent days' last receipt seq
    ratings: list[dict[str, Any]] = field(default_factory=list)  # service_date's, and those of rectifications
    rectifications: list[dict[str, Any]] = field(default_factory=list)  # open, and recently closed
    last_rating_id: int = 0
    last_rectification_id: int = 0
    complaints: list[dict[str, Any]] = field(default_factory=list)  # open, and those changed on service_date
    last_complaint_id: int = 0


@dataclass(frozen=True, kw_only=True)
class DeviceToken:
    role: str
    window: int | None
    name: str
    username: str | None = None  # set for staff sessions


class Store(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def load(self) -> LoadedState: ...
    async def commit(self, batch: Batch) -> list[int]: ...
    async def add_token(self, token_hash: str, token: DeviceToken, created_at: str) -> None: ...
    async def revoke_token(self, token_hash: str, revoked_at: str) -> None: ...
    # A row of the ``meta`` table outside a batch: the ``hall_clock`` the server writes
    # (dashboard/hall_clock.py reads it), in a transaction of its own.
    async def set_meta(self, key: str, value: str) -> None: ...
    async def get_meta(self, key: str) -> str | None: ...
    # Lookups and health read committed state only, on a connection of their own: never the
    # writer's, never a transaction in progress.
    async def find_token(self, token_hash: str) -> DeviceToken | None: ...
    async def find_case(self, receipt_no: str) -> dict[str, Any] | None: ...
    async def health(self) -> dict[str, Any]: ...
