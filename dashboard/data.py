"""The dashboard's data path: the hall's SQLite file, read-only, copied into DuckDB.

The queue server writes one SQLite file in WAL mode. ``HallWarehouse`` keeps an in-process
DuckDB copy of what the figures use, and a cache of it in a DuckDB file next to the hall
database (``default_cache_path``), so a restart starts warm: ``load()`` restores the cache
when it was written by this ``CACHE_VERSION`` from this same database, else builds the copy
cold (ADBC's SQLite driver into Arrow, several ranges at once) and saves it. ``refresh()``
then reads only what was added since (Python's ``sqlite3``, one read transaction):

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
are never copied. Instants travel as their ISO text and are parsed by DuckDB, exactly.

The cache file is never held open (restored read-only and detached, saved to a new file
renamed over it), so several dashboard processes can share it; docs/dashboard.md, "Data
path". Nothing here imports Streamlit: the class is tested and benchmarked on its own.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
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

log = logging.getLogger(__name__)

CHUNK_ROWS = 200_000
PARALLEL_ROWS = 400_000  # read by several threads at once from this many rows on
TASK_ROWS = 1_000_000  # rows per range read
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
# What the cache file holds and how: bump on any change of the copied tables, their columns
# or the derived ones, and every cache written before is rebuilt.
CACHE_VERSION = 1
SAVE_EVERY_EVENTS = 20_000  # the cache file is rewritten after this many new events ...
SAVE_EVERY_S = 600.0  # ... or this long after the last save when anything is new


def default_cache_path(db: str | Path) -> Path:
    """Where the dashboard keeps its cache of a hall database: ``hall.db`` ->
    ``hall.dashboard.duckdb`` next to it."""
    db = Path(db)
    return db.with_name(f"{db.stem}.dashboard.duckdb")


# ---------------------------------------------------------------------- what is copied


def _local_seconds(col: str) -> str:
    """SQLite expression: seconds since local midnight, read from the ISO text itself (the
    text carries the hall's wall-clock time, so no time zone database is needed)."""
    return (
        f"(CAST(substr({col}, 12, 2) AS INTEGER) * 3600 + CAST(substr({col}, 15, 2) AS INTEGER) * 60"
        f" + CAST(substr({col}, 18, 2) AS INTEGER))"
    )


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
    """An instant: fetched as its ISO 8601 text with offset, parsed by DuckDB into Unix
    seconds (exact to the microsecond; SQLite's ``julianday`` rounds to the millisecond)."""
    # whole microseconds divided once: the double nearest the instant, as Python's timestamp()
    return Col(name, col, pa.string(), "DOUBLE", f'epoch_us(CAST("{name}" AS TIMESTAMPTZ)) / 1000000.0')


def _d(name: str, sql: str | None = None) -> Col:
    """A local date: 'YYYY-MM-DD' text in SQLite (or the first ten characters of an ISO
    instant), DATE in DuckDB."""
    return Col(name, sql or name, pa.string(), "DATE", f'CAST("{name}" AS DATE)')


EVENT_TYPES = (
    "ticket_called",
    "service_finished",
    "ticket_no_show",
    "ticket_transferred",
    "ticket_cancelled",
    "window_opened",
    "window_paused",
    "window_resumed",
    "window_closed",
    "staff_logged_in",
    "staff_logged_out",
)
# the JSON fields kept, in the order of the array SQLite makes (json_extract with many paths)
_EVENT_FIELDS = ("staff", "staff_name", "queue", "waited_s", "service_s", "occupancy_s", "reason", "to_queue")
_EVENT_JSON = "json_extract(data, " + ", ".join(f"'$.{f}'" for f in _EVENT_FIELDS) + ")"


def _field(name: str, duck_type: str) -> Col:
    i = _EVENT_FIELDS.index(name)
    value = f"x ->> '$[{i}]'"
    return Col(
        name, None, None, duck_type, value if duck_type == "VARCHAR" else f"TRY_CAST({value} AS {duck_type})"
    )


EVENT_COLUMNS = [
    _i("id"),
    _s("type"),
    _f("ts"),
    _d("service_date"),
    _i("sec_of_day", _local_seconds("at")),
    _s("ticket"),
    _i("win", "window"),  # "window" is an SQL keyword in DuckDB
    Col("x", _EVENT_JSON, pa.string(), "", None),  # fetched, split below, not stored
    _field("staff", "VARCHAR"),
    _field("staff_name", "VARCHAR"),
    _field("queue", "VARCHAR"),
    _field("waited_s", "DOUBLE"),
    _field("service_s", "DOUBLE"),
    _field("occupancy_s", "DOUBLE"),
    _field("reason", "VARCHAR"),
    _field("to_queue", "VARCHAR"),
]

TICKET_COLUMNS = [
    _s("id"),
    _s("number"),
    _s("queue"),  # the queue it is in now (moves on transfer)
    _s("issue_queue", "rtrim(number, '0123456789')"),  # the queue it was issued in (number prefix)
    _d("service_date"),
    _i("seq"),
    _s("channel"),
    _s("priority"),
    _s("state"),
    _i("checked_in"),
    _i("win", "window"),
    _i("target_window"),
    _i("recalls"),
    _i("transfers"),
    _s("served_by"),
    _ts("issued_ts", "issued_at"),
    _ts("arrived_ts", "arrived_at"),
    _ts("called_ts", "called_at"),
    _ts("served_ts", "served_at"),
    _ts("appointment_ts", "appointment_slot"),
    _i("issued_hour", "CAST(substr(issued_at, 12, 2) AS INTEGER)"),
]

WINDOW_COLUMNS = [
    _i("number"),
    _s("state"),
    _s("pause_reason"),
    _s("staff"),
    _s("staff_name"),
    _s("current_ticket"),
    _ts("state_since_ts", "state_since"),
]

SERVICE_TIME_COLUMNS = [_s("queue"), _f("mean_s"), _i("samples")]
META_COLUMNS = [_s("key"), _s("value")]

# migration 2 (docs/data-model.md)
CASE_COLUMNS = [
    _s("receipt_no"),
    _d("service_date"),
    _s("matter_code"),
    _s("matter_name"),
    _s("department"),
    _s("case_type"),
    _i("one_window"),
    _i("promised_working_days"),
    _i("win", "window"),
    _s("accepted_window_kind"),
    _s("accepted_by"),
    _s("accepted_by_name"),
    _s("state"),
    _ts("accepted_ts", "accepted_at"),
    _d("accepted_date", "substr(accepted_at, 1, 10)"),
    _ts("due_ts", "due_at"),
    _i("provisional"),
    _i("suspensions"),
    _i("extension_days"),
    _s("deficiency_item"),
    _s("deficiency_promised_date"),
    _ts("deficiency_supplied_ts", "deficiency_supplied_at"),
    _s("reviewer"),
    _ts("decided_ts", "decided_at"),
    _d("decided_date", "substr(decided_at, 1, 10)"),
    _s("decision"),
    _i("decided_on_time"),
    _ts("delivered_ts", "delivered_at"),
    # 最多跑一次: the days the citizen came for the case (docs/rules.md R12)
    _s("delivery_method"),
    _d("delivered_date", "substr(delivered_at, 1, 10)"),
    _d("supplied_date", "substr(deficiency_supplied_at, 1, 10)"),
]

# migration 3: complaints (投诉/纠纷); a few rows: re-read whole
COMPLAINT_COLUMNS = [
    _i("id"),
    _s("channel"),
    _s("category"),
    _s("state"),
    _ts("received_ts", "received_at"),
    _d("received_date", "substr(received_at, 1, 10)"),
    _ts("due_ts", "due_at"),
    _s("responsible"),
    _s("owner_department"),
    _i("triage"),
    _s("matter_code"),
    _s("hotline_ref"),
    _i("reassignments"),
    _ts("replied_ts", "replied_at"),
    _i("reply_on_time"),
    _ts("closed_ts", "closed_at"),
    _i("satisfaction"),
    _i("reminders"),
]

RATING_COLUMNS = [
    _i("id"),
    _s("ticket"),
    _s("ticket_number"),
    _d("service_date"),
    _s("queue"),
    _i("win", "window"),
    _s("staff"),
    _s("staff_name"),
    _s("department"),
    _s("matter_code"),
    _s("matter_name"),
    _s("receipt_no"),
    _i("score"),
    _s("text"),
    _ts("at_ts", "at"),
    _i("excluded"),
    _i("follow_up_of"),
]

RECTIFICATION_COLUMNS = [
    _i("id"),
    _i("rating_id"),
    _s("ticket"),
    _i("win", "window"),
    _s("owner_department"),
    _s("owner_staff"),
    _s("owner_staff_name"),
    _s("state"),
    _ts("opened_ts", "opened_at"),
    _d("opened_date", "substr(opened_at, 1, 10)"),
    _ts("contact_due_ts", "contact_due"),
    _ts("rectify_due_ts", "rectify_due"),
    _i("provisional"),
    _ts("contacted_ts", "contacted_at"),
    _ts("rectified_ts", "rectified_at"),
    _ts("revisit_ts", "revisit_at"),
    _i("revisit_satisfaction"),
    _ts("closed_ts", "closed_at"),
    _s("outcome"),
    _ts("appealed_ts", "appealed_at"),
    _s("appeal_decision"),
    _i("contact_on_time"),
    _i("rectify_on_time"),
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
    "complaints": _Table(name="complaints", columns=COMPLAINT_COLUMNS, key="id", whole=True),
}


# ---------------------------------------------------------------------- reading SQLite


def connect_readonly(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise FileNotFoundError(f"no database at {path}")
    uri = f"file:{path.resolve().as_posix()}?mode=ro"
    con = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA busy_timeout = 5000")
    return con


# ADBC's SQLite driver types each column from the first rows of a result and fails when a
# column that was NULL there holds text later; text columns are therefore fetched with NULL
# as this marker, turned back into NULL by DuckDB (``HallWarehouse._append``).
NULL_TEXT = "\x01"


def select_sql(table: _Table, where: str = "", order: str = "") -> str:
    """The SQLite query of the table's copied columns (filtered)."""
    cols = [f"ifnull({c.sql}, char(1))" if c.arrow == pa.string() else c.sql for c in table.fetched]
    sql = f"SELECT {', '.join(cols)} FROM {table.name}"  # type: ignore[arg-type]
    conditions = [w for w in (table.where, where) if w]
    if conditions:
        sql += " WHERE " + " AND ".join(f"({w})" for w in conditions)
    if order:
        sql += f" ORDER BY {order}"
    return sql


def fetch_bulk(
    path: Path, table: _Table, where: str = "", params: Sequence[Any] = (), order: str = ""
) -> pa.Table | None:
    """A large read (the cold build): ADBC's SQLite driver straight into Arrow, read-only;
    its own connection, so several ranges can be read by threads at once."""
    import adbc_driver_sqlite.dbapi as adbc

    con = adbc.connect(f"file:{path.resolve().as_posix()}?mode=ro")
    try:
        cur = con.cursor()
        try:
            cur.execute(select_sql(table, where, order), tuple(params) if params else None)
            got = cur.fetch_arrow_table()
        finally:
            cur.close()
    finally:
        con.close()
    if got.num_rows == 0:
        return None
    return got.rename_columns([c.name for c in table.fetched]).cast(table.schema())


def fetch(
    src: sqlite3.Connection, table: _Table, where: str = "", params: Sequence[Any] = (), order: str = ""
) -> Iterable[pa.Table]:
    """The table's rows (filtered) as Arrow tables of up to CHUNK_ROWS rows, through
    ``src`` (a few keyed rows inside the refresh's read transaction)."""
    cur = src.execute(select_sql(table, where, order), tuple(params))
    schema = table.schema()
    while True:
        rows = cur.fetchmany(CHUNK_ROWS)
        if not rows:
            break
        columns = list(zip(*rows, strict=False))
        yield pa.Table.from_arrays(
            [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=False)], schema=schema
        )


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
    source: str = "sqlite"  # "sqlite": a full build; "cache": restored from the cache file, then caught up


class HallWarehouse:
    """An in-process DuckDB copy of one hall's SQLite database, kept up to date by
    ``refresh()``. Safe to share between threads: reads go through per-thread cursors and
    see committed snapshots; loads and refreshes are serialised by a lock."""

    def __init__(
        self,
        sqlite_path: str | Path,
        config: HallConfig | None = None,
        *,
        workers: int | None = None,
        cache: str | Path | None = None,
    ) -> None:
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
        self._marks = ("", "")  # the first event and the event at last_event_id, as read (_mark)
        self.cache_path = Path(cache) if cache is not None else None
        self.saved_event_id = -1  # last_event_id of the cache file this process wrote or read
        self._saved_at = 0.0
        self._saver: threading.Thread | None = None

    @property
    def load_seconds(self) -> float:
        return self.load_stats.seconds

    # ------------------------------------------------------------------ DuckDB side

    def _create(self, table: _Table) -> None:
        cols = ", ".join(f'"{c.name}" {c.duck_type}' for c in table.stored)
        self.con.execute(f'DROP TABLE IF EXISTS "{table.name}"')
        self.con.execute(f'CREATE TABLE "{table.name}" ({cols})')

    def _append(self, table: _Table, chunk: pa.Table) -> None:
        raw = ", ".join(
            f'NULLIF("{c.name}", chr(1)) AS "{c.name}"' if c.arrow == pa.string() else f'"{c.name}"'
            for c in table.fetched
        )
        select = ", ".join(c.duck or f'"{c.name}"' for c in table.stored)
        self.con.register("_hallops_chunk", chunk)  # one statement: cheaper than a chain of relations
        try:
            self.con.execute(
                f'INSERT INTO "{table.name}" SELECT {select} FROM (SELECT {raw} FROM _hallops_chunk)'
            )
        finally:
            self.con.unregister("_hallops_chunk")

    # ------------------------------------------------------------------ load

    def load(self) -> HallWarehouse:
        """Make the copy: from the cache file when it is valid for this database (then
        caught up with what was committed since), else a full build (then saved to the
        cache file). Returns self.

        Several dashboard processes may start at once: a lock file next to the cache lets one
        of them build while the others wait, then restore what it saved."""
        if self.cache_path is None:
            return self._build()
        with self._lock, _file_lock(self.cache_path.with_name(self.cache_path.name + ".lock")):
            if self._restore():
                self.refresh()  # what the server committed since the cache was saved
                return self
            self._build()
            self.save()
        return self

    def _build(self) -> HallWarehouse:
        """Copy everything from the SQLite file (cold build). Returns self."""
        with self._lock:
            start = time.perf_counter()
            src = connect_readonly(self.path)
            try:
                src.execute("BEGIN")  # the high-water mark and the sizes, in one snapshot
                self.tables = _present_tables(src)
                self.schema_version = src.execute("PRAGMA user_version").fetchone()[0]
                top = _top(src, self.tables)
                spans = {
                    name: _span(src, t) for name, t in TABLES.items() if name in self.tables and not t.whole
                }
                src.execute("COMMIT")
                tasks = self._tasks(spans, top)
                parallel = self.workers > 1 and sum(n for _, _, _, n in tasks) >= PARALLEL_ROWS
                self.con.execute("BEGIN")
                try:
                    for table in TABLES.values():
                        self._create(table)  # absent tables stay empty, so queries still run
                    rows = {name: 0 for name in TABLES}
                    for name, chunk in self._run(tasks, parallel):
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
                self._marks = (_mark(src, None), _mark(src, top))
            finally:
                src.close()
            self.loaded_at = time.time()
            self._catch_up()  # what the server committed while the workers read
            self.last_refresh = time.monotonic()
            self.load_stats = LoadStats(
                seconds=time.perf_counter() - start, rows=rows, workers=self.workers if parallel else 1
            )
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

    def _run(
        self, tasks: list[tuple[str, str, tuple, int]], parallel: bool
    ) -> Iterable[tuple[str, pa.Table | None]]:
        """The ranges read through ADBC, by several threads at once when ``parallel``."""

        def read(name: str, where: str, params: tuple) -> pa.Table | None:
            table = TABLES[name]
            return fetch_bulk(self.path, table, where, params, table.split if table.split != "rowid" else "")

        if not parallel:
            for name, where, params, _ in tasks:
                yield name, read(name, where, params)
            return
        with ThreadPoolExecutor(
            max_workers=min(self.workers, len(tasks))
        ) as pool:  # ADBC reads without the GIL
            futures = [(name, pool.submit(read, name, where, params)) for name, where, params, _ in tasks]
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
                if (
                    version != self.schema_version
                    or present != self.tables
                    or top < self.last_event_id
                    or _mark(src, None) != self._marks[0]
                    or _mark(src, self.last_event_id) != self._marks[1]
                ):
                    reload = True  # a migration ran, or the file was replaced
                else:  # new events, or none (the small tables may still have changed: the hall clock)
                    counts = self._apply_increment(src, top)
            finally:
                src.close()  # ends the read transaction
            if reload:
                self.load()
                return RefreshResult(
                    events=0, tickets=0, other=0, full=True, seconds=time.perf_counter() - start
                )
            self.last_refresh = time.monotonic()
            return RefreshResult(
                events=counts[0], tickets=counts[1], other=counts[2], seconds=time.perf_counter() - start
            )

    def maybe_refresh(self, max_age_s: float = 2.0) -> RefreshResult | None:
        """Refresh unless another caller did in the last ``max_age_s`` seconds (many browser
        sessions share one warehouse) or a refresh or save is under way (the page shows what
        is there rather than wait). Saves the cache file in the background now and then."""
        if time.monotonic() - self.last_refresh < max_age_s:
            return None
        if not self._lock.acquire(blocking=False):
            return None
        try:
            result = self.refresh()
        finally:
            self._lock.release()
        self._maybe_save()
        return result

    # ------------------------------------------------------------------ the cache file

    def _maybe_save(self) -> None:
        if self.cache_path is None or self.last_event_id == self.saved_event_id:
            return
        if self._saver is not None and self._saver.is_alive():
            return
        due = (
            self.last_event_id - self.saved_event_id >= SAVE_EVERY_EVENTS
            or time.monotonic() - self._saved_at >= SAVE_EVERY_S
        )
        if due:
            self._saver = threading.Thread(target=self.save, name="hallops-cache-save", daemon=True)
            self._saver.start()

    def save(self) -> Path | None:
        """Write the copy to the cache file: into a new file next to it, then renamed over
        it, so a reader never sees half a file and two writers never write the same one.
        Returns the path (None without a cache)."""
        if self.cache_path is None:
            return None
        with self._lock:
            tmp = self.cache_path.with_name(
                f"{self.cache_path.name}.{os.getpid()}-{threading.get_ident()}.tmp"
            )
            for stale in (tmp, Path(str(tmp) + ".wal")):
                stale.unlink(missing_ok=True)
            state = {
                "cache_version": str(CACHE_VERSION),
                "source": str(self.path.resolve()),
                "schema_version": str(self.schema_version),
                "tables": json.dumps(sorted(self.tables)),
                "last_event_id": str(self.last_event_id),
                "last_rating_id": str(self._last_rating_id),
                "first_event": self._marks[0],
                "last_event": self._marks[1],
            }
            try:
                self.con.execute(f"ATTACH '{_quote(tmp)}' AS hallops_save")
            except duckdb.Error as exc:  # e.g. a read-only directory: the dashboard works, starts cold
                log.warning("dashboard cache not saved to %s: %s", self.cache_path, exc)
                return None
            try:
                for name in CACHED:
                    self.con.execute(f'CREATE TABLE hallops_save."{name}" AS FROM "{name}"')
                self.con.execute("CREATE TABLE hallops_save._cache_state (key VARCHAR, value VARCHAR)")
                self.con.executemany(
                    "INSERT INTO hallops_save._cache_state VALUES (?, ?)", list(state.items())
                )
            except BaseException:
                self.con.execute("DETACH hallops_save")
                tmp.unlink(missing_ok=True)
                raise
            self.con.execute("DETACH hallops_save")  # checkpoints: the file is complete
            os.replace(tmp, self.cache_path)
            self.saved_event_id = self.last_event_id
            self._saved_at = time.monotonic()
            return self.cache_path

    def _restore(self) -> bool:
        """Copy the cache file into this process's DuckDB if it was written by this cache
        version from this same database (same schema, same events so far). Opened read-only
        and closed at once: the file is never held."""
        path = self.cache_path
        if path is None or not path.exists():
            return False
        start = time.perf_counter()
        try:
            self.con.execute(f"ATTACH '{_quote(path)}' AS hallops_cache (READ_ONLY)")
        except duckdb.Error:
            return False  # not a DuckDB file, or unreadable: rebuilt
        try:
            try:
                state = dict(self.con.execute("SELECT key, value FROM hallops_cache._cache_state").fetchall())
            except duckdb.Error:
                return False
            if not self._cache_fits(state):
                return False
            self.con.execute("BEGIN")
            try:
                for name in CACHED:
                    self.con.execute(f'CREATE OR REPLACE TABLE "{name}" AS FROM hallops_cache."{name}"')
                self._create_config_tables()  # from the config of this run, which may have changed
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
        finally:
            self.con.execute("DETACH hallops_cache")
        self.tables = set(json.loads(state["tables"]))
        self.schema_version = int(state["schema_version"])
        self.last_event_id = int(state["last_event_id"])
        self._last_rating_id = int(state["last_rating_id"])
        self._marks = (state["first_event"], state["last_event"])
        self._whole = {}  # unknown: the small tables are re-read by the catch-up
        self.saved_event_id = self.last_event_id
        self._saved_at = time.monotonic()
        self.loaded_at = time.time()
        self.load_stats = LoadStats(
            seconds=time.perf_counter() - start,
            rows={n: self.count(n) for n in TABLES},
            workers=1,
            source="cache",
        )
        return True

    def _cache_fits(self, state: dict[str, str]) -> bool:
        """The cache was written by this version from this database as it still is."""
        if state.get("cache_version") != str(CACHE_VERSION):
            return False
        try:
            last = int(state["last_event_id"])
            src = connect_readonly(self.path)
        except (KeyError, ValueError, OSError, sqlite3.Error):
            return False
        try:
            src.execute("BEGIN")
            version = src.execute("PRAGMA user_version").fetchone()[0]
            present = _present_tables(src)
            return (
                str(version) == state.get("schema_version")
                and json.dumps(sorted(present)) == state.get("tables")
                and _top(src, present) >= last
                and _mark(src, None) == state.get("first_event")
                and _mark(src, last) == state.get("last_event")
            )
        finally:
            src.close()

    def _touched(self, src: sqlite3.Connection, top: int) -> dict[str, set[Any]]:
        """Keys of the current-state rows the new events changed, per table."""
        keys: dict[str, set[Any]] = {
            "tickets": set(),
            "cases": set(),
            "ratings": set(),
            "rectifications": set(),
        }
        span = (self.last_event_id, top)
        with_rows = "cases" in self.tables or "ratings" in self.tables
        # case, rating and rectification events name their row in data (docs/data-model.md);
        # a new day cancels yesterday's leftovers, listed in its data only
        rows = src.execute(
            "SELECT type, ticket, CASE WHEN type = 'day_started' THEN json_extract(data, '$.expired') END"
            + (
                ", json_extract(data, '$.receipt_no', '$.rating_id', '$.rectification_id')"
                if with_rows
                else ""
            )
            + " FROM events WHERE id > ? AND id <= ?",
            span,
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
            keys["cases"].update(
                r[0]
                for r in src.execute(
                    "SELECT receipt_no FROM cases WHERE state NOT IN ('completed', 'rejected')"
                )
            )
        if "ratings" in self.tables:
            keys["ratings"].update(
                r[0] for r in src.execute("SELECT id FROM ratings WHERE id > ?", (self._last_rating_id,))
            )
        if "rectifications" in self.tables and keys["ratings"]:
            for part in _parts(sorted(keys["ratings"])):
                keys["rectifications"].update(
                    r[0]
                    for r in src.execute(
                        f"SELECT id FROM rectifications WHERE rating_id IN ({', '.join('?' * len(part))})",
                        part,
                    )
                )
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
                chunks.extend(
                    fetch(src, table, f"{table.source_key()} IN ({', '.join('?' * len(part))})", part)
                )
            changed[name] = chunks
        whole = {}
        for name, t in TABLES.items():  # re-read; replaced only when changed
            if t.whole and name in self.tables:
                chunks = list(fetch(src, t))
                now = pa.concat_tables(chunks) if chunks else None
                before = self._whole.get(name)
                if (now is None and before is None) or (
                    now is not None and before is not None and now.equals(before)
                ):
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
                self.con.execute(
                    """
                    INSERT INTO first_calls
                    SELECT e.id, e.ticket, e.service_date, e.queue, e.win, e.staff, e.waited_s FROM events e
                    WHERE e.type = 'ticket_called' AND e.id > $last
                      AND NOT EXISTS (SELECT 1 FROM first_calls f WHERE f.ticket = e.ticket
                                      AND f.service_date = e.service_date AND f.service_date >= $day)
                    QUALIFY ROW_NUMBER() OVER (PARTITION BY e.ticket ORDER BY e.id) = 1
                """,
                    {"last": self.last_event_id, "day": _first_day(new_events)},
                )
                # new calls, and the end of the calls the new events close
                self.con.execute(
                    """
                    INSERT INTO calls SELECT id, ticket, win, staff, ts, sec_of_day, service_date, NULL FROM events
                    WHERE id > $last AND type = 'ticket_called'
                """,
                    {"last": self.last_event_id},
                )
                self.con.execute(
                    f"""
                    UPDATE calls SET end_ts = n.end_ts FROM (
                        SELECT c.id, MIN(e.ts) AS end_ts
                        FROM calls c JOIN events e ON e.ticket = c.ticket AND e.id > c.id
                        WHERE c.end_ts IS NULL AND c.service_date >= $day AND e.id > $last
                          AND e.type IN {_CALL_ENDS}
                        GROUP BY c.id
                    ) n WHERE calls.id = n.id
                """,
                    {"last": self.last_event_id, "day": _first_day(new_events)},
                )
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
        for name, (copied, _) in whole.items():
            self._whole[name] = copied
        self.last_event_id = top
        self._last_rating_id = last_rating
        self._marks = (self._marks[0] or _mark(src, None), _mark(src, top))
        return n_events, n_tickets, n_other

    def _delete_keys(self, table: _Table, keys: set[Any]) -> None:
        assert table.key is not None
        values = sorted(keys)
        arrow_type = next(c.arrow for c in table.columns if c.name == table.key)
        keys = pa.table({"k": pa.array(values, type=arrow_type)})
        self.con.execute(
            f'DELETE FROM "{table.name}" WHERE {_prune(table, values)}"{table.key}" IN (SELECT k FROM keys)'
        )

    # ------------------------------------------------------------------ config tables

    def _create_config_tables(self) -> None:
        """The hall config as two small tables, so SQL can join names, kinds and departments."""
        cfg = self.config
        queues = pd.DataFrame(
            [
                {
                    "code": q.code,
                    "name": q.name,
                    "kind": q.kind.value,
                    "department": q.department or "",
                    "alert_waiting": q.alert_waiting,
                    "alert_wait_min": q.alert_wait_min,
                    "ord": i,
                }
                for i, q in enumerate(cfg.queues)
            ]
            if cfg
            else [],
            columns=["code", "name", "kind", "department", "alert_waiting", "alert_wait_min", "ord"],
        )
        windows = pd.DataFrame(
            [
                {
                    "number": w.number,
                    "name": w.name,
                    "kind": w.kind.value,
                    "zone": w.zone,
                    "department": w.department or "",
                    "queues": ",".join(wq.queue for wq in w.queues),
                }
                for w in cfg.windows
            ]
            if cfg
            else [],
            columns=["number", "name", "kind", "zone", "department", "queues"],
        )
        queues = queues.astype(
            {
                "code": "string",
                "name": "string",
                "kind": "string",
                "department": "string",
                "alert_waiting": "int64",
                "alert_wait_min": "int64",
                "ord": "int64",
            }
        )
        windows = windows.astype(
            {
                "number": "int64",
                "name": "string",
                "kind": "string",
                "zone": "string",
                "department": "string",
                "queues": "string",
            }
        )
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

    def execute(
        self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None
    ) -> duckdb.DuckDBPyConnection:
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


CACHED = (*TABLES, "first_calls", "calls")  # the tables the cache file holds (config tables are remade)


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def _mark(src: sqlite3.Connection, event_id: int | None) -> str:
    """Who an event is (the first one when ``event_id`` is None): its id, type, instant and
    actor. Two databases that differ here are not the same hall history."""
    if "events" not in _present_tables(src):
        return ""
    where = "ORDER BY id LIMIT 1" if event_id is None else "WHERE id = ?"
    row = src.execute(
        f"SELECT id, type, at, actor FROM events {where}", () if event_id is None else (event_id,)
    ).fetchone()
    return "" if row is None else "|".join(str(v) for v in row)


class _file_lock:  # used like a function: ``with _file_lock(path):``
    """An exclusive lock on a small file next to the cache (``flock``; released when the
    process dies)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> None:
        import fcntl

        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:  # a read-only directory: no lock, and save() will say why there is no cache
            return
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        import fcntl

        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


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
            return (
                "service_date IN ("
                + ", ".join(f"DATE '{d[:4]}-{d[4:6]}-{d[6:]}'" for d in sorted(days))
                + ") AND "
            )
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
