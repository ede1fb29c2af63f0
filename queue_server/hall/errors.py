"""The one error type of the hall core."""

from __future__ import annotations


class HallError(Exception):
    """A command the hall refuses. ``code`` is stable (protocol error code); ``message``
    is for people. Raising it means nothing changed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
