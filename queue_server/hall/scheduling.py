"""Which waiting ticket a window calls next.

Order at one window, from the queues it serves only:

1. tickets transferred to this window by name, oldest arrival first;
2. when the window has made ``priority_ratio`` priority calls in a row and an ordinary
   ticket waits: the ordinary ticket (fairness: priority must not starve the others);
3. checked-in appointments whose slot is due (slot - ``appointment_early_min``), by slot;
4. 绿色通道 tickets, oldest arrival first (weighted like ordinary ones across queues);
5. ordinary tickets: the longest wait scaled by the queue's weight at this window;
6. appointments that are not yet due, so a window never idles while someone waits.

A transferred or reactivated ticket keeps its original arrival time, so it is not sent
to the back of the line.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from .commands import Priority
from .config import Rules, WindowConfig
from .model import Ticket

PRIORITY_CLASSES = (Priority.GREEN.value, Priority.APPOINTMENT.value)


def is_due_appointment(t: Ticket, now: datetime, rules: Rules) -> bool:
    return (
        t.priority == Priority.APPOINTMENT.value
        and t.appointment_slot is not None
        and t.appointment_slot - timedelta(minutes=rules.appointment_early_min) <= now
    )


def callable_here(t: Ticket, wcfg: WindowConfig) -> bool:
    """A waiting, checked-in ticket this window may call (served queue or sent here)."""
    if not t.checked_in:
        return False
    if t.target_window is not None:
        return t.target_window == wcfg.number
    return any(wq.queue == t.queue for wq in wcfg.queues)


def pick_next(
    wcfg: WindowConfig,
    priority_streak: int,
    waiting: Iterable[Ticket],
    now: datetime,
    rules: Rules,
) -> Ticket | None:
    weights = {wq.queue: wq.weight for wq in wcfg.queues}
    cands = [t for t in waiting if callable_here(t, wcfg)]
    if not cands:
        return None

    targeted = [t for t in cands if t.target_window == wcfg.number]
    if targeted:
        return min(targeted, key=lambda t: (t.arrived_at, t.seq))

    def weighted_oldest(ts: list[Ticket]) -> Ticket:
        # the largest weighted wait; arrival order breaks ties (and rules within a queue)
        return max(
            ts,
            key=lambda t: (
                (now - t.arrived_at).total_seconds() * weights.get(t.queue, 1.0),
                -t.arrived_at.timestamp(),
                -t.seq,
            ),
        )

    normal = [t for t in cands if t.priority == Priority.NORMAL.value]
    if normal and priority_streak >= rules.priority_ratio:
        return weighted_oldest(normal)

    due = [t for t in cands if is_due_appointment(t, now, rules)]
    if due:
        return min(due, key=lambda t: (t.appointment_slot, t.arrived_at, t.seq))

    green = [t for t in cands if t.priority == Priority.GREEN.value]
    if green:
        return weighted_oldest(green)
    if normal:
        return weighted_oldest(normal)
    early = [t for t in cands if t.priority == Priority.APPOINTMENT.value]
    return min(early, key=lambda t: (t.appointment_slot or t.arrived_at, t.seq)) if early else None


def queue_rank(t: Ticket, now: datetime, rules: Rules) -> tuple[int, float, int]:
    """Sort key of the order a queue's waiting tickets are expected to go in."""
    if is_due_appointment(t, now, rules) and t.appointment_slot is not None:
        return (0, t.appointment_slot.timestamp(), t.seq)
    if t.priority == Priority.GREEN.value:
        return (1, t.arrived_at.timestamp(), t.seq)
    if t.priority == Priority.NORMAL.value:
        return (2, t.arrived_at.timestamp(), t.seq)
    return (3, (t.appointment_slot or t.arrived_at).timestamp(), t.seq)
