"""Fixtures for the simulator's tests: the demo hall, its default profile, one simulated run
shared by the tests that only read it (simulating is the slow part)."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest

from queue_server.calendar_data import load_calendar
from queue_server.config_file import load_hall_config
from queue_server.hall.config import HallConfig
from queue_server.sim.behaviour.profile import Profile, default_profile
from queue_server.sim.engine import SimResult, simulate
from queue_server.sim.plan import DEFAULT_PLAN, StaffingPlan
from queue_server.sim.stats import WaitStats
from queue_server.store import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
DEMO_HALL = ROOT / "data" / "halls" / "demo.toml"
MONDAY = date(2026, 11, 23)  # a working Monday; 11-28 is a plain Saturday (5+X service)


@pytest.fixture(scope="session")
def demo_config() -> HallConfig:
    return load_hall_config(DEMO_HALL)


@pytest.fixture(scope="session")
def demo_profile(demo_config: HallConfig) -> Profile:
    return default_profile(demo_config)


@pytest.fixture(scope="session")
def calendar():
    return load_calendar()


def _run_sim(
    config: HallConfig,
    db: Path | str,
    *,
    start: date = MONDAY,
    days: int = 1,
    seed: int = 1,
    profile: Profile | None = None,
    plan: StaffingPlan = DEFAULT_PLAN,
    observers=(),
) -> SimResult:
    async def go() -> SimResult:
        store = SqliteStore(db, synchronous="OFF")
        await store.open()
        try:
            return await simulate(
                config,
                store,
                start=start,
                days=days,
                seed=seed,
                profile=profile or default_profile(config),
                plan=plan,
                calendar=load_calendar(),
                observers=observers,
            )
        finally:
            await store.close()

    return asyncio.run(go())


@pytest.fixture(scope="session")
def run_sim():
    """``run_sim(config, db, start=, days=, seed=, profile=, plan=, observers=)`` → SimResult."""
    return _run_sim


class Week:
    """Monday to Wednesday of the demo hall, seed 1, in one database."""

    def __init__(self, db: Path, result: SimResult, stats: WaitStats, config: HallConfig) -> None:
        self.db = db
        self.result = result
        self.stats = stats
        self.config = config


@pytest.fixture(scope="session")
def week(tmp_path_factory: pytest.TempPathFactory, demo_config: HallConfig) -> Week:
    db = tmp_path_factory.mktemp("sim") / "week.db"
    stats = WaitStats(demo_config)
    result = _run_sim(demo_config, db, days=3, observers=[stats.observe])
    return Week(db, result, stats, demo_config)
