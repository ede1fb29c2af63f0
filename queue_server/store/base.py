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
    extra: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)  # (sql, params)


@dataclass(kw_only=True)
class LoadedState:
    service_date: date | None
    tickets: list[dict[str, Any]]  # the current service day's tickets
    windows: list[dict[str, Any]]
    numbers: dict[tuple[date, str], int]
    service_times: dict[str, tuple[float, int]]
    last_event_id: int


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
    async def find_token(self, token_hash: str) -> DeviceToken | None: ...
    async def health(self) -> dict[str, Any]: ...
