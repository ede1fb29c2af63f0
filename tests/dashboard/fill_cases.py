"""Cases (办件), ratings (好差评) and rectifications for a database filled by ``drive.py``.

The core's case and rating commands are not in the repository yet, so this writes the rows
of schema migration 2 directly, as docs/data-model.md describes them (states, due instants
from the working-day calendar, on-time flags), with one event per row change that names the
row (``data.receipt_no`` / ``rating_id`` / ``rectification_id``) like the server's events.
Only services finished before ``now`` get a case or a rating; how far each case or
rectification got depends on ``now``. Deterministic for a seed.
"""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from queue_server.calendar_data import load_calendar
from queue_server.hall.config import HallConfig
from queue_server.matters import load_matters

SCORES = (5, 4, 3, 2, 1)
SCORE_WEIGHTS = (64, 18, 8, 6, 4)


class _Writer:
    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con

    def event(self, typ: str, at: datetime, actor: str, *, ticket: str | None = None,
              window: int | None = None, **data: object) -> None:
        self.con.execute(
            "INSERT INTO events (type, at, ts, service_date, actor, ticket, window, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (typ, at.isoformat(), at.timestamp(), at.date().isoformat(), actor, ticket, window,
             json.dumps(data, ensure_ascii=False)),
        )


def fill_cases_and_ratings(path: Path | str, config: HallConfig, now: datetime, *, seed: int = 7,
                           case_share: float = 0.7, rating_share: float = 0.6) -> None:
    rng = random.Random(seed)
    tz = ZoneInfo(config.timezone)
    cal = load_calendar()
    cob = config.close_of_business
    rules = config.rules
    matters = load_matters()
    by_queue: dict[str, list] = {}
    for m in matters:
        by_queue.setdefault(m.queue, []).append(m)
    fallback = [m for m in matters if m.queue == "A"]
    wcfg = {w.number: w for w in config.windows}

    con = sqlite3.connect(path, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    w = _Writer(con)
    rows = con.execute(
        "SELECT id, number, queue, window, served_by, finished_at, service_date FROM tickets"
        " WHERE state = 'done' AND finished_at IS NOT NULL ORDER BY finished_at"
    ).fetchall()
    seq_by_day: dict[str, int] = {}
    rating_id = con.execute("SELECT COALESCE(MAX(id), 0) FROM ratings").fetchone()[0]
    rect_id = con.execute("SELECT COALESCE(MAX(id), 0) FROM rectifications").fetchone()[0]
    names = {s.username: s.name for s in config.staff}
    for tid, number, queue, window, staff, finished_at, day in rows:
        fin = datetime.fromisoformat(finished_at).astimezone(tz)
        if fin > now:
            continue
        win = wcfg.get(window)
        staff_name = names.get(staff or "", staff or "")
        actor = f"staff:{staff}" if staff else "system:hall"
        receipt = None
        matter_name = ""
        matter_code = ""
        # ------------------------------------------------------------ a case
        if queue not in ("P", "Z") and rng.random() < case_share:
            m = rng.choice(by_queue.get(queue) or fallback)
            seq_by_day[day] = seq_by_day.get(day, 0) + 1
            receipt = f"SL-{day.replace('-', '')}-{seq_by_day[day]:04d}"
            matter_name, matter_code = m.name, m.code
            created = fin - timedelta(seconds=rng.randint(30, 120))
            roll = rng.random()
            row: dict[str, object] = {
                "receipt_no": receipt, "service_date": day, "matter_code": m.code, "matter_name": m.name,
                "department": m.department, "field": m.field, "case_type": m.case_type.value,
                "window_kind": m.window_kind.value, "one_window": int(m.one_window),
                "promised_working_days": m.promised_working_days, "ticket": tid, "ticket_number": number,
                "window": window, "accepted_window_kind": win.kind.value if win else None,
                "accepted_by": staff, "accepted_by_name": staff_name, "created_at": created.isoformat(),
                "updated_at": created.isoformat(),
            }
            if roll < 0.04:
                row.update(state="rejected", rejection_reason="不属于本部门受理范围")
                w.event("case_rejected", created, actor, ticket=tid, window=window, receipt_no=receipt)
            elif roll < 0.08:
                row.update(state="materials_requested", materials_requested_at=created.isoformat(),
                           missing_materials=json.dumps(["身份证复印件"], ensure_ascii=False))
                w.event("materials_requested", created, actor, ticket=tid, window=window, receipt_no=receipt)
            else:
                due = cal.deadline(created, m.promised_working_days, cob, tz)
                row.update(state="accepted", accepted_at=created.isoformat(), clock_started_at=created.isoformat(),
                           due_at=due.at.isoformat(), provisional=int(due.provisional))
                w.event("case_accepted", created, actor, ticket=tid, window=window, receipt_no=receipt)
                if m.is_instant:
                    decided = created + timedelta(seconds=30)
                else:
                    # most are decided in time, some late; the decision comes on a working day
                    span = m.promised_working_days + (rng.randint(1, 3) if rng.random() < 0.12 else 0)
                    day_n = cal.add_working_days(created.date(), rng.randint(1, max(1, span)))
                    decided = datetime.combine(day_n, datetime.min.time(), tz) + timedelta(
                        hours=rng.randint(9, 16), minutes=rng.randint(0, 59))
                    review = created + timedelta(hours=rng.randint(1, 20))
                    if review <= now:
                        row.update(state="in_review", review_started_at=review.isoformat(), reviewer="bo-" + m.department)
                        w.event("review_started", review, "staff:backoffice", receipt_no=receipt)
                if decided <= now:
                    approved = rng.random() < 0.95
                    row.update(state="decided", decided_at=decided.isoformat(),
                               decision="approved" if approved else "disapproved", decided_by="backoffice",
                               decided_on_time=int(decided <= due.at))
                    w.event("case_decided", decided, "staff:backoffice", receipt_no=receipt)
                    delivered = decided + (timedelta(seconds=30) if m.is_instant else timedelta(hours=rng.randint(2, 48)))
                    if delivered <= now:
                        row.update(state="completed", delivered_at=delivered.isoformat(),
                                   delivery_method="window", delivery_window=window)
                        w.event("case_delivered", delivered, actor, receipt_no=receipt)
            cols = ", ".join(row)
            con.execute(f"INSERT INTO cases ({cols}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))
        # ------------------------------------------------------------ a rating
        if rng.random() >= rating_share:
            continue
        at = fin + timedelta(seconds=rng.randint(5, 60))
        if at > now:
            continue
        score = rng.choices(SCORES, SCORE_WEIGHTS)[0]
        rating_id += 1
        dept = win.department if win else ""
        qcfg = config.queue(queue)
        con.execute(
            "INSERT INTO ratings (id, ticket, ticket_number, service_date, queue, window, staff, staff_name,"
            " department, matter_code, matter_name, receipt_no, score, reasons, text, channel, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rating_id, tid, number, at.date().isoformat(), queue, window, staff, staff_name, dept, matter_code,
             matter_name or (qcfg.name if qcfg else queue), receipt, score,
             json.dumps(["等候时间长"] if score <= 2 else [], ensure_ascii=False),
             "排队太久" if score <= 2 else "", "pad", at.isoformat()),
        )
        w.event("service_rated", at, "device:pad", ticket=tid, window=window, rating_id=rating_id, score=score)
        if score > 2:
            continue
        # ------------------------------------------------------------ the 差评 loop
        rect_id += 1
        contact_due = cal.deadline(at, rules.contact_due_working_days, cob, tz)
        rectify_due = cal.deadline(at, rules.rectify_due_working_days, cob, tz)
        r: dict[str, object] = {
            "id": rect_id, "rating_id": rating_id, "ticket": tid, "window": window, "owner_department": dept,
            "owner_staff": staff, "owner_staff_name": staff_name, "state": "open", "opened_at": at.isoformat(),
            "contact_due": contact_due.at.isoformat(), "rectify_due": rectify_due.at.isoformat(),
            "provisional": int(contact_due.provisional or rectify_due.provisional), "updated_at": at.isoformat(),
        }
        w.event("rectification_opened", at, "system:hall", ticket=tid, rating_id=rating_id, rectification_id=rect_id)
        if rng.random() < 0.15:  # solved at the counter
            r.update(state="closed", outcome="on_the_spot", closed_at=at.isoformat(), contact_on_time=1,
                     rectify_on_time=1)
            w.event("resolved_on_the_spot", at, actor, rectification_id=rect_id, rating_id=rating_id)
        else:
            late = rng.random() < 0.15
            contacted = at + timedelta(hours=rng.randint(1, 6) + (30 if late else 0))
            if contacted <= now:
                r.update(state="contacted", contacted_at=contacted.isoformat(), contacted_by=staff,
                         contact_note="已电话联系", contact_on_time=int(contacted <= contact_due.at))
                w.event("rater_contacted", contacted, actor, rectification_id=rect_id)
                rectified = contacted + timedelta(hours=rng.randint(2, 20) + (30 if rng.random() < 0.15 else 0))
                if rectified <= now:
                    r.update(state="rectified", rectified_at=rectified.isoformat(), measures="优化叫号安排",
                             rectified_by=staff, rectify_on_time=int(rectified <= rectify_due.at))
                    w.event("rating_rectified", rectified, actor, rectification_id=rect_id)
                    revisit = rectified + timedelta(hours=rng.randint(2, 24))
                    if revisit <= now:
                        r.update(state="closed", outcome="rectified", revisit_at=revisit.isoformat(),
                                 revisit_satisfaction=rng.choice((5, 4, 4, 3)), closed_at=revisit.isoformat())
                        w.event("rater_revisited", revisit, "staff:manager", rectification_id=rect_id)
        cols = ", ".join(r)
        con.execute(f"INSERT INTO rectifications ({cols}) VALUES ({', '.join('?' * len(r))})", tuple(r.values()))
    for day, last in seq_by_day.items():
        con.execute("INSERT INTO case_numbers (service_date, last_seq) VALUES (?, ?)"
                    " ON CONFLICT(service_date) DO UPDATE SET last_seq = excluded.last_seq", (day, last))
    con.execute("COMMIT")
    con.close()
