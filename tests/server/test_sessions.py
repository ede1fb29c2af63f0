"""Sessions that end, and a login that resists guessing (findings 4 and 5 of issue 11), over a
real server with real websocket clients."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest_asyncio
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from queue_server.hall.config import HallConfig
from queue_server.server import auth
from queue_server.server.app import HallServer
from queue_server.store import SqliteStore

from _support import STAFF_PASSWORD, Client

TZ = ZoneInfo("Asia/Shanghai")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)

    def __call__(self) -> datetime:
        return self.now


@pytest_asyncio.fixture
async def hall(tmp_path: Path, small_config: HallConfig) -> AsyncIterator[HallServer]:
    rules = dataclasses.replace(small_config.rules, login_attempts=4, login_lockout_s=60)
    srv = HallServer(
        dataclasses.replace(small_config, rules=rules),
        SqliteStore(tmp_path / "hall.db"),
        host="127.0.0.1",
        port=0,
        clock=Clock(),
    )
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@contextlib.asynccontextmanager
async def client(srv: HallServer) -> AsyncIterator[Client]:
    async with connect(f"ws://127.0.0.1:{srv.port}/ws") as ws:
        yield Client(ws)


async def _closed(cl: Client) -> int | None:
    """The close code once the server has closed ``cl`` (None: still open after 3 s)."""
    try:
        while True:
            await asyncio.wait_for(cl.ws.recv(), 3)
    except ConnectionClosed:
        return cl.ws.close_code
    except TimeoutError:
        return None


async def _login(cl: Client, username: str, window: int | None = None) -> dict:
    fields = {"username": username, "password": STAFF_PASSWORD, **({"window": window} if window else {})}
    reply = await cl.request("login", **fields)
    assert reply["type"] == "ok", reply
    return reply


async def _auth(srv: HallServer, token: str) -> dict:
    async with client(srv) as cl:
        return await cl.request("auth", token=token)


async def test_logout_ends_every_connection_of_the_token(hall: HallServer) -> None:
    async with client(hall) as first, client(hall) as second:
        token = (await _login(first, "w1", 1))["token"]
        assert (await second.request("auth", token=token))["role"] == "window"
        assert (await first.request("logout"))["type"] == "ok"
        assert await _closed(second) == 4001
        assert (await first.request("ping"))["type"] == "ok"  # the one that logged out stays, anonymous
    assert (await _auth(hall, token))["code"] == "unauthenticated"


async def test_a_window_taken_by_another_staff_member_ends_the_old_session(hall: HallServer) -> None:
    async with client(hall) as old, client(hall) as new:
        token = (await _login(old, "w1", 1))["token"]
        await _login(new, "w2", 1)
        assert await _closed(old) == 4001
        assert (await new.request("open_window", window=1))["type"] == "ok"
    assert (await _auth(hall, token))["code"] == "unauthenticated"


async def test_a_manager_revokes_a_session(hall: HallServer) -> None:
    async with client(hall) as w1, client(hall) as mgr, client(hall) as w2:
        token = (await _login(w1, "w1", 1))["token"]
        await _login(w2, "w2", 2)
        assert (await w2.request("revoke_session", username="w1"))["code"] == "forbidden"
        await _login(mgr, "manager")
        reply = await mgr.request("revoke_session", username="w1")
        assert reply["type"] == "ok" and reply["connections_closed"] == 1, reply
        assert await _closed(w1) == 4001
        assert (await mgr.request("revoke_session", username="nobody"))["code"] == "invalid_field"
    assert (await _auth(hall, token))["code"] == "unauthenticated"


async def test_staff_sessions_end_at_the_close_of_business(hall: HallServer) -> None:
    async with client(hall) as w1:
        login = await _login(w1, "w1", 1)
        assert login["expires_at"] == "2026-11-23T17:30:00+08:00"
        assert (await w1.request("ping"))["type"] == "ok"
        hall.clock.now += timedelta(hours=8)  # type: ignore[attr-defined]
        await w1.send("ping")
        assert await _closed(w1) == 4001
    assert (await _auth(hall, login["token"]))["code"] == "unauthenticated"


def test_session_expiry_follows_the_config(small_config: HallConfig) -> None:
    morning = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
    evening = datetime(2026, 11, 23, 19, 0, tzinfo=TZ)
    assert auth.session_expiry(small_config, morning) == datetime(2026, 11, 23, 17, 30, tzinfo=TZ)
    assert auth.session_expiry(small_config, evening) == datetime(2026, 11, 24, 0, 0, tzinfo=TZ)
    eight = dataclasses.replace(small_config, rules=dataclasses.replace(small_config.rules, session_hours=8))
    assert auth.session_expiry(eight, evening) == evening + timedelta(hours=8)


async def test_guessing_a_password_is_slowed_then_locked_out(hall: HallServer) -> None:
    async with client(hall) as cl:
        codes = []
        for _ in range(3):
            codes.append((await cl.request("login", username="w1", password="guess"))["code"])
        assert codes == ["unauthenticated"] * 3
        limited = await cl.request("login", username="w1", password=STAFF_PASSWORD)  # right, but too soon
        assert limited["code"] == "rate_limited" and limited["retry_after_s"] >= 1, limited
        await asyncio.sleep(limited["retry_after_s"])
        assert (await cl.request("login", username="w1", password="guess"))["code"] == "unauthenticated"
        locked = await cl.request("login", username="w1", password=STAFF_PASSWORD)
        assert locked["code"] == "rate_limited" and locked["retry_after_s"] > 30, locked  # locked out
        other = await cl.request("login", username="w2", password=STAFF_PASSWORD, window=2)
        assert other["type"] == "ok", other  # other users may


async def test_an_unknown_user_is_limited_and_hashed_like_a_known_one(hall: HallServer) -> None:
    auth._DUMMY.clear()
    async with client(hall) as cl:
        first = await cl.request("login", username="no-such-user", password="guess")
        assert first["code"] == "unauthenticated" and first["message"] == "wrong username or password"
        assert auth._DUMMY, "an unknown user must cost one scrypt like a known one"
        codes = [
            (await cl.request("login", username="no-such-user", password="guess"))["code"] for _ in range(5)
        ]
        assert codes[-1] == "rate_limited"  # locked out after login_attempts, like a known user


async def test_an_address_behind_the_proxy_is_limited_across_user_names(hall: HallServer) -> None:
    url = f"ws://127.0.0.1:{hall.port}/ws"
    async with connect(url, additional_headers={"X-Forwarded-For": "10.0.0.9"}) as ws:
        cl = Client(ws)
        codes = [(await cl.request("login", username=f"guess{i}", password="x"))["code"] for i in range(10)]
        assert codes[:8] == ["unauthenticated"] * 8 and codes[-1] == "rate_limited", codes
    async with connect(url, additional_headers={"X-Forwarded-For": "10.0.0.10"}) as ws:  # another address
        assert (await Client(ws).request("login", username="guess99", password="x"))[
            "code"
        ] == "unauthenticated"
