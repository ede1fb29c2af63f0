"""Who arrives when, and with what: one day's citizens, drawn before the day is run.

Arrivals of each queue are a non-homogeneous Poisson process (Lewis–Shedler thinning) with
intensity ``tickets-per-day × hourly shape × day factor`` over the queue's opening hours.
Each citizen carries every random draw of their own behaviour (service time, walk to the
counter, absence at the call, transfer, return after a no-show), so two runs with the same
seed see the same citizens whatever the staffing: a what-if plan is compared on common
random numbers. A queue has its own random stream per day, so changing one queue's volume
leaves the others' arrivals as they were.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..hall.calendar import WorkCalendar
from ..hall.commands import Channel, Priority
from ..hall.config import HallConfig
from .behaviour.profile import Profile

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严覃武"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建国志明海燕建华春梅晓东文辉丹宇鹏斌浩然子涵欣怡思远雨桐佳怡俊杰梓萱一鸣"


@dataclass(kw_only=True)
class Citizen:
    """One person with a ticket to take; the run state at the end is filled in by the engine."""

    key: str  # "<yyyy-mm-dd>/<queue>/<n>": stable across runs with the same seed
    arrive_ts: float  # Unix seconds
    queue: str
    priority: Priority
    channel: Channel
    slot_ts: float | None  # appointment slot
    service_s: float  # at the first queue (shortened when sent on: see transfer_to)
    walk_s: float
    absent_u: float  # absent at the call when this is below the absence probability
    late_after: int  # when absent: 0 never comes (过号), k comes after the k-th recall
    return_after_s: float | None  # after a no-show: comes back this much later
    transfer_to: str | None  # sent on to this queue after a short first service
    transfer_service_s: float
    name: str = ""
    phone: str = ""
    # run state
    ticket: str | None = None
    wait_since: float = 0.0
    transferred: bool = False
    returned: bool = False
    # cases (queue_server.sim.cases): why someone comes back, and for which case
    purpose: str = ""  # "" | "resume" (补正 materials) | "pickup" (出件)
    receipt: str = ""
    matter: str = ""


@dataclass(frozen=True, kw_only=True)
class DayKind:
    """How busy a calendar day is. ``factor`` 0: the hall sees nobody (holiday, Sunday)."""

    day: date
    factor: float
    working: bool  # a working day (工作日) as the calendar says
    label: str  # "weekday", "saturday", "holiday", "closed"


def day_kind(day: date, calendar: WorkCalendar, profile: Profile) -> DayKind:
    working = calendar.is_working_day(day)
    if day in _holidays(calendar, day.year):
        return DayKind(day=day, factor=0.0, working=False, label="holiday")
    wd = day.weekday()
    if wd < 5 and working:
        factor = profile.weekday_factor[wd]
        if _days_off_before(day, calendar) >= 3:
            factor *= profile.after_holiday_factor
        return DayKind(day=day, factor=factor, working=True, label="weekday")
    # Saturday (5+X service) or a weekend make-up day: only the queues open that weekday,
    # at the weekend intensity.
    return DayKind(
        day=day,
        factor=profile.saturday_factor * profile.weekday_factor[wd],
        working=working,
        label="saturday" if wd == 5 else "weekend",
    )


_HOLIDAY_CACHE: dict[tuple[int, int], frozenset[date]] = {}


def _holidays(calendar: WorkCalendar, year: int) -> frozenset[date]:
    key = (id(calendar), year)
    if key not in _HOLIDAY_CACHE:
        _HOLIDAY_CACHE[key] = frozenset(calendar.holidays_in(year))
    return _HOLIDAY_CACHE[key]


def _days_off_before(day: date, calendar: WorkCalendar) -> int:
    n = 0
    d = day - timedelta(days=1)
    while not calendar.is_working_day(d) and n < 30:
        n += 1
        d -= timedelta(days=1)
    return n


def midnight_ts(day: date, tz: ZoneInfo) -> float:
    return datetime.combine(day, time(0), tzinfo=tz).timestamp()


def lognormal(rng: random.Random, mean: float, sigma: float) -> float:
    """A lognormal draw with the given mean (not median)."""
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)


def base_rates(config: HallConfig, profile: Profile) -> dict[str, float]:
    """Arrivals per second at intensity 1, per queue: the weekday volume over the shape's
    integral across the queue's weekday (Tuesday) hours."""
    rates: dict[str, float] = {}
    for q in config.queues:
        integral = sum(_integral(profile, iv.start_min, iv.end_min) for iv in q.hours.intervals(1))
        volume = profile.tickets.get(q.code, 0.0)
        rates[q.code] = volume / integral if integral > 0 and volume > 0 else 0.0
    return rates


def _integral(profile: Profile, start_min: int, end_min: int) -> float:
    """∫ intensity dt in seconds over [start, end), by the minute (midpoints)."""
    return sum(profile.intensity((m + 0.5) / 60.0) for m in range(start_min, end_min)) * 60.0


def day_citizens(
    config: HallConfig,
    profile: Profile,
    kind: DayKind,
    seed: int,
    rates: dict[str, float],
    recall_limit: int,
) -> list[Citizen]:
    """Every citizen of one day, in arrival order."""
    if kind.factor <= 0:
        return []
    tz = ZoneInfo(config.timezone)
    midnight = midnight_ts(kind.day, tz)
    wd = kind.day.weekday()
    fmax = profile.max_intensity()
    recalls = max(0, min(profile.recalls, recall_limit))
    transfer_targets = sorted((q, w) for q, w in profile.transfer_to.items() if w > 0)
    out: list[Citizen] = []
    for q in sorted(config.queues, key=lambda q: q.code):
        rate = rates.get(q.code, 0.0) * kind.factor
        if rate <= 0:
            continue
        rng = random.Random(f"{seed}:{kind.day.isoformat()}:{q.code}")
        n = 0
        for iv in q.hours.intervals(wd):
            t = iv.start_min * 60.0
            end = iv.end_min * 60.0
            lam = rate * fmax
            while True:
                t += rng.expovariate(lam)
                if t >= end:
                    break
                if rng.random() * fmax >= profile.intensity(t / 3600.0):
                    continue
                n += 1
                out.append(
                    _citizen(
                        profile,
                        q.code,
                        f"{kind.day.isoformat()}/{q.code}/{n}",
                        midnight + t,
                        iv.end_min * 60.0 + midnight,
                        rng,
                        recalls,
                        transfer_targets,
                    )
                )
    out.sort(key=lambda c: (c.arrive_ts, c.key))
    return out


def _citizen(
    p: Profile,
    queue: str,
    key: str,
    at: float,
    close_ts: float,
    rng: random.Random,
    recalls: int,
    transfer_targets: list[tuple[str, float]],
) -> Citizen:
    # The draws always happen, in this order, so one parameter never shifts another's.
    u_kind, u_channel, u_slot = rng.random(), rng.random(), rng.random()
    service = lognormal(rng, p.service_mean_s.get(queue, 300.0), p.service_sigma)
    walk = lognormal(rng, p.walk_mean_s, p.walk_sigma)
    absent_u, u_late, late_k = rng.random(), rng.random(), rng.randint(1, max(1, recalls))
    u_return, return_after = rng.random(), rng.uniform(600.0, 2400.0)
    u_transfer, u_target = rng.random(), rng.random()
    u_named, name_i, given_i, phone = (
        rng.random(),
        rng.randrange(10_000),
        rng.randrange(10_000),
        rng.randrange(10**9),
    )

    slot: float | None = None
    if u_kind < p.appointment_share.get(queue, 0.0):
        priority, channel = Priority.APPOINTMENT, Channel.APPOINTMENT
        # a half-hour slot near arrival: aiming at 5 min late to 25 min early, the grid
        # moves it by up to a quarter of an hour; the last slot ends 15 min before closing
        slot = round((at - 300.0 + u_slot * 1800.0) / 1800.0) * 1800.0
        slot = min(slot, math.floor((close_ts - 900.0) / 1800.0) * 1800.0)
    elif u_kind < p.appointment_share.get(queue, 0.0) + p.green_share:
        priority = Priority.GREEN
        channel = Channel.STAFF if u_channel < 0.3 else Channel.KIOSK  # 导办 helps the elderly
    else:
        priority = Priority.NORMAL
        channel = Channel.MOBILE if u_channel < p.mobile_share else Channel.KIOSK

    target: str | None = None
    transfer_service = 0.0
    if transfer_targets and u_transfer < p.transfer_share.get(queue, 0.0):
        total = sum(w for _, w in transfer_targets)
        acc = 0.0
        for code, w in transfer_targets:
            acc += w
            if u_target * total < acc:
                target = code
                break
        target = target or transfer_targets[-1][0]
        transfer_service = service * p.service_mean_s.get(target, 300.0) / p.service_mean_s.get(queue, 300.0)
        service *= 0.3  # found out quickly that the matter belongs to a field window

    name = phone_s = ""
    if u_named < p.named_share:
        name = _SURNAMES[name_i % len(_SURNAMES)] + _GIVEN[given_i % len(_GIVEN)]
        if given_i % 3 == 0:
            name += _GIVEN[(given_i // 7) % len(_GIVEN)]
        phone_s = f"1{3 + phone % 7}{phone:09d}"
    return Citizen(
        key=key,
        arrive_ts=at,
        queue=queue,
        priority=priority,
        channel=channel,
        slot_ts=slot,
        service_s=service,
        walk_s=walk,
        absent_u=absent_u,
        late_after=late_k if u_late < p.late_share and recalls > 0 else 0,
        return_after_s=return_after if u_return < p.return_share else None,
        transfer_to=target,
        transfer_service_s=transfer_service,
        name=name,
        phone=phone_s,
    )


def absent_probability(p: Profile, waited_s: float) -> float:
    return p.absent_base + p.absent_per_hour * min(max(waited_s, 0.0) / 3600.0, 2.0)
