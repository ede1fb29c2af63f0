"""The simulated days: what lands in the database, and that it is what a real day writes."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from queue_server.hall.events import EventType as E
from queue_server.recorder import rebuild_hall
from queue_server.sim.behaviour.profile import with_mix
from queue_server.store import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "halls" / "demo.toml"


def _rows(db: Path, sql: str, params=()) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def test_a_week_runs_without_a_refusal_the_model_did_not_expect(week):
    r = week.result
    assert r.working_days == 3 and r.days == 3
    assert not r.unexpected, r.unexpected
    assert not r.turned_away, r.turned_away  # the default volume stays below the daily caps
    assert r.events == _rows(week.db, "SELECT COUNT(*) FROM events")[0][0]


def test_every_ticket_ends_done_or_no_show(week):
    states = dict(_rows(week.db, "SELECT state, COUNT(*) FROM tickets GROUP BY state"))
    assert set(states) <= {"done", "no_show"}
    assert states["done"] > 2000


def test_the_event_kinds_of_a_real_day(week):
    kinds = dict(_rows(week.db, "SELECT type, COUNT(*) FROM events GROUP BY type"))
    for kind in (
        E.DAY_STARTED,
        E.TICKET_ISSUED,
        E.TICKET_CALLED,
        E.TICKET_RECALLED,
        E.SERVICE_STARTED,
        E.SERVICE_FINISHED,
        E.TICKET_NO_SHOW,
        E.TICKET_REACTIVATED,
        E.TICKET_TRANSFERRED,
        E.WINDOW_OPENED,
        E.WINDOW_PAUSED,
        E.WINDOW_RESUMED,
        E.WINDOW_CLOSED,
        E.STAFF_LOGGED_IN,
        E.STAFF_LOGGED_OUT,
    ):
        assert kinds.get(kind.value, 0) > 0, kind
    assert kinds[E.DAY_STARTED] == 3
    # 20 windows, each opened once a day by its own staff member, who logs out at the end
    assert kinds[E.WINDOW_OPENED] == kinds[E.STAFF_LOGGED_IN] == kinds[E.STAFF_LOGGED_OUT] == 60
    actors = dict(
        _rows(
            week.db,
            "SELECT actor, COUNT(*) FROM events WHERE window = 5 AND (type LIKE 'ticket_%'"
            " OR type LIKE 'window_%' OR type LIKE 'staff_%' OR type LIKE 'service_%') GROUP BY actor",
        )
    )
    assert "staff:w05" in actors and set(actors) <= {"staff:w05", "device:pad-5"}  # the window's rating pad


def test_lunch_and_opening_hours(week):
    rows = _rows(
        week.db,
        "SELECT substr(at, 12, 5), type, data FROM events WHERE service_date = '2026-11-23'"
        " AND type IN ('ticket_issued', 'window_opened', 'window_paused', 'window_resumed')",
    )
    issued = [t for t, kind, _ in rows if kind == "ticket_issued"]
    assert all("08:30" <= t < "12:00" or "14:00" <= t < "17:30" for t in issued)
    assert all("08:29" <= t <= "08:32" for t, kind, _ in rows if kind == "window_opened")
    lunch = [t for t, kind, data in rows if kind == "window_paused" and json.loads(data)["reason"] == "午休"]
    assert len(lunch) == 20 and all("12:00" <= t < "14:00" for t in lunch)


def test_no_show_share_about_five_percent(week):
    total = week.stats.total()
    assert 0.03 < total.no_shows / total.issued < 0.075
    recalled_first = _rows(
        week.db,
        """
        SELECT COUNT(*) FROM events n WHERE n.type = 'ticket_no_show'
        AND EXISTS (SELECT 1 FROM events r WHERE r.type = 'ticket_recalled' AND r.ticket = n.ticket AND r.id < n.id)""",
    )
    no_shows = _rows(week.db, "SELECT COUNT(*) FROM events WHERE type = 'ticket_no_show'")
    assert recalled_first == no_shows  # staff recall before marking no-show


def test_service_times_have_the_queue_means(week, demo_profile):
    by_queue: dict[str, list[float]] = {}
    for queue, service in _rows(
        week.db,
        "SELECT json_extract(data, '$.queue'), json_extract(data, '$.service_s')"
        " FROM events WHERE type = 'service_finished'",
    ):
        by_queue.setdefault(queue, []).append(service)
    for queue in ("C", "D", "P", "Z"):  # no transfers in or out, several desks
        assert statistics.fmean(by_queue[queue]) == pytest.approx(
            demo_profile.service_mean_s[queue], rel=0.15
        ), queue


def test_green_share_and_appointments_in_the_events(week):
    prio = Counter(p for (p,) in _rows(week.db, "SELECT priority FROM tickets"))
    n = sum(prio.values())
    assert 0.05 < prio["green"] / n < 0.11
    assert prio["appointment"] > 0


def test_the_store_holds_what_the_hall_holds(week, demo_config):
    """Rebuilding from the database gives the hall the simulation ended with (one
    transaction per batch, rows and events in step)."""

    async def load():
        store = SqliteStore(week.db)
        await store.open()
        try:
            return await store.load()
        finally:
            await store.close()

    loaded = asyncio.run(load())
    hall = rebuild_hall(demo_config, loaded)
    assert hall.service_date == date(2026, 11, 25)
    issued_today = _rows(
        week.db, "SELECT COUNT(*) FROM events WHERE type = 'ticket_issued' AND service_date = '2026-11-25'"
    )[0][0]
    assert len(hall.tickets) == issued_today
    numbers = dict(
        _rows(week.db, "SELECT queue, last_seq FROM ticket_numbers WHERE service_date = '2026-11-25'")
    )
    per_queue = Counter(t.queue for t in hall.tickets.values() if t.transfers == 0)
    assert all(numbers[q] >= n for q, n in per_queue.items())
    assert all(w.state.value == "closed" and w.staff is None for w in hall.windows.values())


def test_a_second_run_continues_the_database(tmp_path, demo_config, demo_profile, run_sim):
    db = tmp_path / "two.db"
    small = with_mix(demo_profile, total=150)
    run_sim(demo_config, db, start=date(2026, 11, 27), days=1, profile=small)  # Friday
    run_sim(demo_config, db, start=date(2026, 11, 28), days=1, profile=small)  # Sat + Sun + Monday
    days = [d for (d,) in _rows(db, "SELECT DISTINCT service_date FROM events ORDER BY 1")]
    assert days == ["2026-11-27", "2026-11-28", "2026-11-29", "2026-11-30"]
    sunday = _rows(db, "SELECT type FROM events WHERE service_date = '2026-11-29'")
    assert sunday == [("day_started",)]


def _events(db: Path) -> list[tuple]:
    return _rows(db, "SELECT id, type, at, actor, ticket, window, data FROM events ORDER BY id")


def test_same_seed_same_events_table(tmp_path, demo_config, demo_profile, run_sim):
    """Deterministic for a seed: in-process here, and from the CLI in another interpreter
    with another string-hash seed."""
    small = with_mix(demo_profile, total=300)
    run_sim(demo_config, tmp_path / "a.db", days=1, seed=5, profile=small)
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "queue_server.cli",
            "simulate",
            "--config",
            str(DEMO),
            "--db",
            str(tmp_path / "b.db"),
            "--days",
            "1",
            "--start",
            "2026-11-23",
            "--seed",
            "5",
            "--tickets-per-day",
            "300",
            "--no-progress",
        ],
        check=True,
        env=env,
        cwd=ROOT,
        capture_output=True,
    )
    run_sim(demo_config, tmp_path / "c.db", days=1, seed=6, profile=small)
    a, b, c = _events(tmp_path / "a.db"), _events(tmp_path / "b.db"), _events(tmp_path / "c.db")
    assert len(a) > 1000
    assert a == b
    assert a != c
    tickets = "SELECT * FROM tickets ORDER BY id"
    assert _rows(tmp_path / "a.db", tickets) == _rows(tmp_path / "b.db", tickets)
