"""The catalogue's promises (进驻, 网上可办, 最多跑一次 / 零跑动): the shipped file is valid and
covers every hall matter; a bad file is one error naming every problem with its line."""

from __future__ import annotations

import pytest

from queue_server.matter_promises import load_promises
from queue_server.matters import load_matters


def test_the_shipped_file_covers_every_hall_matter() -> None:
    codes = [m.code for m in load_matters()]
    promises = load_promises(hall_codes=codes)
    assert {p.code for p in promises if p.in_hall} == set(codes)
    assert any(not p.in_hall for p in promises)  # 进驻比例 has a real denominator
    assert {p.visit_promise for p in promises} >= {"最多跑一次", "零跑动"}


def test_a_zero_visit_matter_brought_to_the_hall_is_held_to_one_visit() -> None:
    by = {p.visit_promise: p for p in load_promises()}
    assert (by["零跑动"].max_visits, by["最多跑一次"].max_visits, by[""].max_visits) == (1, 1, None)


def test_every_problem_is_listed_with_its_line(tmp_path) -> None:
    bad = tmp_path / "p.csv"
    bad.write_text(
        "code,name,in_hall,online,visit_promise\nSW-001,a,maybe,yes,最多跑一次\n"
        "sw1,b,yes,yes,跑两次\nSW-001,c,yes,yes,\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as info:
        load_promises(bad, hall_codes=["SW-001", "SW-002"])
    text = str(info.value)
    for expected in (
        "p.csv:2: in_hall 'maybe'",
        "p.csv:3: code 'sw1'",
        "p.csv:3: visit_promise '跑两次'",
        "p.csv:4: code SW-001 already used on line 2",
        "hall matter SW-002",
    ):
        assert expected in text, text
