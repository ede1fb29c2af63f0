"""Working days and deadlines over the official 2025/2026 calendars and provisional 2027."""

from __future__ import annotations

import ast
import time as time_module
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

import queue_server.hall.calendar as calendar_module
from queue_server.hall.calendar import Deadline, WorkCalendar, YearData, fixed_holidays

SH = ZoneInfo("Asia/Shanghai")
CLOSE = time(17, 30)
CAL = WorkCalendar.from_package()


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def cob(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 17, 30, tzinfo=SH)


def _days(first: date, last: date) -> set[date]:
    return {first + timedelta(days=i) for i in range((last - first).days + 1)}


# The 2027 schedule below is TEST DATA (the notice was not published), as in
# tests/fixtures/calendar/2027.toml.
TEST_2027 = YearData(
    year=2027,
    holidays=frozenset(
        _days(date(2027, 1, 1), date(2027, 1, 3))
        | _days(date(2027, 2, 5), date(2027, 2, 13))
        | _days(date(2027, 4, 3), date(2027, 4, 5))
        | _days(date(2027, 5, 1), date(2027, 5, 5))
        | {date(2027, 6, 9), date(2027, 9, 15)}
        | _days(date(2027, 10, 1), date(2027, 10, 7))
    ),
    workdays=frozenset(
        {
            date(2027, 2, 14),
            date(2027, 2, 20),
            date(2027, 5, 8),
            date(2027, 9, 26),
            date(2027, 10, 9),
        }
    ),
    source="TEST DATA",
)


# --------------------------------------------------------------------------- the data


def test_package_years_agree_with_chinese_calendar_every_day() -> None:
    day, last = date(2004, 1, 1), date(2026, 12, 31)
    while day <= last:
        assert CAL.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_2026_matches_the_official_notice_in_the_domain_rules() -> None:
    off = (
        _days(date(2026, 1, 1), date(2026, 1, 3))
        | _days(date(2026, 2, 15), date(2026, 2, 23))
        | _days(date(2026, 4, 4), date(2026, 4, 6))
        | _days(date(2026, 5, 1), date(2026, 5, 5))
        | _days(date(2026, 6, 19), date(2026, 6, 21))
        | _days(date(2026, 9, 25), date(2026, 9, 27))
        | _days(date(2026, 10, 1), date(2026, 10, 7))
    )
    make_up = [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9),
               date(2026, 9, 20), date(2026, 10, 10)]  # fmt: skip
    assert set(CAL.holidays_in(2026)) == off
    assert list(CAL.make_up_days_in(2026)) == make_up
    assert all(CAL.is_working_day(d) for d in make_up)
    assert CAL.is_official(2026) and CAL.is_official(2025)
    assert not CAL.is_official(2027)


def test_year_without_data_uses_the_provisional_rule() -> None:
    assert CAL.year_data(2027).official is False
    assert set(CAL.holidays_in(2027)) == set(fixed_holidays(2027))
    assert not CAL.is_working_day(date(2027, 1, 1))  # Fri, 元旦
    assert not CAL.is_working_day(date(2027, 10, 1))  # Fri, 国庆
    assert CAL.is_working_day(date(2027, 10, 4))  # Mon: only 10/1–3 are fixed
    assert CAL.is_working_day(date(2027, 2, 8))  # lunar holidays are unknown
    assert not CAL.is_working_day(date(2027, 1, 2))  # Saturday
    assert CAL.make_up_days_in(2027) == ()


def test_provisional_days() -> None:
    assert not CAL.is_provisional(date(2026, 11, 30))
    assert CAL.is_provisional(date(2026, 12, 1))  # the 2027 notice may still move it
    assert CAL.is_provisional(date(2027, 3, 1))
    loaded = CAL.with_years([TEST_2027])
    assert not loaded.is_provisional(date(2026, 12, 31))
    assert not loaded.is_provisional(date(2027, 3, 1))
    assert loaded.is_provisional(date(2027, 12, 1))  # 2028 is not loaded


def test_next_years_notice_decides_its_december_dates() -> None:
    # As the 2019 notice did for 2018-12-29/30/31.
    new_year = YearData(
        year=2027,
        holidays=fixed_holidays(2027) | {date(2026, 12, 31)},
        workdays={date(2026, 12, 26)},
        source="test",
    )
    cal = CAL.with_years([new_year])
    assert not cal.is_working_day(date(2026, 12, 31))  # a Thursday, off
    assert cal.is_working_day(date(2026, 12, 26))  # a Saturday, on
    assert date(2026, 12, 31) in cal.holidays_in(2026)
    assert cal.make_up_days_in(2026)[-1] == date(2026, 12, 26)
    assert CAL.is_working_day(date(2026, 12, 31))  # the original is unchanged


@pytest.mark.parametrize(
    ("holidays", "workdays", "message"),
    [
        ({date(2026, 11, 30)}, set(), "outside 2027"),
        ({date(2028, 1, 1)}, set(), "outside 2027"),
        (set(), {date(2027, 2, 15)}, "must be a Saturday or Sunday"),
        ({date(2027, 2, 20)}, {date(2027, 2, 20)}, "both a holiday and a make-up"),
    ],
)
def test_year_data_is_validated(holidays: set[date], workdays: set[date], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        YearData(year=2027, holidays=holidays, workdays=workdays)


def test_calendar_is_immutable() -> None:
    with pytest.raises(AttributeError):
        CAL._years = {}  # type: ignore[misc]
    assert CAL.with_years([TEST_2027]) is not CAL
    assert not CAL.is_official(2027)


def test_mapping_key_must_match_year() -> None:
    with pytest.raises(ValueError, match="under key 2026"):
        WorkCalendar({2026: TEST_2027})


# --------------------------------------------------------------------------- day arithmetic


def test_next_working_day_is_strictly_after() -> None:
    assert CAL.next_working_day(date(2026, 9, 30)) == date(2026, 10, 8)
    assert CAL.next_working_day(date(2026, 10, 8)) == date(2026, 10, 9)
    assert CAL.next_working_day(date(2026, 10, 9)) == date(2026, 10, 10)  # make-up Sat


def test_add_working_days() -> None:
    assert CAL.add_working_days(date(2026, 9, 30), 0) == date(2026, 9, 30)
    assert CAL.add_working_days(date(2026, 9, 1), 20) == date(2026, 9, 29)
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2026, 9, 30), -1)


def test_working_days_between() -> None:
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 10, 12)) == 4
    assert CAL.working_days_between(date(2026, 10, 12), date(2026, 9, 30)) == -4
    assert CAL.working_days_between(date(2026, 10, 3), date(2026, 10, 3)) == 0
    assert CAL.working_days_between(date(2026, 10, 1), date(2026, 10, 7)) == 0
    # (a, b] with the add_working_days inverse
    for n in range(0, 30):
        end = CAL.add_working_days(date(2026, 9, 1), n)
        assert CAL.working_days_between(date(2026, 9, 1), end) == n


def test_datetimes_are_refused_where_a_date_is_meant() -> None:
    with pytest.raises(TypeError):
        CAL.is_working_day(at(2026, 10, 8))


# --------------------------------------------------------------------------- deadlines

DEADLINES = [
    # start, n, paused, expected, why
    (at(2026, 9, 30), 1, 0, cob(2026, 10, 8), "10/1–7 off; Thu 10/8 is the 1st working day"),
    (at(2026, 9, 30), 2, 0, cob(2026, 10, 9), ""),
    (at(2026, 9, 30), 3, 0, cob(2026, 10, 10), "make-up Sat 10/10 counts"),
    (at(2026, 9, 30), 4, 0, cob(2026, 10, 12), ""),
    (at(2026, 10, 9), 1, 0, cob(2026, 10, 10), "make-up Sat 10/10"),
    (at(2026, 2, 13), 1, 0, cob(2026, 2, 14), "make-up Sat 2/14"),
    (at(2026, 2, 13), 2, 0, cob(2026, 2, 24), "春节 2/15–23 off"),
    (at(2026, 2, 27), 1, 0, cob(2026, 2, 28), "make-up Sat 2/28"),
    (at(2026, 9, 18), 1, 0, cob(2026, 9, 20), "Sat 9/19 off, make-up Sun 9/20"),
    (at(2026, 9, 18), 2, 0, cob(2026, 9, 21), ""),
    (at(2026, 9, 24), 1, 0, cob(2026, 9, 28), "中秋 9/25–27 off"),
    (at(2026, 4, 3), 1, 0, cob(2026, 4, 7), "清明 4/4–6 off"),
    (at(2026, 4, 30), 1, 0, cob(2026, 5, 6), "劳动节 5/1–5 off"),
    (at(2026, 4, 30), 4, 0, cob(2026, 5, 9), "make-up Sat 5/9"),
    (at(2026, 6, 18), 1, 0, cob(2026, 6, 22), "端午 6/19–21 off"),
    (at(2026, 9, 1), 20, 0, cob(2026, 9, 29), "20 working days over 9/20 and 9/25–27"),
    (at(2025, 12, 31), 1, 0, cob(2026, 1, 4), "元旦 1/1–3 off, make-up Sun 1/4"),
    (at(2026, 1, 4), 1, 0, cob(2026, 1, 5), "event on a make-up day"),
    (at(2025, 1, 24), 1, 0, cob(2025, 1, 26), "make-up Sun 1/26"),
    (at(2025, 1, 27), 1, 0, cob(2025, 2, 5), "春节 1/28–2/4 off"),
    (at(2025, 2, 7), 1, 0, cob(2025, 2, 8), "make-up Sat 2/8"),
    (at(2025, 4, 25), 1, 0, cob(2025, 4, 27), "make-up Sun 4/27"),
    (at(2025, 4, 30), 1, 0, cob(2025, 5, 6), "劳动节 5/1–5 off"),
    (at(2025, 5, 30), 1, 0, cob(2025, 6, 3), "端午 5/31–6/2 off"),
    (at(2025, 9, 26), 1, 0, cob(2025, 9, 28), "make-up Sun 9/28"),
    (at(2025, 9, 30), 1, 0, cob(2025, 10, 9), "国庆中秋 10/1–8 off"),
    (at(2025, 9, 30), 3, 0, cob(2025, 10, 11), "make-up Sat 10/11"),
    # after close of business: the event day is not counted either way (民法典 art. 201)
    (at(2026, 9, 30, 18, 45), 1, 0, cob(2026, 10, 8), "after close: no extra day"),
    (at(2026, 10, 9, 23, 59), 1, 0, cob(2026, 10, 10), "after close: no extra day"),
    (at(2026, 9, 29, 17, 31), 1, 0, cob(2026, 9, 30), "after close: no extra day"),
    # events on days off
    (at(2026, 10, 3), 1, 0, cob(2026, 10, 8), "event on a holiday"),
    (at(2026, 2, 15), 1, 0, cob(2026, 2, 24), "event on a holiday (Sun)"),
    (at(2026, 3, 7), 1, 0, cob(2026, 3, 9), "event on an ordinary Saturday"),
    # N = 0 (即办件)
    (at(2026, 9, 30), 0, 0, cob(2026, 9, 30), "same day"),
    (at(2026, 9, 30, 17, 30), 0, 0, cob(2026, 9, 30), "at close: still the same day"),
    (at(2026, 9, 30, 18, 0), 0, 0, cob(2026, 10, 8), "after close: next working day"),
    (at(2026, 10, 3), 0, 0, cob(2026, 10, 8), "on a holiday: next working day"),
    (at(2026, 2, 14, 9, 0), 0, 0, cob(2026, 2, 14), "make-up Sat is a working day"),
    (at(2026, 3, 7), 0, 0, cob(2026, 3, 9), "ordinary Saturday: Monday"),
    # pauses add working days
    (at(2026, 9, 30), 1, 2, cob(2026, 10, 10), "1 + 2 paused"),
    (at(2026, 9, 30), 0, 1, cob(2026, 10, 8), "即办件 paused one day"),
    (at(2026, 2, 13), 1, 1, cob(2026, 2, 24), "pause over 春节"),
]


@pytest.mark.parametrize(
    ("start", "n", "paused", "expected", "why"),
    DEADLINES,
    ids=[f"{s:%Y-%m-%dT%H:%M}+{n}p{p}" for s, n, p, _, _ in DEADLINES],
)
def test_deadline_table(start: datetime, n: int, paused: int, expected: datetime, why: str) -> None:
    result = CAL.deadline(start, n, CLOSE, SH, paused_working_days=paused)
    assert result == Deadline(at=expected, provisional=False), why
    assert result.at.isoformat() == expected.isoformat()


def test_pause_equals_more_days() -> None:
    for n in range(4):
        for paused in range(4):
            with_pause = CAL.deadline(at(2026, 9, 28), n, CLOSE, SH, paused)
            assert with_pause == CAL.deadline(at(2026, 9, 28), n + paused, CLOSE, SH)


def test_start_in_utc_gives_hall_local_result() -> None:
    # 2026-10-09 16:30 UTC is 2026-10-10 00:30 in Shanghai: the event day is the make-up Sat.
    result = CAL.deadline(datetime(2026, 10, 9, 16, 30, tzinfo=UTC), 1, CLOSE, SH)
    assert result.at.isoformat() == "2026-10-12T17:30:00+08:00"
    assert result.at.tzinfo is SH
    # 15:59 UTC is still 10/9 (23:59) in Shanghai.
    result = CAL.deadline(datetime(2026, 10, 9, 15, 59, tzinfo=UTC), 1, CLOSE, SH)
    assert result.at.isoformat() == "2026-10-10T17:30:00+08:00"
    # Any other offset for the same instant gives the same result.
    ny = datetime(2026, 10, 9, 12, 30, tzinfo=ZoneInfo("America/New_York"))
    assert CAL.deadline(ny, 1, CLOSE, SH).at.isoformat() == "2026-10-12T17:30:00+08:00"


@pytest.fixture
def foreign_machine_tz(monkeypatch: pytest.MonkeyPatch):
    # HallOps runs on Linux (Debian); time.tzset is there
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time_module.tzset()
    yield
    monkeypatch.undo()
    time_module.tzset()


@pytest.mark.usefixtures("foreign_machine_tz")
def test_machine_timezone_does_not_matter() -> None:
    assert time_module.localtime(0).tm_hour != 8  # the machine really is elsewhere
    result = CAL.deadline(datetime(2026, 10, 9, 16, 30, tzinfo=UTC), 1, CLOSE, SH)
    assert result.at.isoformat() == "2026-10-12T17:30:00+08:00"


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.deadline(datetime(2026, 9, 30, 10, 0), 1, CLOSE, SH)


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        CAL.deadline(at(2026, 9, 30), -1, CLOSE, SH)
    with pytest.raises(ValueError):
        CAL.deadline(at(2026, 9, 30), 1, CLOSE, SH, paused_working_days=-1)


def test_deadline_needs_an_aware_datetime() -> None:
    with pytest.raises(ValueError):
        Deadline(at=datetime(2026, 1, 1, 17, 30), provisional=False)
    assert Deadline(at=cob(2026, 10, 8), provisional=False).day == date(2026, 10, 8)


def test_close_of_business_is_configurable() -> None:
    result = CAL.deadline(at(2026, 9, 30), 1, time(12, 0), SH)
    assert result.at == datetime(2026, 10, 8, 12, 0, tzinfo=SH)


# --------------------------------------------------------------------------- provisional


def test_deadline_into_2027_is_provisional_and_recomputed_with_data() -> None:
    before = CAL.deadline(at(2026, 12, 30), 5, CLOSE, SH)
    # 12/31 Thu, (1/1 off, 1/2–3 weekend), 1/4, 1/5, 1/6, 1/7
    assert before == Deadline(at=cob(2027, 1, 7), provisional=True)
    after = CAL.with_years([TEST_2027]).deadline(at(2026, 12, 30), 5, CLOSE, SH)
    assert after == Deadline(at=cob(2027, 1, 7), provisional=False)


def test_provisional_value_changes_once_2027_is_loaded() -> None:
    before = CAL.deadline(at(2027, 2, 3), 5, CLOSE, SH)
    assert before == Deadline(at=cob(2027, 2, 10), provisional=True)
    after = CAL.with_years([TEST_2027]).deadline(at(2027, 2, 3), 5, CLOSE, SH)
    # 2/4, (2/5–13 off), make-up Sun 2/14, 2/15, 2/16, 2/17
    assert after == Deadline(at=cob(2027, 2, 17), provisional=False)


def test_provisional_flag_follows_the_days_used() -> None:
    # November only: official.
    assert not CAL.deadline(at(2026, 11, 2), 5, CLOSE, SH).provisional
    # Ends on the first December day: provisional (December can still move).
    assert CAL.deadline(at(2026, 11, 30), 1, CLOSE, SH).provisional
    # N = 0 on a provisional holiday.
    assert CAL.deadline(at(2027, 1, 1), 0, CLOSE, SH) == Deadline(at=cob(2027, 1, 4), provisional=True)


# --------------------------------------------------------------------------- purity


def test_core_module_does_no_io() -> None:
    tree = ast.parse(Path(calendar_module.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in {"open", "print", "input"}
    allowed = {"__future__", "collections.abc", "dataclasses", "datetime", "functools", "types",
               "chinese_calendar"}  # fmt: skip
    assert imported <= allowed, imported - allowed
    source = Path(calendar_module.__file__).read_text(encoding="utf-8")
    assert ".now(" not in source and ".today(" not in source
