"""Wait-time accuracy: the estimate given at issue against the wait that followed.

Runs simulated days of a hall (``hallops simulate``'s engine, in memory) and, for every
walk-in ticket (ordinary and 绿色通道; appointments are called by their slot, not by their
position), compares at issue time

* the server's estimate, ``estimated_wait_s`` of the ``ticket_issued`` event
  (``queue_server/hall/estimate.py``, ``Hall.capacity``), and
* the naive baseline ``position × mean service time ÷ open windows serving the queue``,
  computed at the same instant from the same hall state (the core's own mean service time;
  with no window open, the windows that serve the queue)

with the actual wait, from issue to the ticket's first call. Tickets never called are left
out (with the simulator's staff, every walk-in ticket is called the same day).

With ``--prototypes`` it also shows three candidate improvements, computed at the same
instants (nothing here changes the server):

* P1: the server's estimator with ``rules.ewma_alpha = 0.05`` instead of 0.2 (a config
  value: this one is the core itself, run on a second hall with that rule);
* P2: the same formula with a slower EWMA (0.05) of the *window cycle* (call to the next
  call of a window that stayed busy) instead of the occupancy of finished tickets;
* P3: P2, plus the first releases placed by the time each counter's ticket has already
  taken, plus the waiting appointments that become due before the expected call.

    .venv/bin/python benchmarks/bench_wait_estimate.py --days 20 --prototypes

Figures are recorded in docs/performance.md, "Wait-time estimate".
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import heapq
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from queue_server.calendar_data import load_calendar
from queue_server.config_file import load_hall_config
from queue_server.hall.config import HallConfig
from queue_server.hall.estimate import wait_seconds
from queue_server.hall.events import Event, TicketCalled, TicketIssued
from queue_server.hall.events import EventType as E
from queue_server.hall.hall import Hall
from queue_server.hall.states import TicketState, WindowState
from queue_server.sim.behaviour.profile import Profile, default_profile, load_overrides, with_mix
from queue_server.sim.engine import simulate
from queue_server.sim.plan import DEFAULT_PLAN
from queue_server.sim.stats import percentile
from queue_server.store import SqliteStore

PROTO_ALPHA = 0.05  # EWMA weight of the newest sample in the prototypes
BUSY_GAP_S = 60.0  # a call this soon after the window's release: it stayed busy in between


@dataclass
class Issue:
    queue: str
    at: float
    position: int
    core: float
    baseline: float
    protos: dict[str, float] = field(default_factory=dict)
    actual: float | None = None


class Recorder:
    """Observer of a simulation: estimates at issue, first calls, and what P2/P3 need
    (kept from the events alone, as the core could keep it in its state)."""

    def __init__(self, prototypes: bool) -> None:
        self.prototypes = prototypes
        self.issues: dict[str, Issue] = {}
        self.cycle: dict[str, float] = {}  # queue -> EWMA of the window cycle
        self.last_call: dict[int, tuple[float, str]] = {}  # window -> (at, queue of the ticket)
        self.released: dict[int, float] = {}  # window -> when its last ticket left the counter

    def __call__(self, events: list[Event], hall: Hall) -> None:
        for ev in events:
            at = ev.at.timestamp()
            if isinstance(ev, TicketIssued):
                if ev.priority == "appointment" or not ev.checked_in:
                    continue
                q, pos = ev.queue, ev.position
                issue = Issue(
                    queue=q,
                    at=at,
                    position=pos,
                    core=float(ev.estimated_wait_s),
                    baseline=pos * hall.service_times[q].mean_s / open_windows(hall, q),
                )
                if self.prototypes:
                    cycle = self.cycle.get(q, hall.service_times[q].mean_s)
                    issue.protos["P2"] = wait_seconds(pos - 1, cycle, hall.capacity(q))
                    issue.protos["P3"] = self.schedule(hall, q, ev.priority, pos, ev.at)
                self.issues[ev.ticket or ""] = issue
            elif isinstance(ev, TicketCalled) and ev.window is not None:
                issue = self.issues.get(ev.ticket or "")
                if issue is not None and issue.actual is None:
                    issue.actual = at - issue.at
                prev = self.last_call.get(ev.window)
                if prev is not None and at - self.released.get(ev.window, -1e18) < BUSY_GAP_S:
                    q0 = prev[1]
                    sample = min(at - prev[0], 4 * 3600.0)
                    mean = self.cycle.get(q0, hall.service_times[q0].mean_s)
                    self.cycle[q0] = (1 - PROTO_ALPHA) * mean + PROTO_ALPHA * sample
                self.last_call[ev.window] = (at, ev.queue)
            elif (
                ev.type in (E.SERVICE_FINISHED, E.TICKET_NO_SHOW, E.TICKET_TRANSFERRED)
                and ev.window is not None
            ):
                self.released[ev.window] = at
            elif ev.type in (E.WINDOW_PAUSED, E.WINDOW_CLOSED) and ev.window is not None:
                self.last_call.pop(ev.window, None)

    def schedule(self, hall: Hall, q: str, priority: str, position: int, now: datetime) -> float:
        """P3: the time of the ``position``-th window release (plus due appointments).

        Each open window serving the queue releases first when the ticket at its counter is
        done, judged by how long it has taken already, then every cycle ÷ its share of the
        queue (the share as ``Hall.capacity`` computes it); a window with nobody at the
        counter releases at once."""
        cycle = self.cycle.get(q, hall.service_times[q].mean_s)
        waiting_queues = {t.queue for t in hall.tickets.values() if t.state is TicketState.WAITING}
        firsts: list[tuple[float, float]] = []  # (first release in s from now, period in s)
        for wcfg in hall.config.windows:
            weights = {wq.queue: wq.weight for wq in wcfg.queues}
            win = hall.windows[wcfg.number]
            if q not in weights or win.state is not WindowState.OPEN:
                continue
            busy_with = {x for x in weights if x in waiting_queues} | {q}
            period = cycle * sum(weights[x] for x in busy_with) / weights[q]
            if win.current_ticket is None:
                firsts.append((0.0, period))
                continue
            cur = hall.tickets[win.current_ticket]
            mean = self.cycle.get(cur.queue, hall.service_times[cur.queue].mean_s)
            elapsed = (now - cur.called_at).total_seconds() if cur.called_at else 0.0
            firsts.append((residual(mean, elapsed), period))
        if not firsts:  # nobody open yet: the windows are expected to open, as the core assumes
            return wait_seconds(position - 1, cycle, hall.capacity(q))
        wait = kth_release(firsts, position)
        if priority != "appointment":
            # appointments already in the hall whose slot comes due before this call go first
            early = hall.config.rules.appointment_early_min * 60
            due = sum(
                1
                for t in hall.tickets.values()
                if t.queue == q
                and t.state is TicketState.WAITING
                and t.priority == "appointment"
                and t.checked_in
                and t.appointment_slot is not None
                and now.timestamp() < t.appointment_slot.timestamp() - early < now.timestamp() + wait
            )
            if due:
                wait = kth_release(firsts, position + due)
        return wait


def residual(mean: float, elapsed: float) -> float:
    """Expected rest of a service that has run ``elapsed`` s, for services of mean ``mean``
    and a coefficient of variation about 0.5: 0.62 × mean seen at a random moment, the
    plain remainder later on, never below a quarter of the mean for one running long."""
    return max(0.62 * mean - 0.5 * elapsed, mean - elapsed, 0.25 * mean)


def kth_release(firsts: list[tuple[float, float]], k: int) -> float:
    """When the k-th release (1-based) comes if window i releases at f_i, f_i + p_i, ..."""
    heap = list(firsts)
    heapq.heapify(heap)
    t = 0.0
    for _ in range(max(k, 1)):
        t, period = heapq.heappop(heap)
        heapq.heappush(heap, (t + period, period))
    return t


def open_windows(hall: Hall, queue: str) -> int:
    serving = [w.number for w in hall.config.windows if any(wq.queue == queue for wq in w.queues)]
    n = sum(1 for number in serving if hall.windows[number].state is WindowState.OPEN)
    return n or max(1, len(serving))


async def run(
    config: HallConfig, profile: Profile, args: argparse.Namespace, *, prototypes: bool
) -> list[Issue]:
    rec = Recorder(prototypes)
    store = SqliteStore(":memory:", synchronous="OFF")
    await store.open()
    try:
        result = await simulate(
            config,
            store,
            start=args.start,
            days=args.days,
            seed=args.seed,
            profile=profile,
            plan=DEFAULT_PLAN,
            calendar=load_calendar(),
            observers=[rec],
            batch_minutes=15,
        )
    finally:
        await store.close()
    print(
        f"simulated {result.first_day} … {result.last_day} ({result.working_days} working days, "
        f"ewma_alpha {config.rules.ewma_alpha}), {result.events} events",
        file=sys.stderr,
    )
    return [i for i in rec.issues.values() if i.actual is not None]


def figures(issues: list[Issue], estimate) -> tuple[float, float, float]:
    """MAE, 90th percentile of the absolute error, mean signed error (bias), in seconds."""
    err = [estimate(i) - i.actual for i in issues]
    absolute = [abs(e) for e in err]
    return sum(absolute) / len(err), percentile(absolute, 90), sum(err) / len(err)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default=str(ROOT / "data" / "halls" / "demo.toml"))
    ap.add_argument("--days", type=int, default=20, help="working days (default 20)")
    ap.add_argument("--start", type=date.fromisoformat, default=date(2026, 11, 2))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tickets-per-day", type=float, help="override the default daily volume")
    ap.add_argument("--profile", type=Path, help="TOML overriding simulation parameters (docs/simulator.md)")
    ap.add_argument("--prototypes", action="store_true", help="also show the prototype estimators P1-P3")
    args = ap.parse_args()
    t0 = time.perf_counter()
    config = load_hall_config(args.config)
    profile = default_profile(config)
    if args.profile:
        profile = load_overrides(profile, args.profile)
    if args.tickets_per_day:
        profile = with_mix(profile, total=args.tickets_per_day)
    issues = asyncio.run(run(config, profile, args, prototypes=args.prototypes))
    rows = [
        ("server (estimate.py)", figures(issues, lambda i: i.core)),
        ("baseline position×mean÷open", figures(issues, lambda i: i.baseline)),
    ]
    if args.prototypes:
        slow = dataclasses.replace(config, rules=dataclasses.replace(config.rules, ewma_alpha=PROTO_ALPHA))
        p1 = {round(i.at, 3): i.core for i in asyncio.run(run(slow, profile, args, prototypes=False))}
        same = [i for i in issues if round(i.at, 3) in p1]  # the same citizens; a few calls may differ
        rows += [
            (f"P1 server, ewma_alpha {PROTO_ALPHA}", figures(same, lambda i: p1[round(i.at, 3)])),
            (f"P2 cycle EWMA {PROTO_ALPHA}", figures(issues, lambda i: i.protos["P2"])),
            ("P3 P2 + counters + due appts", figures(issues, lambda i: i.protos["P3"])),
        ]
    base_mae = rows[1][1][0]
    mean_actual = sum(i.actual for i in issues) / len(issues)  # type: ignore[misc]
    print(
        f"\nwalk-in tickets called: {len(issues)}; mean actual wait {mean_actual / 60:.1f} min "
        f"({args.days} working days from {args.start}, seed {args.seed})"
    )
    print(f"{'estimator':<32}{'MAE min':>9}{'p90 |err| min':>15}{'bias min':>10}{'MAE vs baseline':>17}")
    for label, (mae, p90, bias) in rows:
        print(
            f"{label:<32}{mae / 60:>9.2f}{p90 / 60:>15.2f}{bias / 60:>10.2f}{100 * (mae / base_mae - 1):>+16.1f}%"
        )
    print(
        f"\n{'position at issue':<20}{'n':>7}{'server MAE':>12}{'baseline MAE':>14}"
        + (f"{'P3 MAE':>9}" if args.prototypes else "")
    )
    for label, part in (
        ("1 (nobody ahead)", [i for i in issues if i.position == 1]),
        ("2 or more", [i for i in issues if i.position > 1]),
    ):
        if part:
            print(
                f"{label:<20}{len(part):>7}{figures(part, lambda i: i.core)[0] / 60:>12.2f}"
                f"{figures(part, lambda i: i.baseline)[0] / 60:>14.2f}"
                + (f"{figures(part, lambda i: i.protos['P3'])[0] / 60:>9.2f}" if args.prototypes else "")
            )
    by_queue: dict[str, list[Issue]] = defaultdict(list)
    for i in issues:
        by_queue[i.queue].append(i)
    print(f"\n{'queue':<6}{'n':>6}{'actual min':>12}{'server MAE':>12}{'baseline MAE':>14}")
    for q in sorted(by_queue):
        qi = by_queue[q]
        print(
            f"{q:<6}{len(qi):>6}{sum(i.actual for i in qi) / len(qi) / 60:>12.1f}"  # type: ignore[misc]
            f"{figures(qi, lambda i: i.core)[0] / 60:>12.2f}{figures(qi, lambda i: i.baseline)[0] / 60:>14.2f}"
        )
    print(f"\n({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
