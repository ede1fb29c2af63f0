"""Working-day calendar and case deadlines (pure: no file I/O, no clock, no asyncio).

Working days (domain rules §3)
------------------------------
A working day is Monday–Friday, minus the holidays (放假) and plus the make-up working days
(调休上班日) of the 国务院办公厅 notice for that year. Statutory time limits count working days
(行政许可法 art. 82). Extra opening days of a hall ("5+X") do not change the count.

Data comes per year as ``YearData``: the notice's holidays (weekdays and the weekend days
inside a holiday block) and its make-up working days (always a Saturday or Sunday).
``WorkCalendar.from_package()`` takes every year the ``chinese_calendar`` package covers;
the shell (``queue_server.calendar_data``) lays year files over it to add or correct years.

A date ``d`` is decided in this order:

1. ``d`` in December and the data of year ``d.year + 1`` lists it: that data decides. The
   notice for year Y sometimes arranges a New Year block that starts in December of Y-1
   (e.g. the 2019 notice made 2018-12-29 a make-up working day).
2. The data of ``d.year``: a holiday is off, a make-up day is on, any other day is a working
   day when it is Monday–Friday.
3. A year without data uses the provisional rule: Monday–Friday minus the fixed-date
   statutory holidays 1/1, 5/1–5/2 and 10/1–10/3.

A date is *provisional* when its year has no official data, or when it lies in December and
the next year has no official data (the next notice may still move it). Anything computed
from a provisional date must be recomputed once the year's notice is loaded.

Deadlines (民法典 arts. 200–204)
-------------------------------
``WorkCalendar.deadline(start, n, close_of_business, tz)``:

- ``start`` is converted to the hall's timezone; its local date is the event day D. The
  machine's timezone never matters.
- D is not counted (民法典 art. 201), whatever the time of the event, and whether or not D
  is a working day. An event after close of business on D therefore does NOT add a day:
  the period still starts on the day after D.
- The deadline is the close of business of the N-th working day after D (art. 203: a
  period whose last day is not a working day ends on the next working day; counting only
  working days already lands on one).
- A paused clock (行政许可法 art. 45: 听证、检验、鉴定... not counted) moves the deadline by
  the number of working days paused: they are added to N.
- N = 0 (即办件, due the same day): close of business on D. If D is not a working day, or the
  event is later than close of business on D (延时服务, online submission), the close of
  business of the next working day: a deadline must not fall before its own event.
- ``Deadline.provisional`` is True when any day used in the count lies in a provisional
  year: every day after D up to and including the final day (for N = 0, D itself too).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from types import MappingProxyType

import chinese_calendar

__all__ = [
    "PROVISIONAL_SOURCE",
    "Deadline",
    "WorkCalendar",
    "YearData",
    "fixed_holidays",
    "package_years",
    "year_data_problems",
]

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5

PROVISIONAL_SOURCE = "provisional rule (no official data): Monday–Friday minus 1/1, 5/1–5/2, 10/1–10/3"


def fixed_holidays(year: int) -> frozenset[date]:
    """The fixed-date statutory holidays of a year: 元旦 1/1, 劳动节 5/1–5/2, 国庆节 10/1–10/3.

    These are the days the provisional rule takes off (全国年节及纪念日放假办法 as revised in
    2024, in force from 2025). The lunar holidays are left out: their dates are only known
    from the year's notice.
    """
    return frozenset(
        date(year, month, day) for month, day in ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))
    )


def year_data_problems(year: int, holidays: Iterable[date], workdays: Iterable[date]) -> list[str]:
    """Why these dates cannot be one year's data; an empty list when they can.

    Dates must lie in ``year`` or in December of ``year - 1`` (a New Year block arranged by
    this year's notice), no date may be both off and on, and make-up working days must be a
    Saturday or a Sunday.
    """
    problems: list[str] = []
    holidays, workdays = set(holidays), set(workdays)
    first = date(year - 1, 12, 1)
    last = date(year, 12, 31)
    for kind, days in (("holiday", holidays), ("make-up working day", workdays)):
        for day in sorted(days):
            if type(day) is not date:
                problems.append(f"{kind} {day!r} is not a date")
            elif not first <= day <= last:
                problems.append(
                    f"{kind} {day.isoformat()} is outside {year} "
                    f"(allowed: {first.isoformat()} to {last.isoformat()})"
                )
    for day in sorted(d for d in holidays & workdays if type(d) is date):
        problems.append(f"{day.isoformat()} is both a holiday and a make-up working day")
    for day in sorted(d for d in workdays if type(d) is date):
        if day.weekday() < _SATURDAY:
            problems.append(
                f"make-up working day {day.isoformat()} is a {day.strftime('%A')}; "
                "a make-up working day (调休上班日) must be a Saturday or Sunday"
            )
    return problems


@dataclass(frozen=True, kw_only=True)
class YearData:
    """The working-day data of one year, as in the 国务院办公厅 notice.

    ``holidays``: every day off of the notice, weekend days inside a block included.
    ``workdays``: the make-up working days (调休上班日), Saturdays or Sundays.
    Either set may also hold December dates of the previous year (see the module docstring).
    ``official`` is False for data that is not (yet) the published notice.
    """

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date] = frozenset()
    official: bool = True
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        problems = year_data_problems(self.year, self.holidays, self.workdays)
        if problems:
            raise ValueError(f"invalid calendar data for {self.year}: " + "; ".join(problems))

    @classmethod
    def provisional(cls, year: int) -> YearData:
        """The provisional data of a year without a notice (domain rules §3)."""
        return _provisional_year(year)


@lru_cache(maxsize=64)
def _provisional_year(year: int) -> YearData:
    return YearData(year=year, holidays=fixed_holidays(year), official=False, source=PROVISIONAL_SOURCE)


def package_years() -> dict[int, YearData]:
    """Every year the ``chinese_calendar`` package covers, as official ``YearData``.

    Holidays are the package's days off (its ``holidays`` table, weekend days inside a block
    included); make-up working days are its ``workdays`` table (all weekend dates). Both are
    grouped by the date's own year.
    """
    source = f"chinesecalendar {chinese_calendar.__version__} (国务院办公厅 notices)"
    off: dict[int, set[date]] = {}
    on: dict[int, set[date]] = {}
    for day in chinese_calendar.holidays:
        off.setdefault(day.year, set()).add(day)
    for day in chinese_calendar.workdays:
        on.setdefault(day.year, set()).add(day)
    first, last = min(off), max(off)
    return {
        year: YearData(
            year=year,
            holidays=frozenset(off.get(year, ())),
            workdays=frozenset(on.get(year, ())),
            official=True,
            source=source,
        )
        for year in range(first, last + 1)
    }


@dataclass(frozen=True, kw_only=True)
class Deadline:
    """When a period ends: close of business of its last day, in the hall's timezone."""

    at: datetime  # timezone-aware
    provisional: bool  # some day of the count lies in a year without official data

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("Deadline.at must be timezone-aware")

    @property
    def day(self) -> date:
        """The last day of the period (local date)."""
        return self.at.date()


class WorkCalendar:
    """Working days over years of ``YearData``; immutable (``with_years`` makes a new one)."""

    __slots__ = ("_years",)

    _years: Mapping[int, YearData]

    def __init__(self, years: Mapping[int, YearData] | Iterable[YearData] = ()) -> None:
        if isinstance(years, Mapping):
            for key, data in years.items():
                if key != data.year:
                    raise ValueError(f"year data for {data.year} given under key {key}")
            table = dict(years)
        else:
            table = {data.year: data for data in years}
        object.__setattr__(self, "_years", MappingProxyType(table))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("WorkCalendar is immutable")

    def __repr__(self) -> str:
        official = [y for y, d in sorted(self._years.items()) if d.official]
        span = f"{official[0]}–{official[-1]}" if official else "none"
        return f"<WorkCalendar official years {span}, {len(self._years)} years of data>"

    # ----------------------------------------------------------------- construction

    @classmethod
    def from_package(cls, overlay: Iterable[YearData] = ()) -> WorkCalendar:
        """The ``chinese_calendar`` years, each replaced by the overlay's data for that year."""
        return cls(package_years()).with_years(overlay)

    def with_years(self, overlay: Iterable[YearData]) -> WorkCalendar:
        """A new calendar whose data for each overlay year is the overlay's."""
        table = dict(self._years)
        for data in overlay:
            table[data.year] = data
        return WorkCalendar(table)

    # ----------------------------------------------------------------- per year

    @property
    def years(self) -> tuple[int, ...]:
        """The years that have data (official or not), ascending."""
        return tuple(sorted(self._years))

    def year_data(self, year: int) -> YearData:
        """The year's data, or the provisional data when there is none."""
        data = self._years.get(year)
        return data if data is not None else YearData.provisional(year)

    def is_official(self, year: int) -> bool:
        data = self._years.get(year)
        return data is not None and data.official

    def holidays_in(self, year: int) -> tuple[date, ...]:
        """The days off of ``year`` as decided (the next year's December entries included)."""
        return tuple(d for d in _days_of(year) if self._listed(d) is False)

    def make_up_days_in(self, year: int) -> tuple[date, ...]:
        """The make-up working days (调休上班日) of ``year`` as decided."""
        return tuple(d for d in _days_of(year) if self._listed(d) is True)

    # ----------------------------------------------------------------- per day

    def is_working_day(self, day: date) -> bool:
        listed = self._listed(_as_date(day))
        return day.weekday() < _SATURDAY if listed is None else listed

    def is_provisional(self, day: date) -> bool:
        """True when the day's status may still change with a notice not yet loaded."""
        day = _as_date(day)
        if not self.is_official(day.year):
            return True
        return day.month == 12 and not self.is_official(day.year + 1)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return self.add_working_days(day, 1)

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after ``day``; ``day`` itself never counts. n = 0 gives ``day``."""
        day = _as_date(day)
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        while n:
            day += _ONE_DAY
            if self.is_working_day(day):
                n -= 1
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """The number of working days in (a, b]; negative when b is before a.

        ``working_days_between(deadline_day, today)`` is how many working days a case is over
        (0 or less: not over).
        """
        a, b = _as_date(a), _as_date(b)
        if b < a:
            return -self.working_days_between(b, a)
        return sum(1 for d in _span(a + _ONE_DAY, b) if self.is_working_day(d))

    # ----------------------------------------------------------------- deadlines

    def deadline(
        self,
        start: datetime,
        n: int,
        close_of_business: time,
        tz: tzinfo,
        paused_working_days: int = 0,
    ) -> Deadline:
        """Close of business of the N-th working day after the event day (module docstring).

        ``start`` must be timezone-aware; ``tz`` is the hall's timezone (e.g.
        ``ZoneInfo("Asia/Shanghai")``). An event after close of business does not add a day
        (民法典 art. 201), except for N = 0, where the same-day deadline would precede it.
        """
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("start must be timezone-aware (convert a local time with the hall tz)")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if paused_working_days < 0:
            raise ValueError(f"paused_working_days must be >= 0, got {paused_working_days}")
        close = close_of_business.replace(tzinfo=None)
        local = start.astimezone(tz)
        event_day = local.date()
        count = n + paused_working_days
        if count == 0:
            same_day_close = datetime.combine(event_day, close, tzinfo=tz)
            if self.is_working_day(event_day) and local <= same_day_close:
                final = event_day
            else:
                final = self.next_working_day(event_day)
            first_used = event_day
        else:
            final = self.add_working_days(event_day, count)
            first_used = event_day + _ONE_DAY
        provisional = any(self.is_provisional(d) for d in _span(first_used, final))
        return Deadline(at=datetime.combine(final, close, tzinfo=tz), provisional=provisional)

    # ----------------------------------------------------------------- internals

    def _listed(self, day: date) -> bool | None:
        """True: listed as a make-up working day; False: listed as off; None: not listed."""
        if day.month == 12:
            following = self._years.get(day.year + 1)
            if following is not None:
                if day in following.holidays:
                    return False
                if day in following.workdays:
                    return True
        data = self.year_data(day.year)
        if day in data.holidays:
            return False
        if day in data.workdays:
            return True
        return None


def _as_date(day: date) -> date:
    if isinstance(day, datetime):
        raise TypeError("pass a date, not a datetime (take .date() in the hall's timezone)")
    return day


def _span(first: date, last: date) -> Iterator[date]:
    """Every date from ``first`` to ``last`` inclusive (nothing when last < first)."""
    day = first
    while day <= last:
        yield day
        day += _ONE_DAY


def _days_of(year: int) -> Iterator[date]:
    return _span(date(year, 1, 1), date(year, 12, 31))
