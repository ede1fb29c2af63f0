"""Ticket and window states as transition tables.

Every command that moves a ticket or a window looks up ``(action, current state)`` in one
table; a missing entry is the single error "cannot <action> <what>: it is <state>".
"""

from __future__ import annotations

from enum import StrEnum

from .errors import HallError


class TicketState(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class WindowState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    PAUSED = "paused"


T = TicketState
W = WindowState

# action -> {from state: to state}
TICKET_TRANSITIONS: dict[str, dict[TicketState, TicketState]] = {
    "call": {T.WAITING: T.CALLED},
    "recall": {T.CALLED: T.CALLED},
    "start": {T.CALLED: T.SERVING},
    "finish": {T.SERVING: T.DONE},
    "mark no-show": {T.CALLED: T.NO_SHOW},
    "reactivate": {T.NO_SHOW: T.WAITING},
    "transfer": {T.WAITING: T.WAITING, T.CALLED: T.WAITING, T.SERVING: T.WAITING},
    "cancel": {T.WAITING: T.CANCELLED, T.CALLED: T.CANCELLED},
    "check in": {T.WAITING: T.WAITING},
}

WINDOW_TRANSITIONS: dict[str, dict[WindowState, WindowState]] = {
    "open": {W.CLOSED: W.OPEN},
    "pause": {W.OPEN: W.PAUSED},
    "resume": {W.PAUSED: W.OPEN},
    "close": {W.OPEN: W.CLOSED, W.PAUSED: W.CLOSED},
}

TICKET_ACTIVE = frozenset({T.CALLED, T.SERVING})
TICKET_FINAL = frozenset({T.DONE, T.CANCELLED})


def ticket_transition(action: str, label: str, state: TicketState) -> TicketState:
    try:
        return TICKET_TRANSITIONS[action][state]
    except KeyError:
        raise HallError("illegal_transition", f"cannot {action} {label}: it is {state.value}") from None


def window_transition(action: str, number: int, state: WindowState) -> WindowState:
    try:
        return WINDOW_TRANSITIONS[action][state]
    except KeyError:
        raise HallError(
            "illegal_transition", f"cannot {action} window {number}: it is {state.value}"
        ) from None
