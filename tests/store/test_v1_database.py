"""A database written before typed events (tests/fixtures/db, made by ``make_v1.py`` on the
old code) still loads: every logged record decodes into its event class and encodes back to
the same record, replaying the log gives the state the old code got from it, and a restart
from its tables gives the state the old code loaded."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from queue_server.config_file import load_hall_config
from queue_server.hall import Hall
from queue_server.hall.calendar import WorkCalendar
from queue_server.hall.events import EventType, from_record
from queue_server.matters import load_matters
from queue_server.recorder import rebuild_hall
from queue_server.store import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
DB = ROOT / "tests" / "fixtures" / "db" / "v1-hall.db"
STATE = json.loads((ROOT / "tests" / "fixtures" / "db" / "v1-state.json").read_text())
MATTERS = {m.code: m for m in load_matters()}
CAL = WorkCalendar.from_package()
# event types and case columns added after v1 (issue 16, migration 3): absent from the old log;
# an old case gets their defaults
AFTER_V1 = {
    "part_opened",
    "part_released",
    "part_withdrawn",
    "bundle_decided",
    "notice_reissued",
    "case_assisted",
    "case_submitted_by_agent",
}
CASE_DEFAULTS_AFTER_V1 = {
    "bundle_receipt": None,
    "part_after": "[]",
    "share_working_days": None,
    "released_at": None,
    "withdrawn_reason": "",
    "assisted_by": "",
    "assisted_by_name": "",
    "agent": "",
    "agent_point": "",
    "notice_version": "",
}


def config():
    cfg = load_hall_config(ROOT / "tests" / "fixtures" / "halls" / "small.toml")
    return dataclasses.replace(cfg, queues=tuple(dataclasses.replace(q, daily_cap=999) for q in cfg.queues))


# event types added after the v1 database was written (responsibility by content, complaints)
NEW_SINCE_V1 = frozenset(
    {
        EventType.RECTIFICATION_REASSIGNED,
        EventType.COMPLAINT_RECEIVED,
        EventType.COMPLAINT_ASSIGNED,
        EventType.COMPLAINT_HANDLED,
        EventType.COMPLAINT_REPLIED,
        EventType.COMPLAINT_CLOSED,
        EventType.COMPLAINT_REMINDED,
    }
)
# rectification columns added after v1, and the value an old loop must get: the department
# owned every 差评 then
NEW_RECTIFICATION_DEFAULTS = {
    "responsible": "department",
    "coordinator": "",
    "triage": 0,
    "reassigned_at": None,
    "reassigned_by": None,
    "reassign_reason": "",
}


def _old_rectification(row: dict[str, Any]) -> dict[str, Any]:
    for k, v in NEW_RECTIFICATION_DEFAULTS.items():
        assert row.pop(k) == v, (k, row)
    return row


def state(hall: Hall) -> dict[str, Any]:
    """The same dump as make_v1.py's, through JSON (tuples become lists); the columns added
    since must hold the values that mean what the old code did."""
    out = {
        "tickets": sorted((t.to_row() for t in hall.tickets.values()), key=lambda r: r["id"]),
        "windows": sorted((w.to_row() for w in hall.windows.values()), key=lambda r: r["number"]),
        "numbers": sorted([d.isoformat(), q, n] for (d, q), n in hall.numbers.items()),
        "service_times": {q: [s.mean_s, s.samples] for q, s in sorted(hall.service_times.items())},
        "service_date": hall.service_date.isoformat() if hall.service_date else None,
        "cases": sorted((_v1_case(k.to_row()) for k in hall.cases.values()), key=lambda r: r["receipt_no"]),
        "case_numbers": {d.isoformat(): n for d, n in sorted(hall.case_numbers.items())},
        "ratings": sorted((r.to_row() for r in hall.ratings.values()), key=lambda r: r["id"]),
        "rectifications": sorted(
            (_old_rectification(r.to_row()) for r in hall.rectifications.values()), key=lambda r: r["id"]
        ),
        "last_rating_id": hall.last_rating_id,
        "last_rectification_id": hall.last_rectification_id,
    }
    return json.loads(json.dumps(out, ensure_ascii=False))


def _v1_case(row: dict[str, Any]) -> dict[str, Any]:
    """A case row as v1 wrote it: the later columns at their defaults, then left out. The count
    of notices (``notices``) is the one a replay derives from the old log: checked apart."""
    for key, default in CASE_DEFAULTS_AFTER_V1.items():
        assert row.pop(key) == default, key
    notices = row.pop("notices")
    assert (
        notices
        == (
            1
            if row["state"] == "materials_requested"
            or row["missing_materials"] != "[]"
            or row["deficiency_item"]
            else 0
        )
        or notices == 0
    )
    return row


def records() -> list[dict[str, Any]]:
    con = sqlite3.connect(DB)
    con.row_factory = sqlite3.Row
    try:
        rows = [
            dict(r)
            for r in con.execute("SELECT type, at, actor, ticket, window, data FROM events ORDER BY id")
        ]
    finally:
        con.close()
    for r in rows:
        r["data"] = json.loads(r["data"])
    return rows


def test_the_fixture_has_every_event_type():
    assert {r["type"] for r in records()} == {t.value for t in EventType if t not in NEW_SINCE_V1} - AFTER_V1


def test_every_record_decodes_and_encodes_back_unchanged():
    for rec in records():
        ev = from_record(rec)
        assert type(ev).type == rec["type"]
        assert ev.to_record() == rec


def test_replaying_the_old_log_gives_the_old_state():
    hall = Hall(config(), matters=MATTERS, calendar=CAL)
    for rec in records():
        hall.replay(from_record(rec))
    assert state(hall) == STATE["replayed"]
    assert STATE["replayed"]["cases"] and STATE["replayed"]["rectifications"]  # the dump is not empty


@pytest.mark.asyncio
async def test_a_restart_from_the_old_tables_gives_the_old_state(tmp_path):
    copy = tmp_path / "v1.db"
    copy.write_bytes(DB.read_bytes())
    store = SqliteStore(copy)
    await store.open()
    try:
        loaded = await store.load()
    finally:
        await store.close()
    assert state(rebuild_hall(config(), loaded, calendar=CAL, matters=MATTERS)) == STATE["loaded"]


def test_an_unknown_type_or_key_is_refused():
    rec = records()[0]
    with pytest.raises(ValueError, match="unknown event type"):
        from_record({**rec, "type": "ticket_teleported"})
    with pytest.raises(ValueError, match="unknown data keys"):
        from_record({**rec, "data": {**rec["data"], "colour": "red"}})
