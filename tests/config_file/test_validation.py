"""queue_server.config_file.validation: every table checked, every problem collected."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_server import config_file
from queue_server.config_file import parse_hall_config
from queue_server.hall.config import QueueKind, Rules, StaffRole

from config_samples import HASH, minimal, only_problem, problems_of, with_change

# --- a valid document ------------------------------------------------------------------------


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


@pytest.mark.parametrize("value, text", [(2, "unsupported schema_version 2"), ("1", "expected an integer")])
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
    [
        ("17:60", "minute 60"),
        ("24:00", "hour 24"),
        ("5pm", "bad time"),
        (1730, "expected a time"),
        (dt.time(17, 30, 15), "HH:MM"),
    ],
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
    [
        "http://localhost/",
        "http://localhost:8765/display",
        "ws://localhost",
        "localhost:8765",
        "http://localhost:99999",
        "http://localhost:port",
        "*",
        "http://LOCALHOST",
        " http://localhost",
        "http://user@localhost",
        "http://localhost?x=1",
    ],
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
    [
        ("notice", 5, "expected a string"),
        ("require_display_token", "yes", "true or false"),
        ("allowed_origins", "http://localhost", "expected an array"),
        ("name", ["x"], "string"),
    ],
)
def test_hall_wrong_types(key: str, value: Any, text: str) -> None:
    p = only_problem(with_change(f"hall.{key}", value))
    assert p.path == f"hall.{key}" and text in p.message


def test_hall_unknown_key() -> None:
    p = only_problem(with_change("hall.timezome", "Asia/Shanghai"))
    assert p.path == "hall.timezome" and 'did you mean "timezone"' in p.message


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
    data["queues"][1].update(
        department="县税务局",
        default_service_s=600,
        alert_waiting=10,
        alert_wait_min=20,
        matters=["SW-001", "SW-002"],
    )
    config, problems = parse_hall_config(data)
    assert not problems
    b = config.queue("B")
    assert (b.department, b.default_service_s, b.alert_waiting, b.alert_wait_min, b.matters) == (
        "县税务局",
        600.0,
        10,
        20,
        ("SW-001", "SW-002"),
    )
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
    assert any(
        p.message == f'missing required key "{key}"' and p.path.startswith("queues[0]") for p in problems
    )


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
    assert (w.kind, w.zone, w.department, w.accessible) == (QueueKind.GENERAL, "A区", "县政务服务中心", True)
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
    [
        ("number", 0, "at least 1"),
        ("number", "2", "expected an integer"),
        ("number", 2.0, "expected an integer"),
        ("accessible", "yes", "true or false"),
        ("kind", "窗口", "unknown kind"),
        ("zone", 1, "expected a string"),
        ("name", "", "must not be empty"),
    ],
)
def test_window_value_checks(key: str, value: Any, text: str) -> None:
    p = only_problem(with_change(f"windows.1.{key}", value))
    assert p.path.startswith("windows[1]") and p.path.endswith(f".{key}") and text in p.message


@pytest.mark.parametrize("key", ["number", "name", "kind", "zone", "queues"])
def test_window_required_keys(key: str) -> None:
    problems = problems_of(with_change(f"windows.0.{key}", None))
    assert any(
        p.message == f'missing required key "{key}"' and p.path.startswith("windows[0]") for p in problems
    )


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
    [
        ("role", "admin", "unknown role"),
        ("username", "王五", "username"),
        ("username", "a b", "username"),
        ("name", 3, "expected a string"),
        ("department", [], "expected a string"),
        ("passwd_hash", HASH, "did you mean"),
    ],
)
def test_staff_value_checks(key: str, value: Any, text: str) -> None:
    p = only_problem(with_change(f"staff.0.{key}", value))
    assert p.path.startswith("staff[0]") and p.path.endswith(key) and text in p.message


@pytest.mark.parametrize("key", ["username", "name", "role", "password_hash"])
def test_staff_required_keys(key: str) -> None:
    p = only_problem(with_change(f"staff.0.{key}", None))
    assert p.path.startswith("staff[0]") and p.message == f'missing required key "{key}"'


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


# --- never an exception ------------------------------------------------------------------------

_KEYS = sorted(
    {
        *config_file.TOP_KEYS,
        *config_file.HALL_KEYS,
        *config_file.QUEUE_KEYS,
        *config_file.WINDOW_KEYS,
        *config_file.STAFF_KEYS,
        "mon",
        "sat",
        "weight",
    }
)
_TOML_VALUES = st.recursive(
    st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.times()
    | st.dates()
    | st.sampled_from(["A", "B", "Q", "08:30-12:00", "24:00-08:00", "无差别综合", "window", HASH]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)
_PLACES = [
    "schema_version",
    "hall",
    "hall.code",
    "hall.hours",
    "hall.hours.mon",
    "hall.allowed_origins",
    "hall.close_of_business",
    "rules",
    "queues",
    "queues.0",
    "queues.0.code",
    "queues.1.hours",
    "queues.1.matters",
    "windows",
    "windows.0",
    "windows.1.queues",
    "windows.1.queues.0",
    "windows.1.number",
    "staff",
    "staff.0",
    "staff.0.password_hash",
]


@settings(max_examples=300, deadline=None)
@given(place=st.sampled_from(_PLACES), value=_TOML_VALUES)
def test_any_value_anywhere_is_accepted_or_reported(place: str, value: Any) -> None:
    config, problems = parse_hall_config(with_change(place, value))
    assert (config is None) == bool(problems)
    assert all(p.message for p in problems)


# --- allowed_hosts and the security rules --------------------------------------------------------


def test_allowed_hosts_are_read() -> None:
    data = minimal()
    data["hall"]["allowed_hosts"] = ["hall.lan", "192.168.1.10", "::1"]
    config, problems = parse_hall_config(data)
    assert problems == [] and config is not None
    assert config.allowed_hosts == ("hall.lan", "192.168.1.10", "::1")


@pytest.mark.parametrize(
    "host", ["http://hall.lan", "hall.lan:8765", "Hall.Lan", "hall lan", "hall.lan/x", "*"]
)
def test_allowed_hosts_must_be_plain_host_names(host: str) -> None:
    data = minimal()
    data["hall"]["allowed_hosts"] = ["hall.lan", host]
    problem = only_problem(data)
    assert problem.path == "hall.allowed_hosts[1]" and "not a host name" in problem.message


@pytest.mark.parametrize("key", ["booking_horizon_days", "login_attempts", "login_lockout_s"])
def test_security_rules_must_be_positive(key: str) -> None:
    data = minimal()
    data["rules"] = {key: 0}
    assert only_problem(data).path == f"rules.{key}"
