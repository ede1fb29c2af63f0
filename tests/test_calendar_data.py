"""Year files: format, validation, import and loading."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from queue_server import calendar_data
from queue_server.calendar_data import import_year_file, load_calendar, read_year_file
from queue_server.hall.calendar import Deadline

FIXTURE = Path(__file__).parent / "fixtures" / "calendar" / "2027.toml"
SH = ZoneInfo("Asia/Shanghai")
CLOSE = time(17, 30)

FIXED_2027 = ["2027-01-01", "2027-05-01", "2027-05-02", "2027-10-01", "2027-10-02", "2027-10-03"]


def cob(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 17, 30, tzinfo=SH)


def year_file(tmp_path: Path, body: str, name: str = "src.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def valid_body(year: int = 2027, holidays: list[str] | None = None, workdays: str = "[]") -> str:
    days = holidays if holidays is not None else FIXED_2027
    return f'year = {year}\nsource = "test notice"\nholidays = [{", ".join(days)}]\nworkdays = {workdays}\n'


# --------------------------------------------------------------------------- loading


def test_empty_or_missing_directory_gives_the_package_calendar(tmp_path: Path) -> None:
    for directory in (tmp_path, tmp_path / "missing"):
        cal = load_calendar(directory)
        assert cal.is_official(2026)
        assert not cal.is_official(2027)


def test_default_directory_is_the_repo_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(calendar_data.ENV_VAR, raising=False)
    expected = Path(__file__).resolve().parent.parent / "data" / "calendar"
    assert calendar_data.calendar_dir() == expected
    assert (expected / "README.md").is_file()
    assert load_calendar().is_official(2026)


def test_shipped_files_are_never_test_data() -> None:
    for path in calendar_data.DEFAULT_DIR.glob("*.toml"):
        assert "TEST DATA" not in path.read_text(encoding="utf-8"), path


def test_environment_variable_names_the_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import_year_file(FIXTURE, tmp_path)
    monkeypatch.setenv(calendar_data.ENV_VAR, str(tmp_path))
    assert calendar_data.calendar_dir() == tmp_path
    assert load_calendar().is_official(2027)
    # An explicit argument wins over the variable.
    assert not load_calendar(tmp_path / "other").is_official(2027)


def test_fixture_is_valid_test_data() -> None:
    data = read_year_file(FIXTURE)
    assert data.year == 2027 and data.official
    assert "TEST DATA" in data.source
    assert FIXTURE.read_text(encoding="utf-8").startswith("# TEST DATA, NOT OFFICIAL")


# --------------------------------------------------------------------------- import


def test_import_makes_2027_official_and_changes_deadlines(tmp_path: Path) -> None:
    data_dir = tmp_path / "calendar"
    before = load_calendar(data_dir)
    assert before.deadline(datetime(2026, 12, 30, 10, tzinfo=SH), 5, CLOSE, SH) == Deadline(
        at=cob(2027, 1, 7), provisional=True
    )
    assert before.deadline(datetime(2027, 2, 3, 10, tzinfo=SH), 5, CLOSE, SH) == Deadline(
        at=cob(2027, 2, 10), provisional=True
    )

    assert import_year_file(FIXTURE, data_dir) == 2027
    target = data_dir / "2027.toml"
    assert target.read_bytes() == FIXTURE.read_bytes()  # comments kept
    assert sorted(p.name for p in data_dir.iterdir()) == ["2027.toml"]  # no temp file left

    after = load_calendar(data_dir)
    assert after.is_official(2027)
    assert after.deadline(datetime(2026, 12, 30, 10, tzinfo=SH), 5, CLOSE, SH) == Deadline(
        at=cob(2027, 1, 7), provisional=False
    )
    assert after.deadline(datetime(2027, 2, 3, 10, tzinfo=SH), 5, CLOSE, SH) == Deadline(
        at=cob(2027, 2, 17), provisional=False
    )


def test_import_replaces_an_earlier_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "cal"
    import_year_file(FIXTURE, data_dir)
    assert not load_calendar(data_dir).is_working_day(date(2027, 2, 8))
    corrected = year_file(tmp_path, valid_body(), name="corrected-2027.toml")
    assert import_year_file(corrected, data_dir) == 2027
    assert load_calendar(data_dir).is_working_day(date(2027, 2, 8))  # no 春节 any more
    assert import_year_file(data_dir / "2027.toml", data_dir) == 2027  # onto itself
    assert (data_dir / "2027.toml").read_bytes() == corrected.read_bytes()


def test_a_file_overrides_a_package_year(tmp_path: Path) -> None:
    body = valid_body(2026, [d.replace("2027", "2026") for d in FIXED_2027])
    import_year_file(year_file(tmp_path, body), tmp_path / "cal")
    cal = load_calendar(tmp_path / "cal")
    assert cal.is_working_day(date(2026, 2, 16))  # the package's 春节 is gone
    assert not cal.is_working_day(date(2026, 2, 14))  # and its make-up Saturday
    assert cal.year_data(2026).source == "test notice"


def test_string_dates_and_december_of_the_previous_year(tmp_path: Path) -> None:
    body = valid_body(holidays=[f'"{d}"' for d in FIXED_2027] + ['"2026-12-31"'], workdays='["2026-12-26"]')
    import_year_file(year_file(tmp_path, body), tmp_path / "cal")
    cal = load_calendar(tmp_path / "cal")
    assert not cal.is_working_day(date(2026, 12, 31))
    assert cal.is_working_day(date(2026, 12, 26))


def test_official_false_stays_provisional(tmp_path: Path) -> None:
    body = valid_body() + "official = false\n"
    import_year_file(year_file(tmp_path, body), tmp_path / "cal")
    cal = load_calendar(tmp_path / "cal")
    assert cal.is_provisional(date(2027, 3, 1))


BAD_FILES = [
    (valid_body(workdays="[2027-02-15]"), "must be a Saturday or Sunday"),
    (valid_body(holidays=[*FIXED_2027, "2027-02-20"], workdays="[2027-02-20]"),
     "both a holiday and a make-up working day"),
    (valid_body(holidays=[*FIXED_2027, "2026-11-30"]), "outside 2027"),
    (valid_body(holidays=[*FIXED_2027, "2028-01-01"]), "outside 2027"),
    (valid_body(holidays=FIXED_2027[1:]), "fixed-date statutory holiday.*2027-01-01"),
    (valid_body(holidays=[*FIXED_2027, "2027-01-01"]), "2027-01-01 is listed twice"),
    (valid_body(holidays=[*FIXED_2027, '"2027-13-01"']), "'2027-13-01' is not a date"),
    (valid_body() + "workday = []\n", "unknown key.*workday"),
    (valid_body().replace('source = "test notice"\n', ""), "missing key 'source'"),
    (valid_body().replace('"test notice"', '" "'), "'source' must name the notice"),
    (valid_body().replace("year = 2027", 'year = "2027"'), "'year' must be a whole number"),
    (valid_body() + "official = 1\n", "'official' must be true or false"),
    (valid_body(workdays='"2027-02-20"'), "'workdays' must be a list"),
    ("year = 2027\nholidays = [2027-01-01\n", "not valid TOML"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "message"), BAD_FILES)
def test_import_rejects_bad_files(tmp_path: Path, body: str, message: str) -> None:
    src = year_file(tmp_path, body)
    data_dir = tmp_path / "cal"
    with pytest.raises(ValueError, match=message) as err:
        import_year_file(src, data_dir)
    assert str(src) in str(err.value)
    assert not (data_dir / "2027.toml").exists()


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    body = valid_body(holidays=FIXED_2027[1:], workdays="[2027-02-15]") + "extra = 1\n"
    with pytest.raises(ValueError) as err:
        read_year_file(year_file(tmp_path, body))
    message = str(err.value)
    assert "Saturday or Sunday" in message
    assert "fixed-date" in message
    assert "unknown key" in message


def test_missing_source_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        import_year_file(tmp_path / "nope.toml", tmp_path / "cal")


def test_loading_checks_the_file_name(tmp_path: Path) -> None:
    year_file(tmp_path, valid_body(), name="2026.toml")
    with pytest.raises(ValueError, match=r"must be named 2027\.toml"):
        load_calendar(tmp_path)


def test_loading_reports_a_broken_file(tmp_path: Path) -> None:
    year_file(tmp_path, valid_body(workdays="[2027-02-15]"), name="2027.toml")
    with pytest.raises(ValueError, match=r"2027\.toml.*\n.*Saturday or Sunday"):
        load_calendar(tmp_path)
