"""Reply payloads: built by the writer from the state right after a command and from the
command's events, released only after the commit.

This module is the only place in the server that reads the fields of events
(typed attributes such as ``ev.position``); every reply builder has the ``writer.ReplyBuilder`` signature
``(hall, events, job, now) -> dict``. The per-viewer views (full applicant data only for
whom may see it) are here too, for replies and reads alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..hall.cases import department_matches
from ..hall.events import Event, FollowUpRated, RectificationOpened, ServiceRated, TicketIssued
from ..hall.hall import Hall
from ..hall.model import Case, Ticket
from . import visibility
from .context import Viewer
from .writer import Job

# ---------------------------------------------------------------------- views for a viewer


def ticket_detail(viewer: Viewer, t: Ticket) -> dict[str, Any]:
    """The ticket with its applicant as ``visibility.TABLE["get_ticket"]`` says: in full only
    for the window the ticket is at (and managers), masked or absent for everyone else."""
    view = t.public()
    serving = viewer.window is not None and t.active and t.window == viewer.window
    aud = visibility.audience(viewer, serving=serving)
    view["applicant"] = visibility.applicant_view(
        "get_ticket", aud, {"name": t.applicant_name, "phone": t.applicant_phone, "id_number": t.applicant_id}
    )
    view["note"] = t.note
    return view


def case_detail(viewer: Viewer, hall: Hall, case: Case, now: datetime) -> dict[str, Any]:
    """The case with its applicant as ``visibility.TABLE["get_case"]`` says: in full for the
    back office of its department, managers, and the window serving the case's ticket (or
    that accepted it today); never for a window with no ticket, never for a device token."""
    view = hall.case_view(case, now)
    serving = False
    if viewer.window is not None and viewer.window in hall.windows:
        current = hall.windows[viewer.window].current_ticket
        serving = (current is not None and current in (case.ticket, case.delivery_ticket)) or (
            case.window == viewer.window and visibility.accepted_today(case.accepted_at, now)
        )
    own = viewer.role == "backoffice" and department_matches(viewer.scope, case.department)
    aud = visibility.audience(viewer, serving=serving, own_department=own)
    view["applicant"] = visibility.applicant_view(
        "get_case",
        aud,
        {"name": case.applicant_name, "phone": case.applicant_phone, "id_number": case.applicant_id},
    )
    return view


# ---------------------------------------------------------------------- what events say


def _last_ticket(events: tuple[Event, ...]) -> str | None:
    return next((e.ticket for e in reversed(events) if e.ticket), None)


def _last_receipt(events: tuple[Event, ...]) -> str | None:
    """The case a command made: its last case event's, but a 一件事's own (its parts follow it)."""
    for e in reversed(events):
        receipt = getattr(e, "receipt_no", None)
        if receipt:
            bundle = getattr(e, "bundle_receipt", None)
            return str(bundle or receipt)
    return None


# ---------------------------------------------------------------------- reply builders


def issued(hall: Hall, events: tuple[Event, ...], job: Job, now: datetime) -> dict[str, Any]:
    ev = events[-1]
    assert isinstance(ev, TicketIssued) and ev.ticket is not None
    t = hall.tickets[ev.ticket]
    view = t.public()
    queue = hall.config.queue(t.queue)
    view.update(
        position=ev.position,
        estimated_wait_s=ev.estimated_wait_s,
        status_token=t.status_token,
        queue_name=queue.name if queue else t.queue,
    )
    return {"ticket": view}


def window_and_ticket(hall: Hall, events: tuple[Event, ...], job: Job, now: datetime) -> dict[str, Any]:
    out: dict[str, Any] = {"window": hall.window_view(job.arg("window"))}
    tid = _last_ticket(events)
    if tid and tid in hall.tickets:
        out["ticket"] = ticket_detail(job.viewer, hall.tickets[tid])
    return out


def ticket(hall: Hall, events: tuple[Event, ...], job: Job, now: datetime) -> dict[str, Any]:
    tid = _last_ticket(events)
    return {"ticket": hall.tickets[tid].public()} if tid and tid in hall.tickets else {}


def case(hall: Hall, events: tuple[Event, ...], job: Job, now: datetime) -> dict[str, Any]:
    receipt = getattr(job.command, "receipt_no", "") or _last_receipt(events)
    found = hall.cases.get(receipt) if receipt else None
    return {"case": case_detail(job.viewer, hall, found, now)} if found else {}


def rating(hall: Hall, events: tuple[Event, ...], job: Job, now: datetime) -> dict[str, Any]:
    rated = next(e for e in events if isinstance(e, ServiceRated))  # (after a day roll-over, if any)
    out: dict[str, Any] = {
        "rating": {"rating_id": rated.rating_id, "score": rated.score, "level": rated.level, "bad": rated.bad}
    }
    opened = [e for e in events if isinstance(e, RectificationOpened)]
    if opened:  # the rater learns when to expect a call, nothing about staff
        out["rating"]["contact_due"] = opened[0].contact_due.isoformat()
    return out


def follow_up(hall: Hall, events: tuple[Event, ...], job: Job, now: datetime) -> dict[str, Any]:
    ev = events[-1]
    assert isinstance(ev, FollowUpRated)
    return {
        "rating": {
            "rating_id": ev.rating_id,
            "score": ev.score,
            "level": ev.level,
            "follow_up_of": ev.follow_up_of,
        }
    }


def rectification(hall: Hall, events: tuple[Event, ...], job: Job, now: datetime) -> dict[str, Any]:
    r = hall.rectifications.get(job.arg("rectification"))
    return {"rectification": hall.rectification_view(r, now)} if r else {}
