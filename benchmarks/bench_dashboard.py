"""Dashboard on two years of a large hall: cold load, each page's queries, incremental refresh.

The database (about 10 million events) is generated straight into SQLite, fast, with the
shape the server writes (schema migrations, same columns, same JSON in ``events.data``):

* the hall: the demo hall's 14 queues, scaled up to 120 windows (30 无差别综合, the rest
  spread over the fields, special windows, 出件 and 咨询) with one staff member each;
* every working day (the official calendar, 调休 included) plus half the Saturdays over
  about two years, ending at ``--end`` (a Friday); sessions 08:30-12:00 and 14:00-17:30;
* per queue and session, arrivals are a Poisson process at about 75% of the queue's
  capacity, busier in the morning; each queue is served first come first served by its
  windows (an M/G/c queue: a heap of "free at" times), service times lognormal around the
  queue's ``default_service_s``; 4% of calls end in a no-show after one recall;
* each ticket gives ``ticket_issued``, ``ticket_called`` (``waited_s``), ``service_started``,
  ``service_finished`` (``service_s``, ``occupancy_s``, ``staff``), or the recall and the
  no-show; each window logs in, opens, pauses for lunch, resumes, closes and logs out;
* the last day stops at ``--now`` (10:30): tickets still waiting, windows serving;
* ``cases``: 60% of the services outside 出件/咨询, matter from data/matters by queue,
  deadlines from the working-day calendar, decided mostly on time; ``ratings``: half the
  services (64% 非常满意 ... 4% 非常不满意) and a ``rectifications`` row per 差评, with
  contact and rectification due times. These rows are bulk-written without their events
  (the 10 million events are the queue's).

Rows go in with ``executemany`` in big transactions (``journal_mode=OFF``,
``synchronous=OFF``), indexes built after the load; the file is then switched to WAL as the
server keeps it. It takes a few minutes and about 4 GB; it is kept (``--db``, default
``var/bench/dashboard-10m.db``, git-ignored) and reused while its parameters match.

Then, in this process, today's path against the cache (issue 15), each measured in this run:

* today's path: ``dashboard/data.py`` as it was at ``--baseline`` (before the cache: sqlite3
  and reader processes, in memory only), run from a copy: its cold load (what every restart
  cost), its first page after a restart (cold load + the live page's queries), its refresh
  after ``--new-events`` new events;
* the cache: the cold build through ADBC (no cache file), then its save to
  ``<db stem>.dashboard.duckdb``; a restart (a new ``HallWarehouse`` restoring the file and
  catching up) + the live page's queries; the refresh after ``--new-events`` new events and
  the live page after it. Wall time and CPU time (this process and its reader processes:
  on a shared machine the CPU time says more), and ``uptime``'s load with them;

then, on the restored warehouse:
* per page, the queries the page runs with its default filters (实时: today; 办件, 好差评,
  窗口与人员: the last 30 days; 报表: the month of ``--now``), ``--repeat`` times: p50, p95, max;
* incremental refresh: ``--appends`` times, 100 events (and their ticket rows, one case and
  one rating) committed by a separate writer connection, then ``refresh()``: p50, p95, max.

    .venv/bin/python benchmarks/bench_dashboard.py                  # 10 M events (generates once)
    .venv/bin/python benchmarks/bench_dashboard.py --events 1000000 --db /tmp/d1m.db   # quicker look

Figures are recorded in docs/performance.md, "Dashboard".
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import os
import platform
import random
import resource
import sqlite3
import statistics
import sys
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboard import queries as q
from dashboard import report as rpt
from dashboard.data import HallWarehouse, default_cache_path
from queue_server.calendar_data import load_calendar
from queue_server.config_file import load_hall_config
from queue_server.hall.config import (
    HallConfig,
    StaffAccount,
    StaffRole,
    WindowConfig,
    WindowQueue,
)
from queue_server.matters import load_matters
from queue_server.store.schema import MIGRATIONS

GENERATOR = "bench-dashboard-1"
BASELINE = "0bd231e"  # the dashboard before the cache: sqlite3 + worker processes, in memory only
WINDOWS_PER_QUEUE = {
    "A": 30,
    "B": 10,
    "C": 10,
    "D": 12,
    "E": 8,
    "F": 10,
    "G": 6,
    "H": 4,
    "J": 8,
    "K": 2,
    "L": 4,
    "M": 4,
    "P": 8,
    "Z": 4,
}
SESSIONS = ((dtime(8, 30), dtime(12, 0)), (dtime(14, 0), dtime(17, 30)))
LOAD = 0.75
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"


# ---------------------------------------------------------------------- the hall


def large_hall(base: HallConfig) -> HallConfig:
    windows, staff = [], []
    n = 0
    for qc in base.queues:
        for _ in range(WINDOWS_PER_QUEUE.get(qc.code, 2)):
            n += 1
            zone = {"无差别综合": "A区", "分领域": "B区"}.get(qc.kind.value, "C区")
            windows.append(
                WindowConfig(
                    number=n,
                    name=f"{n}号窗口 {qc.name}",
                    kind=qc.kind,
                    zone=zone,
                    queues=(WindowQueue(queue=qc.code),),
                    department=qc.department,
                )
            )
            staff.append(
                StaffAccount(
                    username=f"s{n:03d}",
                    name=SURNAMES[n % 20] + GIVEN[(n * 7) % 20] + GIVEN[n % 19],
                    role=StaffRole.WINDOW,
                    password_hash="-",
                    department=qc.department,
                )
            )
    queues = tuple(replace(qc, daily_cap=100_000, alert_waiting=60) for qc in base.queues)
    return replace(
        base,
        code="bench-city",
        name="示范市政务服务中心(基准测试)",
        queues=queues,
        windows=tuple(windows),
        staff=tuple(staff),
    )


def service_days(end: date, n_weekdays: int, calendar) -> list[date]:
    days: list[date] = []
    day = end
    weekdays = 0
    while weekdays < n_weekdays:
        if calendar.is_working_day(day):
            days.append(day)
            weekdays += 1
        elif day.weekday() == 5 and day.toordinal() % 2 == 0:  # 5+X: every other Saturday
            days.append(day)
        day -= timedelta(days=1)
    return sorted(days)


# ---------------------------------------------------------------------- generation


class Gen:
    def __init__(self, con: sqlite3.Connection, hall: HallConfig, now: datetime, seed: int) -> None:
        self.con = con
        self.hall = hall
        self.now = now
        self.now_ts = now.timestamp()
        self.tz = ZoneInfo(hall.timezone)
        self.rng = random.Random(seed)
        self.events: list[tuple] = []
        self.tickets: list[tuple] = []
        self.done: list[tuple] = []  # (ticket id, number, queue, window, staff, finish ts, day)
        self.n_events = 0
        self.windows_of = {
            qc.code: [w for w in hall.windows if w.queues[0].queue == qc.code] for qc in hall.queues
        }
        self.staff_of = {w.number: hall.staff[w.number - 1] for w in hall.windows}
        self.window_state: dict[int, tuple] = {}

    def iso(self, ts: float) -> str:
        return datetime.fromtimestamp(ts, self.tz).isoformat()

    def ev(
        self, typ: str, ts: float, day: str, actor: str, ticket: str | None, window: int | None, data: dict
    ) -> None:
        if ts > self.now_ts:
            return
        self.events.append(
            (typ, self.iso(ts), ts, day, actor, ticket, window, json.dumps(data, ensure_ascii=False))
        )

    def flush(self, force: bool = False) -> None:
        if len(self.events) < 400_000 and not force:
            return
        self.con.executemany(
            "INSERT INTO events (type, at, ts, service_date, actor, ticket, window, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            sorted(self.events, key=lambda e: e[2]),
        )
        self.n_events += len(self.events)
        self.events.clear()
        self.con.executemany(f"INSERT INTO tickets VALUES ({', '.join('?' * 26)})", self.tickets)
        self.tickets.clear()

    def day(self, day: date) -> None:
        rng = self.rng
        ds = day.isoformat()
        saturday = day.weekday() == 5
        seq = {qc.code: 0 for qc in self.hall.queues}
        for w in self.hall.windows:  # the morning: log in, open
            t0 = datetime.combine(day, SESSIONS[0][0], self.tz).timestamp() - rng.uniform(60, 600)
            s = self.staff_of[w.number]
            self.ev(
                "staff_logged_in",
                t0,
                ds,
                f"staff:{s.username}",
                None,
                w.number,
                {"staff": s.username, "staff_name": s.name},
            )
            self.ev("window_opened", t0 + 5, ds, f"staff:{s.username}", None, w.number, {"staff": s.username})
        last_free: dict[int, float] = {}
        for si, (start, end) in enumerate(SESSIONS):
            if saturday and si == 1:
                break
            s_ts = datetime.combine(day, start, self.tz).timestamp()
            e_ts = datetime.combine(day, end, self.tz).timestamp()
            for qc in self.hall.queues:
                wins = self.windows_of[qc.code]
                mean = qc.default_service_s
                rate = LOAD * len(wins) / mean * (0.55 if saturday else 1.0)  # per second
                free = [(s_ts, w.number) for w in wins]
                heapq.heapify(free)
                t = s_ts
                while True:
                    shape = 1.25 if (t - s_ts) < (e_ts - s_ts) / 2 else 0.75  # busier first half
                    t += rng.expovariate(rate * shape)
                    if t >= e_ts:
                        break
                    seq[qc.code] += 1
                    self.ticket(day, ds, qc, seq[qc.code], t, free, mean)
                while free:
                    ft, wn = heapq.heappop(free)
                    last_free[wn] = max(ft, last_free.get(wn, 0))
            for w in self.hall.windows:  # lunch pause / evening close, once the last ticket is done
                s = self.staff_of[w.number]
                at = max(last_free.get(w.number, e_ts), e_ts) + 5
                if si == 0 and not saturday:
                    self.ev(
                        "window_paused",
                        at,
                        ds,
                        f"staff:{s.username}",
                        None,
                        w.number,
                        {"reason": "午间休息", "staff": s.username},
                    )
                    self.ev(
                        "window_resumed",
                        datetime.combine(day, SESSIONS[1][0], self.tz).timestamp(),
                        ds,
                        f"staff:{s.username}",
                        None,
                        w.number,
                        {"staff": s.username},
                    )
                else:
                    self.ev(
                        "window_closed", at, ds, f"staff:{s.username}", None, w.number, {"staff": s.username}
                    )
                    self.ev(
                        "staff_logged_out",
                        at + 1,
                        ds,
                        f"staff:{s.username}",
                        None,
                        w.number,
                        {"staff": s.username},
                    )
        self.flush()

    def ticket(self, day: date, ds: str, qc, n: int, t: float, free: list, mean: float) -> None:
        rng = self.rng
        number = f"{qc.code}{n:03d}"
        tid = f"{day:%Y%m%d}-{number}"
        ft, wn = heapq.heappop(free)
        call = max(t, ft)
        staff = self.staff_of[wn]
        actor = f"staff:{staff.username}"
        name = SURNAMES[rng.randrange(20)] + GIVEN[rng.randrange(20)]
        wait = call - t
        self.ev(
            "ticket_issued",
            t,
            ds,
            "device:kiosk-1",
            tid,
            None,
            {
                "queue": qc.code,
                "number": number,
                "seq": n,
                "channel": "kiosk",
                "priority": "normal",
                "checked_in": True,
                "status_token": f"{n:022d}",
                "appointment_slot": None,
                "applicant_name": name,
                "applicant_phone": "",
                "applicant_id": "",
                "position": 0,
                "estimated_wait_s": round(wait),
            },
        )
        state, called_at, served_at, finished_at = "waiting", None, None, None
        if call <= self.now_ts:
            self.ev(
                "ticket_called",
                call,
                ds,
                actor,
                tid,
                wn,
                {
                    "number": number,
                    "queue": qc.code,
                    "priority": "normal",
                    "reason": "",
                    "staff": staff.username,
                    "waited_s": round(wait),
                },
            )
            called_at, state = self.iso(call), "called"
        if rng.random() < 0.04:  # absent: one recall, then no-show
            self.ev(
                "ticket_recalled",
                call + 60,
                ds,
                actor,
                tid,
                wn,
                {"number": number, "queue": qc.code, "recall": 1},
            )
            end = call + 120
            self.ev(
                "ticket_no_show",
                end,
                ds,
                actor,
                tid,
                wn,
                {"number": number, "reason": "manual", "recalls": 1},
            )
            if end <= self.now_ts:
                state = "no_show"
        else:
            start = call + rng.uniform(15, 60)
            service = max(30.0, rng.lognormvariate(math.log(mean) - 0.125, 0.5))
            end = start + service
            self.ev("service_started", start, ds, actor, tid, wn, {"number": number, "queue": qc.code})
            self.ev(
                "service_finished",
                end,
                ds,
                actor,
                tid,
                wn,
                {
                    "number": number,
                    "queue": qc.code,
                    "service_s": round(service),
                    "occupancy_s": round(end - call),
                    "staff": staff.username,
                },
            )
            if start <= self.now_ts:
                served_at, state = self.iso(start), "serving"
            if end <= self.now_ts:
                finished_at, state = self.iso(end), "done"
                self.done.append((tid, number, qc.code, wn, staff.username, end, ds))
        heapq.heappush(free, (end, wn))
        if t > self.now_ts:
            return
        if state in ("called", "serving"):
            self.window_state[wn] = (tid, call)
        self.tickets.append(
            (
                tid,
                number,
                qc.code,
                ds,
                n,
                "kiosk",
                "normal",
                state,
                self.iso(t),
                self.iso(t),
                f"{day:%Y%m%d}{number}",
                None,
                1,
                called_at,
                served_at,
                finished_at,
                wn if called_at else None,
                None,
                1 if state == "no_show" else 0,
                0,
                staff.username if called_at else None,
                round(wait, 1),
                name,
                "",
                "",
                "",
            )
        )


def generate(path: Path, hall: HallConfig, end: date, now: datetime, weekdays: int, seed: int) -> dict:
    t0 = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-1000000")
    for i, script in enumerate(MIGRATIONS, start=1):
        con.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {i};\nCOMMIT;")
    indexes = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in indexes:  # built again after the load
        con.execute(f"DROP INDEX {name}")
    calendar = load_calendar()
    days = service_days(end, weekdays, calendar)
    gen = Gen(con, hall, now, seed)
    con.execute("BEGIN")
    for i, day in enumerate(days):
        gen.day(day)
        if i % 50 == 0:
            print(
                f"  {day}  {gen.n_events + len(gen.events):>11,} events  {time.perf_counter() - t0:6.0f} s",
                flush=True,
            )
    gen.flush(force=True)
    con.execute("COMMIT")
    con.execute("BEGIN")
    windows = []
    for w in hall.windows:
        s = gen.staff_of[w.number]
        cur = gen.window_state.get(w.number)
        windows.append(
            (
                w.number,
                "open",
                "",
                s.username,
                s.name,
                cur[0] if cur else None,
                0,
                now.replace(hour=8, minute=30).isoformat(),
            )
        )
    con.executemany("INSERT INTO windows VALUES (?, ?, ?, ?, ?, ?, ?, ?)", windows)
    con.executemany(
        "INSERT INTO service_times VALUES (?, ?, ?)",
        [(qc.code, qc.default_service_s, 1000) for qc in hall.queues],
    )
    con.execute("INSERT INTO meta VALUES ('service_date', ?)", (now.date().isoformat(),))
    con.execute("INSERT INTO meta VALUES ('bench_generator', ?)", (GENERATOR,))
    n_cases, n_ratings, n_rect = cases_and_ratings(con, hall, gen.done, now, calendar, seed)
    con.execute("COMMIT")
    t1 = time.perf_counter()
    print(f"  rows written in {t1 - t0:.0f} s; building indexes", flush=True)
    for _, sql in indexes:
        con.execute(sql)
    con.execute("ANALYZE")
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    info = {
        "events": gen.n_events,
        "days": len(days),
        "first_day": days[0].isoformat(),
        "last_day": days[-1].isoformat(),
        "cases": n_cases,
        "ratings": n_ratings,
        "rectifications": n_rect,
        "seconds": round(time.perf_counter() - t0, 1),
        "size_gb": round(path.stat().st_size / 1e9, 2),
    }
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("INSERT INTO meta VALUES ('bench_info', ?)", (json.dumps(info),))
    con.close()
    return info


def cases_and_ratings(con, hall, done, now, calendar, seed) -> tuple[int, int, int]:
    rng = random.Random(seed + 1)
    tz = ZoneInfo(hall.timezone)
    cob = hall.close_of_business
    by_queue: dict[str, list] = {}
    for m in load_matters():
        by_queue.setdefault(m.queue, []).append(m)
    kinds = {w.number: w for w in hall.windows}
    now_ts = now.timestamp()
    cases, ratings, rects = [], [], []
    seq: dict[str, int] = {}
    deadline_cache: dict[tuple[date, int], tuple[float, str]] = {}

    def due(day: date, n: int) -> tuple[float, str]:
        key = (day, n)
        if key not in deadline_cache:
            d = calendar.deadline(datetime.combine(day, dtime(10), tz), n, cob, tz)
            deadline_cache[key] = (d.at.timestamp(), d.at.isoformat())
        return deadline_cache[key]

    def iso(ts: float) -> str:
        return datetime.fromtimestamp(ts, tz).isoformat()

    rid = xid = 0
    for tid, number, queue, wn, staff, fin, ds in done:
        w = kinds[wn]
        d = date.fromisoformat(ds)
        matters = by_queue.get(queue)
        receipt = None
        if matters and rng.random() < 0.6:
            m = matters[rng.randrange(len(matters))]
            seq[ds] = seq.get(ds, 0) + 1
            receipt = f"SL-{ds.replace('-', '')}-{seq[ds]:04d}"
            created = fin - 60
            due_ts, due_iso = due(d, m.promised_working_days)
            if m.is_instant:
                decided = created + 30
            else:
                span = m.promised_working_days + (rng.randint(1, 3) if rng.random() < 0.08 else 0)
                dd = calendar.add_working_days(d, rng.randint(1, span))
                decided = datetime.combine(dd, dtime(9), tz).timestamp() + rng.uniform(0, 7 * 3600)
            state, dec_at, delivered, on_time = "in_review", None, None, None
            if decided <= now_ts:
                state, dec_at, on_time = "decided", iso(decided), int(decided <= due_ts)
                if decided + 7200 <= now_ts:
                    state, delivered = "completed", iso(decided + 7200)
            cases.append(
                (
                    receipt,
                    ds,
                    m.code,
                    m.name,
                    m.department,
                    m.field,
                    m.case_type.value,
                    m.window_kind.value,
                    int(m.one_window),
                    m.promised_working_days,
                    tid,
                    number,
                    wn,
                    w.kind.value,
                    staff,
                    "",
                    state,
                    iso(created),
                    iso(created),
                    iso(created),
                    due_iso,
                    dec_at,
                    "approved" if dec_at else None,
                    on_time,
                    delivered,
                    "window" if delivered else None,
                    iso(max(created, decided if dec_at else created)),
                )
            )
        if rng.random() < 0.5:
            rid += 1
            score = rng.choices((5, 4, 3, 2, 1), (64, 18, 8, 6, 4))[0]
            at = fin + 20
            ratings.append(
                (rid, tid, number, ds, queue, wn, staff, w.department, score, "pad", iso(at), receipt)
            )
            if score <= 2:
                xid += 1
                c_ts, c_iso = due(d, hall.rules.contact_due_working_days)
                r_ts, r_iso = due(d, hall.rules.rectify_due_working_days)
                contacted = at + rng.uniform(1, 30) * 3600
                rectified = contacted + rng.uniform(2, 40) * 3600
                state = (
                    "closed"
                    if rectified + 86400 <= now_ts
                    else "rectified"
                    if rectified <= now_ts
                    else "contacted"
                    if contacted <= now_ts
                    else "open"
                )
                rects.append(
                    (
                        xid,
                        rid,
                        tid,
                        wn,
                        w.department,
                        staff,
                        state,
                        iso(at),
                        c_iso,
                        r_iso,
                        iso(contacted) if contacted <= now_ts else None,
                        int(contacted <= c_ts) if contacted <= now_ts else None,
                        iso(rectified) if rectified <= now_ts else None,
                        int(rectified <= r_ts) if rectified <= now_ts else None,
                        iso(rectified + 86400) if state == "closed" else None,
                        "rectified" if state == "closed" else None,
                        4 if state == "closed" else None,
                        iso(min(now_ts, rectified)),
                    )
                )
    con.executemany(
        "INSERT INTO cases (receipt_no, service_date, matter_code, matter_name, department, field, case_type,"
        " window_kind, one_window, promised_working_days, ticket, ticket_number, window, accepted_window_kind,"
        " accepted_by, accepted_by_name, state, created_at, accepted_at, clock_started_at, due_at, decided_at,"
        " decision, decided_on_time, delivered_at, delivery_method, updated_at)"
        f" VALUES ({', '.join('?' * 27)})",
        cases,
    )
    con.executemany(
        "INSERT INTO ratings (id, ticket, ticket_number, service_date, queue, window, staff, department, score,"
        " channel, at, receipt_no) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ratings,
    )
    con.executemany(
        "INSERT INTO rectifications (id, rating_id, ticket, window, owner_department, owner_staff, state, opened_at,"
        " contact_due, rectify_due, contacted_at, contact_on_time, rectified_at, rectify_on_time, revisit_at,"
        " outcome, revisit_satisfaction, updated_at)"
        f" VALUES ({', '.join('?' * 18)})",
        rects,
    )
    con.executemany("INSERT INTO case_numbers VALUES (?, ?)", list(seq.items()))
    return len(cases), len(ratings), len(rects)


# ---------------------------------------------------------------------- measuring


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * p
    lo, hi = math.floor(k), math.ceil(k)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def timed(fn, repeat: int) -> dict[str, float]:
    """Wall-clock p50 / p95 / max, and the median CPU time of this process (DuckDB's threads
    included): on a shared machine the CPU time says what the query costs."""
    samples, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return {
        "p50": statistics.median(samples),
        "p95": pct(samples, 0.95),
        "max": max(samples),
        "cpu_p50": statistics.median(cpu),
    }


def pages(wh: HallWarehouse, hall: HallConfig, now: datetime) -> dict[str, dict]:
    """What each page queries with its default filters (the same calls as app_pages/)."""
    today = now.date()
    now_ts = now.timestamp()
    last30 = q.Scope(start=today - timedelta(days=29), end=today)
    rules = hall.rules
    month = f"{today:%Y-%m}"

    def live():
        scope = q.Scope(start=today, end=today)
        queues = q.live_queues(wh, today, now_ts, scope)
        q.add_estimates(wh, hall, queues, today, now)
        q.day_summary(wh, today, scope)
        q.window_counts(q.live_windows(wh, today, scope))

    def cases():
        q.case_summary(wh, last30, now, rules.due_soon_hours)
        q.case_flow(wh, last30)
        q.case_lists(wh, last30, now_ts, rules.due_soon_hours, tz=hall.timezone)
        q.cases_by_department(wh, last30, now_ts)

    def ratings():
        q.rating_summary(wh, last30, now_ts)
        q.rating_distribution(wh, last30)
        for by in ("department", "window", "staff"):
            q.ratings_by(wh, last30, by, now_ts)
        q.rectification_table(wh, last30, now_ts, rules.due_soon_hours)

    def windows():
        act = q.activity(wh, last30, now_ts)
        q.window_activity(wh, last30, now_ts, base=act)
        q.staff_activity(wh, last30, now_ts, base=act)
        q.arrivals_by_hour(wh, last30, now_ts)

    def report():
        rpt.build_month_report(wh, hall, month, now)  # its frames also feed the page's two charts

    return {
        "实时 live": live,
        "办件 cases": cases,
        "好差评 ratings": ratings,
        "窗口与人员 windows": windows,
        "报表 report": report,
    }


def uptime() -> str:
    import subprocess

    return subprocess.run(["uptime"], check=False, capture_output=True, text=True).stdout.strip()


def baseline_module(commit: str):
    """``dashboard/data.py`` as it was at ``commit`` (today's path), importable on its own;
    its worker processes run that same copy."""
    import importlib.util
    import subprocess
    import tempfile

    code = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{commit}:dashboard/data.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    code = code.replace('"-m", "dashboard.data"', '"-m", "hallops_baseline_data"')
    folder = Path(tempfile.mkdtemp(prefix="hallops-baseline-"))
    (folder / "hallops_baseline_data.py").write_text(code, encoding="utf-8")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(folder), str(ROOT), os.environ.get("PYTHONPATH", "")])
    spec = importlib.util.spec_from_file_location(
        "hallops_baseline_data", folder / "hallops_baseline_data.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["hallops_baseline_data"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def refresh_after(wh, appender: Appender, live, n_events: int) -> dict[str, float]:
    """After the server committed ``n_events`` (100 per transaction): ms to refresh (wall
    and this process's CPU), then ms to run the live page's queries."""
    live()  # warm
    for _ in range(max(1, round(n_events / 100))):
        appender.append()
    t, c = time.perf_counter(), time.process_time()
    wh.refresh()
    out = {"refresh_ms": (time.perf_counter() - t) * 1000, "refresh_cpu_ms": (time.process_time() - c) * 1000}
    t = time.perf_counter()
    live()
    out["page_ms"] = (time.perf_counter() - t) * 1000
    return out


def cpu_s() -> float:
    """CPU seconds of this process and its finished children (today's reader processes)."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


class Appender:
    """A second connection writing as the server does: 100 events per transaction, with the
    ticket rows they change, one case and one rating."""

    def __init__(self, path: Path, hall: HallConfig, now: datetime) -> None:
        self.con = sqlite3.connect(path, isolation_level=None)
        self.con.execute("PRAGMA busy_timeout = 5000")
        self.hall = hall
        self.tz = ZoneInfo(hall.timezone)
        self.ts = now.timestamp()
        self.day = now.date().isoformat()
        self.n = self.con.execute(
            "SELECT COUNT(*) FROM tickets WHERE service_date = ? AND queue = 'A' AND number LIKE 'Y%'",
            (self.day,),
        ).fetchone()[0]  # earlier runs' appends
        self.case = self.con.execute("SELECT receipt_no FROM cases ORDER BY rowid DESC LIMIT 1").fetchone()[0]
        self.rating = self.con.execute("SELECT MAX(id) FROM ratings").fetchone()[0]

    def append(self) -> None:
        con = self.con
        con.execute("BEGIN IMMEDIATE")
        rows, tickets = [], []
        for _ in range(49):  # 49 tickets issued and called = 98 events
            self.n += 1
            self.ts += 2
            number = f"Y{self.n:04d}"
            tid = f"{self.day.replace('-', '')}-{number}"
            at = datetime.fromtimestamp(self.ts, self.tz).isoformat()
            rows.append(
                (
                    "ticket_issued",
                    at,
                    self.ts,
                    self.day,
                    "device:kiosk-1",
                    tid,
                    None,
                    json.dumps({"queue": "A", "number": number, "seq": self.n}),
                )
            )
            rows.append(
                (
                    "ticket_called",
                    at,
                    self.ts + 1,
                    self.day,
                    "staff:s001",
                    tid,
                    1,
                    json.dumps({"number": number, "queue": "A", "staff": "s001", "waited_s": 1}),
                )
            )
            tickets.append(
                (
                    tid,
                    number,
                    "A",
                    self.day,
                    self.n,
                    "kiosk",
                    "normal",
                    "called",
                    at,
                    at,
                    tid,
                    None,
                    1,
                    at,
                    None,
                    None,
                    1,
                    None,
                    0,
                    0,
                    "s001",
                    0.0,
                    "",
                    "",
                    "",
                    "",
                )
            )
        at = datetime.fromtimestamp(self.ts, self.tz).isoformat()
        rows.append(
            (
                "case_decided",
                at,
                self.ts,
                self.day,
                "staff:bo",
                None,
                None,
                json.dumps({"receipt_no": self.case}),
            )
        )
        rows.append(
            (
                "service_rated",
                at,
                self.ts,
                self.day,
                "device:pad",
                tickets[0][0],
                1,
                json.dumps({"rating_id": self.rating}),
            )
        )
        con.executemany(
            "INSERT INTO events (type, at, ts, service_date, actor, ticket, window, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        con.executemany(f"INSERT OR REPLACE INTO tickets VALUES ({', '.join('?' * 26)})", tickets)
        con.execute("UPDATE cases SET updated_at = ? WHERE receipt_no = ?", (at, self.case))
        con.execute("UPDATE ratings SET text = ? WHERE id = ?", (f"追加 {self.n}", self.rating))
        con.execute("COMMIT")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default=str(ROOT / "var" / "bench" / "dashboard-10m.db"))
    ap.add_argument(
        "--events", type=int, default=10_000_000, help="about this many events (default 10,000,000)"
    )
    ap.add_argument("--end", default="2026-11-20", help="last day (default 2026-11-20, a Friday)")
    ap.add_argument("--now", default="10:30", help="time of day of 'now' on the last day (default 10:30)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=20, help="runs of each page's queries (default 20)")
    ap.add_argument("--appends", type=int, default=30, help="incremental refreshes measured (default 30)")
    ap.add_argument("--regenerate", action="store_true", help="generate the database even if it matches")
    ap.add_argument("--json", help="write every figure to this file")
    ap.add_argument(
        "--baseline",
        default=BASELINE,
        help=f"commit whose dashboard/data.py is today's path (default {BASELINE})",
    )
    ap.add_argument(
        "--new-events", type=int, default=1000, help="events committed before the measured live refresh"
    )
    args = ap.parse_args()

    base = load_hall_config(ROOT / "data" / "halls" / "demo.toml")
    hall = large_hall(base)
    tz = ZoneInfo(hall.timezone)
    end = date.fromisoformat(args.end)
    hh, mm = (int(x) for x in args.now.split(":"))
    now = datetime.combine(end, dtime(hh, mm), tz)
    os.environ["HALLOPS_NOW"] = now.isoformat()
    # about 25,000 events per weekday for this hall: the number of weekdays for the target
    weekdays = max(5, round(args.events / 25_000))
    path = Path(args.db)
    params = {
        "generator": GENERATOR,
        "events": args.events,
        "end": args.end,
        "now": args.now,
        "seed": args.seed,
    }
    info = None
    if path.exists() and not args.regenerate:
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            stored = dict(
                con.execute("SELECT key, value FROM meta WHERE key IN ('bench_params', 'bench_info')")
            )
            con.close()
            if json.loads(stored.get("bench_params", "{}")) == params:
                info = json.loads(stored["bench_info"])
        except sqlite3.Error:
            info = None
    if info is None:
        print(f"generating {path} (about {args.events:,} events, {weekdays} weekdays) ...", flush=True)
        info = generate(path, hall, end, now, weekdays, args.seed)
        con = sqlite3.connect(path, isolation_level=None)
        con.execute("INSERT INTO meta VALUES ('bench_params', ?)", (json.dumps(params),))
        con.close()
    print(
        f"database: {path} ({info['size_gb']} GB): {info['events']:,} events over {info['days']} days "
        f"{info['first_day']} .. {info['last_day']}, {info['cases']:,} cases, {info['ratings']:,} ratings, "
        f"{info['rectifications']:,} rectifications; generated in {info['seconds']} s"
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()},"
        f" load average {os.getloadavg()[0]:.1f}"
    )

    print(f"machine load (uptime): {uptime()}")
    appender = Appender(path, hall, now)

    def live_of(w):
        return pages(w, hall, now)["实时 live"]

    # ---- today's path (the data.py of --baseline, run from a copy): cold load, no cache
    old = baseline_module(args.baseline)
    t, c = time.perf_counter(), cpu_s()
    wh_old = old.HallWarehouse(path, hall).load()
    old_cold, old_cold_cpu = time.perf_counter() - t, cpu_s() - c
    t = time.perf_counter()
    live_of(wh_old)()
    old_first_page = old_cold + time.perf_counter() - t  # a restart: load, then the first page
    old_refresh = refresh_after(wh_old, appender, live_of(wh_old), args.new_events)
    del wh_old
    print(
        f"\ntoday's path ({args.baseline}): cold load {old_cold:.2f} s (CPU {old_cold_cpu:.1f} s); first page"
        f" after a restart {old_first_page:.2f} s; after {args.new_events:,} new events: refresh"
        f" {old_refresh['refresh_ms']:.0f} ms (CPU {old_refresh['refresh_cpu_ms']:.0f} ms), live page"
        f" {old_refresh['page_ms']:.0f} ms",
        flush=True,
    )

    # ---- the cache: cold build (then saved), restart from it, live refresh
    cache = default_cache_path(path)
    for stale in path.parent.glob(cache.name + "*"):
        stale.unlink()
    t, c = time.perf_counter(), cpu_s()
    wh = HallWarehouse(path, hall)
    wh.load()  # the cold build alone (no cache configured)
    cold, cold_cpu = time.perf_counter() - t, cpu_s() - c
    cpu_main, cpu_workers = cold_cpu, 0.0
    t = time.perf_counter()
    wh.cache_path = cache
    wh.save()
    built = cold + time.perf_counter() - t
    size_mb = cache.stat().st_size / 1e6
    del wh
    t, c = time.perf_counter(), cpu_s()
    wh = HallWarehouse(path, hall, cache=cache).load()
    restored = time.perf_counter() - t
    live_of(wh)()
    first_page, first_page_cpu = time.perf_counter() - t, cpu_s() - c
    assert wh.load_stats.source == "cache"
    new_refresh = refresh_after(wh, appender, live_of(wh), args.new_events)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\ncache ({cache.name}, {size_mb:,.0f} MB):")
    print(
        f"  cold build {cold:.2f} s through ADBC ({wh.workers} threads; CPU {cold_cpu:.1f} s), then saved in "
        f"{built - cold:.2f} s: {old_cold / cold:.1f}x faster than today's cold load in wall time, "
        f"{old_cold_cpu / cold_cpu:.1f}x in CPU   aim >= 5x: {'ok' if old_cold / cold >= 5 else 'MISSED'}"
    )
    print(
        f"  first page after a restart: {first_page:.2f} s (CPU {first_page_cpu:.1f} s; restore {restored:.2f} s,"
        f" caught up and live page {first_page - restored:.2f} s) against {old_first_page:.2f} s today"
        f"   aim <= 5 s: {'ok' if first_page <= 5 else 'MISSED'}"
    )
    print(
        f"  after {args.new_events:,} new events: refresh {new_refresh['refresh_ms']:.0f} ms (CPU"
        f" {new_refresh['refresh_cpu_ms']:.0f} ms) against {old_refresh['refresh_ms']:.0f} ms today, then the live"
        f" page {new_refresh['page_ms']:.0f} ms   aim (refresh) <= 100 ms:"
        f" {'ok' if new_refresh['refresh_ms'] <= 100 else 'MISSED'}"
    )
    print(
        f"  {wh.count('events'):,} events and {wh.count('tickets'):,} tickets copied; peak RSS {rss:,.0f} MB;"
        f" load (uptime): {uptime()}",
        flush=True,
    )

    results: dict[str, dict] = {}
    print(f"\npage queries after load, {args.repeat} runs each (ms):")
    print(f"  {'page':<18} {'p50':>8} {'p95':>8} {'max':>8} {'cpu p50':>8}  aim p95 <= 500")
    for name, fn in pages(wh, hall, now).items():
        fn()  # first run: DuckDB warms its caches
        r = timed(fn, args.repeat)
        results[name] = r
        print(
            f"  {name:<18} {r['p50']:8.1f} {r['p95']:8.1f} {r['max']:8.1f} {r['cpu_p50']:8.1f}"
            f"  {'ok' if r['p95'] <= 500 else 'MISSED'}"
        )

    appender = Appender(path, hall, now)
    samples, cpu = [], []
    counts = None
    for _ in range(args.appends):
        appender.append()
        t, c = time.perf_counter(), time.process_time()
        counts = wh.refresh()
        samples.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    inc = {
        "p50": statistics.median(samples),
        "p95": pct(samples, 0.95),
        "max": max(samples),
        "cpu_p50": statistics.median(cpu),
    }
    print(
        f"\nincremental refresh, 100 events appended each time ({args.appends} times; last: {counts.events} of them"
        f" copied (the rest are issue, case and rating events, whose rows are re-read instead), {counts.tickets}"
        f" tickets, {counts.other} other rows re-read):"
    )
    print(
        f"  p50 {inc['p50']:.1f} ms  p95 {inc['p95']:.1f} ms  max {inc['max']:.1f} ms  cpu p50 {inc['cpu_p50']:.1f} ms  "
        f"aim <= 100: {'ok' if inc['p95'] <= 100 else 'MISSED'}"
    )
    t = time.perf_counter()
    wh.refresh()
    print(f"  refresh with nothing new: {(time.perf_counter() - t) * 1000:.1f} ms")
    print(f"  load average now {os.getloadavg()[0]:.1f}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "info": info,
                    "baseline": args.baseline,
                    "today": {
                        "cold_load_s": old_cold,
                        "cold_load_cpu_s": old_cold_cpu,
                        "first_page_s": old_first_page,
                        **old_refresh,
                    },
                    "cache": {
                        "cold_build_s": cold,
                        "cold_build_cpu_s": cold_cpu,
                        "save_s": built - cold,
                        "first_page_s": first_page,
                        "first_page_cpu_s": first_page_cpu,
                        "restore_s": restored,
                        **new_refresh,
                        "size_mb": size_mb,
                    },
                    "cold_load_cpu_s": [cpu_workers, cpu_main],
                    "rss_mb": rss,
                    "pages": results,
                    "refresh": inc,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
