"""A recorded hall for the dashboard tests: the demo hall driven through the core for two
full days and the morning of a third (Wednesday 18 to Friday 20 November 2026, "now" frozen
at 10:30 on the 20th with HALLOPS_NOW): tickets, windows, cases, ratings, rectifications."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from queue_server.config_file import load_hall_config
from queue_server.hall.config import HallConfig

from dashboard_drive import DAYS, DEMO_HALL, NOW, drive_days


@pytest.fixture(scope="session")
def demo_config() -> HallConfig:
    return load_hall_config(DEMO_HALL)


@pytest.fixture(scope="session")
def hall_db(tmp_path_factory: pytest.TempPathFactory, demo_config: HallConfig) -> Path:
    """The recorded demo hall (built once per test session)."""
    path = tmp_path_factory.mktemp("hall") / "hall.db"
    refused = drive_days(path, demo_config, DAYS, until=NOW, per_hour=60, seed=11)
    # the core refused nothing but the routine: an empty queue, a queue closed for lunch
    assert set(refused) <= {"CallNext: queue_empty", "IssueTicket: queue_closed"}, refused
    return path


@pytest.fixture
def dashboard_env(monkeypatch: pytest.MonkeyPatch, hall_db: Path) -> Path:
    """Point the app at the recorded hall, with the clock frozen at NOW."""
    monkeypatch.setenv("HALLOPS_DB", str(hall_db))
    monkeypatch.setenv("HALLOPS_CONFIG", str(DEMO_HALL))
    monkeypatch.setenv("HALLOPS_NOW", NOW.isoformat())
    return hall_db


@pytest.fixture
def sql(hall_db: Path) -> Iterator[sqlite3.Connection]:
    """A plain read-only sqlite3 connection to the recorded hall: the independent check."""
    con = sqlite3.connect(f"file:{hall_db}?mode=ro", uri=True)
    try:
        yield con
    finally:
        con.close()
