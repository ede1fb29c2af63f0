"""queue_server.config_file.fields: opening hours, intervals and times."""

from __future__ import annotations

import pytest

from queue_server.config_file import parse_hall_config

from config_samples import WEEKDAY_HOURS, only_problem, problems_of, with_change

# --- hours -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "interval, text",
    [
        ("08:30", "bad interval"),
        ("8.30-12.00", "bad interval"),
        ("08:30 to 12:00", "bad interval"),
        ("08:3-12:00", "bad interval"),
        ("08:60-12:00", "minute 60"),
        ("08:30-12:99", "minute 99"),
        ("25:00-26:00", "hour 25"),
        ("23:00-24:30", "past the end of the day"),
        ("12:00-08:30", "ends at or before it starts"),
        ("12:00-12:00", "ends at or before it starts"),
        ("22:00-02:00", "cannot cross midnight"),
        ("24:00-24:00", "ends at or before it starts"),
    ],
)
def test_impossible_intervals(interval: str, text: str) -> None:
    problems = problems_of(with_change("hall.hours.mon", [interval]))
    assert problems[0].path == "hall.hours.mon[0]"
    assert text in problems[0].message


def test_interval_not_a_string() -> None:
    p = only_problem(with_change("hall.hours.tue", [830]))
    assert p.path == "hall.hours.tue[0]" and "expected a string" in p.message


def test_weekday_not_a_list() -> None:
    p = only_problem(with_change("hall.hours.tue", "08:30-12:00"))
    assert p.path == "hall.hours.tue" and "expected an array" in p.message


def test_overlapping_intervals() -> None:
    p = only_problem(with_change("hall.hours.wed", ["14:00-17:30", "08:30-12:00", "11:00-13:00"]))
    assert p.path == "hall.hours.wed[2]"
    assert p.message == "11:00-13:00 overlaps 08:30-12:00 (wed[1]) on the same day"


def test_every_overlap_is_reported() -> None:
    hours = ["08:00-13:00", "12:00-15:00", "14:00-18:00"]
    problems = problems_of(with_change("hall.hours.wed", hours))
    assert [p.path for p in problems] == ["hall.hours.wed[1]", "hall.hours.wed[2]"]


def test_touching_intervals_and_midnight_end_are_fine() -> None:
    data = with_change("hall.hours.sat", ["00:00-12:00", "12:00-24:00"])
    config, problems = parse_hall_config(data)
    assert not problems
    assert config.hours.is_open(5, 0) and config.hours.is_open(5, 1439)


def test_single_digit_hour_and_spaces_are_accepted() -> None:
    config, problems = parse_hall_config(with_change("hall.hours.mon", [" 8:30 - 12:00 "]))
    assert not problems and str(config.hours.intervals(0)[0]) == "08:30-12:00"


def test_intervals_are_sorted() -> None:
    config, _ = parse_hall_config(with_change("hall.hours.mon", ["14:00-17:30", "08:30-12:00"]))
    assert [str(iv) for iv in config.hours.intervals(0)] == WEEKDAY_HOURS


def test_missing_or_empty_weekday_is_closed() -> None:
    data = with_change("hall.hours.fri", [])
    config, problems = parse_hall_config(data)
    assert not problems
    assert config.hours.intervals(4) == () and config.hours.intervals(6) == ()


def test_unknown_weekday() -> None:
    p = only_problem(with_change("hall.hours.monday", ["08:30-12:00"]))
    assert p.path == "hall.hours.monday" and 'did you mean "mon"' in p.message


def test_hall_closed_every_day() -> None:
    p = only_problem(with_change("hall.hours", {}))
    assert p.path == "hall.hours" and "closed every day" in p.message


def test_hall_hours_not_a_table() -> None:
    p = only_problem(with_change("hall.hours", ["08:30-12:00"]))
    assert p.path == "hall.hours" and "expected a table" in p.message


def test_weekend_service_for_some_queues() -> None:
    data = with_change("hall.hours.sat", ["09:00-12:00"])
    weekdays = ("mon", "tue", "wed", "thu", "fri")
    data["queues"][1]["hours"] = {d: list(WEEKDAY_HOURS) for d in weekdays}
    config, problems = parse_hall_config(data)
    assert not problems
    assert config.queue("A").hours.is_open(5, 9 * 60)
    assert not config.queue("B").hours.is_open(5, 9 * 60)


@pytest.mark.parametrize(
    "hours, path, text",
    [
        ({"mon": ["08:00-12:00"]}, "mon[0]", "open 08:00-08:30 on mon when the hall is closed"),
        ({"mon": ["11:00-15:00"]}, "mon[0]", "open 12:00-14:00 on mon"),
        ({"mon": ["08:30-12:00"], "sun": ["09:00-10:00"]}, "sun[0]", "hall hours on sun: closed"),
        ({"tue": ["08:30-12:00", "17:00-18:30"]}, "tue[1]", "open 17:30-18:30 on tue"),
    ],
)
def test_queue_open_when_hall_closed(hours: dict[str, list[str]], path: str, text: str) -> None:
    p = only_problem(with_change("queues.1.hours", hours))
    assert p.path == f'queues[1] (code "B").hours.{path}'
    assert text in p.message


def test_queue_hours_may_span_adjacent_hall_intervals() -> None:
    data = with_change("hall.hours.mon", ["08:00-12:00", "12:00-18:00"])
    data["queues"][1]["hours"] = {"mon": ["09:00-17:00"]}
    assert parse_hall_config(data)[1] == []


def test_queue_never_open() -> None:
    p = only_problem(with_change("queues.1.hours", {}))
    assert p.path == 'queues[1] (code "B").hours' and 'queue "B" is never open' in p.message


def test_queue_hours_problems_are_reported_and_not_compared_with_a_broken_hall() -> None:
    data = with_change("hall.hours.mon", ["08:30-12:00", "nonsense"])
    data["queues"][1]["hours"] = {"mon": ["07:00-08:00"], "tue": ["07:00-08:00"]}
    paths = [p.path for p in problems_of(data)]
    # mon is skipped (the hall's mon is broken), tue is checked
    assert paths == ["hall.hours.mon[1]", 'queues[1] (code "B").hours.tue[0]']
