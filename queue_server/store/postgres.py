"""The city store: many halls in one PostgreSQL database (psycopg 3, async).

Every row carries its hall id (the config's ``code``). Exactly one server writes for a hall:
it holds the session advisory lock of its hall on a dedicated connection (not a pooled one:
a session lock taken on a pooled connection would stay held when the connection went back to
the pool), and it commits every batch on that same connection. So a server that lost its
lock has lost the connection the lock lived on, and cannot commit anything any more: no two
servers ever write for one hall. ``client_connection_check_interval`` and TCP keepalives on
that connection make PostgreSQL end the session (roll back, release the lock) within a
fraction of a second when the process dies, even in the middle of a query.

A second server for the same hall either fails at ``open()`` with ``HallLocked`` (a clear
message naming the holder) or, with ``standby=True``, waits in ``open()`` until the lock is
free, then loads the committed state like any fresh start. Ticket numbers come from the
committed ``ticket_numbers`` rows, so none is reused.

Reads (``load``, ``find_case``, ``find_token``, ``health``) and token writes use a small
connection pool.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from .base import Batch, DeviceToken, LoadedState
from .postgres_errors import HallLocked, LockLost
from .postgres_schema import MIGRATIONS, SCHEMA_VERSION
from .sqlite import (
    CASE_COLUMNS,
    CASE_NUMBER_DAYS,
    COMPLAINT_COLUMNS,
    RATING_COLUMNS,
    RECENTLY_CLOSED_DAYS,
    RECTIFICATION_COLUMNS,
    TICKET_COLUMNS,
    WINDOW_COLUMNS,
    SchemaTooNew,
)

log = logging.getLogger("hallops.store.postgres")

# one transaction-scoped advisory lock serialises migrations of halls starting together
MIGRATION_LOCK = 0x48414C4C4F5053  # "HALLOPS"
CHECK_INTERVAL_MS = 200  # a dead client's session ends within this, even mid-query
LOCK_POLL_S = 0.2  # a standby tries the lock this often
WATCH_S = 1.0  # the primary checks its lock connection this often


def lock_key(hall: str) -> int:
    """The hall's advisory lock key: 64 bits of a hash of its id."""
    return int.from_bytes(
        hashlib.blake2b(f"hallops:{hall}".encode(), digest_size=8).digest(), "big", signed=True
    )


def redact(url: str) -> str:
    """The URL without its password, for logs and /healthz."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{netloc[-1]}"))


def _q(name: str) -> str:
    return f'"{name}"'


def _cols(columns: tuple[str, ...]) -> str:
    return ", ".join(_q(c) for c in columns)


def _upsert_sql(table: str, columns: tuple[str, ...], key: str) -> str:
    cols = ("hall", *columns)
    marks = ", ".join(f"%({c})s" for c in cols)
    updates = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in columns if c != key)
    return (
        f"INSERT INTO {table} ({_cols(cols)}) VALUES ({marks})"
        f" ON CONFLICT (hall, {_q(key)}) DO UPDATE SET {updates}"
    )


_UPSERT_TICKET = _upsert_sql("tickets", TICKET_COLUMNS, "id")
_UPSERT_WINDOW = _upsert_sql("windows", WINDOW_COLUMNS, "number")
_UPSERT_CASE = _upsert_sql("cases", CASE_COLUMNS, "receipt_no")
_UPSERT_RATING = _upsert_sql("ratings", RATING_COLUMNS, "id")
_UPSERT_RECTIFICATION = _upsert_sql("rectifications", RECTIFICATION_COLUMNS, "id")
_UPSERT_COMPLAINT = _upsert_sql("complaints", COMPLAINT_COLUMNS, "id")
_INSERT_EVENT = (
    'INSERT INTO events (hall, type, at, ts, service_date, actor, ticket, "window", data)'
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
)


def _with_hall(hall: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"hall": hall, **{k: int(v) if isinstance(v, bool) else v for k, v in r.items()}} for r in rows]


def _session_options() -> str:
    """Server settings for every session of the store (libpq ``options``)."""
    return (
        f"-c client_connection_check_interval={CHECK_INTERVAL_MS}"
        " -c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3"
    )


class PostgresStore:
    def __init__(
        self, url: str, *, hall: str, standby: bool = False, writer: bool = True, pool_size: int = 4
    ) -> None:
        """``writer=False`` opens the pool only (``hallops token`` while the hall runs):
        tokens and reads work, ``commit`` does not."""
        if not hall:
            raise ValueError("a PostgreSQL store needs the hall id")
        self.url = url
        self.hall = hall
        self.standby = standby
        self.writer = writer
        self.pool_size = pool_size
        self.lost = asyncio.Event()  # set when the lock connection is gone
        self.role = "closed"  # closed, standby (waiting), primary, reader
        self._pool: AsyncConnectionPool | None = None
        self._conn: psycopg.AsyncConnection[Any] | None = None  # holds the lock; all commits
        self._tx = asyncio.Lock()
        self._watch: asyncio.Task[None] | None = None
        app = f"hallops {hall} {socket.gethostname()}:{os.getpid()}"
        self._connect_kwargs: dict[str, Any] = {
            "application_name": app[:63],
            "options": _session_options(),
            "connect_timeout": 10,
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 3,
        }

    # ------------------------------------------------------------------ lifecycle

    @property
    def pool(self) -> AsyncConnectionPool:
        if self._pool is None:
            raise RuntimeError("store is not open")
        return self._pool

    async def open(self) -> None:
        self._pool = AsyncConnectionPool(
            self.url,
            min_size=1,
            max_size=self.pool_size,
            open=False,
            kwargs=self._connect_kwargs,
            name=f"hallops-{self.hall}",
        )
        try:
            await self._pool.open(wait=True, timeout=15)
            await self.migrate()
            if self.writer:
                await self._take_lock()
            else:
                self.role = "reader"
        except BaseException:
            await self.close()
            raise

    async def _take_lock(self) -> None:
        conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True, **self._connect_kwargs)
        key = lock_key(self.hall)
        try:
            waited = False
            while True:
                cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (key,))
                row = await cur.fetchone()
                if row and row[0]:
                    break
                if not self.standby:
                    holder = await self._holder(conn, key)
                    raise HallLocked(
                        f"hall {self.hall} is already served by another hallops serve ({holder}) on"
                        f" {redact(self.url)}; start this one with --standby to take over when it stops"
                    )
                if not waited:
                    self.role = "standby"
                    log.info("standby for hall %s: waiting for the primary to stop", self.hall)
                    waited = True
                await asyncio.sleep(LOCK_POLL_S)
        except BaseException:
            await conn.close()
            raise
        self._conn = conn
        self.role = "primary"
        if waited:
            log.warning("hall %s: the primary is gone; this server takes over", self.hall)
        self._watch = asyncio.create_task(self._watch_lock(), name=f"hallops-lock-{self.hall}")

    async def _holder(self, conn: psycopg.AsyncConnection[Any], key: int) -> str:
        unsigned = key & 0xFFFFFFFFFFFFFFFF
        cur = await conn.execute(
            "SELECT a.application_name, a.client_addr::text FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = %s AND l.objid::bigint = %s"
            " AND l.objsubid = 1",
            (unsigned >> 32, unsigned & 0xFFFFFFFF),
        )
        row = await cur.fetchone()
        return f"{row[0]} from {row[1] or 'a local socket'}" if row else "a server that is just stopping"

    async def _watch_lock(self) -> None:
        """Notice a lost lock connection while idle (a command would notice at commit)."""
        while True:
            await asyncio.sleep(WATCH_S)
            try:
                async with self._tx:
                    assert self._conn is not None
                    await self._conn.execute("SELECT 1")
            except Exception as exc:
                self._lose(exc)
                return

    def _lose(self, exc: BaseException) -> None:
        if not self.lost.is_set():
            log.critical(
                "hall %s: lost the connection holding the hall lock (%s); this server must stop",
                self.hall,
                exc,
            )
            self.role = "lost"
            self.lost.set()

    async def migrate(self) -> int:
        async with self.pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            cur = await conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            version = (await cur.fetchone())[0]  # type: ignore[index]
            if version > SCHEMA_VERSION:
                raise SchemaTooNew(
                    f"{redact(self.url)} has schema version {version};"
                    f" this HallOps knows up to {SCHEMA_VERSION}"
                )
            for number in range(version + 1, SCHEMA_VERSION + 1):
                await conn.execute(MIGRATIONS[number - 1])
                await conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (number,))
        return SCHEMA_VERSION

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
            self._watch = None
        if self._conn is not None:
            await self._conn.close()  # ends the session: releases the hall lock
            self._conn = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        if self.role != "lost":
            self.role = "closed"

    # ------------------------------------------------------------------ reads

    async def _all(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(sql, params)
            return await cur.fetchall()

    async def _one(self, sql: str, params: Any = None) -> Any:
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql, params)
            row = await cur.fetchone()
        return row[0] if row else None

    async def load(self) -> LoadedState:
        hall = self.hall
        service_date = await self._one(
            "SELECT value FROM meta WHERE hall = %s AND key = 'service_date'", (hall,)
        )
        tickets: list[dict[str, Any]] = []
        if service_date:
            tickets = await self._all(
                f"SELECT {_cols(TICKET_COLUMNS)} FROM tickets WHERE hall = %s"
                " AND service_date = %s ORDER BY issued_at, id",
                (hall, service_date),
            )
        windows = await self._all(
            f"SELECT {_cols(WINDOW_COLUMNS)} FROM windows WHERE hall = %s ORDER BY number", (hall,)
        )
        numbers = {
            (date.fromisoformat(r["service_date"]), r["queue"]): r["last_seq"]
            for r in await self._all(
                "SELECT service_date, queue, last_seq FROM ticket_numbers WHERE hall = %s AND service_date = %s",
                (hall, service_date or ""),
            )
        }
        times = {
            r["queue"]: (r["mean_s"], r["samples"])
            for r in await self._all(
                "SELECT queue, mean_s, samples FROM service_times WHERE hall = %s", (hall,)
            )
        }
        last = await self._one("SELECT COALESCE(MAX(id), 0) FROM events WHERE hall = %s", (hall,))
        day = service_date or "9999-12-31"
        cases = await self._all(
            f"SELECT {_cols(CASE_COLUMNS)} FROM cases WHERE hall = %(hall)s AND"
            " (state NOT IN ('completed', 'rejected', 'withdrawn') OR substr(updated_at, 1, 10) >= %(day)s) ORDER BY receipt_no",
            {"hall": hall, "day": day},
        )
        since = (
            (date.fromisoformat(day) - timedelta(days=RECENTLY_CLOSED_DAYS)).isoformat()
            if service_date
            else day
        )
        kept = "hall = %(hall)s AND (state != 'closed' OR substr(closed_at, 1, 10) >= %(since)s)"
        params = {"hall": hall, "day": day, "since": since}
        rectifications = await self._all(
            f"SELECT {_cols(RECTIFICATION_COLUMNS)} FROM rectifications WHERE {kept} ORDER BY id", params
        )
        ratings = await self._all(
            f"SELECT {_cols(RATING_COLUMNS)} FROM ratings WHERE hall = %(hall)s AND (service_date >= %(day)s"
            f" OR id IN (SELECT rating_id FROM rectifications WHERE {kept})"
            f" OR follow_up_of IN (SELECT rating_id FROM rectifications WHERE {kept})) ORDER BY id",
            params,
        )
        case_numbers = {
            date.fromisoformat(r["service_date"]): r["last_seq"]
            for r in await self._all(
                "SELECT service_date, last_seq FROM case_numbers WHERE hall = %s ORDER BY service_date DESC LIMIT %s",
                (hall, CASE_NUMBER_DAYS),
            )
        }
        last_rating = await self._one("SELECT COALESCE(MAX(id), 0) FROM ratings WHERE hall = %s", (hall,))
        last_rectification = await self._one(
            "SELECT COALESCE(MAX(id), 0) FROM rectifications WHERE hall = %s", (hall,)
        )
        complaints = await self._all(
            f"SELECT {_cols(COMPLAINT_COLUMNS)} FROM complaints WHERE hall = %(hall)s AND"
            " (state != 'closed' OR substr(updated_at, 1, 10) >= %(day)s) ORDER BY id",
            {"hall": hall, "day": day},
        )
        last_complaint = await self._one(
            "SELECT COALESCE(MAX(id), 0) FROM complaints WHERE hall = %s", (hall,)
        )
        return LoadedState(
            service_date=date.fromisoformat(service_date) if service_date else None,
            tickets=tickets,
            windows=windows,
            numbers=numbers,
            service_times=times,
            last_event_id=last,
            cases=cases,
            case_numbers=case_numbers,
            ratings=ratings,
            rectifications=rectifications,
            last_rating_id=last_rating,
            last_rectification_id=last_rectification,
            complaints=complaints,
            last_complaint_id=last_complaint,
        )

    async def find_case(self, receipt_no: str) -> dict[str, Any] | None:
        rows = await self._all(
            f"SELECT {_cols(CASE_COLUMNS)} FROM cases WHERE hall = %s AND receipt_no = %s",
            (self.hall, receipt_no),
        )
        return rows[0] if rows else None

    # ------------------------------------------------------------------ the one writer

    async def commit(self, batch: Batch) -> list[int]:
        if batch.extra:
            raise ValueError("Batch.extra carries SQLite statements; the PostgreSQL store does not run them")
        async with self._tx:
            conn = self._conn
            if conn is None or self.lost.is_set():
                raise LockLost(f"this server does not hold the lock of hall {self.hall}; it may not write")
            try:
                return await self._commit(conn, batch)
            except psycopg.OperationalError as exc:
                if conn.closed or conn.broken:
                    self._lose(exc)
                raise

    async def _commit(self, conn: psycopg.AsyncConnection[Any], batch: Batch) -> list[int]:
        hall = self.hall
        ids: list[int] = []
        async with conn.transaction():
            cur = conn.cursor()
            if batch.events:
                await cur.executemany(
                    _INSERT_EVENT,
                    [
                        (
                            hall,
                            ev.type.value,
                            ev.at.isoformat(),
                            ev.at.timestamp(),
                            ev.at.date().isoformat(),
                            ev.actor,
                            ev.ticket,
                            ev.window,
                            Jsonb(ev.payload()),
                        )
                        for ev in batch.events
                    ],
                    returning=True,
                )
                while True:
                    row = await cur.fetchone()
                    ids.append(row[0])  # type: ignore[index]
                    if not cur.nextset():
                        break
            if batch.tickets:
                await cur.executemany(_UPSERT_TICKET, _with_hall(hall, batch.tickets))
            if batch.windows:
                await cur.executemany(_UPSERT_WINDOW, _with_hall(hall, batch.windows))
            if batch.numbers:
                await cur.executemany(
                    "INSERT INTO ticket_numbers (hall, service_date, queue, last_seq) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (hall, service_date, queue)"
                    " DO UPDATE SET last_seq = GREATEST(ticket_numbers.last_seq, excluded.last_seq)",
                    [(hall, d.isoformat(), q, s) for d, q, s in batch.numbers],
                )
            if batch.service_times:
                await cur.executemany(
                    "INSERT INTO service_times (hall, queue, mean_s, samples) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (hall, queue) DO UPDATE SET mean_s = excluded.mean_s, samples = excluded.samples",
                    [(hall, q, m, n) for q, m, n in batch.service_times],
                )
            if batch.cases:
                await cur.executemany(_UPSERT_CASE, _with_hall(hall, batch.cases))
            if batch.case_numbers:
                await cur.executemany(
                    "INSERT INTO case_numbers (hall, service_date, last_seq) VALUES (%s, %s, %s)"
                    " ON CONFLICT (hall, service_date)"
                    " DO UPDATE SET last_seq = GREATEST(case_numbers.last_seq, excluded.last_seq)",
                    [(hall, d.isoformat(), s) for d, s in batch.case_numbers],
                )
            if batch.ratings:  # before rectifications, which refer to them
                await cur.executemany(
                    _UPSERT_RATING, _with_hall(hall, sorted(batch.ratings, key=lambda r: r["id"]))
                )
            if batch.rectifications:
                await cur.executemany(_UPSERT_RECTIFICATION, _with_hall(hall, batch.rectifications))
            if batch.complaints:
                await cur.executemany(_UPSERT_COMPLAINT, _with_hall(hall, batch.complaints))
            if batch.service_date is not None:
                await cur.execute(
                    "INSERT INTO meta (hall, key, value) VALUES (%s, 'service_date', %s)"
                    " ON CONFLICT (hall, key) DO UPDATE SET value = excluded.value",
                    (hall, batch.service_date.isoformat()),
                )
        return ids

    # ------------------------------------------------------------------ tokens

    async def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        async with self.pool.connection() as conn:  # commits when the block ends
            await conn.execute(sql, params)

    async def add_token(self, token_hash: str, token: DeviceToken, created_at: str) -> None:
        await self._write(
            'INSERT INTO device_tokens (hall, token_hash, role, "window", name, username, created_at)'
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (self.hall, token_hash, token.role, token.window, token.name, token.username, created_at),
        )

    async def revoke_token(self, token_hash: str, revoked_at: str) -> None:
        await self._write(
            "UPDATE device_tokens SET revoked_at = %s WHERE hall = %s AND token_hash = %s AND revoked_at IS NULL",
            (revoked_at, self.hall, token_hash),
        )

    async def set_meta(self, key: str, value: str) -> None:
        await self._write(
            "INSERT INTO meta (hall, key, value) VALUES (%s, %s, %s)"
            " ON CONFLICT (hall, key) DO UPDATE SET value = excluded.value",
            (self.hall, key, value),
        )

    async def get_meta(self, key: str) -> str | None:
        value = await self._one("SELECT value FROM meta WHERE hall = %s AND key = %s", (self.hall, key))
        return None if value is None else str(value)

    async def find_token(self, token_hash: str) -> DeviceToken | None:
        rows = await self._all(
            'SELECT role, "window", name, username FROM device_tokens'
            " WHERE hall = %s AND token_hash = %s AND revoked_at IS NULL",
            (self.hall, token_hash),
        )
        if not rows:
            return None
        r = rows[0]
        return DeviceToken(role=r["role"], window=r["window"], name=r["name"], username=r["username"])

    async def health(self) -> dict[str, Any]:
        out: dict[str, Any] = {"url": redact(self.url), "hall": self.hall, "role": self.role}
        try:
            last = await self._one("SELECT COALESCE(MAX(id), 0) FROM events WHERE hall = %s", (self.hall,))
            ok = self.role in ("primary", "reader") and not self.lost.is_set()
            return {"ok": ok, **out, "schema_version": SCHEMA_VERSION, "last_event_id": last}
        except Exception as exc:
            return {"ok": False, **out, "error": str(exc)}
