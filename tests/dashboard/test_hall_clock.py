"""One hall clock: the dashboard's now and today come from the server's ``hall_clock`` row in
``meta`` (docs/dashboard.md), not from the machine. The recorded hall is simulated on
18-20 November 2026, never the day these tests run."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import hall_clock
from dashboard.theme import parse_number

import dashboard_expected as ex
from dashboard_drive import DEMO_HALL, NOW, ROOT

APP = ROOT / "dashboard" / "streamlit_app.py"
PAGES = (
    "app_pages/live.py",
    "app_pages/cases.py",
    "app_pages/ratings.py",
    "app_pages/windows.py",
    "app_pages/report.py",
    "app_pages/whatif.py",
)


def write_clock(path: Path, at: datetime, speed: float, wall: float) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('hall_clock', ?)",
        (json.dumps({"at": at.isoformat(), "speed": speed, "wall": wall}),),
    )
    con.close()


@pytest.fixture
def clocked_db(hall_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the recorded hall whose server wrote its clock (10:30 on 20 November) a
    moment ago; the dashboard's clock is not frozen. Speed 0 (a paused simulation), so the
    figures that run with the clock (open hours, longest wait) can be compared exactly; the
    speed itself: test_clock_from_meta_runs_at_its_speed."""
    assert NOW.date() != datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the point of the test
    path = tmp_path / "hall.db"
    shutil.copy(hall_db, path)
    write_clock(path, NOW, 0.0, time.time())
    monkeypatch.setenv("HALLOPS_DB", str(path))
    monkeypatch.setenv("HALLOPS_CONFIG", str(DEMO_HALL))
    monkeypatch.delenv("HALLOPS_NOW", raising=False)
    return path


def test_clock_from_meta_runs_at_its_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HALLOPS_NOW", raising=False)
    zone = ZoneInfo("Asia/Shanghai")
    at = datetime(2026, 12, 21, 9, 0, tzinfo=ZoneInfo("UTC"))  # any offset: shown in the hall's zone
    value = json.dumps({"at": at.isoformat(), "speed": 60.0, "wall": time.time() - 10})
    now = hall_clock.hall_now("Asia/Shanghai", value)
    assert now.tzinfo is not None and now.utcoffset().total_seconds() == 8 * 3600
    assert 599 <= (now - at).total_seconds() <= 660  # 10 real seconds at 60x
    clock = hall_clock.parse(value)
    assert clock is not None and clock.now(zone, wall_now=clock.wall + 1.0) == at.astimezone(zone).replace(
        minute=1
    )


def test_clock_falls_back_to_the_real_clock_in_the_hall_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HALLOPS_NOW", raising=False)
    for bad in (
        None,
        "",
        "not json",
        json.dumps({"at": "2026-12-21T09:00:00", "wall": 1}),
        json.dumps({"speed": 60}),
    ):
        now = hall_clock.hall_now("Asia/Shanghai", bad)
        assert abs(now.timestamp() - time.time()) < 5
        assert now.utcoffset().total_seconds() == 8 * 3600  # the config's zone, whatever the machine's


def test_frozen_clock_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALLOPS_NOW", NOW.isoformat())
    value = json.dumps({"at": "2030-01-01T09:00:00+08:00", "speed": 1.0, "wall": time.time()})
    assert hall_clock.hall_now("Asia/Shanghai", value) == NOW


def test_live_page_on_another_day_than_the_machine(hall_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12 point 1: with no hall clock row, the dashboard's day is the machine's, on
    which the hall has no ticket, while windows still hold tickets of the hall's last day at
    their counters: the live page's wait estimate crashed with a KeyError."""
    con = sqlite3.connect(f"file:{hall_db}?mode=ro", uri=True)
    held = con.execute("SELECT COUNT(*) FROM windows WHERE current_ticket IS NOT NULL").fetchone()[0]
    con.close()
    assert held > 0  # the situation of the crash
    monkeypatch.setenv("HALLOPS_DB", str(hall_db))
    monkeypatch.setenv("HALLOPS_CONFIG", str(DEMO_HALL))
    monkeypatch.delenv("HALLOPS_NOW", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    m = {x.label: x.value for x in at.metric}
    assert parse_number(m["今日取号"]) == 0  # the machine's day: nothing issued


def test_every_page_uses_the_hall_clock(clocked_db: Path) -> None:
    con = sqlite3.connect(f"file:{clocked_db}?mode=ro", uri=True)
    today = NOW.date()
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    m = {x.label: x.value for x in at.metric}
    day = ex.day_figures(con, today, today)
    assert day["issued"] > 50
    assert parse_number(m["今日取号"]) == day["issued"]
    assert parse_number(m["今日办结"]) == day["served"]
    assert parse_number(m["当前等候"]) == day["waiting"]
    assert any("2026-11-20" in c.value for c in at.caption)  # the hall's day is shown, not the machine's

    for page in PAGES[1:]:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)

    # 好差评 of the hall's today: the count equals plain SQL and the list below it
    at.switch_page("app_pages/ratings.py").run()
    assert (
        tuple(at.date_input(key="f_dates").value)[-1] == today
    )  # the default range ends on the hall's today
    at.date_input(key="f_dates").set_value((today, today)).run()
    assert not at.exception, at.exception
    m = {x.label: x.value for x in at.metric}
    r = ex.rating_figures(con, today, today, NOW)
    assert r["rated"] > 0
    assert parse_number(m["评价数"]) == r["rated"]
    assert parse_number(m["差评数"]) == r["rectifications"]
    table = at.dataframe[0].value
    opened_today = table[table["评价时间"].str.startswith(f"{today:%m-%d}")]
    assert (
        len(opened_today)
        == con.execute(
            "SELECT COUNT(*) FROM rectifications WHERE substr(opened_at, 1, 10) = ?", (today.isoformat(),)
        ).fetchone()[0]
    )

    # 办件 "now" figures are as of the hall's now
    at.switch_page("app_pages/cases.py").run()
    at.date_input(key="f_dates").set_value((today, today)).run()
    m = {x.label: x.value for x in at.metric}
    c = ex.case_figures(con, today, today, NOW, 4)
    assert parse_number(m["收件"]) == c["received"] > 0
    assert parse_number(m["超期件"]) == c["overdue"]

    # the monthly report counts every day's window hours up to the hall's now (issue 12
    # point 8: with the machine's clock they were cut at another instant)
    at.switch_page("app_pages/report.py").run()
    assert not at.exception, at.exception
    value = dict(zip(at.dataframe[0].value["指标"], at.dataframe[0].value["数值"], strict=True))
    month = ex.window_times(con, date(2026, 11, 1), date(2026, 11, 30), NOW)
    first_day = ex.window_times(con, date(2026, 11, 18), date(2026, 11, 18), NOW)
    assert value["窗口开放时长"] == pytest.approx(month["open_s"] / 3600, abs=0.051)
    assert value["窗口开放时长"] > 2 * first_day["open_s"] / 3600  # three days, not one
    captions = " ".join(c.value for c in at.caption)
    assert "最终过号" in captions and "过号次数" in captions  # both no-show counts explained

    # the what-if page starts on the hall's day (or the next working day)
    at.switch_page("app_pages/whatif.py").run()
    assert at.date_input(key="whatif_start").value >= today
    assert at.date_input(key="whatif_start").value < date(2026, 11, 25)
    con.close()
