"""``hallops calendar``: show a year, compute a deadline, import a year file.

The main CLI registers this with ``cli_calendar.add_parser(subparsers)`` and runs
``args.func(args)``, which returns the exit code.

    hallops calendar show 2026
    hallops calendar deadline 2026-09-30 1            # -> 2026-10-08T17:30:00+08:00
    hallops calendar deadline 2026-12-30T10:00 5 --tz Asia/Shanghai --close 17:30
    hallops calendar import notice-2027.toml
    hallops calendar --calendar-dir /tmp/cal show 2027
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from queue_server import calendar_data
from queue_server.hall.calendar import WorkCalendar

__all__ = ["add_parser"]

_WEEKDAYS = ("Mon 周一", "Tue 周二", "Wed 周三", "Thu 周四", "Fri 周五", "Sat 周六", "Sun 周日")


def add_parser(subparsers: Any) -> None:
    """Register ``calendar`` and its subcommands on an argparse subparsers object."""
    parser = subparsers.add_parser(
        "calendar",
        help="working-day calendar: show a year, compute a deadline, import a year file",
        description="Working days (工作日) per the 国务院办公厅 holiday notices.",
    )
    _add_dir_option(parser, default=None)
    parser.set_defaults(func=lambda args: _missing_command(parser))
    sub = parser.add_subparsers(dest="calendar_command", metavar="COMMAND")

    show = sub.add_parser("show", help="holidays and make-up working days of a year")
    show.add_argument("year", type=_year, help="e.g. 2026")
    _add_dir_option(show)
    show.set_defaults(func=_show)

    deadline = sub.add_parser(
        "deadline",
        help="close of business of the N-th working day after START",
        description=(
            "Prints one line: the deadline in ISO 8601 with its UTC offset, followed by "
            "' provisional' when a day of the count has no official data. The day of START "
            "is never counted (民法典 art. 201); N = 0 is a same-day deadline (即办件)."
        ),
    )
    deadline.add_argument("start", type=_start, help="ISO date or datetime; naive = hall tz")
    deadline.add_argument("n", type=_count, help="working days (0 = same day, 即办件)")
    deadline.add_argument("--tz", type=_zone, default="Asia/Shanghai", help="hall timezone")
    deadline.add_argument("--close", type=_clock, default="17:30", help="close of business HH:MM")
    deadline.add_argument(
        "--paused", type=_count, default=0, metavar="DAYS", help="working days the clock was paused"
    )
    _add_dir_option(deadline)
    deadline.set_defaults(func=_deadline)

    imp = sub.add_parser("import", help="validate a year file and load it into the data dir")
    imp.add_argument("file", type=Path, help="a <year>.toml file (see data/calendar/README.md)")
    _add_dir_option(imp)
    imp.set_defaults(func=_import)


def _add_dir_option(parser: argparse.ArgumentParser, default: Any = argparse.SUPPRESS) -> None:
    # Accepted before or after the subcommand; SUPPRESS keeps a subcommand from
    # overwriting a value given before it.
    parser.add_argument(
        "--calendar-dir",
        type=Path,
        default=default,
        metavar="DIR",
        help=f"year files directory (default: ${calendar_data.ENV_VAR} or data/calendar)",
    )


# --------------------------------------------------------------------- commands


def _show(args: argparse.Namespace) -> int:
    calendar = _load(args)
    if calendar is None:
        return 1
    year: int = args.year
    data = calendar.year_data(year)
    status = "official (正式)" if data.official else "provisional (暂定)"
    print(f"{year}年 working-day calendar: {status}")
    print(f"source: {data.source}")
    if not calendar.is_official(year + 1):
        print(f"note: December dates stay provisional until {year + 1} is loaded")
    holidays = calendar.holidays_in(year)
    print(f"放假 holidays ({len(holidays)} days):")
    for first, last in _runs(holidays):
        days = (last - first).days + 1
        if days == 1:
            print(f"  {first.isoformat()}               {_weekday(first)}")
        else:
            print(
                f"  {first.isoformat()} – {last.isoformat()}  {_weekday(first)} – {_weekday(last)}"
                f"  ({days} days)"
            )
    make_up = calendar.make_up_days_in(year)
    print(f"调休上班 make-up working days ({len(make_up)}):")
    for day in make_up:
        print(f"  {day.isoformat()}  {_weekday(day)}")
    if not make_up:
        print("  (none)")
    return 0


def _deadline(args: argparse.Namespace) -> int:
    calendar = _load(args)
    if calendar is None:
        return 1
    start: datetime = args.start
    if start.tzinfo is None:
        start = start.replace(tzinfo=args.tz)
    try:
        result = calendar.deadline(start, args.n, args.close, args.tz, args.paused)
    except (ValueError, OverflowError) as exc:
        print(f"hallops calendar deadline: error: {exc}", file=sys.stderr)
        return 1
    print(result.at.isoformat() + (" provisional" if result.provisional else ""))
    return 0


def _import(args: argparse.Namespace) -> int:
    target_dir = calendar_data.calendar_dir(args.calendar_dir)
    try:
        year = calendar_data.import_year_file(args.file, target_dir)
        data = calendar_data.read_year_file(target_dir / f"{year}.toml")
    except (ValueError, OSError) as exc:
        print(f"hallops calendar import: error: {exc}", file=sys.stderr)
        return 1
    status = "official" if data.official else "provisional"
    print(
        f"loaded {year} ({status}) into {target_dir / f'{year}.toml'}: "
        f"{len(data.holidays)} holidays, {len(data.workdays)} make-up working days; "
        f"source: {data.source}"
    )
    return 0


def _missing_command(parser: argparse.ArgumentParser) -> int:
    parser.print_usage(sys.stderr)
    print("hallops calendar: error: choose a command: show, deadline, import", file=sys.stderr)
    return 2


def _load(args: argparse.Namespace) -> WorkCalendar | None:
    try:
        return calendar_data.load_calendar(args.calendar_dir)
    except ValueError as exc:
        print(f"hallops calendar: error: {exc}", file=sys.stderr)
        return None


# --------------------------------------------------------------------- argument types


def _year(text: str) -> int:
    try:
        year = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a year: {text!r}") from None
    if not 1900 <= year <= 9998:
        raise argparse.ArgumentTypeError(f"year out of range: {year}")
    return year


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {value}")
    return value


def _start(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO date or datetime: {text!r} (e.g. 2026-09-30 or 2026-09-30T10:15+08:00)"
        ) from None


def _zone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"unknown timezone: {text!r}") from None


def _clock(text: str) -> time:
    try:
        value = time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time HH:MM: {text!r}") from None
    if value.tzinfo is not None:
        raise argparse.ArgumentTypeError(f"give a local time without offset: {text!r}")
    return value


# --------------------------------------------------------------------- formatting


def _weekday(day: date) -> str:
    return _WEEKDAYS[day.weekday()]


def _runs(days: tuple[date, ...]) -> list[tuple[date, date]]:
    """Consecutive dates grouped as (first, last)."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
