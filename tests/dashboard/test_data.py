"""HallWarehouse: the cold load copies the SQLite file faithfully (read-only), and refresh()
appends only what was added since, ending equal to a fresh load."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest

from dashboard import data
from dashboard.data import EVENT_TYPES, HallWarehouse
from queue_server.config_file import load_hall_config
from queue_server.store.schema import MIGRATIONS

from dashboard_drive import DEMO_HALL, SMALL_HALL, TZ, drive_days

COMPARED = (
    "events",
    "first_calls",
    "calls",
    "tickets",
    "windows",
    "service_times",
    "meta",
    "cases",
    "ratings",
    "rectifications",
)


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
    for table in ("tickets", "windows", "cases", "ratings", "rectifications"):
        assert wh.count(table) == con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0], table
    kept = ", ".join(f"'{t}'" for t in EVENT_TYPES)  # the event types the figures use
    assert (
        wh.count("events") == con.execute(f"SELECT COUNT(*) FROM events WHERE type IN ({kept})").fetchone()[0]
    )
    # the JSON fields, split by DuckDB
    want = con.execute(
        "SELECT SUM(json_extract(data, '$.waited_s')), COUNT(DISTINCT json_extract(data, '$.staff'))"
        " FROM events WHERE type = 'ticket_called'"
    ).fetchone()
    got = wh.row("SELECT SUM(waited_s), COUNT(DISTINCT staff) FROM events WHERE type = 'ticket_called'")
    assert got == want
    assert wh.last_event_id == con.execute("SELECT MAX(id) FROM events").fetchone()[0]
    # instants become Unix seconds, local dates stay local
    row = wh.row(
        "SELECT issued_ts, service_date FROM tickets WHERE issued_ts = (SELECT MIN(issued_ts) FROM tickets)"
    )
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

    # a new day (its first event expires yesterday's leftovers), with cases and ratings
    now = datetime(
        2026, 11, 18, 11, 30, tzinfo=TZ
    )  # (to 11:30: the catalogue's 一件事 parts drew fewer events by 11:00)
    drive_days(path, config, [date(2026, 11, 18)], seed=2, until=now)
    result = wh.refresh()
    added = wh.count("events") - before
    assert result.events == added > 100
    assert result.tickets > 0 and result.other > 0 and not result.full
    assert wh.count("cases") > 0 and wh.count("ratings") > 0
    assert_same(wh, HallWarehouse(path, config).load())


def test_refresh_follows_cases_and_ratings(hall_db: Path, demo_config, tmp_path: Path) -> None:
    """Back-office and manager work changes case and rectification rows without a ticket on
    the event: refresh re-reads them by the receipt number and ids the events name."""
    path = tmp_path / "hall.db"
    shutil.copy(hall_db, path)
    wh = HallWarehouse(path, demo_config).load()
    drive_days(
        path, demo_config, [date(2026, 11, 23)], seed=4, until=datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
    )
    result = wh.refresh()
    assert result.other > 0
    fresh = HallWarehouse(path, demo_config).load()
    assert_same(wh, fresh)
    assert wh.scalar("SELECT COUNT(*) FROM cases WHERE state = 'completed'") > 0


def test_parallel_load_equals_serial_load(hall_db: Path, demo_config, monkeypatch) -> None:
    """Worker processes reading ranges of rows give the same copy as one process."""
    monkeypatch.setattr(data, "PARALLEL_ROWS", 0)
    monkeypatch.setattr(data, "TASK_ROWS", 5_000)
    parallel = HallWarehouse(hall_db, demo_config, workers=2).load()
    assert parallel.load_stats.workers == 2
    assert_same(parallel, HallWarehouse(hall_db, demo_config, workers=1).load())


def test_refresh_while_the_server_writes(small) -> None:
    """A write transaction open on the server's connection (WAL) does not block the read
    and is not seen until committed."""
    config, path = small
    drive_days(path, config, [date(2026, 11, 16)], seed=1, until=datetime(2026, 11, 16, 10, 0, tzinfo=TZ))
    wh = HallWarehouse(path, config).load()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(
        "INSERT INTO events (type, at, ts, service_date, actor, data) VALUES"
        " ('window_paused', '2026-11-16T10:00:00+08:00', 1, '2026-11-16', 'system:hall', '{}')"
    )
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


def test_figures_over_a_simulated_day(tmp_path: Path, demo_config) -> None:
    """The simulator (hallops simulate) makes recalls, reactivations and transfers the test
    driver does not: the warehouse's figures still equal the plain-SQL ones."""
    import subprocess
    import sys

    from dashboard import queries as q

    import dashboard_expected as ex

    path = tmp_path / "sim.db"
    hallops = Path(sys.executable).with_name("hallops")
    subprocess.run(
        [
            str(hallops),
            "simulate",
            "--config",
            str(DEMO_HALL),
            "--db",
            str(path),
            "--days",
            "1",
            "--start",
            "2026-11-19",
            "--seed",
            "3",
            "--no-progress",
        ],
        check=True,
        capture_output=True,
    )
    day = date(2026, 11, 19)
    now = datetime(2026, 11, 20, 8, 0, tzinfo=TZ)
    wh = HallWarehouse(path, demo_config).load()
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    want = ex.day_figures(con, day, day)
    assert (
        wh.scalar("SELECT COUNT(*) FROM events WHERE type IN ('ticket_reactivated', 'ticket_transferred')")
        > 0
    )
    got = q.period_summary(wh, q.Scope(start=day, end=day))
    assert (got.issued, got.served, got.no_show) == (want["issued"], want["served"], want["no_show"])
    assert got.avg_wait_s == pytest.approx(want["avg_wait_s"])
    assert got.p90_wait_s == pytest.approx(want["p90_wait_s"])
    assert got.avg_service_s == pytest.approx(want["avg_service_s"])
    win = q.window_activity(wh, q.Scope(start=day, end=day), now.timestamp())
    times = ex.window_times(con, day, day, now)
    assert win["open_s"].sum() == pytest.approx(times["open_s"], abs=1.0)
    assert win["paused_s"].sum() == pytest.approx(times["paused_s"], abs=1.0)
    assert win["busy_s"].sum() == pytest.approx(times["busy_s"], abs=1.0)
