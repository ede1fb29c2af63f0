"""Cases (办件) and 好差评 in the simulated days."""

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


def _kinds(db: Path) -> Counter[str]:
    return Counter(dict(_rows(db, "SELECT type, COUNT(*) FROM events GROUP BY type")))


def test_cases_of_every_kind_at_the_windows(week):
    kinds = _kinds(week.db)
    for kind in (
        "case_accepted",
        "case_rejected",
        "materials_requested",
        "review_started",
        "case_decided",
        "case_delivered",
    ):
        assert kinds[kind] > 0, kind
    served = kinds["service_finished"]
    created = kinds["case_accepted"] + kinds["case_rejected"] + kinds["materials_requested"]
    assert 0.3 * served < created < served  # P, Z, K and L serve no matter of the catalogue
    assert kinds["case_rejected"] < 0.05 * created
    states = dict(_rows(week.db, "SELECT state, COUNT(*) FROM cases GROUP BY state"))
    assert set(states) <= {
        "materials_requested",
        "accepted",
        "in_review",
        "suspended",
        "decided",
        "completed",
        "rejected",
        "in_parts",  # 一件事 bundles and their parts (tests/sim/test_sim_bundles.py)
        "waiting_for_input",
        "withdrawn",
    }


def test_an_instant_case_is_decided_and_handed_over_during_its_service(week):
    rows = _rows(
        week.db,
        """
        SELECT e.type, e.ticket, e.window, e.data FROM events e
        WHERE e.type IN ('case_accepted', 'case_decided', 'case_delivered', 'service_finished')
        ORDER BY e.id""",
    )
    accepted = {
        json.loads(d)["receipt_no"]: (t, w)
        for kind, t, w, d in rows
        if kind == "case_accepted" and json.loads(d).get("case_type") == "即办件"
    }
    assert accepted
    on_the_spot = [
        json.loads(d)["receipt_no"]
        for kind, _, _, d in rows
        if kind == "case_decided" and json.loads(d).get("on_the_spot")
    ]
    assert set(on_the_spot) <= set(accepted) and len(on_the_spot) > 0.9 * len(accepted)


def test_ratings_and_the_bad_share(week):
    kinds = _kinds(week.db)
    rated = kinds["service_rated"]
    assert 0.45 * kinds["service_finished"] < rated < 0.75 * kinds["service_finished"]
    scores = Counter(
        json.loads(d)["score"]
        for (d,) in _rows(week.db, "SELECT data FROM events WHERE type = 'service_rated'")
    )
    bad = scores[1] + scores[2]
    assert 0.01 < bad / rated < 0.06  # 差评 about 2-3%
    assert kinds["rectification_opened"] == bad  # every 差评 opens its loop
    worked = sum(
        kinds[k] for k in ("rater_contacted", "resolved_on_the_spot", "rating_explained", "rating_appealed")
    )
    assert worked > 0.5 * bad


def test_ratings_come_from_the_window_pad(week):
    actors = dict(_rows(week.db, "SELECT actor, window FROM events WHERE type = 'service_rated' LIMIT 50"))
    assert all(actor == f"device:pad-{window}" for actor, window in actors.items())
