"""Typed events (queue_server/hall/events/): one frozen class per type string, and the one
codec between an event and its record (the ``events`` table and the websocket JSON)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from queue_server.hall import commands as c
from queue_server.hall.events import (
    CaseAccepted,
    CaseRejected,
    DayStarted,
    DeadlineRecomputed,
    Event,
    EventType,
    TicketIssued,
    WindowClosed,
    event_class,
    event_classes,
    from_record,
)

TZ = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 11, 23, 9, 30, tzinfo=TZ)


def test_every_type_string_has_one_class_named_in_the_past_tense():
    classes = event_classes()
    assert set(classes) == {t.value for t in EventType}
    assert len(set(classes.values())) == len(classes)
    for type_, cls in classes.items():
        assert cls.type == type_ and event_class(type_) is cls
        # the type string in CamelCase: ticket_checked_in -> TicketCheckedIn
        assert cls.__name__ == "".join(w.capitalize() for w in type_.split("_")), cls.__name__


def test_events_are_frozen_and_keyword_only():
    ev = WindowClosed(at=AT, actor="staff:w1", window=1, staff="w1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.staff = "w2"
    with pytest.raises(TypeError):
        WindowClosed(AT, "staff:w1")  # positional: refused


def test_the_record_nests_the_fields_under_data_as_json_values():
    ev = DayStarted(
        at=AT,
        actor="system:hall",
        service_date=date(2026, 11, 23),
        previous_date=None,
        expired=("20261122-A001",),
    )
    assert ev.to_record() == {
        "type": "day_started",
        "at": "2026-11-23T09:30:00+08:00",
        "actor": "system:hall",
        "ticket": None,
        "window": None,
        "data": {"service_date": "2026-11-23", "previous_date": None, "expired": ["20261122-A001"]},
    }
    assert from_record(ev.to_record()) == ev


def test_a_type_with_two_shapes_leaves_out_the_other_shapes_keys():
    closed = WindowClosed(at=AT, actor="staff:w1", window=1, staff="w1")
    assert closed.payload() == {"staff": "w1"}
    assert WindowClosed(at=AT, actor="staff:w1", window=1, staff="w1", reason="logout").payload() == {
        "staff": "w1",
        "reason": "logout",
    }
    rect = DeadlineRecomputed(
        at=AT,
        actor="system:hall",
        provisional=False,
        rectification_id=3,
        contact_due=AT,
        rectify_due=AT,
        previous_contact_due=AT,
        previous_rectify_due=AT,
    )
    assert set(rect.payload()) == {
        "rectification_id",
        "contact_due",
        "rectify_due",
        "provisional",
        "previous_contact_due",
        "previous_rectify_due",
    }
    by_receipt = CaseRejected(
        at=AT, actor="staff:w3", receipt_no="SL-1", reason="r", ticket_number="B001", new=False
    )
    assert by_receipt.payload() == {
        "receipt_no": "SL-1",
        "reason": "r",
        "ticket_number": "B001",
        "new": False,
    }
    resumed = CaseAccepted(
        at=AT,
        actor="staff:w3",
        receipt_no="SL-1",
        matter_code="M",
        matter_name="m",
        department="d",
        case_type="承诺件",
        ticket_number="B001",
        accepted_window_kind="分领域",
        staff="w3",
        staff_name="三",
        due_at=AT,
        provisional=False,
        deficiency_item="",
        deficiency_promised_date=None,
        after_materials=True,
    )
    assert "seq" not in resumed.payload() and "applicant_name" not in resumed.payload()
    for ev in (closed, rect, by_receipt, resumed):
        assert from_record(ev.to_record()) == ev


def test_handles_events_typed_and_the_store_reads_them_back(desk):
    events = desk.do(c.IssueTicket(queue="A", applicant=c.Applicant(name="张三")))
    issued = events[-1]
    assert isinstance(issued, TicketIssued) and isinstance(issued, Event)
    assert (issued.position, issued.applicant_name, issued.type) == (1, "张三", EventType.TICKET_ISSUED)
    assert from_record(issued.to_record()) == issued


def test_unknown_types_and_keys_are_refused():
    rec = WindowClosed(at=AT, actor="staff:w1", window=1, staff="w1").to_record()
    with pytest.raises(ValueError, match="unknown event type"):
        from_record({**rec, "type": "window_exploded"})
    with pytest.raises(ValueError, match="unknown data keys"):
        from_record({**rec, "data": {"staff": "w1", "colour": "red"}})
