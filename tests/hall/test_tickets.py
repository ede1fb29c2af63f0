"""Stories of one ticket: issuing and numbering, then call, recall, start, finish, no-show,
reactivation, transfer, cancellation and check-in (queue_server/hall/hall.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from queue_server.hall import Applicant, Channel, Hall, HallError, Priority, Ticket, TicketState, Window
from queue_server.hall import commands as c
from queue_server.hall.config import Interval, WeeklyHours

T = TicketState


def _hours(*spans: tuple[str, str], days: range = range(5)) -> WeeklyHours:
    def minutes(hhmm: str) -> int:
        h, m = hhmm.split(":")
        return int(h) * 60 + int(m)

    ivs = tuple(Interval(start_min=minutes(a), end_min=minutes(b)) for a, b in spans)
    return WeeklyHours(days=tuple(ivs if d in days else () for d in range(7)))


# ---------------------------------------------------------------------- numbering


def test_numbers_are_queue_code_and_three_digits_per_queue_from_001(desk):
    a1, a2, b1, a3 = desk.issue("A"), desk.issue("A"), desk.issue("B"), desk.issue("A")
    assert [t.number for t in (a1, a2, b1, a3)] == ["A001", "A002", "B001", "A003"]
    assert a1.id == "20261123-A001"
    assert (a1.seq, b1.seq, a3.seq) == (1, 1, 3)
    assert desk.hall.numbers[(desk.clock().date(), "A")] == 3


def test_numbering_restarts_at_local_midnight_and_leftovers_are_closed(desk, clock):
    desk.open(1)
    clock.set(23, 50)
    called, waiting = desk.issue("A"), desk.issue("A")
    desk.issue("B")
    assert desk.call(1) is called
    clock.advance(minutes=15)  # 00:05 on Tuesday

    events = desk.do(c.IssueTicket(queue="A"))

    assert [e.type for e in events] == ["day_started", "ticket_issued"]
    day = events[0]
    assert day.service_date == date(2026, 11, 24) and day.previous_date == date(2026, 11, 23)
    assert sorted(day.expired) == ["20261123-A001", "20261123-A002", "20261123-B001"]
    assert (called.state, called.note) == (T.CANCELLED, "day_closed")
    assert (waiting.state, waiting.note) == (T.CANCELLED, "day_closed")
    assert desk.hall.windows[1].current_ticket is None
    assert events[1].number == "A001" and events[1].ticket == "20261124-A001"
    assert list(desk.hall.tickets) == ["20261124-A001"]
    assert desk.issue("B").number == "B001"


def test_midnight_is_the_halls_local_midnight_not_utc(desk):
    def issue_at(hour: int, minute: int, day: int) -> str:
        desk.clock.now = datetime(2026, 11, day, hour, minute, tzinfo=UTC)
        return desk.issue("A").id

    assert issue_at(15, 59, 23) == "20261123-A001"  # 23:59 in Shanghai
    assert issue_at(16, 1, 23) == "20261124-A001"  # 00:01 in Shanghai: a new day
    assert issue_at(23, 59, 23) == "20261124-A002"
    assert issue_at(0, 1, 24) == "20261124-A003"  # UTC midnight changes nothing
    assert desk.hall.tickets["20261124-A001"].issued_at.tzinfo is not None
    assert desk.hall.tickets["20261124-A001"].issued_at.utcoffset() == timedelta(hours=8)


def test_a_tick_after_midnight_rolls_the_day_over_without_a_command(desk, clock):
    t = desk.issue("A")
    clock.set(0, 0, day=24)
    events = desk.do(c.Tick())
    assert [e.type for e in events] == ["day_started"]
    assert t.state is T.CANCELLED and desk.hall.tickets == {}
    assert desk.do(c.Tick()) == []  # once a day


def test_a_refused_command_after_midnight_still_rolls_the_day_over(desk, clock):
    t = desk.issue("A")
    clock.set(0, 1, day=24)
    with pytest.raises(HallError) as info:
        desk.do(c.CallNext(window=1))  # window 1 is closed
    assert info.value.code == "window_not_open"
    assert [e.type for e in info.value.events] == ["day_started"]
    assert t.state is T.CANCELLED and desk.hall.service_date.isoformat() == "2026-11-24"


@pytest.mark.parametrize("keep_service_date", [True, False])
def test_numbers_are_never_reused_within_a_day_across_restarts(desk, clock, keep_service_date):
    desk.open(1)
    for _ in range(3):
        desk.issue("A")
    desk.do(c.CancelTicket(ticket="A003", reason="left"))
    desk.serve(1)
    before = desk.state()

    if keep_service_date:
        hall = desk.restart()
    else:  # no service date handed over: the hall derives it from the tickets
        old = desk.hall
        hall = desk.hall = Hall(
            old.config,
            tickets=[Ticket.from_row(t.to_row()) for t in old.tickets.values()],
            windows=[Window.from_row(w.to_row()) for w in old.windows.values()],
            numbers=dict(old.numbers),
            service_times=old.service_times,
        )
    assert desk.state() == before
    clock.advance(minutes=5)
    t = desk.issue("A")
    assert t.number == "A004"
    assert len({x.number for x in hall.tickets.values()}) == len(hall.tickets) == 4
    assert desk.hall.find_ticket("A001").state is T.DONE


def test_a_restarted_hall_carries_on_where_the_old_one_stopped(desk, clock):
    desk.do(c.StaffLogin(window=1, username="w1", name="窗口一"))
    desk.open(1, 3)
    desk.issue("A")
    desk.issue("A", priority=Priority.GREEN)
    desk.issue("B")
    desk.call(1)
    desk.do(c.StartService(window=1))
    desk.call(3)
    before = desk.state()

    desk.restart()

    assert desk.state() == before
    clock.advance(minutes=8)
    desk.do(c.FinishService(window=1))
    assert desk.hall.find_ticket("A002").state is T.DONE  # the green one went first
    assert desk.call(1).number == "A001"
    assert desk.hall.windows[3].current_ticket == "20261123-B001"


def test_a_number_is_the_queue_code_and_three_digits_even_in_a_queue_with_a_big_cap(config, clock):
    """The issue: "Number = queue code + 3 digits". ``config_file`` accepts any
    ``daily_cap >= 1``, so the core has to stop at 999 numbers a day.

    FAILS (bug): with ``daily_cap = 1200`` the 1000th ticket of the day is "A1000" (and
    "A1001" ...) instead of a ``queue_full`` refusal."""
    a = dataclasses.replace(config.queue("A"), daily_cap=1200)
    cfg = dataclasses.replace(config, queues=tuple(a if q.code == "A" else q for q in config.queues))
    # a busy day that restarted after A998
    hall = Hall(cfg, numbers={(clock().date(), "A"): 998}, service_date=clock().date())
    assert hall.handle(c.IssueTicket(queue="A"), clock())[-1].number == "A999"
    with pytest.raises(HallError) as info:
        events = hall.handle(c.IssueTicket(queue="A"), clock())
        pytest.fail(f"issued {events[-1].number}")
    assert info.value.code == "queue_full"


# ---------------------------------------------------------------------- refusals at issue


def test_a_queue_at_its_daily_cap_refuses_with_queue_full(desk, clock):
    for n in ("B001", "B002", "B003"):
        assert desk.issue("B").number == n
    desk.do(c.CancelTicket(ticket="B002"))  # a cancelled number stays used
    err = desk.refused(
        c.IssueTicket(queue="B"), "queue_full", r"税务 \(B\) has issued all 3 tickets for today"
    )
    assert "3" in err.message

    desk.restart()
    desk.refused(c.IssueTicket(queue="B"), "queue_full")
    assert desk.issue("A").number == "A001"  # other queues are not affected

    clock.set(8, 0, day=24)
    assert desk.issue("B").number == "B001"


def test_a_closed_queue_refuses_with_queue_closed(config, make_desk, clock):
    hours = _hours(("08:30", "12:00"), ("14:00", "17:30"))
    a = dataclasses.replace(config.queue("A"), hours=hours)
    cfg = dataclasses.replace(config, queues=tuple(a if q.code == "A" else q for q in config.queues))
    desk = make_desk(cfg)
    desk.do(c.Tick())

    clock.set(8, 29)
    desk.refused(c.IssueTicket(queue="A"), "queue_closed", r"综合受理 \(A\) is not open now")
    clock.set(8, 30)
    assert desk.issue("A").number == "A001"
    clock.set(12, 0)  # intervals are half-open: 12:00 is closed
    desk.refused(c.IssueTicket(queue="A"), "queue_closed")
    assert desk.issue("B").number == "B001"  # B keeps the hall's all-day hours
    clock.set(14, 0)
    assert desk.issue("A").number == "A002"  # the refusals used no number
    clock.set(17, 30)
    desk.refused(c.IssueTicket(queue="A"), "queue_closed")
    clock.set(10, 0, day=28)  # Saturday
    desk.do(c.Tick())
    desk.refused(c.IssueTicket(queue="A"), "queue_closed")


def test_unknown_queue_and_appointment_without_slot_are_refused(desk):
    desk.do(c.Tick())
    desk.refused(c.IssueTicket(queue="Z"), "unknown_queue", "no queue Z")
    desk.refused(c.IssueTicket(queue="A", priority=Priority.APPOINTMENT), "invalid_field", "appointment_slot")


def test_now_must_be_timezone_aware(hall):
    with pytest.raises(ValueError):
        hall.handle(c.IssueTicket(queue="A"), datetime(2026, 11, 23, 9, 0))


# ---------------------------------------------------------------------- the issue result


def test_the_issue_result_gives_position_and_estimated_wait(desk, clock):
    desk.open(1)  # one free window serving A, mean service 300 s
    first = desk.do(c.IssueTicket(queue="A"))[-1]
    second = desk.do(c.IssueTicket(queue="A"))[-1]
    green = desk.do(c.IssueTicket(queue="A", priority=Priority.GREEN))[-1]

    assert (first.position, first.estimated_wait_s) == (1, 0)
    assert (second.position, second.estimated_wait_s) == (2, 300)  # one cycle later
    assert green.position == 1  # 绿色通道 goes ahead of both
    assert desk.hall.tickets[second.ticket].estimated_wait_s == 300.0


def test_issue_records_channel_priority_and_the_full_applicant(desk):
    ap = Applicant(name="张三丰", phone="13812345678", id_number="110101199003071234")
    t = desk.issue("A", channel=Channel.MOBILE, priority=Priority.GREEN, applicant=ap, status_token="tok-1")
    assert (t.channel, t.priority, t.status_token) == ("mobile", "green", "tok-1")
    assert (t.applicant_name, t.applicant_phone, t.applicant_id) == (
        "张三丰",
        "13812345678",
        "110101199003071234",
    )
    assert t.state is T.WAITING and t.arrived_at == t.issued_at == desk.clock()
    assert desk.hall.ticket_by_token("tok-1") is t
    assert desk.issue("A").status_token  # the core derives one when the shell gave none


# ---------------------------------------------------------------------- at the counter


def test_call_start_finish(desk, clock):
    desk.do(c.StaffLogin(window=1, username="w1", name="窗口一"))
    desk.open(1)
    t = desk.issue("A")
    clock.advance(minutes=3)
    assert desk.call(1) is t
    assert (t.state, t.window, t.called_at, t.served_by) == (T.CALLED, 1, clock(), "w1")
    clock.advance(minutes=1)
    desk.do(c.StartService(window=1))
    assert (t.state, t.served_at) == (T.SERVING, clock())
    clock.advance(minutes=6)
    [ev] = desk.do(c.FinishService(window=1))
    assert ev.type == "service_finished"
    assert (ev.service_s, ev.occupancy_s, ev.staff) == (360, 420, "w1")
    assert (t.state, t.finished_at) == (T.DONE, clock())
    assert desk.hall.windows[1].current_ticket is None


def test_manual_no_show_frees_the_window(desk):
    desk.open(1)
    t = desk.issue("A")
    desk.call(1)
    [ev] = desk.do(c.NoShow(window=1))
    assert (ev.type, ev.reason) == ("ticket_no_show", "manual")
    assert t.state is T.NO_SHOW and desk.hall.windows[1].current_ticket is None


def test_recall_up_to_the_limit_then_automatic_no_show(desk):
    desk.open(1)
    t = desk.issue("A")
    desk.call(1)
    for n in (1, 2):  # recall_limit = 2 in the small hall
        [ev] = desk.do(c.Recall(window=1))
        assert (ev.type, ev.recall, t.recalls, t.state) == ("ticket_recalled", n, n, T.CALLED)
    [ev] = desk.do(c.Recall(window=1))
    assert (ev.type, ev.reason, ev.recalls) == ("ticket_no_show", "recall_limit", 2)
    assert t.state is T.NO_SHOW and desk.hall.windows[1].current_ticket is None


def test_recall_past_the_limit_is_refused_without_auto_no_show(make_config, make_desk):
    desk = make_desk(make_config(auto_no_show=False))
    desk.open(1)
    t = desk.issue("A")
    desk.call(1)
    desk.do(c.Recall(window=1))
    desk.do(c.Recall(window=1))
    desk.refused(c.Recall(window=1), "recall_limit", r"A001 has been recalled 2 times \(limit 2\)")
    assert t.state is T.CALLED
    desk.do(c.NoShow(window=1))
    assert t.state is T.NO_SHOW


def test_recall_and_no_show_need_a_called_ticket(desk):
    desk.open(1)
    desk.refused(
        c.Recall(window=1), "no_current_ticket", "cannot recall: window 1 has no ticket at the counter"
    )
    desk.issue("A")
    desk.call(1)
    desk.do(c.StartService(window=1))
    desk.refused(c.Recall(window=1), "illegal_transition", "cannot recall A001: it is serving")
    desk.refused(c.NoShow(window=1), "illegal_transition", "cannot mark no-show A001: it is serving")


def test_call_ticket_out_of_order_needs_a_reason_and_records_it(desk, clock):
    desk.open(1)
    desk.issue("A")
    desk.issue("A")
    late = desk.issue("A")
    desk.refused(c.CallTicket(window=1, ticket="A003", reason="  "), "reason_required")

    [ev] = desk.do(c.CallTicket(window=1, ticket="A003", reason="材料补齐后回来"))
    assert (ev.type, ev.reason) == ("ticket_called", "材料补齐后回来")
    assert (late.state, late.window, late.note) == (T.CALLED, 1, "材料补齐后回来")
    desk.do(c.NoShow(window=1))
    assert desk.call(1).number == "A001"  # the line itself is unchanged


def test_call_ticket_only_from_queues_the_window_serves(desk):
    desk.open(1, 3)
    desk.issue("A")
    desk.issue("B")
    desk.refused(
        c.CallTicket(window=3, ticket="A001", reason="x"),
        "not_served_here",
        "window 3 does not serve queue A",
    )
    desk.refused(c.CallTicket(window=1, ticket="A404", reason="x"), "unknown_ticket")
    desk.refused(c.CallTicket(window=2, ticket="A001", reason="x"), "window_not_open", "window 2 is closed")
    desk.do(c.CallTicket(window=1, ticket="A001", reason="x"))
    desk.refused(
        c.CallTicket(window=3, ticket="A001", reason="x"),
        "illegal_transition",
        "cannot call A001: it is called",
    )
    desk.refused(c.CallTicket(window=1, ticket="B001", reason="x"), "window_busy", "window 1 still has A001")


def test_reactivating_a_no_show_the_same_day_keeps_its_arrival_time(desk, clock):
    desk.open(1)
    t = desk.issue("A")  # 09:00
    clock.advance(minutes=2)
    later = desk.issue("A")  # 09:02
    clock.advance(minutes=3)
    desk.call(1)
    desk.do(c.NoShow(window=1))
    clock.advance(minutes=25)

    [ev] = desk.do(c.Reactivate(ticket="A001"))

    assert ev.type == "ticket_reactivated"
    assert (t.state, t.arrived_at, t.recalls) == (T.WAITING, t.issued_at, 0)
    assert desk.call(1) is t  # ahead of A002, which arrived after it
    assert later.state is T.WAITING


def test_reactivation_refused_when_not_a_no_show_or_not_allowed(desk, make_config, make_desk):
    desk.open(1)
    desk.issue("A")
    desk.refused(c.Reactivate(ticket="A001"), "illegal_transition", "cannot reactivate A001: it is waiting")
    desk.serve(1)
    desk.refused(c.Reactivate(ticket="A001"), "illegal_transition", "cannot reactivate A001: it is done")

    strict = make_desk(make_config(reactivate_same_day=False))
    strict.open(1)
    strict.issue("A")
    strict.call(1)
    strict.do(c.NoShow(window=1))
    strict.refused(c.Reactivate(ticket="A001"), "not_allowed")


def test_reactivation_on_another_day_is_refused(desk, clock, config):
    desk.open(1)
    t = desk.issue("A")
    desk.call(1)
    desk.do(c.NoShow(window=1))
    yesterday = t.to_row()

    clock.set(9, 0, day=24)
    desk.do(c.Tick())
    desk.refused(c.Reactivate(ticket="A001"), "unknown_ticket")
    desk.refused(c.Reactivate(ticket="20261123-A001"), "unknown_ticket")

    # a store that handed yesterday's row back after a restart: still refused
    desk.hall = Hall(config, tickets=[Ticket.from_row(yesterday)], service_date=clock().date())
    desk.refused(
        c.Reactivate(ticket="20261123-A001"),
        "illegal_transition",
        "cannot reactivate A001: it was issued on another day",
    )


def test_transfer_keeps_the_original_arrival_time(desk, clock):
    desk.open(1, 3)
    moved = desk.issue("A")  # 09:00
    clock.advance(minutes=5)
    b1 = desk.issue("B")  # 09:05
    desk.call(1)
    clock.advance(minutes=5)

    [ev] = desk.do(c.Transfer(ticket="A001", to_queue="B", reason="涉税事项"))

    assert (ev.type, ev.window, ev.from_queue, ev.to_queue) == ("ticket_transferred", 1, "A", "B")
    assert (moved.state, moved.queue, moved.number, moved.transfers) == (T.WAITING, "B", "A001", 1)
    assert moved.arrived_at == moved.issued_at and moved.note == "涉税事项"
    assert desk.hall.windows[1].current_ticket is None
    assert desk.call(3) is moved  # before B001, which arrived later
    assert b1.state is T.WAITING


def test_transfer_to_a_named_window_is_called_first_there(desk, clock):
    desk.open(1, 2, 3)
    for _ in range(3):
        desk.issue("B")
    clock.advance(minutes=10)
    sent = desk.issue("A")
    desk.do(c.Transfer(ticket="A001", to_window=3))
    assert (sent.queue, sent.target_window) == ("A", 3)
    desk.refused(c.CallTicket(window=1, ticket="A001", reason="x"), "not_served_here", "sent to window 3")
    desk.issue("A")
    assert desk.call(1).number == "A002"  # window 1 does not take it
    assert desk.call(3) is sent  # window 3 does not serve A, yet it goes first there
    assert sent.target_window is None and sent.window == 3


def test_transfer_refusals(desk):
    desk.open(1)
    desk.issue("A")
    desk.refused(c.Transfer(ticket="A001"), "invalid_field", "needs to_queue or to_window")
    desk.refused(c.Transfer(ticket="A001", to_queue="A"), "invalid_field", "already waits in queue A")
    desk.refused(c.Transfer(ticket="A001", to_queue="Z"), "unknown_queue")
    desk.refused(c.Transfer(ticket="A001", to_window=7), "unknown_window")
    desk.call(1)
    desk.refused(c.Transfer(ticket="A001", to_window=1), "invalid_field", "already at window 1")
    desk.do(c.StartService(window=1))
    desk.do(c.FinishService(window=1))
    desk.refused(
        c.Transfer(ticket="A001", to_queue="B"), "illegal_transition", "cannot transfer A001: it is done"
    )


def test_a_serving_ticket_can_be_transferred_and_frees_the_window(desk):
    desk.open(1, 3)
    t = desk.issue("A")
    desk.call(1)
    desk.do(c.StartService(window=1))
    desk.do(c.Transfer(ticket="A001", to_queue="B"))
    assert t.state is T.WAITING and desk.hall.windows[1].current_ticket is None
    assert desk.call(3) is t


def test_cancel(desk):
    desk.open(1)
    waiting, called, serving = desk.issue("A"), desk.issue("A"), desk.issue("A")
    [ev] = desk.do(c.CancelTicket(ticket="A001", reason="申请人离开"))
    assert (ev.type, waiting.state, waiting.note) == ("ticket_cancelled", T.CANCELLED, "申请人离开")
    desk.call(1)
    [ev] = desk.do(c.CancelTicket(ticket="A002"))
    assert (ev.window, called.state, desk.hall.windows[1].current_ticket) == (1, T.CANCELLED, None)
    desk.call(1)
    desk.do(c.StartService(window=1))
    desk.refused(c.CancelTicket(ticket="A003"), "illegal_transition", "cannot cancel A003: it is serving")
    assert serving.state is T.SERVING
    desk.refused(c.CancelTicket(ticket="A001"), "illegal_transition", "cannot cancel A001: it is cancelled")


def test_an_appointment_is_not_called_until_it_checks_in(desk, clock):
    desk.open(1)
    slot = clock() + timedelta(minutes=30)
    appt = desk.issue(
        "A",
        channel=Channel.APPOINTMENT,
        priority=Priority.APPOINTMENT,
        appointment_slot=slot,
        checked_in=False,
    )
    desk.refused(c.CallNext(window=1), "queue_empty", "nobody is waiting for window 1")
    clock.advance(minutes=20)
    [ev] = desk.do(c.CheckIn(ticket=appt.number))
    assert ev.type == "ticket_checked_in"
    assert appt.checked_in and appt.arrived_at == clock()
    desk.refused(c.CheckIn(ticket=appt.number), "illegal_transition", "already checked in")
    assert desk.call(1) is appt
    desk.refused(c.CheckIn(ticket=appt.number), "illegal_transition", "cannot check in A001: it is called")
