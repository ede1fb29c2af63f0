"""Malformed and refused requests: each gets its documented error code, nothing changes, and
the connection stays open.

One server with a prepared hall serves the whole table (module scope); every row opens its
own connection, compares the public snapshot and the database before and after, and sends a
``ping`` afterwards on the same connection.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from websockets.exceptions import ConnectionClosed

from queue_server.config_file import load_hall_config
from queue_server.hall.config import HallConfig, WeeklyHours
from queue_server.server.app import HallServer
from queue_server.server.auth import hash_token, new_token
from queue_server.server.protocol import ERROR_CODES, MAX_MESSAGE_BYTES
from queue_server.store import SqliteStore
from queue_server.store.base import DeviceToken

from _support import SMALL_HALL, STAFF_PASSWORD, Client

pytestmark = pytest.mark.asyncio(loop_scope="module")

REQ_ID = 7


@dataclasses.dataclass
class Prepared:
    server: HallServer
    db: Path
    tokens: dict[str, str]  # who -> token for `auth`


async def mint(server: HallServer, role: str, window: int | None = None) -> str:
    token = new_token()
    await server.store.add_token(
        hash_token(token), DeviceToken(role=role, window=window, name=f"{role}-t"), server.now().isoformat()
    )
    return token


def ok(reply: dict) -> dict:
    assert reply["type"] == "ok", reply
    return reply


@contextlib.asynccontextmanager
async def session(server: HallServer, token: str | None) -> AsyncIterator[Client]:
    async with Client.connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
        if token is not None:
            ok(await ws.request("auth", rid="auth", token=token))
        yield ws


async def observe(server: HallServer, db: Path) -> dict[str, Any]:
    """Everything a refused request must leave alone: the public state and the database."""
    async with session(server, None) as ws:
        ok(await ws.request("subscribe", rid="s", timeout=5))
        snapshot = await ws.push()
    assert snapshot["type"] == "snapshot", snapshot
    state = snapshot["state"]
    # what moves with the clock alone: now, the longest wait, and the estimates (the service
    # at a busy counter is expected to end sooner the longer it has run)
    state["hall"].pop("now")
    for q in state["queues"]:
        q.pop("longest_wait_s")
        q.pop("estimated_wait_s")
    for t in state["tickets"]:
        t.pop("estimated_wait_s", None)
    with contextlib.closing(sqlite3.connect(db)) as con:
        tables = {
            "events": con.execute("SELECT COUNT(*), MAX(id) FROM events").fetchone(),
            "tickets": con.execute("SELECT * FROM tickets ORDER BY id").fetchall(),
            "windows": con.execute("SELECT * FROM windows ORDER BY number").fetchall(),
            "numbers": con.execute("SELECT * FROM ticket_numbers ORDER BY queue").fetchall(),
            "tokens": con.execute("SELECT COUNT(*) FROM device_tokens WHERE revoked_at IS NULL").fetchone(),
        }
    return {"state": state, "db": tables}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def hall(tmp_path_factory) -> AsyncIterator[Prepared]:
    """Window 1 open with A001 called; window 2 closed; window 3 open with B001 called;
    window 9 open and idle (queue P empty); A002, B002, B003 waiting; queue B at its cap (3)."""
    db = tmp_path_factory.mktemp("bad-input") / "hall.db"
    server = HallServer(load_hall_config(SMALL_HALL), SqliteStore(db), host="127.0.0.1", port=0)
    await server.start()
    try:
        tokens = {
            "anon": None,
            "kiosk": await mint(server, "kiosk"),
            "display": await mint(server, "display"),
            "button1": await mint(server, "window", 1),
        }
        async with (
            session(server, None) as mgr,
            session(server, None) as w1,
            session(server, tokens["kiosk"]) as kiosk,
        ):
            tokens["manager"] = ok(
                await mgr.request("login", rid=1, username="manager", password=STAFF_PASSWORD)
            )["token"]
            tokens["w1"] = ok(
                await w1.request("login", rid=1, username="w1", password=STAFF_PASSWORD, window=1)
            )["token"]
            ok(await w1.request("open_window", rid=2, window=1))
            for n, queue in enumerate("AABBB"):
                ok(await kiosk.request("issue_ticket", rid=n, queue=queue))
            assert ok(await w1.request("call_next", rid=3, window=1))["ticket"]["number"] == "A001"
            for n, window in enumerate((3, 9)):
                ok(await mgr.request("open_window", rid=10 + n, window=window))
            assert ok(await mgr.request("call_next", rid=12, window=3))["ticket"]["number"] == "B001"
        yield Prepared(server, db, tokens)
    finally:
        await server.stop()


def big(size: int) -> str:
    """A ping padded to exactly ``size`` bytes of UTF-8."""
    head, tail = '{"id":7,"type":"ping","pad":"', '"}'
    return head + "x" * (size - len(head) - len(tail)) + tail


def case(who: str, message: Any, code: str, name: str) -> Any:
    return pytest.param(who, message, code, id=f"{code}-{name}")


M = {"id": REQ_ID}  # shorthand: {**M, "type": ...}

CASES = [
    # ------------------------------------------------------------------ framing and JSON
    case("anon", big(MAX_MESSAGE_BYTES + 1), "message_too_large", "one-byte-over"),
    case("anon", big(65 * 1024 + 10), "message_too_large", "65KiB"),
    case("anon", big(65 * 1024 + 10).encode(), "message_too_large", "65KiB-binary"),
    case("anon", big(MAX_MESSAGE_BYTES), "unknown_field", "exactly-64KiB-is-read"),
    case("anon", "{", "malformed_json", "open-brace"),
    case("anon", "", "malformed_json", "empty"),
    case("anon", "ping", "malformed_json", "bare-word"),
    case("anon", "{'id': 7, 'type': 'ping'}", "malformed_json", "single-quotes"),
    case("anon", '{"id":7,"type":"ping"', "malformed_json", "truncated"),
    case("anon", '{"id":7,"type":"ping"}{"id":8}', "malformed_json", "two-objects"),
    case("anon", '{"id":7,"type":"ping",}', "malformed_json", "trailing-comma"),
    case("anon", b"\xff\xfe\xfd", "malformed_json", "binary-not-utf8"),
    case("anon", "[" * 50_000, "malformed_json", "deeply-nested"),
    case("anon", "[]", "not_an_object", "list"),
    case("anon", "1", "not_an_object", "number"),
    case("anon", '"ping"', "not_an_object", "string"),
    case("anon", "null", "not_an_object", "null"),
    case("anon", "true", "not_an_object", "bool"),
    case("anon", '[{"id":7,"type":"ping"}]', "not_an_object", "list-of-request"),
    # ------------------------------------------------------------------ envelope
    case("anon", {"type": "ping"}, "missing_id", "absent"),
    case("anon", {"id": None, "type": "ping"}, "missing_id", "null"),
    case("anon", {"id": True, "type": "ping"}, "missing_id", "bool"),
    case("anon", {"id": 1.5, "type": "ping"}, "missing_id", "float"),
    case("anon", {"id": [1], "type": "ping"}, "missing_id", "list"),
    case("anon", {"id": {"n": 1}, "type": "ping"}, "missing_id", "object"),
    case("anon", {**M}, "missing_type", "absent"),
    case("anon", {**M, "type": ""}, "missing_type", "empty"),
    case("anon", {**M, "type": 5}, "missing_type", "number"),
    case("anon", {**M, "type": None}, "missing_type", "null"),
    case("anon", {**M, "type": ["ping"]}, "missing_type", "list"),
    *(
        case("manager", {**M, "type": t}, "unknown_type", t)
        for t in (
            "pong",
            "PING",
            " ping",
            "snapshot",
            "event",
            "ok",
            "error",
            "issue-ticket",
            "_window_command",
            "__class__",
            "tick",
            "staff_login",
        )
    ),
    # ------------------------------------------------------------------ fields
    case("anon", {**M, "type": "ping", "x": 1}, "unknown_field", "ping-x"),
    case(
        "kiosk",
        {**M, "type": "issue_ticket", "queue": "A", "number": "A001"},
        "unknown_field",
        "issue-number",
    ),
    case(
        "manager", {**M, "type": "call_next", "window": 1, "queue": "A"}, "unknown_field", "call-next-queue"
    ),
    case("anon", {**M, "type": "subscribe", "zones": ["A区"]}, "unknown_field", "subscribe-zones"),
    case("anon", {**M, "type": "auth", "token": "x", "password": "y"}, "unknown_field", "auth-password"),
    case("anon", {**M, "type": "login", "username": "w1"}, "missing_field", "login-password"),
    case("anon", {**M, "type": "auth"}, "missing_field", "auth-token"),
    case(
        "anon",
        {**M, "type": "login", "username": "w2", "password": STAFF_PASSWORD},
        "missing_field",
        "window-staff-without-window",
    ),
    case("manager", {**M, "type": "call_next"}, "missing_field", "call-next-window"),
    case("manager", {**M, "type": "call_next", "window": None}, "missing_field", "window-null"),
    case("manager", {**M, "type": "pause_window", "window": 1}, "missing_field", "pause-reason"),
    case(
        "manager",
        {**M, "type": "call_ticket", "window": 9, "ticket": "A002"},
        "missing_field",
        "call-ticket-reason",
    ),
    case("manager", {**M, "type": "cancel_ticket"}, "missing_field", "cancel-ticket"),
    case("kiosk", {**M, "type": "issue_ticket"}, "missing_field", "issue-queue"),
    *(
        case("manager", {**M, "type": "call_next", "window": w}, "invalid_field", f"window-{name}")
        for w, name in (
            ("1", "string"),
            (True, "true"),
            (False, "false"),
            (-1, "negative"),
            (0, "zero"),
            (1.0, "float"),
            (100_000, "huge"),
            (10**30, "bignum"),
            ([1], "list"),
            ({"n": 1}, "object"),
        )
    ),
    case("w1", {**M, "type": "call_next", "window": True}, "invalid_field", "own-window-as-bool"),
    case("manager", '{"id":7,"type":"call_next","window":NaN}', "invalid_field", "window-nan"),
    case(
        "manager",
        {**M, "type": "transfer", "ticket": "A002", "to_window": -3},
        "invalid_field",
        "to-window-negative",
    ),
    case("kiosk", {**M, "type": "issue_ticket", "queue": 5}, "invalid_field", "queue-number"),
    case("kiosk", {**M, "type": "issue_ticket", "queue": "AAAAA"}, "invalid_field", "queue-too-long"),
    case(
        "kiosk",
        {**M, "type": "issue_ticket", "queue": "A", "priority": "vip"},
        "invalid_field",
        "priority-enum",
    ),
    case(
        "kiosk",
        {**M, "type": "issue_ticket", "queue": "A", "priority": "NORMAL"},
        "invalid_field",
        "priority-case",
    ),
    case(
        "kiosk",
        {**M, "type": "issue_ticket", "queue": "A", "channel": "fax"},
        "invalid_field",
        "channel-enum",
    ),
    case(
        "kiosk", {**M, "type": "issue_ticket", "queue": "A", "channel": 1}, "invalid_field", "channel-number"
    ),
    case(
        "kiosk",
        {
            **M,
            "type": "issue_ticket",
            "queue": "A",
            "priority": "appointment",
            "appointment_slot": "tomorrow",
        },
        "invalid_field",
        "slot-not-iso",
    ),
    case(
        "kiosk",
        {
            **M,
            "type": "issue_ticket",
            "queue": "A",
            "priority": "appointment",
            "appointment_slot": "2026-13-45T10:00:00+08:00",
        },
        "invalid_field",
        "slot-bad-date",
    ),
    case(
        "kiosk",
        {
            **M,
            "type": "issue_ticket",
            "queue": "A",
            "priority": "appointment",
            "appointment_slot": 1700000000,
        },
        "invalid_field",
        "slot-number",
    ),
    case(
        "kiosk",
        {**M, "type": "issue_ticket", "queue": "A", "priority": "appointment"},
        "invalid_field",
        "appointment-without-slot",
    ),
    case(
        "kiosk",
        {**M, "type": "issue_ticket", "queue": "A", "checked_in": "yes"},
        "invalid_field",
        "checked-in-string",
    ),
    case(
        "kiosk",
        {**M, "type": "issue_ticket", "queue": "A", "checked_in": 1},
        "invalid_field",
        "checked-in-int",
    ),
    case(
        "kiosk",
        {**M, "type": "issue_ticket", "queue": "A", "applicant": "张三"},
        "invalid_field",
        "applicant-string",
    ),
    case(
        "kiosk",
        {**M, "type": "issue_ticket", "queue": "A", "applicant": []},
        "invalid_field",
        "applicant-list",
    ),
    case(
        "kiosk",
        {**M, "type": "issue_ticket", "queue": "A", "applicant": {"name": 5}},
        "invalid_field",
        "applicant-name-number",
    ),
    case(
        "kiosk",
        {**M, "type": "issue_ticket", "queue": "A", "applicant": {"email": "a@b.cn"}},
        "invalid_field",
        "applicant-unknown-key",
    ),
    case(
        "kiosk",
        {**M, "type": "issue_ticket", "queue": "A", "applicant": {"name": "张" * 65}},
        "invalid_field",
        "applicant-name-too-long",
    ),
    case("anon", {**M, "type": "subscribe", "queues": "A"}, "invalid_field", "queues-string"),
    case("anon", {**M, "type": "subscribe", "queues": [1]}, "invalid_field", "queues-number"),
    case("anon", {**M, "type": "subscribe", "queues": [None]}, "invalid_field", "queues-null"),
    case("anon", {**M, "type": "subscribe", "queues": ["A"] * 51}, "invalid_field", "queues-too-many"),
    case("anon", {**M, "type": "subscribe", "windows": [True]}, "invalid_field", "windows-bool"),
    case("anon", {**M, "type": "subscribe", "windows": ["1"]}, "invalid_field", "windows-string"),
    case("anon", {**M, "type": "subscribe", "windows": [1.0]}, "invalid_field", "windows-float"),
    case("anon", {**M, "type": "subscribe", "zone": "Z区"}, "invalid_field", "zone-unknown"),
    case("anon", {**M, "type": "subscribe", "zone": 5}, "invalid_field", "zone-number"),
    case("anon", {**M, "type": "subscribe", "ticket_token": 5}, "invalid_field", "ticket-token-number"),
    case("anon", {**M, "type": "login", "username": 5, "password": "x"}, "invalid_field", "username-number"),
    case("manager", {**M, "type": "cancel_ticket", "ticket": 42}, "invalid_field", "ticket-number"),
    case("manager", {**M, "type": "cancel_ticket", "ticket": "A" * 41}, "invalid_field", "ticket-too-long"),
    case(
        "manager",
        {**M, "type": "cancel_ticket", "ticket": "A002", "reason": "x" * 201},
        "invalid_field",
        "reason-too-long",
    ),
    case("manager", {**M, "type": "transfer", "ticket": "A002"}, "invalid_field", "transfer-nowhere"),
    case(
        "manager",
        {**M, "type": "transfer", "ticket": "A002", "to_queue": "A"},
        "invalid_field",
        "transfer-same-queue",
    ),
    # ------------------------------------------------------------------ roles
    case("anon", {**M, "type": "issue_ticket", "queue": "A"}, "forbidden", "anon-issue"),
    case("anon", {**M, "type": "call_next", "window": 1}, "forbidden", "anon-call"),
    case("anon", {**M, "type": "logout"}, "forbidden", "anon-logout"),
    case("anon", {**M, "type": "get_ticket", "ticket": "A002"}, "forbidden", "anon-get-ticket"),
    case("anon", {**M, "type": "check_in", "ticket": "A002"}, "forbidden", "anon-check-in"),
    case("display", {**M, "type": "issue_ticket", "queue": "A"}, "forbidden", "display-issue"),
    case("display", {**M, "type": "open_window", "window": 2}, "forbidden", "display-open"),
    case("kiosk", {**M, "type": "call_next", "window": 1}, "forbidden", "kiosk-call"),
    case("kiosk", {**M, "type": "cancel_ticket", "ticket": "A002"}, "forbidden", "kiosk-cancel"),
    case("kiosk", {**M, "type": "get_ticket", "ticket": "A002"}, "forbidden", "kiosk-get-ticket"),
    case("kiosk", {**M, "type": "logout"}, "forbidden", "kiosk-logout"),
    case("w1", {**M, "type": "call_next", "window": 2}, "not_your_window", "call-next"),
    case("w1", {**M, "type": "open_window", "window": 2}, "not_your_window", "open"),
    case("w1", {**M, "type": "close_window", "window": 3}, "not_your_window", "close"),
    case("w1", {**M, "type": "pause_window", "window": 3, "reason": "x"}, "not_your_window", "pause"),
    case("w1", {**M, "type": "start_service", "window": 3}, "not_your_window", "start"),
    case(
        "w1",
        {**M, "type": "call_ticket", "window": 9, "ticket": "A002", "reason": "x"},
        "not_your_window",
        "call-ticket",
    ),
    case("w1", {**M, "type": "cancel_ticket", "ticket": "B002"}, "not_your_window", "cancel-other-queue"),
    case("w1", {**M, "type": "cancel_ticket", "ticket": "B001"}, "not_your_window", "cancel-at-other-window"),
    case("w1", {**M, "type": "transfer", "ticket": "B002", "to_queue": "A"}, "not_your_window", "transfer"),
    case("button1", {**M, "type": "call_next", "window": 3}, "not_your_window", "window-token"),
    # ------------------------------------------------------------------ credentials
    case("anon", {**M, "type": "auth", "token": "no-such-token"}, "unauthenticated", "auth"),
    case("kiosk", {**M, "type": "auth", "token": "no-such-token"}, "unauthenticated", "auth-again"),
    case(
        "anon",
        {**M, "type": "login", "username": "w1", "password": "wrong", "window": 1},
        "unauthenticated",
        "wrong-password",
    ),
    case(
        "anon",
        {**M, "type": "login", "username": "nobody", "password": "x", "window": 1},
        "unauthenticated",
        "unknown-user",
    ),
    # ------------------------------------------------------------------ the hall refuses
    case("kiosk", {**M, "type": "issue_ticket", "queue": "Z"}, "unknown_queue", "issue"),
    case("kiosk", {**M, "type": "issue_ticket", "queue": ""}, "unknown_queue", "issue-empty"),
    case("anon", {**M, "type": "subscribe", "queues": ["A", "Z"]}, "unknown_queue", "subscribe"),
    case(
        "manager", {**M, "type": "transfer", "ticket": "A002", "to_queue": "Z"}, "unknown_queue", "transfer"
    ),
    case("manager", {**M, "type": "call_next", "window": 99}, "unknown_window", "call-next"),
    case("manager", {**M, "type": "open_window", "window": 4}, "unknown_window", "open"),
    case("anon", {**M, "type": "subscribe", "windows": [1, 99]}, "unknown_window", "subscribe"),
    case(
        "manager", {**M, "type": "transfer", "ticket": "A002", "to_window": 99}, "unknown_window", "transfer"
    ),
    case(
        "anon",
        {**M, "type": "login", "username": "w2", "password": STAFF_PASSWORD, "window": 42},
        "unknown_window",
        "login",
    ),
    case("manager", {**M, "type": "cancel_ticket", "ticket": "A999"}, "unknown_ticket", "cancel"),
    case("manager", {**M, "type": "get_ticket", "ticket": "A999"}, "unknown_ticket", "get"),
    case("manager", {**M, "type": "get_ticket", "ticket": "20200101-A001"}, "unknown_ticket", "other-day"),
    case("manager", {**M, "type": "reactivate", "ticket": ""}, "unknown_ticket", "empty"),
    case(
        "manager",
        {**M, "type": "call_ticket", "window": 9, "ticket": "P404", "reason": "x"},
        "unknown_ticket",
        "call-ticket",
    ),
    case("kiosk", {**M, "type": "check_in", "ticket": "Z001"}, "unknown_ticket", "check-in"),
    case(
        "anon",
        {**M, "type": "subscribe", "ticket_token": "no-such-status-token"},
        "unknown_ticket",
        "status-page",
    ),
    case("manager", {**M, "type": "open_window", "window": 1}, "illegal_transition", "open-open"),
    case("manager", {**M, "type": "resume_window", "window": 1}, "illegal_transition", "resume-open"),
    case("manager", {**M, "type": "close_window", "window": 2}, "illegal_transition", "close-closed"),
    case(
        "manager",
        {**M, "type": "pause_window", "window": 2, "reason": "x"},
        "illegal_transition",
        "pause-closed",
    ),
    case(
        "manager", {**M, "type": "reactivate", "ticket": "A002"}, "illegal_transition", "reactivate-waiting"
    ),
    case("kiosk", {**M, "type": "check_in", "ticket": "A002"}, "illegal_transition", "check-in-twice"),
    case("manager", {**M, "type": "finish_service", "window": 1}, "illegal_transition", "finish-called"),
    case(
        "manager",
        {**M, "type": "call_ticket", "window": 9, "ticket": "B001", "reason": "x"},
        "illegal_transition",
        "call-called",
    ),
    case("manager", {**M, "type": "call_next", "window": 9}, "queue_empty", "nobody-for-P"),
    case("manager", {**M, "type": "call_next", "window": 2}, "window_not_open", "closed"),
    case(
        "manager",
        {**M, "type": "call_ticket", "window": 2, "ticket": "A002", "reason": "x"},
        "window_not_open",
        "call-ticket",
    ),
    case("manager", {**M, "type": "call_next", "window": 1}, "window_busy", "call-next"),
    case("manager", {**M, "type": "close_window", "window": 1}, "window_busy", "close"),
    case(
        "manager",
        {**M, "type": "call_ticket", "window": 3, "ticket": "B002", "reason": "x"},
        "window_busy",
        "call-ticket",
    ),
    *(
        case("manager", {**M, "type": t, "window": 9}, "no_current_ticket", t)
        for t in ("start_service", "finish_service", "recall", "no_show")
    ),
    case(
        "manager",
        {**M, "type": "call_ticket", "window": 9, "ticket": "A002", "reason": "x"},
        "not_served_here",
        "call-ticket",
    ),
    case(
        "manager",
        {**M, "type": "pause_window", "window": 1, "reason": "   "},
        "reason_required",
        "pause-blank",
    ),
    case(
        "manager", {**M, "type": "pause_window", "window": 1, "reason": ""}, "reason_required", "pause-empty"
    ),
    case(
        "manager",
        {**M, "type": "call_ticket", "window": 9, "ticket": "A002", "reason": ""},
        "reason_required",
        "call-ticket",
    ),
    case("kiosk", {**M, "type": "issue_ticket", "queue": "B"}, "queue_full", "B-cap-3"),
]


@pytest.mark.parametrize(("who", "message", "code"), CASES)
async def test_bad_request_gets_its_error_and_changes_nothing(
    hall: Prepared, who: str, message: Any, code: str
):
    assert code in ERROR_CODES
    before = await observe(hall.server, hall.db)
    async with session(hall.server, hall.tokens[who]) as ws:
        await ws.send_raw(message)
        reply = await ws.reply(timeout=5)
        assert reply["type"] == "error" and reply["code"] == code, reply
        assert reply["message"]
        if isinstance(message, dict) and code not in ("missing_id",):
            assert reply["re"] == REQ_ID
        assert ok(await ws.request("ping", rid="after"))["re"] == "after"  # still alive
    assert await observe(hall.server, hall.db) == before


# The queue protocol's error codes (docs/protocol.md); codes of other parts of the server
# (cases, ratings) are tested with those parts.
QUEUE_ERROR_CODES = {
    "message_too_large",
    "malformed_json",
    "not_an_object",
    "missing_id",
    "missing_type",
    "unknown_type",
    "missing_field",
    "invalid_field",
    "unknown_field",
    "forbidden",
    "not_your_window",
    "unauthenticated",
    "rate_limited",
    "display_token_required",
    "storage_failed",
    "internal_error",
    "unknown_queue",
    "unknown_window",
    "unknown_ticket",
    "queue_closed",
    "queue_full",
    "queue_empty",
    "illegal_transition",
    "window_not_open",
    "window_busy",
    "no_current_ticket",
    "not_served_here",
    "reason_required",
    "recall_limit",
    "not_allowed",
}


async def test_the_table_covers_the_queue_error_codes():
    assert set(ERROR_CODES) >= QUEUE_ERROR_CODES
    covered = {p.values[2] for p in CASES}
    # tested in their own set-ups (below; rate_limited in test_server.py, storage_failed in
    # test_writer.py); internal_error is a bug
    elsewhere = {
        "rate_limited",
        "display_token_required",
        "storage_failed",
        "recall_limit",
        "not_allowed",
        "queue_closed",
        "internal_error",
    }
    assert QUEUE_ERROR_CODES - covered - elsewhere == set()


async def test_above_the_transport_limit_the_connection_closes_with_1009(hall: Prepared):
    async with session(hall.server, None) as ws:
        await ws.send_raw(big(1024 * 1024 + 100))
        with pytest.raises(ConnectionClosed) as exc_info:
            await ws.reply(timeout=5)
    assert exc_info.value.rcvd is not None and exc_info.value.rcvd.code == 1009
    async with session(hall.server, None) as ws:  # the server is fine
        ok(await ws.request("ping", rid=1))


# ---------------------------------------------------------------------- errors that need their own hall


@contextlib.asynccontextmanager
async def own_server(
    config: HallConfig, db: Path, store: SqliteStore | None = None
) -> AsyncIterator[HallServer]:
    server = HallServer(config, store or SqliteStore(db), host="127.0.0.1", port=0)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def _rules(**changes: Any):
    return lambda cfg: dataclasses.replace(cfg, rules=dataclasses.replace(cfg.rules, **changes))


def _queue_a_closed(cfg: HallConfig) -> HallConfig:
    closed = WeeklyHours(days=((),) * 7)
    return dataclasses.replace(
        cfg, queues=tuple(dataclasses.replace(q, hours=closed) if q.code == "A" else q for q in cfg.queues)
    )


# (config change, set-up commands, refused command, code)
RULE_CASES = [
    pytest.param(
        _rules(auto_no_show=False),
        [
            ("open_window", {"window": 1}),
            ("issue_ticket", {"queue": "A"}),
            ("call_next", {"window": 1}),
            ("recall", {"window": 1}),
            ("recall", {"window": 1}),
        ],
        ("recall", {"window": 1}),
        "recall_limit",
        id="recall_limit",
    ),
    pytest.param(
        _rules(reactivate_same_day=False),
        [
            ("open_window", {"window": 1}),
            ("issue_ticket", {"queue": "A"}),
            ("call_next", {"window": 1}),
            ("no_show", {"window": 1}),
        ],
        ("reactivate", {"ticket": "A001"}),
        "not_allowed",
        id="not_allowed",
    ),
    pytest.param(
        _queue_a_closed,
        [("issue_ticket", {"queue": "P"})],
        ("issue_ticket", {"queue": "A"}),
        "queue_closed",
        id="queue_closed",
    ),
]


@pytest.mark.parametrize(("change", "setup", "refused", "code"), RULE_CASES)
async def test_rule_errors(tmp_path, small_config, change, setup, refused, code):
    db = tmp_path / "hall.db"
    async with own_server(change(small_config), db) as server:
        token = await mint(server, "manager")
        async with session(server, token) as ws:
            for n, (type_, fields) in enumerate(setup):
                ok(await ws.request(type_, rid=n, **fields))
            before = await observe(server, db)
            reply = await ws.request(refused[0], rid="refused", **refused[1])
            assert (reply["type"], reply["code"]) == ("error", code), reply
            ok(await ws.request("ping", rid="after"))
        assert await observe(server, db) == before


async def test_display_token_required(tmp_path, small_config):
    db = tmp_path / "hall.db"
    async with own_server(dataclasses.replace(small_config, require_display_token=True), db) as server:
        before = await events_in_db(server, db)
        async with session(server, None) as ws:
            reply = await ws.request("subscribe", rid=1, queues=["A"])
            assert (reply["type"], reply["code"]) == ("error", "display_token_required"), reply
            ok(await ws.request("ping", rid=2))
            # the citizen status page needs no display token
            err = await ws.request("subscribe", rid=3, ticket_token="no-such-status-token")
            assert err["code"] == "unknown_ticket"
        assert await events_in_db(server, db) == before


async def events_in_db(server: HallServer, db: Path) -> list:
    with contextlib.closing(sqlite3.connect(db)) as con:
        return con.execute("SELECT COUNT(*) FROM events").fetchall()
