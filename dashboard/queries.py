"""The dashboard's SQL (DuckDB, over the tables ``HallWarehouse`` loads) and the figures
built from it. Plain functions: a warehouse and a scope in, DataFrames or numbers out; no
Streamlit. Definitions of every figure, with their domain-rule source: docs/dashboard.md.

Conventions:

* A day is the hall's local service date (``service_date``), never the machine's.
* Times are Unix seconds (``*_ts``); durations are seconds.
* Wait (等候时长) of a ticket: from its arrival (issue, or check-in of an appointment) to its
  first call, as the core records it on that call (``ticket_called.data.waited_s``; the
  warehouse keeps the first call of each ticket in ``first_calls``).
* Service time (办理时长): from start to finish of service (``service_finished.data.service_s``).
* A queue filter applies to the queue a ticket was in for what is counted: the queue it was
  issued in for 取号, the queue it was called or served from for waits and service.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from queue_server.hall.config import HallConfig
from queue_server.hall.estimate import ServiceTime
from queue_server.hall.hall import Hall
from queue_server.hall.model import Ticket, Window
from queue_server.hall.states import TicketState, WindowState

from .data import HallWarehouse

NO_ROW: tuple[Any, ...] = ()  # an aggregate query always returns its one row; this tells mypy

_CODE = re.compile(r"^[A-Z]{1,2}$")


@dataclass(frozen=True, kw_only=True)
class Scope:
    """What the sidebar selected: a date range and, optionally, some queues and windows."""

    start: date
    end: date
    queues: tuple[str, ...] | None = None  # None: every queue
    windows: tuple[int, ...] | None = None  # None: every window
    departments: tuple[str, ...] | None = None  # None: every department (cases, ratings)

    def params(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end}


def scope_for(
    config: HallConfig | None,
    start: date,
    end: date,
    *,
    departments: Sequence[str] = (),
    queues: Sequence[str] = (),
) -> Scope:
    """A scope from the sidebar's choices: departments narrow the queues and windows to
    theirs; queues narrow further (windows: those serving one of the queues)."""
    if config is None or (not departments and not queues):
        return Scope(start=start, end=end, departments=tuple(departments) or None)
    chosen = [
        q
        for q in config.queues
        if (not departments or q.department in departments) and (not queues or q.code in queues)
    ]
    codes = tuple(q.code for q in chosen)
    wins = tuple(
        w.number
        for w in config.windows
        if any(wq.queue in codes for wq in w.queues)
        or (departments and not queues and w.department in departments)
    )
    return Scope(start=start, end=end, queues=codes, windows=wins, departments=tuple(departments) or None)


def _queue_filter(column: str, scope: Scope) -> str:
    if scope.queues is None:
        return ""
    codes = [q for q in scope.queues if _CODE.match(q)]
    if not codes:
        return " AND FALSE"
    return f" AND {column} IN ({', '.join(repr(q) for q in codes)})"


def _text_filter(column: str, values: Sequence[str] | None) -> str:
    """``AND column IN (...)`` for free text values (department names), quoted for SQL."""
    if values is None:
        return ""
    if not values:
        return " AND FALSE"
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f" AND {column} IN ({quoted})"


def _window_filter(column: str, scope: Scope) -> str:
    if scope.windows is None:
        return ""
    if not scope.windows:
        return " AND FALSE"
    return f" AND {column} IN ({', '.join(str(int(w)) for w in scope.windows)})"


# ====================================================================== live (实时)


def live_queues(wh: HallWarehouse, day: date, now_ts: float, scope: Scope | None = None) -> pd.DataFrame:
    """One row per configured queue: waiting now, longest wait, today's issued / served /
    no-show and waits. ``estimated_wait_s`` is added by ``add_estimates``."""
    s = scope or Scope(start=day, end=day)
    qf = _queue_filter("q.code", s)
    sql = f"""
    WITH today AS (SELECT * FROM tickets WHERE service_date = $day),
    waiting AS (
        SELECT queue, COUNT(*) AS waiting, MAX($now - arrived_ts) AS longest_wait_s
        FROM today WHERE state = 'waiting' AND checked_in = 1 GROUP BY queue
    ),
    issued AS (SELECT issue_queue AS queue, COUNT(*) AS issued FROM today GROUP BY 1),
    closed AS (
        SELECT queue, COUNT(*) FILTER (WHERE state = 'done') AS served,
               COUNT(*) FILTER (WHERE state = 'no_show') AS no_show
        FROM today GROUP BY queue
    ),
    first_call AS (SELECT queue, waited_s FROM first_calls WHERE service_date = $day),
    waits AS (
        SELECT queue, AVG(waited_s) AS avg_wait_s, QUANTILE_CONT(waited_s, 0.9) AS p90_wait_s,
               COUNT(*) AS called
        FROM first_call GROUP BY queue
    )
    SELECT q.code AS queue, q.name, q.kind, q.department, q.alert_waiting, q.alert_wait_min,
           COALESCE(w.waiting, 0) AS waiting, COALESCE(w.longest_wait_s, 0) AS longest_wait_s,
           COALESCE(i.issued, 0) AS issued, COALESCE(c.served, 0) AS served,
           COALESCE(c.no_show, 0) AS no_show, a.avg_wait_s, a.p90_wait_s, COALESCE(a.called, 0) AS called
    FROM queue_cfg q
    LEFT JOIN waiting w ON w.queue = q.code
    LEFT JOIN issued i ON i.queue = q.code
    LEFT JOIN closed c ON c.queue = q.code
    LEFT JOIN waits a ON a.queue = q.code
    WHERE TRUE {qf}
    ORDER BY q.ord
    """
    df = wh.query(sql, {"day": day, "now": now_ts})
    df["alert_count"] = df["waiting"] > df["alert_waiting"]
    df["alert_wait"] = df["longest_wait_s"] > df["alert_wait_min"] * 60
    return df


@dataclass(frozen=True, kw_only=True)
class DaySummary:
    issued: int
    served: int
    no_show: int  # 最终过号: tickets whose state is no_show
    waiting: int
    avg_wait_s: float | None
    p90_wait_s: float | None
    avg_service_s: float | None
    no_show_events: int = (
        0  # 过号次数: ticket_no_show events (a ticket reactivated and missed again counts twice)
    )


def day_summary(wh: HallWarehouse, day: date, scope: Scope | None = None) -> DaySummary:
    """The hall's figures of one day (the live page's headline)."""
    return period_summary(
        wh,
        Scope(
            start=day,
            end=day,
            queues=scope.queues if scope else None,
            windows=scope.windows if scope else None,
        ),
    )


def period_summary(wh: HallWarehouse, scope: Scope) -> DaySummary:
    qt = _queue_filter("issue_queue", scope)
    qc = _queue_filter("queue", scope)
    row = (
        wh.execute(
            f"""
    WITH t AS (SELECT * FROM tickets WHERE service_date BETWEEN $start AND $end),
    first_call AS (SELECT queue, waited_s FROM first_calls WHERE service_date BETWEEN $start AND $end)
    SELECT
        (SELECT COUNT(*) FROM t WHERE TRUE {qt}),
        (SELECT COUNT(*) FROM t WHERE state = 'done' {qc}),
        (SELECT COUNT(*) FROM t WHERE state = 'no_show' {qc}),
        (SELECT COUNT(*) FROM t WHERE state = 'waiting' AND checked_in = 1 {qc}),
        (SELECT AVG(waited_s) FROM first_call WHERE TRUE {qc}),
        (SELECT QUANTILE_CONT(waited_s, 0.9) FROM first_call WHERE TRUE {qc}),
        (SELECT AVG(service_s) FROM events WHERE service_date BETWEEN $start AND $end
            AND type = 'service_finished' {qc}),
        (SELECT COUNT(*) FROM events WHERE service_date BETWEEN $start AND $end
            AND type = 'ticket_no_show' {_window_filter("win", scope)})
    """,
            scope.params(),
        ).fetchone()
        or NO_ROW
    )
    return DaySummary(
        issued=row[0],
        served=row[1],
        no_show=row[2],
        waiting=row[3],
        avg_wait_s=row[4],
        p90_wait_s=row[5],
        avg_service_s=row[6],
        no_show_events=row[7],
    )


def live_windows(wh: HallWarehouse, day: date, scope: Scope | None = None) -> pd.DataFrame:
    """Every configured window now: status (serving / idle / paused / closed), who is
    there, the ticket at the counter and since when."""
    wf = _window_filter("c.number", scope) if scope else ""
    df = wh.query(
        f"""
    SELECT c.number, c.name, c.kind, c.zone, c.department,
           COALESCE(w.state, 'closed') AS state, COALESCE(w.staff_name, '') AS staff_name,
           w.staff, COALESCE(w.pause_reason, '') AS pause_reason, w.state_since_ts,
           t.number AS ticket, t.state AS ticket_state, t.called_ts,
           CASE
               WHEN w.state = 'open' AND w.current_ticket IS NOT NULL THEN 'serving'
               WHEN w.state = 'open' THEN 'idle'
               WHEN w.state = 'paused' THEN 'paused'
               ELSE 'closed'
           END AS status
    FROM window_cfg c
    LEFT JOIN windows w ON w.number = c.number
    LEFT JOIN tickets t ON t.id = w.current_ticket AND t.service_date = $day
    WHERE TRUE {wf}
    ORDER BY c.number
    """,
        {"day": day},
    )
    return df


def window_counts(windows: pd.DataFrame) -> dict[str, int]:
    status = windows["status"]
    return {
        "open": int((status.isin(["serving", "idle"])).sum()),
        "serving": int((status == "serving").sum()),
        "idle": int((status == "idle").sum()),
        "paused": int((status == "paused").sum()),
        "closed": int((status == "closed").sum()),
    }


def add_estimates(
    wh: HallWarehouse, config: HallConfig, queues: pd.DataFrame, day: date, now: datetime
) -> pd.DataFrame:
    """The estimated wait for a ticket issued now, per queue, computed by the hall core
    itself (``Hall.queue_summary``) from the current state, so the dashboard tells the same
    as the kiosk and the wall display (method: docs/wait-estimate.md)."""
    hall = live_hall(wh, config, day)
    est = {q.code: hall.queue_summary(q.code, now)["estimated_wait_s"] for q in config.queues}
    out = queues.copy()
    out["estimated_wait_s"] = out["queue"].map(est)
    return out


def live_hall(wh: HallWarehouse, config: HallConfig, day: date) -> Hall:
    """A hall core rebuilt from the warehouse: today's waiting and active tickets, the
    windows and the learned service times (what the estimate needs)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(config.timezone)

    def dt(value: Any) -> datetime | None:
        if value is None or pd.isna(value):
            return None
        return datetime.fromtimestamp(float(value), tz)

    rows = wh.query(
        """
        SELECT id, number, queue, service_date, seq, channel, priority, state, checked_in,
               win, target_window, recalls, transfers, served_by, issued_ts, arrived_ts,
               called_ts, served_ts, appointment_ts
        FROM tickets WHERE service_date = $day AND state IN ('waiting', 'called', 'serving')
    """,
        {"day": day},
    )
    tickets = []
    for r in rows.itertuples(index=False):
        tickets.append(
            Ticket(
                id=r.id,
                number=r.number,
                queue=r.queue,
                service_date=day,
                seq=int(r.seq),
                channel=r.channel,
                priority=r.priority,
                state=TicketState(r.state),
                issued_at=dt(r.issued_ts),  # type: ignore[arg-type]
                arrived_at=dt(r.arrived_ts),  # type: ignore[arg-type]  # a ticket row always has it
                status_token="",
                checked_in=bool(r.checked_in),
                appointment_slot=dt(r.appointment_ts),
                called_at=dt(r.called_ts),
                served_at=dt(r.served_ts),
                window=None if pd.isna(r.win) else int(r.win),
                target_window=None if pd.isna(r.target_window) else int(r.target_window),
                recalls=int(r.recalls),
                transfers=int(r.transfers),
                served_by=r.served_by,
            )
        )
    windows = []
    known = {w.number for w in config.windows}
    present = {t.id for t in tickets}
    for r in wh.query("SELECT * FROM windows").itertuples(index=False):
        if int(r.number) not in known:
            continue
        # a ticket at the counter that is not among ``day``'s active ones (a ticket of another
        # day: the hall's date is not ``day``, or the next day has not started yet) is not
        # at the counter on ``day``; the core would look it up and fail
        current = None if pd.isna(r.current_ticket) or r.current_ticket not in present else r.current_ticket
        windows.append(
            Window(
                number=int(r.number),
                state=WindowState(r.state),
                pause_reason=r.pause_reason or "",
                staff=None if pd.isna(r.staff) else r.staff,
                staff_name=r.staff_name or "",
                current_ticket=current,
                state_since=dt(r.state_since_ts),
            )
        )
    times = {
        r.queue: ServiceTime(mean_s=float(r.mean_s), samples=int(r.samples))
        for r in wh.query("SELECT * FROM service_times").itertuples(index=False)
    }
    return Hall(config, tickets=tickets, windows=windows, service_times=times, service_date=day)


# ====================================================================== windows and staff


_WINDOW_STATE_EVENTS = "('window_opened', 'window_paused', 'window_resumed', 'window_closed')"


def _in_scope(types: str) -> str:
    """SQL: the scope's events of some types (a CTE body)."""
    return f"""
    SELECT id, type, ticket, win, staff, ts, sec_of_day, service_date, service_s FROM events
    WHERE service_date BETWEEN $start AND $end AND type IN {types}
    """


def _state_intervals(scope: Scope, now_ts: float, src: str = "wev") -> str:
    """SQL: intervals of window state (open / paused) with the staff member at the window,
    each ending at the next window event, the end of its day or now. ``src``: a relation
    holding the scope's window events (``_in_scope``)."""
    wf = _window_filter("win", scope)
    return f"""
    SELECT win, staff, service_date, sec_of_day, ts AS start_ts,
           CASE WHEN type = 'window_paused' THEN 'paused' ELSE 'open' END AS state,
           LEAST(COALESCE(next_ts, {now_ts!r}), ts - sec_of_day + 86400, {now_ts!r}) AS end_ts
    FROM (
        SELECT win, type, ts, staff, service_date, sec_of_day,
               LEAD(ts) OVER (PARTITION BY win ORDER BY id) AS next_ts
        FROM {src}
        WHERE type IN {_WINDOW_STATE_EVENTS} {wf}
    )
    WHERE type <> 'window_closed'
    """


def _busy_intervals(scope: Scope, now_ts: float) -> str:
    """SQL: a window is busy from a call until the ticket is finished, marked no-show,
    transferred or cancelled (the warehouse's ``calls``), or the day ends, or now."""
    wf = _window_filter("win", scope)
    return f"""
    SELECT win, staff, service_date,
           GREATEST(0, LEAST(COALESCE(end_ts, {now_ts!r}), ts - sec_of_day + 86400, {now_ts!r}) - ts) AS busy_s
    FROM calls WHERE service_date BETWEEN $start AND $end {wf}
    """


def activity(wh: HallWarehouse, scope: Scope, now_ts: float) -> pd.DataFrame:
    """Per window and staff member over the scope: tickets served, service seconds, no-shows
    (staff unknown: on the window's row without staff), open, paused and busy seconds. The
    base of ``window_activity`` and ``staff_activity``: compute it once, pass it to both.
    """
    wf = _window_filter("win", scope)
    return wh.query(
        f"""
    WITH wev AS ({_in_scope(_WINDOW_STATE_EVENTS)}),
    st AS ({_state_intervals(scope, now_ts)}),
    busy AS ({_busy_intervals(scope, now_ts)}),
    times AS (
        SELECT win, staff, SUM(end_ts - start_ts) FILTER (WHERE state = 'open') AS open_s,
               SUM(end_ts - start_ts) FILTER (WHERE state = 'paused') AS paused_s
        FROM st WHERE end_ts > start_ts GROUP BY ALL
    ),
    b AS (SELECT win, staff, SUM(busy_s) AS busy_s FROM busy GROUP BY ALL),
    fin AS (
        SELECT win, staff, COUNT(*) AS served, SUM(service_s) AS service_s
        FROM events WHERE type = 'service_finished' AND service_date BETWEEN $start AND $end {wf}
        GROUP BY ALL
    ),
    ns AS (
        SELECT win, NULL::VARCHAR AS staff, COUNT(*) AS no_show FROM events
        WHERE type = 'ticket_no_show' AND service_date BETWEEN $start AND $end {wf} GROUP BY win
    ),
    k AS (SELECT win, staff FROM times UNION SELECT win, staff FROM b UNION SELECT win, staff FROM fin
          UNION SELECT win, staff FROM ns)
    SELECT k.win, k.staff, COALESCE(fin.served, 0) AS served, COALESCE(fin.service_s, 0) AS service_s,
           COALESCE(ns.no_show, 0) AS no_show, COALESCE(times.open_s, 0) AS open_s,
           COALESCE(times.paused_s, 0) AS paused_s, COALESCE(b.busy_s, 0) AS busy_s
    FROM k
    LEFT JOIN times ON times.win = k.win AND times.staff IS NOT DISTINCT FROM k.staff
    LEFT JOIN b ON b.win = k.win AND b.staff IS NOT DISTINCT FROM k.staff
    LEFT JOIN fin ON fin.win = k.win AND fin.staff IS NOT DISTINCT FROM k.staff
    LEFT JOIN ns ON ns.win = k.win AND ns.staff IS NOT DISTINCT FROM k.staff
    """,
        scope.params(),
    )


_SUMS = ["served", "service_s", "no_show", "open_s", "paused_s", "busy_s"]


def _finish(df: pd.DataFrame) -> pd.DataFrame:
    df["avg_service_s"] = df["service_s"] / df["served"].where(df["served"] > 0)
    df["idle_s"] = (df["open_s"] - df["busy_s"]).clip(lower=0)
    return df


def window_activity(
    wh: HallWarehouse, scope: Scope, now_ts: float, base: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per configured window over the scope: tickets served, no-shows, average service time,
    open, busy, idle (open and nobody at the counter) and paused seconds."""
    act = activity(wh, scope, now_ts) if base is None else base
    sums = act.groupby("win")[_SUMS].sum()
    cfg = wh.query("SELECT number AS window, name, kind, department FROM window_cfg ORDER BY number")
    if scope.windows is not None:
        cfg = cfg[cfg["window"].isin(scope.windows)]
    out = cfg.merge(sums, left_on="window", right_index=True, how="left")
    out[_SUMS] = out[_SUMS].fillna(0)
    out[["served", "no_show"]] = out[["served", "no_show"]].astype("int64")
    return _finish(out).reset_index(drop=True)


def staff_activity(
    wh: HallWarehouse, scope: Scope, now_ts: float, base: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The same per staff member (username; name from their last login in the scope), over
    every window they worked at."""
    act = activity(wh, scope, now_ts) if base is None else base
    act = act[act["staff"].notna()]
    sums = act.groupby("staff")[_SUMS].sum()
    windows = (
        act[(act["open_s"] > 0) | (act["served"] > 0)]
        .groupby("staff")["win"]
        .apply(lambda w: "、".join(str(int(x)) for x in sorted(set(w))))
    )
    names = wh.query(
        "SELECT staff, arg_max(staff_name, id) AS staff_name FROM events"
        " WHERE type = 'staff_logged_in' AND service_date BETWEEN $start AND $end GROUP BY staff",
        scope.params(),
    )  # whoever worked in the scope logged in within it
    out = sums.reset_index().merge(names, on="staff", how="left")
    out["staff_name"] = out["staff_name"].fillna(out["staff"])
    out["windows"] = out["staff"].map(windows).fillna("")
    out["served"] = out["served"].astype("int64")
    out = _finish(out).sort_values(["served", "staff"], ascending=[False, True]).reset_index(drop=True)
    return out[
        [
            "staff",
            "staff_name",
            "windows",
            "served",
            "avg_service_s",
            "open_s",
            "busy_s",
            "idle_s",
            "paused_s",
        ]
    ]


def arrivals_by_hour(wh: HallWarehouse, scope: Scope, now_ts: float) -> pd.DataFrame:
    """Per day and local hour: tickets issued (arrivals) and the average number of windows
    open in that hour (open seconds / 3600; paused time does not count)."""
    qf = _queue_filter("issue_queue", scope)
    return wh.query(
        f"""
    WITH arr AS (
        SELECT service_date, issued_hour AS hour, COUNT(*) AS arrivals
        FROM tickets WHERE service_date BETWEEN $start AND $end {qf}
        GROUP BY ALL
    ),
    wev AS ({_in_scope(_WINDOW_STATE_EVENTS)}),
    st AS ({_state_intervals(scope, now_ts)}),
    opened AS (
        SELECT st.service_date, h.hour,
               SUM(GREATEST(0, LEAST(st.end_ts, st.start_ts - st.sec_of_day + (h.hour + 1) * 3600)
                              - GREATEST(st.start_ts, st.start_ts - st.sec_of_day + h.hour * 3600))) / 3600.0
                   AS open_windows
        FROM st, (SELECT UNNEST(range(24)) AS hour) h
        WHERE st.state = 'open' AND st.end_ts > st.start_ts
          AND h.hour BETWEEN floor(st.sec_of_day / 3600) AND floor((st.sec_of_day + st.end_ts - st.start_ts) / 3600)
        GROUP BY ALL
    )
    SELECT COALESCE(a.service_date, o.service_date) AS service_date, COALESCE(a.hour, o.hour) AS hour,
           COALESCE(a.arrivals, 0) AS arrivals, COALESCE(o.open_windows, 0) AS open_windows
    FROM arr a FULL OUTER JOIN opened o ON a.service_date = o.service_date AND a.hour = o.hour
    ORDER BY 1, 2
    """,
        scope.params(),
    )


# ====================================================================== periods (queues)


def queue_period(wh: HallWarehouse, scope: Scope) -> pd.DataFrame:
    """Per configured queue over the scope: issued, served, no-show, waits, service time."""
    qf = _queue_filter("q.code", scope)
    return wh.query(
        f"""
    WITH t AS (SELECT * FROM tickets WHERE service_date BETWEEN $start AND $end),
    issued AS (SELECT issue_queue AS queue, COUNT(*) AS issued FROM t GROUP BY 1),
    closed AS (SELECT queue, COUNT(*) FILTER (WHERE state = 'done') AS served,
                      COUNT(*) FILTER (WHERE state = 'no_show') AS no_show FROM t GROUP BY queue),
    first_call AS (SELECT queue, waited_s FROM first_calls WHERE service_date BETWEEN $start AND $end),
    waits AS (SELECT queue, AVG(waited_s) AS avg_wait_s, QUANTILE_CONT(waited_s, 0.9) AS p90_wait_s
              FROM first_call GROUP BY queue),
    svc AS (SELECT queue, AVG(service_s) AS avg_service_s FROM events
            WHERE service_date BETWEEN $start AND $end AND type = 'service_finished' GROUP BY queue)
    SELECT q.code AS queue, q.name, q.kind, q.department,
           COALESCE(i.issued, 0) AS issued, COALESCE(c.served, 0) AS served,
           COALESCE(c.no_show, 0) AS no_show, w.avg_wait_s, w.p90_wait_s, s.avg_service_s
    FROM queue_cfg q
    LEFT JOIN issued i ON i.queue = q.code
    LEFT JOIN closed c ON c.queue = q.code
    LEFT JOIN waits w ON w.queue = q.code
    LEFT JOIN svc s ON s.queue = q.code
    WHERE TRUE {qf}
    ORDER BY q.ord
    """,
        scope.params(),
    )


def daily_flow(wh: HallWarehouse, scope: Scope) -> pd.DataFrame:
    """Per day: issued, served, no-show and average wait (trend lines)."""
    qt = _queue_filter("issue_queue", scope)
    qc = _queue_filter("queue", scope)
    return wh.query(
        f"""
    WITH t AS (SELECT * FROM tickets WHERE service_date BETWEEN $start AND $end),
    i AS (SELECT service_date, COUNT(*) AS issued FROM t WHERE TRUE {qt} GROUP BY 1),
    c AS (SELECT service_date, COUNT(*) FILTER (WHERE state = 'done') AS served,
                 COUNT(*) FILTER (WHERE state = 'no_show') AS no_show FROM t WHERE TRUE {qc} GROUP BY 1),
    w AS (
        SELECT service_date, AVG(waited_s) AS avg_wait_s FROM first_calls
        WHERE service_date BETWEEN $start AND $end {qc} GROUP BY 1
    )
    SELECT i.service_date, i.issued, COALESCE(c.served, 0) AS served, COALESCE(c.no_show, 0) AS no_show,
           w.avg_wait_s
    FROM i LEFT JOIN c USING (service_date) LEFT JOIN w USING (service_date)
    ORDER BY 1
    """,
        scope.params(),
    )


def month_bounds(month: str) -> tuple[date, date]:
    """'2026-11' -> (2026-11-01, 2026-11-30)."""
    first = date.fromisoformat(f"{month}-01")
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, nxt - timedelta(days=1)


def months_with_data(wh: HallWarehouse) -> list[str]:
    df = wh.query("SELECT DISTINCT strftime(service_date, '%Y-%m') AS m FROM tickets ORDER BY m DESC")
    return [str(m) for m in df["m"]]


# ====================================================================== cases (办件)
# docs/data-model.md; domain rules §2 (cases) and §3 (working days)

CASE_STATE_LABELS = {
    "materials_requested": "待补正",
    "accepted": "已受理",
    "in_review": "审核中",
    "suspended": "中止",
    "decided": "已办结",
    "completed": "已出件",
    "rejected": "不予受理",
    "in_parts": "一件事办理中",
    "waiting_for_input": "等待前序事项",
    "withdrawn": "已终止",
}


# Honest on-time rates (docs/rules.md R9): an item still open past its due counts as late.
OPEN_LATE_CASE = "state IN ('accepted', 'in_review') AND due_ts < $now AND accepted_date <= $end"
CONTACT_LATE_OPEN = "state = 'open' AND contact_due_ts < $now"
RECTIFY_LATE_OPEN = "state IN ('open', 'contacted') AND rectify_due_ts < $now"


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


@dataclass(frozen=True, kw_only=True)
class CaseSummary:
    received: int  # cases created in the period (受理, 不予受理, 补正 notices)
    accepted: int  # of those, accepted (受理 / 容缺受理)
    decided: int  # decided (办结) in the period
    decided_on_time: int
    open_late: int  # still open (受理/审核中) past their due now, accepted by the period's end: counted late
    on_time_rate: float | None  # 按时办结率: decided on time / (decided + open_late) (docs/rules.md R9)
    instant: int  # 即办件 among the accepted
    instant_share: float | None  # 即办件占比
    one_window: int  # accepted cases of 一窗 matters
    one_window_rate: float | None  # 一窗受理率 (goal >= 70%, seed 000)
    overdue: int  # now
    due_soon: int  # now
    deficiency_overdue: int  # 容缺 items past their promised date, now


def case_summary(wh: HallWarehouse, scope: Scope, now: datetime, due_soon_hours: int) -> CaseSummary:
    """``now`` in the hall's timezone (its date is the hall's today)."""
    df = _text_filter("department", scope.departments)
    now_ts, today = now.timestamp(), now.date()
    row = (
        wh.execute(
            f"""
    SELECT
        COUNT(*) FILTER (WHERE service_date BETWEEN $start AND $end),
        COUNT(*) FILTER (WHERE accepted_date BETWEEN $start AND $end),
        COUNT(*) FILTER (WHERE decided_date BETWEEN $start AND $end),
        COUNT(*) FILTER (WHERE decided_date BETWEEN $start AND $end AND decided_on_time = 1),
        COUNT(*) FILTER (WHERE accepted_date BETWEEN $start AND $end AND case_type = '即办件'),
        COUNT(*) FILTER (WHERE accepted_date BETWEEN $start AND $end AND one_window = 1),
        COUNT(*) FILTER (WHERE state IN ('accepted', 'in_review') AND due_ts < $now),
        COUNT(*) FILTER (WHERE state IN ('accepted', 'in_review') AND due_ts >= $now AND due_ts < $now + $soon),
        COUNT(*) FILTER (WHERE deficiency_item <> '' AND deficiency_supplied_ts IS NULL
                         AND state NOT IN ('completed', 'rejected') AND deficiency_promised_date < $today),
        COUNT(*) FILTER (WHERE {OPEN_LATE_CASE})
    FROM cases WHERE TRUE {df}
    """,
            {**scope.params(), "now": now_ts, "soon": due_soon_hours * 3600.0, "today": today.isoformat()},
        ).fetchone()
        or NO_ROW
    )
    received, accepted, decided, on_time, instant, one_window, overdue, soon, deficiency, late = row
    return CaseSummary(
        received=received,
        accepted=accepted,
        decided=decided,
        decided_on_time=on_time,
        open_late=late,
        on_time_rate=_ratio(on_time, decided + late),
        instant=instant,
        instant_share=instant / accepted if accepted else None,
        one_window=one_window,
        one_window_rate=one_window / accepted if accepted else None,
        overdue=overdue,
        due_soon=soon,
        deficiency_overdue=deficiency,
    )


def case_flow(wh: HallWarehouse, scope: Scope) -> pd.DataFrame:
    """Cases created in the period by where they are now, as flows for a Sankey: columns
    source, target, value (stage names in Chinese)."""
    df = _text_filter("department", scope.departments)
    row = (
        wh.execute(
            f"""
    SELECT COUNT(*) AS received,
           COUNT(*) FILTER (WHERE state = 'materials_requested') AS waiting_materials,
           COUNT(*) FILTER (WHERE state = 'rejected') AS rejected,
           COUNT(*) FILTER (WHERE accepted_ts IS NOT NULL) AS accepted,
           COUNT(*) FILTER (WHERE state IN ('accepted', 'in_review')) AS in_progress,
           COUNT(*) FILTER (WHERE state = 'suspended') AS suspended,
           COUNT(*) FILTER (WHERE decided_ts IS NOT NULL AND decision = 'approved') AS approved,
           COUNT(*) FILTER (WHERE decided_ts IS NOT NULL AND decision IS DISTINCT FROM 'approved') AS disapproved,
           COUNT(*) FILTER (WHERE decided_ts IS NOT NULL AND delivered_ts IS NULL) AS to_deliver,
           COUNT(*) FILTER (WHERE delivered_ts IS NOT NULL) AS delivered
    FROM cases WHERE service_date BETWEEN $start AND $end {df}
    """,
            scope.params(),
        ).fetchone()
        or NO_ROW
    )
    (
        received,
        waiting,
        rejected,
        accepted,
        in_progress,
        suspended,
        approved,
        disapproved,
        to_deliver,
        delivered,
    ) = row
    flows = [
        ("收件", "受理", accepted),
        ("收件", "待补正", waiting),
        ("收件", "不予受理", rejected),
        ("受理", "办理中", in_progress),
        ("受理", "中止(特别程序)", suspended),
        ("受理", "办结·准予", approved),
        ("受理", "办结·不予许可", disapproved),
        ("办结·准予", "已出件", None),
        ("办结·准予", "待出件", None),
        ("办结·不予许可", "已出件", None),
        ("办结·不予许可", "待出件", None),
    ]
    # split delivery by decision
    dd = wh.execute(
        f"""
    SELECT decision = 'approved' AS ok, COUNT(*) FILTER (WHERE delivered_ts IS NOT NULL),
           COUNT(*) FILTER (WHERE delivered_ts IS NULL)
    FROM cases WHERE service_date BETWEEN $start AND $end AND decided_ts IS NOT NULL {df}
    GROUP BY 1
    """,
        scope.params(),
    ).fetchall()
    split = {bool(ok): (d, n) for ok, d, n in dd}
    out = []
    for src, dst, value in flows:
        if value is None:
            d, n = split.get(src == "办结·准予", (0, 0))
            value = d if dst == "已出件" else n
        if value:
            out.append({"source": src, "target": dst, "value": int(value)})
    frame = pd.DataFrame(out, columns=["source", "target", "value"])
    frame.attrs["received"] = received
    frame.attrs["delivered"] = delivered
    frame.attrs["to_deliver"] = to_deliver
    return frame


def case_lists(
    wh: HallWarehouse,
    scope: Scope,
    now_ts: float,
    due_soon_hours: int,
    calendar: Any | None = None,
    tz: str = "Asia/Shanghai",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(overdue, due soon) cases now, with their owner (the reviewer in back office, else who
    accepted it) and, for overdue ones, the working days over (domain rules §3)."""
    from zoneinfo import ZoneInfo

    df = _text_filter("department", scope.departments)
    rows = wh.query(
        f"""
    SELECT receipt_no, matter_name, department, case_type, state, promised_working_days,
           COALESCE(NULLIF(reviewer, ''), NULLIF(accepted_by_name, ''), accepted_by) AS owner,
           accepted_ts, due_ts, extension_days, provisional,
           CASE WHEN due_ts < $now THEN 'overdue' ELSE 'due_soon' END AS kind
    FROM cases
    WHERE state IN ('accepted', 'in_review') AND due_ts < $now + $soon {df}
    ORDER BY due_ts
    """,
        {"now": now_ts, "soon": due_soon_hours * 3600.0},
    )
    zone = ZoneInfo(tz)
    today = datetime.fromtimestamp(now_ts, zone).date()
    if calendar is None:
        from queue_server.calendar_data import load_calendar

        calendar = load_calendar()
    over = []
    for due in rows["due_ts"]:
        due_day = datetime.fromtimestamp(float(due), zone).date()
        over.append(max(calendar.working_days_between(due_day, today), 0))
    rows["working_days_over"] = over
    rows["hours_left"] = ((rows["due_ts"] - now_ts) / 3600).round(1)
    overdue = rows[rows["kind"] == "overdue"].reset_index(drop=True)
    soon = rows[rows["kind"] == "due_soon"].reset_index(drop=True)
    return overdue, soon


def cases_by_department(wh: HallWarehouse, scope: Scope, now_ts: float) -> pd.DataFrame:
    df = _text_filter("department", scope.departments)
    return wh.query(
        f"""
    SELECT department,
           COUNT(*) FILTER (WHERE service_date BETWEEN $start AND $end) AS received,
           COUNT(*) FILTER (WHERE accepted_date BETWEEN $start AND $end) AS accepted,
           COUNT(*) FILTER (WHERE decided_date BETWEEN $start AND $end) AS decided,
           COUNT(*) FILTER (WHERE decided_date BETWEEN $start AND $end AND decided_on_time = 1) AS on_time,
           COUNT(*) FILTER (WHERE accepted_date BETWEEN $start AND $end AND case_type = '即办件') AS instant,
           COUNT(*) FILTER (WHERE accepted_date BETWEEN $start AND $end AND one_window = 1) AS one_window,
           COUNT(*) FILTER (WHERE state IN ('accepted', 'in_review') AND due_ts < $now) AS overdue,
           COUNT(*) FILTER (WHERE {OPEN_LATE_CASE}) AS open_late
    FROM cases WHERE TRUE {df}
    GROUP BY department
    HAVING received + decided + overdue > 0
    ORDER BY received DESC
    """,
        {**scope.params(), "now": now_ts},
    ).assign(
        on_time_rate=lambda d: (
            d["on_time"] / (d["decided"] + d["open_late"]).where(d["decided"] + d["open_late"] > 0)
        ),
        instant_share=lambda d: d["instant"] / d["accepted"].where(d["accepted"] > 0),
        one_window_rate=lambda d: d["one_window"] / d["accepted"].where(d["accepted"] > 0),
    )


def case_departments(wh: HallWarehouse) -> list[str]:
    return [str(d) for d in wh.query("SELECT DISTINCT department FROM cases ORDER BY 1")["department"]]


# ====================================================================== 好差评
# docs/data-model.md; domain rules §4 (国办发〔2019〕51号, GB/T 39734-2020)

_COUNTED = "follow_up_of IS NULL AND excluded = 0"  # first ratings, appeals not upheld
_COUNTED_R = "r.follow_up_of IS NULL AND r.excluded = 0"


@dataclass(frozen=True, kw_only=True)
class RatingSummary:
    rated: int  # first ratings in the period, appeals upheld left out
    good: int  # score 4-5
    bad: int  # score 1-2
    good_rate: float | None  # 好评率
    bad_rate: float | None  # 差评率
    served: int  # services finished in the period (tickets done)
    unrated: int  # of those, without any rating
    unrated_rate: float | None  # 未评率
    rectifications: int  # 差评 loops opened in the period (not appeal_upheld)
    replied: int
    reply_rate: float | None  # 差评回复率
    revisited: int  # closed as rectified after 回访
    revisit_rate: float | None  # 回访整改率
    satisfied: int
    satisfied_rate: float | None  # 回访整改满意率
    contact_on_time_rate: float | None  # contacted on time / (contacted + still open past the contact due)
    rectify_on_time_rate: float | None  # rectified on time / (rectified + still open past the rectify due)
    contact_overdue: int  # now
    rectify_overdue: int  # now
    contact_late_open: int = 0  # loops opened in the period, not contacted, past the contact due now
    rectify_late_open: int = 0  # loops opened in the period, not rectified, past the rectify due now


def rating_summary(wh: HallWarehouse, scope: Scope, now_ts: float) -> RatingSummary:
    dr = _text_filter("department", scope.departments)
    dw = _text_filter("c.department", scope.departments)
    do = _text_filter("owner_department", scope.departments)
    p = {**scope.params(), "now": now_ts}
    r = (
        wh.execute(
            f"""
    SELECT COUNT(*), COUNT(*) FILTER (WHERE score >= 4), COUNT(*) FILTER (WHERE score <= 2)
    FROM ratings WHERE service_date BETWEEN $start AND $end AND {_COUNTED} {dr}
    """,
            p,
        ).fetchone()
        or NO_ROW
    )
    u = (
        wh.execute(
            f"""
    SELECT COUNT(*), COUNT(*) FILTER (WHERE NOT EXISTS (
               SELECT 1 FROM ratings r WHERE r.ticket = t.id AND r.follow_up_of IS NULL
                   AND r.service_date >= $start))  -- a rating never comes before its service
    FROM tickets t LEFT JOIN window_cfg c ON c.number = t.win
    WHERE t.service_date BETWEEN $start AND $end AND t.state = 'done' {dw}
    """,
            p,
        ).fetchone()
        or NO_ROW
    )
    x = (
        wh.execute(
            f"""
    SELECT COUNT(*),
           COUNT(*) FILTER (WHERE contacted_ts IS NOT NULL OR closed_ts IS NOT NULL),
           COUNT(*) FILTER (WHERE outcome = 'rectified' AND revisit_ts IS NOT NULL),
           COUNT(*) FILTER (WHERE outcome = 'rectified' AND revisit_ts IS NOT NULL AND revisit_satisfaction >= 4),
           COUNT(*) FILTER (WHERE contact_on_time = 1), COUNT(contact_on_time),
           COUNT(*) FILTER (WHERE rectify_on_time = 1), COUNT(rectify_on_time),
           COUNT(*) FILTER (WHERE {CONTACT_LATE_OPEN}), COUNT(*) FILTER (WHERE {RECTIFY_LATE_OPEN})
    FROM rectifications
    WHERE opened_date BETWEEN $start AND $end AND outcome IS DISTINCT FROM 'appeal_upheld' {do}
    """,
            p,
        ).fetchone()
        or NO_ROW
    )
    o = (
        wh.execute(
            f"""
    SELECT COUNT(*) FILTER (WHERE state = 'open' AND contact_due_ts < $now),
           COUNT(*) FILTER (WHERE state IN ('open', 'contacted') AND rectify_due_ts < $now)
    FROM rectifications WHERE TRUE {do}
    """,
            p,
        ).fetchone()
        or NO_ROW
    )
    return RatingSummary(
        rated=r[0],
        good=r[1],
        bad=r[2],
        good_rate=_ratio(r[1], r[0]),
        bad_rate=_ratio(r[2], r[0]),
        served=u[0],
        unrated=u[1],
        unrated_rate=_ratio(u[1], u[0]),
        rectifications=x[0],
        replied=x[1],
        reply_rate=_ratio(x[1], x[0]),
        revisited=x[2],
        revisit_rate=_ratio(x[2], x[0]),
        satisfied=x[3],
        satisfied_rate=_ratio(x[3], x[2]),
        contact_on_time_rate=_ratio(x[4], x[5] + x[8]),
        rectify_on_time_rate=_ratio(x[6], x[7] + x[9]),
        contact_overdue=o[0],
        rectify_overdue=o[1],
        contact_late_open=x[8],
        rectify_late_open=x[9],
    )


def rating_distribution(wh: HallWarehouse, scope: Scope) -> pd.DataFrame:
    """Counted ratings per score 5..1 (columns score, ratings)."""
    dr = _text_filter("r.department", scope.departments)
    df = wh.query(
        f"""
    SELECT s.score, COUNT(r.id) AS ratings
    FROM (SELECT UNNEST([5, 4, 3, 2, 1]) AS score) s
    LEFT JOIN ratings r ON r.score = s.score AND r.service_date BETWEEN $start AND $end
        AND {_COUNTED_R} {dr}
    GROUP BY s.score ORDER BY s.score DESC
    """,
        scope.params(),
    )
    return df


def ratings_by(wh: HallWarehouse, scope: Scope, by: str, now_ts: float) -> pd.DataFrame:
    """好差评 figures per department, window or staff member (``by``)."""
    key = {
        "department": ("r.department", "x.owner_department"),
        "window": ("r.win", "x.win"),
        "staff": ("r.staff", "x.owner_staff"),
    }[by]
    dr = _text_filter("r.department", scope.departments)
    out = wh.query(
        f"""
    WITH r AS (
        SELECT {key[0]} AS k, any_value(r.staff_name) AS staff_name, COUNT(*) AS rated,
               COUNT(*) FILTER (WHERE score >= 4) AS good, COUNT(*) FILTER (WHERE score <= 2) AS bad,
               AVG(score) AS avg_score
        FROM ratings r
        WHERE r.service_date BETWEEN $start AND $end AND {_COUNTED_R} {dr}
        GROUP BY 1
    ),
    x AS (
        SELECT {key[1]} AS k, COUNT(*) AS rectifications,
               COUNT(*) FILTER (WHERE contact_on_time = 1) AS contact_on_time, COUNT(contact_on_time) AS contact_n,
               COUNT(*) FILTER (WHERE rectify_on_time = 1) AS rectify_on_time, COUNT(rectify_on_time) AS rectify_n,
               COUNT(*) FILTER (WHERE {CONTACT_LATE_OPEN}) AS contact_late,
               COUNT(*) FILTER (WHERE {RECTIFY_LATE_OPEN}) AS rectify_late,
               COUNT(*) FILTER (WHERE (x.state = 'open' AND contact_due_ts < $now)
                                OR (x.state IN ('open', 'contacted') AND rectify_due_ts < $now)) AS overdue
        FROM rectifications x
        WHERE opened_date BETWEEN $start AND $end AND outcome IS DISTINCT FROM 'appeal_upheld'
            {_text_filter("x.owner_department", scope.departments)}
        GROUP BY 1
    )
    SELECT COALESCE(r.k, x.k) AS k, r.staff_name, COALESCE(r.rated, 0) AS rated, COALESCE(r.good, 0) AS good,
           COALESCE(r.bad, 0) AS bad, r.avg_score, COALESCE(x.rectifications, 0) AS rectifications,
           x.contact_on_time, x.contact_n + x.contact_late AS contact_n, x.rectify_on_time,
           x.rectify_n + x.rectify_late AS rectify_n, COALESCE(x.overdue, 0) AS overdue
    FROM r FULL OUTER JOIN x ON r.k = x.k
    ORDER BY rated DESC
    """,
        {**scope.params(), "now": now_ts},
    )
    out["good_rate"] = out["good"] / out["rated"].where(out["rated"] > 0)
    out["bad_rate"] = out["bad"] / out["rated"].where(out["rated"] > 0)
    out["contact_on_time_rate"] = out["contact_on_time"] / out["contact_n"].where(out["contact_n"] > 0)
    out["rectify_on_time_rate"] = out["rectify_on_time"] / out["rectify_n"].where(out["rectify_n"] > 0)
    return out


RECT_STATE_LABELS = {
    "open": "待联系",
    "contacted": "已联系",
    "rectified": "已整改",
    "appealed": "申诉中",
    "closed": "已办结",
}
RECT_OUTCOME_LABELS = {
    "rectified": "整改回访",
    "on_the_spot": "当场解决",
    "explained": "解释说明",
    "appeal_upheld": "申诉成立",
}


def rectification_table(wh: HallWarehouse, scope: Scope, now_ts: float, due_soon_hours: int) -> pd.DataFrame:
    """Every rectification opened in the period plus every one still open, with its due
    instants, status and overdue / due-soon marks (domain rules §4: contact within 1 working
    day, rectify within 2, config)."""
    do = _text_filter("x.owner_department", scope.departments)
    return wh.query(
        f"""
    SELECT x.id, x.rating_id, r.ticket_number, x.win, x.owner_department, x.owner_staff_name, r.score,
           r.matter_name, r.text, x.state, x.outcome, x.opened_ts, x.contact_due_ts, x.contacted_ts,
           x.rectify_due_ts, x.rectified_ts, x.closed_ts, x.revisit_satisfaction,
           (x.state = 'open' AND x.contact_due_ts < $now) AS contact_overdue,
           (x.state IN ('open', 'contacted') AND x.rectify_due_ts < $now) AS rectify_overdue,
           ((x.state = 'open' AND x.contact_due_ts >= $now AND x.contact_due_ts < $now + $soon)
             OR (x.state IN ('open', 'contacted') AND x.rectify_due_ts >= $now
                 AND x.rectify_due_ts < $now + $soon)) AS due_soon
    FROM rectifications x LEFT JOIN ratings r ON r.id = x.rating_id
    WHERE (x.opened_date BETWEEN $start AND $end OR x.state NOT IN ('closed')) {do}
    ORDER BY (x.state = 'closed'), x.rectify_due_ts
    """,
        {**scope.params(), "now": now_ts, "soon": due_soon_hours * 3600.0},
    )
