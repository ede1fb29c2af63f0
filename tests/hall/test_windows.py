"""Windows: open / pause / resume / close and staff login / logout (queue_server/hall/hall.py)."""

from __future__ import annotations

from queue_server.hall import Priority, WindowState
from queue_server.hall import commands as c

W = WindowState


def _types(events) -> list[tuple[str, int | None]]:
    return [(e.type, e.window) for e in events]


def test_open_pause_resume_close(desk, clock):
    desk.do(c.Tick())
    win = desk.hall.windows[1]
    assert win.state is W.CLOSED

    [ev] = desk.do(c.OpenWindow(window=1))
    assert (ev.type, win.state, win.state_since) == ("window_opened", W.OPEN, clock())
    clock.advance(minutes=30)
    [ev] = desk.do(c.PauseWindow(window=1, reason=" 系统故障 "))
    assert (ev.type, ev.reason) == ("window_paused", "系统故障")
    assert (win.state, win.pause_reason, win.state_since) == (W.PAUSED, "系统故障", clock())
    [ev] = desk.do(c.ResumeWindow(window=1))
    assert (ev.type, win.state, win.pause_reason) == ("window_resumed", W.OPEN, "")
    [ev] = desk.do(c.CloseWindow(window=1))
    assert (ev.type, win.state) == ("window_closed", W.CLOSED)
    desk.open(1)
    desk.do(c.PauseWindow(window=1, reason="午休"))
    desk.do(c.CloseWindow(window=1))  # a paused window can close too
    assert win.state is W.CLOSED and win.pause_reason == ""


def test_pausing_needs_a_reason(desk):
    desk.open(1)
    desk.refused(c.PauseWindow(window=1, reason=""), "reason_required", "pausing a window needs a reason")
    desk.refused(c.PauseWindow(window=1, reason="   "), "reason_required")


def test_illegal_window_moves_are_refused_with_the_table_message(desk):
    desk.do(c.Tick())
    desk.refused(
        c.PauseWindow(window=1, reason="x"), "illegal_transition", "^cannot pause window 1: it is closed$"
    )
    desk.refused(c.ResumeWindow(window=1), "illegal_transition", "^cannot resume window 1: it is closed$")
    desk.refused(c.CloseWindow(window=1), "illegal_transition", "^cannot close window 1: it is closed$")
    desk.open(1)
    desk.refused(c.OpenWindow(window=1), "illegal_transition", "^cannot open window 1: it is open$")
    desk.refused(c.ResumeWindow(window=1), "illegal_transition", "^cannot resume window 1: it is open$")
    desk.do(c.PauseWindow(window=1, reason="x"))
    desk.refused(
        c.PauseWindow(window=1, reason="x"), "illegal_transition", "^cannot pause window 1: it is paused$"
    )
    desk.refused(c.OpenWindow(window=1), "illegal_transition", "^cannot open window 1: it is paused$")
    desk.refused(c.OpenWindow(window=8), "unknown_window", "no window 8 in this hall")


def test_closing_with_a_ticket_at_the_counter_is_refused(desk):
    desk.open(1)
    desk.issue("A")
    desk.call(1)
    desk.refused(c.CloseWindow(window=1), "window_busy", "cannot close window 1: A001 is still called there")
    desk.do(c.StartService(window=1))
    desk.refused(c.CloseWindow(window=1), "window_busy", "A001 is still serving there")
    desk.do(c.PauseWindow(window=1, reason="取材料"))  # pausing with someone at the counter is fine
    desk.refused(c.CloseWindow(window=1), "window_busy")
    desk.do(c.FinishService(window=1))  # and finishing while paused
    desk.do(c.CloseWindow(window=1))
    assert desk.hall.windows[1].state is W.CLOSED


def test_closing_resets_the_fairness_count(desk):
    desk.open(1)
    desk.issue("A")
    for _ in range(3):
        desk.issue("A", priority=Priority.GREEN)
    desk.serve(1)
    desk.serve(1)
    assert desk.hall.windows[1].priority_streak == 2
    desk.do(c.CloseWindow(window=1))
    desk.open(1)
    assert desk.hall.windows[1].priority_streak == 0
    assert desk.call(1).number == "A004"


def test_staff_login_and_logout(desk):
    win = desk.hall.windows[1]
    events = desk.do(c.StaffLogin(window=1, username="w1", name="窗口一"))
    assert _types(events)[-1] == ("staff_logged_in", 1)
    assert (win.staff, win.staff_name) == ("w1", "窗口一")
    assert desk.do(c.StaffLogin(window=1, username="w1", name="窗口一")) == []  # reconnecting terminal
    desk.open(1)
    assert desk.hall.window_view(1)["staff_name"] == "窗口一"

    events = desk.do(c.StaffLogout(window=1))

    assert _types(events) == [("window_closed", 1), ("staff_logged_out", 1)]
    assert events[0].reason == "logout"
    assert (win.staff, win.staff_name, win.state) == (None, "", W.CLOSED)
    desk.refused(
        c.StaffLogout(window=1), "illegal_transition", "cannot log out of window 1: nobody is logged in"
    )


def test_logout_of_a_closed_window_only_logs_out(desk):
    desk.do(c.StaffLogin(window=3, username="w3", name="窗口三"))
    assert _types(desk.do(c.StaffLogout(window=3))) == [("staff_logged_out", 3)]


def test_login_at_a_second_window_moves_the_staff_member(desk):
    desk.do(c.StaffLogin(window=1, username="w1", name="窗口一"))
    desk.open(1)

    events = desk.do(c.StaffLogin(window=2, username="w1", name="窗口一"))

    assert _types(events) == [("window_closed", 1), ("staff_logged_out", 1), ("staff_logged_in", 2)]
    one, two = desk.hall.windows[1], desk.hall.windows[2]
    assert (one.staff, one.state) == (None, W.CLOSED)
    assert (two.staff, two.staff_name) == ("w1", "窗口一")
    assert [w.number for w in desk.hall.windows.values() if w.staff == "w1"] == [2]


def test_login_replaces_whoever_sat_at_a_window_with_nobody_at_the_counter(desk):
    desk.do(c.StaffLogin(window=1, username="w1", name="窗口一"))
    desk.open(1)
    events = desk.do(c.StaffLogin(window=1, username="w2", name="窗口二"))
    assert _types(events) == [("window_closed", 1), ("staff_logged_out", 1), ("staff_logged_in", 1)]
    assert desk.hall.windows[1].staff == "w2"


def test_login_and_logout_refused_while_a_ticket_is_at_the_counter(desk):
    desk.do(c.StaffLogin(window=1, username="w1", name="窗口一"))
    desk.open(1)
    desk.issue("A")
    desk.call(1)
    desk.refused(
        c.StaffLogout(window=1), "window_busy", "cannot log out of window 1: A001 is still called there"
    )
    desk.refused(
        c.StaffLogin(window=2, username="w1", name="窗口一"),
        "window_busy",
        "w1 is serving a ticket at window 1",
    )
    desk.refused(
        c.StaffLogin(window=1, username="w2", name="窗口二"),
        "window_busy",
        "window 1: 窗口一 is serving a ticket there",
    )
    desk.do(c.StartService(window=1))
    desk.do(c.FinishService(window=1))
    desk.do(c.StaffLogout(window=1))


def test_the_staff_member_at_the_window_is_recorded_on_the_call(desk):
    desk.do(c.StaffLogin(window=1, username="w1", name="窗口一"))
    desk.open(1)
    desk.issue("A")
    [ev] = desk.do(c.CallNext(window=1))
    assert ev.staff == "w1"
    assert desk.hall.tickets[ev.ticket].served_by == "w1"
