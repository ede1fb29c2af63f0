"""Read a hall's TOML config file into a ``HallConfig``, reporting every problem with its place.

``parse_hall_config`` checks a parsed TOML document (a dict) and collects all problems instead
of stopping at the first one; ``load_hall_config`` reads a file and raises ``ConfigError``;
``check_config_main`` backs ``hallops check-config FILE``. The format is documented in
``docs/config.md``.

The modules, by concern:

- ``schema``: the TOML shape (schema version, the keys of each table, their limits) and defaults;
- ``problems``: ``ConfigProblem`` / ``ConfigError`` and how values are quoted in messages;
- ``fields``: checks of single values and opening hours, recording problems;
- ``validation``: the checks of each table, building the ``HallConfig``;
- ``source_lines``: the best-effort line number of a place in the TOML text;
- ``loading``: read a file (encoding, TOML syntax) and check it;
- ``check_command``: the ``hallops check-config`` subcommand.
"""

from __future__ import annotations

from .check_command import add_parser, check_config_main
from .loading import load_hall_config
from .problems import ConfigError, ConfigProblem
from .schema import (
    HALL_KEYS,
    QUEUE_KEYS,
    SCHEMA_VERSION,
    STAFF_KEYS,
    TOP_KEYS,
    WINDOW_KEYS,
    WINDOW_QUEUE_KEYS,
)
from .validation import parse_hall_config

__all__ = [
    "HALL_KEYS",
    "QUEUE_KEYS",
    "SCHEMA_VERSION",
    "STAFF_KEYS",
    "TOP_KEYS",
    "WINDOW_KEYS",
    "WINDOW_QUEUE_KEYS",
    "ConfigError",
    "ConfigProblem",
    "add_parser",
    "check_config_main",
    "load_hall_config",
    "parse_hall_config",
]
