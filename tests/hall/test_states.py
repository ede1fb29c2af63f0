"""The transition tables (queue_server/hall/states.py): their shape, their one error message,
and every ticket command against every ticket state through Hall.handle."""

from __future__ import annotations

import pytest

from queue_server.hall import HallError, TicketState, WindowState
from queue_server.hall import commands as c
from queue_server.hall.config import Rules
from queue_server.hall.states import (
    CASE_CREATION,
    CASE_TRANSITIONS,
    PREVIOUS,
    RECTIFICATION_TRANSITIONS,
    TICKET_TRANSITIONS,
    WINDOW_TRANSITIONS,
    case_transition,
    rectification_transition,
    ticket_transition,
    window_transition,
)
from queue_server.hall.states import (
    CaseState as CS,
)
from queue_server.hall.states import (
    RectificationState as RS,
)

T = TicketState
W = WindowState


def test_the_ticket_table_is_the_documented_life_cycle():
    moves = {(a, s, t) for a, table in TICKET_TRANSITIONS.items() for s, t in table.items()}
    assert moves == {
        ("call", T.WAITING, T.CALLED),
        ("recall", T.CALLED, T.CALLED),
        ("start", T.CALLED, T.SERVING),
        ("finish", T.SERVING, T.DONE),
        ("mark no-show", T.CALLED, T.NO_SHOW),
        ("reactivate", T.NO_SHOW, T.WAITING),
        ("transfer", T.WAITING, T.WAITING),
        ("transfer", T.CALLED, T.WAITING),
        ("transfer", T.SERVING, T.WAITING),
        ("cancel", T.WAITING, T.CANCELLED),
        ("cancel", T.CALLED, T.CANCELLED),
        ("check in", T.WAITING, T.WAITING),
        ("expire", T.WAITING, T.CANCELLED),  # the day roll-over cancels what was left open
        ("expire", T.CALLED, T.CANCELLED),
        ("expire", T.SERVING, T.CANCELLED),
    }
    # done and cancelled are final: no action leaves them
    assert not any(s in (T.DONE, T.CANCELLED) for table in TICKET_TRANSITIONS.values() for s in table)


def test_the_window_table():
    moves = {(a, s, t) for a, table in WINDOW_TRANSITIONS.items() for s, t in table.items()}
    assert moves == {
        ("open", W.CLOSED, W.OPEN),
        ("pause", W.OPEN, W.PAUSED),
        ("resume", W.PAUSED, W.OPEN),
        ("close", W.OPEN, W.CLOSED),
        ("close", W.PAUSED, W.CLOSED),
    }


@pytest.mark.parametrize("action", sorted(TICKET_TRANSITIONS))
@pytest.mark.parametrize("state", list(T))
def test_every_missing_ticket_entry_is_one_error_built_from_the_table(action, state):
    allowed = TICKET_TRANSITIONS[action]
    if state in allowed:
        assert ticket_transition(action, "A042", state) is allowed[state]
        return
    with pytest.raises(HallError) as info:
        ticket_transition(action, "A042", state)
    assert info.value.code == "illegal_transition"
    assert info.value.message == str(info.value) == f"cannot {action} A042: it is {state.value}"


@pytest.mark.parametrize("action", sorted(WINDOW_TRANSITIONS))
@pytest.mark.parametrize("state", list(W))
def test_every_missing_window_entry_is_one_error_built_from_the_table(action, state):
    allowed = WINDOW_TRANSITIONS[action]
    if state in allowed:
        assert window_transition(action, 4, state) is allowed[state]
        return
    with pytest.raises(HallError) as info:
        window_transition(action, 4, state)
    assert info.value.code == "illegal_transition"
    assert info.value.message == f"cannot {action} window 4: it is {state.value}"


@pytest.mark.parametrize("action", sorted(CASE_TRANSITIONS))
@pytest.mark.parametrize("state", list(CS))
def test_every_case_pair_moves_by_the_table_or_is_one_error(action, state):
    allowed = CASE_TRANSITIONS[action]
    if state in allowed:
        assert case_transition(action, "SL-1", state) is allowed[state]
        return
    with pytest.raises(HallError) as info:
        case_transition(action, "SL-1", state)
    assert (info.value.code, info.value.message) == (
        "illegal_transition",
        f"cannot {action} case SL-1: it is {state.value}",
    )


@pytest.mark.parametrize("action", sorted(RECTIFICATION_TRANSITIONS))
@pytest.mark.parametrize("state", list(RS))
def test_every_rectification_pair_moves_by_the_table_or_is_one_error(action, state):
    allowed = RECTIFICATION_TRANSITIONS[action]
    if state in allowed:
        want = RS.CONTACTED if allowed[state] is PREVIOUS else allowed[state]
        assert rectification_transition(action, 7, state, RS.CONTACTED) is want
        return
    with pytest.raises(HallError) as info:
        rectification_transition(action, 7, state, RS.CONTACTED)
    assert (info.value.code, info.value.message) == (
        "illegal_transition",
        f"cannot {action} rectification 7: it is {state.value}",
    )


def test_a_rejected_appeal_goes_back_to_where_the_loop_was():
    assert RECTIFICATION_TRANSITIONS["reject the appeal of"] == {RS.APPEALED: PREVIOUS}
    for before in (RS.OPEN, RS.CONTACTED, RS.RECTIFIED):
        assert RECTIFICATION_TRANSITIONS["appeal"][before] is RS.APPEALED
        assert rectification_transition("reject the appeal of", 1, RS.APPEALED, before) is before
    assert rectification_transition("uphold the appeal of", 1, RS.APPEALED, RS.OPEN) is RS.CLOSED
    with pytest.raises(HallError, match="no state before the appeal"):
        rectification_transition("reject the appeal of", 1, RS.APPEALED)


def test_a_case_is_created_in_the_tables_start_states():
    assert CASE_CREATION == {
        "accept": CS.ACCEPTED,
        "request materials for": CS.MATERIALS_REQUESTED,
        "reject": CS.REJECTED,
        "open a part of": CS.ACCEPTED,
        "open a waiting part of": CS.WAITING,
        "submit for": CS.ACCEPTED,
    }


def test_the_rule_defaults_are_the_issues():
    rules = Rules()
    assert (rules.recall_limit, rules.auto_no_show, rules.priority_ratio) == (3, True, 2)
    assert rules.reactivate_same_day is True


# ---------------------------------------------------------------------- through the hall

# Bring ticket A001 into a state; windows 1 and 2 are open, A001 is held by window 1 when active.
SETUPS = {
    T.WAITING: [],
    T.CALLED: [c.CallNext(window=1)],
    T.SERVING: [c.CallNext(window=1), c.StartService(window=1)],
    T.DONE: [c.CallNext(window=1), c.StartService(window=1), c.FinishService(window=1)],
    T.NO_SHOW: [c.CallNext(window=1), c.NoShow(window=1)],
    T.CANCELLED: [c.CancelTicket(ticket="A001")],
}

# the command that performs each table action on A001, and whether it goes through window 1
ACTIONS = {
    "call": (c.CallTicket(window=2, ticket="A001", reason="复核"), False),
    "recall": (c.Recall(window=1), True),
    "start": (c.StartService(window=1), True),
    "finish": (c.FinishService(window=1), True),
    "mark no-show": (c.NoShow(window=1), True),
    "reactivate": (c.Reactivate(ticket="A001"), False),
    "transfer": (c.Transfer(ticket="A001", to_queue="B"), False),
    "cancel": (c.CancelTicket(ticket="A001", reason="x"), False),
    "check in": (c.CheckIn(ticket="A001"), False),
}


def test_every_table_action_has_a_command():
    # "expire" is the day roll-over's, not a command's (tests/hall/test_tickets.py)
    assert set(ACTIONS) | {"expire"} == set(TICKET_TRANSITIONS)


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("state", list(T))
def test_every_ticket_command_in_every_state(desk, action, state):
    desk.open(1, 2, 3)
    # a ticket still to check in cannot be called: only the waiting one is issued so
    desk.issue("A", checked_in=not (action == "check in" and state is T.WAITING))
    for cmd in SETUPS[state]:
        desk.do(cmd)
    t = desk.hall.find_ticket("A001")
    assert t.state is state
    cmd, at_window = ACTIONS[action]

    expected = TICKET_TRANSITIONS[action].get(state)
    if at_window and state not in (T.CALLED, T.SERVING):
        desk.refused(cmd, "no_current_ticket", "window 1 has no ticket at the counter")
    elif expected is None:
        desk.refused(cmd, "illegal_transition", f"^cannot {action} A001: it is {state.value}$")
    else:
        desk.do(cmd)
        assert t.state is expected
        held = [w.number for w in desk.hall.windows.values() if w.current_ticket == t.id]
        assert held == ([t.window] if t.active else [])


def test_the_messages_the_issue_names(desk):
    desk.open(1)
    desk.issue("A")
    desk.call(1)
    desk.refused(c.FinishService(window=1), "illegal_transition", "^cannot finish A001: it is called$")
    desk.do(c.StartService(window=1))
    desk.refused(c.Recall(window=1), "illegal_transition", "^cannot recall A001: it is serving$")
    desk.refused(c.StartService(window=1), "illegal_transition", "^cannot start A001: it is serving$")


def test_unknown_commands_are_refused(desk):
    desk.do(c.Tick())

    class Dance:
        pass

    desk.refused(Dance(), "unknown_command", "unknown command Dance")
