"""The shape of a hall config file: its version, the keys of each table, and their limits.

The defaults of optional keys are the defaults of the ``HallConfig`` dataclasses
(``queue_server/hall/config.py``); ``field_defaults`` reads them. The format is documented in
``docs/config.md``.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

SCHEMA_VERSION = 1

TOP_KEYS = ("schema_version", "hall", "rules", "queues", "windows", "staff", "reasons")
HALL_KEYS = (
    "code",
    "name",
    "timezone",
    "close_of_business",
    "notice",
    "allowed_origins",
    "require_display_token",
    "public_url",
    "allowed_hosts",
    "hours",
    "management",
)
QUEUE_KEYS = (
    "code",
    "name",
    "kind",
    "daily_cap",
    "hours",
    "department",
    "default_service_s",
    "alert_waiting",
    "alert_wait_min",
    "matters",
)
WINDOW_KEYS = ("number", "name", "kind", "zone", "department", "accessible", "queues")
WINDOW_QUEUE_KEYS = ("queue", "weight")
STAFF_KEYS = ("username", "name", "role", "department", "password_hash")

# Lower bounds for [rules] integers; anything not listed must be >= 0.
RULE_MINIMUM = {
    "priority_ratio": 1,
    "issue_rate_per_min": 1,
    "recent_calls": 1,
    "booking_horizon_days": 1,
    "login_attempts": 1,
    "login_lockout_s": 1,
}
# a host name or address of allowed_hosts: no scheme, no port, no path
HOST_NAME = re.compile(
    r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,62})(\.[a-z0-9]([a-z0-9-]{0,62}))*\.?"  # a name, or IPv4
    r"|\[?[0-9a-f]*:[0-9a-f]*:[0-9a-f:.]*\]?"  # IPv6
)

HALL_CODE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
QUEUE_CODE = re.compile(r"[A-Z]{1,2}")
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
INTERVAL = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")
CLOCK = re.compile(r"(\d{1,2}):(\d{2})")

PLAIN_PASSWORD = "plain-text passwords are not allowed; use hallops hash-password"

PathPart = str | int
ConfigPath = tuple[PathPart, ...]  # a place in the document, e.g. ("windows", 3, "queues", 1)

# Marks a key that is absent from a table (``None`` is no TOML value, but keep them apart).
MISSING: Any = object()


def field_defaults(cls: type) -> dict[str, Any]:
    """The default of each field of the dataclass ``cls`` that has one."""
    return {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}
