"""Where the dashboard finds its database and its hall config (environment variables set
by ``hallops dashboard``). Light on purpose: the CLI imports it. The clock: ``hall_clock``."""

from __future__ import annotations

import os
from pathlib import Path

DB_ENV = "HALLOPS_DB"
CONFIG_ENV = "HALLOPS_CONFIG"
DEFAULT_CONFIG = "data/halls/demo.toml"


def db_path_from_env() -> Path:
    value = os.environ.get(DB_ENV)
    if not value:
        raise RuntimeError(f"set {DB_ENV} to the hall's SQLite database (hallops dashboard --db FILE does)")
    return Path(value)


def config_path_from_env() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)
