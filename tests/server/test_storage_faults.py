"""Storage faults are loud (finding 7 of issue 11): with the database's folder deleted, or the
disk full (SQLite's ``max_page_count``), commands are refused with ``storage_failed``, nothing
is acknowledged, ``/healthz`` answers 503, and reads still come from committed state."""

from __future__ import annotations

import asyncio
import json
import shutil
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from websockets.asyncio.client import connect

from queue_server.hall.config import HallConfig
from queue_server.server.app import HallServer
from queue_server.server.auth import hash_token, new_token
from queue_server.store import SqliteStore
from queue_server.store.base import DeviceToken

from _support import Client


@pytest_asyncio.fixture
async def hall(tmp_path: Path, small_config: HallConfig) -> AsyncIterator[HallServer]:
    srv = HallServer(small_config, SqliteStore(tmp_path / "var" / "hall.db"), host="127.0.0.1", port=0)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


def healthz(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


async def _kiosk(srv: HallServer, ws) -> Client:
    token = new_token()
    await srv.store.add_token(
        hash_token(token), DeviceToken(role="kiosk", window=None, name="kiosk-1"), srv.now().isoformat()
    )
    cl = Client(ws)
    assert (await cl.request("auth", token=token))["type"] == "ok"
    return cl


async def _issued(srv: HallServer) -> int:
    assert srv.hall is not None
    return len(srv.hall.tickets)


async def test_the_databases_folder_deleted_refuses_commands_and_healthz_says_503(
    hall: HallServer, tmp_path: Path
) -> None:
    async with connect(f"ws://127.0.0.1:{hall.port}/ws") as ws:
        kiosk = await _kiosk(hall, ws)
        first = await kiosk.request("issue_ticket", queue="A")
        assert first["type"] == "ok"
        assert (await asyncio.to_thread(healthz, hall.port))[0] == 200
        shutil.rmtree(tmp_path / "var")
        before = await _issued(hall)
        refused = await kiosk.request("issue_ticket", queue="A")
        assert refused["type"] == "error" and refused["code"] == "storage_failed", refused
        assert await _issued(hall) == before  # nothing of it kept in memory either
        status, body = await asyncio.to_thread(healthz, hall.port)
        assert status == 503 and body["status"] == "degraded" and "gone" in body["database"]["error"]
        await kiosk.ws.send(json.dumps({"id": "s", "type": "subscribe"}))  # reads: committed state
        snap = await kiosk.push()
        assert snap["type"] == "snapshot"
        assert [t["number"] for t in snap["state"]["tickets"]] == [first["ticket"]["number"]]
        assert (await kiosk.request("ping"))["type"] == "ok"


async def test_a_full_disk_refuses_commands_until_there_is_room_again(hall: HallServer) -> None:
    db = hall.store.db  # type: ignore[attr-defined]
    async with db.execute("PRAGMA page_count") as cur:
        pages = (await cur.fetchone())[0]
    await db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full
    async with connect(f"ws://127.0.0.1:{hall.port}/ws") as ws:
        kiosk = await _kiosk(hall, ws)
        codes = [
            (await kiosk.request("issue_ticket", queue="A", applicant={"name": "张" * 60})).get("code")
            for _ in range(30)
        ]
        assert "storage_failed" in codes and codes[-1] == "storage_failed"
        kept = await _issued(hall)
        assert (await asyncio.to_thread(healthz, hall.port))[0] == 503
        await db.execute(f"PRAGMA max_page_count = {pages * 1000}")  # room again
        assert (await kiosk.request("issue_ticket", queue="A"))["type"] == "ok"
        assert await _issued(hall) == kept + 1
        assert (await asyncio.to_thread(healthz, hall.port))[0] == 200
