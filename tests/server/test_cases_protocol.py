"""Cases (办件) and 好差评 over real websockets: a real HallServer on a free port, on both store
backends (a real SQLite file, a real PostgreSQL database), the small test hall with two
back-office accounts added, and a fixed clock."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from websockets.asyncio.client import connect

from queue_server.config_file import load_hall_config
from queue_server.hall.config import HallConfig, StaffAccount, StaffRole
from queue_server.passwords import hash_password
from queue_server.server.app import HallServer
from queue_server.server.auth import hash_token, new_token
from queue_server.store.base import DeviceToken

from _backends import Backend
from _support import Client

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "fixtures" / "halls" / "small.toml"
TZ = ZoneInfo("Asia/Shanghai")
PASSWORD = "test-pass"  # every account of small.toml
BO_PASSWORD = "bo-pass"
APPLICANT = {"name": "张三丰", "phone": "13812345678", "id_number": "110101199003071234"}


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
    bo_hash = hash_password(BO_PASSWORD)
    extra = (
        StaffAccount(
            username="bo-tax",
            name="何俊",
            role=StaffRole.BACKOFFICE,
            password_hash=bo_hash,
            department="县税务局",
        ),
        StaffAccount(
            username="bo-police",
            name="公安后台",
            role=StaffRole.BACKOFFICE,
            password_hash=bo_hash,
            department="县公安局",
        ),
    )
    # the tests move the clock over days with the same staff connections: sessions that last
    rules = dataclasses.replace(cfg.rules, session_hours=24 * 365)
    return dataclasses.replace(cfg, staff=cfg.staff + extra, rules=rules)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest_asyncio.fixture
async def server(backend: Backend, config: HallConfig, clock: Clock) -> AsyncIterator[HallServer]:
    srv = HallServer(config, backend.store(), host="127.0.0.1", port=0, clock=clock)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
def client(server: HallServer):
    @contextlib.asynccontextmanager
    async def make(*, login: tuple | None = None, token: str | None = None):
        async with connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
            cl = Client(ws)
            if login is not None:
                username, window = login
                password = BO_PASSWORD if username.startswith("bo-") else PASSWORD
                fields = {"username": username, "password": password}
                if window is not None:
                    fields["window"] = window
                ok(await cl.request("login", **fields))
            if token is not None:
                ok(await cl.request("auth", token=token))
            yield cl

    return make


async def pad_token(server: HallServer, window: int) -> str:
    token = new_token()
    await server.store.add_token(
        hash_token(token),
        DeviceToken(role="rating_pad", window=window, name=f"pad-{window}"),
        server.now().isoformat(),
    )
    return token


async def serve_one(w: Client, window: int = 3, queue: str = "B", applicant: dict | None = None) -> dict:
    """Issue a ticket from the window's terminal, call it and start the service."""
    issued = ok(
        await w.request(
            "issue_ticket", queue=queue, channel="staff", **({"applicant": applicant} if applicant else {})
        )
    )
    ok(await w.request("call_next", window=window))
    ok(await w.request("start_service", window=window))
    return issued["ticket"]


# ---------------------------------------------------------------------- cases


async def test_a_case_from_the_window_to_the_back_office_and_out(server, client, clock) -> None:
    async with (
        client(login=("w3", 3)) as w3,
        client(login=("bo-tax", None)) as bo,
        client(login=("manager", None)) as mgr,
    ):
        ok(await w3.request("open_window", window=3))
        ticket = await serve_one(w3, applicant=APPLICANT)
        accepted = ok(await w3.request("accept_case", window=3, matter="SW-003"))["case"]
        assert (accepted["receipt_no"], accepted["state"]) == ("SL-20261123-0001", "accepted")
        assert accepted["due_at"] == "2026-11-30T17:30:00+08:00" and accepted["provisional"] is False
        assert accepted["applicant"]["phone"] == APPLICANT["phone"]  # the window serving the ticket
        assert accepted["ticket_number"] == ticket["number"]
        receipt = accepted["receipt_no"]

        listed = ok(await bo.request("list_cases"))
        assert [k["receipt_no"] for k in listed["cases"]] == [receipt] and listed["department"] == "县税务局"
        assert listed["cases"][0]["applicant_name"] == "张*丰"
        err(await bo.request("list_cases", department="县公安局"), "not_your_department")
        assert (
            ok(await bo.request("get_case", receipt_no=receipt))["case"]["applicant"]["phone"]
            == "13812345678"
        )

        clock.now += timedelta(hours=1)
        assert ok(await bo.request("start_review", receipt_no=receipt))["case"]["state"] == "in_review"
        err(
            await bo.request("suspend_case", receipt_no=receipt, reason="补材料", expected_working_days=2),
            "invalid_field",
        )
        suspended = ok(
            await bo.request("suspend_case", receipt_no=receipt, reason="检测", expected_working_days=2)
        )
        assert suspended["case"]["due_at"] == "2026-12-02T17:30:00+08:00"
        clock.now = datetime(2026, 11, 25, 9, 0, tzinfo=TZ)
        resumed = ok(await bo.request("resume_review", receipt_no=receipt))["case"]
        assert (resumed["paused_working_days"], resumed["due_at"]) == (2, "2026-12-02T17:30:00+08:00")
        extended = ok(
            await bo.request("extend_case", receipt_no=receipt, working_days=3, reason="需现场核查")
        )["case"]
        assert extended["due_at"] == "2026-12-07T17:30:00+08:00"
        again = err(
            await bo.request("extend_case", receipt_no=receipt, working_days=1, reason="再延"),
            "extension_used",
        )
        assert "already extended" in again["message"]
        err(await bo.request("decide_case", receipt_no=receipt, decision="maybe"), "invalid_field")
        decided = ok(await bo.request("decide_case", receipt_no=receipt, decision="approved"))["case"]
        assert (decided["state"], decided["decided_on_time"]) == ("decided", True)
        # 出件 at window 9 with a P ticket
        ok(await mgr.request("open_window", window=9))
        pickup = ok(await mgr.request("issue_ticket", queue="P"))["ticket"]
        ok(await mgr.request("call_next", window=9))
        ok(await mgr.request("start_service", window=9))
        done = ok(await mgr.request("deliver_case", receipt_no=receipt, method="window", window=9))["case"]
        assert (done["state"], done["delivery_ticket"]) == ("completed", pickup["id"])
        err(await bo.request("deliver_case", receipt_no=receipt, method="post"), "illegal_transition")


async def test_illegal_and_forbidden_case_requests(server, client) -> None:
    async with (
        client(login=("w3", 3)) as w3,
        client(login=("w1", 1)) as w1,
        client(login=("bo-police", None)) as police,
    ):
        ok(await w3.request("open_window", window=3))
        err(await w3.request("accept_case", window=3, matter="SW-003"), "no_current_ticket")
        await serve_one(w3, applicant=APPLICANT)
        err(await w1.request("accept_case", window=3, matter="SW-003"), "not_your_window")
        err(await w3.request("accept_case", window=3, matter="XX-001"), "unknown_matter")
        err(
            await w3.request("request_materials", window=3, matter="SW-003", missing_materials=[]),
            "missing_field",
        )
        err(await w3.request("reject_case", window=3, matter="SW-003", reason=" "), "reason_required")
        receipt = ok(await w3.request("accept_case", window=3, matter="SW-003"))["case"]["receipt_no"]
        err(await police.request("start_review", receipt_no=receipt), "not_your_department")
        err(await w3.request("start_review", receipt_no=receipt), "forbidden")  # the back office reviews
        err(await w3.request("decide_case", receipt_no=receipt, decision="approved", window=3), "not_allowed")
        masked = ok(await police.request("get_case", receipt_no=receipt))["case"]["applicant"]
        assert masked == {"name": "张*丰", "phone": "138****5678", "id_number": "110***********1234"}
        err(await w3.request("get_case", receipt_no="SL-20261123-0999"), "unknown_case")


async def test_materials_notice_then_resume_at_another_window(server, client, clock) -> None:
    async with client(login=("w3", 3)) as w3, client(login=("w2", 2)) as w2:
        ok(await w3.request("open_window", window=3))
        await serve_one(w3)
        notice = ok(
            await w3.request(
                "request_materials",
                window=3,
                matter="SW-003",
                missing_materials=["营业执照副本", "税务登记表"],
            )
        )["case"]
        assert (notice["state"], notice["missing_materials"], notice["due_at"]) == (
            "materials_requested",
            ["营业执照副本", "税务登记表"],
            None,
        )
        clock.now = datetime(2026, 11, 24, 9, 30, tzinfo=TZ)
        ok(await w2.request("open_window", window=2))
        await serve_one(w2, window=2, queue="A")
        resumed = ok(await w2.request("resume_case", window=2, receipt_no=notice["receipt_no"]))["case"]
        assert (resumed["state"], resumed["window"], resumed["due_at"]) == (
            "accepted",
            2,
            "2026-12-01T17:30:00+08:00",
        )


async def test_case_events_reach_staff_only(server, client) -> None:
    async with client() as display, client(login=("manager", None)) as mgr, client(login=("w3", 3)) as w3:
        ok(await display.request("subscribe"))
        ok(await mgr.request("subscribe"))
        ok(await w3.request("open_window", window=3))
        await serve_one(w3, applicant=APPLICANT)
        ok(await w3.request("accept_case", window=3, matter="SW-003"))
        public = [p["event"]["type"] for p in await display.events()]
        staff = await mgr.events()
        assert "case_accepted" not in public and "service_started" in public
        [case_ev] = [p["event"] for p in staff if p["event"]["type"] == "case_accepted"]
        assert case_ev["audience"] == "staff"
        assert case_ev["case_view"]["applicant_name"] == "张*丰"
        assert "13812345678" not in json.dumps(staff, ensure_ascii=False)
        assert "110101199003071234" not in json.dumps(staff, ensure_ascii=False)
        seqs = [p["seq"] for p in staff]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


async def test_list_matters(server, client) -> None:
    async with client(login=("w3", 3)) as w3:
        reply = ok(await w3.request("list_matters"))
        codes = {m["code"]: m for m in reply["matters"]}
        assert codes["SW-003"]["case_type"] == "承诺件" and "专家评审" in reply["suspension_reasons"]


# ---------------------------------------------------------------------- 好差评


async def test_the_pad_rates_its_window_once_and_a_bad_rating_opens_a_loop(server, client, clock) -> None:
    async with (
        client(login=("w3", 3)) as w3,
        client(token=await pad_token(server, 3)) as pad3,
        client(token=await pad_token(server, 2)) as pad2,
        client(login=("manager", None)) as mgr,
        client(login=("bo-tax", None)) as bo,
    ):
        ok(await pad3.request("subscribe", windows=[3]))
        assert ok(await pad3.request("get_rateable_service"))["service"] is None
        ok(await w3.request("open_window", window=3))
        ticket = await serve_one(w3)
        ok(await w3.request("accept_case", window=3, matter="SW-003"))
        clock.now += timedelta(minutes=5)
        ok(await w3.request("finish_service", window=3))
        finished = [p["event"] for p in await pad3.events() if p["event"]["type"] == "service_finished"]
        assert finished and finished[0]["data"]["staff_name"] == "窗口三"
        shown = ok(await pad3.request("get_rateable_service"))
        assert (shown["service"]["ticket_number"], shown["service"]["staff_name"]) == (
            ticket["number"],
            "窗口三",
        )
        assert (
            shown["service"]["matter_name"].startswith("增值税专用发票")
            and shown["levels"]["1"] == "非常不满意"
        )
        # nobody rates for someone else
        err(await pad2.request("rate_service", ticket=ticket["id"], score=5), "not_your_window")
        err(await w3.request("rate_service", ticket_token="x", score=5), "forbidden")
        err(await mgr.request("rate_service", ticket=ticket["id"], score=5), "forbidden")
        err(await pad3.request("rate_service", ticket=ticket["id"], score=1), "reason_required")
        rated = ok(
            await pad3.request(
                "rate_service", ticket=ticket["id"], score=1, reasons=["办理时间过长"], text="审批拖了很久"
            )
        )["rating"]
        assert (rated["score"], rated["bad"], rated["contact_due"]) == (1, True, "2026-11-24T17:30:00+08:00")
        err(await pad3.request("rate_service", ticket=ticket["id"], score=5), "already_rated")
        loops = ok(await mgr.request("list_rectifications"))["rectifications"]
        assert len(loops) == 1
        loop = loops[0]
        assert (loop["state"], loop["owner_department"], loop["owner_staff"], loop["responsible"]) == (
            "open",
            "县税务局",
            "w3",
            "department",
        )
        assert (loop["contact_due"], loop["rectify_due"]) == (
            "2026-11-24T17:30:00+08:00",
            "2026-11-25T17:30:00+08:00",
        )
        assert loop["rating"]["reasons"] == ["办理时间过长"] and "rater_token_hash" not in loop["rating"]
        rid = loop["id"]
        assert [r["id"] for r in ok(await bo.request("list_rectifications"))["rectifications"]] == [rid]
        err(await bo.request("decide_appeal", rectification=rid, decision="upheld"), "forbidden")
        ok(await bo.request("contact_rater", rectification=rid, note="已电话联系"))
        ok(await bo.request("rectify", rectification=rid, measures="高峰增开窗口"))
        closed = ok(await bo.request("revisit", rectification=rid, satisfaction=4))["rectification"]
        assert (closed["state"], closed["outcome"], closed["contact_on_time"], closed["rectify_on_time"]) == (
            "closed",
            "rectified",
            True,
            True,
        )


async def test_the_status_page_rates_its_own_ticket_and_follows_up(server, client) -> None:
    async with client(login=("w3", 3)) as w3, client() as page, client(login=("manager", None)) as mgr:
        ok(await w3.request("open_window", window=3))
        ticket = ok(await w3.request("issue_ticket", queue="B"))["ticket"]
        token = ticket["status_token"]
        ok(await w3.request("call_next", window=3))
        ok(await w3.request("start_service", window=3))
        assert ok(await page.request("get_rating", ticket_token=token))["rating"]["finished"] is False
        err(await page.request("rate_service", ticket_token=token, score=5), "not_rateable")
        ok(await w3.request("finish_service", window=3))
        err(
            await page.request("rate_service", ticket=ticket["id"], score=5), "invalid_field"
        )  # not its own way
        ok(await page.request("rate_service", ticket_token=token, score=2, reasons=["一次性告知不清"]))
        err(await page.request("rate_service", ticket_token=token, score=5), "already_rated")
        err(await page.request("follow_up_rating", ticket_token=token, score=4), "not_allowed")
        [loop] = ok(await mgr.request("list_rectifications"))["rectifications"]
        ok(await w3.request("resolve_on_the_spot", rectification=loop["id"], note="当场补充告知"))
        status = ok(await page.request("get_rating", ticket_token=token))["rating"]
        assert (status["rated"], status["score"], status["follow_up_allowed"]) == (True, 2, True)
        ok(await page.request("follow_up_rating", ticket_token=token, score=5))
        err(await page.request("follow_up_rating", ticket_token=token, score=5), "follow_up_used")


async def test_appeals_by_the_staff_member_and_the_managers_decision(server, client) -> None:
    async with (
        client(login=("w3", 3)) as w3,
        client(token=await pad_token(server, 3)) as pad3,
        client(login=("manager", None)) as mgr,
    ):
        ok(await w3.request("open_window", window=3))
        ticket = await serve_one(w3)
        ok(await w3.request("finish_service", window=3))
        ok(await pad3.request("rate_service", ticket=ticket["id"], score=1, text="误点"))
        [loop] = ok(await mgr.request("list_rectifications"))["rectifications"]
        appealed = ok(await w3.request("appeal_rating", rectification=loop["id"], reason="评价人误操作"))
        assert appealed["rectification"]["state"] == "appealed"
        upheld = ok(
            await mgr.request("decide_appeal", rectification=loop["id"], decision="upheld", note="属实")
        )
        assert (upheld["rectification"]["outcome"], upheld["rectification"]["rating"]["excluded"]) == (
            "appeal_upheld",
            True,
        )


async def test_cases_ratings_and_counters_survive_a_restart(backend, config, clock, server, client) -> None:
    async with client(login=("w3", 3)) as w3, client(token=await pad_token(server, 3)) as pad3:
        ok(await w3.request("open_window", window=3))
        ticket = await serve_one(w3)
        receipt = ok(await w3.request("accept_case", window=3, matter="SW-003"))["case"]["receipt_no"]
        ok(await w3.request("finish_service", window=3))
        ok(await pad3.request("rate_service", ticket=ticket["id"], score=1, reasons=["服务态度不好"]))
    await server.stop()
    again = HallServer(config, backend.store(), host="127.0.0.1", port=0, clock=clock)
    await again.start()
    try:
        due, rectifications = await again.writer.read(
            lambda hall, now: (hall.cases[receipt].due_at.isoformat(), len(hall.rectifications))
        )
        assert (due, rectifications) == ("2026-11-30T17:30:00+08:00", 1)
        async with connect(f"ws://127.0.0.1:{again.port}/ws") as ws:
            cl = Client(ws)
            ok(await cl.request("auth", token=await pad_token(again, 3)))
            err(await cl.request("rate_service", ticket=ticket["id"], score=5), "already_rated")
        async with connect(f"ws://127.0.0.1:{again.port}/ws") as ws:
            cl = Client(ws)
            ok(await cl.request("login", username="w3", password=PASSWORD, window=3))
            await serve_one(cl)  # window 3 is still open
            assert (
                ok(await cl.request("accept_case", window=3, matter="SW-001"))["case"]["receipt_no"]
                == "SL-20261123-0002"
            )
    finally:
        await again.stop()  # (the fixture's stop of the first server is then a no-op)
