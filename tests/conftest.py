"""Fixtures shared across the suite: the small test hall and a real server on a free port."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from websockets.asyncio.client import ClientConnection, connect

from queue_server.config_file import load_hall_config
from queue_server.hall.config import HallConfig
from queue_server.server.app import HallServer
from queue_server.store import SqliteStore

ROOT = Path(__file__).resolve().parents[1]
SMALL_HALL = ROOT / "tests" / "fixtures" / "halls" / "small.toml"
DEMO_HALL = ROOT / "data" / "halls" / "demo.toml"
STAFF_PASSWORD = "test-pass"  # every account of small.toml


@pytest.fixture
def small_config() -> HallConfig:
    return load_hall_config(SMALL_HALL)


@pytest_asyncio.fixture
async def server(tmp_path: Path, small_config: HallConfig) -> AsyncIterator[HallServer]:
    """A real HallServer on a free port with a real SQLite file in tmp_path."""
    srv = HallServer(small_config, SqliteStore(tmp_path / "hall.db"), host="127.0.0.1", port=0)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


class Client:
    """A small protocol client for tests: request/reply by id, pushes kept apart."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._next = 0
        self.pushes: list[dict] = []

    async def request(self, type_: str, **fields) -> dict:
        self._next += 1
        rid = self._next
        await self.ws.send(json.dumps({"id": rid, "type": type_, **fields}, ensure_ascii=False))
        return await self.reply(rid)

    async def reply(self, rid) -> dict:
        while True:
            msg = json.loads(await self.ws.recv())
            if msg.get("re") == rid and "re" in msg:
                return msg
            if "re" in msg:
                continue  # reply to an earlier raw send
            self.pushes.append(msg)

    async def push(self, timeout: float = 5.0) -> dict:
        import asyncio

        if self.pushes:
            return self.pushes.pop(0)
        msg = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        while "re" in msg:
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        return msg


@pytest.fixture
def connect_client(server: HallServer):
    """``async with connect_client() as c:`` gives a Client connected to ``server``."""
    import contextlib

    @contextlib.asynccontextmanager
    async def _connect(**kwargs):
        async with connect(f"ws://127.0.0.1:{server.port}/ws", **kwargs) as ws:
            yield Client(ws)

    return _connect
