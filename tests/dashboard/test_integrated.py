"""The 一件事 page (dashboard/app_pages/integrated.py) in AppTest over a hall recorded through
the core: a delivered 企业开办, a 新生儿出生 in progress with a 帮办员, a 二手房 submitted by a
代办员, 补正 and 容缺 notices (one case with a second notice after its list changed). Every
figure shown equals the one computed with plain SQL on the same SQLite file."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.theme import parse_number
from queue_server.catalogue import Material
from queue_server.config_file import load_hall_config
from queue_server.hall import Hall
from queue_server.hall import commands as c
from queue_server.hall.calendar import WorkCalendar
from queue_server.matters import load_matters
from queue_server.recorder import batch_for
from queue_server.store import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "streamlit_app.py"
SMALL = ROOT / "tests" / "fixtures" / "halls" / "small.toml"
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 16, 0, tzinfo=TZ)
W3 = c.Actor(kind="staff", id="w3", name="窗口三")
W9 = c.Actor(kind="staff", id="manager", name="主任")
BO = c.Actor(kind="staff", id="bo", name="后台")
AGENT = c.Actor(kind="staff", id="dbr-01", name="代办员")
PERSON = c.Applicant(name="李企业", phone="13800000000", id_number="")


async def _record(path: Path) -> None:
    config = load_hall_config(SMALL)
    matters = {m.code: m for m in load_matters()}
    hall = Hall(config, matters=matters, calendar=WorkCalendar.from_package())
    store = SqliteStore(path, synchronous="OFF")
    await store.open()
    now = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
    tokens = iter(range(1, 1000))

    async def do(cmd, actor=W3):
        out = hall.handle(cmd, now, actor)
        await store.commit(batch_for(hall, out))
        return out

    async def serve(window=3, queue="B"):
        if hall.windows[window].staff is None:
            await do(c.StaffLogin(window=window, username=f"w{window}", name="窗口"))
            await do(c.OpenWindow(window=window))
        cur = hall.windows[window].current_ticket
        if cur and hall.tickets[cur].state.value == "serving":
            await do(c.FinishService(window=window))
        t = (await do(c.IssueTicket(queue=queue, status_token=f"t{next(tokens)}", applicant=PERSON)))[
            -1
        ].ticket
        await do(c.CallTicket(window=window, ticket=t, reason="test"))
        await do(c.StartService(window=window))

    async def decide(receipt):
        await do(c.StartReview(receipt_no=receipt), BO)
        await do(c.DecideCase(receipt_no=receipt, decision=c.Decision.APPROVED), BO)

    def parts(bundle):
        return {k.matter_code: k.receipt_no for k in hall.cases.values() if k.bundle_receipt == bundle}

    try:
        await serve()
        ss = (await do(c.AcceptCase(window=3, matter="SS-008")))[0].receipt_no
        await decide(parts(ss)["SS-003"])
        for code in ("SS-007", "SW-001", "SB-002"):
            await decide(parts(ss)[code])
        await serve(window=9, queue="P")
        await do(c.DeliverCase(receipt_no=ss, method=c.DeliveryMethod.WINDOW, window=9))
        await serve()
        ga = (await do(c.AcceptCase(window=3, matter="GA-008")))[0].receipt_no
        await do(c.AssistCase(receipt_no=ga, helper="bb-01", helper_name="王帮办"))
        now += timedelta(days=1)
        await do(c.SubmitForCitizen(matter="BDC-008", applicant=PERSON, agent_point="城关镇"), AGENT)
        await serve()
        notice = (await do(c.RequestMaterials(window=3, matter="SW-003", missing_materials=("税务登记表",))))[
            -1
        ]
        await do(
            c.AcceptCase(
                window=3,
                matter="SS-003",
                deficiency_item="住所使用证明",
                deficiency_promised_date=date(2026, 11, 27),
            )
        )
        await do(c.RequestMaterials(window=3, matter="SW-003", missing_materials=("营业执照",)))
        m = matters["SW-003"]
        hall.case_book.matters = {
            **matters,
            "SW-003": dataclasses.replace(
                m,
                materials=(*m.materials, Material(name="新增证明", form="原件", copies=1, deferrable=False)),
            ),
        }
        await do(c.ReissueNotice(window=3, receipt_no=notice.receipt_no, missing_materials=("新增证明",)))
    finally:
        await store.close()


@pytest.fixture(scope="module")
def hall_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("integrated") / "hall.db"
    asyncio.run(_record(path))
    return path


@pytest.fixture
def sql(hall_db: Path) -> Iterator[sqlite3.Connection]:
    con = sqlite3.connect(f"file:{hall_db}?mode=ro", uri=True)
    try:
        yield con
    finally:
        con.close()


def test_the_page_shows_the_figures_of_the_database(monkeypatch, hall_db: Path, sql) -> None:
    monkeypatch.setenv("HALLOPS_DB", str(hall_db))
    monkeypatch.setenv("HALLOPS_CONFIG", str(SMALL))
    monkeypatch.setenv("HALLOPS_NOW", NOW.isoformat())
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("app_pages/integrated.py").run()
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}

    bundles = sql.execute(
        "SELECT receipt_no, matter_code, state, promised_working_days FROM cases WHERE receipt_no IN"
        " (SELECT bundle_receipt FROM cases WHERE bundle_receipt IS NOT NULL)"
    ).fetchall()
    assert len(bundles) == 3  # the recording means something
    assert parse_number(shown["一件事受理"]) == len(bundles)
    assert parse_number(shown["一件事出件"]) == sum(1 for b in bundles if b[2] == "completed") == 1
    [parts_days] = sql.execute(
        "SELECT SUM(promised_working_days) FROM cases WHERE bundle_receipt IS NOT NULL"
    ).fetchone()
    saved = 1 - sum(b[3] for b in bundles) / parts_days
    assert abs(parse_number(shown["承诺减时"]) - saved * 100) <= 0.051
    assert parse_number(shown["运行中的一链办理"]) == len({b[1] for b in bundles}) == 3
    noticed = sql.execute("SELECT notices FROM cases WHERE notices > 0 AND bundle_receipt IS NULL").fetchall()
    assert sorted(n for (n,) in noticed) == [1, 1, 2]
    assert abs(parse_number(shown["一次告知达成率"]) - 2 / 3 * 100) <= 0.051
    assert parse_number(shown["帮办件"]) == 1 and parse_number(shown["代办件"]) == 1
    # the delivered 企业开办: one visit to apply, one to pick up; apart: 1 承诺件 x2 + 3 即办件 x1
    assert parse_number(shown["一件事平均跑动"]) == 2.0
    table = at.dataframe[0].value
    assert list(table["一件事"]) == [
        "企业开办一件事",
        "新生儿出生一件事",
        "二手房转移登记及水电气联动过户一件事",
    ]
    assert "市场监管局:completed" in table["分项(部门:状态)"].iloc[0]
