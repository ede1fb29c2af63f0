"""What the hall model's steps exchange, shared by the model and its plug-ins.

A step of ``engine.HallModel`` may produce a ``Request`` (a hall command and who sends it);
the driver (in-process or over the websocket) answers with an ``Outcome``. A ``Desk`` is one
staff member at one physical window. ``ModelView`` is what a plug-in such as
``cases.CaseBehaviour`` may use of the model, so the plug-in does not import the engine.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from ..hall import commands as c
from ..hall.calendar import WorkCalendar
from ..hall.config import HallConfig
from .arrivals import Citizen
from .behaviour.profile import Profile
from .plan import Session


@dataclass(frozen=True)
class Outcome:
    ok: bool
    code: str = ""
    ticket: str | None = None  # the ticket the command was about (issued, called ...)
    issued_ts: float | None = None  # when that ticket was issued, if the reply says
    data: dict[str, Any] = field(default_factory=dict)  # the data of its events (receipt_no ...)


@dataclass
class Request:
    cmd: Any  # a command of queue_server.hall.commands
    actor: c.Actor
    desk: int | None = None  # the desk (physical window) whose terminal sends it
    then: Callable[[Outcome, float], None] | None = None


@dataclass(eq=False)
class Desk:
    number: int  # the physical window
    username: str
    name: str
    speed: float  # service time factor of this staff member
    rng: random.Random = field(default_factory=random.Random)
    sessions: list[Session] = field(default_factory=list)
    midnight: float = 0.0
    idx: int = -1
    logical: int | None = None  # the window the staff member is logged in at
    wstate: str = "closed"  # that window's state as the desk believes it
    phase: str = "off"  # off | ready (a call is due) | idle (nobody waits) | busy | break
    cit: Citizen | None = None
    recalls: int = 0

    @property
    def actor(self) -> c.Actor:
        return c.Actor(kind="staff", id=self.username, name=self.name)

    @property
    def session(self) -> Session:
        return self.sessions[self.idx]

    def ts(self, minute: int) -> float:
        return self.midnight + minute * 60.0


class ModelView(Protocol):
    """The parts of ``engine.HallModel`` that a plug-in reads or uses."""

    config: HallConfig
    profile: Profile
    seed: int
    calendar: WorkCalendar
    tz: ZoneInfo
    unexpected: Counter[str]

    def push(self, ts: float, fn: Callable[..., Request | None], *args: Any) -> None: ...
