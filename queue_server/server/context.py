"""What a request handler gets: the connection's session (``Client``), the sender as an
immutable value (``Viewer``) and the server's narrow face (``ServerContext``).

Handlers depend on this module, never on ``app.py``; that keeps the import graph of the
server a tree (app → registry → handlers → context).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from websockets.asyncio.server import ServerConnection

from ..hall import commands as c
from ..hall.config import HallConfig
from ..store.base import Store
from .auth import Sessions
from .fanout import Fanout, Filter
from .writer import Writer


@dataclass(frozen=True, kw_only=True)
class Viewer:
    """Who sent a request, as a value the writer may hold: role, window, actor and the
    department a back-office sender acts for (``scope``; None: all)."""

    role: str
    window: int | None
    actor: c.Actor
    scope: str | None = None


@dataclass(eq=False)
class Client:
    """The session of one websocket connection."""

    conn: ServerConnection
    role: str = "anonymous"
    window: int | None = None
    actor: c.Actor = field(default_factory=lambda: c.Actor(kind="anonymous", id="-"))
    token_hash: str | None = None
    subscription: tuple[Filter, str | None] | None = None  # the last subscribe, for resync


class ServerContext(Protocol):
    """The server as request handlers see it."""

    config: HallConfig
    store: Store
    fanout: Fanout
    writer: Writer
    tz: ZoneInfo
    matters: Mapping[str, Any] | None
    issued_by_kiosk: dict[str, Any]

    sessions: Sessions

    def now(self) -> datetime: ...
    def clock_speed(self) -> float: ...
    def viewer(self, client: Client) -> Viewer: ...
    def address(self, client: Client) -> str: ...
    async def end_sessions(
        self, token_hashes: Iterable[str], reason: str, *, keep: Client | None = None
    ) -> int: ...
