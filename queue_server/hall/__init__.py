"""The hall core: pure and synchronous. Commands and a time value in, events out.

Nothing in this package does I/O, reads a clock or imports asyncio; the server and the
simulator are shells around it (tests/hall/test_purity.py walks the imports).
"""

from .commands import SYSTEM, Actor, Applicant, Channel, Priority
from .config import HallConfig
from .errors import HallError
from .events import Event, EventType
from .hall import Changes, Hall
from .model import Ticket, Window
from .states import TicketState, WindowState

__all__ = [
    "SYSTEM",
    "Actor",
    "Applicant",
    "Changes",
    "Channel",
    "Event",
    "EventType",
    "Hall",
    "HallConfig",
    "HallError",
    "Priority",
    "Ticket",
    "TicketState",
    "Window",
    "WindowState",
]
