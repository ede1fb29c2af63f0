"""The hall's clock, as the dashboard reads it: one "now" for every page and figure.

The queue server keeps the hall's time (real, or simulated in the demo) in the hall
database's ``meta`` table, key ``hall_clock``, a JSON value::

    {"at": "2026-12-21T09:30:00+08:00", "speed": 60.0, "wall": 1796000000.0}

``at`` is the hall's instant when the row was written, ``wall`` the machine's Unix time
then, ``speed`` how many hall seconds pass per real second (1.0 real, 60.0 the demo). The
hall's now is ``at + (time.time() - wall) * speed``. Without that row the hall runs on the
real clock, in the config's time zone (Asia/Shanghai whatever the machine's zone).
``HALLOPS_NOW`` (ISO 8601) freezes the clock for tests and for showing a recorded day; it
wins over both.

No Streamlit and no DuckDB here: the warehouse hands in the ``meta`` value it copied.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

META_KEY = "hall_clock"
NOW_ENV = "HALLOPS_NOW"  # freeze the dashboard clock (tests, demos of a recorded day)


@dataclass(frozen=True)
class HallClock:
    """A reading of the hall's clock: ``at`` was the hall's time at machine time ``wall``."""

    at: datetime
    speed: float
    wall: float

    def now(self, zone: ZoneInfo, wall_now: float | None = None) -> datetime:
        elapsed = (time.time() if wall_now is None else wall_now) - self.wall
        return (self.at + timedelta(seconds=elapsed * self.speed)).astimezone(zone)


def parse(value: str | None) -> HallClock | None:
    """The ``meta.hall_clock`` JSON, or None when absent or not readable (then the real
    clock is used: a bad row must not stop the dashboard)."""
    if not value:
        return None
    try:
        raw = json.loads(value)
        at = datetime.fromisoformat(str(raw["at"]))
        if at.tzinfo is None:
            return None  # an instant without its offset is ambiguous: not the contract
        speed = float(raw.get("speed", 1.0))
        wall = float(raw["wall"])
    except (ValueError, TypeError, KeyError):
        return None
    if not speed >= 0:  # NaN or negative
        return None
    return HallClock(at=at, speed=speed, wall=wall)


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def hall_now(tz: str | ZoneInfo, meta_value: str | None = None) -> datetime:
    """The hall's current time in its zone: ``HALLOPS_NOW`` if set, else the ``hall_clock``
    meta row if present and valid, else the real clock."""
    zone = _zone(tz)
    frozen = os.environ.get(NOW_ENV)
    if frozen:
        value = datetime.fromisoformat(frozen)
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(zone)
    clock = parse(meta_value)
    if clock is not None:
        return clock.now(zone)
    return datetime.now(zone)
