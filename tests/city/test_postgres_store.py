"""The PostgreSQL store against a real PostgreSQL: the same rows as SQLite for the same
batches, halls kept apart in one database, one writer per hall (refused or standby), the
event log append-only, the schema versioned."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from queue_server.calendar_data import load_calendar
from queue_server.config_file import load_hall_config
from queue_server.hall.events import Event, TicketCancelled
from queue_server.sim.behaviour.profile import default_profile
from queue_server.sim.engine import simulate
from queue_server.sim.plan import DEFAULT_PLAN
from queue_server.store.base import Batch, DeviceToken, LoadedState
from queue_server.store.open import store_for
from queue_server.store.postgres import HallLocked, LockLost, PostgresStore
from queue_server.store.postgres_schema import SCHEMA_VERSION
from queue_server.store.sqlite import SchemaTooNew, SqliteStore

from _support import DEMO_HALL

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 11, 23)


def _event(n: int, ticket: str = "A") -> Event:
    return TicketCancelled(
        at=datetime(2026, 11, 23, 9, n % 60, tzinfo=TZ),
        actor="system:test",
        ticket=f"20261123-{ticket}{n:03d}",
        number=f"{ticket}{n:03d}",
        queue=ticket,
        reason=f"名 张*丰 {n}",
    )


def _ticket(n: int, queue: str = "A") -> dict[str, Any]:
    at = datetime(2026, 11, 23, 9, n % 60, tzinfo=TZ).isoformat()
    return {
        "id": f"20261123-{queue}{n:03d}",
        "number": f"{queue}{n:03d}",
        "queue": queue,
        "service_date": "2026-11-23",
        "seq": n,
        "channel": "kiosk",
        "priority": "normal",
        "state": "waiting",
        "issued_at": at,
        "arrived_at": at,
        "status_token": f"tok-{queue}-{n}",
        "appointment_slot": None,
        "checked_in": 1,
        "called_at": None,
        "served_at": None,
        "finished_at": None,
        "window": None,
        "target_window": None,
        "recalls": 0,
        "transfers": 0,
        "served_by": None,
        "estimated_wait_s": 60.0 * n,
        "applicant_name": "",
        "applicant_phone": "",
        "applicant_id": "",
        "note": "",
    }


def normalised(s: LoadedState) -> dict[str, Any]:
    """A LoadedState with its lists in key order (the stores may list rows in another order)."""
    return {
        "service_date": s.service_date,
        "tickets": sorted(s.tickets, key=lambda r: r["id"]),
        "windows": sorted(s.windows, key=lambda r: r["number"]),
        "numbers": s.numbers,
        "service_times": s.service_times,
        "cases": sorted(s.cases, key=lambda r: r["receipt_no"]),
        "case_numbers": s.case_numbers,
        "ratings": sorted(s.ratings, key=lambda r: r["id"]),
        "rectifications": sorted(s.rectifications, key=lambda r: r["id"]),
        "last_rating_id": s.last_rating_id,
        "last_rectification_id": s.last_rectification_id,
    }


class BothStores:
    """Writes every batch to a SQLite and a PostgreSQL store; reads from SQLite."""

    def __init__(self, sqlite: SqliteStore, pg: PostgresStore) -> None:
        self.sqlite, self.pg = sqlite, pg
        self.commits = 0

    async def load(self) -> LoadedState:
        return await self.sqlite.load()

    async def commit(self, batch: Batch) -> list[int]:
        ids = await self.sqlite.commit(batch)
        pg_ids = await self.pg.commit(batch)
        assert len(pg_ids) == len(ids) == len(batch.events)
        assert pg_ids == sorted(pg_ids) and len(set(pg_ids)) == len(pg_ids)
        self.commits += 1
        return ids


async def test_a_simulated_day_and_a_half_loads_the_same_as_from_sqlite(tmp_path: Path, pg_url: str) -> None:
    config = load_hall_config(DEMO_HALL)
    sqlite = SqliteStore(tmp_path / "hall.db", synchronous="OFF")
    pg = PostgresStore(pg_url, hall=config.code)
    await sqlite.open()
    await pg.open()
    try:
        both = BothStores(sqlite, pg)
        result = await simulate(
            config,
            both,
            start=MONDAY,
            days=2,
            seed=3,
            profile=default_profile(config),  # type: ignore[arg-type]
            plan=DEFAULT_PLAN,
            calendar=load_calendar(),
            batch_minutes=5,
        )
        assert result.events > 1000 and both.commits > 50
        from_sqlite, from_pg = await sqlite.load(), await pg.load()
        assert from_pg.tickets and from_pg.windows and from_pg.numbers and from_pg.service_times
        assert from_pg.ratings or from_pg.cases, "the simulated days exercise cases or ratings"
        assert normalised(from_pg) == normalised(from_sqlite)
        assert from_pg.last_event_id >= from_sqlite.last_event_id == result.events
        with psycopg.connect(pg_url) as con:
            pg_events = con.execute(
                'SELECT type, at, actor, ticket, "window", data FROM events WHERE hall = %s ORDER BY id',
                (config.code,),
            ).fetchall()
        import json
        import sqlite3

        with sqlite3.connect(tmp_path / "hall.db") as con:
            lite_events = [
                (t, a, ac, tk, w, json.loads(d))
                for t, a, ac, tk, w, d in con.execute(
                    "SELECT type, at, actor, ticket, window, data FROM events ORDER BY id"
                )
            ]
        assert pg_events == lite_events
    finally:
        await pg.close()
        await sqlite.close()


async def test_two_halls_in_one_database_stay_apart(pg_url: str) -> None:
    a, b = PostgresStore(pg_url, hall="hall-a"), PostgresStore(pg_url, hall="hall-b")
    await a.open()
    await b.open()  # another hall: its own lock
    try:
        await a.commit(
            Batch(
                events=[_event(1), _event(2)],
                tickets=[_ticket(1), _ticket(2)],
                numbers=[(MONDAY, "A", 2)],
                service_date=MONDAY,
            )
        )
        await b.commit(
            Batch(
                events=[_event(1, "B")],
                tickets=[_ticket(1, "A") | {"status_token": "tok-b"}],
                numbers=[(MONDAY, "A", 1)],
                service_date=MONDAY,
            )
        )
        la, lb = await a.load(), await b.load()
        assert [t["id"] for t in la.tickets] == ["20261123-A001", "20261123-A002"]
        assert [(t["id"], t["status_token"]) for t in lb.tickets] == [("20261123-A001", "tok-b")]
        assert la.numbers == {(MONDAY, "A"): 2} and lb.numbers == {(MONDAY, "A"): 1}
        await a.add_token(
            "hash-a", DeviceToken(role="kiosk", window=None, name="kiosk-a"), "2026-11-23T09:00:00+08:00"
        )
        assert await a.find_token("hash-a") == DeviceToken(role="kiosk", window=None, name="kiosk-a")
        assert await b.find_token("hash-a") is None, "a token of one hall opens nothing in another"
        assert (await a.health())["ok"] and (await a.health())["role"] == "primary"
    finally:
        await a.close()
        await b.close()


async def test_a_second_writer_for_a_hall_is_refused_with_a_clear_message(pg_url: str) -> None:
    first = store_for(pg_url, hall="hall-a")
    await first.open()
    try:
        second = store_for(pg_url, hall="hall-a")
        with pytest.raises(HallLocked) as refused:
            await second.open()
        message = str(refused.value)
        assert "hall hall-a is already served" in message and "--standby" in message
        assert "hallops hall-a" in message  # names the holder (its application_name)
        with pytest.raises(LockLost):
            await second.commit(Batch(events=[_event(9)]))  # never opened: may not write
        reader = store_for(pg_url, hall="hall-a", writer=False)  # hallops token while the hall runs
        await reader.open()
        try:
            await reader.add_token("h", DeviceToken(role="display", window=None, name="d"), "x")
            assert await first.find_token("h") is not None
            with pytest.raises(LockLost):
                await reader.commit(Batch(events=[_event(9)]))
        finally:
            await reader.close()
    finally:
        await first.close()
    with pytest.raises(ValueError, match="--standby needs a PostgreSQL database"):
        store_for("var/hall.db", hall="hall-a", standby=True)


async def test_a_standby_waits_then_takes_over_with_the_committed_state(pg_url: str) -> None:
    primary = PostgresStore(pg_url, hall="hall-a")
    await primary.open()
    await primary.commit(
        Batch(events=[_event(1)], tickets=[_ticket(1)], numbers=[(MONDAY, "A", 1)], service_date=MONDAY)
    )
    standby = PostgresStore(pg_url, hall="hall-a", standby=True)
    waiting = asyncio.create_task(standby.open())
    try:
        await asyncio.sleep(1.0)
        assert not waiting.done() and standby.role == "standby"
        await primary.close()
        t0 = asyncio.get_running_loop().time()
        await asyncio.wait_for(waiting, 5)
        assert asyncio.get_running_loop().time() - t0 < 1.0
        assert standby.role == "primary"
        loaded = await standby.load()
        assert loaded.numbers == {(MONDAY, "A"): 1} and [t["id"] for t in loaded.tickets] == ["20261123-A001"]
        await standby.commit(Batch(events=[_event(2)], tickets=[_ticket(2)], numbers=[(MONDAY, "A", 2)]))
    finally:
        waiting.cancel()
        await standby.close()
        await primary.close()


async def test_a_server_whose_lock_session_ends_can_no_longer_write(pg_url: str, pg_server: str) -> None:
    """The lock and the commits share one session: when PostgreSQL ends it (network cut, admin),
    the old primary cannot write one more row, and a standby takes over."""
    primary = PostgresStore(pg_url, hall="hall-a")
    await primary.open()
    standby = PostgresStore(pg_url, hall="hall-a", standby=True)
    waiting = asyncio.create_task(standby.open())
    try:
        await asyncio.sleep(0.5)
        async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as admin:
            cur = await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            )
            assert await cur.fetchall() == [(True,)]  # the primary's lock session, and only it
        await asyncio.wait_for(waiting, 5)
        with pytest.raises((LockLost, psycopg.OperationalError)):
            await primary.commit(Batch(events=[_event(5)]))
        await asyncio.wait_for(primary.lost.wait(), 3)
        assert not (await primary.health())["ok"]
        await standby.commit(Batch(events=[_event(6)]))
        with psycopg.connect(pg_url) as con:
            assert con.execute("SELECT data->>'reason' FROM events").fetchall() == [("名 张*丰 6",)]
    finally:
        waiting.cancel()
        await standby.close()
        await primary.close()


async def test_the_event_log_is_append_only_and_the_schema_versioned(pg_url: str) -> None:
    store = PostgresStore(pg_url, hall="hall-a")
    await store.open()
    await store.commit(Batch(events=[_event(1), _event(2)]))
    assert await store.migrate() == SCHEMA_VERSION  # again while open: nothing to do
    await store.close()
    with psycopg.connect(pg_url, autocommit=True) as con:
        assert con.execute("SELECT array_agg(version ORDER BY version) FROM schema_migrations").fetchone()[
            0
        ] == list(range(1, SCHEMA_VERSION + 1))
        for sql in ("UPDATE events SET type = 'ticket_cancelled'", "DELETE FROM events", "TRUNCATE events"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                con.execute(sql)
        assert con.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 2
        con.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (SCHEMA_VERSION + 1,))
    newer = PostgresStore(pg_url, hall="hall-a")
    with pytest.raises(SchemaTooNew, match=f"schema version {SCHEMA_VERSION + 1}"):
        await newer.open()
    assert newer.role == "closed"
