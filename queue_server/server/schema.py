"""Payload schemas: the fields of a request, checked and decoded into typed values.

A core command's schema is derived from its frozen dataclass in ``hall/commands.py``
(``command_fields``): the field's type gives the wire kind and the decoder, its default
makes it optional. Fields the server fills in itself (``scope``, ``staff``, ...) are left
out; a field named differently on the wire (``ticket_token`` → ``status_token``) is renamed.
Every refusal names the field: ``missing_field``, ``invalid_field`` or ``unknown_field``.
"""

from __future__ import annotations

import dataclasses
import enum
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import UnionType
from typing import Any
from zoneinfo import ZoneInfo

from ..hall import commands as c
from .protocol import ProtocolError

Decoder = Callable[[Any, ZoneInfo], Any]

# max_len of strings and lists when neither the command nor the field says otherwise
DEFAULT_MAX_LEN = 200
NAMED_MAX_LEN: dict[str, int] = {
    "ticket": 40,
    "receipt_no": 40,
    "queue": 4,
    "to_queue": 4,
    "matter": 20,
    "ticket_token": 64,
    "priority": 20,
    "channel": 20,
    "appointment_slot": 40,
    "deficiency_promised_date": 10,
    "deficiency_item": 200,
    "note": 500,
    "text": 500,
    "measures": 500,
    "explanation": 500,
    "decision": 20,
    "method": 10,
    "missing_materials": 50,
    "reasons": 10,
}
INT_LIMIT = 100_000  # integers on the wire are positive and below this (windows, days, scores, ids)
FREE_TEXT_LEN = 200  # strings allowed this long or longer are free text: newline and tab allowed
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100  # instants and dates outside these years are refused
# C0 controls and DEL; free text keeps newline and tab
_CONTROL = frozenset(chr(i) for i in (*range(0x20), 0x7F))
_FREE_TEXT_CONTROL = _CONTROL - {"\n", "\t"}


def text_problem(value: str, *, free_text: bool = False) -> str | None:
    """Why ``value`` cannot be stored and echoed: a lone surrogate (not valid Unicode, it
    cannot be encoded in a reply or the database) or a control character; None when fine."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (a lone surrogate)"
    bad = _FREE_TEXT_CONTROL if free_text else _CONTROL
    if not bad.isdisjoint(value):
        return "contains a control character" + ("" if free_text else " (no newline or tab here)")
    return None


def check_text(msg: Mapping[str, Any]) -> None:
    """Every key and string of the request, at any depth, is valid Unicode without control
    characters but newline and tab: what fails here could not even be named in a reply.
    Field-specific rules (no newline outside free text, lengths) follow in ``check``."""
    stack: list[tuple[str, Any]] = [("the request", msg)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if text_problem(value, free_text=True) is not None:
                raise ProtocolError(
                    "invalid_field", f"{where} is not valid text (a lone surrogate or a control character)"
                )
        elif isinstance(value, dict):
            for k, v in value.items():
                if text_problem(k) is not None:
                    raise ProtocolError("invalid_field", "a field name is not valid text")
                stack.append((k, v))
        elif isinstance(value, list):
            stack.extend((where, v) for v in value)


@dataclass(frozen=True)
class Field:
    """One payload field: its wire ``name``, JSON ``kind``, and where it goes (``attr``,
    default: the same name), decoded by ``decode`` (default: the value as it is)."""

    name: str
    kind: type | tuple[type, ...]
    required: bool = True
    max_len: int = DEFAULT_MAX_LEN  # for strings and lists
    attr: str = ""
    decode: Decoder | None = None

    @property
    def target(self) -> str:
        return self.attr or self.name


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", bool: "true or false", list: "a list", dict: "an object"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def check(type_: str, msg: Mapping[str, Any], fields: tuple[Field, ...]) -> None:
    """Shape only: no unknown field, every required one present, JSON kinds and sizes."""
    known = {f.name for f in fields} | {"id", "type"}
    extra = sorted(set(msg) - known)
    if extra:
        raise ProtocolError("unknown_field", f"{type_} does not take {', '.join(extra)}")
    for f in fields:
        if f.name not in msg or msg[f.name] is None:
            if f.required:
                raise ProtocolError("missing_field", f"{type_} needs {f.name}")
            continue
        value = msg[f.name]
        if (isinstance(value, bool) and f.kind is not bool) or not isinstance(value, f.kind):
            raise ProtocolError("invalid_field", f"{f.name} must be {_kind_name(f.kind)}")
        if isinstance(value, (str, list)) and len(value) > f.max_len:
            raise ProtocolError("invalid_field", f"{f.name} is longer than {f.max_len}")
        if isinstance(value, str):
            problem = text_problem(value, free_text=f.max_len >= FREE_TEXT_LEN)
            if problem:
                raise ProtocolError("invalid_field", f"{f.name} {problem}")
        if isinstance(value, int) and f.kind is int and not (0 < value < INT_LIMIT):
            raise ProtocolError("invalid_field", f"{f.name} must be a positive number")


def decode(msg: Mapping[str, Any], fields: tuple[Field, ...], tz: ZoneInfo) -> dict[str, Any]:
    """The present fields (after ``check``), decoded, keyed by their target attribute."""
    out: dict[str, Any] = {}
    for f in fields:
        value = msg.get(f.name)
        if value is None:
            continue
        out[f.target] = f.decode(value, tz) if f.decode is not None else value
    return out


# ---------------------------------------------------------------------- decoders


def enum_of(kind: type[enum.Enum], name: str) -> Decoder:
    def dec(value: Any, tz: ZoneInfo) -> Any:
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in kind)
            raise ProtocolError("invalid_field", f"{name} must be one of {allowed}") from None

    return dec


def instant(name: str) -> Decoder:
    def dec(value: str, tz: ZoneInfo) -> datetime:
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            raise ProtocolError("invalid_field", f"{name} must be an ISO 8601 date-time") from None
        if not EARLIEST_YEAR <= dt.year <= LATEST_YEAR:
            raise ProtocolError("invalid_field", f"{name} must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
        return dt if dt.tzinfo else dt.replace(tzinfo=tz)

    return dec


def day(name: str) -> Decoder:
    def dec(value: str, tz: ZoneInfo) -> date:
        try:
            d = date.fromisoformat(value)
        except ValueError:
            raise ProtocolError("invalid_field", f"{name} must be a date YYYY-MM-DD") from None
        if not EARLIEST_YEAR <= d.year <= LATEST_YEAR:
            raise ProtocolError("invalid_field", f"{name} must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
        return d

    return dec


def strings(name: str, *, max_len: int = 200, what: str = "short strings") -> Decoder:
    def dec(value: list[Any], tz: ZoneInfo) -> tuple[str, ...]:
        if not all(isinstance(v, str) and len(v) <= max_len and text_problem(v) is None for v in value):
            raise ProtocolError("invalid_field", f"{name} must be a list of {what}")
        return tuple(value)

    return dec


def integers(name: str, *, what: str = "numbers") -> Decoder:
    def dec(value: list[Any], tz: ZoneInfo) -> tuple[int, ...]:
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise ProtocolError("invalid_field", f"{name} must be a list of {what}")
        return tuple(value)

    return dec


def applicant(name: str) -> Decoder:
    def dec(value: dict[str, Any], tz: ZoneInfo) -> c.Applicant:
        allowed = {"name", "phone", "id_number"}
        if set(value) - allowed:
            raise ProtocolError("invalid_field", f"{name} takes only name, phone and id_number")
        for k, v in value.items():
            if not isinstance(v, str) or len(v) > 64 or text_problem(v) is not None:
                raise ProtocolError("invalid_field", f"{name}.{k} must be a short string of plain text")
        return c.Applicant(
            name=value.get("name", ""), phone=value.get("phone", ""), id_number=value.get("id_number", "")
        )

    return dec


def encode(cmd: Any, fields: tuple[Field, ...]) -> dict[str, Any]:
    """The wire fields of a typed command (the inverse of ``decode``): fields at their
    default are left out."""
    defaults = {f.name: f.default for f in dataclasses.fields(cmd) if f.default is not dataclasses.MISSING}
    out: dict[str, Any] = {}
    for f in fields:
        value = getattr(cmd, f.target)
        if f.target in defaults and value == defaults[f.target]:
            continue
        out[f.name] = _wire(value)
    return out


def _wire(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, c.Applicant):
        return {k: v for k, v in dataclasses.asdict(value).items() if v}
    if isinstance(value, tuple):
        return list(value)
    return value


# ---------------------------------------------------------------------- derived from a command


def _field_for(name: str, hint: Any, required: bool, max_len: int | None, attr: str) -> Field:
    optional = False
    if isinstance(hint, UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        if len(args) != 1:
            raise TypeError(f"{name}: cannot derive a wire field from {hint}")
        hint = args[0]
    size = max_len if max_len is not None else NAMED_MAX_LEN.get(name, DEFAULT_MAX_LEN)
    req = required and not optional
    if hint is bool:
        return Field(name, bool, req, attr=attr)
    if hint is int:
        return Field(name, int, req, attr=attr)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return Field(name, str, req, size, attr, enum_of(hint, name))
    if hint is str:
        return Field(name, str, req, size, attr)
    if hint is datetime:
        return Field(name, str, req, size, attr, instant(name))
    if hint is date:
        return Field(name, str, req, size, attr, day(name))
    if hint is c.Applicant:
        return Field(name, dict, req, attr=attr, decode=applicant(name))
    if typing.get_origin(hint) is tuple and typing.get_args(hint) == (str, ...):
        return Field(name, list, req, size, attr, strings(name))
    raise TypeError(f"{name}: cannot derive a wire field from {hint}")


def command_fields(
    cls: type,
    *,
    server: tuple[str, ...] = ("scope",),
    wire: Mapping[str, str] | None = None,
    limits: Mapping[str, int] | None = None,
) -> tuple[Field, ...]:
    """The wire fields of the command dataclass ``cls``, in its field order.

    ``server``: attributes the server fills in (never on the wire); ``wire``: attribute →
    wire name where they differ; ``limits``: wire name → max length, overriding the
    defaults of ``NAMED_MAX_LEN``."""
    hints = typing.get_type_hints(cls)
    wire = dict(wire or {})
    limits = dict(limits or {})
    out = []
    for f in dataclasses.fields(cls):
        if f.name in server:
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        name = wire.get(f.name, f.name)
        out.append(_field_for(name, hints[f.name], required, limits.get(name), f.name))
    return tuple(out)
