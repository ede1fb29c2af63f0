"""The request registry: every entry is complete and documented, its roles exist, and its
schema refuses each bad field with an error naming that field, and decodes good fields into
the typed core command."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from queue_server.hall import commands as c
from queue_server.server.context import Viewer
from queue_server.server.protocol import ROLES, ProtocolError
from queue_server.server.registry import REQUESTS, to_message, validate
from queue_server.server.schema import Field, check, decode

TZ = ZoneInfo("Asia/Shanghai")
DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")
SECTIONS = {
    n for line in DOC.splitlines() if line.startswith("### ") for n in re.findall(r"`([a-z_]+)`", line)
}
COMMANDS = sorted(t for t, r in REQUESTS.items() if r.command is not None)
FIELDS = [(t, f) for t, r in sorted(REQUESTS.items()) for f in r.fields]

# a good value per field (the schema's kind, then what the decoder accepts)
GOOD: dict[str, Any] = {
    "priority": "green",
    "channel": "kiosk",
    "decision": "approved",
    "method": "post",
    "appointment_slot": "2026-11-23T10:30:00+08:00",
    "deficiency_promised_date": "2026-11-25",
    "applicant": {"name": "张三丰"},
    "queue": "A",
    "to_queue": "B",
    "reason": "听证",
    "hotline_due": "2026-11-25",
    "complainant": {"name": "张三丰"},
    "responsible": "management",
}
# the command fields the server fills in: never on the wire
SERVER_SET = {"scope", "staff", "status_token", "window", "agent_point"}


def good(f: Field) -> Any:
    if f.name == "decision" and f.max_len == 10:
        return "upheld"
    if f.name == "channel" and f.max_len == 16:  # a complaint's channel
        return "onsite"
    if f.name in GOOD:
        return GOOD[f.name]
    samples: dict[Any, Any] = {str: "x", int: 3, bool: True, list: ["x"], dict: {}}
    return samples[f.kind]


def minimal(req_type: str, **extra: Any) -> dict[str, Any]:
    msg = {"id": 1, "type": req_type}
    msg.update({f.name: good(f) for f in REQUESTS[req_type].fields if f.required})
    msg.update(extra)
    return msg


def test_there_are_entries_of_every_kind():
    assert {"ping", "subscribe", "get_case", "issue_ticket", "decide_appeal"} <= set(REQUESTS)
    assert len(COMMANDS) >= 30


@pytest.mark.parametrize("req_type", sorted(REQUESTS))
def test_every_entry_is_complete_and_documented(req_type: str):
    req = REQUESTS[req_type]
    assert req.type == req_type
    assert req.summary.strip() and req.summary.rstrip().endswith((".", ")", "。"))
    assert req.roles and req.roles <= set(ROLES), req.roles - set(ROLES)
    assert callable(req.handler)
    assert req_type in SECTIONS, f"docs/protocol.md has no ### `{req_type}` section"
    names = [f.name for f in req.fields]
    assert len(names) == len(set(names))
    if req.command is not None:
        assert req.reply is not None, "a command says how its reply is built"
        attrs = {f.name for f in dataclasses.fields(req.command)}
        assert {f.target for f in req.fields} <= attrs
        # every attribute of the command is on the wire or filled in by the server
        assert attrs - {f.target for f in req.fields} <= SERVER_SET


@pytest.mark.parametrize(("req_type", "field"), FIELDS, ids=[f"{t}.{f.name}" for t, f in FIELDS])
def test_a_field_of_the_wrong_kind_is_refused_naming_it(req_type: str, field: Field):
    wrong = 3 if field.kind is not int else "3"
    with pytest.raises(ProtocolError) as exc_info:
        check(req_type, minimal(req_type, **{field.name: wrong}), REQUESTS[req_type].fields)
    assert exc_info.value.code == "invalid_field"
    assert field.name in exc_info.value.message


@pytest.mark.parametrize(
    ("req_type", "field"),
    [(t, f) for t, f in FIELDS if f.kind in (str, list)],
    ids=[f"{t}.{f.name}" for t, f in FIELDS if f.kind in (str, list)],
)
def test_a_field_too_long_is_refused_naming_it(req_type: str, field: Field):
    long = "x" * (field.max_len + 1) if field.kind is str else ["x"] * (field.max_len + 1)
    with pytest.raises(ProtocolError) as exc_info:
        check(req_type, minimal(req_type, **{field.name: long}), REQUESTS[req_type].fields)
    assert (exc_info.value.code, field.name in exc_info.value.message) == ("invalid_field", True)


@pytest.mark.parametrize(
    ("req_type", "field"),
    [(t, f) for t, f in FIELDS if f.required],
    ids=[f"{t}.{f.name}" for t, f in FIELDS if f.required],
)
def test_a_required_field_missing_is_refused_naming_it(req_type: str, field: Field):
    msg = minimal(req_type)
    del msg[field.name]
    with pytest.raises(ProtocolError) as exc_info:
        check(req_type, msg, REQUESTS[req_type].fields)
    assert (exc_info.value.code, field.name in exc_info.value.message) == ("missing_field", True)


@pytest.mark.parametrize(
    ("req_type", "field"),
    [(t, f) for t, f in FIELDS if f.decode is not None],
    ids=[f"{t}.{f.name}" for t, f in FIELDS if f.decode is not None],
)
def test_a_value_the_decoder_refuses_is_an_invalid_field_naming_it(req_type: str, field: Field):
    bads: dict[Any, Any] = {
        str: "nope",
        list: [5] if field.name != "windows" else ["5"],
        dict: {"email": "a@b.cn"},
    }
    bad = bads[field.kind]
    msg = minimal(req_type, **{field.name: bad})
    check(req_type, msg, REQUESTS[req_type].fields)  # the right kind...
    with pytest.raises(ProtocolError) as exc_info:
        decode(msg, REQUESTS[req_type].fields, TZ)  # ...but not a valid value
    assert (exc_info.value.code, field.name in exc_info.value.message) == ("invalid_field", True)


def test_an_unknown_field_is_refused_naming_it():
    with pytest.raises(ProtocolError) as exc_info:
        validate(minimal("call_next", shout=True), "manager")
    assert (exc_info.value.code, "shout" in exc_info.value.message) == ("unknown_field", True)


def test_roles_are_checked_after_the_shape():
    assert validate(minimal("call_next"), "window").type == "call_next"
    with pytest.raises(ProtocolError) as exc_info:
        validate(minimal("call_next"), "kiosk")
    assert exc_info.value.code == "forbidden"


@pytest.mark.parametrize("req_type", COMMANDS)
def test_good_fields_decode_into_the_typed_command(req_type: str):
    req = REQUESTS[req_type]
    msg = {"id": 1, "type": req_type, **{f.name: good(f) for f in req.fields}}
    if req_type == "rate_service":  # a status page: its token, no ticket
        del msg["ticket"]
    check(req_type, msg, req.fields)
    values = decode(msg, req.fields, TZ)
    viewer = Viewer(role="anonymous", window=None, actor=c.Actor(kind="anonymous", id="-"), scope="县税务局")
    from queue_server.server.commands import default_build

    cmd = req.build(viewer, values) if req.build is not None else default_build(req.command, viewer, values)
    assert isinstance(cmd, req.command)
    for f in req.fields:
        value = getattr(cmd, f.target)
        assert value is not None, f.name
    if hasattr(cmd, "scope"):
        assert cmd.scope == "县税务局"


@pytest.mark.parametrize("req_type", COMMANDS)
def test_a_typed_command_encodes_into_its_request_and_back(req_type: str):
    req = REQUESTS[req_type]
    msg = {"id": 1, "type": req_type, **{f.name: good(f) for f in req.fields}}
    if req_type == "rate_service":
        del msg["ticket"]
    values = decode(msg, req.fields, TZ)
    message = to_message(req.command(**values))
    assert message["type"] == req_type
    check(req_type, {"id": 2, **message}, req.fields)
    assert decode(message, req.fields, TZ) == {
        k: v for k, v in values.items() if k in {f.target for f in req.fields if f.name in message}
    }
    assert to_message(c.CallNext(window=5)) == {"type": "call_next", "window": 5}
    assert to_message(c.Transfer(ticket="A013", to_window=12)) == {
        "type": "transfer",
        "ticket": "A013",
        "to_window": 12,
    }


def test_decoders_give_typed_values():
    values = decode(
        minimal(
            "issue_ticket",
            priority="appointment",
            appointment_slot="2026-11-23T10:30:00",
            applicant={"name": "张三丰"},
        ),
        REQUESTS["issue_ticket"].fields,
        TZ,
    )
    assert values["priority"] is c.Priority.APPOINTMENT
    assert values["appointment_slot"] == datetime(2026, 11, 23, 10, 30, tzinfo=TZ)  # naive: the hall's zone
    assert values["applicant"] == c.Applicant(name="张三丰")
    case = decode(
        minimal("accept_case", deficiency_promised_date="2026-11-25"), REQUESTS["accept_case"].fields, TZ
    )
    assert case["deficiency_promised_date"] == date(2026, 11, 25)
    asked = decode(
        minimal("request_materials", missing_materials=["营业执照副本"]),
        REQUESTS["request_materials"].fields,
        TZ,
    )
    assert asked["missing_materials"] == ("营业执照副本",)
    rated = decode(minimal("follow_up_rating", ticket_token="tok"), REQUESTS["follow_up_rating"].fields, TZ)
    assert rated["status_token"] == "tok"  # the wire's ticket_token is the command's status_token
