"""Staffing plans: the format, the sessions they give, and the side-by-side comparison."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from queue_server.sim.plan import DEFAULT_PLAN, PlanError, desk_accounts, load_plan, parse_plan
from queue_server.sim.stats import WaitStats, compare_table

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "halls" / "demo.toml"
MONDAY, SATURDAY = date(2026, 11, 23), date(2026, 11, 28)


def test_the_config_plan_staffs_every_window_in_its_queues_hours(demo_config):
    sessions = DEFAULT_PLAN.sessions(demo_config, MONDAY)
    assert sorted(sessions) == list(range(1, 21))
    s5 = sessions[5]
    assert [(s.start_min, s.end_min, s.window, s.drain) for s in s5] == [
        (510, 720, 5, True),
        (840, 1050, 5, True),
    ]
    saturday = DEFAULT_PLAN.sessions(demo_config, SATURDAY)
    # 5+X: only windows with a queue open on Saturday (A, C, L, P, Z)
    assert sorted(saturday) == [1, 2, 3, 4, 6, 7, 18, 19, 20]
    assert saturday[1][0].start_min == 540


def test_switching_windows_to_another_queue_makes_logical_windows(demo_config):
    plan = load_plan(ROOT / "data" / "plans" / "borrow-5-6.toml", demo_config)
    assert plan.logical == {(5, ("A",)): 105, (6, ("A",)): 106}
    sim = plan.hall_config(demo_config)
    assert [wq.queue for wq in sim.window(105).queues] == ["A"]
    assert sim.window(105).kind.value == "无差别综合" and sim.window(105).zone == "B区"
    s5 = plan.sessions(sim, MONDAY)[5]
    assert [(s.start_min, s.end_min, s.window, s.drain) for s in s5] == [
        (510, 540, 5, False),
        (540, 660, 105, False),
        (660, 720, 5, True),
        (840, 1050, 5, True),
    ]
    friday = plan.sessions(sim, date(2026, 11, 27))
    assert [(s.start_min, s.end_min) for s in friday[3]] == [(510, 720)]  # closed Friday afternoon
    assert plan.sessions(sim, SATURDAY)[6][0].window == 6  # the shift is for weekdays only


def test_extra_windows(demo_config):
    plan = load_plan(ROOT / "data" / "plans" / "peak-extra-a.toml", demo_config)
    sim = plan.hall_config(demo_config)
    assert sim.window(21) is not None and sim.window(22) is not None
    s21 = plan.sessions(sim, MONDAY)[21]
    assert [(s.start_min, s.end_min, s.window, s.drain) for s in s21] == [(540, 660, 21, False)]
    accounts = desk_accounts(sim, plan.desks(demo_config))
    assert accounts[5][0] == "w05" and accounts[21][0] == "sim-21"


def test_plan_problems_are_all_listed(demo_config):
    with pytest.raises(PlanError) as err:
        parse_plan(
            {
                "base": "maybe",
                "windows": [{"number": 3, "queues": ["A"]}],
                "shifts": [
                    {"windows": [99], "from": "9:00", "to": "10:00"},
                    {"windows": [1], "from": "11:00", "to": "10:00"},
                    {"windows": [1], "from": "09:00", "to": "10:00", "queues": ["Q"]},
                ],
                "closed": [{"windows": [1], "from": "25:00", "to": "26:00", "days": ["monday"]}],
                "extra": 1,
            },
            demo_config,
            source="bad.toml",
        )
    text = str(err.value)
    for problem in (
        "unknown key 'extra'",
        'base must be "config" or "none"',
        "window 3 already exists",
        "no window 99",
        "to must be after from",
        "queues must list queue codes",
        "'25:00' is not a time",
    ):
        assert problem in text, problem


def test_comparison_table_side_by_side(demo_config, demo_profile, tmp_path, run_sim):
    plan = load_plan(ROOT / "data" / "plans" / "peak-extra-a.toml", demo_config)
    base, extra = WaitStats(demo_config), WaitStats(plan.hall_config(demo_config))
    run_sim(demo_config, tmp_path / "base.db", observers=[base.observe])
    run_sim(demo_config, tmp_path / "plan.db", plan=plan, observers=[extra.observe])
    # the same citizens: same tickets issued per queue
    assert {q: f.issued for q, f in base.queues.items()} == {q: f.issued for q, f in extra.queues.items()}
    assert extra.queues["A"].mean_wait < base.queues["A"].mean_wait
    assert extra.queues["P"].waits == base.queues["P"].waits  # a queue the plan does not touch
    table = compare_table(base, extra)
    assert "mean config" in table and "mean plan" in table and "max waiting plan" in table
    line_a = next(line for line in table.splitlines() if line.startswith("A "))
    assert len(line_a.split()) == 10  # code, name, then 2 × (served, mean, p90, max waiting)


def test_simulate_plan_from_the_command_line(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "queue_server.cli",
            "simulate",
            "--config",
            str(DEMO),
            "--days",
            "1",
            "--start",
            "2026-11-23",
            "--tickets-per-day",
            "300",
            "--no-progress",
            "--plan",
            str(ROOT / "data" / "plans" / "peak-extra-a.toml"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "早高峰加开两个无差别综合窗口: 2026-11-23" in out.stdout
    assert "served config" in out.stdout and "p90 plan" in out.stdout
    assert not (tmp_path / "var").exists()  # nothing written without --db

    bad = tmp_path / "bad.toml"
    bad.write_text('[[shifts]]\nwindows = [77]\nfrom = "09:00"\nto = "10:00"\n')
    out = subprocess.run(
        [sys.executable, "-m", "queue_server.cli", "simulate", "--config", str(DEMO), "--plan", str(bad)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1 and "no window 77" in out.stderr


def test_a_plan_switching_windows_runs_without_unexpected_refusals(demo_config, tmp_path, run_sim):
    """Staff moving between window 5 and its logical window 105 mid-morning: every command
    (and, with cases, every rating on the pad of the window that served) is accepted."""
    plan = load_plan(ROOT / "data" / "plans" / "borrow-5-6.toml", demo_config)
    result = run_sim(demo_config, tmp_path / "borrow.db", plan=plan)
    assert not result.unexpected, result.unexpected
    logins = (
        sqlite3.connect(tmp_path / "borrow.db")
        .execute(
            "SELECT window FROM events WHERE type = 'staff_logged_in' AND actor = 'staff:w05' ORDER BY id"
        )
        .fetchall()
    )
    assert [w for (w,) in logins] == [5, 105, 5]
