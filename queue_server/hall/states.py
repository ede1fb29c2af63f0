"""Ticket, window, case, rectification and complaint states as transition tables.

Each table maps ``action -> {from state: to state}``. The core uses them both to check a
command (``*_transition`` raises the one error "cannot <action> <what>: it is <state>" for a
missing entry) and to set the next state when an event is applied: no state is set by hand.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

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

# Creating a ticket or a rectification has no from state: the state it starts in.
TICKET_CREATION: dict[str, TicketState] = {"issue": T.WAITING}

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
    "expire": {T.WAITING: T.CANCELLED, T.CALLED: T.CANCELLED, T.SERVING: T.CANCELLED},  # day roll-over
}

WINDOW_TRANSITIONS: dict[str, dict[WindowState, WindowState]] = {
    "open": {W.CLOSED: W.OPEN},
    "pause": {W.OPEN: W.PAUSED},
    "resume": {W.PAUSED: W.OPEN},
    "close": {W.OPEN: W.CLOSED, W.PAUSED: W.CLOSED},
}

TICKET_ACTIVE = frozenset({T.CALLED, T.SERVING})
TICKET_FINAL = frozenset({T.DONE, T.CANCELLED})

S = TypeVar("S", bound=StrEnum)


def _step(table: dict[str, dict[S, S]], action: str, label: str, state: S) -> S:
    try:
        return table[action][state]
    except KeyError:
        raise HallError("illegal_transition", f"cannot {action} {label}: it is {state.value}") from None


def ticket_transition(action: str, label: str, state: TicketState) -> TicketState:
    return _step(TICKET_TRANSITIONS, action, label, state)


def window_transition(action: str, number: int, state: WindowState) -> WindowState:
    return _step(WINDOW_TRANSITIONS, action, f"window {number}", state)


# ---------------------------------------------------------------------- cases (办件)


class CaseState(StrEnum):
    MATERIALS_REQUESTED = "materials_requested"  # 补正 notice issued; the clock has not started
    ACCEPTED = "accepted"  # 受理 / 容缺受理 at the front desk; the clock runs
    IN_REVIEW = "in_review"  # back office
    SUSPENDED = "suspended"  # 行政许可法 art. 45: the clock pauses
    DECIDED = "decided"  # approved or disapproved (办结); waits for 出件
    COMPLETED = "completed"  # result delivered
    REJECTED = "rejected"  # 不予受理
    # 一件事 (issue 16)
    IN_PARTS = "in_parts"  # a bundle whose parts are being decided by their departments
    WAITING = "waiting_for_input"  # a part waiting for the results of earlier parts
    WITHDRAWN = "withdrawn"  # a part whose input was refused: ends without a decision


CS = CaseState

# Creating a case has no from state: action -> the state a new case starts in.
CASE_CREATION: dict[str, CaseState] = {
    "accept": CS.ACCEPTED,
    "request materials for": CS.MATERIALS_REQUESTED,
    "reject": CS.REJECTED,
    "open a part of": CS.ACCEPTED,  # a bundle's part that starts at once (并联审批)
    "open a waiting part of": CS.WAITING,  # a part after another part
    "submit for": CS.ACCEPTED,  # 代办: a 代办员 submits for the citizen
}

CASE_TRANSITIONS: dict[str, dict[CaseState, CaseState]] = {
    "resume": {CS.MATERIALS_REQUESTED: CS.ACCEPTED},
    "reject": {CS.MATERIALS_REQUESTED: CS.REJECTED},
    "supply materials for": {
        CS.ACCEPTED: CS.ACCEPTED,
        CS.IN_REVIEW: CS.IN_REVIEW,
        CS.SUSPENDED: CS.SUSPENDED,
        CS.DECIDED: CS.DECIDED,
    },
    "start the review of": {CS.ACCEPTED: CS.IN_REVIEW},
    "suspend": {CS.IN_REVIEW: CS.SUSPENDED},
    "resume the review of": {CS.SUSPENDED: CS.IN_REVIEW},
    "extend": {CS.ACCEPTED: CS.ACCEPTED, CS.IN_REVIEW: CS.IN_REVIEW},
    "decide": {CS.IN_REVIEW: CS.DECIDED},
    "decide on the spot": {CS.ACCEPTED: CS.DECIDED},  # 即办件, at the window
    "deliver": {CS.DECIDED: CS.COMPLETED},
    # 一件事: the bundle (统一受理 → parts → 统一出件) and its parts
    "open the parts of": {CS.ACCEPTED: CS.IN_PARTS, CS.IN_PARTS: CS.IN_PARTS},
    "release": {CS.WAITING: CS.ACCEPTED},
    "withdraw": {CS.WAITING: CS.WITHDRAWN},
    "complete the parts of": {CS.IN_PARTS: CS.DECIDED},
    # 一次告知: a second notice only when the matter's material list changed
    "reissue the notice of": {CS.MATERIALS_REQUESTED: CS.MATERIALS_REQUESTED},
    # 帮办: a helper joins an open case
    "assist": {
        s: s
        for s in (
            CS.MATERIALS_REQUESTED,
            CS.ACCEPTED,
            CS.IN_REVIEW,
            CS.SUSPENDED,
            CS.DECIDED,
            CS.IN_PARTS,
            CS.WAITING,
        )
    },
}
CASE_TRANSITIONS["supply materials for"][CS.IN_PARTS] = CS.IN_PARTS  # a bundle's 容缺 item

CASE_FINAL = frozenset({CS.COMPLETED, CS.REJECTED, CS.WITHDRAWN})
CASE_CLOCK_RUNNING = frozenset({CS.ACCEPTED, CS.IN_REVIEW, CS.IN_PARTS})


def case_transition(action: str, receipt_no: str, state: CaseState) -> CaseState:
    return _step(CASE_TRANSITIONS, action, f"case {receipt_no}", state)


# ---------------------------------------------------------------------- 差评 rectification


class RectificationState(StrEnum):
    OPEN = "open"  # 差评 received
    CONTACTED = "contacted"  # 核实: the rater was contacted
    RECTIFIED = "rectified"  # 整改 done and reported back; waits for 回访
    APPEALED = "appealed"  # staff appealed; a manager decides
    CLOSED = "closed"


RS = RectificationState


class Previous(StrEnum):
    """A table target only: back to the state before the appeal."""

    STATE = "the state before the appeal"


PREVIOUS = Previous.STATE

RECTIFICATION_CREATION: dict[str, RectificationState] = {"open": RS.OPEN}  # every 差评

RECTIFICATION_TRANSITIONS: dict[str, dict[RectificationState, RectificationState | Previous]] = {
    "record contact for": {RS.OPEN: RS.CONTACTED},
    "record rectification for": {RS.CONTACTED: RS.RECTIFIED},
    "record the revisit for": {RS.RECTIFIED: RS.CLOSED},
    "resolve on the spot": {RS.OPEN: RS.CLOSED},
    "explain": {RS.OPEN: RS.CLOSED, RS.CONTACTED: RS.CLOSED},
    "appeal": {RS.OPEN: RS.APPEALED, RS.CONTACTED: RS.APPEALED, RS.RECTIFIED: RS.APPEALED},
    "uphold the appeal of": {RS.APPEALED: RS.CLOSED},
    "reject the appeal of": {RS.APPEALED: PREVIOUS},  # the loop goes on where it was
    # the management gives the loop to another owner; the loop stays where it is
    "reassign": {RS.OPEN: RS.OPEN, RS.CONTACTED: RS.CONTACTED, RS.RECTIFIED: RS.RECTIFIED},
}


def rectification_transition(
    action: str, rid: int, state: RectificationState, previous: RectificationState | None = None
) -> RectificationState:
    """The next state; ``previous`` (the state before an appeal) resolves ``PREVIOUS``."""
    try:
        nxt = RECTIFICATION_TRANSITIONS[action][state]
    except KeyError:
        raise HallError(
            "illegal_transition", f"cannot {action} rectification {rid}: it is {state.value}"
        ) from None
    if isinstance(nxt, Previous):
        if previous is None:
            raise HallError(
                "illegal_transition", f"cannot {action} rectification {rid}: no state before the appeal"
            )
        return previous
    return nxt


# ---------------------------------------------------------------------- complaints (投诉/纠纷)


class ComplaintState(StrEnum):
    RECEIVED = "received"  # recorded; owned by the party of its category (or the management, to triage)
    ASSIGNED = "assigned"  # 分办: the owner has it
    HANDLED = "handled"  # 处理: the owner dealt with it
    REPLIED = "replied"  # 回复 the complainant (12345: 反馈 to the platform)
    CLOSED = "closed"  # the complainant's satisfaction recorded


CP = ComplaintState

COMPLAINT_CREATION: dict[str, ComplaintState] = {"receive": CP.RECEIVED}

COMPLAINT_TRANSITIONS: dict[str, dict[ComplaintState, ComplaintState]] = {
    "assign": {CP.RECEIVED: CP.ASSIGNED},
    "reassign": {CP.ASSIGNED: CP.ASSIGNED},  # to another owner, with a reason
    "handle": {CP.ASSIGNED: CP.HANDLED},
    "reply to": {CP.HANDLED: CP.REPLIED},
    "close": {CP.REPLIED: CP.CLOSED},
    "remind the owner of": {
        CP.RECEIVED: CP.RECEIVED,
        CP.ASSIGNED: CP.ASSIGNED,
        CP.HANDLED: CP.HANDLED,
    },  # 督办
}

COMPLAINT_OPEN = frozenset({CP.RECEIVED, CP.ASSIGNED, CP.HANDLED})  # the reply is still due


def complaint_transition(action: str, cid: int, state: ComplaintState) -> ComplaintState:
    return _step(COMPLAINT_TRANSITIONS, action, f"complaint {cid}", state)
