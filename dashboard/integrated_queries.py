"""Figures of 集成服务 (issue 16) for the 一件事 page, read from the hall's SQLite file.

The columns of schema migration 3 (bundle parts, 帮办代办, notices) are not in the DuckDB
warehouse (``data.py``): these few queries read the source file on a read-only connection
(``data.connect_readonly``), which sees committed state only. Every figure is for cases
accepted in the period (``accepted_at`` between the scope's dates) unless said otherwise.

- a bundle is a case some part names as its ``bundle_receipt``; parts are left out of the
  case counts (a bundle counts once);
- 减时间: the bundles' own promised working days against the sum of their parts' (what the
  matters one by one would promise), and the working days the decided ones took;
- chains in operation (一链办理, seed 002: 10 then 20 high-frequency chains): the bundle
  matters with at least one case in the period;
- 一次告知: cases with a written notice of missing items (补正 or 容缺), and how many of
  them had more than one;
- visits (减跑动): a bundle's distinct tickets (acceptance, 出件; none for 代办) against
  what its parts would need apart (承诺件 2: apply and pick up; 即办件 1).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from dashboard.data import connect_readonly

CHAIN_TARGETS = (10, 20)  # seed 002: 一链办理 high-frequency chains, first 10 then 20


@dataclass(frozen=True)
class Integrated:
    available: bool  # the database has schema migration 3
    bundles_accepted: int
    bundles_delivered: int
    bundle_promised_days: int  # sum over accepted bundles of their own promise
    parts_promised_days: int  # sum over them of their parts' promises
    avg_decided_days: float | None  # calendar days from 受理 to the bundle's decision, decided ones
    chains: int  # distinct bundle matters in operation
    noticed_cases: int  # cases with at least one written notice of missing items
    notices: int  # notices written for them
    second_notices: int  # cases with more than one (一次告知 not kept)
    assisted: int  # 帮办 cases (a bundle once)
    by_agent: int  # 代办 cases (a bundle once)
    bundle_visits: float | None  # average distinct visits per bundle
    separate_visits: float | None  # average visits its parts would need apart

    @property
    def time_saved(self) -> float | None:
        """减时间: 1 - the bundles' promises / the sum of their parts' promises."""
        if not self.parts_promised_days:
            return None
        return 1 - self.bundle_promised_days / self.parts_promised_days

    @property
    def one_notice_rate(self) -> float | None:
        return (self.noticed_cases - self.second_notices) / self.noticed_cases if self.noticed_cases else None


def _has_migration_3(con: sqlite3.Connection) -> bool:
    cols = {r[1] for r in con.execute("PRAGMA table_info(cases)")}
    return "bundle_receipt" in cols


_PERIOD = "substr(accepted_at, 1, 10) BETWEEN :start AND :end"
_BUNDLES = "receipt_no IN (SELECT bundle_receipt FROM cases WHERE bundle_receipt IS NOT NULL)"


def integrated(path: Path, start: date, end: date) -> Integrated:
    con = connect_readonly(path)
    try:
        if not _has_migration_3(con):
            return Integrated(False, 0, 0, 0, 0, None, 0, 0, 0, 0, 0, 0, None, None)
        p = {"start": start.isoformat(), "end": end.isoformat()}
        accepted, delivered, own, chains = con.execute(
            f"SELECT COUNT(*), COUNT(*) FILTER (WHERE state = 'completed'), COALESCE(SUM(promised_working_days), 0),"
            f" COUNT(DISTINCT matter_code) FROM cases WHERE {_BUNDLES} AND {_PERIOD}",
            p,
        ).fetchone()
        [parts] = con.execute(
            f"SELECT COALESCE(SUM(promised_working_days), 0) FROM cases WHERE bundle_receipt IN"
            f" (SELECT receipt_no FROM cases WHERE {_BUNDLES} AND {_PERIOD})",
            p,
        ).fetchone()
        [avg_days] = con.execute(
            f"SELECT AVG(julianday(decided_at) - julianday(accepted_at)) FROM cases"
            f" WHERE {_BUNDLES} AND {_PERIOD} AND decided_at IS NOT NULL",
            p,
        ).fetchone()
        noticed, notices, second = con.execute(
            "SELECT COUNT(*), COALESCE(SUM(notices), 0), COUNT(*) FILTER (WHERE notices > 1) FROM cases"
            " WHERE notices > 0 AND bundle_receipt IS NULL AND substr(created_at, 1, 10) BETWEEN :start AND :end",
            p,
        ).fetchone()
        assisted, agent = con.execute(
            f"SELECT COUNT(*) FILTER (WHERE assisted_by <> ''), COUNT(*) FILTER (WHERE agent <> '') FROM cases"
            f" WHERE bundle_receipt IS NULL AND {_PERIOD}",
            p,
        ).fetchone()
        visits = con.execute(
            "SELECT b.receipt_no,"
            " (b.ticket IS NOT NULL) + (b.delivery_ticket IS NOT NULL AND b.delivery_ticket IS NOT b.ticket),"
            " (SELECT SUM(CASE WHEN k.case_type = '即办件' THEN 1 ELSE 2 END) FROM cases k"
            "  WHERE k.bundle_receipt = b.receipt_no)"
            " FROM cases b WHERE b.receipt_no IN (SELECT bundle_receipt FROM cases WHERE bundle_receipt IS NOT NULL) AND substr(b.accepted_at, 1, 10) BETWEEN :start AND :end AND b.state = 'completed'",
            p,
        ).fetchall()
    finally:
        con.close()
    return Integrated(
        True,
        accepted,
        delivered,
        own,
        parts,
        avg_days,
        chains,
        noticed,
        notices,
        second,
        assisted,
        agent,
        sum(v[1] for v in visits) / len(visits) if visits else None,
        sum(v[2] for v in visits) / len(visits) if visits else None,
    )


def bundle_table(path: Path, start: date, end: date) -> pd.DataFrame:
    """The bundles accepted in the period with their parts' departments and states."""
    con = connect_readonly(path)
    try:
        if not _has_migration_3(con):
            return pd.DataFrame()
        return pd.read_sql_query(
            "SELECT b.receipt_no, b.matter_name, b.state, b.due_at, b.agent, b.assisted_by_name,"
            " (SELECT group_concat(k.department || ':' || k.state, '; ') FROM cases k"
            "  WHERE k.bundle_receipt = b.receipt_no) AS parts"
            " FROM cases b WHERE b.receipt_no IN (SELECT bundle_receipt FROM cases WHERE bundle_receipt IS NOT NULL) AND substr(b.accepted_at, 1, 10) BETWEEN :start AND :end ORDER BY b.receipt_no",
            con,
            params={"start": start.isoformat(), "end": end.isoformat()},
        )
    finally:
        con.close()
