"""一件事, 帮办 and 代办 in the simulated days (sim/bundles.py): bundles accepted at the M
windows fan out to their departments, parts are released and decided, bundles are handed out
once; some are accompanied by a 帮办员; the 代办员 of the demo hall submit cases with no visit."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path


def _rows(db: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_bundles_parts_helpers_and_agents_run_without_refusals(week):
    assert not week.result.unexpected, week.result.unexpected
    kinds = Counter(dict(_rows(week.db, "SELECT type, COUNT(*) FROM events GROUP BY type")))
    for kind in (
        "part_opened",
        "part_released",
        "bundle_decided",
        "case_assisted",
        "case_submitted_by_agent",
    ):
        assert kinds[kind] > 0, kind
    # every part belongs to a bundle of the catalogue and names its own department
    rows = _rows(
        week.db,
        "SELECT b.matter_code, p.matter_code, p.department FROM cases p"
        " JOIN cases b ON b.receipt_no = p.bundle_receipt",
    )
    assert {r[0] for r in rows} <= {"GA-008", "SB-006", "BDC-008", "SS-008"}
    assert len({r[2] for r in rows}) >= 4
    # a delivered bundle went out once, with its decided parts
    delivered = _rows(
        week.db,
        "SELECT receipt_no FROM cases WHERE state = 'completed' AND receipt_no IN"
        " (SELECT bundle_receipt FROM cases WHERE bundle_receipt IS NOT NULL)",
    )
    for (receipt,) in delivered:
        parts = _rows(week.db, f"SELECT state FROM cases WHERE bundle_receipt = '{receipt}'")
        assert {s for (s,) in parts} <= {"completed", "withdrawn"}
    # 代办: no ticket, no window
    agent_cases = _rows(
        week.db, "SELECT ticket, window, agent_point FROM cases WHERE agent <> '' AND bundle_receipt IS NULL"
    )
    assert agent_cases and all(t is None and w is None and p for t, w, p in agent_cases)
    data = [
        json.loads(d)
        for (d,) in _rows(week.db, "SELECT data FROM events WHERE type = 'case_submitted_by_agent'")
    ]
    assert {d["agent_point"] for d in data} <= {"城关镇便民服务中心", "河口镇便民服务中心"}
