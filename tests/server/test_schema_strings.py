"""Strings and bounds (finding 6 of issue 11), over a real server: a lone surrogate or a
control character in any field, an id that cannot be echoed, a date in year 9999 or an
appointment beyond the booking horizon get ``invalid_field``; the connection stays open,
nothing is stored and the hall is not rebuilt."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from queue_server.server.app import HallServer
from queue_server.server.auth import hash_token, new_token
from queue_server.server.schema import text_problem
from queue_server.store.base import DeviceToken

from _support import Client


async def _kiosk(server: HallServer, cl: Client) -> None:
    token = new_token()
    await server.store.add_token(
        hash_token(token), DeviceToken(role="kiosk", window=None, name="k"), server.now().isoformat()
    )
    assert (await cl.request("auth", token=token))["type"] == "ok"


async def _events(server: HallServer) -> int:
    async with server.store.reader.execute("SELECT COUNT(*) FROM events") as cur:  # type: ignore[attr-defined]
        return (await cur.fetchone())[0]


BAD = [
    '{"id": 1, "type": "issue_ticket", "queue": "A", "applicant": {"name": "\\ud800"}}',
    '{"id": 1, "type": "issue_ticket", "queue": "A", "applicant": {"name": "a\\u0000b"}}',
    '{"id": 1, "type": "issue_ticket", "queue": "A\\udfff"}',
    '{"id": 1, "type": "issue_ticket", "queue": "A", "applicant": {"phone": "138\\n1234"}}',
    '{"id": 1, "type": "issue_ticket", "queue": "A", "\\ud800": 1}',
    '{"id": 1, "type": "subscribe", "queues": ["A\\ud800"]}',
    '{"id": 1, "type": "issue_ticket", "queue": "A", "priority": "appointment",'
    ' "appointment_slot": "9999-01-01T10:00:00+08:00", "checked_in": false}',
    '{"id": 1, "type": "issue_ticket", "queue": "A", "priority": "appointment",'
    ' "appointment_slot": "1970-01-01T10:00:00+08:00", "checked_in": false}',
]


@pytest.mark.parametrize("raw", BAD)
async def test_bad_strings_and_dates_get_invalid_field_and_change_nothing(
    server: HallServer, connect_client, raw: str
) -> None:
    async with connect_client() as cl:
        await _kiosk(server, cl)
        hall_before, events_before = server.hall, await _events(server)
        await cl.send_raw(raw)
        reply = await cl.reply()
        assert reply["type"] == "error" and reply["code"] == "invalid_field", reply
        json.dumps(reply, ensure_ascii=False).encode("utf-8")  # the reply itself is valid text
        assert server.hall is hall_before  # not rebuilt
        assert await _events(server) == events_before  # nothing stored
        assert (await cl.request("ping"))["type"] == "ok"  # the connection stays open


async def test_an_id_that_cannot_be_echoed_comes_back_as_null(connect_client) -> None:
    async with connect_client() as cl:
        await cl.send_raw('{"id": "\\ud800", "type": "ping"}')
        reply = await cl.reply()
        assert (reply["re"], reply["code"]) == (None, "invalid_field")
        assert (await cl.request("ping"))["type"] == "ok"


async def test_appointments_within_the_booking_horizon_are_taken(server: HallServer, connect_client) -> None:
    horizon = server.config.rules.booking_horizon_days
    async with connect_client() as cl:
        await _kiosk(server, cl)
        inside = (server.now() + timedelta(days=horizon - 1)).isoformat()
        beyond = (server.now() + timedelta(days=horizon + 1)).isoformat()
        fields = {"queue": "A", "priority": "appointment", "checked_in": False}
        assert (await cl.request("issue_ticket", appointment_slot=inside, **fields))["type"] == "ok"
        refused = await cl.request("issue_ticket", appointment_slot=beyond, **fields)
        assert refused["code"] == "invalid_field" and "appointment_slot" in refused["message"]


def test_free_text_keeps_newlines_and_tabs_but_no_other_control() -> None:
    assert text_problem("第一行\n第二行\t", free_text=True) is None
    assert text_problem("a\nb") is not None
    assert text_problem("a\x00b", free_text=True) is not None
    assert text_problem("a\x7fb", free_text=True) is not None
    assert text_problem("\ud800", free_text=True) is not None
    assert text_problem("张三丰 Zhang") is None
