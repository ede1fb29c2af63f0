"""queue_server.config_file.problems: how one problem and a list of them read."""

from __future__ import annotations

from queue_server.config_file import ConfigError, ConfigProblem

# --- ConfigProblem / ConfigError ---------------------------------------------------------------


def test_problem_str() -> None:
    p = ConfigProblem(
        path="windows[3].queues[1]", line=123, message='window 5 serves unknown queue "Q"', file="demo.toml"
    )
    assert str(p) == 'demo.toml:123: windows[3].queues[1]: window 5 serves unknown queue "Q"'
    assert str(ConfigProblem(path="hall", line=None, message="m")) == "hall: m"
    assert str(ConfigProblem(path="", line=4, message="m", file="f.toml")) == "f.toml:4: m"
    assert str(ConfigProblem(path="", line=None, message="m", file="f.toml")) == "f.toml: m"


def test_config_error_lists_all_problems() -> None:
    problems = [ConfigProblem(path="a", line=1, message="x"), ConfigProblem("b", 2, "y")]
    error = ConfigError(problems)
    assert error.problems == tuple(problems)
    assert str(error) == "1: a: x\n2: b: y"
