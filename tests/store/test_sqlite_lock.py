"""One writer per database (finding 2 of issue 11): the real ``hallops serve`` in subprocesses
on one SQLite file; a second server exits at once naming the first, ``kill -9`` frees the
lock, and ``hallops token`` works while the server runs."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from queue_server.store.sqlite import DatabaseLocked, SqliteStore

from _support import SMALL_HALL, Client

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthz(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
            return json.loads(resp.read())
    except OSError:
        return None


def hallops(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "queue_server.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextlib.contextmanager
def serving(db: Path, port: int) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "queue_server.cli",
            "serve",
            "--config",
            str(SMALL_HALL),
            "--db",
            str(db),
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while healthz(port) is None:
            if proc.poll() is not None:
                pytest.fail(f"hallops serve exited with {proc.returncode}: {proc.stderr.read()}")  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "hallops serve did not answer /healthz"
            time.sleep(0.05)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_a_second_server_on_the_same_database_exits_at_once_naming_the_first(tmp_path: Path) -> None:
    db = tmp_path / "hall.db"
    with serving(db, free_port()) as first:
        started = time.monotonic()
        second = hallops("serve", "--config", str(SMALL_HALL), "--db", str(db), "--port", str(free_port()))
        assert second.returncode == 1
        assert time.monotonic() - started < 15
        assert "in use by another HallOps server" in second.stderr
        assert f"pid {first.pid} on {socket.gethostname()}" in second.stderr
        assert first.poll() is None  # the first one runs on


def test_kill_9_releases_the_lock(tmp_path: Path) -> None:
    db = tmp_path / "hall.db"
    with serving(db, free_port()) as first:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    with serving(db, free_port()) as again:  # no stale lock: the kernel dropped it
        assert again.poll() is None


async def test_hallops_token_works_while_the_server_runs(tmp_path: Path) -> None:
    db = tmp_path / "hall.db"
    port = free_port()
    with serving(db, port):
        minted = hallops("token", "--config", str(SMALL_HALL), "--db", str(db), "--role", "kiosk")
        assert minted.returncode == 0, minted.stderr
        async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
            cl = Client(ws)
            assert (await cl.request("auth", token=minted.stdout.strip()))["role"] == "kiosk"
            assert (await cl.request("issue_ticket", queue="A"))["type"] == "ok"  # the server writes on


async def test_a_second_writer_store_is_refused_in_process_too(tmp_path: Path) -> None:
    first = SqliteStore(tmp_path / "hall.db")
    await first.open()
    try:
        second = SqliteStore(tmp_path / "hall.db")
        with pytest.raises(DatabaseLocked, match=f"pid {os.getpid()}"):
            await second.open()
        tokens = SqliteStore(tmp_path / "hall.db", writer=False)  # the token writer needs no hall lock
        await tokens.open()
        with pytest.raises(RuntimeError, match="does not commit"):
            from queue_server.store.base import Batch

            await tokens.commit(Batch())
        await tokens.close()
    finally:
        await first.close()
    again = SqliteStore(tmp_path / "hall.db")
    await again.open()  # released by close
    await again.close()
