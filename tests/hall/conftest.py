"""Fixtures for the hall core's tests: the small test hall, a hand-driven clock, a desk.

The core never reads a clock, so every test moves time by hand with ``clock``. ``desk``
wraps ``Hall.handle`` with the clock's current instant and a few shortcuts; ``desk.refused``
checks a refusal: the error code, the message, and that the hall did not change.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from queue_server.config_file import load_hall_config
from queue_server.hall import Hall, HallConfig, HallError, Ticket, Window
from queue_server.hall import commands as c
from queue_server.hall.events import Event
from queue_server.hall.model import Case, Complaint, Rating, Rectification

SMALL_TOML = Path(__file__).resolve().parents[1] / "fixtures" / "halls" / "small.toml"
TZ = ZoneInfo("Asia/Shanghai")
MONDAY_0900 = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)  # a Monday


class Clock:
    """Aware instants in Asia/Shanghai that only move when a test moves them."""

    def __init__(self, start: datetime = MONDAY_0900) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, *, days: int = 0, hours: int = 0, minutes: float = 0, seconds: float = 0) -> datetime:
        self.now += timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        return self.now

    def set(self, hour: int, minute: int = 0, *, day: int | None = None) -> datetime:
        """Jump to ``hour:minute`` local on the current day (or on 2026-11-``day``)."""
        self.now = self.now.replace(
            day=day or self.now.day, hour=hour, minute=minute, second=0, microsecond=0
        )
        return self.now


def state_of(hall: Hall) -> dict[str, Any]:
    """Everything a store would persist about a hall, as plain comparable values."""
    return {
        "tickets": sorted((t.to_row() for t in hall.tickets.values()), key=lambda r: r["id"]),
        "windows": sorted((w.to_row() for w in hall.windows.values()), key=lambda r: r["number"]),
        "numbers": dict(hall.numbers),
        "service_times": {q: (st.mean_s, st.samples) for q, st in hall.service_times.items()},
        "service_date": hall.service_date,
        "cases": sorted((k.to_row() for k in hall.cases.values()), key=lambda r: r["receipt_no"]),
        "case_numbers": dict(hall.case_numbers),
        "ratings": sorted((r.to_row() for r in hall.ratings.values()), key=lambda r: r["id"]),
        "rectifications": sorted((r.to_row() for r in hall.rectifications.values()), key=lambda r: r["id"]),
        "complaints": sorted((k.to_row() for k in hall.complaints.values()), key=lambda r: r["id"]),
        "last_ids": (hall.last_rating_id, hall.last_rectification_id, hall.last_complaint_id),
    }


def restarted(hall: Hall) -> Hall:
    """A new Hall built from the rows the store keeps, as after a server restart."""
    return Hall(
        hall.config,
        tickets=[Ticket.from_row(t.to_row()) for t in hall.tickets.values()],
        windows=[Window.from_row(w.to_row()) for w in hall.windows.values()],
        numbers=dict(hall.numbers),
        service_times={q: dataclasses.replace(st) for q, st in hall.service_times.items()},
        service_date=hall.service_date,
        cases=[Case.from_row(k.to_row()) for k in hall.cases.values()],
        case_numbers=dict(hall.case_numbers),
        ratings=[Rating.from_row(r.to_row()) for r in hall.ratings.values()],
        rectifications=[Rectification.from_row(r.to_row()) for r in hall.rectifications.values()],
        last_rating_id=hall.last_rating_id,
        last_rectification_id=hall.last_rectification_id,
        complaints=[Complaint.from_row(k.to_row()) for k in hall.complaints.values()],
        last_complaint_id=hall.last_complaint_id,
        calendar=hall.calendar,
        matters=hall.matters,
    )


class Desk:
    """Drives one hall at the clock's current instant."""

    def __init__(self, hall: Hall, clock: Clock) -> None:
        self.hall = hall
        self.clock = clock

    def state(self) -> dict[str, Any]:
        return state_of(self.hall)

    def restart(self) -> Hall:
        """Replace the hall with one rebuilt from its rows (a server restart)."""
        self.hall = restarted(self.hall)
        return self.hall

    def do(self, cmd: Any, actor: c.Actor = c.SYSTEM) -> list[Event]:
        return self.hall.handle(cmd, self.clock(), actor)

    def issue(self, queue: str = "A", **kw: Any) -> Ticket:
        events = self.do(c.IssueTicket(queue=queue, **kw))
        return self.hall.tickets[events[-1].ticket]

    def open(self, *windows: int) -> None:
        for w in windows:
            self.do(c.OpenWindow(window=w))

    def call(self, window: int) -> Ticket:
        """CallNext; the ticket it called."""
        events = self.do(c.CallNext(window=window))
        called = [e for e in events if e.type == "ticket_called"]
        assert len(called) == 1, events
        return self.hall.tickets[called[0].ticket]

    def serve(self, window: int) -> Ticket:
        """Call next, start and finish at a window; the ticket served."""
        t = self.call(window)
        self.do(c.StartService(window=window))
        self.do(c.FinishService(window=window))
        return t

    def refused(self, cmd: Any, code: str, match: str | None = None) -> HallError:
        """The command is refused with ``code`` (and a message matching ``match``) and
        nothing in the hall changed. Start the day first (any command or ``Tick``): the
        first command of a day rolls the day over even when it is then refused."""
        before = state_of(self.hall)
        with pytest.raises(HallError) as info:
            self.do(cmd)
        err = info.value
        assert err.code == code, f"{err.code}: {err.message}"
        if match is not None:
            assert re.search(match, err.message), err.message
        assert state_of(self.hall) == before
        return err


@pytest.fixture(scope="session")
def config() -> HallConfig:
    return load_hall_config(SMALL_TOML)


@pytest.fixture
def make_config(config: HallConfig) -> Callable[..., HallConfig]:
    """The small hall with some rules changed: ``make_config(auto_no_show=False)``."""

    def make(**rules: Any) -> HallConfig:
        return dataclasses.replace(config, rules=dataclasses.replace(config.rules, **rules))

    return make


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def hall(config: HallConfig) -> Hall:
    return Hall(config)


@pytest.fixture
def desk(hall: Hall, clock: Clock) -> Desk:
    return Desk(hall, clock)


@pytest.fixture
def make_desk(clock: Clock) -> Callable[[HallConfig], Desk]:
    """A desk for a hall with another config, on the test's clock."""
    return lambda cfg: Desk(Hall(cfg), clock)


@pytest.fixture(name="state_of")
def state_of_fixture() -> Callable[[Hall], dict[str, Any]]:
    return state_of


@pytest.fixture(name="restarted")
def restarted_fixture() -> Callable[[Hall], Hall]:
    return restarted
