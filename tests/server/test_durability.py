"""What was acknowledged survives ``kill -9``: the real ``hallops serve`` in a subprocess, killed
mid-stream and restarted on the same database, on both backends (a SQLite file, PostgreSQL). And the store's own guarantees: schema version,
idempotent migrations, an append-only event log, refusal of a newer schema."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from websockets.exceptions import ConnectionClosed

from queue_server.hall.events import Event, TicketCheckedIn
from queue_server.store import SqliteStore
from queue_server.store.base import Batch
from queue_server.store.schema import SCHEMA_VERSION
from queue_server.store.sqlite import SchemaTooNew

from _backends import Backend
from _support import SMALL_HALL, Client

ROOT = Path(__file__).resolve().parents[2]
SENDERS = {"A": 3, "P": 3}  # concurrent kiosk connections per queue


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hallops(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "queue_server.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def healthz(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
            return json.loads(resp.read())
    except OSError:
        return None


@contextlib.contextmanager
def serving(db: str, port: int, log: Path) -> Iterator[subprocess.Popen]:
    """``hallops serve`` in a subprocess, ready (``/healthz`` answers) when the block starts."""
    with open(log, "ab") as err:
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
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 20
        while healthz(port) is None:
            if proc.poll() is not None:
                pytest.fail(f"hallops serve exited with {proc.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"hallops serve did not answer /healthz:\n{log.read_text()}")
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


async def stream(
    port: int, token: str, queue: str, acked: list[tuple[str, str]], in_flight: dict[int, bool], key: int
) -> None:
    """Issue tickets one after another until the server goes away."""
    async with Client.connect(f"ws://127.0.0.1:{port}/ws") as ws:
        assert (await ws.request("auth", rid=0, token=token))["type"] == "ok"
        rid = 0
        with contextlib.suppress(ConnectionClosed):
            while True:
                rid += 1
                in_flight[key] = True
                reply = await ws.request("issue_ticket", rid=rid, queue=queue)
                assert reply["type"] == "ok", reply
                acked.append((queue, reply["ticket"]["number"]))
                in_flight[key] = False


def tickets_in(backend: Backend) -> dict[str, list[int]]:
    rows = backend.rows("SELECT queue, seq, number FROM tickets")
    out: dict[str, list[int]] = {}
    for queue, seq, number in rows:
        assert number == f"{queue}{seq:03d}"
        out.setdefault(queue, []).append(seq)
    return {q: sorted(s) for q, s in out.items()}


@pytest.mark.parametrize("after_acks", [1, 40, 150], ids=["early", "middle", "late"])
async def test_acknowledged_tickets_survive_kill_9(tmp_path, after_acks, backend: Backend):
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    db, log, port = backend.db, tmp_path / "serve.log", free_port()
    minted = hallops("token", "--config", str(SMALL_HALL), "--db", db, "--role", "kiosk")
    assert minted.returncode == 0, minted.stderr
    token = minted.stdout.strip()

    acked: list[tuple[str, str]] = []
    in_flight: dict[int, bool] = {}
    with serving(db, port, log) as proc:
        senders = [
            asyncio.create_task(stream(port, token, q, acked, in_flight, k))
            for k, q in enumerate(q for q, n in SENDERS.items() for _ in range(n))
        ]
        while len(acked) < after_acks:
            await asyncio.sleep(0.001)
            assert not any(t.done() and t.exception() for t in senders), [
                t.exception() for t in senders if t.done()
            ]
        await asyncio.sleep(rng.uniform(0, 0.03))
        os.kill(proc.pid, signal.SIGKILL)
        await asyncio.wait_for(asyncio.gather(*senders), 20)
        assert proc.wait(10) == -signal.SIGKILL
    context = f"seed {seed}, killed after {len(acked)} acknowledged tickets"
    unacknowledged_at_kill = sum(in_flight.values())

    # on disk: every acknowledged number; numbers 1..N per queue without a gap; at most the
    # requests in flight at the kill committed without their reply
    on_disk = tickets_in(backend)
    acked_seqs = {q: sorted(int(n[1:]) for qq, n in acked if qq == q) for q in SENDERS}
    for queue, seqs in acked_seqs.items():
        stored = on_disk.get(queue, [])
        assert set(seqs) <= set(stored), (
            f"{queue}: acknowledged but lost {set(seqs) - set(stored)} ({context})"
        )
        assert stored == list(range(1, len(stored) + 1)), f"{queue}: gap or duplicate in {stored} ({context})"
    extra = sum(len(on_disk.get(q, [])) - len(s) for q, s in acked_seqs.items())
    assert 0 <= extra <= unacknowledged_at_kill, context
    issued_events = backend.rows("SELECT COUNT(*) FROM events WHERE type = 'ticket_issued'")[0][0]
    last_seq = dict(backend.rows("SELECT queue, last_seq FROM ticket_numbers"))  # type: ignore[arg-type]
    assert issued_events == sum(len(s) for s in on_disk.values()), "tickets and their events commit together"
    assert last_seq == {q: len(s) for q, s in on_disk.items()}

    # restarted on the same database: the same tickets, and numbering goes on
    with serving(db, port, log):
        async with Client.connect(f"ws://127.0.0.1:{port}/ws") as ws:
            assert (await ws.request("auth", rid=1, token=token))["type"] == "ok"
            assert (await ws.request("subscribe", rid=2))["type"] == "ok"
            snapshot = await ws.push()
            assert snapshot["type"] == "snapshot", snapshot
            in_snapshot = {(t["queue"], t["number"]) for t in snapshot["state"]["tickets"]}
            assert set(acked) <= in_snapshot, context
            after = []
            for n in range(3, 13):
                queue = "A" if n % 2 else "P"
                reply = await ws.request("issue_ticket", rid=n, queue=queue)
                assert reply["type"] == "ok", reply
                after.append((queue, int(reply["ticket"]["number"][1:])))
    for queue in SENDERS:
        new = [s for q, s in after if q == queue]
        before = len(on_disk.get(queue, []))
        assert new == list(range(before + 1, before + 1 + len(new))), context
    final = tickets_in(backend)
    for queue, seqs in final.items():
        assert seqs == list(range(1, len(seqs) + 1)), f"{queue}: {seqs} ({context})"


# ---------------------------------------------------------------------- the store itself


def _event(n: int) -> Event:
    return TicketCheckedIn(
        at=datetime.now(ZoneInfo("Asia/Shanghai")), actor="system:test", ticket=f"20261123-A{n:03d}"
    )


def _schema(db: Path) -> tuple[int, list[tuple[str, str]]]:
    with contextlib.closing(sqlite3.connect(db)) as con:
        version = con.execute("PRAGMA user_version").fetchone()[0]
        objects = con.execute("SELECT type, name FROM sqlite_master ORDER BY type, name").fetchall()
    return version, objects


async def test_the_schema_version_is_recorded(tmp_path):
    store = SqliteStore(tmp_path / "hall.db")
    await store.open()
    await store.close()
    version, objects = _schema(tmp_path / "hall.db")
    assert version == SCHEMA_VERSION >= 1
    assert {
        ("table", "events"),
        ("table", "tickets"),
        ("trigger", "events_append_only_update"),
        ("trigger", "events_append_only_delete"),
    } <= set(objects)


async def test_migrations_are_idempotent(tmp_path):
    db = tmp_path / "hall.db"
    store = SqliteStore(db)
    await store.open()
    await store.commit(Batch(events=[_event(1)]))
    await store.close()
    first = _schema(db)
    store = SqliteStore(db)
    await store.open()  # a second time on the same file
    assert await store.migrate() == SCHEMA_VERSION  # and once more while open
    await store.commit(Batch(events=[_event(2)]))
    await store.close()
    assert _schema(db) == first
    with contextlib.closing(sqlite3.connect(db)) as con:
        assert con.execute("SELECT ticket FROM events ORDER BY id").fetchall() == [
            ("20261123-A001",),
            ("20261123-A002",),
        ]


async def test_the_event_log_is_append_only(tmp_path):
    db = tmp_path / "hall.db"
    store = SqliteStore(db)
    await store.open()
    await store.commit(Batch(events=[_event(1), _event(2)]))
    await store.close()
    with contextlib.closing(sqlite3.connect(db)) as con:
        for sql in (
            "UPDATE events SET type = 'ticket_cancelled' WHERE id = 1",
            "UPDATE events SET data = '{}'",
            "DELETE FROM events WHERE id = 2",
            "DELETE FROM events",
        ):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                con.execute(sql)
        con.rollback()
        con.execute(
            "INSERT INTO events (type, at, ts, service_date, actor, data)"
            " VALUES ('day_started', 'x', 0, '2026-11-23', 'system:hall', '{}')"
        )
        con.commit()
        assert con.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 3
        assert con.execute("SELECT type FROM events WHERE id = 1").fetchone()[0] == "ticket_checked_in"


async def test_a_database_with_a_newer_schema_is_refused(tmp_path):
    db = tmp_path / "hall.db"
    with contextlib.closing(sqlite3.connect(db)) as con:
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        con.commit()
    store = SqliteStore(db)
    try:
        with pytest.raises(SchemaTooNew) as exc_info:
            await store.open()
    finally:
        await store.close()
    message = str(exc_info.value)
    assert str(db) in message
    assert f"schema version {SCHEMA_VERSION + 1}" in message and str(SCHEMA_VERSION) in message
    assert _schema(db) == (SCHEMA_VERSION + 1, [])  # left untouched
