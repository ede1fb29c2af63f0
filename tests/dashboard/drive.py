"""Fill a hall database by driving the pure core, the way the server does.

Every step of simulated time runs the commands due in that step through ``Hall.handle``,
then ``recorder.batch_for`` and ``SqliteStore.commit`` write them in one transaction (as
``HallServer._run_batch`` does). Staff log in and open their windows in the morning, call
the next ticket when free, start and finish service, recall and mark no-shows, pause for
lunch and now and then for other reasons, and log out in the evening. Deterministic for a
seed. This is a small test driver, not the simulator (``hallops simulate``).
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

from queue_server.hall import commands as c
from queue_server.hall.config import HallConfig, StaffRole
from queue_server.hall.errors import HallError
from queue_server.hall.events import Event
from queue_server.hall.hall import Hall
from queue_server.recorder import batch_for, rebuild_hall
from queue_server.store import SqliteStore

STEP = timedelta(seconds=30)
PAUSE_REASONS = ("业务培训", "系统故障", "临时离岗")


@dataclass
class _Desk:
    number: int
    actor: c.Actor
    phase: str = "closed"  # closed | free | called | serving | paused | lunch
    until: datetime | None = None
    no_show: bool = False


async def _drive(path: Path, config: HallConfig, days: Sequence[date], seed: int, per_hour: float,
                 until: datetime | None, open_at: time, close_at: time) -> None:
    rng = random.Random(seed)
    tz = ZoneInfo(config.timezone)
    store = SqliteStore(path, synchronous="OFF")
    await store.open()
    hall = rebuild_hall(config, await store.load())
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
                            if run(c.PauseWindow(window=d.number, reason=rng.choice(PAUSE_REASONS)), now, d.actor, out):
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
                            mean = service_mean.get(hall.windows[d.number].current_ticket and
                                                    hall.tickets[hall.windows[d.number].current_ticket].queue, 300)
                            secs = max(30.0, rng.lognormvariate(math.log(mean or 300), 0.5))
                            d.phase, d.until = "serving", now + timedelta(seconds=secs)
                    elif d.phase == "serving" and now >= d.until:
                        run(c.FinishService(window=d.number), now, d.actor, out)
                        d.phase = "free"
                    elif d.phase == "paused" and now >= d.until:
                        run(c.ResumeWindow(window=d.number), now, d.actor, out)
                        d.phase = "free"
                    elif d.phase == "lunch" and now >= lunch[1]:
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


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def drive_days(path: Path | str, config: HallConfig, days: Sequence[date], *, seed: int = 1,
               per_hour: float = 20.0, until: datetime | None = None,
               open_at: time = time(8, 30), close_at: time = time(17, 30)) -> None:
    """Simulate ``days`` in ``path`` (created if absent; appended to otherwise). ``until``
    stops the last day part-way, with windows open and tickets waiting."""
    asyncio.run(_drive(Path(path), config, days, seed, per_hour, until, open_at, close_at))
