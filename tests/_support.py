"""Shared test support: paths of the test halls and THE protocol client of the tests.

Imported as ``from _support import ...`` (tests/ is on sys.path through its conftest);
a plain module, because ``from conftest import`` would pick whichever conftest came first.

``Client`` is the one websocket client of the test suite (request/reply by id, pushes kept
apart); ``SyncClient`` is the same client for synchronous tests (the browser tests drive
Playwright's sync API): it runs a ``Client`` on a background event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
SMALL_HALL = ROOT / "tests" / "fixtures" / "halls" / "small.toml"
DEMO_HALL = ROOT / "data" / "halls" / "demo.toml"
STAFF_PASSWORD = "test-pass"  # every account of small.toml

T = TypeVar("T")


class Client:
    """A small protocol client for tests: request/reply by id, pushes kept apart.

    Ids count up from 1 unless the caller gives its own (``rid=``). ``reply`` skips replies
    to other ids (e.g. of a raw send) and keeps pushes in ``pushes``."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._next = 0
        self.pushes: list[dict] = []

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, url: str, **kwargs: Any) -> AsyncIterator[Client]:
        async with connect(url, **kwargs) as ws:
            yield cls(ws)

    async def send(self, type_: str, *, rid: Any = None, **fields: Any) -> Any:
        if rid is None:
            self._next += 1
            rid = self._next
        await self.ws.send(json.dumps({"id": rid, "type": type_, **fields}, ensure_ascii=False))
        return rid

    async def send_raw(self, message: Any) -> None:
        """Anything, as it is: a str or bytes frame, or an object as JSON."""
        await self.ws.send(
            message if isinstance(message, (str, bytes)) else json.dumps(message, ensure_ascii=False)
        )

    async def reply(self, rid: Any = ..., timeout: float = 10.0) -> dict:
        """The reply to ``rid`` (default: the next reply, whatever its id)."""
        while True:
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if "re" not in msg:
                self.pushes.append(msg)
            elif rid is ... or msg["re"] == rid:
                return msg

    async def request(self, type_: str, *, rid: Any = None, timeout: float = 10.0, **fields: Any) -> dict:
        return await self.reply(await self.send(type_, rid=rid, **fields), timeout)

    async def ok(self, type_: str, **fields: Any) -> dict:
        msg = await self.request(type_, **fields)
        assert msg["type"] == "ok", msg
        return msg

    async def login_manager(self) -> Client:
        await self.ok("login", username="manager", password=STAFF_PASSWORD)
        return self

    async def push(self, timeout: float = 5.0) -> dict:
        """The next push (replies that arrive meanwhile are dropped)."""
        if self.pushes:
            return self.pushes.pop(0)
        while True:
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if "re" not in msg:
                return msg

    async def drain(self, quiet: float = 0.15) -> list[dict]:
        """Every push received until the connection stays quiet for ``quiet`` seconds."""
        out, self.pushes = self.pushes, []
        while True:
            try:
                msg = json.loads(await asyncio.wait_for(self.ws.recv(), quiet))
            except TimeoutError:
                return out
            if "re" not in msg:
                out.append(msg)

    async def events(self, quiet: float = 0.15) -> list[dict]:
        """The ``event`` pushes among ``drain(quiet)``."""
        return [m for m in await self.drain(quiet) if m["type"] == "event"]


# ---------------------------------------------------------------------- the same, synchronously

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _background_loop() -> asyncio.AbstractEventLoop:
    """One event loop in a daemon thread, for every SyncClient of the process."""
    global _loop
    with _loop_lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="test-clients", daemon=True).start()
        return _loop


class SyncClient:
    """``Client`` for synchronous code: each call runs on the background loop and waits."""

    def __init__(self, url: str, *, open_timeout: float = 5.0) -> None:
        self._loop = _background_loop()

        async def _open() -> ClientConnection:
            return await connect(url, open_timeout=open_timeout)

        self.client = Client(self._run(_open()))

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @property
    def pushes(self) -> list[dict]:
        return self.client.pushes

    def send(self, type_: str, **fields: Any) -> Any:
        return self._run(self.client.send(type_, **fields))

    def reply(self, rid: Any = ..., timeout: float = 5.0) -> dict:
        return self._run(self.client.reply(rid, timeout))

    def request(self, type_: str, **fields: Any) -> dict:
        return self._run(self.client.request(type_, **fields))

    def ok(self, type_: str, **fields: Any) -> dict:
        return self._run(self.client.ok(type_, **fields))

    def login_manager(self) -> SyncClient:
        self._run(self.client.login_manager())
        return self

    def drain(self, quiet: float = 0.15) -> list[dict]:
        return self._run(self.client.drain(quiet))

    def events(self, quiet: float = 0.15) -> list[dict]:
        return self._run(self.client.events(quiet))

    def close(self) -> None:
        self._run(self.client.ws.close())
