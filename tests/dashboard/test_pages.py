"""Every page runs in AppTest over the recorded hall without an exception, and the figures it
shows equal the ones computed independently with plain SQL on the same SQLite file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.theme import parse_number

import dashboard_expected as ex
from dashboard_drive import NOW, ROOT

APP = ROOT / "dashboard" / "streamlit_app.py"
START, END = date(2026, 11, 18), date(2026, 11, 20)  # the default range: the recorded days


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def close(shown: str, value: float | None, *, scale: float = 1.0, tol: float = 0.051) -> bool:
    """A shown figure ('8.5 分钟', '92.3%', '1,234') against an exact value."""
    number = parse_number(shown)
    if value is None:
        return number is None
    return number is not None and abs(number - value * scale) <= tol


@pytest.fixture
def app(dashboard_env: Path) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def test_live_page(app: AppTest, sql, demo_config) -> None:
    m = metrics(app)
    day = ex.day_figures(sql, NOW.date(), NOW.date())
    assert day["issued"] > 50 and day["waiting"] > 0  # the morning is busy: the test means something
    assert parse_number(m["当前等候"]) == day["waiting"]
    assert parse_number(m["今日取号"]) == day["issued"]
    assert parse_number(m["今日办结"]) == day["served"]
    assert parse_number(m["今日最终过号"]) == day["no_show"]
    assert close(m["今日平均等候"], day["avg_wait_s"], scale=1 / 60)
    assert close(m["今日等候90%分位"], day["p90_wait_s"], scale=1 / 60)
    win = ex.window_counts(sql)
    assert parse_number(m["开放窗口"]) == win["open"]
    assert parse_number(m["服务中"]) == win["serving"]
    assert parse_number(m["空闲"]) == win["idle"]
    assert parse_number(m["暂停"]) == win["paused"]
    assert parse_number(m["预警队列"]) == ex.alerts(sql, demo_config, NOW.date(), NOW)
    # the per-queue table holds one row per configured queue
    table = app.dataframe[0].value
    assert list(table["代码"]) == [q.code for q in demo_config.queues]
    assert table["等候人数"].sum() == day["waiting"]


def test_live_page_department_filter(app: AppTest, sql) -> None:
    app.multiselect(key="f_departments").set_value(["县税务局"]).run()
    assert not app.exception
    m = metrics(app)
    waiting = sql.execute(
        "SELECT COUNT(*) FROM tickets WHERE service_date = ? AND state = 'waiting'"
        " AND checked_in = 1 AND queue = 'B'",
        (NOW.date().isoformat(),),
    ).fetchone()[0]
    assert parse_number(m["当前等候"]) == waiting
    assert list(app.dataframe[0].value["代码"]) == ["B"]


def test_cases_page(app: AppTest, sql, demo_config) -> None:
    app.switch_page("app_pages/cases.py").run()
    assert not app.exception, app.exception
    m = metrics(app)
    c = ex.case_figures(sql, START, END, NOW, demo_config.rules.due_soon_hours)
    assert c["received"] > 100
    assert parse_number(m["收件"]) == c["received"]
    assert parse_number(m["受理"]) == c["accepted"]
    assert parse_number(m["办结"]) == c["decided"]
    assert close(m["按时办结率"], c["on_time_rate"], scale=100)
    assert parse_number(m["超期件"]) == c["overdue"]
    assert parse_number(m["即将到期"]) == c["due_soon"]
    assert close(m["即办件占比"], c["instant_share"], scale=100)
    assert close(m["一窗受理率(按办件量)"], c["one_window_rate"], scale=100)


def test_ratings_page(app: AppTest, sql) -> None:
    app.switch_page("app_pages/ratings.py").run()
    assert not app.exception, app.exception
    m = metrics(app)
    r = ex.rating_figures(sql, START, END, NOW)
    assert r["rated"] > 100 and r["rectifications"] > 0
    assert parse_number(m["评价数"]) == r["rated"]
    assert close(m["好评率"], r["good_rate"], scale=100)
    assert close(m["差评率"], r["bad_rate"], scale=100)
    assert close(m["未评率"], r["unrated_rate"], scale=100)
    assert parse_number(m["差评数"]) == r["rectifications"]
    assert close(m["差评回复率"], r["reply_rate"], scale=100)
    assert close(m["按时联系率"], r["contact_on_time_rate"], scale=100)
    assert close(m["按时整改率"], r["rectify_on_time_rate"], scale=100)
    assert parse_number(m["联系超期"]) == r["contact_overdue"]
    assert parse_number(m["整改超期"]) == r["rectify_overdue"]


def test_windows_page(app: AppTest, sql) -> None:
    app.switch_page("app_pages/windows.py").run()
    assert not app.exception, app.exception
    m = metrics(app)
    d = ex.day_figures(sql, START, END)
    t = ex.window_times(sql, START, END, NOW)
    assert parse_number(m["办结件数"]) == d["finished"]
    assert close(m["平均办理时长"], d["avg_service_s"], scale=1 / 60)
    assert close(m["窗口开放时长"], t["open_s"], scale=1 / 3600)
    assert close(m["暂停时长"], t["paused_s"], scale=1 / 3600)
    idle = max(t["open_s"] - t["busy_s"], 0) / t["open_s"]
    assert close(m["空闲占比"], idle, scale=100, tol=0.11)  # per-window clamping may move it a little


def test_report_page(app: AppTest, sql) -> None:
    app.switch_page("app_pages/report.py").run()
    assert not app.exception, app.exception
    assert app.selectbox(key="report_month").value == "2026-11"
    summary = app.dataframe[0].value
    value = dict(zip(summary["指标"], summary["数值"], strict=True))
    d = ex.day_figures(sql, date(2026, 11, 1), date(2026, 11, 30))
    assert value["取号量"] == d["issued"]
    assert value["办结量(叫号服务)"] == d["served"]
    assert abs(value["平均等候时长"] - d["avg_wait_s"] / 60) <= 0.051
    assert len(app.get("download_button")) == 2  # .xlsx and .csv (their bytes: test_report.py)


def test_whatif_page_compares_a_plan_with_the_same_citizens(app: AppTest, tmp_path) -> None:
    import asyncio
    import sqlite3
    from datetime import datetime

    from queue_server.calendar_data import load_calendar
    from queue_server.config_file import load_hall_config
    from queue_server.sim.behaviour.profile import default_profile
    from queue_server.sim.engine import simulate
    from queue_server.sim.plan import DEFAULT_PLAN
    from queue_server.store import SqliteStore

    app.switch_page("app_pages/whatif.py").run()
    assert not app.exception, app.exception
    plan = ROOT / "data" / "plans" / "peak-extra-a.toml"
    app.selectbox(key="whatif_plan").set_value(plan)
    app.date_input(key="whatif_start").set_value(date(2026, 11, 23))
    app.number_input(key="whatif_days").set_value(1)
    app.number_input(key="whatif_seed").set_value(7)
    app.button(key="whatif_run").click().run(timeout=180)
    assert not app.exception, app.exception
    table = app.dataframe[0].value
    hall = table[table["队列"] == "全厅"].iloc[0]
    a_row = table[table["队列"].str.startswith("A ")].iloc[0]
    assert a_row["平均等候(备选,分)"] < a_row["平均等候(现行,分)"]  # two more A windows at the peak

    # the hall's own plan, simulated again into a file, and its mean wait by plain SQL
    config = load_hall_config(ROOT / "data" / "halls" / "demo.toml")
    db = tmp_path / "base.db"

    async def base_run() -> None:
        store = SqliteStore(db, synchronous="OFF")
        await store.open()
        try:
            await simulate(
                config,
                store,
                start=date(2026, 11, 23),
                days=1,
                seed=7,
                profile=default_profile(config),
                plan=DEFAULT_PLAN,
                calendar=load_calendar(),
                batch_minutes=15,
            )
        finally:
            await store.close()

    asyncio.run(base_run())
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "SELECT i.at, MIN(c.at) FROM events i JOIN events c ON c.ticket = i.ticket AND c.type = 'ticket_called'"
            " WHERE i.type = 'ticket_issued' GROUP BY i.ticket"
        ).fetchall()
    waits = [(datetime.fromisoformat(c) - datetime.fromisoformat(i)).total_seconds() for i, c in rows]
    assert abs(hall["平均等候(现行,分)"] - sum(waits) / len(waits) / 60) <= 0.051
