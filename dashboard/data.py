"""The dashboard's data path: the hall's SQLite file, read-only, copied into DuckDB.

The queue server writes one SQLite file in WAL mode. ``HallWarehouse`` reads it with
Python's ``sqlite3`` through a read-only URI (``file:...?mode=ro``; no DuckDB extension, so
nothing is downloaded at run time), turns the rows into Arrow tables and loads them into an
in-process DuckDB database once. ``refresh()`` then appends only what was added since:

* ``events`` is append-only: rows with ``id`` above the high-water mark are appended.
* ``tickets`` holds current state: the tickets named by the new events (and the tickets a
  ``day_started`` event expired) are re-read and replaced.
* ``cases``, ``ratings`` and ``rectifications`` (schema migration 2), when present: the rows
  named by the new events (``data.receipt_no``, ``data.rating_id``,
  ``data.rectification_id``, docs/data-model.md) are re-read and replaced; every open case
  after a ``deadline_recomputed``.
* ``windows``, ``service_times`` and ``meta`` are a few rows each: re-read whole.

What is copied is what the figures use. ``events`` keeps the event types of ``EVENT_TYPES``
(calls, finishes, no-shows, transfers, cancellations, window and staff events: issue and
start of service are in ``tickets``), and of the JSON ``data`` only a few fields, read by
SQLite as one JSON array per row and split by DuckDB. Applicant names, phone and ID numbers
are never copied.

A large file is read by several processes at once (``workers``): events by ranges of ids,
the other tables by ranges of rowid. Events are append-only, so a range below the
high-water mark read first is stable; the current-state tables are read after it and any
change since is caught by the ``refresh()`` that ends the load. Nothing here imports
Streamlit: the class is tested and benchmarked on its own.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from queue_server.hall.config import HallConfig

CHUNK_ROWS = 200_000
PARALLEL_ROWS = 400_000  # read in worker processes from this many rows on
TASK_ROWS = 1_000_000  # rows per worker task
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")

# ---------------------------------------------------------------------- what is copied


def _epoch(col: str) -> str:
    """SQLite expression: an ISO 8601 instant with offset as Unix seconds (ms precision)."""
    return f"round((julianday({col}) - 2440587.5) * 86400.0, 3)"


def _local_seconds(col: str) -> str:
    """SQLite expression: seconds since local midnight, read from the ISO text itself (the
    text carries the hall's wall-clock time, so no time zone database is needed)."""
    return (f"(CAST(substr({col}, 12, 2) AS INTEGER) * 3600 + CAST(substr({col}, 15, 2) AS INTEGER) * 60"
            f" + CAST(substr({col}, 18, 2) AS INTEGER))")


@dataclass(frozen=True)
class Col:
    name: str  # column in DuckDB
    sql: str | None  # SQLite expression fetched (None: computed by DuckDB from ``duck``)
    arrow: pa.DataType | None
    duck_type: str
    duck: str | None = None  # DuckDB expression over the fetched columns (default: the column)


def _s(name: str, sql: str | None = None) -> Col:
    return Col(name, sql or name, pa.string(), "VARCHAR")


def _i(name: str, sql: str | None = None) -> Col:
    return Col(name, sql or name, pa.int64(), "BIGINT")


def _f(name: str, sql: str | None = None) -> Col:
    return Col(name, sql or name, pa.float64(), "DOUBLE")


def _ts(name: str, col: str) -> Col:
    return Col(name, _epoch(col), pa.float64(), "DOUBLE")


def _d(name: str, sql: str | None = None) -> Col:
    """A local date: 'YYYY-MM-DD' text in SQLite (or the first ten characters of an ISO
    instant), DATE in DuckDB."""
    return Col(name, sql or name, pa.string(), "DATE", f'CAST("{name}" AS DATE)')


EVENT_TYPES = (
    "ticket_called", "service_finished", "ticket_no_show", "ticket_transferred", "ticket_cancelled",
    "window_opened", "window_paused", "window_resumed", "window_closed", "staff_logged_in", "staff_logged_out",
)
# the JSON fields kept, in the order of the array SQLite makes (json_extract with many paths)
_EVENT_FIELDS = ("staff", "staff_name", "queue", "waited_s", "service_s", "occupancy_s", "reason", "to_queue")
_EVENT_JSON = "json_extract(data, " + ", ".join(f"'$.{f}'" for f in _EVENT_FIELDS) + ")"


def _field(name: str, duck_type: str) -> Col:
    i = _EVENT_FIELDS.index(name)
    value = f"x ->> '$[{i}]'"
    return Col(name, None, None, duck_type, value if duck_type == "VARCHAR" else f"TRY_CAST({value} AS {duck_type})")


EVENT_COLUMNS = [
    _i("id"), _s("type"), _f("ts"), _d("service_date"), _i("sec_of_day", _local_seconds("at")), _s("ticket"),
    _i("win", "window"),  # "window" is an SQL keyword in DuckDB
    Col("x", _EVENT_JSON, pa.string(), "", None),  # fetched, split below, not stored
    _field("staff", "VARCHAR"), _field("staff_name", "VARCHAR"), _field("queue", "VARCHAR"),
    _field("waited_s", "DOUBLE"), _field("service_s", "DOUBLE"), _field("occupancy_s", "DOUBLE"),
    _field("reason", "VARCHAR"), _field("to_queue", "VARCHAR"),
]

TICKET_COLUMNS = [
    _s("id"), _s("number"),
    _s("queue"),  # the queue it is in now (moves on transfer)
    _s("issue_queue", "rtrim(number, '0123456789')"),  # the queue it was issued in (number prefix)
    _d("service_date"), _i("seq"), _s("channel"), _s("priority"), _s("state"), _i("checked_in"),
    _i("win", "window"), _i("target_window"), _i("recalls"), _i("transfers"), _s("served_by"),
    _ts("issued_ts", "issued_at"), _ts("arrived_ts", "arrived_at"), _ts("called_ts", "called_at"),
    _ts("served_ts", "served_at"), _ts("appointment_ts", "appointment_slot"),
    _i("issued_hour", "CAST(substr(issued_at, 12, 2) AS INTEGER)"),
]

WINDOW_COLUMNS = [
    _i("number"), _s("state"), _s("pause_reason"), _s("staff"), _s("staff_name"), _s("current_ticket"),
    _ts("state_since_ts", "state_since"),
]

SERVICE_TIME_COLUMNS = [_s("queue"), _f("mean_s"), _i("samples")]
META_COLUMNS = [_s("key"), _s("value")]

# migration 2 (docs/data-model.md)
CASE_COLUMNS = [
    _s("receipt_no"), _d("service_date"), _s("matter_code"), _s("matter_name"), _s("department"),
    _s("case_type"), _i("one_window"), _i("promised_working_days"), _i("win", "window"),
    _s("accepted_window_kind"), _s("accepted_by"), _s("accepted_by_name"), _s("state"),
    _ts("accepted_ts", "accepted_at"), _d("accepted_date", "substr(accepted_at, 1, 10)"), _ts("due_ts", "due_at"),
    _i("provisional"), _i("suspensions"), _i("extension_days"), _s("deficiency_item"),
    _s("deficiency_promised_date"), _ts("deficiency_supplied_ts", "deficiency_supplied_at"), _s("reviewer"),
    _ts("decided_ts", "decided_at"), _d("decided_date", "substr(decided_at, 1, 10)"), _s("decision"),
    _i("decided_on_time"), _ts("delivered_ts", "delivered_at"),
]

RATING_COLUMNS = [
    _i("id"), _s("ticket"), _s("ticket_number"), _d("service_date"), _s("queue"), _i("win", "window"),
    _s("staff"), _s("staff_name"), _s("department"), _s("matter_code"), _s("matter_name"), _s("receipt_no"),
    _i("score"), _s("text"), _ts("at_ts", "at"), _i("excluded"), _i("follow_up_of"),
]

RECTIFICATION_COLUMNS = [
    _i("id"), _i("rating_id"), _s("ticket"), _i("win", "window"), _s("owner_department"), _s("owner_staff"),
    _s("owner_staff_name"), _s("state"), _ts("opened_ts", "opened_at"), _d("opened_date", "substr(opened_at, 1, 10)"),
    _ts("contact_due_ts", "contact_due"), _ts("rectify_due_ts", "rectify_due"), _i("provisional"),
    _ts("contacted_ts", "contacted_at"), _ts("rectified_ts", "rectified_at"), _ts("revisit_ts", "revisit_at"),
    _i("revisit_satisfaction"), _ts("closed_ts", "closed_at"), _s("outcome"), _ts("appealed_ts", "appealed_at"),
    _s("appeal_decision"), _i("contact_on_time"), _i("rectify_on_time"),
]


@dataclass(frozen=True, kw_only=True)
class _Table:
    name: str
    columns: list[Col]
    key: str | None = None  # primary key (DuckDB name), for replacing changed rows
    where: str = ""  # SQLite filter of the rows copied
    whole: bool = False  # a few rows: re-read whole on every change
    split: str = "rowid"  # column to cut a large table into ranges for the workers

    @property
    def fetched(self) -> list[Col]:
        return [c for c in self.columns if c.sql is not None]

    @property
    def stored(self) -> list[Col]:
        return [c for c in self.columns if c.duck_type]

    def schema(self) -> pa.Schema:
        return pa.schema([(c.name, c.arrow) for c in self.fetched])

    def source_key(self) -> str:
        """The key column's name in SQLite (``win`` is ``window`` there)."""
        return next(c.sql for c in self.columns if c.name == self.key)  # type: ignore[return-value]


# the first call of each ticket: its wait (等候时长); kept up to date by refresh()
_FIRST_CALLS = """
    SELECT e.id, e.ticket, e.service_date, e.queue, e.win, e.staff, e.waited_s FROM events e
    WHERE e.type = 'ticket_called'
    QUALIFY ROW_NUMBER() OVER (PARTITION BY e.ticket ORDER BY e.id) = 1
"""

# every call with the end of its stay at the counter (the first finish, no-show, transfer
# or cancellation of that ticket after it): the windows' busy time; kept up to date by refresh()
_CALL_ENDS = "('service_finished', 'ticket_no_show', 'ticket_transferred', 'ticket_cancelled')"
_CALLS = f"""
    WITH c AS (SELECT id, ticket, win, staff, ts, sec_of_day, service_date FROM events WHERE type = 'ticket_called'),
    n AS (
        SELECT c.id, MIN(e.ts) AS end_ts
        FROM c JOIN events e ON e.ticket = c.ticket AND e.id > c.id AND e.type IN {_CALL_ENDS}
        GROUP BY c.id
    )
    SELECT c.*, n.end_ts FROM c LEFT JOIN n ON n.id = c.id ORDER BY c.id
"""

_EVENT_FILTER = "type IN (" + ", ".join(f"'{t}'" for t in EVENT_TYPES) + ")"

TABLES: dict[str, _Table] = {
    "events": _Table(name="events", columns=EVENT_COLUMNS, where=_EVENT_FILTER, split="id"),
    "tickets": _Table(name="tickets", columns=TICKET_COLUMNS, key="id"),
    "windows": _Table(name="windows", columns=WINDOW_COLUMNS, key="number", whole=True),
    "service_times": _Table(name="service_times", columns=SERVICE_TIME_COLUMNS, key="queue", whole=True),
    "meta": _Table(name="meta", columns=META_COLUMNS, key="key", whole=True),
    "cases": _Table(name="cases", columns=CASE_COLUMNS, key="receipt_no"),
    "ratings": _Table(name="ratings", columns=RATING_COLUMNS, key="id", split="id"),
    "rectifications": _Table(name="rectifications", columns=RECTIFICATION_COLUMNS, key="id", split="id"),
}


# ---------------------------------------------------------------------- reading SQLite


def connect_readonly(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise FileNotFoundError(f"no database at {path}")
    uri = f"file:{path.resolve().as_posix()}?mode=ro"
    con = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA busy_timeout = 5000")
    return con


def fetch(src: sqlite3.Connection, table: _Table, where: str = "", params: Sequence[Any] = (),
          order: str = "") -> Iterable[pa.Table]:
    """The table's rows (filtered) as Arrow tables of up to CHUNK_ROWS rows."""
    cols = table.fetched
    sql = f"SELECT {', '.join(c.sql for c in cols)} FROM {table.name}"  # type: ignore[misc]
    conditions = [w for w in (table.where, where) if w]
    if conditions:
        sql += " WHERE " + " AND ".join(f"({w})" for w in conditions)
    if order:
        sql += f" ORDER BY {order}"
    cur = src.execute(sql, tuple(params))
    schema = table.schema()
    while True:
        rows = cur.fetchmany(CHUNK_ROWS)
        if not rows:
            break
        columns = list(zip(*rows))
        yield pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, schema)], schema=schema)


def _read_task(path: str, name: str, where: str, params: tuple[Any, ...]) -> pa.Table | None:
    """One range of one table read by a worker process (``python -m dashboard.data``, which
    streams Arrow IPC on its stdout): one Arrow table, or None. A plain subprocess rather
    than multiprocessing, so it works whatever the calling program's main module is."""
    cmd = [sys.executable, "-m", "dashboard.data", path, name, where, json.dumps(list(params))]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    try:
        table = pa.ipc.open_stream(proc.stdout).read_all()
    except pa.ArrowInvalid:
        table = None
    err = proc.stderr.read() if proc.stderr else b""
    if proc.wait() != 0:
        raise RuntimeError(f"reading {name} ({where} {params}) failed: {err.decode(errors='replace')}")
    return table if table is not None and table.num_rows else None


def _worker_main(argv: list[str]) -> int:
    path, name, where, params = argv[0], argv[1], argv[2], tuple(json.loads(argv[3]))
    table = TABLES[name]
    src = connect_readonly(Path(path))
    try:
        out = sys.stdout.buffer
        writer = pa.ipc.new_stream(out, table.schema())
        for chunk in fetch(src, table, where, params, order=table.split if table.split != "rowid" else ""):
            writer.write_table(chunk)
        writer.close()
        out.flush()
    finally:
        src.close()
    return 0


# ---------------------------------------------------------------------- the warehouse


@dataclass(frozen=True, kw_only=True)
class RefreshResult:
    events: int  # events appended
    tickets: int  # ticket rows replaced
    other: int  # other rows re-read (windows, cases, ...)
    seconds: float
    full: bool = False  # a full reload happened (new schema, replaced file)


@dataclass
class LoadStats:
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    workers: int = 0


class HallWarehouse:
    """An in-process DuckDB copy of one hall's SQLite database, kept up to date by
    ``refresh()``. Safe to share between threads: reads go through per-thread cursors and
    see committed snapshots; loads and refreshes are serialised by a lock."""

    def __init__(self, sqlite_path: str | Path, config: HallConfig | None = None, *,
                 workers: int | None = None) -> None:
        self.path = Path(sqlite_path)
        self.config = config
        self.workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
        self.con = duckdb.connect(":memory:")
        self._lock = threading.RLock()
        self._local = threading.local()
        self.last_event_id = 0
        self.schema_version = 0
        self.tables: set[str] = set()  # source tables present in the SQLite file
        self.loaded_at: float | None = None
        self.last_refresh: float = 0.0
        self.load_stats = LoadStats()
        self._last_rating_id = 0
        self._whole: dict[str, pa.Table | None] = {}  # last copy of the small tables

    @property
    def load_seconds(self) -> float:
        return self.load_stats.seconds

    # ------------------------------------------------------------------ DuckDB side

    def _create(self, table: _Table) -> None:
        cols = ", ".join(f'"{c.name}" {c.duck_type}' for c in table.stored)
        self.con.execute(f'DROP TABLE IF EXISTS "{table.name}"')
        self.con.execute(f'CREATE TABLE "{table.name}" ({cols})')

    def _append(self, table: _Table, chunk: pa.Table) -> None:
        select = ", ".join(c.duck or f'"{c.name}"' for c in table.stored)
        self.con.from_arrow(chunk).project(select).insert_into(table.name)

    # ------------------------------------------------------------------ load

    def load(self) -> HallWarehouse:
        """Copy everything (cold load). Returns self."""
        with self._lock:
            start = time.perf_counter()
            src = connect_readonly(self.path)
            try:
                src.execute("BEGIN")  # the high-water mark and the sizes, in one snapshot
                self.tables = _present_tables(src)
                self.schema_version = src.execute("PRAGMA user_version").fetchone()[0]
                top = _top(src, self.tables)
                spans = {name: _span(src, t) for name, t in TABLES.items() if name in self.tables and not t.whole}
                src.execute("COMMIT")
                tasks = self._tasks(spans, top)
                parallel = self.workers > 1 and sum(n for _, _, _, n in tasks) >= PARALLEL_ROWS
                self.con.execute("BEGIN")
                try:
                    for table in TABLES.values():
                        self._create(table)  # absent tables stay empty, so queries still run
                    rows = {name: 0 for name in TABLES}
                    for name, chunk in self._run(tasks, src, parallel):
                        if chunk is not None:
                            self._append(TABLES[name], chunk)
                            rows[name] += chunk.num_rows
                    self._whole = {}
                    for name, table in TABLES.items():  # the small ones, now (after the mark)
                        if table.whole and name in self.tables:
                            chunks = list(fetch(src, table))
                            for chunk in chunks:
                                self._append(table, chunk)
                                rows[name] += chunk.num_rows
                            self._whole[name] = pa.concat_tables(chunks) if chunks else None
                    self._create_config_tables()
                    self.con.execute(f"CREATE OR REPLACE TABLE first_calls AS {_FIRST_CALLS}")
                    self.con.execute(f"CREATE OR REPLACE TABLE calls AS {_CALLS}")
                    self.con.execute("COMMIT")
                except BaseException:
                    self.con.execute("ROLLBACK")
                    raise
                self.last_event_id = top
                self._last_rating_id = self.scalar("SELECT COALESCE(MAX(id), 0) FROM ratings") or 0
            finally:
                src.close()
            self.loaded_at = time.time()
            self._catch_up()  # what the server committed while the workers read
            self.last_refresh = time.monotonic()
            self.load_stats = LoadStats(seconds=time.perf_counter() - start, rows=rows,
                                        workers=self.workers if parallel else 1)
            return self

    def _tasks(self, spans: dict[str, tuple[int, int, int]], top: int) -> list[tuple[str, str, tuple, int]]:
        """(table, where, params, rows) ranges: events up to the mark, the others whole."""
        tasks = []
        for name, (low, high, count) in spans.items():
            table = TABLES[name]
            if name == "events":
                high = min(high, top)
            if count == 0 or high < low:
                continue
            parts = max(1, -(-count // TASK_ROWS))
            step = -(-(high - low + 1) // parts)
            for i in range(parts):
                a = low + i * step
                b = min(high, a + step - 1)
                tasks.append((name, f"{table.split} BETWEEN ? AND ?", (a, b), count // parts))
        return sorted(tasks, key=lambda t: -t[3])  # the biggest first

    def _run(self, tasks: list[tuple[str, str, tuple, int]], src: sqlite3.Connection,
             parallel: bool) -> Iterable[tuple[str, pa.Table | None]]:
        if not parallel:
            for name, where, params, _ in tasks:
                table = TABLES[name]
                order = table.split if table.split != "rowid" else ""
                for chunk in fetch(src, table, where, params, order=order):
                    yield name, chunk
            return
        with ThreadPoolExecutor(max_workers=min(self.workers, len(tasks))) as pool:  # threads wait on processes
            futures = [(name, pool.submit(_read_task, str(self.path), name, where, params))
                       for name, where, params, _ in tasks]
            for name, fut in futures:
                yield name, fut.result()

    def _catch_up(self) -> None:
        src = connect_readonly(self.path)
        try:
            src.execute("BEGIN")
            top = _top(src, self.tables)
            if top > self.last_event_id:
                self._apply_increment(src, top)
        finally:
            src.close()

    # ------------------------------------------------------------------ refresh

    def refresh(self) -> RefreshResult:
        """Bring the copy up to date with what the server committed since the last call."""
        with self._lock:
            start = time.perf_counter()
            src = connect_readonly(self.path)
            reload = False
            try:
                src.execute("BEGIN")  # one snapshot
                version = src.execute("PRAGMA user_version").fetchone()[0]
                present = _present_tables(src)
                top = _top(src, present)
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

    def _touched(self, src: sqlite3.Connection, top: int) -> dict[str, set[Any]]:
        """Keys of the current-state rows the new events changed, per table."""
        keys: dict[str, set[Any]] = {"tickets": set(), "cases": set(), "ratings": set(), "rectifications": set()}
        span = (self.last_event_id, top)
        with_rows = "cases" in self.tables or "ratings" in self.tables
        # case, rating and rectification events name their row in data (docs/data-model.md);
        # a new day cancels yesterday's leftovers, listed in its data only
        rows = src.execute(
            "SELECT type, ticket, CASE WHEN type = 'day_started' THEN json_extract(data, '$.expired') END"
            + (", json_extract(data, '$.receipt_no', '$.rating_id', '$.rectification_id')" if with_rows else "")
            + " FROM events WHERE id > ? AND id <= ?", span,
        ).fetchall()
        recompute = False
        for row in rows:
            typ, ticket, expired = row[0], row[1], row[2]
            if ticket:
                keys["tickets"].add(ticket)
            if expired:
                keys["tickets"].update(json.loads(expired))
            if with_rows and row[3] and not row[3].startswith("[null,null,null"):
                receipt, rating, rect = json.loads(row[3])
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
        new_events = list(fetch(src, ev_table, "id > ? AND id <= ?", (self.last_event_id, top), "id"))
        touched = self._touched(src, top)
        changed: dict[str, list[pa.Table]] = {}
        for name, keys in touched.items():
            table = TABLES[name]
            if not keys or name not in self.tables:
                continue
            chunks: list[pa.Table] = []
            for part in _parts(sorted(keys)):
                chunks.extend(fetch(src, table, f"{table.source_key()} IN ({', '.join('?' * len(part))})", part))
            changed[name] = chunks
        whole = {}
        for name, t in TABLES.items():  # re-read; replaced only when changed
            if t.whole and name in self.tables:
                chunks = list(fetch(src, t))
                now = pa.concat_tables(chunks) if chunks else None
                before = self._whole.get(name)
                if now is None and before is None or now is not None and before is not None and now.equals(before):
                    continue
                whole[name] = (now, chunks)
        last_rating = _max_id(src, "ratings", self.tables)

        n_events = sum(t.num_rows for t in new_events)
        n_tickets = n_other = 0
        self.con.execute("BEGIN")
        try:
            for chunk in new_events:
                self._append(ev_table, chunk)
            if n_events:  # the first calls among the new events (a ticket's calls are all on its day)
                self.con.execute("""
                    INSERT INTO first_calls
                    SELECT e.id, e.ticket, e.service_date, e.queue, e.win, e.staff, e.waited_s FROM events e
                    WHERE e.type = 'ticket_called' AND e.id > $last
                      AND NOT EXISTS (SELECT 1 FROM first_calls f WHERE f.ticket = e.ticket
                                      AND f.service_date = e.service_date AND f.service_date >= $day)
                    QUALIFY ROW_NUMBER() OVER (PARTITION BY e.ticket ORDER BY e.id) = 1
                """, {"last": self.last_event_id, "day": _first_day(new_events)})
                # new calls, and the end of the calls the new events close
                self.con.execute("""
                    INSERT INTO calls SELECT id, ticket, win, staff, ts, sec_of_day, service_date, NULL FROM events
                    WHERE id > $last AND type = 'ticket_called'
                """, {"last": self.last_event_id})
                self.con.execute(f"""
                    UPDATE calls SET end_ts = n.end_ts FROM (
                        SELECT c.id, MIN(e.ts) AS end_ts
                        FROM calls c JOIN events e ON e.ticket = c.ticket AND e.id > c.id
                        WHERE c.end_ts IS NULL AND c.service_date >= $day AND e.id > $last
                          AND e.type IN {_CALL_ENDS}
                        GROUP BY c.id
                    ) n WHERE calls.id = n.id
                """, {"last": self.last_event_id, "day": _first_day(new_events)})
            for name, chunks in changed.items():
                table = TABLES[name]
                self._delete_keys(table, touched[name])
                for chunk in chunks:
                    self._append(table, chunk)
                    if name == "tickets":
                        n_tickets += chunk.num_rows
                    else:
                        n_other += chunk.num_rows
            for name, (_, chunks) in whole.items():
                self.con.execute(f'DELETE FROM "{name}"')
                for chunk in chunks:
                    self._append(TABLES[name], chunk)
                    n_other += chunk.num_rows
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        for name, (table, _) in whole.items():
            self._whole[name] = table
        self.last_event_id = top
        self._last_rating_id = last_rating
        return n_events, n_tickets, n_other

    def _delete_keys(self, table: _Table, keys: set[Any]) -> None:
        assert table.key is not None
        values = sorted(keys)
        arrow_type = next(c.arrow for c in table.columns if c.name == table.key)
        keys = pa.table({"k": pa.array(values, type=arrow_type)})  # noqa: F841 - read by DuckDB below
        self.con.execute(f'DELETE FROM "{table.name}" WHERE {_prune(table, values)}"{table.key}" IN (SELECT k FROM keys)')

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
        queues = queues.astype({"code": "string", "name": "string", "kind": "string", "department": "string",
                                "alert_waiting": "int64", "alert_wait_min": "int64", "ord": "int64"})
        windows = windows.astype({"number": "int64", "name": "string", "kind": "string", "zone": "string",
                                  "department": "string", "queues": "string"})
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

    def meta(self, key: str) -> str | None:
        """A value of the hall's ``meta`` table (as of the last refresh), or None."""
        return self.scalar("SELECT value FROM meta WHERE key = $key", {"key": key})

    def data_range(self) -> tuple[date | None, date | None]:
        row = self.row("SELECT MIN(service_date), MAX(service_date) FROM tickets")
        return (row[0], row[1]) if row else (None, None)

    def _connect_sqlite(self) -> sqlite3.Connection:
        return connect_readonly(self.path)


def _present_tables(src: sqlite3.Connection) -> set[str]:
    return {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _top(src: sqlite3.Connection, tables: set[str]) -> int:
    if "events" not in tables:
        return 0
    return src.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]


def _max_id(src: sqlite3.Connection, table: str, tables: set[str]) -> int:
    if table not in tables:
        return 0
    return src.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]


def _span(src: sqlite3.Connection, table: _Table) -> tuple[int, int, int]:
    """(lowest, highest, about how many rows) of the column the table is cut by."""
    low, high = src.execute(f"SELECT MIN({table.split}), MAX({table.split}) FROM {table.name}").fetchone()
    if low is None:
        return 0, -1, 0
    return low, high, high - low + 1  # ids and rowids are dense enough to stand for a count


def _prune(table: _Table, keys: list[Any]) -> str:
    """A condition DuckDB can check against each row group's min/max, so a delete of a few
    rows does not scan the whole table: ticket ids (yyyymmdd-A001) and receipt numbers
    (SL-yyyymmdd-0001) carry their day; integer ids are ranges."""
    if table.name in ("tickets", "cases"):
        at = 0 if table.name == "tickets" else 3
        days = {k[at : at + 8] for k in keys}
        if all(len(d) == 8 and d.isdigit() for d in days):
            return "service_date IN (" + ", ".join(f"DATE '{d[:4]}-{d[4:6]}-{d[6:]}'" for d in sorted(days)) + ") AND "
        return ""
    if table.key == "id" and keys and all(isinstance(k, int) for k in keys):
        return f"id BETWEEN {min(keys)} AND {max(keys)} AND "
    return ""


def _first_day(chunks: list[pa.Table]) -> date:
    import pyarrow.compute as pc

    return date.fromisoformat(min(pc.min(c.column("service_date")).as_py() for c in chunks))


def _parts(values: list[Any], size: int = 500) -> Iterable[list[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


if __name__ == "__main__":  # a worker of the parallel load (see _read_task)
    sys.exit(_worker_main(sys.argv[1:]))
