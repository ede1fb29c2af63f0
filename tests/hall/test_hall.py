"""The Hall as a composition (queue_server/hall/hall.py): one dispatch table for every command,
the day roll-over, replay, the change set, and the public form of events."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from queue_server.hall import Hall, HallError
from queue_server.hall import commands as c
from queue_server.hall.events import PRIVATE_FIELDS


def command_classes() -> set[type]:
    return {
        obj
        for _, obj in inspect.getmembers(c, inspect.isclass)
        if dataclasses.is_dataclass(obj)
        and obj.__module__ == c.__name__
        and obj not in (c.Actor, c.Applicant)
    }


def test_every_command_class_has_exactly_one_handler(hall):
    assert hall.command_classes() == command_classes()
    assert len(command_classes()) == 49  # (sanity: the scan found the commands)


def test_replaying_the_events_of_a_day_gives_the_same_hall(desk, config, state_of):
    log = []
    for cmd in (
        c.OpenWindow(window=1),
        c.OpenWindow(window=2),
        c.IssueTicket(queue="A"),
        c.IssueTicket(queue="B"),
        c.CallNext(window=1),
        c.StartService(window=1),
        c.FinishService(window=1),
        c.PauseWindow(window=2, reason="休息"),
    ):
        log += desk.do(cmd)
        desk.clock.advance(minutes=3)
    replayed = Hall(config)
    for ev in log:
        replayed.replay(ev)
    want, got = state_of(desk.hall), state_of(replayed)
    # the estimate given at issue is the handler's note on the ticket (to 0.1 s); the event
    # carries it rounded to the second, and replay leaves it unset, as before typed events
    for row in want["tickets"]:
        assert row.pop("estimated_wait_s") is not None
    for row in got["tickets"]:
        assert row.pop("estimated_wait_s") is None
    assert got["tickets"] == want["tickets"] and got["numbers"] == want["numbers"]
    assert [w["state"] for w in got["windows"]] == [w["state"] for w in want["windows"]]


def test_a_refused_command_on_a_new_day_carries_the_roll_over(desk):
    desk.issue("A")
    desk.clock.advance(days=1)
    with pytest.raises(HallError) as info:
        desk.do(c.FinishService(window=1))
    assert info.value.code == "no_current_ticket"
    assert [e.type for e in info.value.events] == ["day_started"]
    assert desk.hall.service_date == desk.clock().date()


def test_the_change_set_names_every_row_a_command_touched(desk):
    desk.open(1)
    desk.hall.take_changes()
    t = desk.issue("A")
    changes = desk.hall.take_changes()
    assert set(changes.tickets) == {t.id} and changes.numbers == {(t.service_date, "A")}
    assert desk.hall.take_changes().tickets == {}


def test_describe_never_shows_private_fields_and_marks_staff_events(desk):
    [issued] = desk.do(
        c.IssueTicket(
            queue="A",
            applicant=c.Applicant(name="张三丰", phone="13812345678", id_number="110101199003071234"),
        )
    )[-1:]
    rec = desk.hall.describe(issued, desk.clock())
    assert not PRIVATE_FIELDS & set(rec["data"]) and "audience" not in rec
    assert rec["ticket_view"]["applicant"] == "张*丰" and rec["data"]["position"] == 1
