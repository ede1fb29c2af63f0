"""The dashboard's cache file (``hall.dashboard.duckdb`` next to the hall database): restored
copies equal a cold build, figures included, before and after catching up with new commits;
every instant is exact; a new cache version, another database, a replaced database or a
broken file is rebuilt; processes sharing it do not corrupt it; the hall's file is never
written."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from test_data import assert_same

from dashboard import data
from dashboard import queries as q
from dashboard.data import TABLES, HallWarehouse, default_cache_path
from queue_server.config_file import load_hall_config

from dashboard_drive import DEMO_HALL, ROOT, SMALL_HALL, TZ, drive_days

NOW = datetime(2026, 11, 17, 11, 0, tzinfo=TZ)


@pytest.fixture
def small(tmp_path: Path):
    config = load_hall_config(SMALL_HALL)
    path = tmp_path / "hall.db"
    drive_days(path, config, [date(2026, 11, 16), date(2026, 11, 17)], seed=1, until=NOW)
    return config, path


def figures(wh: HallWarehouse, config, now: datetime) -> dict:
    """What the pages show, as plain values (the same calls as app_pages/)."""
    day = now.date()
    scope = q.Scope(start=date(2026, 11, 1), end=day)
    ts = now.timestamp()
    live = q.add_estimates(wh, config, q.live_queues(wh, day, ts, q.Scope(start=day, end=day)), day, now)
    return {
        "live": live.to_dict("list"),
        "day": q.day_summary(wh, day),
        "windows": q.live_windows(wh, day).to_dict("list"),
        "period": q.period_summary(wh, scope),
        "activity": q.window_activity(wh, scope, ts).to_dict("list"),
        "cases": q.case_summary(wh, scope, now, 4),
        "ratings": q.rating_summary(wh, scope, ts),
        "rect": q.rectification_table(wh, scope, ts, 4).to_dict("list"),
        "heat": q.arrivals_by_hour(wh, scope, ts).to_dict("list"),
    }


def same_figures(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k, value in a.items():
        assert repr(value) == repr(b[k]), k  # repr: NaN equals NaN


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_cache_restores_what_a_cold_build_makes(small) -> None:
    config, path = small
    cache = default_cache_path(path)
    assert cache == path.with_name("hall.dashboard.duckdb")
    digest = file_digest(path)
    first = HallWarehouse(path, config, cache=cache).load()
    assert first.load_stats.source == "sqlite" and cache.exists()
    warm = HallWarehouse(path, config, cache=cache).load()
    assert warm.load_stats.source == "cache"
    cold = HallWarehouse(path, config).load()
    assert_same(warm, cold)
    same_figures(figures(warm, config, NOW), figures(cold, config, NOW))
    assert file_digest(path) == digest  # the hall's file is only read

    # the server commits more (a new day, with cases and ratings); a restart catches up
    later = datetime(2026, 11, 18, 10, 0, tzinfo=TZ)
    drive_days(path, config, [date(2026, 11, 18)], seed=2, until=later)
    caught_up = HallWarehouse(path, config, cache=cache).load()
    assert caught_up.load_stats.source == "cache"
    assert caught_up.last_event_id > warm.last_event_id
    cold = HallWarehouse(path, config).load()
    assert_same(caught_up, cold)
    same_figures(figures(caught_up, config, later), figures(cold, config, later))
    # and the process that was running refreshes to the same
    assert warm.refresh().events > 0
    assert_same(warm, cold)


def test_saved_cache_follows_the_refreshes(small) -> None:
    """save() writes what the process has now; the next start restores it and reads only
    what came after."""
    config, path = small
    cache = default_cache_path(path)
    wh = HallWarehouse(path, config, cache=cache).load()
    drive_days(path, config, [date(2026, 11, 18)], seed=3, until=datetime(2026, 11, 18, 9, 30, tzinfo=TZ))
    wh.refresh()
    wh.save()
    again = HallWarehouse(path, config, cache=cache).load()
    assert again.load_stats.source == "cache" and again.last_event_id == wh.last_event_id
    assert_same(again, HallWarehouse(path, config).load())


def test_every_instant_is_exact(tmp_path: Path) -> None:
    """Every instant of every copied table, as the cache holds it, equals the ISO text in
    SQLite read by Python (microseconds included: julianday would round to milliseconds)."""
    config = load_hall_config(DEMO_HALL)
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
            "5",
            "--no-progress",
        ],
        check=True,
        capture_output=True,
    )
    # instants with sub-second parts, as a live server writes them
    con = sqlite3.connect(path)
    con.execute(
        "UPDATE tickets SET called_at = substr(called_at, 1, 19) || '.' || printf('%06d', (rowid * 7919) % 1000000)"
        " || substr(called_at, 20) WHERE called_at IS NOT NULL AND instr(called_at, '.') = 0"
    )
    con.commit()
    con.close()
    cache = default_cache_path(path)
    HallWarehouse(path, config, cache=cache).load()
    wh = HallWarehouse(path, config, cache=cache).load()
    assert wh.load_stats.source == "cache"
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    checked = fractional = 0
    for name, table in TABLES.items():
        instants = [c for c in table.columns if c.duck_type == "DOUBLE" and c.arrow == data.pa.string()]
        if not instants or name not in wh.tables:
            continue
        key = table.key or "id"
        source_key = table.source_key() if table.key else "id"
        want = {}
        for row in src.execute(f"SELECT {source_key}, {', '.join(c.sql for c in instants)} FROM {name}"):
            want[row[0]] = [None if v is None else datetime.fromisoformat(v).timestamp() for v in row[1:]]
            fractional += sum(1 for v in row[1:] if v and "." in v[19:])
        got = {
            r[0]: list(r[1:])
            for r in wh.execute(
                f'SELECT "{key}", {", ".join(chr(34) + c.name + chr(34) for c in instants)} FROM "{name}"'
            ).fetchall()
        }
        assert got.keys() == want.keys(), name
        for k, values in want.items():
            assert got[k] == values, (name, k)  # exactly equal, not approximately
            checked += sum(v is not None for v in values)
    # events keep the server's own Unix seconds
    ev = dict(src.execute("SELECT id, ts FROM events").fetchall())
    for i, ts in wh.execute("SELECT id, ts FROM events").fetchall():
        assert ts == ev[i]
    assert checked > 1000 and fractional > 100


def test_a_new_cache_version_rebuilds(small, monkeypatch: pytest.MonkeyPatch) -> None:
    config, path = small
    cache = default_cache_path(path)
    HallWarehouse(path, config, cache=cache).load()
    monkeypatch.setattr(data, "CACHE_VERSION", data.CACHE_VERSION + 1)
    wh = HallWarehouse(path, config, cache=cache).load()
    assert wh.load_stats.source == "sqlite"
    assert (
        HallWarehouse(path, config, cache=cache).load().load_stats.source == "cache"
    )  # rewritten at the new version


def test_a_cache_of_another_database_is_rebuilt(small, tmp_path: Path) -> None:
    config, path = small
    HallWarehouse(path, config, cache=default_cache_path(path)).load()
    other = tmp_path / "other" / "hall.db"
    other.parent.mkdir()
    drive_days(other, config, [date(2026, 11, 16)], seed=9, until=datetime(2026, 11, 16, 10, 0, tzinfo=TZ))
    shutil.copy(default_cache_path(path), default_cache_path(other))  # the wrong hall's cache
    wh = HallWarehouse(other, config, cache=default_cache_path(other)).load()
    assert wh.load_stats.source == "sqlite"
    assert_same(wh, HallWarehouse(other, config).load())


def test_a_replaced_database_is_rebuilt(small, tmp_path: Path) -> None:
    """The file at the same path now holds another history, even a longer one."""
    config, path = small
    cache = default_cache_path(path)
    HallWarehouse(path, config, cache=cache).load()
    other = tmp_path / "other.db"
    drive_days(other, config, [date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18)], seed=4)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
        if Path(str(other) + suffix).exists():
            shutil.copy(str(other) + suffix, str(path) + suffix)
    wh = HallWarehouse(path, config, cache=cache).load()
    assert wh.load_stats.source == "sqlite"
    assert_same(wh, HallWarehouse(path, config).load())


def test_a_broken_cache_file_is_rebuilt(small) -> None:
    config, path = small
    cache = default_cache_path(path)
    cache.write_bytes(b"not a database" * 100)
    wh = HallWarehouse(path, config, cache=cache).load()
    assert wh.load_stats.source == "sqlite"
    assert HallWarehouse(path, config, cache=cache).load().load_stats.source == "cache"


_PROCESS = """
import sys
from dashboard.data import HallWarehouse
from queue_server.config_file import load_hall_config
wh = HallWarehouse(sys.argv[1], load_hall_config(sys.argv[2]), cache=sys.argv[3]).load()
for _ in range(3):
    wh.save()
    HallWarehouse(sys.argv[1], load_hall_config(sys.argv[2]), cache=sys.argv[3]).load()
print(wh.load_stats.source, *(wh.row(f'SELECT COUNT(*), SUM(hash(t)) FROM "{n}" t') for n in ("events", "tickets", "calls")))
"""


def test_dashboard_processes_share_the_cache(small) -> None:
    """Several dashboard processes start at once on the same database, build, save and
    restore the cache over and over: every one ends with the same copy, one of them built
    it (the others waited for it), and the file left is valid."""
    config, path = small
    cache = default_cache_path(path)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS, str(path), str(SMALL_HALL), str(cache)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        outs.append(out.split(" ", 1))
    assert sorted(o[0] for o in outs) == ["cache", "cache", "sqlite"]  # one build, the others restored it
    assert len({o[1] for o in outs}) == 1
    wh = HallWarehouse(path, config, cache=cache).load()
    assert wh.load_stats.source == "cache"
    assert_same(wh, HallWarehouse(path, config).load())
    assert not list(path.parent.glob("*.tmp*"))  # no half-written file left behind
