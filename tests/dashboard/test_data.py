"""HallWarehouse: the cold load copies the SQLite file faithfully (read-only), and refresh()
appends only what was added since, ending equal to a fresh load."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest

from dashboard.data import HallWarehouse
from queue_server.config_file import load_hall_config
from queue_server.store.schema import MIGRATIONS

from .conftest import NOW, SMALL_HALL, TZ
from .drive import drive_days
from .fill_cases import fill_cases_and_ratings

COMPARED = ("events", "tickets", "windows", "service_times", "meta", "cases", "ratings", "rectifications")


def snapshot(wh: HallWarehouse, table: str):
    return wh.query(f'SELECT * FROM "{table}" ORDER BY ALL').reset_index(drop=True)


def assert_same(a: HallWarehouse, b: HallWarehouse) -> None:
    for table in COMPARED:
        left, right = snapshot(a, table), snapshot(b, table)
        assert len(left) == len(right), table
        assert left.equals(right), table


@pytest.fixture
def small(tmp_path: Path):
    return load_hall_config(SMALL_HALL), tmp_path / "hall.db"


def test_load_counts_match_sqlite(hall_db: Path, demo_config) -> None:
    wh = HallWarehouse(hall_db, demo_config).load()
    con = sqlite3.connect(f"file:{hall_db}?mode=ro", uri=True)
    for table in ("events", "tickets", "windows", "cases", "ratings", "rectifications"):
        assert wh.count(table) == con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0], table
    assert wh.last_event_id == con.execute("SELECT MAX(id) FROM events").fetchone()[0]
    # instants become Unix seconds, local dates stay local
    row = wh.row("SELECT issued_ts, service_date FROM tickets WHERE issued_ts = (SELECT MIN(issued_ts) FROM tickets)")
    first = con.execute("SELECT issued_at, service_date FROM tickets ORDER BY issued_at LIMIT 1").fetchone()
    assert abs(row[0] - datetime.fromisoformat(first[0]).timestamp()) < 0.002
    assert row[1].isoformat() == first[1]


def test_no_applicant_data_copied(hall_db: Path, demo_config) -> None:
    wh = HallWarehouse(hall_db, demo_config).load()
    for table in ("tickets", "cases"):
        cols = set(wh.query(f"SELECT * FROM {table} LIMIT 0").columns)
        assert not cols & {"applicant_name", "applicant_phone", "applicant_id"}


def test_reads_read_only(hall_db: Path, demo_config) -> None:
    wh = HallWarehouse(hall_db, demo_config)
    con = wh._connect_sqlite()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        con.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")
    con.close()


def test_incremental_refresh_equals_fresh_load(small, tmp_path: Path) -> None:
    config, path = small
    drive_days(path, config, [date(2026, 11, 16), date(2026, 11, 17)], seed=1)
    wh = HallWarehouse(path, config).load()
    before = wh.count("events")
    assert wh.refresh().events == 0  # nothing new

    # a new day (its first event expires yesterday's leftovers), cases and ratings
    now = datetime(2026, 11, 18, 11, 0, tzinfo=TZ)
    drive_days(path, config, [date(2026, 11, 18)], seed=2, until=now)
    fill_cases_and_ratings(path, config, now, seed=3)
    result = wh.refresh()
    added = wh.count("events") - before
    assert result.events == added > 100
    assert result.tickets > 0 and not result.full
    assert_same(wh, HallWarehouse(path, config).load())


def test_refresh_while_the_server_writes(small) -> None:
    """A write transaction open on the server's connection (WAL) does not block the read
    and is not seen until committed."""
    config, path = small
    drive_days(path, config, [date(2026, 11, 16)], seed=1, until=datetime(2026, 11, 16, 10, 0, tzinfo=TZ))
    wh = HallWarehouse(path, config).load()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO events (type, at, ts, service_date, actor, data) VALUES"
                   " ('window_paused', '2026-11-16T10:00:00+08:00', 1, '2026-11-16', 'system:hall', '{}')")
    assert wh.refresh().events == 0
    writer.execute("COMMIT")
    assert wh.refresh().events == 1
    writer.close()


def test_refresh_reloads_after_a_migration(tmp_path: Path) -> None:
    """A database at schema 1 has no case tables: the pages still run (empty tables); when
    the server migrates it, the next refresh loads everything again."""
    path = tmp_path / "old.db"
    con = sqlite3.connect(path, isolation_level=None)
    con.executescript(MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
    con.close()
    wh = HallWarehouse(path).load()
    assert not wh.has("cases") and wh.count("cases") == 0
    con = sqlite3.connect(path, isolation_level=None)
    con.executescript(MIGRATIONS[1] + "\nPRAGMA user_version = 2;")
    con.close()
    assert wh.refresh().full and wh.has("cases")


def test_replaced_file_reloads(small, tmp_path: Path) -> None:
    config, path = small
    drive_days(path, config, [date(2026, 11, 16)], seed=1)
    wh = HallWarehouse(path, config).load()
    other = tmp_path / "other.db"
    drive_days(other, config, [date(2026, 11, 16)], seed=1, until=datetime(2026, 11, 16, 9, 0, tzinfo=TZ))
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(other) + suffix)
        if src.exists():
            shutil.copy(src, str(path) + suffix)
    result = wh.refresh()
    assert result.full
    assert_same(wh, HallWarehouse(path, config).load())


def test_now_comes_from_the_environment(monkeypatch) -> None:
    from dashboard.settings import hall_now

    monkeypatch.setenv("HALLOPS_NOW", NOW.isoformat())
    assert hall_now("Asia/Shanghai") == NOW
    monkeypatch.delenv("HALLOPS_NOW")
    assert hall_now("Asia/Shanghai").utcoffset().total_seconds() == 8 * 3600
