"""Arrivals: the day's shape, the mix, the shares of each kind of citizen, the draws."""

from __future__ import annotations

import dataclasses
import statistics
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from queue_server.hall.commands import Priority
from queue_server.sim.arrivals import base_rates, day_citizens, day_kind
from queue_server.sim.behaviour.profile import apply_overrides, parse_mix, with_mix

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 11, 23)


def _citizens(config, profile, days=10, seed=7, start=MONDAY, calendar=None):
    out = []
    rates = base_rates(config, profile)
    d = start
    while len({c.arrive_ts // 86400 for c in out}) < days:
        kind = day_kind(d, calendar, profile)
        if kind.label == "weekday":
            out += day_citizens(config, profile, kind, seed, rates, config.rules.recall_limit)
        d += timedelta(days=1)
    return out


@pytest.fixture(scope="module")
def ten_days(demo_config, demo_profile, calendar):
    return _citizens(demo_config, demo_profile, calendar=calendar)


def test_more_arrivals_per_hour_in_the_peaks(ten_days):
    per_half_hour = Counter()
    for cit in ten_days:
        t = datetime.fromtimestamp(cit.arrive_ts, TZ)
        per_half_hour[t.hour * 2 + t.minute // 30] += 1
    peak_morning = (per_half_hour[19] + per_half_hour[20] + per_half_hour[21]) / 3  # 9:30-11:00
    peak_afternoon = (per_half_hour[29] + per_half_hour[30] + per_half_hour[31]) / 3  # 14:30-16:00
    quiet = [
        per_half_hour[17],
        per_half_hour[23],
        per_half_hour[28],
        per_half_hour[34],
    ]  # 8:30, 11:30, 14:00, 17:00
    assert min(peak_morning, peak_afternoon) > 1.4 * max(quiet)
    # nobody takes a ticket while the hall is closed
    assert all(k in range(17, 24) or k in range(28, 35) for k in per_half_hour)


def test_weekday_volume_and_mix_follow_the_profile(ten_days, demo_profile):
    per_queue = Counter(c.queue for c in ten_days)
    expected_total = sum(demo_profile.tickets.values()) * 10
    # ten days of Poisson arrivals, weekday factors average about 1
    assert abs(len(ten_days) - expected_total) < 0.1 * expected_total
    share_a = per_queue["A"] / len(ten_days)
    expected_a = demo_profile.tickets["A"] / sum(demo_profile.tickets.values())
    assert abs(share_a - expected_a) < 0.02


def test_green_and_appointment_shares(ten_days, demo_profile):
    kinds = Counter(c.priority for c in ten_days)
    n = len(ten_days)
    assert 0.06 < kinds[Priority.GREEN] / n < 0.10  # ~8% 绿色通道
    booked = [c for c in ten_days if c.priority is Priority.APPOINTMENT]
    assert booked and all(c.slot_ts is not None and c.slot_ts % 1800 == 0 for c in booked)
    assert not [c for c in ten_days if c.queue in ("P", "Z") and c.priority is Priority.APPOINTMENT]


def test_service_time_draws_have_the_queue_means(ten_days, demo_profile):
    for queue in ("A", "D", "P", "Z"):
        draws = [c.service_s for c in ten_days if c.queue == queue and c.transfer_to is None]
        mean = statistics.fmean(draws)
        assert mean == pytest.approx(demo_profile.service_mean_s[queue], rel=0.08), queue


def test_transfers_go_from_the_general_queue_to_field_queues(ten_days, demo_config):
    sent = [c for c in ten_days if c.transfer_to is not None]
    fields = {q.code for q in demo_config.queues if q.kind.value == "分领域"}
    assert {c.queue for c in sent} == {"A"}
    assert {c.transfer_to for c in sent} <= fields
    share = len(sent) / sum(1 for c in ten_days if c.queue == "A")
    assert 0.015 < share < 0.05


def test_same_seed_same_citizens_other_seed_others(demo_config, demo_profile, calendar):
    a = _citizens(demo_config, demo_profile, days=1, seed=3, calendar=calendar)
    b = _citizens(demo_config, demo_profile, days=1, seed=3, calendar=calendar)
    c = _citizens(demo_config, demo_profile, days=1, seed=4, calendar=calendar)
    assert [dataclasses.astuple(x) for x in a] == [dataclasses.astuple(x) for x in b]
    assert [x.arrive_ts for x in a] != [x.arrive_ts for x in c]


def test_changing_one_queue_leaves_the_others_alone(demo_config, demo_profile, calendar):
    more_b = dataclasses.replace(demo_profile, tickets={**demo_profile.tickets, "B": 80.0})
    a = _citizens(demo_config, demo_profile, days=1, calendar=calendar)
    b = _citizens(demo_config, more_b, days=1, calendar=calendar)
    assert [x.arrive_ts for x in a if x.queue == "A"] == [x.arrive_ts for x in b if x.queue == "A"]
    assert sum(x.queue == "B" for x in b) > sum(x.queue == "B" for x in a)


def test_days_off_and_saturdays(demo_profile, calendar):
    assert day_kind(date(2026, 10, 1), calendar, demo_profile).factor == 0  # 国庆
    assert day_kind(date(2026, 10, 3), calendar, demo_profile).factor == 0  # a holiday Saturday
    sat = day_kind(date(2026, 11, 28), calendar, demo_profile)
    assert sat.label == "saturday" and 0 < sat.factor < 0.5 and not sat.working
    after = day_kind(date(2026, 10, 8), calendar, demo_profile)  # first day after 国庆
    assert after.working and after.factor > day_kind(date(2026, 10, 15), calendar, demo_profile).factor


def test_saturday_traffic_only_in_the_5x_queues(demo_config, demo_profile, calendar):
    kind = day_kind(date(2026, 11, 28), calendar, demo_profile)
    cits = day_citizens(demo_config, demo_profile, kind, 1, base_rates(demo_config, demo_profile), 3)
    saturday_queues = {q.code for q in demo_config.queues if q.hours.intervals(5)}
    assert cits and {c.queue for c in cits} <= saturday_queues
    assert all(9 <= datetime.fromtimestamp(c.arrive_ts, TZ).hour < 12 for c in cits)


def test_mix_and_volume_overrides(demo_profile):
    assert parse_mix("A=3, B=1") == {"A": 3.0, "B": 1.0}
    p = with_mix(demo_profile, total=500, mix={"A": 3, "B": 1})
    assert p.tickets["A"] == pytest.approx(375) and p.tickets["B"] == pytest.approx(125)
    assert p.tickets["C"] == 0
    with pytest.raises(ValueError, match="does not have: Q"):
        with_mix(demo_profile, mix={"Q": 1})
    with pytest.raises(ValueError, match="not QUEUE=WEIGHT"):
        parse_mix("A")
    q = apply_overrides(demo_profile, {"green_share": 0.2, "service_mean_s": {"A": 600}})
    assert q.green_share == 0.2 and q.service_mean_s["A"] == 600 and q.service_mean_s["B"] == 600
    with pytest.raises(ValueError, match="unknown profile key 'nope'"):
        apply_overrides(demo_profile, {"nope": 1})
