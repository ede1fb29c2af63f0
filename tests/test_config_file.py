"""queue_server.config_file: TOML -> HallConfig, every problem with its place."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import io
import re
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_server import config_file
from queue_server.config_file import (
    ConfigError,
    ConfigProblem,
    check_config_main,
    load_hall_config,
    parse_hall_config,
)
from queue_server.hall.config import QueueKind, Rules, StaffRole
from queue_server.passwords import hash_password, verify_password

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "halls" / "demo.toml"
HALLS = Path(__file__).resolve().parent / "fixtures" / "halls"
SMALL = HALLS / "small.toml"
BROKEN = HALLS / "broken.toml"

HASH = hash_password("pw", salt=b"0123456789abcdef")
WEEKDAY_HOURS = ["08:30-12:00", "14:00-17:30"]


def minimal() -> dict[str, Any]:
    """A small valid document, as tomllib would return it; tests break one thing each."""
    return {
        "schema_version": 1,
        "hall": {
            "code": "t",
            "name": "测试",
            "hours": {d: list(WEEKDAY_HOURS) for d in ("mon", "tue", "wed", "thu", "fri")},
        },
        "queues": [
            {"code": "A", "name": "综合", "kind": "无差别综合", "daily_cap": 100},
            {"code": "B", "name": "税务", "kind": "分领域", "daily_cap": 50},
        ],
        "windows": [
            {"number": 1, "name": "1号", "kind": "无差别综合", "zone": "A区",
             "queues": ["A"]},
            {"number": 2, "name": "2号", "kind": "分领域", "zone": "B区",
             "queues": [{"queue": "B", "weight": 1.0}, {"queue": "A", "weight": 0.5}]},
        ],
        "staff": [{"username": "w1", "name": "甲", "role": "window", "password_hash": HASH}],
    }


def problems_of(data: dict[str, Any]) -> list[ConfigProblem]:
    config, problems = parse_hall_config(data)
    assert config is None, "expected problems"
    assert problems
    return problems


def only_problem(data: dict[str, Any]) -> ConfigProblem:
    problems = problems_of(data)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def with_change(path: str, value: Any) -> dict[str, Any]:
    """minimal() with the value at a dotted path ("queues.0.code") replaced (None deletes)."""
    data = minimal()
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    if value is None:
        del node[key]
    else:
        node[key] = value
    return data


# --- the shipped files -------------------------------------------------------------------------


def test_minimal_document_is_valid() -> None:
    config, problems = parse_hall_config(minimal())
    assert problems == []
    assert config is not None
    assert config.timezone == "Asia/Shanghai"
    assert config.close_of_business == dt.time(17, 30)
    assert config.rules == Rules()
    assert config.queue("A").hours == config.hours  # queues default to the hall's hours
    assert config.window(2).queues[1].weight == 0.5
    assert config.staff_account("w1").role is StaffRole.WINDOW


def test_demo_hall_loads() -> None:
    config = load_hall_config(DEMO)
    assert config.code == "demo-county"
    assert config.timezone == "Asia/Shanghai"
    assert [q.code for q in config.queues] == list("ABCDEFGHJKLMPZ")
    assert [w.number for w in config.windows] == list(range(1, 21))
    kinds = {q.code: q.kind for q in config.queues}
    assert kinds["A"] is QueueKind.GENERAL and config.queue("A").daily_cap == 400
    assert all(kinds[c] is QueueKind.FIELD for c in "BCDEFGHJ")
    assert all(kinds[c] is QueueKind.SPECIAL for c in "KLM")
    assert kinds["P"] is QueueKind.PICKUP and kinds["Z"] is QueueKind.CONSULT
    assert all(q.department and w.department for q in config.queues for w in config.windows)
    # windows 1-4 无差别综合; window 4 is the accessible low counter, also serving 帮办代办
    for n in (1, 2, 3, 4):
        assert config.window(n).kind is QueueKind.GENERAL
        assert config.window(n).zone == "A区"
    w4 = config.window(4)
    assert w4.accessible
    assert {(q.queue, q.weight) for q in w4.queues} == {("A", 1.0), ("L", 0.5)}
    assert [n for n in range(16, 19) if config.window(n).kind is QueueKind.SPECIAL] == [16, 17, 18]
    assert config.window(19).kind is QueueKind.PICKUP
    assert config.window(20).kind is QueueKind.CONSULT
    # hours: weekdays 08:30-12:00, 14:00-17:30; Saturday morning for some queues only
    assert [str(iv) for iv in config.hours.intervals(0)] == WEEKDAY_HOURS
    assert [str(iv) for iv in config.hours.intervals(5)] == ["09:00-12:00"]
    assert config.hours.intervals(6) == ()
    open_saturday = {q.code for q in config.queues if q.hours.intervals(5)}
    assert open_saturday == {"A", "C", "L", "P", "Z"}
    assert config.rules.issue_rate_per_min == 30
    assert config.allowed_origins == ("http://127.0.0.1:8765", "http://localhost:8765")
    usernames = [s.username for s in config.staff]
    assert usernames == [f"w{n:02d}" for n in range(1, 21)] + ["bo-tax", "bo-realestate", "manager"]
    assert config.staff_account("manager").role is StaffRole.MANAGER
    assert config.staff_account("bo-tax").role is StaffRole.BACKOFFICE


@pytest.mark.parametrize("username", ["w01", "w20", "bo-realestate", "manager"])
def test_demo_password_is_shared(username: str) -> None:
    account = load_hall_config(DEMO).staff_account(username)
    assert verify_password("hallops-demo", account.password_hash)


def test_demo_hashes_are_distinct() -> None:
    hashes = [s.password_hash for s in load_hall_config(DEMO).staff]
    assert len(set(hashes)) == len(hashes)


def test_small_hall_loads() -> None:
    config = load_hall_config(SMALL)
    assert [q.code for q in config.queues] == ["A", "B", "P"]
    assert config.queue("B").daily_cap == 3
    assert config.queue("A").daily_cap == 999
    for weekday in range(7):  # open around the clock, so tests pass at any hour
        assert config.hours.is_open(weekday, 0) and config.hours.is_open(weekday, 24 * 60 - 1)
    assert {w.number: [(q.queue, q.weight) for q in w.queues] for w in config.windows} == {
        1: [("A", 1.0)],
        2: [("A", 1.0), ("B", 0.5)],
        3: [("B", 1.0)],
        9: [("P", 1.0)],
    }
    assert config.rules.recall_limit == 2
    assert config.rules.priority_ratio == 2
    assert config.rules.issue_rate_per_min == 1000
    assert "http://127.0.0.1" in config.allowed_origins
    assert "http://localhost" in config.allowed_origins
    assert [s.username for s in config.staff] == ["w1", "w2", "w3", "manager"]
    assert all(verify_password("test-pass", s.password_hash) for s in config.staff)


# broken.toml: (line, start of the path, part of the message)
BROKEN_EXPECTED = [
    (4, "colour", 'unknown key "colour"'),
    (7, "hall.code", 'hall code "Broken Hall"'),
    (9, "hall.timezone", 'unknown timezone "Asia/Beijing"'),
    (10, "hall.close_of_business", "minute 75"),
    (11, "hall.allowed_origins[0]", "no path or trailing slash"),
    (11, "hall.allowed_origins[1]", "scheme must be http or https"),
    (12, "hall.require_display_token", "expected true or false"),
    (15, "hall.hours.mon[1]", "overlaps 08:30-12:00"),
    (16, "hall.hours.tue[0]", "ends at or before it starts"),
    (17, "hall.hours.wed[0]", 'bad interval "8.30-12"'),
    (18, "hall.hours.thu[0]", "minute 60"),
    (19, "hall.hours.fri[0]", "hour 25"),
    (21, "hall.hours.funday", 'unknown key "funday"'),
    (24, "rules.recall_limit", "expected an integer"),
    (25, "rules.priorty_ratio", 'did you mean "priority_ratio"'),
    (26, "rules.ewma_alpha", "at most 1"),
    (32, 'queues[0] (code "A").daily_cap', "at least 1"),
    (35, 'queues[1] (code "A").code', 'duplicate queue code "A"'),
    (41, "queues[2].code", 'queue code "b"'),
    (43, "queues[2].kind", 'unknown kind "综合"'),
    (44, "queues[2].daily_cap", "expected an integer"),
    (51, 'queues[3] (code "C").matters[1]', "listed twice"),
    (54, 'queues[3] (code "C").hours.sat[0]', "open 08:00-09:00 on sat when the hall is closed"),
    (55, 'queues[3] (code "C").hours.sun[0]', "hall hours on sun: closed"),
    (57, 'queues[4] (code "D")', 'no window serves queue "D"'),
    (71, "windows[1] (number 1).number", "duplicate window number 1"),
    (75, "windows[1] (number 1).accesible", 'did you mean "accessible"'),
    (78, "windows[1] (number 1).queues[1].queue", 'window 1 serves unknown queue "Q"'),
    (79, "windows[1] (number 1).queues[2].queue", 'lists queue "A" twice'),
    (80, "windows[1] (number 1).queues[3].weight", "greater than 0"),
    (84, "windows[2].number", "at least 1"),
    (88, "windows[2].queues", "serves no queue"),
    (90, "windows[3] (number 5)", 'missing required key "name"'),
    (100, 'staff[0] (username "w1").password', "plain-text passwords are not allowed"),
    (103, 'staff[1] (username "w1").username', 'duplicate username "w1"'),
    (105, 'staff[1] (username "w1").role', 'unknown role "boss"'),
    (106, 'staff[1] (username "w1").password_hash', "not a valid scrypt hash"),
]


def test_broken_hall_reports_every_problem_in_place() -> None:
    with pytest.raises(ConfigError) as caught:
        load_hall_config(BROKEN)
    problems = caught.value.problems
    found = {(p.line, p.path, p.message) for p in problems}
    for line, path, message in BROKEN_EXPECTED:
        assert any(
            p_line == line and p_path == path and message in p_message
            for p_line, p_path, p_message in found
        ), f"missing {line}: {path}: ...{message}...\ngot:\n{caught.value}"
    assert all(p.file == str(BROKEN) for p in problems)
    assert [p.line for p in problems] == sorted(p.line for p in problems)  # in file order
    # no noise beyond the expected problems (fri has two bad hours)
    assert len(problems) == len(BROKEN_EXPECTED) + 1
    text = str(caught.value)
    assert text.count("\n") == len(problems) - 1
    assert f"{BROKEN}:78: windows[1] (number 1).queues[1].queue: window 1 serves unknown" in text


# --- ConfigProblem / ConfigError ---------------------------------------------------------------


def test_problem_str() -> None:
    p = ConfigProblem(path="windows[3].queues[1]", line=123,
                      message='window 5 serves unknown queue "Q"', file="demo.toml")
    assert str(p) == 'demo.toml:123: windows[3].queues[1]: window 5 serves unknown queue "Q"'
    assert str(ConfigProblem(path="hall", line=None, message="m")) == "hall: m"
    assert str(ConfigProblem(path="", line=4, message="m", file="f.toml")) == "f.toml:4: m"
    assert str(ConfigProblem(path="", line=None, message="m", file="f.toml")) == "f.toml: m"


def test_config_error_lists_all_problems() -> None:
    problems = [ConfigProblem(path="a", line=1, message="x"), ConfigProblem("b", 2, "y")]
    error = ConfigError(problems)
    assert error.problems == tuple(problems)
    assert str(error) == "1: a: x\n2: b: y"


def test_all_problems_are_collected_not_just_the_first() -> None:
    data = minimal()
    data["hall"]["timezone"] = "Mars/Olympus"
    data["queues"][0]["daily_cap"] = -1
    data["windows"][0]["number"] = "one"
    data["staff"][0]["role"] = "admin"
    messages = [p.message for p in problems_of(data)]
    assert len(messages) == 4


def test_without_source_text_lines_are_none_and_paths_are_set() -> None:
    p = only_problem(with_change("windows.1.queues.1.queue", "Q"))
    assert p.line is None
    assert p.path == "windows[1] (number 2).queues[1].queue"
    assert p.message == 'window 2 serves unknown queue "Q"'


# --- top level and [hall] ----------------------------------------------------------------------


def test_not_a_table() -> None:
    _, problems = parse_hall_config([])  # type: ignore[arg-type]
    assert len(problems) == 1 and "expected a TOML document" in problems[0].message


def test_missing_schema_version() -> None:
    p = only_problem(with_change("schema_version", None))
    assert "missing schema_version" in p.message and p.path == ""


@pytest.mark.parametrize("value, text", [(2, "unsupported schema_version 2"),
                                          ("1", "expected an integer")])
def test_bad_schema_version(value: Any, text: str) -> None:
    p = only_problem(with_change("schema_version", value))
    assert p.path == "schema_version" and text in p.message


def test_unknown_top_level_key_suggests() -> None:
    data = minimal()
    data["window"] = []
    p = only_problem(data)
    assert p.path == "window" and 'did you mean "windows"' in p.message


def test_missing_hall() -> None:
    assert "missing [hall] table" in only_problem(with_change("hall", None)).message


def test_hall_not_a_table() -> None:
    p = only_problem(with_change("hall", "demo"))
    assert p.path == "hall" and "expected a table" in p.message


@pytest.mark.parametrize("key", ["code", "name", "hours"])
def test_hall_required_keys(key: str) -> None:
    p = only_problem(with_change(f"hall.{key}", None))
    assert p.path == "hall" and p.message == f'missing required key "{key}"'


@pytest.mark.parametrize("code", ["Demo", "demo county", "", "-x", "演示"])
def test_bad_hall_code(code: str) -> None:
    assert only_problem(with_change("hall.code", code)).path == "hall.code"


def test_empty_hall_name() -> None:
    assert "must not be empty" in only_problem(with_change("hall.name", "  ")).message


@pytest.mark.parametrize("tz", ["Asia/Beijing", "CST", "", "../etc/passwd", "Asia/"])
def test_bad_timezone(tz: str) -> None:
    assert only_problem(with_change("hall.timezone", tz)).path == "hall.timezone"


def test_good_timezone() -> None:
    config, problems = parse_hall_config(with_change("hall.timezone", "Asia/Urumqi"))
    assert not problems and config.timezone == "Asia/Urumqi"


@pytest.mark.parametrize(
    "value, text",
    [("17:60", "minute 60"), ("24:00", "hour 24"), ("5pm", "bad time"), (1730, "expected a time"),
     (dt.time(17, 30, 15), "HH:MM")],
)
def test_bad_close_of_business(value: Any, text: str) -> None:
    p = only_problem(with_change("hall.close_of_business", value))
    assert p.path == "hall.close_of_business" and text in p.message


@pytest.mark.parametrize("value", ["18:00", dt.time(18, 0)])
def test_close_of_business(value: Any) -> None:
    config, _ = parse_hall_config(with_change("hall.close_of_business", value))
    assert config.close_of_business == dt.time(18, 0)


@pytest.mark.parametrize(
    "origin",
    ["http://localhost/", "http://localhost:8765/display", "ws://localhost", "localhost:8765",
     "http://localhost:99999", "http://localhost:port", "*", "http://LOCALHOST",
     " http://localhost", "http://user@localhost", "http://localhost?x=1"],
)
def test_bad_origins(origin: str) -> None:
    p = only_problem(with_change("hall.allowed_origins", ["http://ok.example", origin]))
    assert p.path == "hall.allowed_origins[1]" and "origin" in p.message


def test_good_origins() -> None:
    origins = ["http://127.0.0.1:8765", "https://hall.example.gov.cn", "http://[::1]:8765"]
    config, problems = parse_hall_config(with_change("hall.allowed_origins", origins))
    assert not problems and config.allowed_origins == tuple(origins)


def test_duplicate_origin() -> None:
    p = only_problem(with_change("hall.allowed_origins", ["http://a.example", "http://a.example"]))
    assert p.path == "hall.allowed_origins[1]" and "listed twice" in p.message


@pytest.mark.parametrize(
    "key, value, text",
    [("notice", 5, "expected a string"), ("require_display_token", "yes", "true or false"),
     ("allowed_origins", "http://localhost", "expected an array"), ("name", ["x"], "string")],
)
def test_hall_wrong_types(key: str, value: Any, text: str) -> None:
    p = only_problem(with_change(f"hall.{key}", value))
    assert p.path == f"hall.{key}" and text in p.message


def test_hall_unknown_key() -> None:
    p = only_problem(with_change("hall.timezome", "Asia/Shanghai"))
    assert p.path == "hall.timezome" and 'did you mean "timezone"' in p.message


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


# --- [rules] -----------------------------------------------------------------------------------


def test_rules_defaults_and_overrides() -> None:
    data = minimal()
    data["rules"] = {"issue_rate_per_min": 30, "auto_no_show": False, "ewma_alpha": 1}
    config, problems = parse_hall_config(data)
    assert not problems
    assert config.rules == Rules(issue_rate_per_min=30, auto_no_show=False, ewma_alpha=1.0)


@pytest.mark.parametrize(
    "key, value, text",
    [
        ("recall_limit", "3", "expected an integer"),
        ("recall_limit", 2.0, "expected an integer"),
        ("recall_limit", True, "expected an integer"),
        ("recall_limit", -1, "at least 0"),
        ("priority_ratio", 0, "at least 1"),
        ("issue_rate_per_min", 0, "at least 1"),
        ("auto_no_show", 1, "true or false"),
        ("reactivate_same_day", "yes", "true or false"),
        ("ewma_alpha", 0, "greater than 0"),
        ("ewma_alpha", 1.5, "at most 1"),
        ("ewma_alpha", "0.2", "expected a number"),
        ("ewma_alpha", float("nan"), "finite"),
    ],
)
def test_rules_type_checks(key: str, value: Any, text: str) -> None:
    data = minimal()
    data["rules"] = {key: value}
    p = only_problem(data)
    assert p.path == f"rules.{key}" and text in p.message


def test_rules_unknown_key() -> None:
    data = minimal()
    data["rules"] = {"recall_limt": 2}
    p = only_problem(data)
    assert p.path == "rules.recall_limt" and 'did you mean "recall_limit"' in p.message


def test_rules_not_a_table() -> None:
    data = minimal()
    data["rules"] = [1]
    assert only_problem(data).path == "rules"


# --- [[queues]] --------------------------------------------------------------------------------


def test_queue_fields() -> None:
    data = minimal()
    data["queues"][1].update(department="县税务局", default_service_s=600, alert_waiting=10,
                             alert_wait_min=20, matters=["SW-001", "SW-002"])
    config, problems = parse_hall_config(data)
    assert not problems
    b = config.queue("B")
    assert (b.department, b.default_service_s, b.alert_waiting, b.alert_wait_min, b.matters) == (
        "县税务局", 600.0, 10, 20, ("SW-001", "SW-002"))
    assert config.queue("A").default_service_s == 300.0  # dataclass default


@pytest.mark.parametrize("code", ["a", "ABC", "", "1", "Ä", "A-"])
def test_bad_queue_code(code: str) -> None:
    data = minimal()
    data["queues"].append({"code": code, "name": "x", "kind": "咨询", "daily_cap": 1})
    data["windows"][0]["queues"] = ["A"]
    paths = [p.path for p in problems_of(data)]
    assert "queues[2].code" in paths


def test_two_letter_queue_code_is_fine() -> None:
    data = minimal()
    data["queues"].append({"code": "AB", "name": "x", "kind": "咨询", "daily_cap": 1})
    data["windows"][0]["queues"] = ["A", "AB"]
    assert parse_hall_config(data)[1] == []


def test_duplicate_queue_code() -> None:
    data = with_change("queues.1.code", "A")
    data["windows"][1]["queues"] = ["A"]
    p = only_problem(data)
    assert p.path == 'queues[1] (code "A").code'
    assert p.message == 'duplicate queue code "A" (also queues[0])'


@pytest.mark.parametrize("kind", ["综合", "GENERAL", "general", ""])
def test_unknown_kind(kind: str) -> None:
    p = only_problem(with_change("queues.0.kind", kind))
    assert p.path == 'queues[0] (code "A").kind' and "expected one of" in p.message


@pytest.mark.parametrize(
    "key, value, text",
    [
        ("daily_cap", 0, "at least 1"),
        ("daily_cap", "100", "expected an integer"),
        ("daily_cap", 1.5, "expected an integer"),
        ("default_service_s", 0, "greater than 0"),
        ("default_service_s", "5m", "expected a number"),
        ("alert_waiting", -1, "at least 0"),
        ("alert_wait_min", 1.0, "expected an integer"),
        ("department", 1, "expected a string"),
        ("matters", "SW-001", "expected an array"),
        ("matters", ["SW-001", 2], "expected a string"),
        ("matters", ["SW-001", "SW-001"], "listed twice"),
        ("matters", [""], "empty matter code"),
        ("hours", ["08:30-12:00"], "expected a table"),
    ],
)
def test_queue_value_checks(key: str, value: Any, text: str) -> None:
    p = only_problem(with_change(f"queues.1.{key}", value))
    assert p.path.startswith(f'queues[1] (code "B").{key}') and text in p.message


@pytest.mark.parametrize("key", ["code", "name", "kind", "daily_cap"])
def test_queue_required_keys(key: str) -> None:
    problems = problems_of(with_change(f"queues.0.{key}", None))
    assert any(p.message == f'missing required key "{key}"' and p.path.startswith("queues[0]")
               for p in problems)


def test_queue_unknown_key() -> None:
    p = only_problem(with_change("queues.0.daily_capp", 3))
    assert p.path == 'queues[0] (code "A").daily_capp' and 'did you mean "daily_cap"' in p.message


def test_queue_no_window_serves() -> None:
    data = minimal()
    data["windows"][1]["queues"] = ["A"]
    p = only_problem(data)
    assert p.path == 'queues[1] (code "B")' and p.message == 'no window serves queue "B"'


@pytest.mark.parametrize("queues", [None, []])
def test_no_queues(queues: list[Any] | None) -> None:
    data = with_change("queues", queues)
    messages = [p.message for p in problems_of(data)]
    assert messages[0] == "the hall has no queues; add at least one [[queues]] table"


def test_queues_written_as_a_table() -> None:
    data = with_change("queues", {"code": "A"})
    problems = problems_of(data)
    assert problems[0].path == "queues" and "array of tables ([[queues]])" in problems[0].message


def test_queue_entry_not_a_table() -> None:
    data = minimal()
    data["queues"].append("C")
    p = only_problem(data)
    assert p.path == "queues[2]" and "expected a table" in p.message


# --- [[windows]] -------------------------------------------------------------------------------


def test_window_fields() -> None:
    data = minimal()
    data["windows"][0].update(department="县政务服务中心", accessible=True)
    config, problems = parse_hall_config(data)
    assert not problems
    w = config.window(1)
    assert (w.kind, w.zone, w.department, w.accessible) == (
        QueueKind.GENERAL, "A区", "县政务服务中心", True)
    assert config.window(2).accessible is False


def test_bare_string_means_weight_one() -> None:
    config, _ = parse_hall_config(minimal())
    assert config.window(1).queues[0].weight == 1.0
    data = with_change("windows.1.queues", [{"queue": "B"}, "A"])
    config, problems = parse_hall_config(data)
    assert not problems
    assert [(q.queue, q.weight) for q in config.window(2).queues] == [("B", 1.0), ("A", 1.0)]


def test_unknown_queue() -> None:
    p = only_problem(with_change("windows.0.queues", ["A", "Q"]))
    assert p.path == "windows[0] (number 1).queues[1]"
    assert p.message == 'window 1 serves unknown queue "Q"'


def test_duplicate_queue_in_window() -> None:
    p = only_problem(with_change("windows.1.queues", ["B", {"queue": "B", "weight": 2}]))
    assert p.path == "windows[1] (number 2).queues[1].queue"
    assert 'lists queue "B" twice' in p.message


@pytest.mark.parametrize(
    "entry, path, text",
    [
        ({"queue": "B", "weight": 0}, "queues[0].weight", "greater than 0"),
        ({"queue": "B", "weight": -1.0}, "queues[0].weight", "greater than 0"),
        ({"queue": "B", "weight": "1"}, "queues[0].weight", "expected a number"),
        ({"queue": "B", "weight": float("inf")}, "queues[0].weight", "finite"),
        ({"queue": "B", "wieght": 1}, "queues[0].wieght", 'did you mean "weight"'),
        ({"weight": 1}, "queues[0]", 'missing required key "queue"'),
        ({"queue": 1}, "queues[0].queue", "expected a string"),
        (7, "queues[0]", "expected a queue code or a table"),
    ],
)
def test_bad_window_queue_entries(entry: Any, path: str, text: str) -> None:
    data = with_change("windows.1.queues", [entry, "A"])
    data["windows"][0]["queues"] = ["A", "B"]  # B stays served when entry is broken
    p = only_problem(data)
    assert p.path == f"windows[1] (number 2).{path}" and text in p.message


def test_window_serves_no_queue() -> None:
    data = with_change("windows.1.queues", [])
    data["windows"][0]["queues"] = ["A", "B"]
    p = only_problem(data)
    assert p.path == "windows[1] (number 2).queues" and p.message == "window 2 serves no queue"


def test_window_queues_not_an_array() -> None:
    data = with_change("windows.1.queues", "B")
    problems = problems_of(data)
    assert problems[0].path == "windows[1] (number 2).queues"
    assert "expected an array" in problems[0].message


def test_duplicate_window_number() -> None:
    p = only_problem(with_change("windows.1.number", 1))
    assert p.path == "windows[1] (number 1).number"
    assert p.message == "duplicate window number 1 (also windows[0])"


@pytest.mark.parametrize(
    "key, value, text",
    [("number", 0, "at least 1"), ("number", "2", "expected an integer"),
     ("number", 2.0, "expected an integer"), ("accessible", "yes", "true or false"),
     ("kind", "窗口", "unknown kind"), ("zone", 1, "expected a string"),
     ("name", "", "must not be empty")],
)
def test_window_value_checks(key: str, value: Any, text: str) -> None:
    p = only_problem(with_change(f"windows.1.{key}", value))
    assert p.path.startswith("windows[1]") and p.path.endswith(f".{key}") and text in p.message


@pytest.mark.parametrize("key", ["number", "name", "kind", "zone", "queues"])
def test_window_required_keys(key: str) -> None:
    problems = problems_of(with_change(f"windows.0.{key}", None))
    assert any(p.message == f'missing required key "{key}"' and p.path.startswith("windows[0]")
               for p in problems)


def test_no_windows() -> None:
    problems = problems_of({**minimal(), "windows": []})
    assert [p.message for p in problems] == [
        "the hall has no windows; add at least one [[windows]] table"
    ]  # and no "no window serves" noise for every queue


# --- [[staff]] ---------------------------------------------------------------------------------


def test_staff_are_optional() -> None:
    config, problems = parse_hall_config(with_change("staff", None))
    assert not problems and config.staff == ()


def test_plain_text_password() -> None:
    data = minimal()
    del data["staff"][0]["password_hash"]
    data["staff"][0]["password"] = "secret"
    p = only_problem(data)
    assert p.path == 'staff[0] (username "w1").password'
    assert p.message == "plain-text passwords are not allowed; use hallops hash-password"


@pytest.mark.parametrize("value", ["secret", "scrypt$1$1$1$a$b", HASH + "x", ""])
def test_bad_password_hash(value: str) -> None:
    p = only_problem(with_change("staff.0.password_hash", value))
    assert p.path == 'staff[0] (username "w1").password_hash'
    assert "not a valid scrypt hash" in p.message and "hallops hash-password" in p.message


def test_duplicate_username() -> None:
    data = minimal()
    data["staff"].append(dict(data["staff"][0], name="乙"))
    p = only_problem(data)
    assert p.path == 'staff[1] (username "w1").username' and 'duplicate username "w1"' in p.message


@pytest.mark.parametrize(
    "key, value, text",
    [("role", "admin", "unknown role"), ("username", "王五", "username"),
     ("username", "a b", "username"), ("name", 3, "expected a string"),
     ("department", [], "expected a string"), ("passwd_hash", HASH, 'did you mean')],
)
def test_staff_value_checks(key: str, value: Any, text: str) -> None:
    p = only_problem(with_change(f"staff.0.{key}", value))
    assert p.path.startswith("staff[0]") and p.path.endswith(key) and text in p.message


@pytest.mark.parametrize("key", ["username", "name", "role", "password_hash"])
def test_staff_required_keys(key: str) -> None:
    p = only_problem(with_change(f"staff.0.{key}", None))
    assert p.path.startswith("staff[0]") and p.message == f'missing required key "{key}"'


# --- line numbers ------------------------------------------------------------------------------


def parse_text(text: str) -> list[ConfigProblem]:
    text = textwrap.dedent(text)
    return parse_hall_config(tomllib.loads(text), source_text=text)[1]


HEAD = """\
schema_version = 1
[hall]
code = "t"
name = "测试"
hours.mon = ["08:30-12:00"]
[[queues]]
code = "A"
name = "a"
kind = "咨询"
daily_cap = 1
"""
STAFF = f'[[staff]]\nusername = "w1"\nname = "n"\nrole = "window"\npassword_hash = "{HASH}"\n'


def test_lines_in_multiline_arrays_and_inline_tables() -> None:
    text = HEAD + textwrap.dedent("""\
        [[windows]]
        number = 1
        name = "1"
        kind = "咨询"
        zone = "z"
        queues = ["A"]

        [[windows]]   # line 17
        number = 5
        name = "5"
        kind = "咨询"
        zone = "z"
        queues = [
            "A",
            # a comment, with "quotes" and [brackets]
            { queue = "Q", weight = 1.0 },

            {queue="A",weight=-1}, ]
        """)
    problems = parse_text(text)
    assert [(p.line, p.path) for p in problems] == [
        (26, "windows[1] (number 5).queues[1].queue"),
        (28, "windows[1] (number 5).queues[2].weight"),
        (28, "windows[1] (number 5).queues[2].queue"),
    ]


def test_lines_for_dotted_keys_and_sub_tables() -> None:
    text = textwrap.dedent("""\
        schema_version = 1
        [hall]
        code = "t"
        name = "测试"
        hours.mon = ["08:30-12:00"]
        hours.tue = ["08:30-12:00"]
        hours.wed = ["08:30-12:00", "bad"]
        [[queues]]
        code = "A"
        name = \"\"\"
        [[windows]]
        number = 99
        \"\"\"
        kind = "咨询"
        daily_cap = 1
        [queues.hours]
        mon = ["08:00-09:00"]
        [[queues]]
        'code' = "B"
        name = "b"
        kind = "咨询"
        daily_cap = 1
        hours = { mon = ["08:30-09:00"], tue = ["08:30-09:00", "07:00-07:30"] }
        [[windows]]
        number = 1
        name = "1"
        kind = "咨询"
        zone = "z"
        queues = ["A", "B", "C"]
        """)
    problems = parse_text(text)
    assert [(p.line, p.path) for p in problems] == [
        (7, "hall.hours.wed[1]"),
        (17, 'queues[0] (code "A").hours.mon[0]'),
        (23, 'queues[1] (code "B").hours.tue[1]'),
        (29, "windows[0] (number 1).queues[2]"),
    ]


def test_problems_without_a_place_come_first() -> None:
    problems = parse_text(HEAD.replace("schema_version = 1\n", "") + STAFF)
    assert problems[0].line is None and problems[0].path == ""
    assert [p.message for p in problems][:2] == [
        "missing schema_version; put schema_version = 1 at the top of the file",
        "the hall has no windows; add at least one [[windows]] table",
    ]


def test_missing_key_points_at_the_table_header() -> None:
    problems = parse_text(HEAD + "[[windows]]\nnumber = 3\nname = '3'\nzone = ''\nqueues = ['A']\n")
    assert [(p.line, str(p)) for p in problems] == [
        (11, '11: windows[0] (number 3): missing required key "kind"')
    ]


# --- files and the command line ----------------------------------------------------------------


def test_syntax_error_is_one_problem_with_a_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('schema_version = 1\n[hall]\ncode = "x\nname = "y"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_hall_config(path)
    [problem] = caught.value.problems
    assert problem.line == 3 and problem.file == str(path)
    assert problem.message.startswith("TOML syntax error: ")
    assert str(problem).startswith(f"{path}:3: TOML syntax error: ")


def test_duplicate_toml_key_is_a_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "dup.toml"
    path.write_text(SMALL.read_text(encoding="utf-8") + '\n[hall]\ncode = "again"\n', "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_hall_config(path)
    assert "TOML syntax error" in str(caught.value)


def test_missing_file() -> None:
    with pytest.raises(ConfigError) as caught:
        load_hall_config(HALLS / "nope.toml")
    assert str(caught.value) == f"{HALLS / 'nope.toml'}: file not found"


def test_directory_and_bad_encoding(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_hall_config(tmp_path)
    path = tmp_path / "gbk.toml"
    path.write_bytes('schema_version = 1\nname = "政务"\n'.encode("gbk"))
    with pytest.raises(ConfigError) as caught:
        load_hall_config(path)
    assert caught.value.problems[0].line == 2
    assert "not valid UTF-8" in str(caught.value)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + SMALL.read_bytes())
    assert load_hall_config(path).code == "small-test"


def test_load_accepts_str_paths() -> None:
    assert load_hall_config(str(SMALL)).code == "small-test"


@pytest.mark.parametrize("path, summary", [
    (DEMO, "OK — 20 windows, 14 queues, 23 staff"),
    (SMALL, "OK — 4 windows, 3 queues, 4 staff"),
])
def test_check_config_valid(path: Path, summary: str) -> None:
    out = io.StringIO()
    assert check_config_main(path, stdout=out) == 0
    assert out.getvalue() == f"{path}: {summary}\n"


def test_check_config_broken() -> None:
    out = io.StringIO()
    assert check_config_main(BROKEN, stdout=out) == 1
    lines = out.getvalue().splitlines()
    assert lines[-1] == f"{BROKEN}: {len(lines) - 1} problems"
    assert len(lines) - 1 == len(BROKEN_EXPECTED) + 1
    for line in lines[:-1]:
        assert re.match(rf"{re.escape(str(BROKEN))}:\d+: \S", line), line
    expected = f'{BROKEN}:100: staff[0] (username "w1").password: plain-text passwords'
    assert expected in out.getvalue()


def test_check_config_missing_file(tmp_path: Path) -> None:
    out = io.StringIO()
    missing = tmp_path / "missing.toml"
    assert check_config_main(missing, stdout=out) == 1
    assert out.getvalue() == f"{missing}: file not found\n"


def test_check_config_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[hall\n", encoding="utf-8")
    out = io.StringIO()
    assert check_config_main(path, stdout=out) == 1
    first, summary = out.getvalue().splitlines()
    assert first.startswith(f"{path}:1: TOML syntax error")
    assert summary == f"{path}: 1 problem"


def test_add_parser_wires_check_config(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="hallops")
    config_file.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["check-config", str(SMALL)])
    assert args.func(args) == 0
    assert "OK —" in capsys.readouterr().out
    args = parser.parse_args(["check-config", str(BROKEN)])
    assert args.func(args) == 1
    assert "problems" in capsys.readouterr().out


# --- never an exception ------------------------------------------------------------------------

_KEYS = sorted({*config_file.TOP_KEYS, *config_file.HALL_KEYS, *config_file.QUEUE_KEYS,
                *config_file.WINDOW_KEYS, *config_file.STAFF_KEYS, "mon", "sat", "weight"})
_TOML_VALUES = st.recursive(
    st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | st.times() | st.dates()
    | st.sampled_from(["A", "B", "Q", "08:30-12:00", "24:00-08:00", "无差别综合", "window", HASH]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)
_PLACES = [
    "schema_version", "hall", "hall.code", "hall.hours", "hall.hours.mon", "hall.allowed_origins",
    "hall.close_of_business", "rules", "queues", "queues.0", "queues.0.code", "queues.1.hours",
    "queues.1.matters", "windows", "windows.0", "windows.1.queues", "windows.1.queues.0",
    "windows.1.number", "staff", "staff.0", "staff.0.password_hash",
]


@settings(max_examples=300, deadline=None)
@given(place=st.sampled_from(_PLACES), value=_TOML_VALUES)
def test_any_value_anywhere_is_accepted_or_reported(place: str, value: Any) -> None:
    config, problems = parse_hall_config(with_change(place, value))
    assert (config is None) == bool(problems)
    assert all(p.message for p in problems)


def test_line_finder_survives_edited_files() -> None:
    """Drop each line of a real file in turn: whatever still parses is checked without error."""
    for source in (SMALL, BROKEN):
        lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        for i in range(len(lines)):
            text = "".join(lines[:i] + lines[i + 1:])
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError:
                continue
            config, problems = parse_hall_config(data, source_text=text)
            assert (config is None) == bool(problems)
            assert all(p.line is None or 1 <= p.line <= len(lines) for p in problems)


def test_every_key_is_documented() -> None:
    doc = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    keys = [*config_file.TOP_KEYS, *config_file.HALL_KEYS, *config_file.QUEUE_KEYS,
            *config_file.WINDOW_KEYS, *config_file.WINDOW_QUEUE_KEYS, *config_file.STAFF_KEYS,
            *(f.name for f in dataclasses.fields(Rules))]
    code_spans = " ".join(re.findall(r"`[^`\n]+`", doc))
    missing = [key for key in keys if not re.search(rf"\b{key}\b", code_spans)]
    assert not missing, f"undocumented config keys: {missing}"


def test_demo_matters_follow_the_catalogue() -> None:
    """Each queue of demo.toml lists exactly the matters.csv rows whose `queue` is its code."""
    import csv

    with (ROOT / "data" / "matters" / "matters.csv").open(encoding="utf-8-sig") as f:
        catalogue = [(row["code"], row["queue"]) for row in csv.DictReader(f)]
    config = load_hall_config(DEMO)
    listed = {(m, q.code) for q in config.queues for m in q.matters}
    assert listed == set(catalogue)


# --- public_url and the daily cap ---------------------------------------------------------------


def test_public_url_is_kept_for_the_kiosk_qr_codes() -> None:
    config, problems = parse_hall_config(with_change("hall.public_url", "https://hall.example.gov.cn"))
    assert problems == [] and config is not None
    assert config.public_url == "https://hall.example.gov.cn"


@pytest.mark.parametrize("bad", ["hall.example.gov.cn", "https://hall.example.gov.cn/t/", "ftp://x"])
def test_public_url_must_be_an_origin(bad: str) -> None:
    problem = only_problem(with_change("hall.public_url", bad))
    assert problem.path.endswith("public_url")


def test_a_daily_cap_above_999_is_refused() -> None:
    problem = only_problem(with_change("queues.0.daily_cap", 1000))
    assert "999" in problem.message
