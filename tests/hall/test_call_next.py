"""Which ticket a window calls next (queue_server/hall/scheduling.py through Hall.handle)."""

from __future__ import annotations

from datetime import timedelta

from queue_server.hall import Channel, Priority, TicketState
from queue_server.hall import commands as c

GREEN = Priority.GREEN
T = TicketState


def _appointment(desk, slot_in_min: int, **kw):
    slot = desk.clock() + timedelta(minutes=slot_in_min)
    return desk.issue(
        "A", channel=Channel.APPOINTMENT, priority=Priority.APPOINTMENT, appointment_slot=slot, **kw
    )


def test_one_queue_is_called_in_arrival_order(desk, clock):
    desk.open(1)
    for _ in range(4):
        desk.issue("A")
        clock.advance(minutes=1)
    assert [desk.serve(1).number for _ in range(4)] == ["A001", "A002", "A003", "A004"]
    desk.refused(c.CallNext(window=1), "queue_empty", "nobody is waiting for window 1")


def test_a_window_calls_only_from_the_queues_it_serves(desk, clock):
    desk.open(1, 3, 9)
    desk.issue("A")
    clock.advance(minutes=1)
    desk.issue("B")
    desk.issue("P")
    assert desk.serve(3).number == "B001"  # window 3 serves B only
    desk.refused(c.CallNext(window=3), "queue_empty")
    assert desk.serve(9).number == "P001"
    desk.refused(c.CallNext(window=9), "queue_empty")
    assert desk.call(1).number == "A001"


def test_two_windows_never_hold_the_same_ticket(desk):
    desk.open(1, 2)
    t = desk.issue("A")
    assert desk.call(1) is t
    desk.refused(c.CallNext(window=2), "queue_empty")
    desk.refused(
        c.CallTicket(window=2, ticket="A001", reason="x"),
        "illegal_transition",
        "cannot call A001: it is called",
    )
    assert [w.current_ticket for w in desk.hall.windows.values()].count(t.id) == 1


def test_call_next_needs_an_open_free_known_window(desk):
    desk.issue("A")
    desk.refused(c.CallNext(window=1), "window_not_open", "window 1 is closed: open or resume it first")
    desk.open(1)
    desk.do(c.PauseWindow(window=1, reason="午休"))
    desk.refused(c.CallNext(window=1), "window_not_open", "window 1 is paused")
    desk.do(c.ResumeWindow(window=1))
    desk.issue("A")
    desk.call(1)
    desk.refused(c.CallNext(window=1), "window_busy", "window 1 still has A001 \\(called\\)")
    desk.refused(c.CallNext(window=7), "unknown_window", "no window 7")


def test_green_channel_goes_first_with_the_fairness_ratio(desk, clock):
    desk.open(1)
    desk.issue("A")  # A001 normal, longest waiting
    clock.advance(minutes=1)
    desk.issue("A")  # A002 normal
    clock.advance(minutes=1)
    for _ in range(3):
        desk.issue("A", priority=GREEN)  # A003..A005
        clock.advance(minutes=1)
    # priority_ratio = 2: after two 绿色通道 calls in a row, the longest-waiting normal ticket
    assert [desk.serve(1).number for _ in range(5)] == ["A003", "A004", "A001", "A005", "A002"]


def test_the_fairness_ratio_comes_from_config(make_config, make_desk):
    desk = make_desk(make_config(priority_ratio=3))
    desk.open(1)
    desk.issue("A")
    for _ in range(4):
        desk.issue("A", priority=GREEN)
    assert [desk.serve(1).number for _ in range(5)] == ["A002", "A003", "A004", "A001", "A005"]


def test_priority_goes_on_when_no_normal_ticket_waits(desk):
    desk.open(1)
    for _ in range(3):
        desk.issue("A", priority=GREEN)
    assert [desk.serve(1).number for _ in range(3)] == ["A001", "A002", "A003"]
    desk.issue("A")
    desk.issue("A", priority=GREEN)
    assert desk.serve(1).number == "A004"  # the streak is 3 by now: the normal one goes


def test_the_fairness_count_is_per_window_and_out_of_order_calls_leave_it_alone(desk):
    desk.open(1, 2)
    desk.issue("A")  # A001 normal
    for _ in range(4):
        desk.issue("A", priority=GREEN)  # A002..A005
    assert desk.serve(1).number == "A002"
    assert desk.serve(2).number == "A003"
    assert desk.serve(1).number == "A004"  # window 1 has made 1 priority call, not 2
    desk.do(c.CallTicket(window=1, ticket="A005", reason="行动不便"))
    desk.do(c.StartService(window=1))
    desk.do(c.FinishService(window=1))
    assert desk.hall.windows[1].priority_streak == 2
    assert desk.call(1).number == "A001"
    assert desk.hall.windows[1].priority_streak == 0


def test_checked_in_appointments_are_served_near_their_slot(desk, clock):
    desk.open(1)
    for _ in range(3):
        desk.issue("A")  # normal tickets, waiting since 09:00
    desk.issue("A", priority=GREEN)  # A004
    appt = _appointment(desk, 30)  # A005, slot 09:30, checked in on arrival
    clock.set(9, 10)  # due from 09:15 (appointment_early_min = 15)
    assert desk.serve(1).number == "A004"
    assert desk.serve(1).number == "A001"
    clock.set(9, 15)
    assert desk.serve(1) is appt  # due: before the tickets that waited longer
    assert desk.serve(1).number == "A002"


def test_due_appointments_go_by_slot(desk, clock):
    desk.open(1)
    later = _appointment(desk, 10)
    earlier = _appointment(desk, 5)
    assert [desk.serve(1), desk.serve(1)] == [earlier, later]


def test_an_appointment_not_yet_due_is_called_when_nobody_else_waits(desk):
    desk.open(1)
    appt = _appointment(desk, 120)
    desk.issue("A")
    assert desk.serve(1).number == "A002"
    assert desk.serve(1) is appt


def test_an_appointment_is_not_called_before_check_in_even_when_due(desk, clock):
    desk.open(1)
    appt = _appointment(desk, 0, checked_in=False)
    clock.advance(minutes=5)
    desk.refused(c.CallNext(window=1), "queue_empty")
    desk.issue("A")
    assert desk.call(1).number == "A002"
    desk.do(c.NoShow(window=1))
    desk.do(c.CheckIn(ticket="A001"))
    desk.issue("A")
    assert desk.call(1) is appt  # due and checked in: ahead of A003


def test_weighted_longest_wait_across_queues(desk, clock):
    # window 2 serves A (weight 1) and B (weight 0.5)
    desk.open(2)
    b = desk.issue("B")  # 09:00
    clock.advance(minutes=4)
    a = desk.issue("A")  # 09:04
    clock.advance(minutes=6)  # 09:10: B waited 10 min (weighted 5), A 6 min (weighted 6)
    assert desk.serve(2) is a
    assert desk.serve(2) is b


def test_weighted_wait_lets_the_lighter_queue_through_once_it_waited_long_enough(desk, clock):
    desk.open(2)
    b = desk.issue("B")  # 09:00
    clock.advance(minutes=6)
    a = desk.issue("A")  # 09:06
    clock.advance(minutes=4)  # 09:10: B 10 min (weighted 5) vs A 4 min (weighted 4)
    assert desk.serve(2) is b
    assert desk.serve(2) is a


def test_tickets_targeted_elsewhere_and_other_queues_are_not_called(desk):
    desk.open(1, 2)
    desk.issue("A")
    desk.do(c.Transfer(ticket="A001", to_window=2))
    desk.refused(c.CallNext(window=1), "queue_empty")
    assert desk.call(2).number == "A001"
