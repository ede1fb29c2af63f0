"""The dashboard's data path: the hall's SQLite file, read-only, copied into DuckDB.

The queue server writes one SQLite file in WAL mode. ``HallWarehouse`` reads it with
Python's ``sqlite3`` through a read-only URI (``file:...?mode=ro``; no DuckDB extension, so
nothing is downloaded at run time), turns the rows into Arrow tables and loads them into an
in-process DuckDB database once. ``refresh()`` then appends only what was added since:

* ``events`` is append-only: rows with ``id`` above the high-water mark are appended.
* ``tickets`` holds current state: the tickets named by the new events (and the tickets a
  ``day_started`` event expired) are re-read and replaced.
* ``windows``, ``service_times`` and ``meta`` are a few rows each: re-read whole when new
  events arrived.
* ``cases``, ``ratings`` and ``rectifications`` (schema migration 2), when present: the rows
  named by the new events (``data.receipt_no``, ``data.rating_id``,
  ``data.rectification_id``, docs/data-model.md) are re-read and replaced; every open case
  after a ``deadline_recomputed``.

Every read of the SQLite file happens inside one read transaction, so the copy is a
consistent snapshot even while the server writes. Nothing here imports Streamlit: the class
is tested and benchmarked on its own (tests/dashboard/test_data.py, benchmarks/).

Applicant names, phone and ID numbers are never copied: the dashboard does not need them.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from queue_server.hall.config import HallConfig

CHUNK_ROWS = 200_000
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")

# ---------------------------------------------------------------------- sources


def _epoch(col: str) -> str:
    """SQLite expression: an ISO 8601 instant with offset as Unix seconds (ms precision)."""
    return f"round((julianday({col}) - 2440587.5) * 86400.0, 3)"


def _local_seconds(col: str) -> str:
    """SQLite expression: seconds since local midnight, read from the ISO text itself (the
    text carries the hall's wall-clock time, so no time zone database is needed)."""
    return (f"(CAST(substr({col}, 12, 2) AS INTEGER) * 3600 + CAST(substr({col}, 15, 2) AS INTEGER) * 60"
            f" + CAST(substr({col}, 18, 2) AS INTEGER))")


def _json_for(types: Iterable[str], path: str) -> str:
    listed = ", ".join(f"'{t}'" for t in types)
    return f"CASE WHEN type IN ({listed}) THEN json_extract(data, '$.{path}') END"


_WINDOW_EVENTS = ("window_opened", "window_paused", "window_resumed", "window_closed",
                  "staff_logged_in", "staff_logged_out")

# events: the log, narrowed to what the figures use. The JSON ``data`` is read only for the
# fields below, and not at all for ``ticket_issued`` (it carries the applicant's data).
EVENT_COLUMNS: list[tuple[str, str, pa.DataType, str]] = [
    # (name, SQLite expression, Arrow type, DuckDB type)
    ("id", "id", pa.int64(), "BIGINT"),
    ("type", "type", pa.string(), "VARCHAR"),
    ("ts", "ts", pa.float64(), "DOUBLE"),
    ("service_date", "service_date", pa.string(), "VARCHAR"),
    ("sec_of_day", _local_seconds("at"), pa.int32(), "INTEGER"),
    ("actor", "actor", pa.string(), "VARCHAR"),
    ("ticket", "ticket", pa.string(), "VARCHAR"),
    ("win", "window", pa.int32(), "INTEGER"),  # "window" is an SQL keyword in DuckDB
    ("staff", _json_for(("ticket_called", "service_finished", *_WINDOW_EVENTS), "staff"), pa.string(), "VARCHAR"),
    ("staff_name", _json_for(("staff_logged_in",), "staff_name"), pa.string(), "VARCHAR"),
    ("queue", _json_for(("ticket_called", "service_finished", "ticket_cancelled", "ticket_recalled"), "queue"),
     pa.string(), "VARCHAR"),
    ("waited_s", _json_for(("ticket_called",), "waited_s"), pa.float64(), "DOUBLE"),
    ("service_s", _json_for(("service_finished",), "service_s"), pa.float64(), "DOUBLE"),
    ("occupancy_s", _json_for(("service_finished",), "occupancy_s"), pa.float64(), "DOUBLE"),
    ("reason", _json_for(("window_paused", "window_closed", "ticket_no_show", "ticket_called",
                          "ticket_cancelled", "ticket_transferred"), "reason"), pa.string(), "VARCHAR"),
    ("to_queue", _json_for(("ticket_transferred",), "to_queue"), pa.string(), "VARCHAR"),
]

TICKET_COLUMNS: list[tuple[str, str, pa.DataType, str]] = [
    ("id", "id", pa.string(), "VARCHAR"),
    ("number", "number", pa.string(), "VARCHAR"),
    ("queue", "queue", pa.string(), "VARCHAR"),  # the queue it is in now (moves on transfer)
    ("issue_queue", "rtrim(number, '0123456789')", pa.string(), "VARCHAR"),  # the queue it was issued in
    ("service_date", "service_date", pa.string(), "VARCHAR"),
    ("seq", "seq", pa.int32(), "INTEGER"),
    ("channel", "channel", pa.string(), "VARCHAR"),
    ("priority", "priority", pa.string(), "VARCHAR"),
    ("state", "state", pa.string(), "VARCHAR"),
    ("checked_in", "checked_in", pa.int8(), "TINYINT"),
    ("win", "window", pa.int32(), "INTEGER"),  # "window" is an SQL keyword in DuckDB
    ("target_window", "target_window", pa.int32(), "INTEGER"),
    ("recalls", "recalls", pa.int32(), "INTEGER"),
    ("transfers", "transfers", pa.int32(), "INTEGER"),
    ("served_by", "served_by", pa.string(), "VARCHAR"),
    ("estimated_wait_s", "estimated_wait_s", pa.float64(), "DOUBLE"),
    ("issued_ts", _epoch("issued_at"), pa.float64(), "DOUBLE"),
    ("arrived_ts", _epoch("arrived_at"), pa.float64(), "DOUBLE"),
    ("called_ts", _epoch("called_at"), pa.float64(), "DOUBLE"),
    ("served_ts", _epoch("served_at"), pa.float64(), "DOUBLE"),
    ("finished_ts", _epoch("finished_at"), pa.float64(), "DOUBLE"),
    ("appointment_ts", _epoch("appointment_slot"), pa.float64(), "DOUBLE"),
    ("issued_hour", "CAST(substr(issued_at, 12, 2) AS INTEGER)", pa.int32(), "INTEGER"),
    ("note", "note", pa.string(), "VARCHAR"),
]

WINDOW_COLUMNS: list[tuple[str, str, pa.DataType, str]] = [
    ("number", "number", pa.int32(), "INTEGER"),
    ("state", "state", pa.string(), "VARCHAR"),
    ("pause_reason", "pause_reason", pa.string(), "VARCHAR"),
    ("staff", "staff", pa.string(), "VARCHAR"),
    ("staff_name", "staff_name", pa.string(), "VARCHAR"),
    ("current_ticket", "current_ticket", pa.string(), "VARCHAR"),
    ("state_since_ts", _epoch("state_since"), pa.float64(), "DOUBLE"),
]

SERVICE_TIME_COLUMNS: list[tuple[str, str, pa.DataType, str]] = [
    ("queue", "queue", pa.string(), "VARCHAR"),
    ("mean_s", "mean_s", pa.float64(), "DOUBLE"),
    ("samples", "samples", pa.int64(), "BIGINT"),
]

META_COLUMNS: list[tuple[str, str, pa.DataType, str]] = [
    ("key", "key", pa.string(), "VARCHAR"),
    ("value", "value", pa.string(), "VARCHAR"),
]


def _str(name: str, expr: str | None = None) -> tuple[str, str, pa.DataType, str]:
    return (name, expr or name, pa.string(), "VARCHAR")


def _int(name: str, expr: str | None = None) -> tuple[str, str, pa.DataType, str]:
    return (name, expr or name, pa.int64(), "BIGINT")


def _ts(name: str, col: str) -> tuple[str, str, pa.DataType, str]:
    return (name, _epoch(col), pa.float64(), "DOUBLE")


def _day(name: str, col: str) -> tuple[str, str, pa.DataType, str]:
    """The local date of an ISO instant (its first ten characters)."""
    return (name, f"substr({col}, 1, 10)", pa.string(), "VARCHAR")


# migration 2 (docs/data-model.md). Applicant data is left out.
CASE_COLUMNS: list[tuple[str, str, pa.DataType, str]] = [
    _str("receipt_no"), _str("service_date"), _str("matter_code"), _str("matter_name"), _str("department"),
    _str("field"), _str("case_type"), _str("window_kind"), _int("one_window"), _int("promised_working_days"),
    _str("ticket"), _str("ticket_number"), _int("win", "window"), _str("accepted_window_kind"),
    _str("accepted_by"), _str("accepted_by_name"), _str("state"),
    _ts("created_ts", "created_at"), _ts("accepted_ts", "accepted_at"), _day("accepted_date", "accepted_at"),
    _ts("clock_started_ts", "clock_started_at"), _ts("due_ts", "due_at"), _int("provisional"),
    _int("paused_working_days"), _ts("suspended_since_ts", "suspended_since"), _str("suspension_reason"),
    _int("suspensions"), _int("extension_days"), _ts("extended_ts", "extended_at"),
    _str("deficiency_item"), _str("deficiency_promised_date"), _ts("deficiency_supplied_ts", "deficiency_supplied_at"),
    _ts("materials_requested_ts", "materials_requested_at"), _str("rejection_reason"),
    _ts("review_started_ts", "review_started_at"), _str("reviewer"),
    _ts("decided_ts", "decided_at"), _day("decided_date", "decided_at"), _str("decision"), _str("decided_by"),
    _int("decided_on_time"), _ts("delivered_ts", "delivered_at"), _day("delivered_date", "delivered_at"),
    _str("delivery_method"), _int("delivery_window"), _ts("updated_ts", "updated_at"),
]

RATING_COLUMNS: list[tuple[str, str, pa.DataType, str]] = [
    _int("id"), _str("ticket"), _str("ticket_number"), _str("service_date"), _str("queue"), _int("win", "window"),
    _str("staff"), _str("staff_name"), _str("department"), _str("matter_code"), _str("matter_name"),
    _str("receipt_no"), _int("score"), _str("reasons"), _str("text"), _str("channel"), _ts("at_ts", "at"),
    _int("excluded"), _int("follow_up_of"),
]

RECTIFICATION_COLUMNS: list[tuple[str, str, pa.DataType, str]] = [
    _int("id"), _int("rating_id"), _str("ticket"), _int("win", "window"), _str("owner_department"),
    _str("owner_staff"), _str("owner_staff_name"), _str("state"), _ts("opened_ts", "opened_at"),
    _day("opened_date", "opened_at"), _ts("contact_due_ts", "contact_due"), _ts("rectify_due_ts", "rectify_due"),
    _int("provisional"), _ts("contacted_ts", "contacted_at"), _str("contact_note"),
    _ts("rectified_ts", "rectified_at"), _str("measures"), _ts("revisit_ts", "revisit_at"),
    _int("revisit_satisfaction"), _ts("closed_ts", "closed_at"), _str("outcome"), _str("explanation"),
    _str("appeal_reason"), _ts("appealed_ts", "appealed_at"), _str("appeal_decision"),
    _int("contact_on_time"), _int("rectify_on_time"), _ts("updated_ts", "updated_at"),
]


@dataclass(frozen=True, kw_only=True)
class _Table:
    name: str
    columns: list[tuple[str, str, pa.DataType, str]]
    key: str | None = None  # primary key, for replacing changed rows
    date_cols: tuple[str, ...] = ()  # VARCHAR 'YYYY-MM-DD' in SQLite, DATE in DuckDB
    whole: bool = False  # a few rows: re-read whole on every change


TABLES: dict[str, _Table] = {
    "events": _Table(name="events", columns=EVENT_COLUMNS, date_cols=("service_date",)),
    "tickets": _Table(name="tickets", columns=TICKET_COLUMNS, key="id", date_cols=("service_date",)),
    "windows": _Table(name="windows", columns=WINDOW_COLUMNS, key="number", whole=True),
    "service_times": _Table(name="service_times", columns=SERVICE_TIME_COLUMNS, key="queue", whole=True),
    "meta": _Table(name="meta", columns=META_COLUMNS, key="key", whole=True),
    "cases": _Table(name="cases", columns=CASE_COLUMNS, key="receipt_no",
                    date_cols=("service_date", "accepted_date", "decided_date", "delivered_date")),
    "ratings": _Table(name="ratings", columns=RATING_COLUMNS, key="id", date_cols=("service_date",)),
    "rectifications": _Table(name="rectifications", columns=RECTIFICATION_COLUMNS, key="id",
                             date_cols=("opened_date",)),
}


def _duck_type(table: _Table, name: str, duck: str) -> str:
    return "DATE" if name in table.date_cols else duck


# ---------------------------------------------------------------------- the warehouse


@dataclass(frozen=True, kw_only=True)
class RefreshResult:
    events: int  # events appended
    tickets: int  # ticket rows replaced
    other: int  # other rows re-read (windows, cases, ...)
    seconds: float
    full: bool = False  # a full reload happened (new schema, replaced file)


class HallWarehouse:
    """An in-process DuckDB copy of one hall's SQLite database, kept up to date by
    ``refresh()``. Safe to share between threads: reads go through per-thread cursors and
    see committed snapshots; loads and refreshes are serialised by a lock."""

    def __init__(self, sqlite_path: str | Path, config: HallConfig | None = None) -> None:
        self.path = Path(sqlite_path)
        self.config = config
        self.con = duckdb.connect(":memory:")
        self._lock = threading.RLock()
        self._local = threading.local()
        self.last_event_id = 0
        self.schema_version = 0
        self.tables: set[str] = set()  # source tables present in the SQLite file
        self.loaded_at: float | None = None
        self.last_refresh: float = 0.0
        self.load_seconds: float | None = None
        self._last_rating_id = 0

    # ------------------------------------------------------------------ reading SQLite

    def _connect_sqlite(self) -> sqlite3.Connection:
        if not self.path.exists():
            raise FileNotFoundError(f"no database at {self.path}")
        uri = f"file:{self.path.resolve().as_posix()}?mode=ro"
        con = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        con.execute("PRAGMA busy_timeout = 5000")
        return con

    @staticmethod
    def _fetch(src: sqlite3.Connection, table: _Table, where: str = "", params: Sequence[Any] = (),
               order: str = "") -> Iterable[pa.Table]:
        exprs = ", ".join(expr for _, expr, _, _ in table.columns)
        sql = f"SELECT {exprs} FROM {table.name}"
        if where:
            sql += f" WHERE {where}"
        if order:
            sql += f" ORDER BY {order}"
        cur = src.execute(sql, tuple(params))
        schema = pa.schema([(name, typ) for name, _, typ, _ in table.columns])
        while True:
            rows = cur.fetchmany(CHUNK_ROWS)
            if not rows:
                break
            cols = list(zip(*rows))
            yield pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(cols, schema)], schema=schema)

    def _present_tables(self, src: sqlite3.Connection) -> set[str]:
        rows = src.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return {r[0] for r in rows}

    # ------------------------------------------------------------------ DuckDB side

    def _create(self, table: _Table) -> None:
        cols = ", ".join(f'"{n}" {_duck_type(table, n, d)}' for n, _, _, d in table.columns)
        self.con.execute(f'DROP TABLE IF EXISTS "{table.name}"')
        self.con.execute(f'CREATE TABLE "{table.name}" ({cols})')

    def _append(self, table: _Table, chunk: pa.Table) -> None:
        names = ", ".join(
            f'CAST("{n}" AS DATE)' if n in table.date_cols else f'"{n}"' for n, _, _, _ in table.columns
        )
        self.con.register("_chunk", chunk)
        try:
            self.con.execute(f'INSERT INTO "{table.name}" SELECT {names} FROM _chunk')
        finally:
            self.con.unregister("_chunk")

    def _reload_table(self, src: sqlite3.Connection, table: _Table) -> int:
        self._create(table)
        n = 0
        for chunk in self._fetch(src, table):
            self._append(table, chunk)
            n += chunk.num_rows
        return n

    # ------------------------------------------------------------------ public API

    def load(self) -> HallWarehouse:
        """Copy everything (cold load). Returns self."""
        with self._lock:
            start = time.perf_counter()
            src = self._connect_sqlite()
            try:
                src.execute("BEGIN")  # one snapshot for every table
                self.tables = self._present_tables(src)
                self.schema_version = src.execute("PRAGMA user_version").fetchone()[0]
                self.con.execute("BEGIN")
                try:
                    for table in TABLES.values():
                        self._create(table)  # absent tables stay empty, so queries still run
                        if table.name in self.tables:
                            for chunk in self._fetch(src, table, order="id" if table.name == "events" else ""):
                                self._append(table, chunk)
                    self._create_config_tables()
                    self.con.execute("COMMIT")
                except BaseException:
                    self.con.execute("ROLLBACK")
                    raise
                self.last_event_id = self._top(src)
                self._last_rating_id = self._max_id(src, "ratings")
                src.execute("COMMIT")
            finally:
                src.close()
            self.loaded_at = time.time()
            self.last_refresh = time.monotonic()
            self.load_seconds = time.perf_counter() - start
            return self

    def _top(self, src: sqlite3.Connection) -> int:
        if "events" not in self.tables:
            return 0
        return src.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]

    def _max_id(self, src: sqlite3.Connection, table: str) -> int:
        if table not in self.tables:
            return 0
        return src.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]

    def refresh(self) -> RefreshResult:
        """Bring the copy up to date with what the server committed since the last call."""
        with self._lock:
            start = time.perf_counter()
            src = self._connect_sqlite()
            reload = False
            try:
                src.execute("BEGIN")
                version = src.execute("PRAGMA user_version").fetchone()[0]
                present = self._present_tables(src)
                top = src.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0] if "events" in present else 0
                if version != self.schema_version or present != self.tables or top < self.last_event_id:
                    reload = True  # a migration ran, or the file was replaced
                elif top == self.last_event_id:
                    self.last_refresh = time.monotonic()
                    return RefreshResult(events=0, tickets=0, other=0, seconds=time.perf_counter() - start)
                else:
                    counts = self._apply_increment(src, top)
            finally:
                src.close()  # ends the read transaction
            if reload:
                self.load()
                return RefreshResult(events=0, tickets=0, other=0, full=True, seconds=time.perf_counter() - start)
            self.last_refresh = time.monotonic()
            return RefreshResult(events=counts[0], tickets=counts[1], other=counts[2],
                                 seconds=time.perf_counter() - start)

    def maybe_refresh(self, max_age_s: float = 2.0) -> RefreshResult | None:
        """Refresh unless another caller did in the last ``max_age_s`` seconds (many browser
        sessions share one warehouse)."""
        if time.monotonic() - self.last_refresh < max_age_s:
            return None
        return self.refresh()

    def _touched(self, src: sqlite3.Connection, top: int, new_events: list[pa.Table]) -> dict[str, set[Any]]:
        """Keys of the current-state rows the new events changed, per table."""
        keys: dict[str, set[Any]] = {"tickets": set(), "cases": set(), "ratings": set(), "rectifications": set()}
        for chunk in new_events:
            keys["tickets"].update(t for t in chunk.column("ticket").to_pylist() if t)
        span = (self.last_event_id, top)
        # a new day cancels yesterday's leftovers: they are listed in the event's data only
        for (value,) in src.execute(
            "SELECT json_extract(data, '$.expired') FROM events WHERE id > ? AND id <= ? AND type = 'day_started'", span
        ):
            keys["tickets"].update(json.loads(value or "[]"))
        if "cases" in self.tables or "ratings" in self.tables:
            # case, rating and rectification events name their row in data (docs/data-model.md)
            rows = src.execute(
                "SELECT type, json_extract(data, '$.receipt_no'), json_extract(data, '$.rating_id'),"
                " json_extract(data, '$.rectification_id') FROM events WHERE id > ? AND id <= ?"
                " AND type NOT IN ('ticket_issued', 'ticket_called', 'service_started', 'ticket_recalled')",
                span,
            ).fetchall()
            recompute = False
            for typ, receipt, rating, rect in rows:
                if receipt:
                    keys["cases"].add(receipt)
                if rating is not None:
                    keys["ratings"].add(int(rating))
                if rect is not None:
                    keys["rectifications"].add(int(rect))
                recompute = recompute or typ == "deadline_recomputed"
            if recompute and "cases" in self.tables:  # new calendar data: any open case may move
                keys["cases"].update(r[0] for r in src.execute(
                    "SELECT receipt_no FROM cases WHERE state NOT IN ('completed', 'rejected')"))
            if "ratings" in self.tables:
                keys["ratings"].update(r[0] for r in src.execute(
                    "SELECT id FROM ratings WHERE id > ?", (self._last_rating_id,)))
            if "rectifications" in self.tables and keys["ratings"]:
                for part in _parts(sorted(keys["ratings"])):
                    keys["rectifications"].update(r[0] for r in src.execute(
                        f"SELECT id FROM rectifications WHERE rating_id IN ({', '.join('?' * len(part))})", part))
        return keys

    def _apply_increment(self, src: sqlite3.Connection, top: int) -> tuple[int, int, int]:
        ev_table = TABLES["events"]
        new_events = list(self._fetch(src, ev_table, "id > ? AND id <= ?", (self.last_event_id, top), "id"))
        touched = self._touched(src, top, new_events)
        changed: dict[str, list[pa.Table]] = {}
        for name, keys in touched.items():
            table = TABLES[name]
            if not keys or name not in self.tables:
                continue
            chunks: list[pa.Table] = []
            for part in _parts(sorted(keys)):
                chunks.extend(self._fetch(src, table, f"{_source_key(table)} IN ({', '.join('?' * len(part))})", part))
            changed[name] = chunks
        whole = {name: list(self._fetch(src, t)) for name, t in TABLES.items() if t.whole and name in self.tables}
        last_rating = self._max_id(src, "ratings")

        n_events = sum(t.num_rows for t in new_events)
        n_tickets = n_other = 0
        self.con.execute("BEGIN")
        try:
            for chunk in new_events:
                self._append(ev_table, chunk)
            for name, keys in touched.items():
                if name not in changed:
                    continue
                table = TABLES[name]
                self._delete_keys(table, keys)
                for chunk in changed[name]:
                    self._append(table, chunk)
                    if name == "tickets":
                        n_tickets += chunk.num_rows
                    else:
                        n_other += chunk.num_rows
            for name, chunks in whole.items():
                self.con.execute(f'DELETE FROM "{name}"')
                for chunk in chunks:
                    self._append(TABLES[name], chunk)
                    n_other += chunk.num_rows
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.last_event_id = top
        self._last_rating_id = last_rating
        return n_events, n_tickets, n_other

    def _delete_keys(self, table: _Table, keys: set[Any]) -> None:
        assert table.key is not None
        values = sorted(keys)
        arrow_type = next(t for n, _, t, _ in table.columns if n == table.key)
        self.con.register("_keys", pa.table({"k": pa.array(values, type=arrow_type)}))
        try:
            day_filter = ""
            if table.name == "tickets":
                # ticket ids start with their day (yyyymmdd-): let DuckDB skip the other days
                if all(len(k) > 9 and k[8] == "-" and k[:8].isdigit() for k in values):
                    days = {f"{k[:4]}-{k[4:6]}-{k[6:8]}" for k in values}
                    day_filter = "service_date IN (" + ", ".join(f"DATE '{d}'" for d in sorted(days)) + ") AND "
            self.con.execute(f'DELETE FROM "{table.name}" WHERE {day_filter}"{table.key}" IN (SELECT k FROM _keys)')
        finally:
            self.con.unregister("_keys")

    # ------------------------------------------------------------------ config tables

    def _create_config_tables(self) -> None:
        """The hall config as two small tables, so SQL can join names, kinds and departments."""
        cfg = self.config
        queues = pd.DataFrame(
            [
                {"code": q.code, "name": q.name, "kind": q.kind.value, "department": q.department or "",
                 "alert_waiting": q.alert_waiting, "alert_wait_min": q.alert_wait_min, "ord": i}
                for i, q in enumerate(cfg.queues)
            ] if cfg else [],
            columns=["code", "name", "kind", "department", "alert_waiting", "alert_wait_min", "ord"],
        )
        windows = pd.DataFrame(
            [
                {"number": w.number, "name": w.name, "kind": w.kind.value, "zone": w.zone,
                 "department": w.department or "", "queues": ",".join(wq.queue for wq in w.queues)}
                for w in cfg.windows
            ] if cfg else [],
            columns=["number", "name", "kind", "zone", "department", "queues"],
        )
        queues = queues.astype({"code": "string", "name": "string", "kind": "string", "department": "string"})
        windows = windows.astype({"name": "string", "kind": "string", "zone": "string", "department": "string",
                                  "queues": "string"})
        for name, df in (("queue_cfg", queues), ("window_cfg", windows)):
            self.con.register("_cfg", df)
            try:
                self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _cfg")
            finally:
                self.con.unregister("_cfg")

    # ------------------------------------------------------------------ queries

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self.con.cursor()
            self._local.cursor = cur
        return cur

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
        """Run ``sql`` on this thread's cursor. Named parameters (``$name``) may come in a
        dict holding more names than the statement uses."""
        if isinstance(params, dict):
            used = set(_PARAM.findall(sql))
            params = {k: v for k, v in params.items() if k in used}
        return self.cursor().execute(sql, params or [])

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> pd.DataFrame:
        return self.execute(sql, params).df()

    def row(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> tuple[Any, ...]:
        return self.execute(sql, params).fetchone()  # type: ignore[return-value]

    def scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        row = self.row(sql, params)
        return row[0] if row else None

    def count(self, table: str) -> int:
        return int(self.scalar(f'SELECT COUNT(*) FROM "{table}"'))

    def has(self, table: str) -> bool:
        return table in self.tables

    def data_range(self) -> tuple[date | None, date | None]:
        row = self.row("SELECT MIN(service_date), MAX(service_date) FROM tickets")
        return (row[0], row[1]) if row else (None, None)


def _parts(values: list[Any], size: int = 500) -> Iterable[list[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _source_key(table: _Table) -> str:
    """The key column's name in SQLite (``win`` is ``window`` there)."""
    assert table.key is not None
    return next(expr for name, expr, _, _ in table.columns if name == table.key)
