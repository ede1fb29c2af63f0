"""Read a hall's TOML config file into a ``HallConfig``, reporting every problem with its place.

``parse_hall_config`` checks a parsed TOML document (a dict) and collects all problems instead
of stopping at the first one; ``load_hall_config`` reads a file and raises ``ConfigError``;
``check_config_main`` backs ``hallops check-config FILE``. The format is documented in
``docs/config.md``.

tomllib gives no positions, so when the TOML text is at hand a small scanner finds where each
table and key starts (the N-th ``[[windows]]`` header, a key inside it, the M-th element of an
array value) and each problem gets a best-effort line number.
"""

from __future__ import annotations

import argparse
import bisect
import dataclasses
import datetime as dt
import difflib
import json
import math
import re
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO, TypeVar, get_type_hints
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from queue_server import passwords
from queue_server.hall.config import (
    WEEKDAYS,
    HallConfig,
    Interval,
    QueueConfig,
    QueueKind,
    Rules,
    StaffAccount,
    StaffRole,
    WeeklyHours,
    WindowConfig,
    WindowQueue,
)

SCHEMA_VERSION = 1

TOP_KEYS = ("schema_version", "hall", "rules", "queues", "windows", "staff")
HALL_KEYS = (
    "code",
    "name",
    "timezone",
    "close_of_business",
    "notice",
    "allowed_origins",
    "require_display_token",
    "public_url",
    "hours",
)
QUEUE_KEYS = (
    "code",
    "name",
    "kind",
    "daily_cap",
    "hours",
    "department",
    "default_service_s",
    "alert_waiting",
    "alert_wait_min",
    "matters",
)
WINDOW_KEYS = ("number", "name", "kind", "zone", "department", "accessible", "queues")
WINDOW_QUEUE_KEYS = ("queue", "weight")
STAFF_KEYS = ("username", "name", "role", "department", "password_hash")

# Lower bounds for [rules] integers; anything not listed must be >= 0.
_RULE_MINIMUM = {"priority_ratio": 1, "issue_rate_per_min": 1, "recent_calls": 1}

_HALL_CODE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
_QUEUE_CODE = re.compile(r"[A-Z]{1,2}")
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_INTERVAL = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")

_PLAIN_PASSWORD = "plain-text passwords are not allowed; use hallops hash-password"

PathPart = str | int
ConfigPath = tuple[PathPart, ...]


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


# --- public entry points ----------------------------------------------------------------------


def parse_hall_config(
    data: dict[str, Any], *, source_text: str | None = None
) -> tuple[HallConfig | None, list[ConfigProblem]]:
    """Check a parsed TOML document; return the config (None if any problem) and all problems.

    With ``source_text`` (the TOML text ``data`` came from) each problem gets a line number,
    and problems are sorted by line.
    """
    checker = _Checker()
    config = checker.run(data)
    problems = checker.problems(source_text)
    return (None if problems else config), problems


def load_hall_config(path: Path | str) -> HallConfig:
    """Read and check a hall config file; raise ``ConfigError`` listing every problem."""
    config, problems = _load(Path(path))
    if config is None:
        raise ConfigError(problems)
    return config


def check_config_main(path: Path | str, *, stdout: TextIO | None = None) -> int:
    """``hallops check-config FILE``: print every problem and a summary; 0 when valid."""
    out = sys.stdout if stdout is None else stdout
    path = Path(path)
    config, problems = _load(path)
    for problem in problems:
        print(problem, file=out)
    if config is not None:
        print(
            f"{path}: OK — {len(config.windows)} windows, {len(config.queues)} queues, "
            f"{len(config.staff)} staff",
            file=out,
        )
        return 0
    file_level = len(problems) == 1 and not problems[0].path and problems[0].line is None
    if not file_level:  # "x.toml: file not found" needs no summary
        n = len(problems)
        print(f"{path}: {n} problem{'' if n == 1 else 's'}", file=out)
    return 1


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``check-config FILE`` on the main CLI's subparsers."""
    parser = subparsers.add_parser(
        "check-config",
        help="check a hall config file and list every problem",
        description=(
            "Check a hall config file (TOML, see docs/config.md). Prints each problem as "
            "FILE:LINE: PATH: MESSAGE and a summary; exit status 0 when the file is valid."
        ),
    )
    parser.add_argument("file", type=Path, help="hall config file, e.g. data/halls/demo.toml")
    parser.set_defaults(func=lambda args: check_config_main(args.file))
    return parser


def _load(path: Path) -> tuple[HallConfig | None, list[ConfigProblem]]:
    name = str(path)

    def fail(message: str, line: int | None = None) -> tuple[None, list[ConfigProblem]]:
        return None, [ConfigProblem(path="", line=line, message=message, file=name)]

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return fail("file not found")
    except IsADirectoryError:
        return fail("is a directory, not a config file")
    except OSError as exc:
        return fail(f"cannot read the file: {exc.strerror or exc}")
    try:
        text = raw.decode("utf-8-sig")  # tolerate the BOM some Windows editors add
    except UnicodeDecodeError as exc:
        return fail("the file is not valid UTF-8", raw[: exc.start].count(b"\n") + 1)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", message)
        if match:
            message = f"TOML syntax error: {message[: match.start()]} (column {match[2]})"
            return fail(message, int(match[1]))
        return fail(f"TOML syntax error: {message}", text.count("\n") + 1)
    config, problems = parse_hall_config(data, source_text=text)
    return config, [dataclasses.replace(p, file=name) for p in problems]


# --- checking ---------------------------------------------------------------------------------

_MISSING: Any = object()
_E = TypeVar("_E", bound=StrEnum)


def _quote(value: str, limit: int = 40) -> str:
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return json.dumps(value, ensure_ascii=False)


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({_quote(value)})"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (dt.date, dt.time)):
        return f"a date/time ({value.isoformat()})"
    return type(value).__name__


def _field_defaults(cls: type) -> dict[str, Any]:
    return {
        f.name: f.default
        for f in dataclasses.fields(cls)
        if f.default is not dataclasses.MISSING
    }


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for iv in sorted(intervals, key=lambda x: x.start_min):
        if merged and iv.start_min <= merged[-1].end_min:
            last = merged[-1]
            merged[-1] = Interval(start_min=last.start_min, end_min=max(last.end_min, iv.end_min))
        else:
            merged.append(iv)
    return merged


def _uncovered(iv: Interval, merged: Sequence[Interval]) -> list[Interval]:
    """Parts of ``iv`` not covered by the sorted, disjoint ``merged`` intervals."""
    gaps: list[Interval] = []
    cursor = iv.start_min
    for m in merged:
        if m.end_min <= cursor:
            continue
        if m.start_min >= iv.end_min:
            break
        if m.start_min > cursor:
            gaps.append(Interval(start_min=cursor, end_min=m.start_min))
        cursor = max(cursor, m.end_min)
    if cursor < iv.end_min:
        gaps.append(Interval(start_min=cursor, end_min=iv.end_min))
    return gaps


def _render_path(path: ConfigPath, labels: dict[ConfigPath, str]) -> str:
    out = ""
    for k, part in enumerate(path):
        if isinstance(part, int):
            out += f"[{part}]"
            label = labels.get(path[: k + 1])
            if label:
                out += f" ({label})"
        else:
            key = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else _quote(part, 60)
            out += f".{key}" if out else key
    return out


@dataclass(frozen=True)
class _Hours:
    """A parsed hours table: what parsed, and where the problems were."""

    week: WeeklyHours  # the intervals that parsed, sorted per day
    origin: list[list[int]]  # per weekday: source index of each sorted interval
    bad_days: frozenset[int]  # weekdays with a problem
    ok: bool  # no problem at all in the table


class _Checker:
    """Walks a parsed document, collecting problems as (path, message) pairs."""

    def __init__(self) -> None:
        self._raw: list[tuple[ConfigPath, str]] = []
        self._labels: dict[ConfigPath, str] = {}  # e.g. ("windows", 3) -> "number 5"
        self._hall_hours: _Hours | None = None

    def problems(self, source_text: str | None) -> list[ConfigProblem]:
        index = _SourceIndex(source_text) if source_text is not None else None
        out = [
            ConfigProblem(
                path=_render_path(path, self._labels),
                line=index.locate(path) if index else None,
                message=message,
            )
            for path, message in self._raw
        ]
        if index is not None:
            out.sort(key=lambda p: -1 if p.line is None else p.line)
        return out

    # -- primitives --

    def problem(self, path: ConfigPath, message: str) -> None:
        self._raw.append((path, message))

    @property
    def count(self) -> int:
        return len(self._raw)

    def expect(self, path: ConfigPath, what: str, value: object) -> None:
        self.problem(path, f"expected {what}, got {_describe(value)}")

    def table(self, value: object, path: ConfigPath) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.expect(path, "a table", value)
        return None

    def keys(
        self,
        tbl: dict[str, Any],
        path: ConfigPath,
        allowed: Sequence[str],
        required: Sequence[str] = (),
        special: dict[str, str] | None = None,
    ) -> None:
        """Report unknown keys (with a "did you mean") and missing required keys."""
        for key in tbl:
            if key in allowed:
                continue
            if special and key in special:
                self.problem(path + (key,), special[key])
                continue
            hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            if hint:
                hint_text = f'(did you mean "{hint[0]}"?)'
                self.problem(path + (key,), f"unknown key {_quote(key)} {hint_text}")
            else:
                known = ", ".join(allowed)
                self.problem(path + (key,), f"unknown key {_quote(key)}; known keys: {known}")
        for key in required:
            if key not in tbl:
                self.problem(path, f'missing required key "{key}"')

    def string(
        self,
        tbl: dict[str, Any],
        key: str,
        path: ConfigPath,
        *,
        default: str | None = None,
        nonempty: bool = False,
    ) -> str | None:
        """The string at ``key``; ``default`` when absent; None when invalid."""
        if key not in tbl:
            return default
        value = tbl[key]
        if not isinstance(value, str):
            self.expect(path + (key,), "a string", value)
            return None
        if nonempty and not value.strip():
            self.problem(path + (key,), f"{key} must not be empty")
            return None
        return value

    def integer(
        self,
        tbl: dict[str, Any],
        key: str,
        path: ConfigPath,
        *,
        default: int | None = None,
        minimum: int | None = None,
    ) -> int | None:
        if key not in tbl:
            return default
        value = tbl[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.expect(path + (key,), "an integer", value)
            return None
        if minimum is not None and value < minimum:
            self.problem(path + (key,), f"{key} must be at least {minimum}, got {value}")
            return None
        return value

    def number(
        self,
        tbl: dict[str, Any],
        key: str,
        path: ConfigPath,
        *,
        default: float | None = None,
        above: float | None = None,
        at_most: float | None = None,
    ) -> float | None:
        if key not in tbl:
            return default
        value = tbl[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.expect(path + (key,), "a number", value)
            return None
        if not math.isfinite(value):
            self.problem(path + (key,), f"{key} must be a finite number, got {value}")
            return None
        if above is not None and value <= above:
            self.problem(path + (key,), f"{key} must be greater than {above:g}, got {value:g}")
            return None
        if at_most is not None and value > at_most:
            self.problem(path + (key,), f"{key} must be at most {at_most:g}, got {value:g}")
            return None
        return float(value)

    def boolean(
        self, tbl: dict[str, Any], key: str, path: ConfigPath, *, default: bool | None = None
    ) -> bool | None:
        if key not in tbl:
            return default
        value = tbl[key]
        if not isinstance(value, bool):
            self.expect(path + (key,), "true or false", value)
            return None
        return value

    def enum(self, tbl: dict[str, Any], key: str, path: ConfigPath, cls: type[_E]) -> _E | None:
        value = self.string(tbl, key, path)
        if value is None:
            return None
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(f'"{m.value}"' for m in cls)
            self.problem(
                path + (key,), f"unknown {key} {_quote(value)}; expected one of: {choices}"
            )
            return None

    def string_list(
        self, tbl: dict[str, Any], key: str, path: ConfigPath, *, what: str
    ) -> tuple[str, ...] | None:
        """An array of distinct non-empty strings (``what`` names one item in messages)."""
        if key not in tbl:
            return ()
        value = tbl[key]
        if not isinstance(value, list):
            self.expect(path + (key,), "an array of strings", value)
            return None
        before = self.count
        seen: dict[str, int] = {}
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self.expect(path + (key, i), "a string", item)
            elif not item.strip():
                self.problem(path + (key, i), f"empty {what}")
            elif item in seen:
                self.problem(path + (key, i), f"{what} {_quote(item)} is listed twice")
            else:
                seen[item] = i
        return tuple(value) if self.count == before else None

    def array_of_tables(
        self, data: dict[str, Any], key: str, *, required: str | None
    ) -> list[tuple[int, dict[str, Any]]]:
        """Elements of ``[[key]]``; ``required`` is the message when there are none."""
        value = data.get(key, _MISSING)
        if value is _MISSING or value == []:
            if required:
                self.problem((), required)
            return []
        if not isinstance(value, list):
            self.expect((key,), f"an array of tables ([[{key}]])", value)
            return []
        out = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                out.append((i, item))
            else:
                self.expect((key, i), "a table", item)
        return out

    # -- times and hours --

    def clock(self, text: str, path: ConfigPath, *, allow_24: bool) -> int | None:
        """Minutes after midnight for "HH:MM"; problems name ``text`` as written."""
        match = _CLOCK.fullmatch(text.strip())
        if not match:
            self.problem(path, f'bad time {_quote(text)}; write "HH:MM", e.g. "17:30"')
            return None
        hour, minute = int(match[1]), int(match[2])
        if minute >= 60:
            self.problem(path, f"minute {minute} in {_quote(text)} must be below 60")
            return None
        if hour > 24 or (hour == 24 and not allow_24):
            limit = 24 if allow_24 else 23
            self.problem(path, f"hour {hour} in {_quote(text)} must be at most {limit}")
            return None
        if hour == 24 and minute:
            self.problem(path, f'{_quote(text)} is past the end of the day; the latest is "24:00"')
            return None
        return hour * 60 + minute

    def interval(self, value: object, path: ConfigPath) -> Interval | None:
        if not isinstance(value, str):
            self.expect(path, 'a string "HH:MM-HH:MM"', value)
            return None
        match = _INTERVAL.fullmatch(value)
        if not match:
            self.problem(
                path, f'bad interval {_quote(value)}; write "HH:MM-HH:MM", e.g. "08:30-12:00"'
            )
            return None
        start = self.clock(f"{match[1]}:{match[2]}", path, allow_24=True)
        end = self.clock(f"{match[3]}:{match[4]}", path, allow_24=True)
        if start is None or end is None:
            return None
        iv = Interval(start_min=start, end_min=end)
        if end <= start:
            self.problem(
                path,
                f"{_quote(value)} ends at or before it starts; an interval must end after "
                "its start and cannot cross midnight",
            )
            return None
        return iv

    def hours(self, value: object, path: ConfigPath) -> _Hours | None:
        """Parse an hours table; None when it is not a table at all."""
        origin: list[list[int]] = [[] for _ in WEEKDAYS]
        bad_days: set[int] = set()
        tbl = self.table(value, path)
        if tbl is None:
            return None
        before = self.count
        self.keys(tbl, path, WEEKDAYS)
        days: list[tuple[Interval, ...]] = []
        for d, wd in enumerate(WEEKDAYS):
            raw = tbl.get(wd, [])
            day_before = self.count
            if not isinstance(raw, list):
                self.expect(path + (wd,), 'an array of "HH:MM-HH:MM" strings', raw)
                days.append(())
                bad_days.add(d)
                continue
            parsed = [
                (i, iv)
                for i, item in enumerate(raw)
                if (iv := self.interval(item, path + (wd, i))) is not None
            ]
            parsed.sort(key=lambda t: (t[1].start_min, t[1].end_min))
            for (i1, a), (i2, b) in zip(parsed, parsed[1:]):
                if b.start_min < a.end_min:
                    self.problem(
                        path + (wd, i2),
                        f"{b} overlaps {a} ({wd}[{i1}]) on the same day",
                    )
            origin[d] = [i for i, _ in parsed]
            days.append(tuple(iv for _, iv in parsed))
            if self.count != day_before:
                bad_days.add(d)
        return _Hours(
            week=WeeklyHours(days=tuple(days)),
            origin=origin,
            bad_days=frozenset(bad_days),
            ok=self.count == before,
        )

    def within_hall(self, hours: _Hours, hall: _Hours, path: ConfigPath, what: str) -> None:
        """Report intervals of ``hours`` outside the hall's (days with problems are skipped)."""
        for d, wd in enumerate(WEEKDAYS):
            if d in hours.bad_days or d in hall.bad_days:
                continue
            hall_day = hall.week.intervals(d)
            merged = _merge(hall_day)
            for k, iv in enumerate(hours.week.intervals(d)):
                gaps = _uncovered(iv, merged)
                if gaps:
                    hall_text = ", ".join(map(str, hall_day)) or "closed"
                    self.problem(
                        path + (wd, hours.origin[d][k]),
                        f"{what} is open {', '.join(map(str, gaps))} on {wd} when the hall "
                        f"is closed (hall hours on {wd}: {hall_text})",
                    )

    # -- sections --

    def run(self, data: object) -> HallConfig | None:
        if not isinstance(data, dict):
            self.expect((), "a TOML document (a table)", data)
            return None
        self.keys(data, (), TOP_KEYS)
        self.schema_version(data)
        hall = self.hall(data.get("hall", _MISSING))
        rules = self.rules(data.get("rules", _MISSING))
        queues, codes = self.queues(data, self._hall_hours)
        windows, served, any_window = self.windows(data, codes)
        staff = self.staff(data)
        if any_window:
            for code, i in codes.items():
                if code not in served:
                    self.problem(("queues", i), f'no window serves queue "{code}"')
        if self._raw or hall is None:
            return None
        return HallConfig(
            **hall,
            queues=tuple(queues),
            windows=tuple(windows),
            staff=tuple(staff),
            rules=rules,
        )

    def schema_version(self, data: dict[str, Any]) -> None:
        if "schema_version" not in data:
            self.problem((), f"missing schema_version; put schema_version = {SCHEMA_VERSION} "
                         "at the top of the file")
            return
        version = self.integer(data, "schema_version", ())
        if version is not None and version != SCHEMA_VERSION:
            self.problem(
                ("schema_version",),
                f"unsupported schema_version {version}; this HallOps reads version "
                f"{SCHEMA_VERSION}",
            )

    def hall(self, value: object) -> dict[str, Any] | None:
        path: ConfigPath = ("hall",)
        if value is _MISSING:
            self.problem((), "missing [hall] table")
            return None
        tbl = self.table(value, path)
        if tbl is None:
            return None
        before = self.count
        defaults = _field_defaults(HallConfig)
        self.keys(tbl, path, HALL_KEYS, required=("code", "name", "hours"))
        out: dict[str, Any] = {}

        code = self.string(tbl, "code", path)
        if code is not None and not _HALL_CODE.fullmatch(code):
            self.problem(
                path + ("code",),
                f"hall code {_quote(code)} must be lowercase letters, digits and '-' "
                "(at most 40), e.g. \"demo-county\"",
            )
        out["code"] = code
        out["name"] = self.string(tbl, "name", path, nonempty=True)

        tz = self.string(tbl, "timezone", path, default=defaults["timezone"], nonempty=True)
        if tz is not None:
            try:
                ZoneInfo(tz)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                self.problem(
                    path + ("timezone",),
                    f"unknown timezone {_quote(tz)}; use an IANA name such as \"Asia/Shanghai\"",
                )
        out["timezone"] = tz
        out["close_of_business"] = self.close_of_business(tbl, path, defaults["close_of_business"])
        out["notice"] = self.string(tbl, "notice", path, default=defaults["notice"])
        out["allowed_origins"] = self.origins(tbl, path)
        out["require_display_token"] = self.boolean(
            tbl, "require_display_token", path, default=defaults["require_display_token"]
        )
        public_url = self.string(tbl, "public_url", path, default="")
        if public_url:
            problem = _origin_problem(public_url)
            if problem:
                self.problem(path + ("public_url",), problem.replace("origin", "public_url", 1))
                public_url = None
        out["public_url"] = public_url
        parsed = self.hours(tbl["hours"], path + ("hours",)) if "hours" in tbl else None
        self._hall_hours = parsed
        if parsed is not None and parsed.ok and not any(parsed.week.days):
            self.problem(
                path + ("hours",),
                "the hall is closed every day; give at least one opening interval",
            )
        hours = parsed.week if parsed is not None and parsed.ok else None
        out["hours"] = hours
        return out if self.count == before else {"hours": hours}

    def close_of_business(
        self, tbl: dict[str, Any], path: ConfigPath, default: dt.time
    ) -> dt.time | None:
        key = "close_of_business"
        if key not in tbl:
            return default
        value = tbl[key]
        if isinstance(value, dt.time):  # an unquoted TOML local time, 17:30:00
            if value.second or value.microsecond or value.tzinfo:
                self.problem(path + (key,), f'write {key} as "HH:MM", e.g. "17:30"')
                return None
            return value
        if not isinstance(value, str):
            self.expect(path + (key,), 'a time "HH:MM"', value)
            return None
        minutes = self.clock(value, path + (key,), allow_24=False)
        return None if minutes is None else dt.time(minutes // 60, minutes % 60)

    def origins(self, tbl: dict[str, Any], path: ConfigPath) -> tuple[str, ...] | None:
        origins = self.string_list(tbl, "allowed_origins", path, what="origin")
        if origins is None:
            return None
        before = self.count
        for i, origin in enumerate(origins):
            problem = _origin_problem(origin)
            if problem:
                self.problem(path + ("allowed_origins", i), problem)
        return origins if self.count == before else None

    def rules(self, value: object) -> Rules:
        path: ConfigPath = ("rules",)
        if value is _MISSING:
            return Rules()
        tbl = self.table(value, path)
        if tbl is None:
            return Rules()
        hints = get_type_hints(Rules)
        names = tuple(f.name for f in dataclasses.fields(Rules))
        self.keys(tbl, path, names)
        kwargs: dict[str, Any] = {}
        for name in names:
            if name not in tbl:
                continue
            kind = hints[name]
            parsed: Any
            if kind is bool:
                parsed = self.boolean(tbl, name, path)
            elif kind is int:
                parsed = self.integer(tbl, name, path, minimum=_RULE_MINIMUM.get(name, 0))
            elif name == "ewma_alpha":
                parsed = self.number(tbl, name, path, above=0.0, at_most=1.0)
            else:
                parsed = self.number(tbl, name, path, above=0.0)
            if parsed is not None:
                kwargs[name] = parsed
        return Rules(**kwargs)

    def queues(
        self, data: dict[str, Any], hall_hours: _Hours | None
    ) -> tuple[list[QueueConfig], dict[str, int]]:
        defaults = _field_defaults(QueueConfig)
        queues: list[QueueConfig] = []
        codes: dict[str, int] = {}  # valid code -> index of its first [[queues]]
        tables = self.array_of_tables(
            data, "queues", required="the hall has no queues; add at least one [[queues]] table"
        )
        for i, tbl in tables:
            path: ConfigPath = ("queues", i)
            before = self.count
            self.keys(tbl, path, QUEUE_KEYS, required=("code", "name", "kind", "daily_cap"))
            code = self.string(tbl, "code", path)
            what = "this queue"
            if code is not None:
                if not _QUEUE_CODE.fullmatch(code):
                    self.problem(
                        path + ("code",),
                        f"queue code {_quote(code)} must be 1–2 uppercase letters A–Z, "
                        'e.g. "B"',
                    )
                else:
                    self._labels[path] = f'code "{code}"'
                    what = f'queue "{code}"'
                    if code in codes:
                        self.problem(
                            path + ("code",),
                            f'duplicate queue code "{code}" (also queues[{codes[code]}])',
                        )
                    else:
                        codes[code] = i
            name = self.string(tbl, "name", path, nonempty=True)
            kind = self.enum(tbl, "kind", path, QueueKind)
            daily_cap = self.integer(tbl, "daily_cap", path, minimum=1)
            if daily_cap is not None and daily_cap > 999:
                self.problem(path + ("daily_cap",),
                             f"daily_cap must be at most 999 (ticket numbers have 3 digits), got {daily_cap}")
            hours = hall_hours.week if hall_hours is not None and hall_hours.ok else None
            if "hours" in tbl:
                own = self.hours(tbl["hours"], path + ("hours",))
                hours = own.week if own is not None and own.ok else None
                if own is not None and own.ok and not any(own.week.days):
                    self.problem(path + ("hours",), f"{what} is never open")
                elif own is not None and hall_hours is not None:
                    self.within_hall(own, hall_hours, path + ("hours",), what)
            department = self.string(tbl, "department", path, default=defaults["department"])
            service = self.number(
                tbl, "default_service_s", path, default=defaults["default_service_s"], above=0
            )
            alert_waiting = self.integer(
                tbl, "alert_waiting", path, default=defaults["alert_waiting"], minimum=0
            )
            alert_wait_min = self.integer(
                tbl, "alert_wait_min", path, default=defaults["alert_wait_min"], minimum=0
            )
            matters = self.string_list(tbl, "matters", path, what="matter code")
            if self.count == before and hours is not None:
                queues.append(
                    QueueConfig(
                        code=code,  # type: ignore[arg-type]  # checked: no new problem
                        name=name,  # type: ignore[arg-type]
                        kind=kind,  # type: ignore[arg-type]
                        daily_cap=daily_cap,  # type: ignore[arg-type]
                        hours=hours,
                        department=department,  # type: ignore[arg-type]
                        default_service_s=service,  # type: ignore[arg-type]
                        alert_waiting=alert_waiting,  # type: ignore[arg-type]
                        alert_wait_min=alert_wait_min,  # type: ignore[arg-type]
                        matters=matters,  # type: ignore[arg-type]
                    )
                )
        return queues, codes

    def windows(
        self, data: dict[str, Any], codes: dict[str, int]
    ) -> tuple[list[WindowConfig], set[str], bool]:
        defaults = _field_defaults(WindowConfig)
        windows: list[WindowConfig] = []
        served: set[str] = set()
        numbers: dict[int, int] = {}
        tables = self.array_of_tables(
            data, "windows", required="the hall has no windows; add at least one [[windows]] table"
        )
        for i, tbl in tables:
            path: ConfigPath = ("windows", i)
            before = self.count
            self.keys(tbl, path, WINDOW_KEYS, required=("number", "name", "kind", "zone", "queues"))
            number = self.integer(tbl, "number", path, minimum=1)
            who = "this window"
            if number is not None:
                self._labels[path] = f"number {number}"
                who = f"window {number}"
                if number in numbers:
                    self.problem(
                        path + ("number",),
                        f"duplicate window number {number} (also windows[{numbers[number]}])",
                    )
                else:
                    numbers[number] = i
            name = self.string(tbl, "name", path, nonempty=True)
            kind = self.enum(tbl, "kind", path, QueueKind)
            zone = self.string(tbl, "zone", path)
            department = self.string(tbl, "department", path, default=defaults["department"])
            accessible = self.boolean(tbl, "accessible", path, default=defaults["accessible"])
            entries = self.window_queues(tbl, path, who, codes, served)
            if self.count == before and entries is not None:
                windows.append(
                    WindowConfig(
                        number=number,  # type: ignore[arg-type]  # checked: no new problem
                        name=name,  # type: ignore[arg-type]
                        kind=kind,  # type: ignore[arg-type]
                        zone=zone,  # type: ignore[arg-type]
                        queues=entries,
                        department=department,  # type: ignore[arg-type]
                        accessible=accessible,  # type: ignore[arg-type]
                    )
                )
        return windows, served, bool(tables)

    def window_queues(
        self,
        tbl: dict[str, Any],
        path: ConfigPath,
        who: str,
        codes: dict[str, int],
        served: set[str],
    ) -> tuple[WindowQueue, ...] | None:
        """The window's queue entries (None on a problem); adds known codes to ``served``."""
        if "queues" not in tbl:
            return None
        value = tbl["queues"]
        path = path + ("queues",)
        if not isinstance(value, list):
            self.expect(path, 'an array of queue codes or { queue = "A", weight = 1.0 } tables',
                        value)
            return None
        if not value:
            self.problem(path, f"{who} serves no queue")
            return None
        before = self.count
        entries: list[WindowQueue] = []
        seen: dict[str, int] = {}
        for j, item in enumerate(value):
            item_path = path + (j,)
            code_path = item_path
            weight: float | None = 1.0
            if isinstance(item, str):
                code: str | None = item
            elif isinstance(item, dict):
                self.keys(item, item_path, WINDOW_QUEUE_KEYS, required=("queue",))
                code = self.string(item, "queue", item_path)
                code_path = item_path + ("queue",)
                weight = self.number(item, "weight", item_path, default=1.0, above=0)
            else:
                self.expect(
                    item_path, 'a queue code or a table { queue = "A", weight = 1.0 }', item
                )
                continue
            if code is None:
                continue
            if code in seen:
                self.problem(
                    code_path, f'{who} lists queue "{code}" twice (also queues[{seen[code]}])'
                )
            elif code not in codes:
                self.problem(code_path, f"{who} serves unknown queue {_quote(code)}")
            else:
                seen[code] = j
                served.add(code)
            if weight is not None:
                entries.append(WindowQueue(queue=code, weight=weight))
        return tuple(entries) if self.count == before else None

    def staff(self, data: dict[str, Any]) -> list[StaffAccount]:
        accounts: list[StaffAccount] = []
        usernames: dict[str, int] = {}
        for i, tbl in self.array_of_tables(data, "staff", required=None):
            path: ConfigPath = ("staff", i)
            before = self.count
            required = ["username", "name", "role"]
            if "password" not in tbl:
                required.append("password_hash")
            self.keys(tbl, path, STAFF_KEYS, required=required,
                      special={"password": _PLAIN_PASSWORD})
            username = self.string(tbl, "username", path)
            if username is not None:
                if not _USERNAME.fullmatch(username):
                    self.problem(
                        path + ("username",),
                        f"username {_quote(username)} must be ASCII letters, digits, '.', '_' or "
                        "'-' (at most 32, starting with a letter or digit)",
                    )
                else:
                    self._labels[path] = f'username "{username}"'
                    if username in usernames:
                        self.problem(
                            path + ("username",),
                            f'duplicate username "{username}" (also staff[{usernames[username]}])',
                        )
                    else:
                        usernames[username] = i
            name = self.string(tbl, "name", path, nonempty=True)
            role = self.enum(tbl, "role", path, StaffRole)
            department = self.string(tbl, "department", path, default="")
            password_hash = self.string(tbl, "password_hash", path)
            if password_hash is not None and not passwords.is_valid_hash(password_hash):
                self.problem(
                    path + ("password_hash",),
                    "not a valid scrypt hash (expected scrypt$16384$8$1$<salt>$<hash>); "
                    "make one with hallops hash-password",
                )
            if self.count == before:
                accounts.append(
                    StaffAccount(
                        username=username,  # type: ignore[arg-type]  # checked
                        name=name,  # type: ignore[arg-type]
                        role=role,  # type: ignore[arg-type]
                        password_hash=password_hash,  # type: ignore[arg-type]
                        department=department,  # type: ignore[arg-type]
                    )
                )
        return accounts


def _origin_problem(origin: str) -> str | None:
    """Why ``origin`` is not a browser origin ``scheme://host[:port]``, or None."""
    shape = "an origin is scheme://host[:port] with no path, e.g. \"http://127.0.0.1:8765\""
    if origin != origin.strip() or origin == "*":
        return f"bad origin {_quote(origin)}: {shape}"
    try:
        parts = urlsplit(origin)
        port = parts.port  # raises ValueError when out of range or not a number
    except ValueError:
        return f"bad origin {_quote(origin)}: {shape}"
    del port
    if parts.scheme not in ("http", "https"):
        return f"bad origin {_quote(origin)}: the scheme must be http or https"
    if not parts.hostname or parts.username is not None or parts.password is not None:
        return f"bad origin {_quote(origin)}: {shape}"
    if parts.path or parts.query or parts.fragment or origin.endswith(("?", "#")):
        return f"bad origin {_quote(origin)}: no path or trailing slash; {shape}"
    if origin != origin.lower():
        return f"bad origin {_quote(origin)}: write it in lower case, as browsers send it"
    return None


# --- finding lines in the TOML text ------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class _SourceIndex:
    """Where tables, keys and array elements start in a (valid) TOML text.

    A small scanner, enough to map a document path like ("windows", 3, "queues", 1) to a line:
    headers ``[x]``/``[[x]]`` (counting array-of-tables elements), ``key = value`` lines
    (dotted keys too), and elements of array and inline-table values. Best effort: any
    surprise ends the scan and later paths fall back to the nearest known ancestor.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        # path -> ("header" | "key" | "value", offset)
        self._entries: dict[ConfigPath, tuple[str, int]] = {}
        try:
            self._scan()
        except (ValueError, IndexError, tomllib.TOMLDecodeError):
            pass

    def locate(self, path: ConfigPath) -> int | None:
        try:
            for k in range(len(path), 0, -1):
                entry = self._entries.get(path[:k])
                if entry is None:
                    continue
                kind, offset = entry
                if kind == "value" and k < len(path):
                    offset = self._descend(offset, path[k:])
                return self._line(offset)
        except (ValueError, IndexError, tomllib.TOMLDecodeError):
            return None
        return None

    def _line(self, offset: int) -> int:
        return bisect.bisect_right(self._line_starts, offset)

    # -- document level --

    def _scan(self) -> None:
        t = self.text
        table: ConfigPath = ()
        counts: dict[ConfigPath, int] = {}  # array-of-tables path -> elements so far

        def resolve(parts: Sequence[str]) -> list[PathPart]:
            out: list[PathPart] = []
            for p in parts:
                out.append(p)
                if tuple(out) in counts:
                    out.append(counts[tuple(out)] - 1)
            return out

        i = 0
        while True:
            i = self._skip_ws(i)
            if i >= len(t):
                return
            if t[i] == "[":
                start = i
                is_array = t.startswith("[[", i)
                parts, i = self._key(i + (2 if is_array else 1))
                end = t.find("\n", i)
                i = len(t) if end < 0 else end
                if is_array:
                    key = tuple(resolve(parts[:-1]) + [parts[-1]])
                    counts[key] = counts.get(key, 0) + 1
                    self._entries.setdefault(key, ("header", start))
                    table = key + (counts[key] - 1,)
                else:
                    table = tuple(resolve(parts))
                self._entries.setdefault(table, ("header", start))
            else:
                start = i
                parts, i = self._key(i)
                i = self._skip_spaces(i)
                if t[i] != "=":
                    raise ValueError("expected '='")
                value = self._skip_spaces(i + 1)
                for k in range(1, len(parts)):
                    self._entries.setdefault(table + tuple(parts[:k]), ("key", start))
                self._entries.setdefault(table + tuple(parts), ("value", value))
                i = self._skip_value(value)

    # -- values --

    def _descend(self, offset: int, rest: ConfigPath) -> int:
        """Offset of the element ``rest`` inside the value starting at ``offset`` (or nearest)."""
        t = self.text
        for part in rest:
            offset = self._skip_ws(offset)
            if isinstance(part, int) and t.startswith("[", offset):
                elements, _ = self._array(offset)
                if part >= len(elements):
                    return offset
                offset = elements[part]
            elif isinstance(part, str) and t.startswith("{", offset):
                pairs, _ = self._inline_table(offset)
                found = next((p for p in pairs if p[0][0] == part), None)
                if found is None:
                    return offset
                keys, key_offset, value_offset = found
                if len(keys) > 1:
                    return key_offset
                offset = value_offset
            else:
                return offset
        return offset

    def _skip_spaces(self, i: int) -> int:
        t = self.text
        while i < len(t) and t[i] in " \t":
            i += 1
        return i

    def _skip_ws(self, i: int) -> int:
        """Skip spaces, newlines and comments."""
        t = self.text
        while i < len(t):
            if t[i] in " \t\r\n":
                i += 1
            elif t[i] == "#":
                end = t.find("\n", i)
                i = len(t) if end < 0 else end
            else:
                break
        return i

    def _key(self, i: int) -> tuple[list[str], int]:
        t = self.text
        parts: list[str] = []
        while True:
            i = self._skip_spaces(i)
            if t[i] in "\"'":
                end = self._skip_value(i)
                parts.append(tomllib.loads(f"k = {t[i:end]}")["k"])
                i = end
            else:
                match = _BARE_KEY.match(t, i)
                if not match:
                    raise ValueError("expected a key")
                parts.append(match.group())
                i = match.end()
            i = self._skip_spaces(i)
            if i < len(t) and t[i] == ".":
                i += 1
                continue
            return parts, i

    def _skip_value(self, i: int) -> int:
        t = self.text
        for quote in ('"""', "'''"):
            if t.startswith(quote, i):
                j = i + 3
                while True:
                    if quote == '"""' and t[j] == "\\":
                        j += 2
                    elif t.startswith(quote, j):
                        j += 3
                        extra = 0
                        while extra < 2 and j < len(t) and t[j] == quote[0]:
                            j, extra = j + 1, extra + 1
                        return j
                    else:
                        j += 1
        if t[i] == '"':
            j = i + 1
            while t[j] != '"':
                j += 2 if t[j] == "\\" else 1
            return j + 1
        if t[i] == "'":
            return t.index("'", i + 1) + 1
        if t[i] == "[":
            return self._array(i)[1]
        if t[i] == "{":
            return self._inline_table(i)[1]
        j = i
        while j < len(t) and t[j] not in ",]}\n#":
            j += 1
        return j

    def _array(self, i: int) -> tuple[list[int], int]:
        """Start offsets of the elements of the array at ``i``, and the offset after it."""
        t = self.text
        elements: list[int] = []
        j = i + 1
        while True:
            j = self._skip_ws(j)
            if t[j] == "]":
                return elements, j + 1
            elements.append(j)
            j = self._skip_ws(self._skip_value(j))
            if t[j] == ",":
                j += 1

    def _inline_table(self, i: int) -> tuple[list[tuple[list[str], int, int]], int]:
        """(key parts, key offset, value offset) of each pair, and the offset after it."""
        t = self.text
        pairs: list[tuple[list[str], int, int]] = []
        j = i + 1
        while True:
            j = self._skip_ws(j)
            if t[j] == "}":
                return pairs, j + 1
            key_offset = j
            parts, j = self._key(j)
            j = self._skip_spaces(j)
            if t[j] != "=":
                raise ValueError("expected '='")
            value = self._skip_spaces(j + 1)
            pairs.append((parts, key_offset, value))
            j = self._skip_ws(self._skip_value(value))
            if t[j] == ",":
                j += 1
