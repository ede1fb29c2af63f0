"""queue_server.sim.behaviour.profile: the model's parameters, their defaults from the hall
config, and overrides from the command line and a TOML file."""

from __future__ import annotations

from pathlib import Path

import pytest

from queue_server.hall.config import HallConfig, QueueKind
from queue_server.sim.behaviour.profile import (
    Profile,
    apply_overrides,
    load_overrides,
    parse_mix,
    with_mix,
)


def test_intensity_is_linear_between_knots_and_flat_beyond() -> None:
    p = Profile(hourly=((9.0, 1.0), (10.0, 2.0), (12.0, 0.0)))
    assert p.intensity(6.0) == 1.0
    assert p.intensity(9.5) == pytest.approx(1.5)
    assert p.intensity(11.0) == pytest.approx(1.0)
    assert p.intensity(20.0) == 0.0
    assert p.max_intensity() == 2.0


def test_default_intensity_averages_about_one_over_a_weekday() -> None:
    p = Profile()
    hours = [8.5 + k / 60 for k in range(int((12.0 - 8.5) * 60))]
    hours += [14.0 + k / 60 for k in range(int((17.5 - 14.0) * 60))]
    assert sum(p.intensity(h) for h in hours) / len(hours) == pytest.approx(1.0, abs=0.1)


def test_default_volume_follows_the_windows(demo_config: HallConfig, demo_profile: Profile) -> None:
    tuesday_open_s = {
        q.code: sum(iv.end_min - iv.start_min for iv in q.hours.intervals(1)) * 60.0
        for q in demo_config.queues
    }
    for q in demo_config.queues:
        share = sum(
            {wq.queue: wq.weight for wq in w.queues}.get(q.code, 0.0) / sum(wq.weight for wq in w.queues)
            for w in demo_config.windows
        )
        cycle = q.default_service_s + demo_profile.walk_mean_s + demo_profile.call_gap_mean_s
        capacity = share * tuesday_open_s[q.code] / cycle
        expected = round(min(demo_profile.utilization * capacity, 0.9 * q.daily_cap), 1)
        assert demo_profile.tickets[q.code] == expected
        assert demo_profile.service_mean_s[q.code] == q.default_service_s


def test_default_appointments_and_transfers(demo_config: HallConfig, demo_profile: Profile) -> None:
    for q in demo_config.queues:
        if any(word in q.name for word in ("不动产", "婚姻", "商事")):
            assert demo_profile.appointment_share[q.code] == 0.25
        elif q.kind in (QueueKind.PICKUP, QueueKind.CONSULT):
            assert demo_profile.appointment_share[q.code] == 0.0
    general = {q.code for q in demo_config.queues if q.kind is QueueKind.GENERAL}
    fields = {q.code for q in demo_config.queues if q.kind is QueueKind.FIELD}
    assert set(demo_profile.transfer_share) == general
    assert set(demo_profile.transfer_to) == fields


def test_with_mix_scales_the_total_and_keeps_the_weights(demo_profile: Profile) -> None:
    p = with_mix(demo_profile, total=300)
    assert sum(p.tickets.values()) == pytest.approx(300)
    ratio = p.tickets["A"] / demo_profile.tickets["A"]
    assert all(p.tickets[q] == pytest.approx(v * ratio) for q, v in demo_profile.tickets.items())
    p = with_mix(demo_profile, mix={"A": 1, "B": 1})
    assert p.tickets["A"] == pytest.approx(p.tickets["B"])
    assert p.tickets["C"] == 0.0
    assert sum(p.tickets.values()) == pytest.approx(sum(demo_profile.tickets.values()))
    with pytest.raises(ValueError, match="must add up to more than 0"):
        with_mix(demo_profile, mix={"A": 0})
    with pytest.raises(ValueError, match="no queue has any traffic"):
        with_mix(with_mix(demo_profile, total=0), total=10)


@pytest.mark.parametrize(
    "text, message",
    [("A", "is not QUEUE=WEIGHT"), ("A=x", "is not a number"), ("A=-1", "negative")],
)
def test_parse_mix_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_mix(text)
    assert parse_mix(" A=1 ,, B=2.5 ") == {"A": 1.0, "B": 2.5}


@pytest.mark.parametrize(
    "data, message",
    [
        ({"hourly": [[10, 1.0]]}, "hourly needs two or more"),
        ({"hourly": [[10, 1.0], [9, 1.0]]}, "in hour order"),
        ({"weekday_factor": [1.0, 1.0]}, "weekday_factor needs 7 numbers"),
        ({"green_share": "many"}, "green_share must be a number"),
        ({"tickets": 5}, "tickets must be a table of queue = number"),
    ],
)
def test_bad_overrides_are_refused(demo_profile: Profile, data: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        apply_overrides(demo_profile, data, source="p.toml")


def test_overrides_from_a_file_merge_per_queue_tables(demo_profile: Profile, tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("recalls = 1\nhourly = [[9, 1], [17, 1]]\n[tickets]\nA = 12\n", encoding="utf-8")
    p = load_overrides(demo_profile, path)
    assert p.recalls == 1 and isinstance(p.recalls, int)
    assert p.hourly == ((9.0, 1.0), (17.0, 1.0))
    assert p.tickets["A"] == 12.0
    assert {q: v for q, v in p.tickets.items() if q != "A"} == {
        q: v for q, v in demo_profile.tickets.items() if q != "A"
    }
    path.write_text("nope = 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"{path}: unknown profile key 'nope'"):
        load_overrides(demo_profile, path)
