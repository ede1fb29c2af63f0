"""The writer owns the state: persist, then notify.

A real server on a real SQLite file. A command whose transaction the database refuses (a
trigger, as a full disk would) leaves no trace in any reply, push, read or snapshot; and a
read that arrives while a batch waits for its commit (another connection holds the write
lock) answers from committed state only.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest_asyncio

from queue_server.hall.config import HallConfig
from queue_server.server.app import HallServer
from queue_server.server.auth import hash_token, new_token
from queue_server.store import SqliteStore
from queue_server.store.base import DeviceToken

from _support import Client

REFUSE_P = """
CREATE TRIGGER refuse_queue_p BEFORE INSERT ON tickets WHEN NEW.queue = 'P'
BEGIN SELECT RAISE(ABORT, 'database or disk is full (test trigger)'); END;
"""


@pytest_asyncio.fixture
async def server(tmp_path: Path, small_config: HallConfig) -> AsyncIterator[HallServer]:
    srv = HallServer(small_config, SqliteStore(tmp_path / "hall.db"), host="127.0.0.1", port=0)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


def db_of(server: HallServer) -> Path:
    assert isinstance(server.store, SqliteStore)
    return server.store.path


def sql(server: HallServer, script: str) -> None:
    with contextlib.closing(sqlite3.connect(db_of(server))) as con:
        con.executescript(script)


@contextlib.contextmanager
def write_lock(server: HallServer) -> Iterator[None]:
    """Another connection holds the database's write lock: the server's commit waits."""
    con = sqlite3.connect(db_of(server), isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        yield
        con.execute("ROLLBACK")
    finally:
        con.close()


@contextlib.asynccontextmanager
async def connected(server: HallServer, role: str | None = None) -> AsyncIterator[Client]:
    async with Client.connect(f"ws://127.0.0.1:{server.port}/ws") as c:
        if role == "manager":
            await c.login_manager()
        elif role is not None:
            token = new_token()
            await server.store.add_token(
                hash_token(token), DeviceToken(role=role, window=None, name=role), server.now().isoformat()
            )
            await c.ok("auth", token=token)
        yield c


async def subscribed(c: Client) -> dict:
    await c.ok("subscribe")
    snapshot = await c.push()
    assert snapshot["type"] == "snapshot"
    return snapshot


async def silent(c: Client, seconds: float) -> None:
    """Nothing at all arrives on ``c`` for ``seconds``."""
    with contextlib.suppress(TimeoutError):
        message = await asyncio.wait_for(c.ws.recv(), seconds)
        raise AssertionError(f"got {message!r} while the batch was pending")


def numbers(snapshot: dict) -> set[str]:
    return {t["number"] for t in snapshot["state"]["tickets"]}


def tickets_in_db(server: HallServer) -> list[tuple[str, str]]:
    with contextlib.closing(sqlite3.connect(db_of(server))) as con:
        return con.execute("SELECT queue, number FROM tickets ORDER BY id").fetchall()


async def test_a_command_that_fails_to_persist_leaves_no_trace(server: HallServer):
    async with (
        connected(server, "kiosk") as kiosk,
        connected(server, "manager") as mgr,
        connected(server) as wall,
    ):
        await kiosk.ok("issue_ticket", queue="P")
        await subscribed(wall)
        sql(server, REFUSE_P)
        refused = await kiosk.request("issue_ticket", queue="P")
        assert (refused["type"], refused["code"]) == ("error", "storage_failed"), refused
        assert "P002" not in str(refused)
        # reads, a fresh snapshot and the database know nothing of it
        gone = await mgr.request("get_ticket", ticket="P002")
        assert (gone["type"], gone["code"]) == ("error", "unknown_ticket"), gone
        async with connected(server) as late:
            assert numbers(await subscribed(late)) == {"P001"}
        assert tickets_in_db(server) == [("P", "P001")]
        # the hall goes on from committed state: the refused number is given again
        sql(server, "DROP TRIGGER refuse_queue_p;")
        assert (await kiosk.ok("issue_ticket", queue="P"))["ticket"]["number"] == "P002"
        pushed = [(e["event"]["type"], e["event"]["data"].get("number")) for e in await wall.events(0.3)]
    assert pushed == [("ticket_issued", "P002")]  # one push, of the committed ticket
    assert tickets_in_db(server) == [("P", "P001"), ("P", "P002")]


async def test_a_read_racing_a_pending_batch_sees_committed_state_only(server: HallServer):
    async with (
        connected(server, "kiosk") as kiosk,
        connected(server, "manager") as mgr,
        connected(server) as wall,
        connected(server) as late,
    ):
        await kiosk.ok("issue_ticket", queue="P")
        await subscribed(wall)
        sql(server, REFUSE_P)
        with write_lock(server):
            issue = await kiosk.send("issue_ticket", queue="P")
            await asyncio.sleep(0.3)  # the writer has applied it and waits for the lock
            read = await mgr.send("get_ticket", ticket="P002")
            await late.send("subscribe")
            listed = await mgr.send("get_ticket", ticket="P001")
            # nothing answers from the pending batch: no reply, no snapshot, no push yet
            for c in (kiosk, mgr, late, wall):
                await silent(c, 0.1)
        # the lock is gone; the commit fails on the trigger
        assert (await kiosk.reply(issue))["code"] == "storage_failed"
        answer = await mgr.reply(read)
        assert (answer["type"], answer["code"]) == ("error", "unknown_ticket"), answer
        assert (await mgr.reply(listed))["ticket"]["number"] == "P001"
        assert numbers(await late.push()) == {"P001"}
        assert await wall.events(0.3) == []

        # the same race with a commit that succeeds: the read waits for it, then sees it
        sql(server, "DROP TRIGGER refuse_queue_p;")
        with write_lock(server):
            issue = await kiosk.send("issue_ticket", queue="P")
            await asyncio.sleep(0.3)
            read = await mgr.send("get_ticket", ticket="P002")
            await silent(mgr, 0.3)
        assert (await kiosk.reply(issue))["ticket"]["number"] == "P002"
        assert (await mgr.reply(read))["ticket"]["number"] == "P002"
