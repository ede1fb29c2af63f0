"""Figures of the seeds' rules (docs/rules.md): 最多跑一次 (visits per case), 一窗受理 on both
bases, 进驻比例 and 网上可办率 from the catalogue, and complaints (投诉/纠纷).

Visits (R12): the distinct local days the citizen came to the hall for a case — the day it was
created (受理, 补正 notice or 不予受理), the day a 补正 case was accepted, the day the 容缺 item
was supplied, and the day the result was collected at a window (``delivery_method = 'window'``;
a result sent by post is no visit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from queue_server.matter_promises import MatterPromise
from queue_server.matters import Matter

from .data import HallWarehouse
from .queries import NO_ROW, Scope, _text_filter

ONE_WINDOW_GOALS = (0.50, 0.70)  # seed 002: 50% (2018), 70% (2019) of 政务服务事项 through 一窗
IN_HALL_GOAL = 0.70  # seed 002: 进驻比例 >= 70%
ONLINE_GOAL = 0.70  # seed 002: 网上可办率 >= 70%


def case_visits(wh: HallWarehouse, scope: Scope) -> pd.DataFrame:
    """Cases completed (出件) in the period with their visits: receipt_no, matter_code,
    matter_name, department, visits, visit_days (the days, comma-separated)."""
    df = _text_filter("department", scope.departments)
    return wh.query(
        f"""
    WITH d AS (
        SELECT receipt_no, matter_code, matter_name, department, service_date AS day FROM cases
        WHERE state = 'completed' AND delivered_date BETWEEN $start AND $end {df}
        UNION SELECT receipt_no, matter_code, matter_name, department, accepted_date FROM cases
        WHERE state = 'completed' AND delivered_date BETWEEN $start AND $end AND accepted_date IS NOT NULL {df}
        UNION SELECT receipt_no, matter_code, matter_name, department, supplied_date FROM cases
        WHERE state = 'completed' AND delivered_date BETWEEN $start AND $end AND supplied_date IS NOT NULL {df}
        UNION SELECT receipt_no, matter_code, matter_name, department, delivered_date FROM cases
        WHERE state = 'completed' AND delivered_date BETWEEN $start AND $end AND delivery_method = 'window' {df}
    )
    SELECT receipt_no, any_value(matter_code) AS matter_code, any_value(matter_name) AS matter_name,
           any_value(department) AS department, COUNT(DISTINCT day) AS visits,
           string_agg(DISTINCT CAST(day AS VARCHAR), ', ' ORDER BY CAST(day AS VARCHAR)) AS visit_days
    FROM d GROUP BY receipt_no ORDER BY receipt_no
    """,
        scope.params(),
    )


@dataclass(frozen=True, kw_only=True)
class VisitFigures:
    promised: int  # completed cases of matters with a visit promise
    kept: int  # of those, within their promise
    rate: float | None  # kept / promised
    by_matter: pd.DataFrame  # matter_code, matter_name, promise, promised, kept, rate
    by_department: pd.DataFrame  # department, promised, kept, rate
    broken: pd.DataFrame  # the cases that broke the promise, with their visits and days


def visit_figures(visits: pd.DataFrame, promises: Sequence[MatterPromise]) -> VisitFigures:
    limit = {p.code: p.max_visits for p in promises if p.max_visits is not None}
    promise = {p.code: p.visit_promise for p in promises}
    v = visits[visits["matter_code"].isin(list(limit))].copy()
    v["promise"] = v["matter_code"].map(promise)
    v["max_visits"] = v["matter_code"].map(limit)
    v["kept"] = v["visits"] <= v["max_visits"]

    def rates(by: list[str]) -> pd.DataFrame:
        if v.empty:
            return pd.DataFrame(columns=[*by, "promised", "kept", "rate"])
        g = v.groupby(by, as_index=False).agg(promised=("receipt_no", "count"), kept=("kept", "sum"))
        g["rate"] = g["kept"] / g["promised"]
        return g.sort_values(["rate", "promised"], ascending=[True, False]).reset_index(drop=True)

    kept = int(v["kept"].sum())
    return VisitFigures(
        promised=len(v),
        kept=kept,
        rate=kept / len(v) if len(v) else None,
        by_matter=rates(["matter_code", "matter_name", "promise"]),
        by_department=rates(["department"]),
        broken=v[~v["kept"]].reset_index(drop=True),
    )


@dataclass(frozen=True, kw_only=True)
class MatterFigures:
    catalogue: int  # matters of the 事项目录 (promises.csv)
    in_hall: int
    in_hall_rate: float | None  # 进驻比例
    online: int
    online_rate: float | None  # 网上可办率
    hall_matters: int  # matters.csv
    one_window: int
    one_window_rate: float | None  # 一窗 by matters: the seeds' basis


def matter_figures(matters: Sequence[Matter], promises: Sequence[MatterPromise]) -> MatterFigures:
    n = len(promises)
    in_hall = sum(p.in_hall for p in promises)
    online = sum(p.online for p in promises)
    one = sum(m.one_window for m in matters)
    return MatterFigures(
        catalogue=n,
        in_hall=in_hall,
        in_hall_rate=in_hall / n if n else None,
        online=online,
        online_rate=online / n if n else None,
        hall_matters=len(matters),
        one_window=one,
        one_window_rate=one / len(matters) if matters else None,
    )


# ---------------------------------------------------------------------- complaints

COMPLAINT_STATE_LABELS = {
    "received": "待分办",
    "assigned": "已分办",
    "handled": "已处理",
    "replied": "已回复",
    "closed": "已办结",
}
CHANNEL_LABELS = {
    "onsite": "现场",
    "phone": "电话",
    "hotline_12345": "12345转办",
    "rating": "好差评",
    "unresolved": "办不成事",
}
_OPEN = "state IN ('received', 'assigned', 'handled')"


@dataclass(frozen=True, kw_only=True)
class ComplaintSummary:
    received: int  # in the period
    replied: int  # of those, replied
    replied_on_time: int
    open_late: int  # of those, still open past their due now
    on_time_rate: float | None  # replied on time / (replied + open_late)
    overdue: int  # open past their due now (any period)
    satisfied: int  # closed with satisfaction >= 4
    closed: int
    satisfied_rate: float | None


def complaint_summary(wh: HallWarehouse, scope: Scope, now_ts: float) -> ComplaintSummary:
    do = _text_filter("owner_department", scope.departments)
    p: dict[str, Any] = {**scope.params(), "now": now_ts}
    r = (
        wh.execute(
            f"""
    SELECT COUNT(*), COUNT(replied_ts), COUNT(*) FILTER (WHERE reply_on_time = 1),
           COUNT(*) FILTER (WHERE {_OPEN} AND due_ts < $now),
           COUNT(*) FILTER (WHERE satisfaction >= 4), COUNT(closed_ts)
    FROM complaints WHERE received_date BETWEEN $start AND $end {do}
    """,
            p,
        ).fetchone()
        or NO_ROW
    )
    overdue = wh.scalar(
        f"SELECT COUNT(*) FROM complaints WHERE {_OPEN} AND due_ts < $now {do}", {"now": now_ts}
    )
    received, replied, on_time, late, satisfied, closed = r
    return ComplaintSummary(
        received=received,
        replied=replied,
        replied_on_time=on_time,
        open_late=late,
        on_time_rate=on_time / (replied + late) if replied + late else None,
        overdue=overdue or 0,
        satisfied=satisfied,
        closed=closed,
        satisfied_rate=satisfied / closed if closed else None,
    )


def complaint_table(wh: HallWarehouse, scope: Scope, now_ts: float) -> pd.DataFrame:
    """Complaints received in the period and every open one, overdue first (no personal data)."""
    do = _text_filter("owner_department", scope.departments)
    return wh.query(
        f"""
    SELECT id, channel, category, state, received_ts, due_ts, responsible, owner_department, hotline_ref,
           reassignments, reminders, satisfaction, ({_OPEN} AND due_ts < $now) AS overdue
    FROM complaints WHERE (received_date BETWEEN $start AND $end OR {_OPEN}) {do}
    ORDER BY overdue DESC, ({_OPEN}) DESC, due_ts
    """,
        {**scope.params(), "now": now_ts},
    )


def complaints_by_channel(wh: HallWarehouse, scope: Scope) -> pd.DataFrame:
    do = _text_filter("owner_department", scope.departments)
    return wh.query(
        f"""
    SELECT channel, COUNT(*) AS received, COUNT(*) FILTER (WHERE responsible = 'management') AS management,
           COUNT(*) FILTER (WHERE responsible = 'department') AS department
    FROM complaints WHERE received_date BETWEEN $start AND $end {do} GROUP BY channel ORDER BY received DESC
    """,
        scope.params(),
    )
