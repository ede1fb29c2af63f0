"""集成服务 over real websockets (issue 16): a 企业开办 bundle accepted once at a window fans out
to its departments in parallel, each back office decides its part, the bundle is delivered
once; a late part shows under its department; one 补正 notice from the catalogue; a 代办员
submits a case whose citizen made no visit. A real HallServer, a real SQLite file, the small
test hall with back-office and 代办员 accounts added."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from websockets.asyncio.client import connect

from queue_server.config_file import load_hall_config
from queue_server.hall.config import HallConfig, StaffAccount, StaffRole
from queue_server.passwords import hash_password
from queue_server.server.app import HallServer
from queue_server.store import SqliteStore

from _support import Client

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "fixtures" / "halls" / "small.toml"
TZ = ZoneInfo("Asia/Shanghai")
PASSWORD = "test-pass"
OTHER = "other-pass"
APPLICANT = {"name": "李企业", "phone": "13812345678", "id_number": "110101199003071234"}
BACK_OFFICES = {
    "bo-scjg": "县市场监管局",
    "bo-police": "县公安局",
    "bo-tax": "县税务局",
    "bo-sb": "县人社局（社保中心）",
}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # a Monday

    def __call__(self) -> datetime:
        return self.now


def ok(reply: dict) -> dict:
    assert reply["type"] == "ok", reply
    return reply


def err(reply: dict, code: str) -> dict:
    assert reply["type"] == "error" and reply["code"] == code, reply
    return reply


@pytest.fixture(scope="module")
def config() -> HallConfig:
    cfg = load_hall_config(SMALL)
    h = hash_password(OTHER)
    extra = tuple(
        StaffAccount(username=u, name=u, role=StaffRole.BACKOFFICE, password_hash=h, department=d)
        for u, d in BACK_OFFICES.items()
    )
    extra += (
        StaffAccount(
            username="dbr-01",
            name="村代办员",
            role=StaffRole.AGENT,
            password_hash=h,
            department="城关镇便民服务中心",
        ),
        StaffAccount(username="dbr-02", name="无点代办员", role=StaffRole.AGENT, password_hash=h),
    )
    # the stories here span working days with the same staff connections: sessions last a week
    # (by default a staff session ends at close of business, docs/security.md)
    rules = dataclasses.replace(cfg.rules, session_hours=24 * 7)
    return dataclasses.replace(cfg, staff=cfg.staff + extra, rules=rules)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest_asyncio.fixture
async def server(tmp_path: Path, config: HallConfig, clock: Clock) -> AsyncIterator[HallServer]:
    srv = HallServer(config, SqliteStore(tmp_path / "hall.db"), host="127.0.0.1", port=0, clock=clock)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
def client(server: HallServer):
    @contextlib.asynccontextmanager
    async def make(username: str, window: int | None = None):
        async with connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
            cl = Client(ws)
            fields = {"username": username, "password": PASSWORD if username in ("w3", "manager") else OTHER}
            if window is not None:
                fields["window"] = window
            ok(await cl.request("login", **fields))
            yield cl

    return make


async def serve_one(w: Client, window: int = 3, queue: str = "B") -> dict:
    issued = ok(await w.request("issue_ticket", queue=queue, channel="staff", applicant=APPLICANT))
    ok(await w.request("call_next", window=window))
    ok(await w.request("start_service", window=window))
    return issued["ticket"]


async def test_a_business_bundle_fans_out_is_decided_by_each_office_and_delivered_once(
    server, client, clock
) -> None:
    async with (
        client("w3", 3) as w3,
        client("manager") as mgr,
        client("bo-scjg") as scjg,
        client("bo-police") as police,
        client("bo-tax") as tax,
        client("bo-sb") as sb,
    ):
        ok(await w3.request("open_window", window=3))
        await serve_one(w3)
        matters = {m["code"]: m for m in ok(await w3.request("list_matters"))["matters"]}
        assert [p["matter"] for p in matters["SS-008"]["parts"]] == ["SS-003", "SS-007", "SW-001", "SB-002"]
        bundle = ok(await w3.request("accept_case", window=3, matter="SS-008"))["case"]
        assert bundle["state"] == "in_parts" and bundle["due_at"] == "2026-11-24T17:30:00+08:00"
        parts = {p["matter_code"]: p for p in bundle["parts"]}
        assert {p["state"] for code, p in parts.items() if code != "SS-003"} == {"waiting_for_input"}
        # each back office sees its own part; the lead department (牵头部门) the bundle too
        for bo, codes in (
            (scjg, ["SS-008", "SS-003"]),
            (police, ["SS-007"]),
            (tax, ["SW-001"]),
            (sb, ["SB-002"]),
        ):
            assert [k["matter_code"] for k in ok(await bo.request("list_cases"))["cases"]] == codes
        err(
            await police.request("start_review", receipt_no=parts["SS-007"]["receipt_no"]),
            "illegal_transition",
        )
        ok(await scjg.request("start_review", receipt_no=parts["SS-003"]["receipt_no"]))
        ok(await scjg.request("decide_case", receipt_no=parts["SS-003"]["receipt_no"], decision="approved"))
        # 并联审批: the three others run at once now
        for bo, code in ((police, "SS-007"), (tax, "SW-001"), (sb, "SB-002")):
            receipt = parts[code]["receipt_no"]
            assert ok(await bo.request("start_review", receipt_no=receipt))["case"]["state"] == "in_review"
        for bo, code in ((police, "SS-007"), (tax, "SW-001")):
            ok(await bo.request("decide_case", receipt_no=parts[code]["receipt_no"], decision="approved"))
        # a late part shows its department on the bundle
        clock.now = datetime(2026, 11, 25, 9, 0, tzinfo=TZ)
        late = ok(await mgr.request("get_case", receipt_no=bundle["receipt_no"]))["case"]
        assert late["overdue"] is True and late["late_departments"] == ["人社局（社保中心）"]
        ok(await sb.request("decide_case", receipt_no=parts["SB-002"]["receipt_no"], decision="approved"))
        decided = ok(await mgr.request("get_case", receipt_no=bundle["receipt_no"]))["case"]
        assert (decided["state"], decided["decision"], decided["decided_on_time"]) == (
            "decided",
            "approved",
            False,
        )
        # 统一出件 at window 9
        ok(await mgr.request("open_window", window=9))
        ok(await mgr.request("issue_ticket", queue="P"))
        ok(await mgr.request("call_next", window=9))
        ok(await mgr.request("start_service", window=9))
        err(
            await mgr.request(
                "deliver_case", receipt_no=parts["SW-001"]["receipt_no"], method="window", window=9
            ),
            "deliver_with_bundle",
        )
        done = ok(
            await mgr.request("deliver_case", receipt_no=bundle["receipt_no"], method="window", window=9)
        )["case"]
        assert done["state"] == "completed" and {p["state"] for p in done["parts"]} == {"completed"}
    # persisted: the parts are case rows with their bundle, every step is in the log
    db = sqlite3.connect(server.store.path)
    try:
        rows = db.execute(
            "SELECT matter_code, state, bundle_receipt FROM cases WHERE bundle_receipt = ?",
            (bundle["receipt_no"],),
        ).fetchall()
        types = [r[0] for r in db.execute("SELECT type FROM events ORDER BY id")]
    finally:
        db.close()
    assert sorted(rows) == sorted((code, "completed", bundle["receipt_no"]) for code in parts)
    assert types.count("part_opened") == 4 and types.count("part_released") == 3
    assert types.count("bundle_decided") == 1 and types.count("case_delivered") == 5


async def test_one_notice_from_the_catalogue_and_no_second(server, client) -> None:
    async with client("w3", 3) as w3:
        ok(await w3.request("open_window", window=3))
        await serve_one(w3)
        err(
            await w3.request(
                "request_materials", window=3, matter="SW-003", missing_materials=["随手写的材料"]
            ),
            "unknown_material",
        )
        case = ok(
            await w3.request(
                "request_materials",
                window=3,
                matter="SW-003",
                missing_materials=["营业执照副本", "税务登记表"],
            )
        )["case"]
        assert case["notices"] == 1 and case["missing_materials"] == ["营业执照副本", "税务登记表"]
        err(
            await w3.request(
                "reissue_notice", window=3, receipt_no=case["receipt_no"], missing_materials=["税务登记表"]
            ),
            "notice_already_issued",
        )
        ok(await w3.request("finish_service", window=3))
        await serve_one(w3)
        err(
            await w3.request(
                "accept_case",
                window=3,
                matter="SS-003",
                deficiency_item="公司章程",
                deficiency_promised_date="2026-11-27",
            ),
            "not_deferrable",
        )
        assisted = ok(
            await w3.request(
                "assist_case", receipt_no=case["receipt_no"], helper="bb-01", helper_name="王帮办"
            )
        )["case"]
        assert assisted["assisted_by"] == "bb-01"


async def test_an_agent_submits_for_a_citizen_who_makes_no_visit(server, client) -> None:
    async with client("dbr-01") as agent, client("dbr-02") as nowhere, client("w3", 3) as w3:
        case = ok(await agent.request("submit_for_citizen", matter="GA-008", applicant=APPLICANT))["case"]
        assert (case["agent"], case["agent_point"], case["ticket"], case["window"]) == (
            "dbr-01",
            "城关镇便民服务中心",
            None,
            None,
        )
        assert len(case["parts"]) == 4 and case["state"] == "in_parts"
        err(await nowhere.request("submit_for_citizen", matter="SW-003", applicant=APPLICANT), "forbidden")
        err(await agent.request("list_cases"), "forbidden")
        err(await w3.request("submit_for_citizen", matter="SW-003", applicant=APPLICANT), "forbidden")
    db = sqlite3.connect(server.store.path)
    try:
        [(tickets,)] = db.execute("SELECT count(*) FROM tickets").fetchall()
        [(data,)] = db.execute("SELECT data FROM events WHERE type = 'case_submitted_by_agent'").fetchall()
    finally:
        db.close()
    assert tickets == 0 and json.loads(data)["agent_point"] == "城关镇便民服务中心"
