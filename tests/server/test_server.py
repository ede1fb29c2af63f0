"""The queue server end to end: a real HallServer, a real SQLite file, real websocket clients."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import socket
import statistics
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from queue_server.hall.config import HallConfig
from queue_server.server.app import HallServer
from queue_server.server.auth import hash_token, new_token
from queue_server.store import SqliteStore
from queue_server.store.base import DeviceToken

from _support import STAFF_PASSWORD, Client

NAME, PHONE, ID_NUMBER = "张三丰", "13812345678", "110101199003071234"
APPLICANT = {"name": NAME, "phone": PHONE, "id_number": ID_NUMBER}


# ---------------------------------------------------------------------- helpers


def ok(reply: dict) -> dict:
    assert reply["type"] == "ok", reply
    return reply


def err(reply: dict, code: str) -> dict:
    assert reply["type"] == "error" and reply["code"] == code, reply
    return reply


async def mint(server: HallServer, role: str, window: int | None = None, name: str | None = None) -> str:
    token = new_token()
    device = DeviceToken(role=role, window=window, name=name or f"{role}-{window or 1}")
    await server.store.add_token(hash_token(token), device, server.now().isoformat())
    return token


async def subscribe(client: Client, **flt) -> dict:
    ok(await client.request("subscribe", **flt))
    snap = await client.push()
    assert snap["type"] == "snapshot", snap
    return snap


def assert_consecutive(snapshot: dict, pushes: list[dict]) -> None:
    assert all(p["type"] == "event" for p in pushes), pushes
    seqs = [p["seq"] for p in pushes]
    assert seqs == list(range(snapshot["seq"] + 1, snapshot["seq"] + 1 + len(pushes)))


def kinds(pushes: list[dict]) -> list[tuple]:
    """(event type, ticket number or None, window or None) of each event push."""
    return [
        (p["event"]["type"], (p["event"].get("ticket_view") or {}).get("number"), p["event"]["window"])
        for p in pushes
    ]


@pytest.fixture
def device(server: HallServer, connect_client):
    """``async with device("kiosk") as k:`` a client authenticated with a fresh device token."""

    @contextlib.asynccontextmanager
    async def _device(role: str, window: int | None = None) -> AsyncIterator[Client]:
        token = await mint(server, role, window)
        async with connect_client() as c:
            ok(await c.request("auth", token=token))
            yield c

    return _device


@pytest.fixture
def staff(connect_client):
    """``async with staff("w1", 1) as w:`` a client logged in as staff (at a window)."""

    @contextlib.asynccontextmanager
    async def _staff(username: str, window: int | None = None) -> AsyncIterator[Client]:
        async with connect_client() as c:
            extra = {"window": window} if window is not None else {}
            ok(await c.request("login", username=username, password=STAFF_PASSWORD, **extra))
            yield c

    return _staff


@contextlib.asynccontextmanager
async def running(config: HallConfig, db: Path) -> AsyncIterator[HallServer]:
    srv = HallServer(config, SqliteStore(db), host="127.0.0.1", port=0)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@contextlib.asynccontextmanager
async def client_of(srv: HallServer, **kwargs) -> AsyncIterator[Client]:
    async with Client.connect(f"ws://127.0.0.1:{srv.port}/ws", **kwargs) as c:
        yield c


def http_get(port: int, path: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


# ---------------------------------------------------------------------- issue, call, display


async def test_kiosk_issues_a_ticket(device):
    async with device("kiosk") as kiosk:
        reply = ok(await kiosk.request("issue_ticket", queue="A"))
        second = ok(await kiosk.request("issue_ticket", queue="A"))
    t = reply["ticket"]
    assert t["number"] == "A001"
    assert t["id"].endswith("-A001") and len(t["id"]) == len("20261123-A001")
    assert t["queue"] == "A" and t["state"] == "waiting"
    assert t["position"] == 1
    assert isinstance(t["estimated_wait_s"], int) and t["estimated_wait_s"] >= 0
    assert t["status_token"]
    assert second["ticket"]["number"] == "A002" and second["ticket"]["position"] == 2


async def test_window_calls_the_next_ticket(device, staff):
    async with device("kiosk") as kiosk, staff("w1", 1) as w1:
        ok(await w1.request("open_window", window=1))
        issued = ok(await kiosk.request("issue_ticket", queue="A"))["ticket"]
        reply = ok(await w1.request("call_next", window=1))
    assert reply["ticket"]["id"] == issued["id"]
    assert reply["ticket"]["number"] == "A001"
    assert reply["ticket"]["state"] == "called" and reply["ticket"]["window"] == 1
    assert reply["window"]["number"] == 1 and reply["window"]["ticket"] == "A001"
    assert reply["window"]["staff_name"] == "窗口一"


async def test_display_gets_a_snapshot_then_events_with_consecutive_seq(connect_client, device, staff):
    async with connect_client() as display:
        snap = await subscribe(display)
        assert set(snap["state"]) == {"hall", "queues", "windows", "tickets", "recent_calls"}
        assert snap["state"]["hall"]["code"] == "small-test"
        assert snap["state"]["tickets"] == []
        async with device("kiosk") as kiosk, staff("w1", 1) as w1:
            ok(await w1.request("open_window", window=1))
            for _ in range(3):
                ok(await kiosk.request("issue_ticket", queue="A"))
            for step in ("call_next", "start_service", "finish_service"):
                ok(await w1.request(step, window=1))
        pushes = await display.drain()
    assert_consecutive(snap, pushes)
    assert kinds(pushes) == [
        ("day_started", None, None),
        ("staff_logged_in", None, 1),
        ("window_opened", None, 1),
        ("ticket_issued", "A001", None),
        ("ticket_issued", "A002", None),
        ("ticket_issued", "A003", None),
        ("ticket_called", "A001", 1),
        ("service_started", "A001", 1),
        ("service_finished", "A001", 1),
    ]
    called = pushes[6]["event"]
    assert called["window_view"]["ticket"] == "A001"
    assert [q["code"] for q in called["queues"]] == ["A"]
    assert called["queues"][0]["waiting"] == 2


# ---------------------------------------------------------------------- roles


async def test_a_window_cannot_act_on_another_window(device, staff):
    async with staff("w1", 1) as w1, device("window", 1) as button, device("kiosk") as kiosk:
        ok(await kiosk.request("issue_ticket", queue="B"))
        for client in (w1, button):
            err(await client.request("open_window", window=2), "not_your_window")
            err(await client.request("call_next", window=3), "not_your_window")
            err(await client.request("pause_window", window=2, reason="培训"), "not_your_window")
            # window 1 does not serve queue B
            err(await client.request("cancel_ticket", ticket="B001", reason="x"), "not_your_window")
        ok(await button.request("open_window", window=1))  # its own window is fine


async def test_a_display_or_anonymous_client_cannot_issue(connect_client, device):
    async with connect_client() as anon, device("display") as display:
        for client in (anon, display):
            err(await client.request("issue_ticket", queue="A"), "forbidden")
            err(await client.request("call_next", window=1), "forbidden")
            err(await client.request("open_window", window=1), "forbidden")
        async with device("kiosk") as kiosk:
            err(await kiosk.request("call_next", window=1), "forbidden")
            assert ok(await kiosk.request("issue_ticket", queue="A"))["ticket"]["number"] == "A001"


# ---------------------------------------------------------------------- subscriptions


async def test_filtered_subscriptions_get_only_their_events_with_their_own_seq(connect_client, device, staff):
    async with (
        connect_client() as everything,
        connect_client() as queue_b,
        connect_client() as window_1,
        connect_client() as zone_b,
    ):
        snaps = {
            "all": await subscribe(everything),
            "qB": await subscribe(queue_b, queues=["B"]),
            "w1": await subscribe(window_1, windows=[1]),
            "zB": await subscribe(zone_b, zone="B区"),
        }
        assert [q["code"] for q in snaps["qB"]["state"]["queues"]] == ["B"]
        assert [w["number"] for w in snaps["w1"]["state"]["windows"]] == [1]
        assert 3 in [w["number"] for w in snaps["zB"]["state"]["windows"]]
        assert 1 not in [w["number"] for w in snaps["zB"]["state"]["windows"]]
        assert [q["code"] for q in snaps["zB"]["state"]["queues"]] == ["B"]
        async with staff("manager") as mgr, device("kiosk") as kiosk:
            ok(await mgr.request("open_window", window=1))
            ok(await mgr.request("open_window", window=3))
            ok(await kiosk.request("issue_ticket", queue="A"))
            ok(await kiosk.request("issue_ticket", queue="B"))
            ok(await mgr.request("call_next", window=1))
            ok(await mgr.request("call_next", window=3))
            ok(await mgr.request("start_service", window=3))
        got = {
            "all": await everything.drain(),
            "qB": await queue_b.drain(),
            "w1": await window_1.drain(),
            "zB": await zone_b.drain(),
        }
    for name, pushes in got.items():
        assert_consecutive(snaps[name], pushes)
    assert len(got["all"]) == 8
    assert kinds(got["w1"]) == [
        ("day_started", None, None),
        ("window_opened", None, 1),
        ("ticket_called", "A001", 1),
    ]
    assert kinds(got["zB"]) == [
        ("day_started", None, None),
        ("window_opened", None, 3),
        ("ticket_issued", "B001", None),
        ("ticket_called", "B001", 3),
        ("service_started", "B001", 3),
    ]
    ticket_events = [k for k in kinds(got["qB"]) if k[1] is not None]
    assert ticket_events == [
        ("ticket_issued", "B001", None),
        ("ticket_called", "B001", 3),
        ("service_started", "B001", 3),
    ]
    assert all(k[2] != 1 for k in kinds(got["qB"])), "window 1 serves only queue A"
    for p in got["qB"]:
        assert {q["code"] for q in p["event"]["queues"]} <= {"B"}


async def test_a_queue_subscription_gets_the_events_of_the_windows_in_its_snapshot(connect_client, staff):
    """A display of queue B is given windows 2 and 3 (they serve B) in its snapshot, so it must
    hear when they open, pause or close; otherwise it shows window 3 closed for ever."""
    async with connect_client() as queue_b, staff("manager") as mgr:
        snap = await subscribe(queue_b, queues=["B"])
        assert sorted(w["number"] for w in snap["state"]["windows"]) == [2, 3]
        ok(await mgr.request("open_window", window=3))
        ok(await mgr.request("pause_window", window=3, reason="业务培训"))
        pushes = await queue_b.drain()
    assert_consecutive(snap, pushes)
    assert [k for k in kinds(pushes) if k[0] != "day_started"] == [
        ("window_opened", None, 3),
        ("window_paused", None, 3),
    ]


async def test_resync_gives_a_fresh_snapshot_of_the_same_subscription(connect_client, device):
    async with connect_client() as display, device("kiosk") as kiosk:
        snap = await subscribe(display, queues=["A"])
        ok(await kiosk.request("issue_ticket", queue="A"))
        ok(await kiosk.request("issue_ticket", queue="B"))  # not for this display
        ok(await kiosk.request("issue_ticket", queue="A"))
        pushes = await display.drain()
        assert_consecutive(snap, pushes)
        ok(await display.request("resync"))
        fresh = await display.push()
        assert fresh["type"] == "snapshot"
        assert [t["number"] for t in fresh["state"]["tickets"]] == ["A001", "A002"]
        assert [q["code"] for q in fresh["state"]["queues"]] == ["A"]
        assert fresh["state"]["queues"][0]["waiting"] == 2
        ok(await kiosk.request("issue_ticket", queue="A"))
        after = await display.drain()
    assert_consecutive(fresh, after)
    assert kinds(after) == [("ticket_issued", "A003", None)]


async def test_a_ticket_token_subscription_sees_only_its_ticket(connect_client, device, staff):
    async with device("kiosk") as kiosk, staff("manager") as mgr:
        mine = ok(await kiosk.request("issue_ticket", queue="A"))["ticket"]
        other = ok(await kiosk.request("issue_ticket", queue="A"))["ticket"]
        async with connect_client() as citizen:
            snap = await subscribe(citizen, ticket_token=mine["status_token"])
            assert [t["id"] for t in snap["state"]["tickets"]] == [mine["id"]]
            assert [q["code"] for q in snap["state"]["queues"]] == ["A"]
            ok(await mgr.request("open_window", window=1))
            ok(await mgr.request("open_window", window=2))
            ok(await mgr.request("call_next", window=1))  # mine
            ok(await mgr.request("call_next", window=2))  # the other one
            ok(await kiosk.request("issue_ticket", queue="A"))
            ok(await mgr.request("no_show", window=2))
            ok(await mgr.request("start_service", window=1))
            ok(await mgr.request("finish_service", window=1))
            pushes = await citizen.drain()
    assert_consecutive(snap, pushes)
    own = [p["event"] for p in pushes if p["event"]["ticket"] is not None]
    assert [e["type"] for e in own] == ["ticket_called", "service_started", "service_finished"]
    assert all(e["ticket"] == mine["id"] for e in own)
    # while it waited, queue movements came as reduced events: its own fresh view, nobody else's
    updates = [p["event"] for p in pushes if p["event"]["ticket"] is None]
    assert [e["type"] for e in updates] == ["window_opened", "window_opened"]
    for e in updates:
        assert e["ticket_view"]["id"] == mine["id"] and "position" in e["ticket_view"]
        assert [q["code"] for q in e["queues"]] == ["A"]
        assert e["data"] == {} and e["window"] is None
    assert other["id"] not in json.dumps(pushes)


async def test_a_status_page_sees_its_position_move_when_others_are_called(connect_client, device, staff):
    async with device("kiosk") as kiosk, staff("manager") as mgr:
        ok(await kiosk.request("issue_ticket", queue="A"))
        mine = ok(await kiosk.request("issue_ticket", queue="A"))["ticket"]
        assert mine["position"] == 2
        async with connect_client() as citizen:
            snap = await subscribe(citizen, ticket_token=mine["status_token"])
            ok(await mgr.request("open_window", window=1))
            ok(await mgr.request("call_next", window=1))  # the ticket ahead
            pushes = await citizen.drain()
    assert_consecutive(snap, pushes)
    last = pushes[-1]["event"]
    assert last["type"] == "ticket_called" and last["ticket"] is None
    assert last["ticket_view"]["position"] == 1


# ---------------------------------------------------------------------- applicant data


async def test_pushes_never_carry_phone_id_number_or_unmasked_name(connect_client, device, staff):
    async with connect_client() as wall, connect_client() as zone_a, device("kiosk") as kiosk:
        await subscribe(wall)
        await subscribe(zone_a, zone="A区")
        issued = ok(await kiosk.request("issue_ticket", queue="A", priority="green", applicant=APPLICANT))[
            "ticket"
        ]
        async with connect_client() as citizen, staff("w1", 1) as w1:
            await subscribe(citizen, ticket_token=issued["status_token"])
            ok(await w1.request("open_window", window=1))
            ok(await w1.request("call_next", window=1))
            ok(await w1.request("recall", window=1))
            ok(await w1.request("start_service", window=1))
            ok(await w1.request("transfer", ticket=issued["number"], to_queue="B", reason="税务"))
            async with staff("w2", 2) as w2:
                ok(await w2.request("open_window", window=2))
                ok(await w2.request("call_next", window=2))
                ok(await w2.request("start_service", window=2))
                ok(await w2.request("finish_service", window=2))
            ok(await wall.request("resync"))
            pushes = [*await wall.drain(), *await zone_a.drain(), *await citizen.drain()]
    assert len(pushes) > 20
    text = json.dumps(pushes, ensure_ascii=False)
    for secret in (PHONE, ID_NUMBER, NAME, "三丰", "138****", "110***", issued["status_token"]):
        assert secret not in text, secret
    assert "张*丰" in text  # the masked name is shown


async def test_full_applicant_data_only_in_replies_to_the_serving_window(device, staff):
    masked = {"name": "张*丰", "phone": "138****5678", "id_number": "110***********1234"}
    async with device("kiosk") as kiosk, staff("w1", 1) as w1, staff("w2", 2) as w2, staff("manager") as mgr:
        issued = ok(await kiosk.request("issue_ticket", queue="A", applicant=APPLICANT))
        assert PHONE not in json.dumps(issued) and ID_NUMBER not in json.dumps(issued)
        assert NAME not in json.dumps(issued, ensure_ascii=False)
        ok(await w1.request("open_window", window=1))
        called = ok(await w1.request("call_next", window=1))
        assert called["ticket"]["applicant"] == APPLICANT
        assert ok(await w1.request("get_ticket", ticket="A001"))["ticket"]["applicant"] == APPLICANT
        assert ok(await w2.request("get_ticket", ticket="A001"))["ticket"]["applicant"] == masked
        assert ok(await mgr.request("get_ticket", ticket="A001"))["ticket"]["applicant"] == masked
        ok(await w1.request("start_service", window=1))
        ok(await w1.request("finish_service", window=1))
        # the service is over: the window no longer holds the ticket
        assert ok(await w1.request("get_ticket", ticket="A001"))["ticket"]["applicant"] == masked


# ---------------------------------------------------------------------- login, tokens, origin


async def test_login_with_a_wrong_password_is_unauthenticated(connect_client):
    async with connect_client() as c:
        err(await c.request("login", username="w1", password="wrong", window=1), "unauthenticated")
        err(await c.request("login", username="nobody", password=STAFF_PASSWORD, window=1), "unauthenticated")
        err(await c.request("auth", token="not-a-token"), "unauthenticated")
        err(await c.request("call_next", window=1), "forbidden")  # still anonymous
        ok(await c.request("ping"))


async def test_a_session_token_authenticates_after_reconnect_until_logout(connect_client, server):
    async with connect_client() as c:
        login = ok(await c.request("login", username="w1", password=STAFF_PASSWORD, window=1))
    assert login["role"] == "window" and login["window"] == 1
    async with connect_client() as wall, connect_client() as c:
        await subscribe(wall)
        reply = ok(await c.request("auth", token=login["token"]))
        assert (reply["role"], reply["window"], reply["name"]) == ("window", 1, "窗口一")
        ok(await c.request("open_window", window=1))
        err(await c.request("open_window", window=2), "not_your_window")
        opened = [p["event"] for p in await wall.drain() if p["event"]["type"] == "window_opened"]
        assert opened[0]["actor"] == "staff:w1"
        ok(await c.request("logout"))
    async with connect_client() as c:
        err(await c.request("auth", token=login["token"]), "unauthenticated")


async def test_the_origin_check_refuses_foreign_browser_pages(server):
    url = f"ws://127.0.0.1:{server.port}/ws"
    for origin in (
        "http://evil.example",
        f"http://127.0.0.1:{server.port + 1}",
        "null",
        f"https://evil.example:{server.port}",
    ):
        with pytest.raises(InvalidStatus) as exc_info:
            async with connect(url, origin=origin):
                pass
        assert exc_info.value.response.status_code == 403, origin
    # the server's own origin, the hall's allowed_origins, and non-browser clients
    for origin in (f"http://127.0.0.1:{server.port}", "http://localhost", "http://127.0.0.1", None):
        async with connect(url, origin=origin) as ws:
            await ws.send(json.dumps({"id": 1, "type": "ping"}))
            assert json.loads(await ws.recv())["type"] == "ok"


async def test_display_token_required_also_for_resync(tmp_path, small_config):
    """With require_display_token an anonymous client must get no snapshot, whether it sends
    subscribe or resync."""
    config = dataclasses.replace(small_config, require_display_token=True)
    async with running(config, tmp_path / "hall.db") as srv:
        async with client_of(srv) as anon:
            err(await anon.request("subscribe"), "display_token_required")
            reply = await anon.request("resync")
            leaked = await anon.drain(0.2)
        assert leaked == [], "an anonymous client got a snapshot through resync"
        err(reply, "display_token_required")


async def test_display_token_opens_subscriptions_when_required(tmp_path, small_config):
    config = dataclasses.replace(small_config, require_display_token=True)
    async with running(config, tmp_path / "hall.db") as srv:
        token = await mint(srv, "display")
        async with client_of(srv) as display:
            ok(await display.request("auth", token=token))
            snap = await subscribe(display)
    assert snap["state"]["hall"]["code"] == "small-test"


async def test_kiosk_rate_limit(tmp_path, small_config):
    config = dataclasses.replace(
        small_config, rules=dataclasses.replace(small_config.rules, issue_rate_per_min=3)
    )
    async with running(config, tmp_path / "hall.db") as srv:
        token, other = await mint(srv, "kiosk", name="kiosk-1"), await mint(srv, "kiosk", name="kiosk-2")
        async with client_of(srv) as kiosk:
            ok(await kiosk.request("auth", token=token))
            for _ in range(3):
                ok(await kiosk.request("issue_ticket", queue="A"))
            err(await kiosk.request("issue_ticket", queue="A"), "rate_limited")
            ok(await kiosk.request("ping"))
        async with client_of(srv) as again:  # reconnecting does not reset the count
            ok(await again.request("auth", token=token))
            err(await again.request("issue_ticket", queue="A"), "rate_limited")
        async with client_of(srv) as second:  # another kiosk has its own allowance
            ok(await second.request("auth", token=other))
            assert ok(await second.request("issue_ticket", queue="A"))["ticket"]["number"] == "A004"
        async with client_of(srv) as mgr:
            ok(await mgr.request("login", username="manager", password=STAFF_PASSWORD))
            for _ in range(5):
                ok(await mgr.request("issue_ticket", queue="P", channel="staff"))
            snap = await subscribe(mgr)
    assert [t["number"] for t in snap["state"]["tickets"] if t["queue"] == "A"] == [
        "A001",
        "A002",
        "A003",
        "A004",
    ]


# ---------------------------------------------------------------------- HTTP


async def test_healthz(server, device):
    async with device("kiosk") as kiosk:
        ok(await kiosk.request("issue_ticket", queue="A"))
        status, ctype, body = await asyncio.to_thread(http_get, server.port, "/healthz")
    assert status == 200 and ctype.startswith("application/json")
    health = json.loads(body)
    assert health["status"] == "ok"
    assert health["hall"] == "small-test"
    assert isinstance(health["uptime_s"], (int, float)) and 0 <= health["uptime_s"] < 60
    assert health["connections"] >= 1
    db = health["database"]
    assert db["ok"] is True
    assert db["last_event_id"] == 2  # day_started, ticket_issued
    assert db["schema_version"] >= 1
    assert db["path"].endswith("hall.db")


async def test_qr_svg(server):
    status, ctype, body = await asyncio.to_thread(
        http_get, server.port, "/qr.svg?text=http%3A%2F%2F127.0.0.1%2Ft%2Fabc"
    )
    assert status == 200 and ctype.startswith("image/svg+xml")
    assert b"<svg" in body and b"</svg>" in body
    for query in ("", "?text=", "?text=" + "x" * 513):
        status, _, _ = await asyncio.to_thread(http_get, server.port, "/qr.svg" + query)
        assert status == 400, query


# ---------------------------------------------------------------------- a slow display


async def test_a_display_that_never_reads_holds_up_nobody(tmp_path, small_config):
    """websockets' broadcast() never waits for a connection, so a stalled screen only piles
    up in its own write buffer: commands still answer fast and other screens get everything."""
    # synchronous=NORMAL: this test is about the fan-out, not about fsync times of a busy disk
    srv = HallServer(small_config, SqliteStore(tmp_path / "hall.db", synchronous="NORMAL"), port=0)
    await srv.start()
    kiosk_token = await mint(srv, "kiosk")
    manager_token = await mint(srv, "manager")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", srv.port))
    try:
        async with (
            connect(f"ws://127.0.0.1:{srv.port}/ws", sock=sock) as slow_ws,
            client_of(srv) as fast,
            client_of(srv) as kiosk,
            client_of(srv) as mgr,
        ):
            ok(await kiosk.request("auth", token=kiosk_token))
            ok(await mgr.request("auth", token=manager_token))
            slow = Client(slow_ws)
            slow_snap = await subscribe(slow)
            fast_snap = await subscribe(fast)
            slow_ws.transport.pause_reading()
            # small kernel buffers on both ends, so the backlog shows in the server's write buffer
            port = slow_ws.local_address[1]
            stalled = next(conn for conn in srv.clients if conn.remote_address[1] == port)
            stalled.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            ok(await mgr.request("open_window", window=2))
            latencies = []

            async def timed(client: Client, type_: str, **fields) -> None:
                t0 = time.perf_counter()
                ok(await asyncio.wait_for(client.request(type_, **fields), 5))
                latencies.append(time.perf_counter() - t0)

            for i in range(150):
                await timed(kiosk, "issue_ticket", queue="A" if i % 2 else "P", applicant={"name": "某" * 60})
                if i % 10 == 0:
                    await timed(mgr, "pause_window", window=2, reason="长原因" * 60)
                    await timed(mgr, "resume_window", window=2)
            fast_pushes = await fast.drain()
            backlog = stalled.transport.get_write_buffer_size()
            slow_ws.transport.resume_reading()
            slow_pushes = await slow.drain(1.0)
    finally:
        await srv.stop()
    assert backlog > 64 * 1024, f"the slow display was not backed up (write buffer {backlog} bytes)"
    assert statistics.median(latencies) < 0.05, statistics.median(latencies)
    assert_consecutive(fast_snap, fast_pushes)
    assert len(fast_pushes) == 1 + 1 + 150 + 2 * 15  # day_started, window_opened, tickets, pauses
    # nothing was dropped for the slow one either, once it reads again
    assert_consecutive(slow_snap, slow_pushes)
    assert [p["event"]["type"] for p in slow_pushes] == [p["event"]["type"] for p in fast_pushes]
