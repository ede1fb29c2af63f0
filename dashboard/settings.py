"""Where the dashboard finds its database, its hall config and its clock (environment
variables set by ``hallops dashboard``). Light on purpose: the CLI imports it."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

DB_ENV = "HALLOPS_DB"
CONFIG_ENV = "HALLOPS_CONFIG"
NOW_ENV = "HALLOPS_NOW"  # freeze the dashboard clock (tests, demos of a recorded day)
DEFAULT_CONFIG = "data/halls/demo.toml"


def db_path_from_env() -> Path:
    value = os.environ.get(DB_ENV)
    if not value:
        raise RuntimeError(f"set {DB_ENV} to the hall's SQLite database (hallops dashboard --db FILE does)")
    return Path(value)


def config_path_from_env() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def hall_now(tz: str | ZoneInfo) -> datetime:
    """The hall's current time: the real clock, or ``HALLOPS_NOW`` when set (ISO 8601)."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    frozen = os.environ.get(NOW_ENV)
    if frozen:
        value = datetime.fromisoformat(frozen)
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(zone)
    return datetime.now(zone)
