"""The dashboard's data path for a city (docs/city.md): the halls' rows in one PostgreSQL
database, read through ADBC (``adbc-driver-postgresql`` → Arrow) into DuckDB.

``PostgresHallWarehouse`` is a ``HallWarehouse`` (data.py) whose copy comes from one hall's
rows of the city database instead of a SQLite file: the same DuckDB tables and columns, so
every query and page works unchanged. The SQLite column expressions of ``data.TABLES`` are
plain SQL that PostgreSQL also understands (``substr``, ``rtrim``, ``CAST``); what differs is
translated here: ``window`` is quoted, the event fields come out of ``jsonb``, text NULLs are
marked with ``chr(1)``, and numbers are cast to ``bigint``/``double precision`` in the query
(ADBC would hand ``numeric`` over as text). DuckDB's own ``postgres`` extension would need a
download at run time: it is never used (``autoinstall_known_extensions=false``).

A refresh re-reads the hall's copy when it committed anything since (its last event id, or
its ``meta`` rows: the hall clock), else nothing: a city's halls are small one by one, and
the dashboard refreshes each hall only while a page shows it. ``city_halls`` lists the halls
that have rows; ``city_comparison`` is the city page's table, one row per hall.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from queue_server.hall.config import HallConfig

from . import queries as q
from .data import (
    _CALLS,
    _EVENT_FIELDS,
    _FIRST_CALLS,
    TABLES,
    Col,
    HallWarehouse,
    LoadStats,
    RefreshResult,
    _Table,
)

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_HALL = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PG_EVENT_JSON = "jsonb_build_array(" + ", ".join(f"data->'{f}'" for f in _EVENT_FIELDS) + ")::text"


def is_city_db(db: str | os.PathLike[str] | None) -> bool:
    return isinstance(db, str) and db.startswith(POSTGRES_SCHEMES)


def _pg_expr(col: Col) -> str:
    """The column's expression for PostgreSQL (from its SQLite one)."""
    sql = col.sql or ""
    if col.name == "x":
        return _PG_EVENT_JSON
    sql = re.sub(r"\bwindow\b", '"window"', sql)
    if col.arrow == pa.string():
        return f"coalesce(({sql})::text, chr(1))"
    if col.arrow == pa.int64():
        return f"({sql})::bigint"
    return f"({sql})::double precision"


def pg_select(table: _Table, hall: str) -> str:
    cols = ", ".join(_pg_expr(c) for c in table.fetched)
    where = " AND ".join(f"({w})" for w in (f"hall = '{hall}'", table.where) if w)
    order = f" ORDER BY {table.split}" if table.split != "rowid" else ""
    return f"SELECT {cols} FROM {table.name} WHERE {where}{order}"


def _connect(url: str) -> Any:
    import adbc_driver_postgresql.dbapi as adbc  # type: ignore[import-untyped]

    return adbc.connect(url)


def _arrow(con: Any, sql: str) -> pa.Table:
    cur = con.cursor()
    try:
        cur.execute(sql)
        return cur.fetch_arrow_table()
    finally:
        cur.close()


def city_halls(url: str) -> list[str]:
    """The halls with rows in the city database (any event or window), sorted."""
    con = _connect(url)
    try:
        got = _arrow(
            con, "SELECT DISTINCT hall FROM windows UNION SELECT DISTINCT hall FROM events ORDER BY 1"
        )
    finally:
        con.close()
    return [str(h) for h in got.column(0).to_pylist()]


class PostgresHallWarehouse(HallWarehouse):
    """One hall of a city database, copied into DuckDB with the same tables as a SQLite hall."""

    def __init__(self, url: str, hall: str, config: HallConfig | None = None) -> None:
        if not _HALL.match(hall):
            raise ValueError(f"hall id {hall!r}: letters, digits, '-' and '_' only")
        super().__init__(url, config, workers=1, cache=None)
        self.url = url
        self.hall = hall
        self.con.execute("SET autoinstall_known_extensions = false")  # never a download at run time
        self._stamp: tuple[Any, ...] = ()

    def _state_stamp(self, con: Any) -> tuple[Any, ...]:
        got = _arrow(
            con,
            f"""SELECT (SELECT COALESCE(MAX(id), 0)::bigint FROM events WHERE hall = '{self.hall}'),
                                    (SELECT string_agg(key || '=' || value, ';' ORDER BY key) FROM meta
                                     WHERE hall = '{self.hall}')""",
        )
        return tuple(got.to_pylist()[0].values())

    def load(self) -> PostgresHallWarehouse:
        return self._build()

    def _build(self) -> PostgresHallWarehouse:
        with self._lock:
            start = time.perf_counter()
            con = _connect(self.url)
            try:
                con.adbc_connection.set_autocommit(False) if hasattr(con, "adbc_connection") else None
                stamp = self._state_stamp(con)
                chunks = {name: _arrow(con, pg_select(t, self.hall)) for name, t in TABLES.items()}
                version = _arrow(con, "SELECT COALESCE(MAX(version), 0)::bigint FROM schema_migrations")
            finally:
                con.close()
            rows: dict[str, int] = {}
            self.con.execute("BEGIN")
            try:
                for name, table in TABLES.items():
                    self._create(table)
                    got = chunks[name]
                    rows[name] = got.num_rows
                    if got.num_rows:
                        self._append(
                            table, got.rename_columns([c.name for c in table.fetched]).cast(table.schema())
                        )
                self._create_config_tables()
                self.con.execute(f"CREATE OR REPLACE TABLE first_calls AS {_FIRST_CALLS}")
                self.con.execute(f"CREATE OR REPLACE TABLE calls AS {_CALLS}")
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            self.tables = set(TABLES)
            self.schema_version = int(version.column(0)[0].as_py())
            self.last_event_id = int(stamp[0])
            self._stamp = stamp
            self.loaded_at = time.time()
            self.last_refresh = time.monotonic()
            self.load_stats = LoadStats(
                seconds=time.perf_counter() - start, rows=rows, workers=1, source="postgres"
            )
            return self

    def refresh(self) -> RefreshResult:
        with self._lock:
            start = time.perf_counter()
            con = _connect(self.url)
            try:
                stamp = self._state_stamp(con)
            finally:
                con.close()
            if stamp == self._stamp:
                self.last_refresh = time.monotonic()
                return RefreshResult(events=0, tickets=0, other=0, seconds=time.perf_counter() - start)
            before = self.last_event_id
            self._build()
            return RefreshResult(
                events=self.last_event_id - before,
                tickets=0,
                other=0,
                full=True,
                seconds=time.perf_counter() - start,
            )

    def save(self) -> None:  # no cache file: the city database is the source
        return None


# ---------------------------------------------------------------------- the city page


@dataclass(frozen=True)
class HallFigures:
    hall: str
    name: str
    summary: q.DaySummary
    cases: q.CaseSummary
    ratings: q.RatingSummary


def hall_figures(wh: HallWarehouse, config: HallConfig, start: date, end: date, now: datetime) -> HallFigures:
    scope = q.Scope(start=start, end=end)
    return HallFigures(
        hall=config.code,
        name=config.name,
        summary=q.period_summary(wh, scope),
        cases=q.case_summary(wh, scope, now, config.rules.due_soon_hours),
        ratings=q.rating_summary(wh, scope, now.timestamp()),
    )


def most_one_trip(wh: HallWarehouse) -> float | None:
    """最多跑一次: not in the data. A ticket or case does not record how many visits a citizen
    made for one matter (no applicant key is kept in the copy), so the rate cannot be
    computed; None says so on the page."""
    return None


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100.0 * value, 1)


def _min(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60.0, 1)


def city_comparison(figures: list[HallFigures]) -> pd.DataFrame:
    """One row per hall: waits, service times, 好差评, overdue cases and rectifications, 一窗受理率."""
    rows = [
        {
            "大厅": f.name,
            "编号": f.hall,
            "取号量": f.summary.issued,
            "办结": f.summary.served,
            "平均等候(分)": _min(f.summary.avg_wait_s),
            "90%等候(分)": _min(f.summary.p90_wait_s),
            "平均办理(分)": _min(f.summary.avg_service_s),
            "评价数": f.ratings.rated,
            "好评率%": _pct(f.ratings.good_rate),
            "差评率%": _pct(f.ratings.bad_rate),
            "超期办件": f.cases.overdue,
            "超期未整改": f.ratings.rectify_overdue,
            "超期未联系": f.ratings.contact_overdue,
            "一窗受理率%": _pct(f.cases.one_window_rate),
            "按时办结率%": _pct(f.cases.on_time_rate),
        }
        for f in figures
    ]
    return pd.DataFrame(rows)
