"""The one error type of the hall core."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .events import Event


class HallError(Exception):
    """A command the hall refuses. ``code`` is stable (protocol error code); ``message``
    is for people. Raising it means nothing changed, except the events it carries
    (``events``: a day roll-over that ran before the command was refused)."""

    def __init__(self, code: str, message: str, *, events: tuple[Event, ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.events = events
