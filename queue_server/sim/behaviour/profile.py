"""Every parameter of the simulated hall, with defaults derived from the hall config.

The defaults are calibration assumptions for a county hall (县级政务服务中心), not
measurements; docs/simulator.md says where each comes from. Any field can be overridden
with a small TOML file (``hallops simulate --profile FILE``) whose keys are the field names
below, and the queue mix and daily volume with ``--mix`` and ``--tickets-per-day``.
"""

from __future__ import annotations

import dataclasses
import itertools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...hall.config import HallConfig, QueueKind

# Relative arrival intensity through the day: (hour of day, intensity) knots, linear in
# between, flat beyond the ends. Peaks 9:00–11:00 and 14:30–16:00; the average over the
# open hours of a weekday is about 1. Only the shape matters: the level comes from the
# daily volume of each queue.
DEFAULT_HOURLY: tuple[tuple[float, float], ...] = (
    (8.5, 0.55),
    (9.0, 1.15),
    (9.5, 1.45),
    (10.0, 1.5),
    (10.5, 1.4),
    (11.0, 1.1),
    (11.5, 0.7),
    (12.0, 0.4),
    (14.0, 0.65),
    (14.5, 1.15),
    (15.0, 1.35),
    (15.5, 1.3),
    (16.0, 1.05),
    (16.5, 0.7),
    (17.0, 0.45),
    (17.5, 0.25),
)

# Monday is the busiest weekday, Friday the quietest (0 = Monday).
DEFAULT_WEEKDAY_FACTOR = (1.15, 1.0, 1.0, 0.95, 0.9, 1.0, 1.0)

# Queues whose citizens often book a slot ahead (预约): 不动产, 婚姻, 商事, 税务 ...
_APPOINTMENT_BY_KIND = {
    QueueKind.GENERAL: 0.05,
    QueueKind.FIELD: 0.08,
    QueueKind.SPECIAL: 0.05,
    QueueKind.PICKUP: 0.0,
    QueueKind.CONSULT: 0.0,
}
_APPOINTMENT_HEAVY_WORDS = ("不动产", "婚姻", "商事")


@dataclass(frozen=True, kw_only=True)
class Profile:
    # --- arrivals
    hourly: tuple[tuple[float, float], ...] = DEFAULT_HOURLY
    weekday_factor: tuple[float, ...] = DEFAULT_WEEKDAY_FACTOR
    saturday_factor: float = 0.3  # 5+X weekend service: share of a weekday's intensity
    after_holiday_factor: float = 1.3  # first working day after 3+ days off
    utilization: float = 0.75  # default volume: this share of each queue's window capacity
    tickets: dict[str, float] = field(default_factory=dict)  # queue -> tickets on a plain weekday
    # --- who they are
    green_share: float = 0.08  # 绿色通道: elderly, disabled, military
    appointment_share: dict[str, float] = field(default_factory=dict)  # queue -> share booked
    mobile_share: float = 0.1  # ticket taken on the phone (掌上取号) on arrival
    named_share: float = 0.6  # tickets issued with an ID card read (applicant name kept)
    # --- service
    service_mean_s: dict[str, float] = field(default_factory=dict)  # queue -> mean service
    service_sigma: float = 0.5  # lognormal shape (coefficient of variation about 0.53)
    walk_mean_s: float = 40.0  # from the call to the counter
    walk_sigma: float = 0.5
    call_gap_mean_s: float = 15.0  # paperwork between one citizen and the next call
    staff_speed_sigma: float = 0.1  # each desk's pace, lognormal around 1
    # --- no-shows and recalls
    absent_base: float = 0.06  # not at the counter when called ...
    absent_per_hour: float = 0.03  # ... more so after a long wait (per hour waited, up to 2 h)
    late_share: float = 0.3  # of those absent: come after a recall
    recalls: int = 2  # recalls before the staff mark no-show (capped by rules.recall_limit)
    recall_gap_s: float = 45.0
    return_share: float = 0.15  # of no-shows: come back later and are put back in line
    # --- transfers
    transfer_share: dict[str, float] = field(default_factory=dict)  # queue -> share sent on
    transfer_to: dict[str, float] = field(default_factory=dict)  # field queue -> weight
    # --- staff
    break_prob: float = 0.01  # after a service: a short break (临时离开)
    break_min_s: float = 180.0
    break_max_s: float = 600.0
    login_lead_min_s: float = 120.0  # staff log in this long before opening, at least ...
    login_lead_max_s: float = 480.0  # ... and at most

    def queue_codes(self) -> list[str]:
        return sorted(self.tickets)

    def intensity(self, hour: float) -> float:
        pts = self.hourly
        if hour <= pts[0][0]:
            return pts[0][1]
        for (h0, v0), (h1, v1) in itertools.pairwise(pts):
            if hour <= h1:
                return v0 + (v1 - v0) * (hour - h0) / (h1 - h0) if h1 > h0 else v1
        return pts[-1][1]

    def max_intensity(self) -> float:
        return max(v for _, v in self.hourly)


def default_profile(config: HallConfig) -> Profile:
    """The defaults for a hall: volume and mix from its windows, service means from its queues."""
    base = Profile()
    service = {q.code: float(q.default_service_s) for q in config.queues}
    tickets = _default_tickets(config, base, service)
    appointments = {}
    for q in config.queues:
        share = _APPOINTMENT_BY_KIND.get(q.kind, 0.0)
        if any(w in q.name for w in _APPOINTMENT_HEAVY_WORDS):
            share = 0.25
        appointments[q.code] = share
    general = [q.code for q in config.queues if q.kind is QueueKind.GENERAL]
    fields = [q.code for q in config.queues if q.kind is QueueKind.FIELD]
    return dataclasses.replace(
        base,
        tickets=tickets,
        service_mean_s=service,
        appointment_share=appointments,
        transfer_share={code: 0.03 for code in general} if fields else {},
        transfer_to={code: tickets.get(code, 0.0) for code in fields},
    )


def _default_tickets(config: HallConfig, p: Profile, service: dict[str, float]) -> dict[str, float]:
    """Tickets per plain weekday: ``utilization`` × what the windows serving it can do."""
    tuesday = 1
    out: dict[str, float] = {}
    for q in config.queues:
        open_s = sum(iv.end_min - iv.start_min for iv in q.hours.intervals(tuesday)) * 60.0
        cycle = service[q.code] + p.walk_mean_s + p.call_gap_mean_s
        windows = 0.0
        for w in config.windows:
            weights = {wq.queue: wq.weight for wq in w.queues}
            if q.code in weights:
                windows += weights[q.code] / sum(weights.values())
        capacity = windows * open_s / cycle
        out[q.code] = round(min(p.utilization * capacity, 0.9 * q.daily_cap), 1)
    return out


def with_mix(profile: Profile, *, total: float | None = None, mix: dict[str, float] | None = None) -> Profile:
    """Another daily volume and/or queue mix; the mix is relative weights (need not sum to 1)."""
    tickets = dict(profile.tickets)
    if mix:
        unknown = sorted(set(mix) - set(tickets))
        if unknown:
            raise ValueError(f"--mix names queues this hall does not have: {', '.join(unknown)}")
        current = sum(tickets.values())
        weight = sum(mix.values())
        if weight <= 0:
            raise ValueError("--mix weights must add up to more than 0")
        tickets = {q: current * mix.get(q, 0.0) / weight for q in tickets}
    if total is not None:
        current = sum(tickets.values())
        if current <= 0:
            raise ValueError("no queue has any traffic to scale")
        tickets = {q: v * total / current for q, v in tickets.items()}
    return dataclasses.replace(profile, tickets=tickets)


def parse_mix(text: str) -> dict[str, float]:
    """``"A=40,B=10"`` → ``{"A": 40.0, "B": 10.0}``."""
    out: dict[str, float] = {}
    for part in filter(None, (s.strip() for s in text.split(","))):
        code, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"--mix entry {part!r} is not QUEUE=WEIGHT")
        try:
            out[code.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--mix weight {value!r} of {code.strip()} is not a number") from None
        if out[code.strip()] < 0:
            raise ValueError(f"--mix weight of {code.strip()} is negative")
    return out


def load_overrides(profile: Profile, path: Path) -> Profile:
    """A profile TOML: any ``Profile`` field by name; per-queue tables merge with the defaults."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return apply_overrides(profile, data, source=str(path))


def apply_overrides(profile: Profile, data: dict[str, Any], *, source: str = "profile") -> Profile:
    names = {f.name: f for f in dataclasses.fields(Profile)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key not in names:
            raise ValueError(f"{source}: unknown profile key {key!r} (known: {', '.join(sorted(names))})")
        current = getattr(profile, key)
        if isinstance(current, dict):
            if not isinstance(value, dict):
                raise ValueError(f"{source}: {key} must be a table of queue = number")
            changes[key] = {**current, **{str(k): float(v) for k, v in value.items()}}
        elif key == "hourly":
            pts = tuple((float(h), float(v)) for h, v in value)
            if len(pts) < 2 or any(b[0] < a[0] for a, b in itertools.pairwise(pts)):
                raise ValueError(f"{source}: hourly needs two or more [hour, intensity] pairs in hour order")
            changes[key] = pts
        elif key == "weekday_factor":
            if len(value) != 7:
                raise ValueError(f"{source}: weekday_factor needs 7 numbers, Monday first")
            changes[key] = tuple(float(v) for v in value)
        elif isinstance(current, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{source}: {key} must be a number")
        else:
            changes[key] = type(current)(value)
    return dataclasses.replace(profile, **changes)
