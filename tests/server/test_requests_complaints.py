"""Complaints and the management's reassignment over a real server: the loop, who may act,
the overdue list, masking of the complainant, persistence across a restart."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
import test_cases_protocol as base
from test_cases_protocol import BO_PASSWORD, Clock, err, ok, pad_token, serve_one

from queue_server.hall.config import HallConfig, StaffAccount, StaffRole
from queue_server.passwords import hash_password
from queue_server.server.app import HallServer
from queue_server.store import SqliteStore

MGMT = "县行政服务中心管委会"
WHO = {"name": "张三丰", "phone": "13800001111"}
config = base.config  # the fixtures of the case protocol tests
client = base.client


@pytest.fixture(scope="module")
def mconfig(config: HallConfig) -> HallConfig:
    mgmt = StaffAccount(
        username="bo-mgmt",
        name="管委会督查",
        role=StaffRole.BACKOFFICE,
        password_hash=hash_password(BO_PASSWORD),
        department=MGMT,
    )
    return dataclasses.replace(config, staff=config.staff + (mgmt,))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def server(tmp_path, mconfig, clock):
    srv = HallServer(mconfig, SqliteStore(tmp_path / "hall.db"), host="127.0.0.1", port=0, clock=clock)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


async def test_a_12345_item_runs_its_loop_and_shows_on_the_overdue_list(server, client, clock) -> None:
    async with (
        client(login=("manager", None)) as mgr,
        client(login=("bo-tax", None)) as bo,
        client(login=("bo-police", None)) as police,
        client(login=("bo-mgmt", None)) as mg,
    ):
        got = ok(
            await mgr.request(
                "receive_complaint",
                channel="hotline_12345",
                hotline_ref="YT-0042",
                category="办理时间过长",
                matter_code="SW-003",
                content="审批超过承诺时限",
                complainant=WHO,
            )
        )["complaint"]
        cid = got["id"]
        assert (got["state"], got["responsible"], got["owner_department"], got["channel_name"]) == (
            "assigned",
            "department",
            "税务局",
            "12345转办",
        )
        assert got["due_at"] == "2026-11-26T17:30:00+08:00" and got["complainant"]["phone"] == WHO["phone"]
        err(await mgr.request("receive_complaint", channel="hotline_12345", content="x"), "missing_field")
        err(await mgr.request("receive_complaint", channel="fax", content="x"), "invalid_field")
        # the owner's back office sees it in full; another department neither lists nor acts
        mine = ok(await bo.request("list_complaints"))["complaints"]
        assert [k["id"] for k in mine] == [cid] and mine[0]["complainant"]["phone"] == WHO["phone"]
        assert ok(await police.request("list_complaints"))["complaints"] == []
        err(await police.request("handle_complaint", complaint=cid, handling="x"), "not_your_department")
        err(await bo.request("remind_complaint", complaint=cid, note="x"), "forbidden")
        # past its due it is overdue, and a manager's 督办 is recorded
        clock.now += timedelta(days=4)
        overdue = ok(await mgr.request("list_complaints", overdue_only=True))["complaints"]
        assert [k["id"] for k in overdue] == [cid] and overdue[0]["overdue"] is True
        assert (
            ok(await mgr.request("remind_complaint", complaint=cid, note="请今日反馈"))["complaint"][
                "reminders"
            ]
            == 1
        )
        ok(await bo.request("handle_complaint", complaint=cid, handling="已加急办结"))
        replied = ok(await bo.request("reply_complaint", complaint=cid, reply="已反馈12345平台"))["complaint"]
        assert (replied["state"], replied["reply_on_time"]) == ("replied", False)
        closed = ok(await bo.request("close_complaint", complaint=cid, satisfaction=3))["complaint"]
        assert (closed["state"], closed["satisfaction"], closed["overdue"]) == ("closed", 3, False)
        assert ok(await mgr.request("list_complaints", overdue_only=True))["complaints"] == []
        # free text waits for the management, which assigns it
        triage = ok(
            await mgr.request("receive_complaint", channel="phone", content="说不清", complainant=WHO)
        )["complaint"]
        assert (triage["state"], triage["owner_department"], triage["triage"]) == ("received", MGMT, True)
        err(
            await bo.request(
                "assign_complaint", complaint=triage["id"], responsible="department", department="县税务局"
            ),
            "not_your_department",
        )
        seen = ok(await mg.request("list_complaints"))["complaints"]
        assert [k["id"] for k in seen] == [triage["id"]]
        ok(
            await mg.request(
                "assign_complaint", complaint=triage["id"], responsible="department", department="县税务局"
            )
        )
        err(await police.request("get_complaint", complaint=triage["id"]), "not_your_department")
    await server.stop()
    again = HallServer(server.config, SqliteStore(server.store.path), host="127.0.0.1", port=0, clock=clock)
    await again.start()
    try:
        assert again.hall is not None and again.hall.complaints[triage["id"]].owner_department == "县税务局"
    finally:
        await again.stop()


async def test_attitude_goes_to_the_management_which_may_reassign(server, client) -> None:
    pad3 = await pad_token(server, 3)
    async with (
        client(login=("w3", 3)) as w3,
        client(token=pad3) as pad,
        client(login=("bo-mgmt", None)) as mg,
        client(login=("bo-tax", None)) as bo,
    ):
        ok(await w3.request("open_window", window=3))
        ticket = await serve_one(w3)
        ok(await w3.request("finish_service", window=3))
        shown = ok(await pad.request("get_rateable_service"))
        assert {"text": "服务态度不好", "party": "management", "party_name": MGMT} in shown["reasons"]
        ok(await pad.request("rate_service", ticket=ticket["id"], score=1, reasons=["服务态度不好"]))
        [loop] = ok(await mg.request("list_rectifications"))["rectifications"]
        assert (loop["responsible"], loop["owner_department"]) == ("management", MGMT)
        assert ok(await bo.request("list_rectifications"))["rectifications"] == []
        err(
            await bo.request(
                "reassign_rectification",
                rectification=loop["id"],
                responsible="department",
                department="县税务局",
                reason="x",
            ),
            "not_your_department",
        )
        moved = ok(
            await mg.request(
                "reassign_rectification",
                rectification=loop["id"],
                responsible="department",
                department="县税务局",
                reason="核实为业务问题",
            )
        )["rectification"]
        assert (moved["owner_department"], moved["reassign_reason"]) == ("县税务局", "核实为业务问题")
        assert [r["id"] for r in ok(await bo.request("list_rectifications"))["rectifications"]] == [
            loop["id"]
        ]
