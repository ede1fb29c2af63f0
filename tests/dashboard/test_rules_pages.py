"""The pages of the seeds' rules: 最多跑一次与事项 (visits against the catalogue's promise,
both bases of 一窗, 进驻比例, 网上可办率) and 投诉与纠纷, each figure against an independent
computation on the same SQLite file."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import pytest
import test_pages
from streamlit.testing.v1 import AppTest
from test_pages import END, START, close, metrics

from dashboard.theme import parse_number
from queue_server.calendar_data import load_calendar
from queue_server.hall import commands as c
from queue_server.matter_promises import load_promises
from queue_server.matters import load_matters
from queue_server.recorder import batch_for, rebuild_hall
from queue_server.store import SqliteStore

from dashboard_drive import DEMO_HALL, NOW, ROOT

APP = ROOT / "dashboard" / "streamlit_app.py"
MANAGER = c.Actor(kind="staff", id="manager", name="值班主任")
app = test_pages.app  # the fixture: the app over the recorded hall


def test_visits_page(app: AppTest, sql: sqlite3.Connection) -> None:
    app.switch_page("app_pages/visits.py").run()
    assert not app.exception, app.exception
    m = metrics(app)
    matters = load_matters()
    promises = {p.code: p for p in load_promises()}
    assert close(m["一窗受理率(按事项)"], sum(x.one_window for x in matters) / len(matters), scale=100)
    assert close(m["进驻比例"], sum(p.in_hall for p in promises.values()) / len(promises), scale=100)
    assert close(m["网上可办率"], sum(p.online for p in promises.values()) / len(promises), scale=100)
    # visits, independently: the distinct days of creation, 受理, 容缺 supply and pick-up at a window
    rows = sql.execute(
        "SELECT matter_code, service_date, substr(accepted_at, 1, 10), substr(deficiency_supplied_at, 1, 10),"
        " CASE WHEN delivery_method = 'window' THEN substr(delivered_at, 1, 10) END FROM cases"
        " WHERE state = 'completed' AND substr(delivered_at, 1, 10) BETWEEN ? AND ?",
        (START.isoformat(), END.isoformat()),
    ).fetchall()
    promised = [
        (len({d for d in r[1:] if d}), promises[r[0]].max_visits)
        for r in rows
        if r[0] in promises and promises[r[0]].max_visits is not None
    ]
    assert len(promised) > 20
    assert parse_number(m["承诺事项出件数"]) == len(promised)
    kept = sum(v <= limit for v, limit in promised)
    assert parse_number(m["兑现承诺"]) == kept
    assert close(m["承诺兑现率"], kept / len(promised), scale=100)


@pytest.fixture
def complaint_db(tmp_path: Path, hall_db: Path, demo_config, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The recorded hall plus three complaints made by the real core and stored by the real store."""
    path = tmp_path / "hall.db"
    shutil.copy(hall_db, path)

    async def add() -> None:
        store = SqliteStore(path)
        await store.open()
        try:
            hall = rebuild_hall(
                demo_config,
                await store.load(),
                calendar=load_calendar(),
                matters={x.code: x for x in load_matters()},
            )
            for cmd in [
                c.ReceiveComplaint(
                    channel=c.ComplaintChannel.PHONE, content="态度差", category="服务态度不好"
                ),
                c.ReceiveComplaint(
                    channel=c.ComplaintChannel.HOTLINE,
                    content="审批超时",
                    category="办理时间过长",
                    matter_code="SW-003",
                    hotline_ref="YT-1",
                ),
                c.ReceiveComplaint(channel=c.ComplaintChannel.ONSITE, content="说不清"),
                c.HandleComplaint(complaint=1, handling="已约谈"),
                c.ReplyComplaint(complaint=1, reply="已回复"),
            ]:
                await store.commit(batch_for(hall, hall.handle(cmd, NOW, MANAGER)))
        finally:
            await store.close()

    asyncio.run(add())
    monkeypatch.setenv("HALLOPS_DB", str(path))
    monkeypatch.setenv("HALLOPS_CONFIG", str(DEMO_HALL))
    monkeypatch.setenv("HALLOPS_NOW", NOW.isoformat())
    return path


def test_complaints_page(complaint_db: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("app_pages/complaints.py").run()
    assert not at.exception, at.exception
    m = metrics(at)
    assert parse_number(m["受理投诉"]) == 3
    assert parse_number(m["已回复"]) == 1
    # the 12345 item is due 3 working days later (11-25 17:30): nothing is overdue yet
    assert parse_number(m["超期未回复"]) == 0
    assert close(m["按时回复率"], 1.0, scale=100)
    tables = [t.value for t in at.dataframe]
    owners = set(tables[-1]["责任主体"])
    assert owners == {"示范县行政服务中心管委会", "税务局"}
