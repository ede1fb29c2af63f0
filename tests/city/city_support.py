"""Helpers of the city tests (a plain module: ``from conftest import`` would pick whichever
conftest came first)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from queue_server.city.nats_fanout import NatsFanout
from queue_server.config_file import load_hall_config
from queue_server.server.app import HallServer
from queue_server.store import SqliteStore

from _support import SMALL_HALL, STAFF_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
HALL = "small-test"  # the code of tests/fixtures/halls/small.toml


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen | None = None, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s")


def healthz(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
            return json.loads(resp.read())
    except OSError:
        return None


@contextlib.contextmanager
def gateway(nats_url: str, log: Path):
    port = free_port()
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "queue_server.cli", "gateway", "--nats", nats_url, "--port", str(port)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while healthz(port) is None:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)


@contextlib.asynccontextmanager
async def hall_server(
    tmp_path: Path, nats_url: str, *, require_display_token: bool = False
) -> AsyncIterator[HallServer]:
    fanout = NatsFanout(nats_url, HALL)
    config = dataclasses.replace(load_hall_config(SMALL_HALL), require_display_token=require_display_token)
    server = HallServer(
        config, SqliteStore(tmp_path / "hall.db", synchronous="NORMAL"), port=0, fanout=fanout
    )
    await server.start()
    await fanout.start(server)
    try:
        yield server
    finally:
        await fanout.close()
        await server.stop()


class Desk:
    """Window 1's staff: issues a ticket, calls it, serves it."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.rid = 0
        self.called: list[str] = []

    async def request(self, type_: str, **fields: Any) -> dict:
        self.rid += 1
        await self.ws.send(json.dumps({"id": self.rid, "type": type_, **fields}))
        while True:
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
            if msg.get("re") == self.rid:
                assert msg["type"] == "ok", msg
                return msg

    async def call_one(self) -> None:
        await self.request("issue_ticket", queue="A")
        reply = await self.request("call_next", window=1)
        self.called.append(reply["ticket"]["id"])
        await self.request("start_service", window=1)
        await self.request("finish_service", window=1)


@contextlib.asynccontextmanager
async def desk(server: HallServer) -> AsyncIterator[Desk]:
    async with connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
        d = Desk(ws)
        await d.request("login", username="w1", password=STAFF_PASSWORD, window=1)
        assert server.hall is not None
        if server.hall.windows[1].state.value != "open":  # a restarted hall: still open
            await d.request("open_window", window=1)
        yield d
