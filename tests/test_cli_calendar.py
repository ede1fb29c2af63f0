"""``hallops calendar`` through its own argparse registration."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from queue_server import cli_calendar

FIXTURE = Path(__file__).parent / "fixtures" / "calendar" / "2027.toml"
ONE_LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d( provisional)?\n")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="hallops")
    sub = parser.add_subparsers(dest="command")
    cli_calendar.add_parser(sub)
    args = parser.parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def deadline(tmp_path: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, out, err = run(["calendar", "deadline", *argv, "--calendar-dir", str(tmp_path)], capsys)
    assert code == 0, err
    assert ONE_LINE.fullmatch(out), out
    return out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["2026-09-30", "1"], "2026-10-08T17:30:00+08:00\n"),
        (["2026-09-30", "3"], "2026-10-10T17:30:00+08:00\n"),
        (["2026-09-30T18:45", "1"], "2026-10-08T17:30:00+08:00\n"),
        (["2026-10-09T16:30:00Z", "1"], "2026-10-12T17:30:00+08:00\n"),
        (["2026-10-09T16:30:00+00:00", "1"], "2026-10-12T17:30:00+08:00\n"),
        (["2026-10-03", "0"], "2026-10-08T17:30:00+08:00\n"),
        (["2026-09-30T10:00", "0"], "2026-09-30T17:30:00+08:00\n"),
        (["2026-09-30", "1", "--paused", "2"], "2026-10-10T17:30:00+08:00\n"),
        (["2026-09-30", "1", "--close", "12:00"], "2026-10-08T12:00:00+08:00\n"),
        (["2026-09-30", "1", "--tz", "Asia/Tokyo"], "2026-10-08T17:30:00+09:00\n"),
        (["2026-02-13", "1"], "2026-02-14T17:30:00+08:00\n"),
        (["2025-09-30", "1"], "2025-10-09T17:30:00+08:00\n"),
        (["2026-12-30", "5"], "2027-01-07T17:30:00+08:00 provisional\n"),
    ],
)
def test_deadline_prints_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    assert deadline(tmp_path, capsys, *argv) == expected


def test_import_then_deadline_is_no_longer_provisional(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deadline(tmp_path, capsys, "2027-02-03", "5") == "2027-02-10T17:30:00+08:00 provisional\n"
    code, out, err = run(["calendar", "import", str(FIXTURE), "--calendar-dir", str(tmp_path)], capsys)
    assert code == 0, err
    assert out.startswith("loaded 2027 (official)")
    assert "29 holidays, 5 make-up working days" in out
    assert (tmp_path / "2027.toml").is_file()
    assert deadline(tmp_path, capsys, "2027-02-03", "5") == "2027-02-17T17:30:00+08:00\n"
    assert deadline(tmp_path, capsys, "2026-12-30", "5") == "2027-01-07T17:30:00+08:00\n"


def test_calendar_dir_before_the_subcommand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(["calendar", "--calendar-dir", str(tmp_path), "import", str(FIXTURE)], capsys)
    code, out, _ = run(["calendar", "--calendar-dir", str(tmp_path), "deadline", "2027-02-03", "5"], capsys)
    assert (code, out) == (0, "2027-02-17T17:30:00+08:00\n")


def test_show_official_year(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["calendar", "show", "2026", "--calendar-dir", str(tmp_path)], capsys)
    assert code == 0
    assert "official" in out
    assert "2026-10-01 – 2026-10-07" in out
    for make_up in ("2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20",
                    "2026-10-10"):  # fmt: skip
        assert make_up in out
    assert "December dates stay provisional until 2027" in out


def test_show_provisional_then_imported_year(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["calendar", "show", "2027", "--calendar-dir", str(tmp_path)], capsys)
    assert code == 0
    assert "provisional" in out
    assert "2027-10-01 – 2027-10-03" in out
    run(["calendar", "import", str(FIXTURE), "--calendar-dir", str(tmp_path)], capsys)
    code, out, _ = run(["calendar", "show", "2027", "--calendar-dir", str(tmp_path)], capsys)
    assert "official" in out and "TEST DATA" in out
    assert "2027-02-14  Sun 周日" in out


def test_import_of_a_bad_file_fails_with_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'year = 2027\nsource = "x"\nholidays = [2027-01-01]\nworkdays = [2027-02-15]\n',
        encoding="utf-8",
    )
    data_dir = tmp_path / "cal"
    code, out, err = run(["calendar", "import", str(bad), "--calendar-dir", str(data_dir)], capsys)
    assert code == 1
    assert out == ""
    assert "Saturday or Sunday" in err and "fixed-date" in err
    assert not data_dir.exists() or not any(data_dir.iterdir())


def test_broken_data_dir_fails_with_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "2027.toml").write_text("year = 2027\n", encoding="utf-8")
    code, out, err = run(["calendar", "deadline", "2026-09-30", "1", "--calendar-dir", str(tmp_path)], capsys)
    assert (code, out) == (1, "")
    assert "missing key 'source'" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["calendar", "deadline", "2026-09-30", "-1"],
        ["calendar", "deadline", "2026-09-30", "x"],
        ["calendar", "deadline", "30/09/2026", "1"],
        ["calendar", "deadline", "2026-09-30", "1", "--tz", "Mars/Olympus"],
        ["calendar", "deadline", "2026-09-30", "1", "--close", "5pm"],
        ["calendar", "show", "twenty"],
        ["calendar", "import"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        run(argv, capsys)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err


def test_no_subcommand_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(["calendar"], capsys)
    assert code == 2
    assert "choose a command" in err
