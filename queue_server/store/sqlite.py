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
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from .base import Batch, DeviceToken, LoadedState
from .schema import MIGRATIONS, SCHEMA_VERSION

TICKET_COLUMNS = (
    "id", "number", "queue", "service_date", "seq", "channel", "priority", "state", "issued_at",
    "arrived_at", "status_token", "appointment_slot", "checked_in", "called_at", "served_at",
    "finished_at", "window", "target_window", "recalls", "transfers", "served_by",
    "estimated_wait_s", "applicant_name", "applicant_phone", "applicant_id", "note",
)
WINDOW_COLUMNS = (
    "number", "state", "pause_reason", "staff", "staff_name", "current_ticket",
    "priority_streak", "state_since",
)

CASE_COLUMNS = (
    "receipt_no", "service_date", "matter_code", "matter_name", "department", "field", "case_type",
    "window_kind", "one_window", "promised_working_days", "ticket", "ticket_number", "window",
    "accepted_window_kind", "accepted_by", "accepted_by_name", "applicant_name", "applicant_phone",
    "applicant_id", "state", "created_at", "accepted_at", "clock_started_at", "due_at", "provisional",
    "paused_working_days", "suspended_since", "suspension_reason", "suspension_expected_days",
    "suspensions", "extension_days", "extension_reason", "extended_at", "deficiency_item",
    "deficiency_promised_date", "deficiency_supplied_at", "missing_materials", "materials_requested_at",
    "rejection_reason", "review_started_at", "reviewer", "decided_at", "decision", "decision_note",
    "decided_by", "decided_on_time", "delivered_at", "delivery_method", "delivery_window",
    "delivery_ticket", "delivery_note", "updated_at",
    # migration 3 (issue 16)
    "bundle_receipt", "part_after", "share_working_days", "released_at", "withdrawn_reason", "assisted_by",
    "assisted_by_name", "agent", "agent_point", "notices", "notice_version",
)
RATING_COLUMNS = (
    "id", "ticket", "ticket_number", "service_date", "queue", "window", "staff", "staff_name",
    "department", "matter_code", "matter_name", "receipt_no", "score", "reasons", "text", "channel",
    "at", "excluded", "follow_up_of", "rater_token_hash",
)
RECTIFICATION_COLUMNS = (
    "id", "rating_id", "ticket", "window", "owner_department", "owner_staff", "owner_staff_name",
    "state", "opened_at", "contact_due", "rectify_due", "provisional", "contacted_at", "contact_note",
    "contacted_by", "rectified_at", "measures", "rectified_by", "revisit_at", "revisit_satisfaction",
    "revisit_note", "revisited_by", "closed_at", "outcome", "explanation", "appeal_reason",
    "appealed_at", "appealed_by", "appeal_from_state", "appeal_decision", "appeal_decided_at",
    "appeal_decided_by", "appeal_note", "contact_on_time", "rectify_on_time", "updated_at",
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


class SchemaTooNew(RuntimeError):
    pass


class SqliteStore:
    def __init__(self, path: str | Path, *, synchronous: str = "FULL") -> None:
        self.path = Path(path)
        self.synchronous = synchronous
        self._db: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._tx = asyncio.Lock()  # one transaction at a time on the one writer connection

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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self.path, isolation_level=None)
        self._db.row_factory = aiosqlite.Row
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute(f"PRAGMA synchronous={self.synchronous}")
        await self._db.execute("PRAGMA foreign_keys=ON")
        await self._db.execute("PRAGMA busy_timeout=5000")
        try:
            await self.migrate()
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
            await self.db.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
        return SCHEMA_VERSION

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.close()
            self._reader = None
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def load(self) -> LoadedState:
        db = self.db
        service_date = await self._meta("service_date")
        tickets: list[dict[str, Any]] = []
        if service_date:
            async with db.execute("SELECT * FROM tickets WHERE service_date = ?", (service_date,)) as cur:
                tickets = [dict(r) for r in await cur.fetchall()]
        async with db.execute("SELECT * FROM windows") as cur:
            windows = [dict(r) for r in await cur.fetchall()]
        async with db.execute("SELECT service_date, queue, last_seq FROM ticket_numbers WHERE service_date = ?",
                              (service_date or "",)) as cur:
            numbers = {(date.fromisoformat(r[0]), r[1]): r[2] for r in await cur.fetchall()}
        async with db.execute("SELECT queue, mean_s, samples FROM service_times") as cur:
            times = {r[0]: (r[1], r[2]) for r in await cur.fetchall()}
        async with db.execute("SELECT COALESCE(MAX(id), 0) FROM events") as cur:
            last = _first(await cur.fetchone())
        day = service_date or "9999-12-31"
        async with db.execute(
            "SELECT * FROM cases WHERE state NOT IN ('completed', 'rejected', 'withdrawn') OR substr(updated_at, 1, 10) >= ?"
            " ORDER BY receipt_no", (day,),
        ) as cur:
            cases = [dict(r) for r in await cur.fetchall()]
        since = (date.fromisoformat(day) - timedelta(days=RECENTLY_CLOSED_DAYS)).isoformat() if service_date else day
        kept = "state != 'closed' OR substr(closed_at, 1, 10) >= :since"
        async with db.execute(f"SELECT * FROM rectifications WHERE {kept} ORDER BY id", {"since": since}) as cur:
            rectifications = [dict(r) for r in await cur.fetchall()]
        async with db.execute(
            f"SELECT * FROM ratings WHERE service_date >= :day"
            f" OR id IN (SELECT rating_id FROM rectifications WHERE {kept})"
            f" OR follow_up_of IN (SELECT rating_id FROM rectifications WHERE {kept}) ORDER BY id",
            {"day": day, "since": since},
        ) as cur:
            ratings = [dict(r) for r in await cur.fetchall()]
        async with db.execute("SELECT service_date, last_seq FROM case_numbers ORDER BY service_date DESC LIMIT ?",
                              (CASE_NUMBER_DAYS,)) as cur:
            case_numbers = {date.fromisoformat(r[0]): r[1] for r in await cur.fetchall()}
        async with db.execute("SELECT COALESCE(MAX(id), 0) FROM ratings") as cur:
            last_rating = _first(await cur.fetchone())
        async with db.execute("SELECT COALESCE(MAX(id), 0) FROM rectifications") as cur:
            last_rectification = _first(await cur.fetchone())
        return LoadedState(
            service_date=date.fromisoformat(service_date) if service_date else None,
            tickets=tickets, windows=windows, numbers=numbers, service_times=times,
            last_event_id=last, cases=cases, case_numbers=case_numbers, ratings=ratings,
            rectifications=rectifications, last_rating_id=last_rating,
            last_rectification_id=last_rectification,
        )

    async def _meta(self, key: str) -> str | None:
        async with self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
            row = await cur.fetchone()
        return row[0] if row else None

    async def commit(self, batch: Batch) -> list[int]:
        async with self._tx:
            return await self._commit(batch)

    async def _commit(self, batch: Batch) -> list[int]:
        db = self.db
        ids: list[int] = []
        await db.execute("BEGIN IMMEDIATE")
        try:
            for ev in batch.events:
                cur = await db.execute(
                    "INSERT INTO events (type, at, ts, service_date, actor, ticket, window, data)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (ev.type.value, ev.at.isoformat(), ev.at.timestamp(), ev.at.date().isoformat(),
                     ev.actor, ev.ticket, ev.window, json.dumps(ev.payload(), ensure_ascii=False)),
                )
                assert cur.lastrowid is not None  # an INSERT sets it
                ids.append(cur.lastrowid)
            if batch.tickets:
                await db.executemany(_UPSERT_TICKET, batch.tickets)
            if batch.windows:
                await db.executemany(_UPSERT_WINDOW, batch.windows)
            if batch.numbers:
                await db.executemany(
                    "INSERT INTO ticket_numbers (service_date, queue, last_seq) VALUES (?, ?, ?)"
                    " ON CONFLICT(service_date, queue) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq)",
                    [(d.isoformat(), q, s) for d, q, s in batch.numbers],
                )
            if batch.service_times:
                await db.executemany(
                    "INSERT INTO service_times (queue, mean_s, samples) VALUES (?, ?, ?)"
                    " ON CONFLICT(queue) DO UPDATE SET mean_s = excluded.mean_s, samples = excluded.samples",
                    batch.service_times,
                )
            if batch.cases:
                await db.executemany(_UPSERT_CASE, batch.cases)
            if batch.case_numbers:
                await db.executemany(
                    "INSERT INTO case_numbers (service_date, last_seq) VALUES (?, ?)"
                    " ON CONFLICT(service_date) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq)",
                    [(d.isoformat(), s) for d, s in batch.case_numbers],
                )
            if batch.ratings:  # before rectifications, which refer to them
                await db.executemany(_UPSERT_RATING, sorted(batch.ratings, key=lambda r: r["id"]))
            if batch.rectifications:
                await db.executemany(_UPSERT_RECTIFICATION, batch.rectifications)
            if batch.service_date is not None:
                await db.execute(
                    "INSERT INTO meta (key, value) VALUES ('service_date', ?)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (batch.service_date.isoformat(),),
                )
            for sql, params in batch.extra:
                await db.execute(sql, params)
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        return ids

    async def find_case(self, receipt_no: str) -> dict[str, Any] | None:
        """One case row, open or historic (the hall holds only open and today's cases)."""
        async with self.reader.execute("SELECT * FROM cases WHERE receipt_no = ?", (receipt_no,)) as cur:
            row = await cur.fetchone()
        return dict(row) if row is not None else None

    async def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        async with self._tx:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                await self.db.execute(sql, params)
                await self.db.execute("COMMIT")
            except BaseException:
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

    async def find_token(self, token_hash: str) -> DeviceToken | None:
        async with self.reader.execute(
            "SELECT role, window, name, username FROM device_tokens WHERE token_hash = ? AND revoked_at IS NULL",
            (token_hash,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return DeviceToken(role=row[0], window=row[1], name=row[2], username=row[3])

    async def health(self) -> dict[str, Any]:
        try:
            async with self.reader.execute("SELECT COALESCE(MAX(id), 0) FROM events") as cur:
                last = _first(await cur.fetchone())
            return {"ok": True, "path": str(self.path), "schema_version": SCHEMA_VERSION, "last_event_id": last}
        except Exception as exc:  # noqa: BLE001 - health reports, never raises
            return {"ok": False, "path": str(self.path), "error": str(exc)}
