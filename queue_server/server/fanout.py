"""Fan-out of snapshots and events to subscribed screens.

Subscribers with the same filter form a group. A group has its own ``seq``: every message
it gets is numbered consecutively, so a display that misses one sees the gap and asks for
``resync``. Each message is encoded once per group, framed once (``frame_text``: server frames
are unmasked and compression is off, so every screen of the group gets the same bytes) and
written to every member's transport (``send_frame``), never waiting for a slow or dead
connection. A screen whose write buffer is over ``SLOW_SCREEN_BYTES`` is not written to: it is
cut off (its display reconnects and gets a fresh snapshot) and counted as a slow screen.

``Fanout`` is the narrow interface the server uses; ``LocalFanout`` serves the connections
of this process. A broker-backed fan-out between processes (NATS, Redis) can implement the
same two methods later.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from websockets.asyncio.server import ServerConnection, broadcast
from websockets.frames import Frame, Opcode
from websockets.protocol import State


@dataclass(frozen=True)
class Filter:
    """What a subscriber sees. ``None`` sets mean everything."""

    queues: frozenset[str] | None = None
    windows: frozenset[int] | None = None
    ticket_token: str | None = None  # the citizen status page: one ticket only
    staff: bool = False  # a staff connection: also gets the events marked "audience": "staff"

    @property
    def is_all(self) -> bool:
        return self.queues is None and self.windows is None and self.ticket_token is None


EVERYTHING = Filter()


TicketView = Callable[[str], "dict[str, Any] | None"]


def filter_event(
    desc: dict[str, Any], flt: Filter, ticket_id: str | None = None, ticket_view: TicketView | None = None
) -> dict[str, Any] | None:
    """The event as this filter sees it, or None when it does not concern the subscriber.

    A citizen's status page (``ticket_token``) gets its own ticket's events in full, and for
    any other event that moves its queue, a reduced event carrying only the queue summary
    and its own ticket's fresh view (position, estimated wait) — nothing about anyone else.
    """
    if desc.get("audience") == "staff" and not flt.staff:
        return None  # cases, ratings, rectifications: staff screens only
    if flt.is_all:
        return desc
    if flt.ticket_token is not None:
        if desc.get("ticket") == ticket_id or desc["type"] == "day_started":
            return dict(desc)
        mine = ticket_view(ticket_id) if ticket_view is not None and ticket_id else None
        if mine is None or mine.get("state") != "waiting":
            return None
        queues = [q for q in desc.get("queues", []) if q["code"] == mine["queue"]]
        if not queues:
            return None
        return {
            "type": desc["type"],
            "at": desc["at"],
            "actor": "",
            "ticket": None,
            "window": None,
            "data": {},
            "queues": queues,
            "ticket_view": mine,
        }
    tv = desc.get("ticket_view") or {}
    wv = desc.get("window_view") or {}
    queues_touched = {tv.get("queue"), desc.get("data", {}).get("from_queue")} - {None}
    relevant = desc["type"] == "day_started"
    if flt.windows is not None and desc.get("window") in flt.windows:
        relevant = True
    if flt.queues is not None and (queues_touched | set(wv.get("queues", ()))) & flt.queues:
        relevant = True  # includes the windows that serve the subscriber's queues
    if not relevant:
        return None
    out = dict(desc)
    if flt.queues is not None:
        out["queues"] = [q for q in desc.get("queues", []) if q["code"] in flt.queues]
    return out


def filter_state(state: dict[str, Any], flt: Filter, ticket_id: str | None = None) -> dict[str, Any]:
    if flt.is_all:
        return state
    out = dict(state)
    if flt.ticket_token is not None:
        mine = [t for t in state["tickets"] if t["id"] == ticket_id]
        mine_qs = {t["queue"] for t in mine}
        out["tickets"] = mine
        out["queues"] = [q for q in state["queues"] if q["code"] in mine_qs]
        wins = {t.get("window") for t in mine}
        out["windows"] = [w for w in state["windows"] if w["number"] in wins]
        out["recent_calls"] = [c for c in state["recent_calls"] if c["ticket_id"] == ticket_id]
        return out
    qs = flt.queues
    ws = flt.windows
    if qs is not None:
        out["queues"] = [q for q in state["queues"] if q["code"] in qs]
        out["tickets"] = [t for t in state["tickets"] if t["queue"] in qs]
    if ws is not None or qs is not None:
        out["windows"] = [
            w
            for w in state["windows"]
            if (ws is not None and w["number"] in ws) or (qs is not None and set(w["queues"]) & qs)
        ]
        out["recent_calls"] = [
            c
            for c in state["recent_calls"]
            if (ws is not None and c["window"] in ws) or (qs is not None and c["queue"] in qs)
        ]
    return out


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


# A screen that has not read this much of what it was sent is stalled: at ~1 KB per event,
# over a thousand events behind. It is cut off instead of buffering without bound.
SLOW_SCREEN_BYTES = 2**20


def frame_text(payload: bytes) -> bytes:
    """The whole websocket text frame of ``payload`` (UTF-8) as a server sends it: FIN set,
    unmasked, no extension. The same bytes are valid on every connection of this server
    (``compression=None``), so a message is framed once for all its screens."""
    return Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])


@dataclass
class SendStats:
    """What ``send_frame`` did: frames written, screens skipped as closing, slow screens cut."""

    written: int = 0
    skipped: int = 0
    slow: int = 0


def send_frame(
    conns: Iterable[ServerConnection], frame: bytes, *, slow_bytes: int = SLOW_SCREEN_BYTES
) -> SendStats:
    """Write one pre-built frame (``frame_text``) to every open connection: what websockets'
    ``broadcast()`` does, without re-framing the message per connection (websockets has no
    public API for it; issue python-websockets/websockets#931 suggests exactly this).

    Like ``broadcast()`` it never waits and skips connections that are not open or in the
    middle of a fragmented send; unlike it, a connection whose write buffer already holds more
    than ``slow_bytes`` is aborted instead of buffering without bound."""
    stats = SendStats()
    for conn in conns:
        proto = conn.protocol
        if proto.state is not State.OPEN or conn.send_in_progress is not None or proto.extensions:
            stats.skipped += 1
            continue
        transport = conn.transport
        if transport.get_write_buffer_size() > slow_bytes:
            stats.slow += 1
            transport.abort()  # the handler ends; the screen reconnects and resubscribes
            continue
        if proto.writes:  # never jump ahead of bytes the protocol has queued (normally none)
            conn.send_data()
        transport.write(frame)
        stats.written += 1
    return stats


@dataclass(eq=False)
class Group:
    flt: Filter
    ticket_id: str | None = None
    seq: int = 0
    members: set[ServerConnection] = field(default_factory=set)


class Fanout(Protocol):
    def subscribe(
        self, conn: ServerConnection, flt: Filter, ticket_id: str | None, snapshot: dict[str, Any]
    ) -> None: ...
    def unsubscribe(self, conn: ServerConnection) -> None: ...
    def publish(self, descs: Iterable[dict[str, Any]], ticket_view: TicketView | None = None) -> None: ...


class LocalFanout:
    def __init__(self, *, slow_bytes: int = SLOW_SCREEN_BYTES) -> None:
        self.slow_bytes = slow_bytes
        self.frames_written = 0  # counters for /metrics
        self.slow_screens = 0
        self._groups: dict[tuple[Filter, str | None], Group] = {}
        self._member_of: dict[ServerConnection, Group] = {}

    def subscribe(
        self, conn: ServerConnection, flt: Filter, ticket_id: str | None, snapshot: dict[str, Any]
    ) -> None:
        """Send the snapshot to ``conn`` and add it to its group, atomically with respect
        to ``publish`` (no await in between)."""
        self.unsubscribe(conn)
        key = (flt, ticket_id)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = Group(flt=flt, ticket_id=ticket_id)
        group.members.add(conn)
        self._member_of[conn] = group
        message = encode(
            {"type": "snapshot", "seq": group.seq, "state": filter_state(snapshot, flt, ticket_id)}
        )
        broadcast([conn], message)  # one connection: nothing to share

    def unsubscribe(self, conn: ServerConnection) -> None:
        group = self._member_of.pop(conn, None)
        if group is None:
            return
        group.members.discard(conn)
        if not group.members:
            self._groups.pop((group.flt, group.ticket_id), None)

    def publish(self, descs: Iterable[dict[str, Any]], ticket_view: TicketView | None = None) -> None:
        descs = list(descs)
        for group in list(self._groups.values()):
            for desc in descs:
                seen = filter_event(desc, group.flt, group.ticket_id, ticket_view)
                if seen is None:
                    continue
                group.seq += 1
                message = encode({"type": "event", "seq": group.seq, "event": seen})
                stats = send_frame(group.members, frame_text(message.encode()), slow_bytes=self.slow_bytes)
                self.frames_written += stats.written
                self.slow_screens += stats.slow

    @property
    def subscriber_count(self) -> int:
        return len(self._member_of)
