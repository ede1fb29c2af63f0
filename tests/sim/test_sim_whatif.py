"""queue_server.sim.whatif: the same citizens against the hall's own staffing and a plan, as
the dashboard's 排班模拟 page shows them."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from queue_server.hall.config import HallConfig
from queue_server.sim.plan import load_plan
from queue_server.sim.whatif import compare_plans

MONDAY = date(2026, 11, 23)  # a working Monday
PLAN = Path(__file__).resolve().parents[2] / "data" / "plans" / "peak-extra-a.toml"


def test_extra_windows_for_a_cut_waits_in_a_only(demo_config: HallConfig, calendar) -> None:
    plan = load_plan(PLAN, demo_config)
    result = asyncio.run(compare_plans(demo_config, plan, start=MONDAY, days=1, seed=1, calendar=calendar))
    rows = {row["queue"].split()[0]: row for row in result.rows()}
    assert list(rows)[-1] == "all"
    busy = [q.code for q in demo_config.queues if result.base.queues[q.code].issued]
    assert list(rows)[:-1] == busy
    # the same seed: the same citizens take tickets in both runs
    for code in busy:
        assert result.base.queues[code].issued == result.plan.queues[code].issued
    a = rows["A"]
    assert a["mean_wait_min_plan"] < a["mean_wait_min_base"]
    assert a["mean_wait_min_base"] == round(result.base.queues["A"].mean_wait / 60, 1)
    assert a["max_waiting_plan"] <= a["max_waiting_base"]
    assert rows["all"]["served_base"] == result.base.total().served
    assert rows["all"]["served_plan"] == result.plan.total().served
