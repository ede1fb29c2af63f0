"""What-if staffing: the same citizens against the hall's own window plan and another one.

Both runs use the same seed, so the arrivals are the same; each goes through the hall core
into its own in-memory store, exactly like ``hallops simulate --plan``. Used by the
dashboard's 排班模拟 page; the command line prints the same figures with ``compare_table``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ..hall.calendar import WorkCalendar
from ..hall.config import HallConfig
from ..store import SqliteStore
from .behaviour.profile import Profile, default_profile
from .engine import simulate
from .plan import DEFAULT_PLAN, StaffingPlan
from .stats import WaitStats


@dataclass(frozen=True)
class Comparison:
    base: WaitStats
    plan: WaitStats

    def rows(self) -> list[dict[str, Any]]:
        """One row a queue that had tickets in either run, then the whole hall ("all")."""
        out = []
        pairs = [
            (f"{q.code} {q.name}", self.base.queues[q.code], self.plan.queues.get(q.code))
            for q in self.base.config.queues
        ]
        pairs.append(("all", self.base.total(), self.plan.total()))
        for label, a, b in pairs:
            if b is None or not (a.issued or b.issued):
                continue
            out.append(
                {
                    "queue": label,
                    "served_base": a.served,
                    "served_plan": b.served,
                    "mean_wait_min_base": round(a.mean_wait / 60, 1),
                    "mean_wait_min_plan": round(b.mean_wait / 60, 1),
                    "p90_wait_min_base": round(a.p90_wait / 60, 1),
                    "p90_wait_min_plan": round(b.p90_wait / 60, 1),
                    "max_waiting_base": a.max_waiting,
                    "max_waiting_plan": b.max_waiting,
                }
            )
        return out


async def compare_plans(
    config: HallConfig,
    plan: StaffingPlan,
    *,
    start: date,
    days: int,
    seed: int,
    calendar: WorkCalendar,
    profile: Profile | None = None,
) -> Comparison:
    profile = profile or default_profile(config)
    stats: list[WaitStats] = []
    for run_plan in (DEFAULT_PLAN, plan):
        run = WaitStats(run_plan.hall_config(config))
        store = SqliteStore(":memory:", synchronous="OFF")
        await store.open()
        try:
            await simulate(
                config,
                store,
                start=start,
                days=days,
                seed=seed,
                profile=profile,
                plan=run_plan,
                calendar=calendar,
                observers=[run.observe],
                batch_minutes=15,
            )
        finally:
            await store.close()
        stats.append(run)
    return Comparison(base=stats[0], plan=stats[1])
