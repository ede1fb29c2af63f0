"""Shared test support: paths of the test halls and a small protocol client.

Imported as ``from _support import ...`` (tests/ is on sys.path through its conftest);
a plain module, because ``from conftest import`` would pick whichever conftest came first.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from websockets.asyncio.client import ClientConnection

ROOT = Path(__file__).resolve().parents[1]
SMALL_HALL = ROOT / "tests" / "fixtures" / "halls" / "small.toml"
DEMO_HALL = ROOT / "data" / "halls" / "demo.toml"
STAFF_PASSWORD = "test-pass"  # every account of small.toml


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
        if self.pushes:
            return self.pushes.pop(0)
        msg = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        while "re" in msg:
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        return msg
