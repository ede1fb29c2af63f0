"""queue_server.config_file.check_command: ``hallops check-config FILE``."""

from __future__ import annotations

import argparse
import io
import re
from pathlib import Path

import pytest

from queue_server import config_file
from queue_server.config_file import check_config_main

from config_samples import BROKEN, BROKEN_EXPECTED, DEMO, SMALL


@pytest.mark.parametrize(
    "path, summary",
    [
        (DEMO, "OK — 20 windows, 14 queues, 25 staff"),
        (SMALL, "OK — 4 windows, 3 queues, 4 staff"),
    ],
)
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
