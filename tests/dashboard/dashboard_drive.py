"""Fill a hall database by driving the pure core, the way the server does.

Every step of simulated time runs the commands due in that step through ``Hall.handle``,
then ``recorder.batch_for`` and ``SqliteStore.commit`` write them in one transaction (as
``HallServer._run_batch`` does). Staff log in and open their windows in the morning, call
the next ticket when free, start and finish service, recall and mark no-shows, pause for
lunch and now and then for other reasons, and log out in the evening.

During a service the window creates a case now and then (受理, 补正 notice or 不予受理; a
即办件 is decided and handed out on the spot), the 出件 window hands out decided results, and
the citizen rates the service on the pad; the back office reviews and decides 承诺件 (a few
late), the manager works the 差评 loop (contact, rectify, revisit; a few late). Deterministic
for a seed. This is a small test driver, not the simulator (``hallops simulate``).
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from queue_server.calendar_data import load_calendar
from queue_server.hall import commands as c
from queue_server.hall.config import HallConfig, StaffRole
from queue_server.hall.errors import HallError
from queue_server.hall.events import Event
from queue_server.matters import load_matters
from queue_server.recorder import batch_for, rebuild_hall
from queue_server.store import SqliteStore

STEP = timedelta(seconds=30)
PAUSE_REASONS = ("业务培训", "系统故障", "临时离岗")
SCORES = (5, 4, 3, 2, 1)
SCORE_WEIGHTS = (64, 18, 8, 6, 4)
BACK_OFFICE = c.Actor(kind="staff", id="backoffice", name="后台审批")
MANAGER = c.Actor(kind="staff", id="manager", name="值班主任")

# The recorded hall of the dashboard tests (see conftest.py)
ROOT = Path(__file__).resolve().parents[2]
DEMO_HALL = ROOT / "data" / "halls" / "demo.toml"
SMALL_HALL = ROOT / "tests" / "fixtures" / "halls" / "small.toml"
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 10, 30, tzinfo=TZ)
DAYS = [date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20)]


@dataclass
class _Desk:
    number: int
    actor: c.Actor
    phase: str = "closed"  # closed | free | called | serving | paused | lunch
    until: datetime | None = None
    no_show: bool = False


@dataclass
class _Later:
    """Back-office and manager work planned for later: (when, what) lists."""

    todo: list[tuple[datetime, int, str, object]]  # (due, seq, kind, key)
    to_deliver: list[str]  # decided 承诺件 waiting at the 出件 window
    n: int = 0

    def add(self, when: datetime, kind: str, key: object) -> None:
        self.n += 1
        self.todo.append((when, self.n, kind, key))


async def _drive(
    path: Path,
    config: HallConfig,
    days: Sequence[date],
    seed: int,
    per_hour: float,
    until: datetime | None,
    open_at: time,
    close_at: time,
    refused: dict[str, int],
) -> None:
    rng = random.Random(seed)
    tz = ZoneInfo(config.timezone)
    store = SqliteStore(path, synchronous="OFF")
    await store.open()
    matters = load_matters()
    catalogue = {m.code: m for m in matters}
    by_queue: dict[str, list] = {}
    for m in matters:
        by_queue.setdefault(m.queue, []).append(m)
    hall = rebuild_hall(config, await store.load(), calendar=load_calendar(), matters=catalogue)
    later = _Later(todo=[], to_deliver=[])
    staff = [s for s in config.staff if s.role is StaffRole.WINDOW]
    desks = []
    for i, w in enumerate(config.windows):
        acct = staff[i] if i < len(staff) else None
        username = acct.username if acct else f"staff{w.number}"
        name = acct.name if acct else f"值班人员{w.number}"
        desks.append(_Desk(number=w.number, actor=c.Actor(kind="staff", id=username, name=name)))
    kiosk = c.Actor(kind="device", id="kiosk-1", name="kiosk-1")
    queues = [q.code for q in config.queues]
    weights = [3.0 if q.kind.value == "无差别综合" else 1.0 for q in config.queues]
    service_mean = {q.code: q.default_service_s for q in config.queues}

    def run(cmd: c.Command, now: datetime, actor: c.Actor, out: list[Event]) -> bool:
        try:
            out.extend(hall.handle(cmd, now, actor))
            return True
        except HallError as err:
            out.extend(getattr(err, "events", []))
            refused[f"{type(cmd).__name__}: {err.code}"] = (
                refused.get(f"{type(cmd).__name__}: {err.code}", 0) + 1
            )
            return False

    try:
        for day in days:
            now = datetime.combine(day, open_at, tz)
            end = datetime.combine(day, close_at, tz)
            lunch = (datetime.combine(day, time(12, 0), tz), datetime.combine(day, time(13, 0), tz))
            out: list[Event] = []
            for d in desks:
                acct_name = d.actor.name
                run(c.StaffLogin(window=d.number, username=d.actor.id, name=acct_name), now, d.actor, out)
                if run(c.OpenWindow(window=d.number), now, d.actor, out):
                    d.phase = "free"
            await store.commit(batch_for(hall, out))
            waiting_ids: list[str] = []
            while now < end + timedelta(minutes=30):
                if until is not None and now >= until:
                    return
                out = []
                # arrivals (Poisson), only while the hall is open
                if now < end:
                    hour = now.hour + now.minute / 60
                    shape = 1.0 + 0.6 * math.sin((hour - 8.5) / 9 * 2 * math.pi)  # busier mornings
                    lam = per_hour * shape * STEP.total_seconds() / 3600
                    for _ in range(_poisson(rng, lam)):
                        q = rng.choices(queues, weights)[0]
                        prio = c.Priority.GREEN if rng.random() < 0.06 else c.Priority.NORMAL
                        if run(c.IssueTicket(queue=q, priority=prio), now, kiosk, out):
                            waiting_ids.append(out[-1].ticket or "")
                    # a citizen gives up now and then
                    if waiting_ids and rng.random() < 0.01:
                        tid = waiting_ids[rng.randrange(len(waiting_ids))]
                        t = hall.tickets.get(tid)
                        if t is not None and t.state.value == "waiting":
                            run(c.CancelTicket(ticket=tid, reason="群众离开"), now, kiosk, out)
                _back_office(hall, run, rng, later, now, out)
                for d in desks:
                    in_lunch = lunch[0] <= now < lunch[1]
                    if d.phase == "free":
                        if in_lunch:
                            if run(c.PauseWindow(window=d.number, reason="午间休息"), now, d.actor, out):
                                d.phase = "lunch"
                        elif now >= end:
                            run(c.StaffLogout(window=d.number), now, d.actor, out)
                            d.phase = "closed"
                        elif rng.random() < 0.004:
                            if run(
                                c.PauseWindow(window=d.number, reason=rng.choice(PAUSE_REASONS)),
                                now,
                                d.actor,
                                out,
                            ):
                                d.phase, d.until = "paused", now + timedelta(minutes=rng.randint(5, 20))
                        elif run(c.CallNext(window=d.number), now, d.actor, out):
                            d.phase, d.until = "called", now + timedelta(seconds=rng.randint(20, 90))
                            d.no_show = rng.random() < 0.05
                    elif d.phase == "called" and now >= d.until:
                        if d.no_show:
                            run(c.NoShow(window=d.number), now, d.actor, out)
                            d.phase = "free"
                        else:
                            run(c.StartService(window=d.number), now, d.actor, out)
                            mean = service_mean.get(
                                hall.windows[d.number].current_ticket
                                and hall.tickets[hall.windows[d.number].current_ticket].queue,
                                300,
                            )
                            secs = max(30.0, rng.lognormvariate(math.log(mean or 300), 0.5))
                            d.phase, d.until = "serving", now + timedelta(seconds=secs)
                    elif d.phase == "serving" and now >= d.until:
                        tid = hall.windows[d.number].current_ticket
                        queue = hall.tickets[tid].queue if tid else ""
                        _case_work(hall, run, rng, by_queue, later, d, queue, now, out)
                        run(c.FinishService(window=d.number), now, d.actor, out)
                        d.phase = "free"
                        if tid and rng.random() < 0.6:  # the citizen rates on the pad
                            score = rng.choices(SCORES, SCORE_WEIGHTS)[0]
                            bad = score <= 2
                            if (
                                run(
                                    c.RateService(
                                        score=score,
                                        window=d.number,
                                        ticket=tid,
                                        reasons=("等候时间长",) if bad else (),
                                        text="排队太久" if bad else "",
                                    ),
                                    now,
                                    kiosk,
                                    out,
                                )
                                and bad
                            ):
                                opened = next(
                                    e for e in out if e.type == "rectification_opened" and e.ticket == tid
                                )
                                _plan_rectification(later, rng, now, opened.rectification_id)
                    elif (d.phase == "paused" and now >= d.until) or (d.phase == "lunch" and now >= lunch[1]):
                        run(c.ResumeWindow(window=d.number), now, d.actor, out)
                        d.phase = "free"
                if out:
                    await store.commit(batch_for(hall, out))
                now += STEP
            for d in desks:  # anyone still in: the day is over
                if d.phase != "closed":
                    out = []
                    if d.phase in ("paused", "lunch"):
                        run(c.ResumeWindow(window=d.number), now, d.actor, out)
                    run(c.StaffLogout(window=d.number), now, d.actor, out)
                    await store.commit(batch_for(hall, out))
                    d.phase = "closed"
    finally:
        await store.close()


def _case_work(hall, run, rng, by_queue, later: _Later, d: _Desk, queue: str, now: datetime, out) -> None:
    """What a window does with a case during a service, just before finishing it."""
    if queue == "P":  # 出件: hand out a decided result
        if later.to_deliver:
            receipt = later.to_deliver.pop(0)
            run(
                c.DeliverCase(receipt_no=receipt, method=c.DeliveryMethod.WINDOW, window=d.number),
                now,
                d.actor,
                out,
            )
        return
    options = by_queue.get(queue)
    if not options or rng.random() >= 0.7:
        return
    m = rng.choice(options)
    roll = rng.random()
    if roll < 0.04:
        run(c.RejectCase(window=d.number, matter=m.code, reason="不属于本部门受理范围"), now, d.actor, out)
        return
    if roll < 0.08:
        run(
            c.RequestMaterials(window=d.number, matter=m.code, missing_materials=(m.materials[0].name,)),
            now,
            d.actor,
            out,
        )
        return
    if not run(c.AcceptCase(window=d.number, matter=m.code), now, d.actor, out):
        return
    receipt = out[-1].receipt_no
    if m.is_bundle:  # 一件事: its parts are left open (tests/dashboard/test_integrated.py drives
        # bundles); the same draws as a 承诺件, so the recorded hall is the one of the other tests
        rng.uniform(0.5, 6)
        _ = rng.uniform(0.1, 0.6) if rng.random() < 0.85 else rng.uniform(0.5, 2)
        return
    if m.is_instant:  # 即办件: decided and handed out on the spot
        run(
            c.DecideCase(receipt_no=receipt, decision=c.Decision.APPROVED, window=d.number), now, d.actor, out
        )
        run(
            c.DeliverCase(receipt_no=receipt, method=c.DeliveryMethod.WINDOW, window=d.number),
            now,
            d.actor,
            out,
        )
        return
    later.add(now + timedelta(hours=rng.uniform(0.5, 6)), "review", receipt)
    # most are decided within their promised days, some late (超期)
    days = (
        m.promised_working_days * rng.uniform(0.1, 0.6)
        if rng.random() < 0.85
        else m.promised_working_days + rng.uniform(0.5, 2)
    )
    later.add(now + timedelta(days=days * 7 / 5), "decide", receipt)


def _plan_rectification(later: _Later, rng: random.Random, now: datetime, rect: int) -> None:
    if rng.random() < 0.15:
        later.add(now, "on_the_spot", rect)
        return
    contact = now + timedelta(hours=rng.uniform(1, 6) + (30 if rng.random() < 0.15 else 0))
    later.add(contact, "contact", rect)
    rectify = contact + timedelta(hours=rng.uniform(2, 20) + (30 if rng.random() < 0.15 else 0))
    later.add(rectify, "rectify", rect)
    later.add(rectify + timedelta(hours=rng.uniform(2, 24)), "revisit", rect)


def _back_office(hall, run, rng, later: _Later, now: datetime, out) -> None:
    """Back-office and manager work that is due."""
    due = sorted(t for t in later.todo if t[0] <= now)
    if not due:
        return
    later.todo = [t for t in later.todo if t[0] > now]
    for _, _, kind, key in due:
        if kind == "review":
            run(c.StartReview(receipt_no=key), now, BACK_OFFICE, out)
        elif kind == "decide":
            approved = rng.random() < 0.95
            if run(
                c.DecideCase(
                    receipt_no=key,
                    decision=c.Decision.APPROVED if approved else c.Decision.DISAPPROVED,
                    note="" if approved else "不符合条件",
                ),
                now,
                BACK_OFFICE,
                out,
            ):
                later.to_deliver.append(key)
        elif kind == "on_the_spot":
            run(c.ResolveOnTheSpot(rectification=key, note="当场解释并办结"), now, MANAGER, out)
        elif kind == "contact":
            run(c.ContactRater(rectification=key, note="已电话联系"), now, MANAGER, out)
        elif kind == "rectify":
            run(c.Rectify(rectification=key, measures="优化叫号安排"), now, MANAGER, out)
        elif kind == "revisit":
            run(c.Revisit(rectification=key, satisfaction=rng.choice((5, 4, 4, 3))), now, MANAGER, out)


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def drive_days(
    path: Path | str,
    config: HallConfig,
    days: Sequence[date],
    *,
    seed: int = 1,
    per_hour: float = 20.0,
    until: datetime | None = None,
    open_at: time = time(8, 30),
    close_at: time = time(17, 30),
) -> dict[str, int]:
    """Simulate ``days`` in ``path`` (created if absent; appended to otherwise). ``until``
    stops the last day part-way, with windows open and tickets waiting. Returns the commands
    the core refused, by command and error code (``CallNext: queue_empty`` is routine)."""
    refused: dict[str, int] = {}
    asyncio.run(_drive(Path(path), config, days, seed, per_hour, until, open_at, close_at, refused))
    return refused
