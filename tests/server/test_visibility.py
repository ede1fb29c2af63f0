"""Who may read what: every audience × every read request and push, over a real server,
checked field by field against ``visibility.TABLE`` (finding 1 of issue 11: a window with no
ticket, and a window's device token, got the full applicant of any case)."""

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
from queue_server.server import visibility as vis
from queue_server.server.app import HallServer
from queue_server.server.auth import hash_token, new_token
from queue_server.server.registry import REQUESTS
from queue_server.store import SqliteStore
from queue_server.store.base import DeviceToken

from _support import SMALL_HALL, STAFF_PASSWORD, Client

TZ = ZoneInfo("Asia/Shanghai")
APPLICANT = {"name": "张三丰", "phone": "13812345678", "id_number": "110101199003071234"}
MASKED = {"name": "张*丰", "phone": "138****5678", "id_number": "110***********1234"}
SESSION = {"ping", "login", "logout", "auth", "subscribe", "resync", "revoke_session"}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # a Monday

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def config() -> HallConfig:
    cfg = load_hall_config(SMALL_HALL)
    bo_hash = hash_password(STAFF_PASSWORD)
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
    rules = dataclasses.replace(cfg.rules, session_hours=24 * 365)  # a test moves the clock a day on
    return dataclasses.replace(cfg, staff=cfg.staff + extra, rules=rules)


@pytest_asyncio.fixture
async def server(tmp_path: Path, config: HallConfig) -> AsyncIterator[HallServer]:
    srv = HallServer(config, SqliteStore(tmp_path / "hall.db"), host="127.0.0.1", port=0, clock=Clock())
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


async def _device(server: HallServer, role: str, window: int | None = None) -> str:
    token = new_token()
    await server.store.add_token(
        hash_token(token), DeviceToken(role=role, window=window, name=f"{role}-dev"), server.now().isoformat()
    )
    return token


# audience -> how to become it: ("login", username, window) or ("token", role, window) or None
AS: dict[str, tuple | None] = {
    "anonymous": None,
    "display": ("token", "display", None),
    "kiosk": ("token", "kiosk", None),
    "rating_pad": ("token", "rating_pad", 3),
    "window_device": ("token", "window", 3),  # the device at the very window serving the case
    "window": ("login", "w1", 1),  # staff at a window with no ticket
    "window_serving": ("login", "w3", 3),
    "backoffice": ("login", "bo-police", None),
    "backoffice_own": ("login", "bo-tax", None),
    "manager_device": ("token", "manager", None),
    "manager": ("login", "manager", None),
}


@contextlib.asynccontextmanager
async def _as(server: HallServer, aud: str) -> AsyncIterator[Client]:
    async with connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
        cl = Client(ws)
        how = AS[aud]
        if how is not None and how[0] == "login":
            fields = {"username": how[1], "password": STAFF_PASSWORD}
            if how[2] is not None:
                fields["window"] = how[2]
            assert (await cl.request("login", **fields))["type"] == "ok"
        elif how is not None:
            token = await _device(server, how[1], how[2])
            assert (await cl.request("auth", token=token))["type"] == "ok"
        yield cl


async def _serve(w3: Client) -> dict:
    """Window 3 opens, issues a ticket with the applicant, calls it and starts serving it."""
    assert (await w3.request("open_window", window=3))["type"] == "ok"
    issued = await w3.request("issue_ticket", queue="B", channel="staff", applicant=APPLICANT)
    assert issued["type"] == "ok", issued
    assert (await w3.request("call_next", window=3))["type"] == "ok"
    assert (await w3.request("start_service", window=3))["type"] == "ok"
    return issued["ticket"]


def _check(text: str, expected: vis.Levels, what: str, *, strict: bool = True) -> None:
    """``strict``: a masked field must be there (masked); otherwise it may also be absent."""
    for key, level in zip(vis.APPLICANT_FIELDS, expected, strict=True):
        raw, masked = APPLICANT[key], MASKED[key]
        if level == vis.FULL:
            assert raw in text, f"{what}: {key} should be in full: {text[:400]}"
        elif level == vis.MASKED:
            assert raw not in text and (masked in text or not strict), (
                f"{what}: {key} should be masked: {text[:400]}"
            )
        else:
            assert raw not in text and masked not in text, f"{what}: {key} should be absent: {text[:400]}"


def test_the_table_covers_every_read_request_and_gives_the_registry_its_roles() -> None:
    reads = {t for t, r in REQUESTS.items() if r.command is None and t not in SESSION}
    assert reads == set(vis.READS)
    for read in vis.READS:
        assert REQUESTS[read].roles == vis.roles_of(read), read
    for read, row in vis.TABLE.items():  # a role is allowed for all of its audiences or none
        for role in set(vis.AUDIENCES.values()):
            of_role = {a for a, r in vis.AUDIENCES.items() if r == role}
            assert of_role <= set(row) or not (of_role & set(row)), (read, role)


async def test_every_audience_reads_every_request_as_the_table_says(server: HallServer) -> None:
    async with _as(server, "window_serving") as w3:
        issued = await _serve(w3)
        subscribers: dict[str, Client] = {}
        async with contextlib.AsyncExitStack() as stack:
            for aud in vis.AUDIENCES:
                cl = await stack.enter_async_context(_as(server, aud))
                assert (await cl.request("subscribe"))["type"] == "ok"
                subscribers[aud] = cl
            accepted = await w3.request("accept_case", window=3, matter="SW-003")
            assert accepted["type"] == "ok", accepted
            _check(
                json.dumps(accepted, ensure_ascii=False),
                vis.levels("get_case", "window_serving"),
                "accept reply",
            )
            receipt = accepted["case"]["receipt_no"]
            complained = (
                await w3.request(  # a 审批时限 complaint about the tax matter: the tax office owns it
                    "receive_complaint",
                    channel="onsite",
                    content="办理时间过长",
                    category="办理时间过长",
                    matter_code="SW-003",
                    complainant={"name": APPLICANT["name"], "phone": APPLICANT["phone"]},
                )
            )
            assert complained["type"] == "ok", complained
            args = {
                "get_ticket": {"ticket": issued["number"]},
                "get_case": {"receipt_no": receipt},
                "get_rating": {"ticket_token": issued["status_token"]},
                "get_complaint": {"complaint": complained["complaint"]["id"]},
            }
            checked = 0
            for aud, cl in subscribers.items():
                pushes = await cl.drain(0.3)
                snap = [m for m in pushes if m["type"] == "snapshot"]
                events = [m for m in pushes if m["type"] == "event"]
                assert snap and events, (aud, pushes)
                _check(json.dumps(snap, ensure_ascii=False), vis.levels("snapshot", aud), f"snapshot/{aud}")
                staff = vis.AUDIENCES[aud] in ("window", "backoffice", "manager")
                if staff:  # staff get the case event, with the case's masked applicant
                    assert any(e["event"]["type"] == "case_accepted" for e in events), aud
                _check(
                    json.dumps(events, ensure_ascii=False),
                    vis.levels("event", aud),
                    f"event/{aud}",
                    strict=staff,
                )
                for read in vis.READS:
                    reply = await cl.request(read, **args.get(read, {}))
                    if aud not in vis.TABLE[read]:
                        assert reply["type"] == "error" and reply["code"] == "forbidden", (aud, read, reply)
                        continue
                    if (read, aud) == ("get_complaint", "backoffice"):  # another department's: refused
                        assert reply["type"] == "error" and reply["code"] == "not_your_department", reply
                        checked += 1
                        continue
                    assert reply["type"] == "ok", (aud, read, reply)
                    other_department = (read, aud) in (
                        ("list_cases", "backoffice"),
                        ("list_complaints", "backoffice"),
                    )
                    _check(
                        json.dumps(reply, ensure_ascii=False),
                        vis.levels(read, aud),
                        f"{read}/{aud}",
                        strict=not other_department,
                    )
                    checked += 1
            assert checked == sum(len(row) for read, row in vis.TABLE.items() if read in vis.READS)


async def test_an_idle_window_and_a_device_token_never_get_a_cases_applicant(server: HallServer) -> None:
    """Finding 1: ``None in (ticket, None)`` let a window with no ticket match any case."""
    async with _as(server, "window_serving") as w3, _as(server, "window") as w1:
        await _serve(w3)
        receipt = (await w3.request("accept_case", window=3, matter="SW-003"))["case"]["receipt_no"]
        idle = (await w1.request("get_case", receipt_no=receipt))["case"]["applicant"]
        assert idle == {"name": MASKED["name"], "phone": MASKED["phone"], "id_number": MASKED["id_number"]}
        async with _as(server, "window_device") as dev:  # at window 3 itself
            assert (await dev.request("get_case", receipt_no=receipt))["case"]["applicant"] == {
                "name": "张*丰"
            }


async def test_the_accepting_window_keeps_the_case_in_full_until_the_day_ends(server: HallServer) -> None:
    async with _as(server, "window_serving") as w3:
        await _serve(w3)
        receipt = (await w3.request("accept_case", window=3, matter="SW-003"))["case"]["receipt_no"]
        assert (await w3.request("finish_service", window=3))["type"] == "ok"
        later = (await w3.request("get_case", receipt_no=receipt))["case"]["applicant"]
        assert later["phone"] == APPLICANT["phone"]  # no ticket now, but accepted it today
        server.clock.now += timedelta(days=1)  # type: ignore[attr-defined]
        next_day = (await w3.request("get_case", receipt_no=receipt))["case"]["applicant"]
        assert next_day["phone"] == MASKED["phone"]
