"""Simulator speed: CPU seconds per simulated working day of the demo hall, cases and ratings on.

Runs ``hallops simulate``'s engine (``queue_server.sim.engine.simulate``, the same call the
CLI makes, with the CLI's ``WaitStats`` observer) for ``--days`` working days into a fresh
SQLite file (WAL, ``synchronous=NORMAL`` as ``hallops simulate``), and prints

* CPU seconds (``time.process_time()``: user + system of every thread of the process, so the
  SQLite writer thread is counted; not wall time, which on a shared machine says more about
  the neighbours than about us) per simulated working day, over the whole run and over its
  last quarter (open cases accumulate, so later days cost more than the first ones);
* the extrapolated year (250 working days) from the last quarter's figure;
* the ratio against ``BASELINE_CPU_PER_DAY``: the same command's figure for the code before
  the speed work (commit 97f4ba5), pinned below;
* a bare floor measured in the same run: writing the same events rows into a fresh SQLite
  file with plain ``sqlite3.executemany``, one transaction per simulated minute, i.e. what the
  database alone costs.

    .venv/bin/python benchmarks/bench_simulator.py                 # 20 working days from 2026-01-05
    .venv/bin/python benchmarks/bench_simulator.py --days 250      # a year
    .venv/bin/python benchmarks/bench_simulator.py --days 2 --profile benchmarks/profiles/simulator-after

``--profile PREFIX`` runs under cProfile (main thread's CPU time) and writes ``PREFIX.prof``
and ``PREFIX.txt`` (top functions by cumulative and by own time); profiled figures are slower.
Figures are recorded in docs/performance.md, section "Simulator".
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import sqlite3
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from queue_server.calendar_data import load_calendar
from queue_server.config_file import load_hall_config
from queue_server.sim.behaviour.profile import default_profile
from queue_server.sim.engine import simulate
from queue_server.sim.plan import DEFAULT_PLAN
from queue_server.sim.stats import WaitStats
from queue_server.store import SqliteStore

# CPU seconds per simulated working day of the code before the speed work (commit 97f4ba5),
# `bench_simulator.py --days 20` (2026-01-05 …, seed 1): whole run, and its last quarter.
BASELINE_CPU_PER_DAY = 11.273
BASELINE_CPU_PER_DAY_LAST_QUARTER = 15.805
YEAR = 250


class DayClock:
    """Progress callback: the CPU time at the end of each working day."""

    def __init__(self) -> None:
        self.t0 = time.process_time()
        self.marks: list[float] = []

    def __call__(self, done: int, total: int, day: date, elapsed: float) -> None:
        if done > len(self.marks):
            self.marks.append(time.process_time() - self.t0)


async def run(args: argparse.Namespace, db: Path) -> tuple[DayClock, WaitStats, object]:
    config = load_hall_config(ROOT / "data" / "halls" / "demo.toml")
    calendar = load_calendar()
    from queue_server.matters import load_matters

    matters = {m.code: m for m in load_matters()}
    stats = WaitStats(config)
    store = SqliteStore(db, synchronous="NORMAL")
    await store.open()
    try:
        clock = DayClock()
        result = await simulate(
            config,
            store,
            start=args.start,
            days=args.days,
            seed=args.seed,
            profile=default_profile(config),
            plan=DEFAULT_PLAN,
            calendar=calendar,
            observers=[stats.observe],
            progress=clock,
            batch_minutes=args.batch_minutes,
            matters=matters,
        )
    finally:
        await store.close()
    return clock, stats, result


def floor(db: Path, scratch: Path) -> float:
    """CPU seconds to write the run's events with plain sqlite3, a transaction per minute."""
    src = sqlite3.connect(db)
    rows = src.execute(
        "SELECT type, at, ts, service_date, actor, ticket, window, data FROM events ORDER BY id"
    ).fetchall()
    schema = src.execute("SELECT sql FROM sqlite_master WHERE name = 'events'").fetchone()[0]
    src.close()
    dst = sqlite3.connect(scratch, isolation_level=None)
    dst.execute("PRAGMA journal_mode=WAL")
    dst.execute("PRAGMA synchronous=NORMAL")
    dst.execute(schema)
    t0 = time.process_time()
    by_minute: dict[int, list[tuple]] = {}
    for r in rows:
        by_minute.setdefault(int(r[2] // 60), []).append(r)
    for batch in by_minute.values():
        dst.execute("BEGIN IMMEDIATE")
        dst.executemany(
            "INSERT INTO events (type, at, ts, service_date, actor, ticket, window, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            batch,
        )
        dst.execute("COMMIT")
    spent = time.process_time() - t0
    dst.close()
    return spent


def write_profile(prof: cProfile.Profile, prefix: str, header: str) -> None:
    path = Path(prefix)
    path.parent.mkdir(parents=True, exist_ok=True)
    prof.dump_stats(f"{prefix}.prof")
    out = io.StringIO()
    out.write(header + "\n")
    for key, title in (("cumulative", "by cumulative time"), ("tottime", "by own (self) time")):
        out.write(f"\n==== top 40 {title} ====\n")
        stats = pstats.Stats(prof, stream=out)
        stats.strip_dirs().sort_stats(key).print_stats(40)
    Path(f"{prefix}.txt").write_text(out.getvalue())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--days", type=int, default=20, help="working days to simulate (default 20)")
    p.add_argument(
        "--start", type=date.fromisoformat, default=date(2026, 1, 5), help="first day (2026-01-05)"
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--batch-minutes", type=int, default=1, help="as hallops simulate (default 1)")
    p.add_argument("--profile", metavar="PREFIX", help="run under cProfile; write PREFIX.prof and PREFIX.txt")
    p.add_argument("--json", type=Path, help="write the figures to this file")
    args = p.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "sim.db"
        prof = cProfile.Profile(time.thread_time) if args.profile else None
        cpu0, wall0 = time.process_time(), time.perf_counter()
        if prof is not None:
            prof.enable()
        clock, stats, result = asyncio.run(run(args, db))
        if prof is not None:
            prof.disable()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        bare = floor(db, Path(tmp) / "floor.db")

    marks = clock.marks
    per_day = cpu / args.days
    q = max(1, args.days // 4)
    last_q = (marks[-1] - marks[-1 - q]) / q if len(marks) > q else per_day
    total = stats.total()
    figures = {
        "days": args.days,
        "start": args.start.isoformat(),
        "seed": args.seed,
        "calendar_days": result.days,
        "events": result.events,
        "commits": result.commits,
        "tickets": total.issued,
        "cases_accepted": stats.cases["case_accepted"],
        "ratings": stats.ratings,
        "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "cpu_per_day_s": round(per_day, 3),
        "cpu_per_day_last_quarter_s": round(last_q, 3),
        "year_cpu_min": round(last_q * YEAR / 60, 2),
        "floor_cpu_s": round(bare, 2),
    }
    print(
        f"simulated {args.days} working days ({result.days} calendar days) from {args.start}, seed {args.seed}: "
        f"{total.issued:,} tickets, {stats.cases['case_accepted']:,} cases accepted, {stats.ratings:,} ratings, "
        f"{result.events:,} events in {result.commits:,} transactions"
    )
    print(
        f"CPU (time.process_time, all threads): {cpu:.1f} s; wall {wall:.1f} s (shared machine: wall is not the figure)"
    )
    print(f"CPU per working day: {per_day:.3f} s over the run, {last_q:.3f} s over its last {q} days")
    print(f"extrapolated year ({YEAR} working days, last-quarter rate): {last_q * YEAR / 60:.2f} CPU-minutes")
    print(
        f"floor: the same {result.events:,} event rows with plain sqlite3, a transaction per minute: {bare:.2f} s "
        f"({cpu / max(bare, 1e-9):.1f}× the floor)"
    )
    if prof is not None:
        print("(under cProfile: no comparison with the baseline)")
    elif BASELINE_CPU_PER_DAY and args.days == 20 and args.start == date(2026, 1, 5) and args.seed == 1:
        print(
            f"before (97f4ba5, same command with --batch-minutes 1): {BASELINE_CPU_PER_DAY:.3f} s per day, "
            f"{BASELINE_CPU_PER_DAY_LAST_QUARTER:.3f} s over the last quarter → "
            f"{BASELINE_CPU_PER_DAY / per_day:.1f}× faster over the run, "
            f"{BASELINE_CPU_PER_DAY_LAST_QUARTER / last_q:.1f}× over the last quarter"
        )
    elif BASELINE_CPU_PER_DAY:
        print(
            f"before (97f4ba5, 20 days from 2026-01-05, seed 1): {BASELINE_CPU_PER_DAY:.3f} s per day "
            f"→ {BASELINE_CPU_PER_DAY / per_day:.1f}× (other days or seed: indicative only)"
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    if prof is not None:
        write_profile(
            prof,
            args.profile,
            f"bench_simulator.py --days {args.days} --start {args.start} "
            f"--seed {args.seed}: CPU {cpu:.1f} s under cProfile (timer: main thread CPU time)",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
