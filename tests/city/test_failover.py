"""Primary and standby hall servers on one PostgreSQL database, as real processes: a second
server without ``--standby`` exits with a clear message; with it, it waits, and when the
primary is killed (kill -9) mid-stream it serves within 5 s from the committed state, with
every acknowledged ticket present and no ticket number reused."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from city_support import HALL, ROOT, free_port, healthz
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from queue_server.server.auth import hash_token, new_token
from queue_server.store.base import DeviceToken
from queue_server.store.postgres import PostgresStore

from _support import SMALL_HALL


def start_server(db: str, port: int, log: Path, *extra: str) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "queue_server.cli",
                "serve",
                "--config",
                str(SMALL_HALL),
                "--db",
                db,
                "--port",
                str(port),
                *extra,
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_healthy(proc: subprocess.Popen, port: int, log: Path, timeout: float = 20) -> float:
    t0 = time.monotonic()
    while healthz(port) is None:
        if proc.poll() is not None:
            pytest.fail(f"the hall server exited with {proc.returncode}:\n{log.read_text()}")
        if time.monotonic() - t0 > timeout:
            pytest.fail(f"the hall server did not answer /healthz in {timeout} s:\n{log.read_text()}")
        time.sleep(0.02)
    return time.monotonic() - t0


@contextlib.contextmanager
def stopped_at_end(*procs: subprocess.Popen) -> Iterator[None]:
    try:
        yield
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


async def mint(pg_url: str, role: str) -> str:
    store = PostgresStore(pg_url, hall=HALL, writer=False)
    await store.open()
    try:
        token = new_token()
        await store.add_token(
            hash_token(token),
            DeviceToken(role=role, window=None, name=f"{role}-1"),
            datetime.now().astimezone().isoformat(),
        )
        return token
    finally:
        await store.close()


async def request(ws, rid, type_: str, **fields) -> dict:
    await ws.send(json.dumps({"id": rid, "type": type_, **fields}))
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if msg.get("re") == rid:
            return msg


async def stream(port: int, token: str, queue: str, acked: list, in_flight: dict, key: int) -> None:
    async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
        assert (await request(ws, 0, "auth", token=token))["type"] == "ok"
        rid = 0
        with contextlib.suppress(ConnectionClosed):
            while True:
                rid += 1
                in_flight[key] = True
                reply = await request(ws, rid, "issue_ticket", queue=queue)
                assert reply["type"] == "ok", reply
                acked.append((queue, reply["ticket"]["number"]))
                in_flight[key] = False


def tickets_in(pg_url: str) -> dict[str, list[int]]:
    with psycopg.connect(pg_url) as con:
        rows = con.execute("SELECT queue, seq, number FROM tickets WHERE hall = %s", (HALL,)).fetchall()
    out: dict[str, list[int]] = {}
    for queue, seq, number in rows:
        assert number == f"{queue}{seq:03d}"
        out.setdefault(queue, []).append(seq)
    return {q: sorted(s) for q, s in out.items()}


def test_a_second_server_for_a_hall_exits_with_a_clear_message(tmp_path: Path, pg_url: str) -> None:
    log = tmp_path / "serve.log"
    primary = start_server(pg_url, free_port(), log)
    with stopped_at_end(primary):
        wait_healthy(primary, int(primary.args[primary.args.index("--port") + 1]), log)
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "queue_server.cli",
                "serve",
                "--config",
                str(SMALL_HALL),
                "--db",
                pg_url,
                "--port",
                str(free_port()),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert second.returncode == 1
    assert f"hall {HALL} is already served by another hallops serve" in second.stderr
    assert "--standby" in second.stderr and "Traceback" not in second.stderr


async def test_kill_9_of_the_primary_hands_over_to_the_standby_within_5_s(
    tmp_path: Path, pg_url: str
) -> None:
    token = await mint(pg_url, "kiosk")
    p1, p2 = free_port(), free_port()
    log1, log2 = tmp_path / "primary.log", tmp_path / "standby.log"
    primary = start_server(pg_url, p1, log1)
    standby = None
    with stopped_at_end(primary):
        wait_healthy(primary, p1, log1)
        standby = start_server(pg_url, p2, log2, "--standby")
        with stopped_at_end(standby):
            deadline = time.monotonic() + 15
            while "standby, waiting" not in log2.read_text():
                assert standby.poll() is None and time.monotonic() < deadline, log2.read_text()
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            assert healthz(p2) is None, "a standby does not serve while the primary lives"

            acked: list[tuple[str, str]] = []
            in_flight: dict[int, bool] = {}
            senders = [
                asyncio.create_task(stream(p1, token, q, acked, in_flight, k))
                for k, q in enumerate(["A", "A", "P", "P"])
            ]
            while len(acked) < 60:
                await asyncio.sleep(0.001)
                assert not any(t.done() and t.exception() for t in senders), [t.exception() for t in senders]
            os.kill(primary.pid, signal.SIGKILL)
            killed_at = time.monotonic()
            await asyncio.wait_for(asyncio.gather(*senders), 20)
            assert primary.wait(10) == -signal.SIGKILL

            while healthz(p2) is None:  # the standby takes the lock, loads, listens
                assert standby.poll() is None, log2.read_text()
                assert time.monotonic() - killed_at < 5, "the standby did not serve within 5 s"
                await asyncio.sleep(0.02)
            took_over_s = time.monotonic() - killed_at
            print(f"standby served {took_over_s:.2f} s after the kill")
            health = healthz(p2)
            assert health and health["database"]["role"] == "primary", health
            unacknowledged_at_kill = sum(in_flight.values())

            on_disk = tickets_in(pg_url)
            context = f"killed after {len(acked)} acks; standby served after {took_over_s:.2f} s"
            for queue in ("A", "P"):
                seqs = sorted(int(n[1:]) for q, n in acked if q == queue)
                stored = on_disk.get(queue, [])
                assert set(seqs) <= set(stored), f"{queue}: acknowledged but lost ({context})"
                assert stored == list(range(1, len(stored) + 1)), f"{queue}: gap or duplicate ({context})"
            extra = sum(len(s) for s in on_disk.values()) - len(acked)
            assert 0 <= extra <= unacknowledged_at_kill, context

            async with connect(f"ws://127.0.0.1:{p2}/ws") as ws:
                assert (await request(ws, 1, "auth", token=token))["type"] == "ok"
                await ws.send(json.dumps({"id": 2, "type": "subscribe"}))
                snapshot = next(
                    m for m in [json.loads(await ws.recv()) for _ in range(2)] if m.get("type") == "snapshot"
                )
                assert set(acked) <= {(t["queue"], t["number"]) for t in snapshot["state"]["tickets"]}, (
                    context
                )
                for rid, queue in enumerate(["A", "P", "A", "P"], start=3):
                    reply = await request(ws, rid, "issue_ticket", queue=queue)
                    assert reply["type"] == "ok", reply
            after = tickets_in(pg_url)
            for queue, seqs in after.items():
                assert seqs == list(range(1, len(seqs) + 1)), f"{queue}: number reused or skipped ({context})"
                assert len(seqs) == len(on_disk.get(queue, [])) + 2, context


async def test_a_primary_whose_lock_session_ends_stops_with_status_3(tmp_path: Path, pg_url: str) -> None:
    """It may no longer write: it says so and exits, so its devices move to the standby."""
    port, log = free_port(), tmp_path / "serve.log"
    primary = start_server(pg_url, port, log)
    with stopped_at_end(primary):
        wait_healthy(primary, port, log)
        async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as admin:
            cur = await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            )
            assert await cur.fetchall() == [(True,)]
        deadline = time.monotonic() + 5
        while primary.poll() is None:
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.05)
    assert primary.returncode == 3
    assert "lost the connection holding the hall lock" in log.read_text()
