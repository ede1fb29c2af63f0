"""queue_server.config_file.source_lines: the line of each problem in the TOML text."""

from __future__ import annotations

import textwrap
import tomllib

from queue_server.config_file import parse_hall_config

from config_samples import BROKEN, HEAD, SMALL, STAFF, parse_text

# --- line numbers ------------------------------------------------------------------------------


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


def test_line_finder_survives_edited_files() -> None:
    """Drop each line of a real file in turn: whatever still parses is checked without error."""
    for source in (SMALL, BROKEN):
        lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        for i in range(len(lines)):
            text = "".join(lines[:i] + lines[i + 1 :])
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError:
                continue
            config, problems = parse_hall_config(data, source_text=text)
            assert (config is None) == bool(problems)
            assert all(p.line is None or 1 <= p.line <= len(lines) for p in problems)
