"""Sample documents and files for the config_file tests, and helpers to break them one
thing at a time."""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path
from typing import Any

from queue_server.config_file import ConfigProblem, parse_hall_config
from queue_server.passwords import hash_password

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "halls" / "demo.toml"
HALLS = ROOT / "tests" / "fixtures" / "halls"
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
            {"number": 1, "name": "1号", "kind": "无差别综合", "zone": "A区", "queues": ["A"]},
            {
                "number": 2,
                "name": "2号",
                "kind": "分领域",
                "zone": "B区",
                "queues": [{"queue": "B", "weight": 1.0}, {"queue": "A", "weight": 0.5}],
            },
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
