"""Commands on tickets and windows: each checks everything first, then emits the queue's
events (``a`` is the actor string). The hall dispatches here through ``HANDLERS``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from . import commands as c
from . import events as ev
from .errors import HallError
from .events import Event
from .model import Ticket
from .queue import MAX_NUMBERS_PER_DAY, Queue
from .scheduling import pick_next
from .states import TicketState as T
from .states import WindowState as W
from .states import ticket_transition, window_transition


def _issue(q: Queue, cmd: c.IssueTicket, now: datetime, a: str, out: list[Event]) -> None:
    qc = q.queue_config(cmd.queue)
    if not q.queue_open(qc, now):
        raise HallError("queue_closed", f"{qc.name} ({qc.code}) is not open now")
    issued = q.numbers.get((now.date(), qc.code), 0)
    cap = min(qc.daily_cap, MAX_NUMBERS_PER_DAY)  # numbers are the queue code + 3 digits
    if issued >= cap:
        raise HallError("queue_full", f"{qc.name} ({qc.code}) has issued all {cap} tickets for today")
    if cmd.priority == c.Priority.APPOINTMENT and cmd.appointment_slot is None:
        raise HallError("invalid_field", "an appointment ticket needs its appointment_slot")
    seq = issued + 1
    number = f"{qc.code}{seq:03d}"
    tid = f"{now:%Y%m%d}-{number}"
    ap = cmd.applicant or c.Applicant()
    draft = ev.TicketIssued(
        at=now,
        actor=a,
        ticket=tid,
        queue=qc.code,
        number=number,
        seq=seq,
        channel=cmd.channel.value,
        priority=cmd.priority.value,
        checked_in=cmd.checked_in,
        status_token=cmd_token(cmd, q.config.code, tid),
        appointment_slot=cmd.appointment_slot.astimezone(q.tz) if cmd.appointment_slot else None,
        applicant_name=ap.name,
        applicant_phone=ap.phone,
        applicant_id=ap.id_number,
        position=0,
        estimated_wait_s=0,
    )
    q.apply(draft)  # the estimate counts the new ticket in its line
    pos, wait = q.estimates(qc.code, now).get(tid, (0, 0.0))
    q.tickets[tid].estimated_wait_s = round(wait, 1)
    out.append(replace(draft, position=pos, estimated_wait_s=round(wait)))


def cmd_token(cmd: c.IssueTicket, hall_code: str, tid: str) -> str:
    if cmd.status_token:
        return cmd.status_token
    # Deterministic fallback for simulations and tests; the server always passes a random one.
    return hashlib.sha256(f"{hall_code}/{tid}".encode()).hexdigest()[:22]


def _check_in(q: Queue, cmd: c.CheckIn, now: datetime, a: str, out: list[Event]) -> None:
    t = q.find_ticket(cmd.ticket)
    ticket_transition("check in", t.number, t.state)
    if t.checked_in:
        raise HallError("illegal_transition", f"cannot check in {t.number}: it is already checked in")
    q.emit(out, ev.TicketCheckedIn(at=now, actor=a, ticket=t.id))


def _call_next(q: Queue, cmd: c.CallNext, now: datetime, a: str, out: list[Event]) -> None:
    win = q.require_free_open(cmd.window)
    wcfg = q.window_configs[cmd.window]
    t = pick_next(wcfg, win.priority_streak, q.waiting(), now, q.config.rules)
    if t is None:
        raise HallError("queue_empty", f"nobody is waiting for window {cmd.window}")
    _emit_call(q, t, cmd.window, now, a, out, reason="")


def _emit_call(
    q: Queue, t: Ticket, window: int, now: datetime, a: str, out: list[Event], *, reason: str
) -> None:
    win = q.windows[window]
    q.emit(
        out,
        ev.TicketCalled(
            at=now,
            actor=a,
            ticket=t.id,
            window=window,
            number=t.number,
            queue=t.queue,
            priority=t.priority,
            reason=reason,
            staff=win.staff,
            waited_s=round((now - t.arrived_at).total_seconds()),
        ),
    )


def _call_ticket(q: Queue, cmd: c.CallTicket, now: datetime, a: str, out: list[Event]) -> None:
    if not cmd.reason.strip():
        raise HallError("reason_required", "calling a ticket out of order needs a reason")
    q.require_free_open(cmd.window)
    t = q.find_ticket(cmd.ticket)
    ticket_transition("call", t.number, t.state)
    wcfg = q.window_configs[cmd.window]
    served = {wq.queue for wq in wcfg.queues}
    if t.queue not in served and t.target_window != cmd.window:
        raise HallError(
            "not_served_here", f"window {cmd.window} does not serve queue {t.queue} of {t.number}"
        )
    if t.target_window is not None and t.target_window != cmd.window:
        raise HallError("not_served_here", f"{t.number} was sent to window {t.target_window}")
    _emit_call(q, t, cmd.window, now, a, out, reason=cmd.reason.strip())


def _recall(q: Queue, cmd: c.Recall, now: datetime, a: str, out: list[Event]) -> None:
    t = q.current(cmd.window, "recall")
    ticket_transition("recall", t.number, t.state)
    limit = q.config.rules.recall_limit
    if t.recalls >= limit:
        if not q.config.rules.auto_no_show:
            raise HallError("recall_limit", f"{t.number} has been recalled {t.recalls} times (limit {limit})")
        ticket_transition("mark no-show", t.number, t.state)
        q.emit(
            out,
            ev.TicketNoShow(
                at=now,
                actor=a,
                ticket=t.id,
                window=cmd.window,
                number=t.number,
                reason="recall_limit",
                recalls=t.recalls,
            ),
        )
        return
    q.emit(
        out,
        ev.TicketRecalled(
            at=now,
            actor=a,
            ticket=t.id,
            window=cmd.window,
            number=t.number,
            queue=t.queue,
            recall=t.recalls + 1,
        ),
    )


def _start(q: Queue, cmd: c.StartService, now: datetime, a: str, out: list[Event]) -> None:
    t = q.current(cmd.window, "start service")
    ticket_transition("start", t.number, t.state)
    q.emit(
        out,
        ev.ServiceStarted(at=now, actor=a, ticket=t.id, window=cmd.window, number=t.number, queue=t.queue),
    )


def _finish(q: Queue, cmd: c.FinishService, now: datetime, a: str, out: list[Event]) -> None:
    t = q.current(cmd.window, "finish service")
    ticket_transition("finish", t.number, t.state)
    occupancy = (now - t.called_at).total_seconds() if t.called_at else 0.0
    service = (now - t.served_at).total_seconds() if t.served_at else 0.0
    matter = q.matter_of(t)  # what the window's rating pad shows
    win = q.windows[cmd.window]
    q.emit(
        out,
        ev.ServiceFinished(
            at=now,
            actor=a,
            ticket=t.id,
            window=cmd.window,
            number=t.number,
            queue=t.queue,
            service_s=round(service),
            occupancy_s=round(occupancy),
            staff=win.staff,
            staff_name=win.staff_name,
            matter_name=matter,
        ),
    )


def _no_show(q: Queue, cmd: c.NoShow, now: datetime, a: str, out: list[Event]) -> None:
    t = q.current(cmd.window, "mark no-show")
    ticket_transition("mark no-show", t.number, t.state)
    q.emit(
        out,
        ev.TicketNoShow(
            at=now,
            actor=a,
            ticket=t.id,
            window=cmd.window,
            number=t.number,
            reason="manual",
            recalls=t.recalls,
        ),
    )


def _reactivate(q: Queue, cmd: c.Reactivate, now: datetime, a: str, out: list[Event]) -> None:
    t = q.find_ticket(cmd.ticket)
    ticket_transition("reactivate", t.number, t.state)
    if not q.config.rules.reactivate_same_day:
        raise HallError("not_allowed", "this hall does not reactivate no-show tickets")
    if t.service_date != now.date():
        raise HallError("illegal_transition", f"cannot reactivate {t.number}: it was issued on another day")
    q.emit(out, ev.TicketReactivated(at=now, actor=a, ticket=t.id, number=t.number, queue=t.queue))


def _transfer(q: Queue, cmd: c.Transfer, now: datetime, a: str, out: list[Event]) -> None:
    t = q.find_ticket(cmd.ticket)
    ticket_transition("transfer", t.number, t.state)
    to_queue = cmd.to_queue or t.queue
    q.queue_config(to_queue)
    if cmd.to_window is not None:
        q.window_config(cmd.to_window)
        if cmd.to_window == t.window and t.active:
            raise HallError("invalid_field", f"{t.number} is already at window {cmd.to_window}")
    if cmd.to_queue is None and cmd.to_window is None:
        raise HallError("invalid_field", "a transfer needs to_queue or to_window")
    if to_queue == t.queue and cmd.to_window is None and t.state is T.WAITING:
        raise HallError("invalid_field", f"{t.number} already waits in queue {to_queue}")
    q.emit(
        out,
        ev.TicketTransferred(
            at=now,
            actor=a,
            ticket=t.id,
            window=t.window if t.active else None,
            number=t.number,
            from_queue=t.queue,
            to_queue=to_queue,
            to_window=cmd.to_window,
            reason=cmd.reason,
        ),
    )


def _cancel(q: Queue, cmd: c.CancelTicket, now: datetime, a: str, out: list[Event]) -> None:
    t = q.find_ticket(cmd.ticket)
    ticket_transition("cancel", t.number, t.state)
    q.emit(
        out,
        ev.TicketCancelled(
            at=now,
            actor=a,
            ticket=t.id,
            window=t.window if t.active else None,
            number=t.number,
            queue=t.queue,
            reason=cmd.reason,
        ),
    )


def _open(q: Queue, cmd: c.OpenWindow, now: datetime, a: str, out: list[Event]) -> None:
    win = q.window(cmd.window)
    window_transition("open", cmd.window, win.state)
    q.emit(out, ev.WindowOpened(at=now, actor=a, window=cmd.window, staff=win.staff))


def _pause(q: Queue, cmd: c.PauseWindow, now: datetime, a: str, out: list[Event]) -> None:
    win = q.window(cmd.window)
    window_transition("pause", cmd.window, win.state)
    if not cmd.reason.strip():
        raise HallError("reason_required", "pausing a window needs a reason")
    q.emit(
        out, ev.WindowPaused(at=now, actor=a, window=cmd.window, reason=cmd.reason.strip(), staff=win.staff)
    )


def _resume(q: Queue, cmd: c.ResumeWindow, now: datetime, a: str, out: list[Event]) -> None:
    win = q.window(cmd.window)
    window_transition("resume", cmd.window, win.state)
    q.emit(out, ev.WindowResumed(at=now, actor=a, window=cmd.window, staff=win.staff))


def _close(q: Queue, cmd: c.CloseWindow, now: datetime, a: str, out: list[Event]) -> None:
    win = q.window(cmd.window)
    window_transition("close", cmd.window, win.state)
    if win.current_ticket is not None:
        cur = q.tickets[win.current_ticket]
        raise HallError(
            "window_busy", f"cannot close window {cmd.window}: {cur.number} is still {cur.state.value} there"
        )
    q.emit(out, ev.WindowClosed(at=now, actor=a, window=cmd.window, staff=win.staff))


def _login(q: Queue, cmd: c.StaffLogin, now: datetime, a: str, out: list[Event]) -> None:
    win = q.window(cmd.window)
    if win.staff == cmd.username:
        return  # already there: a terminal reconnecting logs in again
    if win.staff is not None and win.current_ticket is not None:
        raise HallError(
            "window_busy", f"window {cmd.window}: {win.staff_name or win.staff} is serving a ticket there"
        )
    for other in q.windows.values():
        if other.staff == cmd.username and other.current_ticket is not None:
            raise HallError("window_busy", f"{cmd.username} is serving a ticket at window {other.number}")
    for other in q.windows.values():
        if other.staff == cmd.username:
            _leave(q, other.number, now, a, out)
    if win.staff is not None:
        _leave(q, cmd.window, now, a, out)
    q.emit(out, ev.StaffLoggedIn(at=now, actor=a, window=cmd.window, staff=cmd.username, staff_name=cmd.name))


def _leave(q: Queue, number: int, now: datetime, a: str, out: list[Event]) -> None:
    win = q.windows[number]
    if win.state is not W.CLOSED:
        q.emit(out, ev.WindowClosed(at=now, actor=a, window=number, staff=win.staff, reason="logout"))
    q.emit(out, ev.StaffLoggedOut(at=now, actor=a, window=number, staff=win.staff))


def _logout(q: Queue, cmd: c.StaffLogout, now: datetime, a: str, out: list[Event]) -> None:
    win = q.window(cmd.window)
    if win.staff is None:
        raise HallError("illegal_transition", f"cannot log out of window {cmd.window}: nobody is logged in")
    if win.current_ticket is not None:
        cur = q.tickets[win.current_ticket]
        raise HallError(
            "window_busy",
            f"cannot log out of window {cmd.window}: {cur.number} is still {cur.state.value} there",
        )
    _leave(q, cmd.window, now, a, out)


def _tick(q: Queue, cmd: c.Tick, now: datetime, a: str, out: list[Event]) -> None:
    return  # the roll-over in handle() is all a tick does


HANDLERS: dict[type, Callable[[Queue, Any, datetime, str, list[Event]], None]] = {
    c.IssueTicket: _issue,
    c.CheckIn: _check_in,
    c.CallNext: _call_next,
    c.CallTicket: _call_ticket,
    c.Recall: _recall,
    c.StartService: _start,
    c.FinishService: _finish,
    c.NoShow: _no_show,
    c.Reactivate: _reactivate,
    c.Transfer: _transfer,
    c.CancelTicket: _cancel,
    c.OpenWindow: _open,
    c.PauseWindow: _pause,
    c.ResumeWindow: _resume,
    c.CloseWindow: _close,
    c.StaffLogin: _login,
    c.StaffLogout: _logout,
    c.Tick: _tick,
}
