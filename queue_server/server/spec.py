"""The shape of one request definition (``Request``); the definitions are in ``registry.py``."""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .context import Client, ServerContext, Viewer
from .schema import Field
from .writer import Guard, ReplyBuilder

Values = dict[str, Any]
# (server, session, the request's definition, its decoded fields) -> the ok payload
Handler = Callable[[ServerContext, Client, "Request", Values], Awaitable[dict[str, Any]]]
# a check of the sender before anything runs; raises ProtocolError
Check = Callable[[ServerContext, Client, Viewer, Values], None]


@dataclass(frozen=True, kw_only=True)
class Request:
    """One request type, defined once: its wire ``type``, payload schema (``fields``), the
    ``roles`` that may send it, its ``summary`` (docs/protocol.md has a section per type),
    and how it runs.

    Session requests and reads have their own ``handler``. A command entry names its core
    ``command`` class (the schema is derived from it), the ``checks`` of the sender, a
    ``build`` for fields the server fills in (default: the decoded fields, and ``scope``),
    the writer-side ``guard`` on the state and the ``reply`` builder."""

    type: str
    summary: str
    roles: frozenset[str]
    fields: tuple[Field, ...]
    handler: Handler
    command: builtins.type | None = None
    checks: tuple[Check, ...] = ()
    build: Callable[[Viewer, Values], Any] | None = None
    guard: Guard | None = None
    reply: ReplyBuilder | None = None

    @property
    def kind(self) -> str:
        return "command" if self.command is not None else "request"
