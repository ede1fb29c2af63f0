"""queue_server.sim.cli_simulate: ``hallops simulate`` arguments, errors and the continued
database (``hallops demo`` is covered by test_sim_live.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from queue_server.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEMO = str(ROOT / "data" / "halls" / "demo.toml")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse refuses bad arguments with exit status 2
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--days", "0"], "must be 1 or more"),
        (["--days", "two"], "'two' is not a whole number"),
        (["--start", "2026-13-01"], "'2026-13-01' is not a date YYYY-MM-DD"),
        (["--batch-minutes", "0"], "must be 1 or more"),
    ],
)
def test_bad_arguments_are_refused(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(["simulate", "--db", str(tmp_path / "x.db"), *args], capsys)
    assert code == 2 and out == ""
    assert message in err
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--config", "nope.toml"], "hallops: config file not found: nope.toml"),
        (["--mix", "A=x"], "hallops: --mix weight 'x' of A is not a number"),
        (["--mix", "QQ=1"], "hallops: --mix names queues this hall does not have: QQ"),
        (["--plan", "nope-plan.toml"], "hallops: nope-plan.toml: cannot read the plan: No such file"),
    ],
)
def test_problems_are_one_message_and_exit_1(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(["simulate", "--config", DEMO, "--db", str(tmp_path / "x.db"), *args], capsys)
    assert (code, out) == (1, "")
    assert err.startswith(message)
    assert not (tmp_path / "x.db").exists()


def test_a_database_is_continued_from_the_day_after_its_last(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = tmp_path / "sim.db"
    base = ["simulate", "--config", DEMO, "--db", str(db), "--no-progress"]
    code, out, err = run([*base, "--start", "2026-11-23"], capsys)
    assert (code, err) == (0, "")
    assert out.startswith("config: 2026-11-23 … 2026-11-23, 1 days (1 working)")
    assert "queue" in out and "\nall " in out  # the summary table

    code, out, err = run([*base, "--start", "2026-11-23"], capsys)
    assert code == 1
    assert f"{db} already holds days up to 2026-11-23: use a later --start or --fresh" in err

    code, out, err = run(base, capsys)
    assert code == 0
    assert out.startswith("config: 2026-11-24 … 2026-11-24")
    con = sqlite3.connect(db)
    try:
        days = [d for (d,) in con.execute("SELECT DISTINCT service_date FROM events ORDER BY 1")]
    finally:
        con.close()
    assert days == ["2026-11-23", "2026-11-24"]
