"""Checks of single values (strings, numbers, enums, times, opening hours) that record problems.

``FieldChecker`` collects problems as (document path, message) pairs; ``validation`` builds the
checks of each table on top of it.
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from queue_server.hall.config import WEEKDAYS, Interval, WeeklyHours

from .problems import ConfigProblem, describe, quote, render_path
from .schema import CLOCK, INTERVAL, MISSING, ConfigPath
from .source_lines import SourceIndex

_E = TypeVar("_E", bound=StrEnum)


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


@dataclass(frozen=True)
class Hours:
    """A parsed hours table: what parsed, and where the problems were."""

    week: WeeklyHours  # the intervals that parsed, sorted per day
    origin: list[list[int]]  # per weekday: source index of each sorted interval
    bad_days: frozenset[int]  # weekdays with a problem
    ok: bool  # no problem at all in the table


class FieldChecker:
    """Collects problems as (path, message) pairs while checking single values."""

    def __init__(self) -> None:
        self._raw: list[tuple[ConfigPath, str]] = []
        self._labels: dict[ConfigPath, str] = {}  # e.g. ("windows", 3) -> "number 5"

    def problems(self, source_text: str | None) -> list[ConfigProblem]:
        index = SourceIndex(source_text) if source_text is not None else None
        out = [
            ConfigProblem(
                path=render_path(path, self._labels),
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

    def label(self, path: ConfigPath, text: str) -> None:
        """Name the array element at ``path`` in messages, e.g. ``windows[3] (number 5)``."""
        self._labels[path] = text

    @property
    def count(self) -> int:
        return len(self._raw)

    def expect(self, path: ConfigPath, what: str, value: object) -> None:
        self.problem(path, f"expected {what}, got {describe(value)}")

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
                self.problem(path + (key,), f"unknown key {quote(key)} {hint_text}")
            else:
                known = ", ".join(allowed)
                self.problem(path + (key,), f"unknown key {quote(key)}; known keys: {known}")
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
            self.problem(path + (key,), f"unknown {key} {quote(value)}; expected one of: {choices}")
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
                self.problem(path + (key, i), f"{what} {quote(item)} is listed twice")
            else:
                seen[item] = i
        return tuple(value) if self.count == before else None

    def array_of_tables(
        self, data: dict[str, Any], key: str, *, required: str | None
    ) -> list[tuple[int, dict[str, Any]]]:
        """Elements of ``[[key]]``; ``required`` is the message when there are none."""
        value = data.get(key, MISSING)
        if value is MISSING or value == []:
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
        match = CLOCK.fullmatch(text.strip())
        if not match:
            self.problem(path, f'bad time {quote(text)}; write "HH:MM", e.g. "17:30"')
            return None
        hour, minute = int(match[1]), int(match[2])
        if minute >= 60:
            self.problem(path, f"minute {minute} in {quote(text)} must be below 60")
            return None
        if hour > 24 or (hour == 24 and not allow_24):
            limit = 24 if allow_24 else 23
            self.problem(path, f"hour {hour} in {quote(text)} must be at most {limit}")
            return None
        if hour == 24 and minute:
            self.problem(path, f'{quote(text)} is past the end of the day; the latest is "24:00"')
            return None
        return hour * 60 + minute

    def interval(self, value: object, path: ConfigPath) -> Interval | None:
        if not isinstance(value, str):
            self.expect(path, 'a string "HH:MM-HH:MM"', value)
            return None
        match = INTERVAL.fullmatch(value)
        if not match:
            self.problem(path, f'bad interval {quote(value)}; write "HH:MM-HH:MM", e.g. "08:30-12:00"')
            return None
        start = self.clock(f"{match[1]}:{match[2]}", path, allow_24=True)
        end = self.clock(f"{match[3]}:{match[4]}", path, allow_24=True)
        if start is None or end is None:
            return None
        iv = Interval(start_min=start, end_min=end)
        if end <= start:
            self.problem(
                path,
                f"{quote(value)} ends at or before it starts; an interval must end after "
                "its start and cannot cross midnight",
            )
            return None
        return iv

    def hours(self, value: object, path: ConfigPath) -> Hours | None:
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
            for (i1, a), (i2, b) in itertools.pairwise(parsed):
                if b.start_min < a.end_min:
                    self.problem(
                        path + (wd, i2),
                        f"{b} overlaps {a} ({wd}[{i1}]) on the same day",
                    )
            origin[d] = [i for i, _ in parsed]
            days.append(tuple(iv for _, iv in parsed))
            if self.count != day_before:
                bad_days.add(d)
        return Hours(
            week=WeeklyHours(days=tuple(days)),
            origin=origin,
            bad_days=frozenset(bad_days),
            ok=self.count == before,
        )

    def within_hall(self, hours: Hours, hall: Hours, path: ConfigPath, what: str) -> None:
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
