"""``fanout``: what each kind of subscriber sees (``filter_event``, ``filter_state``), and
``send_frame`` over a real server and real sockets: every screen of a group gets the very
same frame bytes, and a screen that stops reading is cut off without holding the others back
(those screens are raw TCP websocket clients, so the test sees the bytes on the wire)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

from queue_server.hall.config import HallConfig
from queue_server.server.app import HallServer
from queue_server.server.auth import hash_token, new_token
from queue_server.server.fanout import EVERYTHING, Filter, LocalFanout, filter_event, filter_state, frame_text
from queue_server.store import SqliteStore
from queue_server.store.base import DeviceToken

from _support import Client

Q_A = {"code": "A", "waiting": 3}
Q_B = {"code": "B", "waiting": 1}


def event(
    type_: str = "ticket_called",
    *,
    ticket: str | None = "T-A1",
    queue: str = "A",
    window: int | None = 1,
    window_queues: tuple[str, ...] = ("A",),
    audience: str | None = None,
    **data: Any,
) -> dict[str, Any]:
    desc: dict[str, Any] = {
        "type": type_,
        "at": "2026-11-23T09:00:00+08:00",
        "actor": "staff:w1",
        "ticket": ticket,
        "window": window,
        "data": {"number": "A001", **data},
        "queues": [Q_A, Q_B],
    }
    if ticket is not None:
        desc["ticket_view"] = {"id": ticket, "queue": queue, "state": "called"}
    if window is not None:
        desc["window_view"] = {"number": window, "queues": list(window_queues)}
    if audience:
        desc["audience"] = audience
    return desc


def test_everything_sees_every_public_event_unchanged():
    desc = event()
    assert filter_event(desc, EVERYTHING) is desc


def test_staff_events_reach_staff_subscriptions_only():
    desc = event("case_accepted", audience="staff")
    assert filter_event(desc, EVERYTHING) is None
    assert filter_event(desc, Filter(queues=frozenset({"A"}))) is None
    assert filter_event(desc, Filter(staff=True)) is desc
    assert filter_event(desc, Filter(ticket_token="tok")) is None


def test_a_queue_filter_sees_its_queues_and_only_their_summaries():
    flt = Filter(queues=frozenset({"B"}))
    assert filter_event(event(queue="A", window_queues=("A",)), flt) is None
    seen = filter_event(event(ticket="T-B1", queue="B", window=3, window_queues=("B",)), flt)
    assert seen is not None and seen["queues"] == [Q_B]
    # a window that serves the queue counts, even when the ticket is of another queue
    assert filter_event(event(queue="A", window_queues=("A", "B")), flt) is not None
    # a transfer out of the queue counts too
    assert filter_event(event("ticket_transferred", queue="A", window=None, from_queue="B"), flt) is not None


def test_a_window_filter_sees_its_windows():
    flt = Filter(windows=frozenset({2}))
    assert filter_event(event(window=1), flt) is None
    assert filter_event(event(window=2), flt) is not None


def test_day_started_reaches_every_filter():
    desc = event("day_started", ticket=None, window=None)
    for flt in (Filter(queues=frozenset({"B"})), Filter(windows=frozenset({9})), Filter(ticket_token="tok")):
        assert filter_event(desc, flt, ticket_id="T-A1") is not None


def test_a_status_page_sees_its_ticket_in_full_and_others_reduced():
    flt = Filter(ticket_token="tok")
    own = filter_event(event(ticket="T-A1"), flt, ticket_id="T-A1")
    assert own is not None and own["data"]["number"] == "A001"

    def mine(state: str):
        return lambda tid: {"id": tid, "queue": "A", "state": state, "position": 2}

    other = event(ticket="T-A9", data_extra="x")
    reduced = filter_event(other, flt, "T-A1", mine("waiting"))
    assert reduced == {
        "type": "ticket_called",
        "at": other["at"],
        "actor": "",
        "ticket": None,
        "window": None,
        "data": {},
        "queues": [Q_A],
        "ticket_view": {"id": "T-A1", "queue": "A", "state": "waiting", "position": 2},
    }
    # once its own ticket no longer waits, the queue's movements do not concern it
    assert filter_event(other, flt, "T-A1", mine("called")) is None
    # another queue's event: nothing
    assert (
        filter_event(event(ticket="T-B1", queue="B") | {"queues": [Q_B]}, flt, "T-A1", mine("waiting"))
        is None
    )
    assert filter_event(other, flt, "T-A1", None) is None


STATE = {
    "hall": {"code": "t"},
    "queues": [Q_A, Q_B],
    "windows": [{"number": 1, "queues": ["A"]}, {"number": 3, "queues": ["B"]}],
    "tickets": [{"id": "T-A1", "queue": "A", "window": 1}, {"id": "T-B1", "queue": "B", "window": None}],
    "recent_calls": [
        {"ticket_id": "T-A1", "queue": "A", "window": 1},
        {"ticket_id": "T-B0", "queue": "B", "window": 3},
    ],
}


def test_filter_state_everything_is_the_state():
    assert filter_state(STATE, EVERYTHING) is STATE


def test_filter_state_by_queue_and_window():
    by_queue = filter_state(STATE, Filter(queues=frozenset({"B"})))
    assert by_queue["queues"] == [Q_B]
    assert [t["id"] for t in by_queue["tickets"]] == ["T-B1"]
    assert [w["number"] for w in by_queue["windows"]] == [3]
    assert [c["ticket_id"] for c in by_queue["recent_calls"]] == ["T-B0"]
    by_window = filter_state(STATE, Filter(windows=frozenset({1})))
    assert [w["number"] for w in by_window["windows"]] == [1]
    assert [c["window"] for c in by_window["recent_calls"]] == [1]
    assert by_window["tickets"] == STATE["tickets"]  # tickets are not narrowed by window
    assert STATE["queues"] == [Q_A, Q_B]  # the shared state is left alone


def test_filter_state_for_a_status_page_holds_its_ticket_only():
    mine = filter_state(STATE, Filter(ticket_token="tok"), "T-A1")
    assert [t["id"] for t in mine["tickets"]] == ["T-A1"]
    assert mine["queues"] == [Q_A]
    assert [w["number"] for w in mine["windows"]] == [1]
    assert [c["ticket_id"] for c in mine["recent_calls"]] == ["T-A1"]
    assert mine["hall"] == STATE["hall"]


# ---------------------------------------------------------------------- frames on the wire


class RawScreen:
    """A websocket client on a plain socket: sends masked text frames, returns each frame it
    receives as the exact bytes that came over the wire (header and payload)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int, *, rcvbuf: int | None = None) -> RawScreen:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=2**22)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        assert b" 101 " in head.split(b"\r\n", 1)[0], head
        return cls(reader, writer)

    def send(self, message: dict) -> None:
        payload = json.dumps(message).encode()
        mask = os.urandom(4)
        assert len(payload) < 126
        self.writer.write(
            bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        )

    async def frame(self, timeout: float = 10.0) -> tuple[bytes, dict]:
        """The next text frame: its raw bytes and its JSON."""
        head = await asyncio.wait_for(self.reader.readexactly(2), timeout)
        assert head[0] == 0x81 and not head[1] & 0x80, head  # FIN text frame, unmasked
        n = head[1] & 0x7F
        ext = b""
        if n == 126:
            ext = await self.reader.readexactly(2)
            n = int.from_bytes(ext, "big")
        elif n == 127:
            ext = await self.reader.readexactly(8)
            n = int.from_bytes(ext, "big")
        payload = await self.reader.readexactly(n)
        return head + ext + payload, json.loads(payload)

    async def subscribe(self, **flt: object) -> dict:
        self.send({"id": 1, "type": "subscribe", **flt})
        got = {msg["type"]: msg for msg in [(await self.frame())[1], (await self.frame())[1]]}
        assert sorted(got) == ["ok", "snapshot"], got  # the snapshot, and the reply
        return got["snapshot"]

    async def events(self, n: int) -> list[tuple[bytes, dict]]:
        return [await self.frame() for _ in range(n)]

    def close(self) -> None:
        self.writer.transport.abort()


async def kiosk(server: HallServer) -> str:
    token = new_token()
    await server.store.add_token(
        hash_token(token), DeviceToken(role="kiosk", window=None, name="kiosk-1"), server.now().isoformat()
    )
    return token


@pytest_asyncio.fixture
async def slow_server(tmp_path: Path, small_config: HallConfig) -> AsyncIterator[HallServer]:
    """A server that cuts off a screen with more than 16 KiB unread (1 MiB in production)."""
    srv = HallServer(
        small_config,
        SqliteStore(tmp_path / "hall.db", synchronous="NORMAL"),
        host="127.0.0.1",
        port=0,
        fanout=LocalFanout(slow_bytes=16 * 1024),
    )
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


async def issue(server: HallServer, n: int, queue: str = "A") -> None:
    """``n`` tickets from one kiosk, pipelined (all sent, then every reply awaited)."""
    token = await kiosk(server)
    async with Client.connect(f"ws://127.0.0.1:{server.port}/ws") as k:
        assert (await k.request("auth", token=token))["type"] == "ok"
        rids = [await k.send("issue_ticket", queue=queue) for _ in range(n)]
        for rid in rids:
            assert (await k.reply(rid, timeout=30))["type"] == "ok"


async def test_every_screen_of_a_group_gets_the_same_frame_bytes(server: HallServer):
    await issue(server, 1)  # the service day starts before the screens come
    everything = [await RawScreen.open(server.port) for _ in range(3)]
    queue_a = [await RawScreen.open(server.port) for _ in range(2)]
    try:
        for screen in everything:
            await screen.subscribe()
        for screen in queue_a:
            await screen.subscribe(queues=["A"])
        frames_before = server.fanout.frames_written  # type: ignore[attr-defined]
        await issue(server, 5)
        got_all = [await s.events(5) for s in everything]
        got_a = [await s.events(5) for s in queue_a]
    finally:
        for screen in everything + queue_a:
            screen.close()
    for group in (got_all, got_a):
        first = group[0]
        for other in group[1:]:
            assert [raw for raw, _ in other] == [raw for raw, _ in first]  # byte for byte
        for raw, msg in first:
            payload = json.dumps(msg, ensure_ascii=False, separators=(",", ":")).encode()
            assert raw == frame_text(payload)  # one frame, as the server frames it
        seqs = [msg["seq"] for _, msg in first]
        assert seqs == list(range(seqs[0], seqs[0] + 5))
        assert [msg["event"]["type"] for _, msg in first] == ["ticket_issued"] * 5
    # every frame went out through the frame-once writer: 5 events × 5 screens
    assert server.fanout.frames_written - frames_before == 25  # type: ignore[attr-defined]


async def test_a_stalled_screen_is_cut_off_and_does_not_hold_the_others_back(slow_server: HallServer):
    server = slow_server
    await issue(server, 1)  # the service day starts before the screens come
    stalled = await RawScreen.open(server.port, rcvbuf=4096)
    await stalled.subscribe()
    stalled.writer.transport.pause_reading()  # ... and never reads again
    # a slow network: small kernel buffers on both ends, so what it does not read stays in
    # the server's own write buffer (loopback would otherwise absorb megabytes)
    port = stalled.writer.get_extra_info("sockname")[1]
    conn = next(c for c in server.clients if c.remote_address[1] == port)
    conn.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    async with Client.connect(f"ws://127.0.0.1:{server.port}/ws") as healthy:
        assert (await healthy.request("subscribe"))["type"] == "ok"
        snap = await healthy.push()
        n = 300
        await asyncio.wait_for(issue(server, n), 60)
        pushes = []
        while len(pushes) < n:
            pushes.append(await healthy.push(timeout=10))
        assert [p["seq"] for p in pushes] == list(range(snap["seq"] + 1, snap["seq"] + 1 + n))
        assert server.fanout.slow_screens >= 1  # type: ignore[attr-defined]
        assert server.fanout.subscriber_count == 1  # type: ignore[attr-defined]  # the stalled one is gone
    # the stalled screen's connection was aborted by the server: reading it ends, short of 300 events
    stalled.writer.transport.resume_reading()
    received = 0
    try:
        while True:
            await stalled.frame(timeout=5)
            received += 1
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    assert received < n
    stalled.close()
