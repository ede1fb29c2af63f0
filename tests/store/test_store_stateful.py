"""Random command sequences through the hall core, every batch written to the store, on both
backends (Hypothesis): at random points, and at the end, the hall is rebuilt from what the
store loads (a restart) and must equal the hall that ran; numbering goes on without reuse."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_server.config_file import load_hall_config
from queue_server.hall import Hall, HallError
from queue_server.hall import commands as c
from queue_server.recorder import batch_for, rebuild_hall
from queue_server.store.base import Store
from queue_server.store.open import store_for

from _backends import Backend
from _support import SMALL_HALL

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 8, 55, tzinfo=TZ)  # a Monday
CONFIG = load_hall_config(SMALL_HALL)
WINDOWS = [w.number for w in CONFIG.windows]
QUEUES = [q.code for q in CONFIG.queues]

window = st.sampled_from(WINDOWS)
step = st.one_of(
    st.builds(c.IssueTicket, queue=st.sampled_from(QUEUES)),
    st.builds(c.OpenWindow, window=window),
    st.builds(c.CallNext, window=window),
    st.builds(c.StartService, window=window),
    st.builds(c.FinishService, window=window),
    st.builds(c.NoShow, window=window),
    st.builds(c.Recall, window=window),
    st.builds(c.CloseWindow, window=window),
    st.tuples(st.just("advance"), st.sampled_from([1, 7, 60, 24 * 60])),
    st.just("restart"),
)


def state_of(hall: Hall) -> dict[str, Any]:
    return {
        "tickets": sorted((t.to_row() for t in hall.tickets.values()), key=lambda r: r["id"]),
        "windows": sorted((w.to_row() for w in hall.windows.values()), key=lambda r: r["number"]),
        "numbers": {
            k: v for k, v in hall.numbers.items() if k[0] == hall.service_date
        },  # a start loads today's
        "service_times": {q: (s.mean_s, s.samples) for q, s in hall.service_times.items()},
        "service_date": hall.service_date,
    }


async def restarted(store: Store, hall: Hall) -> Hall:
    again = rebuild_hall(CONFIG, await store.load(), calendar=hall.case_book.calendar)
    assert state_of(again) == state_of(hall), "the hall rebuilt from the store is the hall that ran"
    return again


examples = iter(range(1_000_000))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=5, max_size=40))
async def test_a_hall_rebuilt_from_the_store_is_the_hall_that_ran(backend: Backend, steps: list[Any]) -> None:
    n = next(examples)  # every example its own hall: its own file, or its own rows of the database
    db = backend.db if backend.name == "postgres" else backend.db.replace("hall.db", f"hall-{n}.db")
    store = store_for(db, hall=f"{backend.hall}-{n}", synchronous="NORMAL")
    await store.open()
    try:
        hall = rebuild_hall(CONFIG, await store.load())
        now = START
        for s in steps:
            if s == "restart":
                hall = await restarted(store, hall)
                continue
            if isinstance(s, tuple):
                now += timedelta(minutes=s[1])
                s = c.Tick()
            try:
                events = hall.handle(s, now)
            except HallError:
                events = []  # a refusal changes nothing, but a day roll-over before it is stored
            await store.commit(batch_for(hall, events))
            now += timedelta(seconds=20)
        hall = await restarted(store, hall)
        issued = hall.handle(c.IssueTicket(queue="A"), now)[0]
        numbers = [k for k in hall.tickets.values() if k.queue == "A" and k.service_date == hall.service_date]
        assert dataclasses.asdict(issued)["seq"] == len(numbers), "numbering goes on after the restart"
    finally:
        await store.close()
