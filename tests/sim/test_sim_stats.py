"""queue_server.sim.stats: wait figures from the events, and the tables ``hallops simulate``
prints. Figures are checked against the events log in SQLite, computed independently."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import datetime

import pytest

from queue_server.sim.stats import cases_line, compare_table, percentile, summary_table


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([], 90) == 0.0
    assert percentile([5.0], 90) == 5.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 0) == 1.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 100) == 4.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile([10.0, 20.0], 90) == pytest.approx(19.0)


def _first_waits(db) -> dict[str, list[float]]:
    """Queue at issue -> seconds from issue to first call, from the events table."""
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "SELECT ticket, type, at, json_extract(data, '$.queue') FROM events "
            "WHERE type IN ('ticket_issued', 'ticket_called') ORDER BY id"
        ).fetchall()
    finally:
        con.close()
    issued: dict[str, tuple[str, datetime]] = {}
    waits: dict[str, list[float]] = defaultdict(list)
    for ticket, kind, at, queue in rows:
        when = datetime.fromisoformat(at)
        if kind == "ticket_issued":
            issued[ticket] = (queue, when)
        elif ticket in issued:
            q, start = issued.pop(ticket)  # only the first call counts
            waits[q].append((when - start).total_seconds())
    return waits


def test_waits_are_from_issue_to_first_call(week) -> None:
    waits = _first_waits(week.db)
    assert waits, "the simulated week called tickets"
    for code, figures in week.stats.queues.items():
        assert sorted(figures.waits) == pytest.approx(sorted(waits.get(code, [])))
        assert figures.called == len(waits.get(code, []))
        if figures.waits:
            assert figures.mean_wait == pytest.approx(sum(figures.waits) / len(figures.waits))
            assert figures.max_wait == max(figures.waits)
            assert figures.mean_wait <= figures.max_wait


def test_the_total_adds_the_queues_up(week) -> None:
    total = week.stats.total()
    queues = week.stats.queues.values()
    assert total.issued == sum(f.issued for f in queues) > 0
    assert total.served == sum(f.served for f in queues)
    assert total.no_shows == sum(f.no_shows for f in queues)
    assert total.transferred_out == sum(f.transferred_out for f in queues)
    assert sorted(total.waits) == sorted(w for f in queues for w in f.waits)
    assert total.max_waiting == max(f.max_waiting for f in queues)
    assert len(week.stats.days) == 3


def test_issued_counts_match_the_log(week) -> None:
    con = sqlite3.connect(week.db)
    try:
        counts = dict(
            con.execute(
                "SELECT json_extract(data, '$.queue'), COUNT(*) FROM events "
                "WHERE type = 'ticket_issued' GROUP BY 1"
            ).fetchall()
        )
    finally:
        con.close()
    assert {q: f.issued for q, f in week.stats.queues.items() if f.issued} == counts


def test_summary_table_has_a_row_per_busy_queue_and_the_hall(week) -> None:
    table = summary_table(week.stats)
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["queue", "issued", "served"]
    busy = [q for q in week.config.queues if week.stats.queues[q.code].issued]
    assert len(lines) == 1 + len(busy) + 1
    total = week.stats.total()
    assert lines[-1].split()[:3] == ["all", str(total.issued), str(total.served)]
    # columns line up even with Chinese queue names (two columns a character)
    ends = {_display_width(line) for line in lines}
    assert len(ends) == 1, table


def _display_width(line: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in line)


def test_compare_table_of_a_run_with_itself(week) -> None:
    table = compare_table(week.stats, week.stats, "a", "b")
    head, columns, *rows = table.splitlines()
    assert head == "waits in minutes, from issue to first call"
    assert columns.split()[:5] == ["queue", "served", "a", "served", "b"]
    for row in rows:
        cells = row.split()
        served_a, served_b = cells[-8], cells[-7]
        assert served_a == served_b
    assert rows[-1].startswith("all")


def test_cases_line(week) -> None:
    k = week.stats.cases
    assert k["case_accepted"] and week.stats.ratings, "the demo hall's week has cases and ratings"
    line = cases_line(week.stats)
    assert line.startswith(f"cases (办件): {k['case_accepted']} accepted, ")
    assert f"ratings: {week.stats.ratings}, 差评 {week.stats.bad_ratings} " in line
