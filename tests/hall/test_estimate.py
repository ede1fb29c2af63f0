"""Position and estimated wait (queue_server/hall/estimate.py and Hall.estimates)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_server.hall import Channel, Priority
from queue_server.hall import commands as c
from queue_server.hall.estimate import MAX_SAMPLE_S, MIN_SAMPLE_S, Capacity, ServiceTime, wait_seconds

GREEN = Priority.GREEN


# ---------------------------------------------------------------------- service time (EWMA)


def test_the_mean_starts_from_the_default_and_the_newest_sample_weighs_alpha():
    """docs/wait-estimate.md: "The newest sample weighs rules.ewma_alpha (0.2) ... the mean
    starts from the queue's default_service_s" (so says estimate.py's docstring too).

    FAILS (bug): ``ServiceTime.observe`` lets the first sample replace the default outright
    (weight 1, not alpha): after one 600 s service the mean is 600, not 360."""
    st_ = ServiceTime(mean_s=300.0)
    st_.observe(600.0, 0.2)
    assert st_.samples == 1
    assert st_.mean_s == pytest.approx(0.8 * 300 + 0.2 * 600)


def test_later_samples_are_exponentially_weighted():
    st_ = ServiceTime(mean_s=300.0)
    st_.observe(600.0, 0.2)
    m1 = st_.mean_s
    st_.observe(100.0, 0.2)
    assert st_.mean_s == pytest.approx(0.8 * m1 + 0.2 * 100)
    m2 = st_.mean_s
    st_.observe(100.0, 0.5)
    assert st_.mean_s == pytest.approx(0.5 * m2 + 0.5 * 100)
    assert st_.samples == 3


def _after(*samples: float, alpha: float = 0.2) -> float:
    st_ = ServiceTime(mean_s=300.0)
    for x in samples:
        st_.observe(x, alpha)
    return st_.mean_s


def test_samples_are_clamped():
    assert _after(0.0) == _after(MIN_SAMPLE_S)
    assert _after(24 * 3600.0) == _after(MAX_SAMPLE_S)
    assert _after(120.0, 0.0) == _after(120.0, MIN_SAMPLE_S)


def test_the_queue_mean_learns_from_window_cycles(desk, clock):
    """A call soon after the counter emptied closes a cycle (call to next call) of the
    previous ticket's queue; the walk-up and the gap between citizens are part of it."""
    alpha = desk.hall.config.rules.ewma_alpha
    desk.open(1)
    for _ in range(4):
        desk.issue("A")
    desk.call(1)  # 09:00
    clock.advance(minutes=2)
    desk.do(c.StartService(window=1))
    clock.advance(minutes=8)
    desk.do(c.FinishService(window=1))
    mean = desk.hall.service_times["A"]
    assert mean.samples == 0  # the cycle closes only with the next call
    clock.advance(seconds=30)
    desk.call(1)  # 09:10:30: a 630 s cycle
    assert (mean.mean_s, mean.samples) == (pytest.approx(_after(630.0, alpha=alpha)), 1)
    assert "A" in desk.hall.take_changes().service_times

    clock.advance(minutes=3)
    desk.do(c.NoShow(window=1))  # a no-show occupies the window too
    desk.call(1)  # a 180 s cycle
    assert mean.mean_s == pytest.approx(_after(630.0, 180.0, alpha=alpha))
    assert desk.hall.service_times["B"].samples == 0


def test_a_break_or_an_idle_counter_is_no_cycle(desk, clock):
    desk.open(1)
    for _ in range(3):
        desk.issue("A")
    desk.call(1)
    clock.advance(minutes=5)
    desk.do(c.NoShow(window=1))
    clock.advance(minutes=20)  # nobody called for 20 minutes: the counter stood idle
    desk.call(1)
    assert desk.hall.service_times["A"].samples == 0
    clock.advance(minutes=5)
    desk.do(c.NoShow(window=1))
    desk.do(c.PauseWindow(window=1, reason="午休"))
    desk.do(c.ResumeWindow(window=1))
    desk.call(1)
    assert desk.hall.service_times["A"].samples == 0


def test_a_slower_queue_gives_longer_estimates(desk, clock):
    desk.open(1)
    for _ in range(3):
        desk.issue("A")
    desk.call(1)  # A001 at the counter; A002 is next
    before = desk.hall.estimates("A", clock())["20261123-A002"][1]
    for _ in range(2):
        desk.do(c.StartService(window=1))
        clock.advance(minutes=20)  # four times the prior
        desk.do(c.FinishService(window=1))
        desk.call(1)  # closes a 1200 s cycle of A
    desk.issue("A")  # A004: next, with A003 at the counter: the same place A002 was in
    after = desk.hall.estimates("A", clock())["20261123-A004"][1]
    assert desk.hall.service_times["A"].samples == 2
    assert before == 300.0  # the counter's ticket was just called: a whole 300 s prior cycle
    assert after == pytest.approx(desk.hall.service_times["A"].mean_s) and after > before


# ---------------------------------------------------------------------- wait formula


def test_wait_seconds():
    one_free = Capacity(servers=1.0, free=1.0)
    assert wait_seconds(0, 300, one_free) == 0.0  # a free window is there for it
    assert wait_seconds(1, 300, one_free) == 150.0  # the first release, half a service on average
    assert wait_seconds(3, 300, one_free) == 750.0
    assert wait_seconds(3, 300, Capacity(servers=2.0, free=0.0)) == 525.0
    assert wait_seconds(2, 300, Capacity(servers=0.0, free=0.0)) == 750.0


@settings(database=None, max_examples=200)
@given(
    ahead=st.integers(0, 200),
    mean=st.floats(10, 4 * 3600),
    servers=st.floats(0.25, 20),
    busy=st.floats(0, 1),
)
def test_wait_grows_with_the_line_and_shrinks_with_more_windows(ahead, mean, servers, busy):
    cap = Capacity(servers=servers, free=servers * (1 - busy))
    w = wait_seconds(ahead, mean, cap)
    assert w >= 0
    assert wait_seconds(ahead + 1, mean, cap) >= w
    more = Capacity(servers=servers + 1, free=cap.free + 1)
    assert wait_seconds(ahead, mean, more) <= w


# ---------------------------------------------------------------------- in the hall


def _waits(desk, queue="A") -> dict[str, tuple[int, float]]:
    est = desk.hall.estimates(queue, desk.clock())
    return {desk.hall.tickets[tid].number: v for tid, v in est.items()}


def test_more_open_windows_lower_the_estimate(desk):
    for _ in range(4):
        desk.issue("A")
    desk.open(1)
    one = _waits(desk)["A004"][1]
    desk.open(2)
    two = _waits(desk)["A004"][1]
    # one window: A004 goes at its 4th release (0, 300, 600, 900 s); two: 0, 0, 300, 300
    assert (one, two) == (900.0, 300.0)
    assert two < one


def test_busy_windows_are_not_free(desk):
    desk.open(1)
    desk.issue("A")
    desk.issue("A")
    assert _waits(desk)["A002"] == (2, 300.0)  # A001 goes at once, A002 one cycle later
    desk.call(1)
    assert _waits(desk)["A002"] == (1, 300.0)  # one ahead fewer, but the window is busy


def test_a_long_service_at_the_counter_is_expected_to_end_soon(desk, clock):
    desk.open(1)
    desk.issue("A")
    desk.issue("A")
    desk.call(1)
    clock.advance(minutes=4)  # 240 s into a 300 s mean
    assert _waits(desk)["A002"][1] == pytest.approx(max(0.62 * 300 - 120, 60, 75))
    clock.advance(minutes=30)  # running long: never below a quarter of the mean
    assert _waits(desk)["A002"][1] == pytest.approx(75.0)


def test_with_no_window_open_the_windows_serving_the_queue_are_assumed_to_open(desk):
    desk.issue("A")
    desk.issue("A")
    # windows 1 and 2 serve A: two servers, none free yet
    assert _waits(desk) == {"A001": (1, 75.0), "A002": (2, 225.0)}


def test_a_window_shares_its_attention_between_the_queues_with_someone_waiting(desk):
    desk.open(2)  # A weight 1, B weight 0.5
    desk.issue("A")
    cap = desk.hall.capacity("A")
    assert (cap.servers, cap.free) == (1.0, 1.0)
    desk.issue("B")
    cap = desk.hall.capacity("A")
    assert cap.servers == pytest.approx(1 / 1.5)
    assert desk.hall.capacity("B").servers == pytest.approx(0.5 / 1.5)


def test_the_position_counts_priority_tickets_ahead(desk, clock):
    desk.open(1)
    desk.issue("A")  # A001
    desk.issue("A")  # A002
    green = desk.do(c.IssueTicket(queue="A", priority=GREEN))[-1]
    assert green.position == 1
    last = desk.do(c.IssueTicket(queue="A"))[-1]
    assert last.position == 4
    appt = desk.do(
        c.IssueTicket(
            queue="A",
            channel=Channel.APPOINTMENT,
            priority=Priority.APPOINTMENT,
            appointment_slot=clock() + timedelta(minutes=10),
        )
    )[-1]
    assert appt.position == 1  # due within appointment_early_min: ahead of everyone
    assert [n for n, _ in sorted(_waits(desk).items(), key=lambda kv: kv[1][0])] == [
        "A005",
        "A003",
        "A001",
        "A002",
        "A004",
    ]


def test_a_ticket_still_to_check_in_or_sent_to_a_window_has_no_place_in_the_line(desk, clock):
    desk.issue("A")
    ev = desk.do(
        c.IssueTicket(
            queue="A",
            priority=Priority.APPOINTMENT,
            appointment_slot=clock() + timedelta(hours=1),
            checked_in=False,
        )
    )[-1]
    assert (ev.position, ev.estimated_wait_s) == (0, 0)
    desk.do(c.Transfer(ticket="A001", to_window=1))
    assert _waits(desk) == {}


def test_the_queue_summary(desk, clock):
    desk.issue("B")
    clock.advance(minutes=7)
    desk.issue("B")
    s = desk.hall.queue_summary("B", clock())
    assert (s["code"], s["name"], s["open"], s["waiting"]) == ("B", "税务", True, 2)
    assert (s["longest_wait_s"], s["issued_today"], s["remaining_today"]) == (420, 2, 1)
    assert s["estimated_wait_s"] > 0


def test_an_appointment_falling_due_before_a_call_pushes_it_one_release_later(desk, clock):
    desk.open(1)
    desk.issue("A")  # A001
    desk.issue("A")  # A002: at once and after one 300 s cycle, without appointments
    assert _waits(desk)["A002"][1] == 300.0
    # an appointment due (slot − appointment_early_min) within the next 300 s goes first
    desk.do(
        c.IssueTicket(
            queue="A",
            channel=Channel.APPOINTMENT,
            priority=Priority.APPOINTMENT,
            appointment_slot=clock() + timedelta(minutes=desk.hall.config.rules.appointment_early_min + 2),
        )
    )
    assert _waits(desk)["A002"] == (2, 600.0)
