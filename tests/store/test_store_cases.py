"""The store with cases, ratings and rectifications, on both backends (a SQLite file and
PostgreSQL): one transaction with their events, the rows round-trip, and a start loads only
what the hall holds (open items and today's), never every historic row."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from queue_server.hall.events import RaterContacted, ReviewStarted
from queue_server.hall.model import Case, Rating, Rectification
from queue_server.hall.states import CaseState, RectificationState
from queue_server.store.base import Batch, Store

from _backends import Backend

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)


def case(receipt: str, state: CaseState, updated: datetime) -> Case:
    return Case(
        receipt_no=receipt,
        service_date=updated.date(),
        matter_code="SW-003",
        matter_name="审批",
        department="税务局",
        field="税务",
        case_type="承诺件",
        window_kind="分领域",
        one_window=True,
        promised_working_days=5,
        state=state,
        created_at=updated,
        updated_at=updated,
        ticket="t",
        ticket_number="B001",
        window=3,
        applicant_name="张三丰",
        applicant_phone="13812345678",
        accepted_at=updated,
        clock_started_at=updated,
        due_at=updated + timedelta(days=7),
        missing_materials=["营业执照"],
        deficiency_promised_date=date(2026, 11, 25),
    )


def rating(rid: int, day: datetime, follow_up_of: int | None = None) -> Rating:
    return Rating(
        id=rid,
        ticket=f"t{rid}" if follow_up_of is None else f"t{follow_up_of}",
        ticket_number="B001",
        service_date=day.date(),
        queue="B",
        window=3,
        score=1,
        channel="pad",
        at=day,
        reasons=["等候时间过长"],
        follow_up_of=follow_up_of,
    )


def rect(rid: int, rating_id: int, state: RectificationState, closed: datetime | None) -> Rectification:
    opened = (closed or NOW) - timedelta(days=1)
    return Rectification(
        id=rid,
        rating_id=rating_id,
        ticket=f"t{rating_id}",
        window=3,
        state=state,
        opened_at=opened,
        contact_due=opened,
        rectify_due=opened,
        updated_at=closed or opened,
        closed_at=closed,
        outcome="explained" if closed else None,
        contact_on_time=True,
    )


@pytest.fixture
async def store(backend: Backend):
    s = backend.store()
    await s.open()
    try:
        yield s
    finally:
        await s.close()


async def test_rows_round_trip_and_a_start_loads_what_the_hall_holds(store: Store) -> None:
    old = NOW - timedelta(days=40)
    very_old = NOW - timedelta(days=100)
    cases = [
        case("SL-20261013-0001", CaseState.COMPLETED, old),  # finished long ago: not loaded
        case("SL-20261013-0002", CaseState.IN_REVIEW, old),  # open: loaded
        case("SL-20261123-0001", CaseState.REJECTED, NOW),
    ]  # finished today: loaded
    ratings = [
        rating(1, very_old),
        rating(2, old),
        rating(3, NOW),
        rating(4, old, follow_up_of=2),
        rating(5, very_old),
    ]
    rects = [
        rect(1, 1, RectificationState.CLOSED, very_old + timedelta(days=1)),  # closed long ago
        rect(2, 2, RectificationState.CLOSED, old + timedelta(days=1)),  # recently enough for a 追评
        rect(3, 5, RectificationState.CONTACTED, None),
    ]  # open
    await store.commit(
        Batch(
            events=[
                RaterContacted(
                    at=NOW,
                    actor="staff:bo",
                    ticket="t3",
                    window=3,
                    rectification_id=3,
                    rating_id=5,
                    note="n",
                    on_time=True,
                )
            ],
            cases=[k.to_row() for k in cases],
            case_numbers=[(NOW.date(), 1), (old.date(), 2)],
            ratings=[r.to_row() for r in ratings],
            rectifications=[r.to_row() for r in rects],
            service_date=NOW.date(),
        )
    )
    loaded = await store.load()
    assert [r["receipt_no"] for r in loaded.cases] == ["SL-20261013-0002", "SL-20261123-0001"]
    assert Case.from_row(loaded.cases[0]) == cases[1]
    assert sorted(r["id"] for r in loaded.rectifications) == [2, 3]
    assert sorted(r["id"] for r in loaded.ratings) == [2, 3, 4, 5]  # today's, those of the loops, the 追评
    assert Rating.from_row(next(r for r in loaded.ratings if r["id"] == 2)) == ratings[1]
    assert Rectification.from_row(next(r for r in loaded.rectifications if r["id"] == 3)) == rects[2]
    assert (loaded.last_rating_id, loaded.last_rectification_id) == (5, 3)
    assert loaded.case_numbers[NOW.date()] == 1
    assert (await store.find_case("SL-20261013-0001"))["state"] == "completed"  # historic rows stay


async def test_one_rating_per_service_is_also_a_database_rule(store: Store, backend: Backend) -> None:
    await store.commit(Batch(ratings=[rating(1, NOW).to_row()]))
    with pytest.raises(backend.integrity_errors):
        twice = rating(2, NOW)
        twice.ticket = "t1"
        await store.commit(Batch(ratings=[twice.to_row()]))


async def test_a_failed_batch_writes_neither_events_nor_rows(store: Store, backend: Backend) -> None:
    good = case("SL-20261123-0001", CaseState.ACCEPTED, NOW)
    bad_rect = rect(1, 999, RectificationState.OPEN, None)  # refers to a rating that does not exist
    with pytest.raises(backend.integrity_errors):
        await store.commit(
            Batch(
                events=[
                    ReviewStarted(
                        at=NOW, actor="staff:w3", receipt_no=good.receipt_no, matter_code=good.matter_code
                    )
                ],
                cases=[good.to_row()],
                rectifications=[bad_rect.to_row()],
            )
        )
    loaded = await store.load()
    assert loaded.cases == [] and loaded.last_event_id == 0
