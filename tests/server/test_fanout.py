"""``fanout.filter_event`` and ``filter_state``: what each kind of subscriber sees."""

from __future__ import annotations

from typing import Any

from queue_server.server.fanout import EVERYTHING, Filter, filter_event, filter_state

Q_A = {"code": "A", "waiting": 3}
Q_B = {"code": "B", "waiting": 1}


def event(type_: str = "ticket_called", *, ticket: str | None = "T-A1", queue: str = "A", window: int | None = 1,
          window_queues: tuple[str, ...] = ("A",), audience: str | None = None, **data: Any) -> dict[str, Any]:
    desc: dict[str, Any] = {
        "type": type_, "at": "2026-11-23T09:00:00+08:00", "actor": "staff:w1", "ticket": ticket, "window": window,
        "data": {"number": "A001", **data}, "queues": [Q_A, Q_B],
    }
    if ticket is not None:
        desc["ticket_view"] = {"id": ticket, "queue": queue, "state": "called"}
    if window is not None:
        desc["window_view"] = {"number": window, "queues": list(window_queues)}
    if audience:
        desc["audience"] = audience
    return desc


def test_everything_sees_every_public_event_unchanged():
    desc = event()
    assert filter_event(desc, EVERYTHING) is desc


def test_staff_events_reach_staff_subscriptions_only():
    desc = event("case_accepted", audience="staff")
    assert filter_event(desc, EVERYTHING) is None
    assert filter_event(desc, Filter(queues=frozenset({"A"}))) is None
    assert filter_event(desc, Filter(staff=True)) is desc
    assert filter_event(desc, Filter(ticket_token="tok")) is None


def test_a_queue_filter_sees_its_queues_and_only_their_summaries():
    flt = Filter(queues=frozenset({"B"}))
    assert filter_event(event(queue="A", window_queues=("A",)), flt) is None
    seen = filter_event(event(ticket="T-B1", queue="B", window=3, window_queues=("B",)), flt)
    assert seen is not None and seen["queues"] == [Q_B]
    # a window that serves the queue counts, even when the ticket is of another queue
    assert filter_event(event(queue="A", window_queues=("A", "B")), flt) is not None
    # a transfer out of the queue counts too
    assert filter_event(event("ticket_transferred", queue="A", window=None, from_queue="B"), flt) is not None


def test_a_window_filter_sees_its_windows():
    flt = Filter(windows=frozenset({2}))
    assert filter_event(event(window=1), flt) is None
    assert filter_event(event(window=2), flt) is not None


def test_day_started_reaches_every_filter():
    desc = event("day_started", ticket=None, window=None)
    for flt in (Filter(queues=frozenset({"B"})), Filter(windows=frozenset({9})), Filter(ticket_token="tok")):
        assert filter_event(desc, flt, ticket_id="T-A1") is not None


def test_a_status_page_sees_its_ticket_in_full_and_others_reduced():
    flt = Filter(ticket_token="tok")
    own = filter_event(event(ticket="T-A1"), flt, ticket_id="T-A1")
    assert own is not None and own["data"]["number"] == "A001"

    def mine(state: str):
        return lambda tid: {"id": tid, "queue": "A", "state": state, "position": 2}

    other = event(ticket="T-A9", data_extra="x")
    reduced = filter_event(other, flt, "T-A1", mine("waiting"))
    assert reduced == {"type": "ticket_called", "at": other["at"], "actor": "", "ticket": None, "window": None,
                       "data": {}, "queues": [Q_A], "ticket_view": {"id": "T-A1", "queue": "A", "state": "waiting",
                                                                    "position": 2}}
    # once its own ticket no longer waits, the queue's movements do not concern it
    assert filter_event(other, flt, "T-A1", mine("called")) is None
    # another queue's event: nothing
    assert filter_event(event(ticket="T-B1", queue="B") | {"queues": [Q_B]}, flt, "T-A1", mine("waiting")) is None
    assert filter_event(other, flt, "T-A1", None) is None


STATE = {
    "hall": {"code": "t"},
    "queues": [Q_A, Q_B],
    "windows": [{"number": 1, "queues": ["A"]}, {"number": 3, "queues": ["B"]}],
    "tickets": [{"id": "T-A1", "queue": "A", "window": 1}, {"id": "T-B1", "queue": "B", "window": None}],
    "recent_calls": [{"ticket_id": "T-A1", "queue": "A", "window": 1}, {"ticket_id": "T-B0", "queue": "B", "window": 3}],
}


def test_filter_state_everything_is_the_state():
    assert filter_state(STATE, EVERYTHING) is STATE


def test_filter_state_by_queue_and_window():
    by_queue = filter_state(STATE, Filter(queues=frozenset({"B"})))
    assert by_queue["queues"] == [Q_B]
    assert [t["id"] for t in by_queue["tickets"]] == ["T-B1"]
    assert [w["number"] for w in by_queue["windows"]] == [3]
    assert [c["ticket_id"] for c in by_queue["recent_calls"]] == ["T-B0"]
    by_window = filter_state(STATE, Filter(windows=frozenset({1})))
    assert [w["number"] for w in by_window["windows"]] == [1]
    assert [c["window"] for c in by_window["recent_calls"]] == [1]
    assert by_window["tickets"] == STATE["tickets"]  # tickets are not narrowed by window
    assert STATE["queues"] == [Q_A, Q_B]  # the shared state is left alone


def test_filter_state_for_a_status_page_holds_its_ticket_only():
    mine = filter_state(STATE, Filter(ticket_token="tok"), "T-A1")
    assert [t["id"] for t in mine["tickets"]] == ["T-A1"]
    assert mine["queues"] == [Q_A]
    assert [w["number"] for w in mine["windows"]] == [1]
    assert [c["ticket_id"] for c in mine["recent_calls"]] == ["T-A1"]
    assert mine["hall"] == STATE["hall"]
