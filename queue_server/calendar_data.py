"""Calendar year files: reading, validating and importing ``data/calendar/<year>.toml``.

The I/O side of ``queue_server.hall.calendar``. A year file holds one year of a 国务院办公厅
notice; it replaces the ``chinese_calendar`` package's data for that year. The format is
described in ``data/calendar/README.md``::

    year = 2027
    source = "国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕N号）"
    official = true                        # optional, default true
    holidays = [2027-01-01, 2027-01-02]    # TOML dates or "YYYY-MM-DD" strings
    workdays = [2027-02-20]                # make-up working days (调休上班日); optional

The directory is, in order: the ``data_dir`` argument, the ``HALLOPS_CALENDAR_DIR``
environment variable, ``<repo>/data/calendar``. A directory that does not exist holds no
files.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from queue_server.hall.calendar import WorkCalendar, YearData, fixed_holidays, year_data_problems

__all__ = [
    "DEFAULT_DIR",
    "ENV_VAR",
    "calendar_dir",
    "import_year_file",
    "load_calendar",
    "load_year_files",
    "read_year_file",
]

ENV_VAR = "HALLOPS_CALENDAR_DIR"
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "data" / "calendar"

_REQUIRED = ("year", "source", "holidays")
_OPTIONAL = ("official", "workdays")
_MIN_YEAR, _MAX_YEAR = 2000, 2100
# From 2025 on, 5/2 is a statutory holiday too (全国年节及纪念日放假办法, 2024 revision).
_FIXED_RULE_FROM = 2025


def calendar_dir(data_dir: Path | None = None) -> Path:
    """The calendar directory: the argument, else $HALLOPS_CALENDAR_DIR, else the default."""
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else DEFAULT_DIR


def load_calendar(data_dir: Path | None = None) -> WorkCalendar:
    """The package calendar with every year file of the directory laid over it.

    Raises ``ValueError`` naming the file when a year file is invalid.
    """
    return WorkCalendar.from_package(load_year_files(calendar_dir(data_dir)).values())


def load_year_files(data_dir: Path) -> dict[int, YearData]:
    """Every ``<year>.toml`` of ``data_dir`` (none when the directory does not exist)."""
    if not data_dir.is_dir():
        return {}
    years: dict[int, YearData] = {}
    for path in sorted(data_dir.glob("*.toml")):
        data = read_year_file(path)
        if path.stem != str(data.year):
            raise ValueError(f"{path}: holds year {data.year}; a year file must be named {data.year}.toml")
        years[data.year] = data
    return years


def read_year_file(path: Path) -> YearData:
    """Read and validate one year file. ``ValueError`` lists every problem found."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read calendar file: {exc}") from exc
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from exc
    return parse_year_doc(doc, where=str(path))


def parse_year_doc(doc: Mapping[str, object], where: str = "calendar file") -> YearData:
    """Validate a parsed year file and build its ``YearData``."""
    problems: list[str] = []
    unknown = sorted(set(doc) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        problems.append(f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(_REQUIRED + _OPTIONAL)})")
    problems += [f"missing key '{key}'" for key in _REQUIRED if key not in doc]

    year = doc.get("year")
    if "year" in doc and (type(year) is not int or not _MIN_YEAR <= year <= _MAX_YEAR):
        problems.append(f"'year' must be a whole number from {_MIN_YEAR} to {_MAX_YEAR}, got {year!r}")
        year = None
    source = doc.get("source", "")
    if "source" in doc and (not isinstance(source, str) or not source.strip()):
        problems.append("'source' must name the notice, e.g. 国务院办公厅关于2027年部分节假日安排的通知")
    official = doc.get("official", True)
    if not isinstance(official, bool):
        problems.append(f"'official' must be true or false, got {official!r}")
    holidays = _date_list(doc, "holidays", problems)
    workdays = _date_list(doc, "workdays", problems)

    if isinstance(year, int) and holidays is not None and workdays is not None:
        problems += year_data_problems(year, holidays, workdays)
        if year >= _FIXED_RULE_FROM:
            missing = sorted(fixed_holidays(year) - set(holidays))
            if missing:
                problems.append(
                    "holidays lack the fixed-date statutory holiday(s) "
                    + ", ".join(d.isoformat() for d in missing)
                    + " (元旦 1/1, 劳动节 5/1–5/2, 国庆节 10/1–10/3 are always off)"
                )
    if problems:
        raise ValueError(f"{where}: invalid calendar file:\n  - " + "\n  - ".join(problems))
    assert isinstance(year, int) and holidays is not None and workdays is not None
    return YearData(
        year=year,
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
        official=bool(official),
        source=str(source).strip(),
    )


def import_year_file(src: Path, data_dir: Path) -> int:
    """Validate ``src`` and copy it into ``data_dir`` as ``<year>.toml``; return the year.

    An existing file for that year is replaced (a correction). The copy keeps the file's
    bytes (and comments) and is written atomically.
    """
    src = Path(src)
    data = read_year_file(src)
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / f"{data.year}.toml"
    if target.exists() and target.resolve() == src.resolve():
        return data.year
    tmp = data_dir / f".{data.year}.toml.tmp"
    tmp.write_bytes(src.read_bytes())
    os.replace(tmp, target)
    return data.year


def _date_list(doc: Mapping[str, object], key: str, problems: list[str]) -> list[date] | None:
    """The dates under ``key`` (TOML dates or ISO strings); None after reporting a problem."""
    raw = doc.get(key, [])
    if not isinstance(raw, list):
        problems.append(f"'{key}' must be a list of dates, got {raw!r}")
        return None
    days: list[date] = []
    ok = True
    for item in raw:
        if type(item) is date:
            days.append(item)
        elif isinstance(item, str):
            try:
                days.append(date.fromisoformat(item.strip()))
            except ValueError:
                problems.append(f"'{key}': {item!r} is not a date (YYYY-MM-DD)")
                ok = False
        else:
            problems.append(f"'{key}': {item!r} is not a date (YYYY-MM-DD)")
            ok = False
    seen: set[date] = set()
    for day in days:
        if day in seen:
            problems.append(f"'{key}': {day.isoformat()} is listed twice")
            ok = False
        seen.add(day)
    return days if ok else None
