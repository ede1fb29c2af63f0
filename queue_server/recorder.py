"""Between the hall core and the store: what to write for a batch of events, and how to
rebuild the hall from what was written. The server and the simulator both use it, so a
simulated day is stored exactly like a real one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .hall.calendar import WorkCalendar
from .hall.config import HallConfig
from .hall.estimate import ServiceTime
from .hall.events import Event
from .hall.hall import Hall
from .hall.model import Case, Complaint, Rating, Rectification, Ticket, Window
from .store.base import Batch, LoadedState


def batch_for(hall: Hall, events: list[Event]) -> Batch:
    """The events and every state row they changed (taken from the hall's change set)."""
    changes = hall.take_changes()
    return Batch(
        events=list(events),
        tickets=[t.to_row() for t in changes.tickets.values()],
        windows=[hall.windows[n].to_row() for n in sorted(changes.windows)],
        numbers=[(d, q, hall.numbers[(d, q)]) for d, q in changes.numbers if (d, q) in hall.numbers],
        service_times=[
            (q, hall.service_times[q].mean_s, hall.service_times[q].samples)
            for q in sorted(changes.service_times)
        ],
        service_date=hall.service_date,
        cases=[k.to_row() for k in changes.cases.values()],
        case_numbers=[
            (d, hall.case_numbers[d]) for d in sorted(changes.case_numbers) if d in hall.case_numbers
        ],
        ratings=[r.to_row() for r in changes.ratings.values()],
        rectifications=[r.to_row() for r in changes.rectifications.values()],
        complaints=[k.to_row() for k in changes.complaints.values()],
    )


def rebuild_hall(
    config: HallConfig,
    loaded: LoadedState,
    *,
    calendar: WorkCalendar | None = None,
    matters: Mapping[str, Any] | None = None,
) -> Hall:
    """The hall as the store left it. ``calendar`` and ``matters`` are the pure values the
    core needs for cases (the server loads them with ``load_calendar()``/``load_matters()``)."""
    return Hall(
        config,
        tickets=[Ticket.from_row(r) for r in loaded.tickets],
        windows=[Window.from_row(r) for r in loaded.windows if config.window(r["number"]) is not None],
        numbers=loaded.numbers,
        service_times={q: ServiceTime(mean_s=m, samples=n) for q, (m, n) in loaded.service_times.items()},
        service_date=loaded.service_date,
        cases=[Case.from_row(r) for r in loaded.cases],
        case_numbers=loaded.case_numbers,
        ratings=[Rating.from_row(r) for r in loaded.ratings],
        rectifications=[Rectification.from_row(r) for r in loaded.rectifications],
        last_rating_id=loaded.last_rating_id,
        last_rectification_id=loaded.last_rectification_id,
        complaints=[Complaint.from_row(r) for r in loaded.complaints],
        last_complaint_id=loaded.last_complaint_id,
        calendar=calendar,
        matters=matters,
    )
