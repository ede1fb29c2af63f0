"""The ``[[reasons]]`` tables: the hall's responsibility catalogue (差评 reasons and complaint
categories, each with its responsible party), and ``[hall] management``.

Absent, the catalogue is ``hall.config.DEFAULT_REASONS``. Each entry is
``{ text = "服务态度不好", party = "management" }`` (``management`` or ``department``).
"""

from __future__ import annotations

from typing import Any

from ..hall.config import DEFAULT_REASONS, Party, Reason
from .fields import FieldChecker
from .schema import ConfigPath

REASON_KEYS = ("text", "party")


def parse_reasons(checker: FieldChecker, data: dict[str, Any]) -> tuple[Reason, ...]:
    """The catalogue of ``[[reasons]]``, or the default one when the file has none."""
    tables = checker.array_of_tables(data, "reasons", required=None)
    if not tables:
        return DEFAULT_REASONS
    out: list[Reason] = []
    seen: dict[str, int] = {}
    for i, tbl in tables:
        path: ConfigPath = ("reasons", i)
        checker.keys(tbl, path, REASON_KEYS, required=REASON_KEYS)
        text = checker.string(tbl, "text", path, nonempty=True)
        party = checker.enum(tbl, "party", path, Party)
        if text is None or party is None:
            continue
        text = text.strip()
        if len(text) > 100:
            checker.problem(path + ("text",), "a reason is at most 100 characters")
        elif text in seen:
            checker.problem(path + ("text",), f'reason "{text}" is listed twice (also reasons[{seen[text]}])')
        else:
            seen[text] = i
            out.append(Reason(text=text, party=party))
    return tuple(out)
