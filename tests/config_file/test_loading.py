"""queue_server.config_file.loading: a file (encoding, TOML syntax) -> HallConfig, and the
shipped hall files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from queue_server.config_file import ConfigError, load_hall_config
from queue_server.hall.config import QueueKind, StaffRole
from queue_server.passwords import verify_password

from config_samples import BROKEN, BROKEN_EXPECTED, DEMO, HALLS, ROOT, SMALL, WEEKDAY_HOURS

# --- the shipped files -------------------------------------------------------------------------


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
    assert usernames == [f"w{n:02d}" for n in range(1, 21)] + [
        "bo-tax",
        "bo-realestate",
        "manager",
        "dbr-01",
        "dbr-02",
    ]
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


def test_broken_hall_reports_every_problem_in_place() -> None:
    with pytest.raises(ConfigError) as caught:
        load_hall_config(BROKEN)
    problems = caught.value.problems
    found = {(p.line, p.path, p.message) for p in problems}
    for line, path, message in BROKEN_EXPECTED:
        assert any(
            p_line == line and p_path == path and message in p_message for p_line, p_path, p_message in found
        ), f"missing {line}: {path}: ...{message}...\ngot:\n{caught.value}"
    assert all(p.file == str(BROKEN) for p in problems)
    assert [p.line for p in problems] == sorted(p.line for p in problems)  # in file order
    # no noise beyond the expected problems (fri has two bad hours)
    assert len(problems) == len(BROKEN_EXPECTED) + 1
    text = str(caught.value)
    assert text.count("\n") == len(problems) - 1
    assert f"{BROKEN}:78: windows[1] (number 1).queues[1].queue: window 1 serves unknown" in text


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


def test_demo_matters_follow_the_catalogue() -> None:
    """Each queue of demo.toml lists exactly the matters.csv rows whose `queue` is its code."""
    with (ROOT / "data" / "matters" / "matters.csv").open(encoding="utf-8-sig") as f:
        catalogue = [(row["code"], row["queue"]) for row in csv.DictReader(f)]
    config = load_hall_config(DEMO)
    listed = {(m, q.code) for q in config.queues for m in q.matters}
    assert listed == set(catalogue)
