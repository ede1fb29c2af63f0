"""The dashboard's figures computed again, independently: plain SQL on the SQLite file
(``sqlite3``, JSON read with ``json_extract``) and plain Python, following the definitions
in docs/dashboard.md and docs/data-model.md, without DuckDB or any dashboard code."""

from __future__ import annotations

import sqlite3
import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta

FIRST_CALLS = """
    SELECT json_extract(data, '$.waited_s') FROM events e
    WHERE type = 'ticket_called' AND service_date BETWEEN ? AND ?
      AND id = (SELECT MIN(id) FROM events e2 WHERE e2.ticket = e.ticket AND e2.type = 'ticket_called')
"""


def _one(con: sqlite3.Connection, sql: str, *params: object) -> float:
    return con.execute(sql, params).fetchone()[0]


def p90(values: list[float]) -> float | None:
    """90th percentile, linear interpolation between order statistics (numpy's default)."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def day_figures(con: sqlite3.Connection, start: date, end: date) -> dict[str, float | None]:
    a, b = start.isoformat(), end.isoformat()
    waits = [r[0] for r in con.execute(FIRST_CALLS, (a, b))]
    return {
        "issued": _one(con, "SELECT COUNT(*) FROM tickets WHERE service_date BETWEEN ? AND ?", a, b),
        "served": _one(
            con, "SELECT COUNT(*) FROM tickets WHERE service_date BETWEEN ? AND ? AND state = 'done'", a, b
        ),
        "no_show": _one(
            con, "SELECT COUNT(*) FROM tickets WHERE service_date BETWEEN ? AND ? AND state = 'no_show'", a, b
        ),
        "waiting": _one(
            con,
            "SELECT COUNT(*) FROM tickets WHERE service_date BETWEEN ? AND ? AND state = 'waiting'"
            " AND checked_in = 1",
            a,
            b,
        ),
        "avg_wait_s": sum(waits) / len(waits) if waits else None,
        "p90_wait_s": p90(waits),
        "avg_service_s": _one(
            con,
            "SELECT AVG(json_extract(data, '$.service_s')) FROM events"
            " WHERE type = 'service_finished' AND service_date BETWEEN ? AND ?",
            a,
            b,
        ),
        "finished": _one(
            con,
            "SELECT COUNT(*) FROM events WHERE type = 'service_finished' AND service_date BETWEEN ? AND ?",
            a,
            b,
        ),
    }


def window_counts(con: sqlite3.Connection) -> dict[str, int]:
    out = {"open": 0, "serving": 0, "idle": 0, "paused": 0, "closed": 0}
    for state, current in con.execute("SELECT state, current_ticket FROM windows"):
        if state == "open":
            out["open"] += 1
            out["serving" if current else "idle"] += 1
        else:
            out[state] += 1
    return out


def alerts(con: sqlite3.Connection, config, day: date, now: datetime) -> int:
    """Queues over their waiting-count or longest-wait threshold now."""
    n = 0
    for q in config.queues:
        arrived = [
            datetime.fromisoformat(r[0])
            for r in con.execute(
                "SELECT arrived_at FROM tickets WHERE service_date = ? AND queue = ? AND state = 'waiting'"
                " AND checked_in = 1",
                (day.isoformat(), q.code),
            )
        ]
        longest = max(((now - t).total_seconds() for t in arrived), default=0)
        if len(arrived) > q.alert_waiting or longest > q.alert_wait_min * 60:
            n += 1
    return n


def window_times(con: sqlite3.Connection, start: date, end: date, now: datetime) -> dict[str, float]:
    """Open, paused and busy seconds of all windows, walking the log event by event: a window
    is open from opened/resumed, paused from paused, until its next state event, the end of
    that local day or now; busy from a call until the ticket is finished, marked no-show,
    transferred or cancelled (same caps)."""
    now_ts = now.timestamp()
    totals = defaultdict(float)
    state: dict[int, tuple[str, float, float]] = {}  # window -> (state, since, day end)
    busy: dict[str, tuple[float, float]] = {}  # ticket -> (since, day end)

    def day_end(at: str) -> float:
        local = datetime.fromisoformat(at)
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), local.tzinfo)
        return midnight.timestamp()

    rows = con.execute(
        "SELECT type, at, ts, ticket, window FROM events WHERE service_date BETWEEN ? AND ? ORDER BY id",
        (start.isoformat(), end.isoformat()),
    )
    for typ, at, ts, ticket, window in rows:
        if typ in ("window_opened", "window_resumed", "window_paused", "window_closed"):
            if window in state:
                s, since, cap = state.pop(window)
                totals[s] += min(ts, cap, now_ts) - since
            if typ != "window_closed":
                state[window] = ("paused" if typ == "window_paused" else "open", ts, day_end(at))
        elif typ == "ticket_called":
            busy[ticket] = (ts, day_end(at))
        elif (
            typ in ("service_finished", "ticket_no_show", "ticket_transferred", "ticket_cancelled")
            and ticket in busy
        ):
            since, cap = busy.pop(ticket)
            totals["busy"] += max(0.0, min(ts, cap, now_ts) - since)
    for s, since, cap in state.values():
        totals[s] += max(0.0, min(cap, now_ts) - since)
    for since, cap in busy.values():
        totals["busy"] += max(0.0, min(cap, now_ts) - since)
    return {"open_s": totals["open"], "paused_s": totals["paused"], "busy_s": totals["busy"]}


def case_figures(con: sqlite3.Connection, start: date, end: date, now: datetime, soon_hours: int) -> dict:
    a, b = start.isoformat(), end.isoformat()
    now_iso = now.isoformat()
    q = lambda sql, *p: _one(con, sql, *p)  # noqa: E731
    received = q("SELECT COUNT(*) FROM cases WHERE service_date BETWEEN ? AND ?", a, b)
    accepted = q("SELECT COUNT(*) FROM cases WHERE substr(accepted_at, 1, 10) BETWEEN ? AND ?", a, b)
    decided = q("SELECT COUNT(*) FROM cases WHERE substr(decided_at, 1, 10) BETWEEN ? AND ?", a, b)
    on_time = q(
        "SELECT COUNT(*) FROM cases WHERE substr(decided_at, 1, 10) BETWEEN ? AND ? AND decided_on_time = 1",
        a,
        b,
    )
    instant = q(
        "SELECT COUNT(*) FROM cases WHERE substr(accepted_at, 1, 10) BETWEEN ? AND ? AND case_type = '即办件'",
        a,
        b,
    )
    one = q(
        "SELECT COUNT(*) FROM cases WHERE substr(accepted_at, 1, 10) BETWEEN ? AND ? AND one_window = 1", a, b
    )
    overdue = q(
        "SELECT COUNT(*) FROM cases WHERE state IN ('accepted', 'in_review')"
        " AND julianday(due_at) < julianday(?)",
        now_iso,
    )
    soon = q(
        "SELECT COUNT(*) FROM cases WHERE state IN ('accepted', 'in_review') AND julianday(due_at) >= julianday(?)"
        " AND julianday(due_at) < julianday(?)",
        now_iso,
        (now + timedelta(hours=soon_hours)).isoformat(),
    )
    # honest: still open past the due (accepted by the period's end) counts as late
    late = q(
        "SELECT COUNT(*) FROM cases WHERE state IN ('accepted', 'in_review') AND julianday(due_at) < julianday(?)"
        " AND substr(accepted_at, 1, 10) <= ?",
        now_iso,
        b,
    )
    return {
        "received": received,
        "accepted": accepted,
        "decided": decided,
        "on_time_rate": on_time / (decided + late) if decided + late else None,
        "instant_share": instant / accepted if accepted else None,
        "one_window_rate": one / accepted if accepted else None,
        "overdue": overdue,
        "due_soon": soon,
    }


def rating_figures(con: sqlite3.Connection, start: date, end: date, now: datetime) -> dict:
    a, b = start.isoformat(), end.isoformat()
    q = lambda sql, *p: _one(con, sql, *p)  # noqa: E731
    counted = "follow_up_of IS NULL AND excluded = 0 AND service_date BETWEEN ? AND ?"
    rated = q(f"SELECT COUNT(*) FROM ratings WHERE {counted}", a, b)
    good = q(f"SELECT COUNT(*) FROM ratings WHERE {counted} AND score >= 4", a, b)
    bad = q(f"SELECT COUNT(*) FROM ratings WHERE {counted} AND score <= 2", a, b)
    done = q("SELECT COUNT(*) FROM tickets WHERE state = 'done' AND service_date BETWEEN ? AND ?", a, b)
    unrated = q(
        "SELECT COUNT(*) FROM tickets t WHERE state = 'done' AND service_date BETWEEN ? AND ?"
        " AND NOT EXISTS (SELECT 1 FROM ratings r WHERE r.ticket = t.id AND r.follow_up_of IS NULL)",
        a,
        b,
    )
    rect = "substr(opened_at, 1, 10) BETWEEN ? AND ? AND (outcome IS NULL OR outcome <> 'appeal_upheld')"
    n = q(f"SELECT COUNT(*) FROM rectifications WHERE {rect}", a, b)
    replied = q(
        f"SELECT COUNT(*) FROM rectifications WHERE {rect} AND (contacted_at IS NOT NULL OR closed_at IS NOT NULL)",
        a,
        b,
    )
    contact_ok = q(f"SELECT COUNT(*) FROM rectifications WHERE {rect} AND contact_on_time = 1", a, b)
    contact_n = q(f"SELECT COUNT(*) FROM rectifications WHERE {rect} AND contact_on_time IS NOT NULL", a, b)
    rectify_ok = q(f"SELECT COUNT(*) FROM rectifications WHERE {rect} AND rectify_on_time = 1", a, b)
    rectify_n = q(f"SELECT COUNT(*) FROM rectifications WHERE {rect} AND rectify_on_time IS NOT NULL", a, b)
    now_iso = now.isoformat()
    # honest: loops still open past the due count as late
    contact_n += q(
        f"SELECT COUNT(*) FROM rectifications WHERE {rect} AND state = 'open'"
        " AND julianday(contact_due) < julianday(?)",
        a,
        b,
        now_iso,
    )
    rectify_n += q(
        f"SELECT COUNT(*) FROM rectifications WHERE {rect} AND state IN ('open', 'contacted')"
        " AND julianday(rectify_due) < julianday(?)",
        a,
        b,
        now_iso,
    )
    return {
        "rated": rated,
        "good_rate": good / rated if rated else None,
        "bad_rate": bad / rated if rated else None,
        "unrated_rate": unrated / done if done else None,
        "rectifications": n,
        "reply_rate": replied / n if n else None,
        "contact_on_time_rate": contact_ok / contact_n if contact_n else None,
        "rectify_on_time_rate": rectify_ok / rectify_n if rectify_n else None,
        "contact_overdue": q(
            "SELECT COUNT(*) FROM rectifications WHERE state = 'open'"
            " AND julianday(contact_due) < julianday(?)",
            now_iso,
        ),
        "rectify_overdue": q(
            "SELECT COUNT(*) FROM rectifications WHERE state IN ('open', 'contacted')"
            " AND julianday(rectify_due) < julianday(?)",
            now_iso,
        ),
    }
