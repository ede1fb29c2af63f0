"""The embedded store: one SQLite file, one writer connection and one read connection
(aiosqlite).

Every batch commits in one transaction on the writer connection: the events appended to the
log and the rows of the current-state tables they changed. WAL journal, ``synchronous=FULL``
by default, so a commit that returned survives ``kill -9`` and power loss of the process.
The ``find_*`` lookups and ``health`` run on the read connection (``query_only``): in WAL it
sees the last committed transaction, never one in progress, and never waits for the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import socket
import sqlite3
from collections.abc import Callable
from datetime import date, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

import aiosqlite

from .base import Batch, DeviceToken, LoadedState
from .postgres_errors import HallLocked
from .schema import MIGRATIONS, SCHEMA_VERSION

TICKET_COLUMNS = (
    "id",
    "number",
    "queue",
    "service_date",
    "seq",
    "channel",
    "priority",
    "state",
    "issued_at",
    "arrived_at",
    "status_token",
    "appointment_slot",
    "checked_in",
    "called_at",
    "served_at",
    "finished_at",
    "window",
    "target_window",
    "recalls",
    "transfers",
    "served_by",
    "estimated_wait_s",
    "applicant_name",
    "applicant_phone",
    "applicant_id",
    "note",
)
WINDOW_COLUMNS = (
    "number",
    "state",
    "pause_reason",
    "staff",
    "staff_name",
    "current_ticket",
    "priority_streak",
    "state_since",
)

CASE_COLUMNS = (
    "receipt_no",
    "service_date",
    "matter_code",
    "matter_name",
    "department",
    "field",
    "case_type",
    "window_kind",
    "one_window",
    "promised_working_days",
    "ticket",
    "ticket_number",
    "window",
    "accepted_window_kind",
    "accepted_by",
    "accepted_by_name",
    "applicant_name",
    "applicant_phone",
    "applicant_id",
    "state",
    "created_at",
    "accepted_at",
    "clock_started_at",
    "due_at",
    "provisional",
    "paused_working_days",
    "suspended_since",
    "suspension_reason",
    "suspension_expected_days",
    "suspensions",
    "extension_days",
    "extension_reason",
    "extended_at",
    "deficiency_item",
    "deficiency_promised_date",
    "deficiency_supplied_at",
    "missing_materials",
    "materials_requested_at",
    "rejection_reason",
    "review_started_at",
    "reviewer",
    "decided_at",
    "decision",
    "decision_note",
    "decided_by",
    "decided_on_time",
    "delivered_at",
    "delivery_method",
    "delivery_window",
    "delivery_ticket",
    "delivery_note",
    "updated_at",
    # migration 3 (issue 16)
    "bundle_receipt",
    "part_after",
    "share_working_days",
    "released_at",
    "withdrawn_reason",
    "assisted_by",
    "assisted_by_name",
    "agent",
    "agent_point",
    "notices",
    "notice_version",
)
RATING_COLUMNS = (
    "id",
    "ticket",
    "ticket_number",
    "service_date",
    "queue",
    "window",
    "staff",
    "staff_name",
    "department",
    "matter_code",
    "matter_name",
    "receipt_no",
    "score",
    "reasons",
    "text",
    "channel",
    "at",
    "excluded",
    "follow_up_of",
    "rater_token_hash",
)
RECTIFICATION_COLUMNS = (
    "id",
    "rating_id",
    "ticket",
    "window",
    "owner_department",
    "owner_staff",
    "owner_staff_name",
    "state",
    "opened_at",
    "contact_due",
    "rectify_due",
    "provisional",
    "contacted_at",
    "contact_note",
    "contacted_by",
    "rectified_at",
    "measures",
    "rectified_by",
    "revisit_at",
    "revisit_satisfaction",
    "revisit_note",
    "revisited_by",
    "closed_at",
    "outcome",
    "explanation",
    "appeal_reason",
    "appealed_at",
    "appealed_by",
    "appeal_from_state",
    "appeal_decision",
    "appeal_decided_at",
    "appeal_decided_by",
    "appeal_note",
    "contact_on_time",
    "rectify_on_time",
    "updated_at",
    "responsible",
    "coordinator",
    "triage",
    "reassigned_at",
    "reassigned_by",
    "reassign_reason",
)
COMPLAINT_COLUMNS = (
    "id",
    "channel",
    "category",
    "content",
    "state",
    "received_at",
    "due_at",
    "updated_at",
    "responsible",
    "owner_department",
    "triage",
    "provisional",
    "matter_code",
    "receipt_no",
    "rating_id",
    "ticket",
    "window",
    "hotline_ref",
    "complainant_name",
    "complainant_phone",
    "received_by",
    "assigned_at",
    "assigned_by",
    "reassignments",
    "reassign_reason",
    "handled_at",
    "handling",
    "handled_by",
    "replied_at",
    "reply",
    "replied_by",
    "reply_on_time",
    "closed_at",
    "satisfaction",
    "reminders",
    "last_reminded_at",
    "reminder_note",
)
# closed rectifications loaded at start (a 追评 may still come); the hall keeps those within
# its rules.follow_up_days
RECENTLY_CLOSED_DAYS = 62
CASE_NUMBER_DAYS = 7


def _first(row: Any) -> Any:
    """The first column of a row a query always returns (an aggregate, a pragma)."""
    assert row is not None
    return row[0]


def _upsert_sql(table: str, columns: tuple[str, ...], key: str) -> str:
    cols = ", ".join(columns)
    marks = ", ".join(f":{c}" for c in columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    return f"INSERT INTO {table} ({cols}) VALUES ({marks}) ON CONFLICT({key}) DO UPDATE SET {updates}"


_UPSERT_TICKET = _upsert_sql("tickets", TICKET_COLUMNS, "id")
_UPSERT_WINDOW = _upsert_sql("windows", WINDOW_COLUMNS, "number")
_UPSERT_CASE = _upsert_sql("cases", CASE_COLUMNS, "receipt_no")
_UPSERT_RATING = _upsert_sql("ratings", RATING_COLUMNS, "id")
_UPSERT_RECTIFICATION = _upsert_sql("rectifications", RECTIFICATION_COLUMNS, "id")
_UPSERT_COMPLAINT = _upsert_sql("complaints", COMPLAINT_COLUMNS, "id")


def write_batch(
    db: sqlite3.Connection, batch: Batch, before_commit: Callable[[], None] | None = None
) -> list[int]:
    """One batch in one transaction, on the writer connection's own thread (``_commit``).
    ``before_commit`` runs inside the transaction, just before COMMIT (a check that may raise
    to roll it back)."""
    ids: list[int] = []
    db.execute("BEGIN IMMEDIATE")
    try:
        if batch.events:
            # one statement for all the events; in one write transaction of the one writer
            # their ids are consecutive
            db.executemany(
                "INSERT INTO events (type, at, ts, service_date, actor, ticket, window, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        ev.type.value,
                        ev.at.isoformat(),
                        ev.at.timestamp(),
                        ev.at.date().isoformat(),
                        ev.actor,
                        ev.ticket,
                        ev.window,
                        json.dumps(ev.payload(), ensure_ascii=False),
                    )
                    for ev in batch.events
                ],
            )
            last = int(db.execute("SELECT last_insert_rowid()").fetchone()[0])
            ids = list(range(last - len(batch.events) + 1, last + 1))
        if batch.tickets:
            db.executemany(_UPSERT_TICKET, batch.tickets)
        if batch.windows:
            db.executemany(_UPSERT_WINDOW, batch.windows)
        if batch.numbers:
            db.executemany(
                "INSERT INTO ticket_numbers (service_date, queue, last_seq) VALUES (?, ?, ?)"
                " ON CONFLICT(service_date, queue) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq)",
                [(d.isoformat(), q, s) for d, q, s in batch.numbers],
            )
        if batch.service_times:
            db.executemany(
                "INSERT INTO service_times (queue, mean_s, samples) VALUES (?, ?, ?)"
                " ON CONFLICT(queue) DO UPDATE SET mean_s = excluded.mean_s, samples = excluded.samples",
                batch.service_times,
            )
        if batch.cases:
            db.executemany(_UPSERT_CASE, batch.cases)
        if batch.case_numbers:
            db.executemany(
                "INSERT INTO case_numbers (service_date, last_seq) VALUES (?, ?)"
                " ON CONFLICT(service_date) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq)",
                [(d.isoformat(), s) for d, s in batch.case_numbers],
            )
        if batch.ratings:  # before rectifications, which refer to them
            db.executemany(_UPSERT_RATING, sorted(batch.ratings, key=itemgetter("id")))
        if batch.rectifications:
            db.executemany(_UPSERT_RECTIFICATION, batch.rectifications)
        if batch.complaints:
            db.executemany(_UPSERT_COMPLAINT, batch.complaints)
        if batch.service_date is not None:
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('service_date', ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (batch.service_date.isoformat(),),
            )
        for sql, params in batch.extra:
            db.execute(sql, params)
        if before_commit is not None:
            before_commit()
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # SQLite may have rolled back itself (disk full)
            db.execute("ROLLBACK")
        raise
    return ids


class SchemaTooNew(RuntimeError):
    pass


class DatabaseLocked(HallLocked):
    """Another HallOps server holds the database (its lock file names it); ``hallops serve``
    reports it like a PostgreSQL hall's lock."""


class StorageFault(RuntimeError):
    """The database cannot record a change (its file is gone, the disk is full, ...)."""


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


class HallLock:
    """The one-writer lock of a database: an exclusive ``flock`` on ``<db>.lock``, held for the
    server's lifetime. The kernel drops it when the process ends, ``kill -9`` included, so a
    restart never finds a stale lock; the file's text (pid, host, since) only names the holder."""

    def __init__(self, path: Path) -> None:
        self.path = lock_path(path)
        self._fd: int | None = None

    def acquire(self, db: Path) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip() or "unknown process"
            os.close(fd)
            raise DatabaseLocked(
                f"{db} is in use by another HallOps server ({holder}); stop it first"
                " (one server per database)"
            ) from None
        os.ftruncate(fd, 0)
        stamp = (
            f"pid {os.getpid()} on {socket.gethostname()}, since {datetime.now().astimezone().isoformat()}"
        )
        os.pwrite(fd, stamp.encode(), 0)
        self._fd = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None


class SqliteStore:
    """``writer=True`` (the server): takes the database's ``HallLock`` for as long as the store
    is open; a second server on the same file fails at ``open`` with ``DatabaseLocked``.
    ``writer=False`` (``hallops token`` while the server runs): no hall lock, no ``commit``;
    only token rows, each in one short SQLite write transaction that the server's own
    transactions wait for (``busy_timeout``), so the two never race on the hall's state
    (the server keeps no tokens in memory)."""

    def __init__(self, path: str | Path, *, synchronous: str = "FULL", writer: bool = True) -> None:
        self.path = Path(path)
        self.synchronous = synchronous
        self.writer = writer
        self._db: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._tx = asyncio.Lock()  # one transaction at a time on the one writer connection
        self._lock = HallLock(self.path)
        self._inode: int | None = None  # the database file's, to notice it deleted or replaced
        self.fault: str | None = None  # why the last commit failed; None once one succeeds

    @property
    def _on_disk(self) -> bool:
        return str(self.path) != ":memory:"

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("store is not open")
        return self._db

    @property
    def reader(self) -> aiosqlite.Connection:
        """The read connection: committed state only."""
        if self._reader is None:
            raise RuntimeError("store is not open")
        return self._reader

    async def open(self) -> None:
        if self._on_disk:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.writer:
                self._lock.acquire(self.path)
            else:
                with contextlib.suppress(DatabaseLocked):  # no server: migrate under the lock
                    self._lock.acquire(self.path)
        try:
            self._db = await aiosqlite.connect(self.path, isolation_level=None)
        except BaseException:
            self._lock.release()
            raise
        self._db.row_factory = aiosqlite.Row
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute(f"PRAGMA synchronous={self.synchronous}")
        await self._db.execute("PRAGMA foreign_keys=ON")
        await self._db.execute("PRAGMA busy_timeout=5000")
        try:
            if self.writer or self._lock.held:
                await self.migrate()
            else:
                await self._require_current_schema()
            if not self.writer:
                self._lock.release()  # a short lock: only for the migration
            if self._on_disk:
                self._inode = os.stat(self.path).st_ino
            self._reader = await aiosqlite.connect(self.path, isolation_level=None)
            self._reader.row_factory = aiosqlite.Row
            await self._reader.execute("PRAGMA query_only=ON")
            await self._reader.execute("PRAGMA busy_timeout=5000")
        except BaseException:
            await self.close()  # aiosqlite's threads would keep the process alive
            raise

    async def migrate(self) -> int:
        async with self.db.execute("PRAGMA user_version") as cur:
            version = _first(await cur.fetchone())
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"{self.path} has schema version {version}; this HallOps knows up to {SCHEMA_VERSION}"
            )
        for number in range(version + 1, SCHEMA_VERSION + 1):
            script = MIGRATIONS[number - 1]
            # executescript commits first; each migration runs in its own transaction
            await self.db.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )
        return SCHEMA_VERSION

    async def _require_current_schema(self) -> None:
        async with self.db.execute("PRAGMA user_version") as cur:
            version = _first(await cur.fetchone())
        if version != SCHEMA_VERSION:
            raise SchemaTooNew(
                f"{self.path} has schema version {version} and its server is running;"
                f" this HallOps writes version {SCHEMA_VERSION}: stop the server or use the same HallOps"
            )

    async def close(self) -> None:
        try:
            if self._reader is not None:
                await self._reader.close()
                self._reader = None
            if self._db is not None:
                await self._db.close()
                self._db = None
        finally:
            self._lock.release()

    def _check_file(self) -> None:
        """Raise ``StorageFault`` when the database file is no longer the one opened (its
        folder deleted, the file removed or replaced): SQLite would go on writing into the
        unlinked file and the data would be lost at exit."""
        if self._inode is None:
            return
        try:
            ino = os.stat(self.path).st_ino
        except OSError as exc:
            raise StorageFault(f"the database file {self.path} is gone ({exc.strerror})") from None
        if ino != self._inode:
            raise StorageFault(f"the database file {self.path} was replaced while the server ran")

    async def load(self) -> LoadedState:
        db = self.db
        service_date = await self._meta("service_date")
        tickets: list[dict[str, Any]] = []
        if service_date:
            async with db.execute("SELECT * FROM tickets WHERE service_date = ?", (service_date,)) as cur:
                tickets = [dict(r) for r in await cur.fetchall()]
        async with db.execute("SELECT * FROM windows") as cur:
            windows = [dict(r) for r in await cur.fetchall()]
        async with db.execute(
            "SELECT service_date, queue, last_seq FROM ticket_numbers WHERE service_date = ?",
            (service_date or "",),
        ) as cur:
            numbers = {(date.fromisoformat(r[0]), r[1]): r[2] for r in await cur.fetchall()}
        async with db.execute("SELECT queue, mean_s, samples FROM service_times") as cur:
            times = {r[0]: (r[1], r[2]) for r in await cur.fetchall()}
        async with db.execute("SELECT COALESCE(MAX(id), 0) FROM events") as cur:
            last = _first(await cur.fetchone())
        day = service_date or "9999-12-31"
        async with db.execute(
            "SELECT * FROM cases WHERE state NOT IN ('completed', 'rejected', 'withdrawn') OR substr(updated_at, 1, 10) >= ?"
            " ORDER BY receipt_no",
            (day,),
        ) as cur:
            cases = [dict(r) for r in await cur.fetchall()]
        since = (
            (date.fromisoformat(day) - timedelta(days=RECENTLY_CLOSED_DAYS)).isoformat()
            if service_date
            else day
        )
        kept = "state != 'closed' OR substr(closed_at, 1, 10) >= :since"
        async with db.execute(
            f"SELECT * FROM rectifications WHERE {kept} ORDER BY id", {"since": since}
        ) as cur:
            rectifications = [dict(r) for r in await cur.fetchall()]
        async with db.execute(
            f"SELECT * FROM ratings WHERE service_date >= :day"
            f" OR id IN (SELECT rating_id FROM rectifications WHERE {kept})"
            f" OR follow_up_of IN (SELECT rating_id FROM rectifications WHERE {kept}) ORDER BY id",
            {"day": day, "since": since},
        ) as cur:
            ratings = [dict(r) for r in await cur.fetchall()]
        async with db.execute(
            "SELECT service_date, last_seq FROM case_numbers ORDER BY service_date DESC LIMIT ?",
            (CASE_NUMBER_DAYS,),
        ) as cur:
            case_numbers = {date.fromisoformat(r[0]): r[1] for r in await cur.fetchall()}
        async with db.execute("SELECT COALESCE(MAX(id), 0) FROM ratings") as cur:
            last_rating = _first(await cur.fetchone())
        async with db.execute("SELECT COALESCE(MAX(id), 0) FROM rectifications") as cur:
            last_rectification = _first(await cur.fetchone())
        async with db.execute(
            "SELECT * FROM complaints WHERE state != 'closed' OR substr(updated_at, 1, 10) >= ? ORDER BY id",
            (day,),
        ) as cur:
            complaints = [dict(r) for r in await cur.fetchall()]
        async with db.execute("SELECT COALESCE(MAX(id), 0) FROM complaints") as cur:
            last_complaint = _first(await cur.fetchone())
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

    async def _meta(self, key: str) -> str | None:
        async with self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return row[0] if row else None

    async def commit(self, batch: Batch) -> list[int]:
        if not self.writer:
            raise RuntimeError("a store opened with writer=False does not commit hall changes")
        async with self._tx:
            try:
                self._check_file()
                ids = await self._commit(batch)
            except (StorageFault, sqlite3.Error, OSError) as exc:
                self.fault = str(exc)
                raise
            self.fault = None
            return ids

    async def _commit(self, batch: Batch) -> list[int]:
        # One hop to aiosqlite's thread for the whole transaction, not one per statement: under
        # load each hop waits for the thread and then for the event loop (issue 17).
        db = self.db
        ids: list[int] = await db._execute(  # type: ignore[no-untyped-call]  # aiosqlite runs it in its thread
            write_batch, db._conn, batch, self._check_file
        )
        return ids

    async def find_case(self, receipt_no: str) -> dict[str, Any] | None:
        """One case row, open or historic (the hall holds only open and today's cases)."""
        async with self.reader.execute("SELECT * FROM cases WHERE receipt_no = ?", (receipt_no,)) as cur:
            row = await cur.fetchone()
        return dict(row) if row is not None else None

    async def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        async with self._tx:
            self._check_file()
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                await self.db.execute(sql, params)
                await self.db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    await self.db.execute("ROLLBACK")
                raise

    async def add_token(self, token_hash: str, token: DeviceToken, created_at: str) -> None:
        await self._write(
            "INSERT INTO device_tokens (token_hash, role, window, name, username, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (token_hash, token.role, token.window, token.name, token.username, created_at),
        )

    async def revoke_token(self, token_hash: str, revoked_at: str) -> None:
        await self._write(
            "UPDATE device_tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
            (revoked_at, token_hash),
        )

    async def set_meta(self, key: str, value: str) -> None:
        await self._write(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def get_meta(self, key: str) -> str | None:
        async with self.reader.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return str(row[0]) if row else None

    async def find_token(self, token_hash: str) -> DeviceToken | None:
        async with self.reader.execute(
            "SELECT role, window, name, username FROM device_tokens WHERE token_hash = ? AND revoked_at IS NULL",
            (token_hash,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return DeviceToken(role=row[0], window=row[1], name=row[2], username=row[3])

    async def token_created_at(self, token_hash: str) -> str | None:
        """When a live token was made (a staff session's lifetime counts from it)."""
        async with self.reader.execute(
            "SELECT created_at FROM device_tokens WHERE token_hash = ? AND revoked_at IS NULL",
            (token_hash,),
        ) as cur:
            row = await cur.fetchone()
        return str(row[0]) if row is not None else None

    async def health(self) -> dict[str, Any]:
        """``ok`` False when the file is gone or the last commit failed (the server then
        refuses commands with storage_failed); reads still come from committed state."""
        try:
            self._check_file()
            async with self.reader.execute("SELECT COALESCE(MAX(id), 0) FROM events") as cur:
                last = _first(await cur.fetchone())
            if self.fault is not None:
                return {"ok": False, "path": str(self.path), "error": self.fault, "last_event_id": last}
            return {
                "ok": True,
                "path": str(self.path),
                "schema_version": SCHEMA_VERSION,
                "last_event_id": last,
            }
        except Exception as exc:
            return {"ok": False, "path": str(self.path), "error": str(exc)}
