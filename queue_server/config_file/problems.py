"""Problems found in a config file, and how values and places are written in messages."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .schema import ConfigPath


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a config file.

    ``path`` is where in the document (``windows[3] (number 5).queues[1].queue``; array
    indices count from 0), ``line`` a best-effort 1-based line number in the TOML text,
    ``file`` the file name, set by the loader.
    """

    path: str
    line: int | None
    message: str
    file: str | None = None

    def __str__(self) -> str:
        where = ":".join(x for x in (self.file, None if self.line is None else str(self.line)) if x)
        return ": ".join(x for x in (where, self.path, self.message) if x)


class ConfigError(Exception):
    """A config file that cannot be used; ``problems`` lists every problem found."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def quote(value: str, limit: int = 40) -> str:
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return json.dumps(value, ensure_ascii=False)


def describe(value: object) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({quote(value)})"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (dt.date, dt.time)):
        return f"a date/time ({value.isoformat()})"
    return type(value).__name__


def render_path(path: ConfigPath, labels: dict[ConfigPath, str]) -> str:
    out = ""
    for k, part in enumerate(path):
        if isinstance(part, int):
            out += f"[{part}]"
            label = labels.get(path[: k + 1])
            if label:
                out += f" ({label})"
        else:
            key = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else quote(part, 60)
            out += f".{key}" if out else key
    return out
