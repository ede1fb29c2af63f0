"""``hallops simulate`` and ``hallops demo``.

The main CLI registers both with ``cli_simulate.add_parser(subparsers)``; ``args.func(args)``
returns the exit code.

    hallops simulate --days 20 --db var/sim.db               # 20 working days of demo.toml
    hallops simulate --days 20 --plan data/plans/peak-extra-a.toml   # what-if, side by side
    hallops demo                                             # server + simulator + dashboard
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

DEFAULT_CONFIG = "data/halls/demo.toml"
DEFAULT_SIM_DB = "var/sim.db"
DEFAULT_DEMO_DB = "var/demo.db"
MEMORY = ":memory:"

__all__ = ["add_parser"]


def add_parser(subparsers: Any) -> None:
    s = subparsers.add_parser(
        "simulate",
        help="simulate hall days into a database (optionally compare a staffing plan)",
        description=(
            "Discrete-event simulation of hall days driving the real hall core; the events are "
            "stored like a real day's. Deterministic for a given --seed and --start. "
            "Model and parameters: docs/simulator.md."
        ),
    )
    s.add_argument("--config", default=DEFAULT_CONFIG, help=f"hall config TOML (default {DEFAULT_CONFIG})")
    s.add_argument(
        "--db",
        help=f"SQLite database to write (default {DEFAULT_SIM_DB}; with --plan: none, "
        "in memory); an existing one is continued from the day after its last",
    )
    s.add_argument(
        "--days",
        type=_positive,
        default=1,
        help="working days (工作日) to simulate; the "
        "weekends and holidays between them are simulated too (default 1)",
    )
    s.add_argument(
        "--start",
        type=_date,
        help="first day, YYYY-MM-DD (default: the day after the database's last day, else today)",
    )
    s.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    s.add_argument(
        "--plan",
        type=Path,
        help="what-if staffing plan TOML: run the same arrivals with the "
        "config's staffing and with the plan, print both side by side",
    )
    s.add_argument("--plan-db", help="SQLite database for the --plan run (default: in memory)")
    s.add_argument("--profile", type=Path, help="TOML overriding model parameters (docs/simulator.md)")
    s.add_argument(
        "--mix", help="queue mix as relative weights, e.g. A=40,B=10,C=20 (default from the config)"
    )
    s.add_argument(
        "--tickets-per-day",
        type=float,
        help="tickets on a plain weekday, all queues (default "
        "from the config: 75%% of what the windows can serve)",
    )
    s.add_argument("--fresh", action="store_true", help="delete the database(s) first")
    s.add_argument(
        "--batch-minutes",
        type=_positive,
        default=1,
        help="commit the events of this many simulated minutes per transaction (default 1)",
    )
    s.add_argument(
        "--synchronous",
        choices=["FULL", "NORMAL"],
        default="NORMAL",
        help="SQLite synchronous mode (default NORMAL: simulated data, speed first)",
    )
    prog = s.add_mutually_exclusive_group()
    prog.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="show progress on stderr (default: when stderr is a terminal)",
    )
    prog.add_argument("--no-progress", dest="progress", action="store_false")
    s.set_defaults(func=cmd_simulate)

    d = subparsers.add_parser(
        "demo",
        help="live demo: queue server on a simulated clock fed by the simulator over the websocket",
        description=(
            "Starts the queue server on a simulated clock, the simulator as its kiosk and window "
            "clients, and the dashboard; prints the URLs. Ctrl-C stops. "
            "A second run continues the same database where the first stopped."
        ),
    )
    d.add_argument("--config", default=DEFAULT_CONFIG, help=f"hall config TOML (default {DEFAULT_CONFIG})")
    d.add_argument(
        "--db", type=Path, default=Path(DEFAULT_DEMO_DB), help=f"SQLite database (default {DEFAULT_DEMO_DB})"
    )
    d.add_argument("--host", default="127.0.0.1")
    d.add_argument("--port", type=int, default=8765, help="server port (0: any free port)")
    d.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second (default 60)")
    d.add_argument("--seed", type=int, default=1)
    d.add_argument("--fresh", action="store_true", help="start a new database instead of continuing")
    d.add_argument(
        "--no-dashboard", dest="dashboard", action="store_false", help="do not start the dashboard"
    )
    d.add_argument("--dashboard-port", type=int, default=8501)
    d.add_argument(
        "--history",
        type=int,
        default=2,
        help="a new database: working days simulated before the live day, so every page has data (default 2)",
    )
    d.add_argument("--seconds", type=float, help="stop after this many real seconds")
    d.add_argument(
        "--start",
        "--date",
        dest="start",
        type=_date,
        help="first day of a new database, YYYY-MM-DD (default: today "
        "if a working day, else the next one); a continued database goes on where it stopped",
    )
    d.add_argument(
        "--password", default="hallops-demo", help="the staff accounts' password (demo hall: hallops-demo)"
    )
    d.add_argument("--synchronous", choices=["FULL", "NORMAL"], default="NORMAL")
    d.add_argument("--profile", type=Path, help="TOML overriding model parameters")
    d.set_defaults(func=cmd_demo)


# ---------------------------------------------------------------------- argument types


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return n


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _fail(message: str) -> int:
    print(f"hallops: {message}", file=sys.stderr)
    return 1


def _load(args: argparse.Namespace):
    """Config, profile and calendar, or an error message."""
    from ..calendar_data import load_calendar
    from ..config_file import ConfigError, load_hall_config
    from .behaviour.profile import default_profile, load_overrides, parse_mix, with_mix

    path = Path(args.config)
    if not path.is_file():
        return None, f"config file not found: {path}"
    try:
        config = load_hall_config(path)
    except ConfigError as err:
        return None, f"invalid hall config {path}:\n{err}"
    try:
        profile = default_profile(config)
        if getattr(args, "profile", None):
            profile = load_overrides(profile, args.profile)
        mix = parse_mix(args.mix) if getattr(args, "mix", None) else None
        total = getattr(args, "tickets_per_day", None)
        if mix or total is not None:
            profile = with_mix(profile, total=total, mix=mix)
        calendar = load_calendar()
    except (OSError, ValueError) as err:
        return None, str(err)
    return (config, profile, calendar), ""


# ---------------------------------------------------------------------- simulate


def cmd_simulate(args: argparse.Namespace) -> int:
    loaded, problem = _load(args)
    if loaded is None:
        return _fail(problem)
    config, profile, calendar = loaded
    from .plan import DEFAULT_PLAN, PlanError, load_plan

    plan = None
    if args.plan is not None:
        try:
            plan = load_plan(args.plan, config)
        except PlanError as err:
            return _fail(str(err))
    db = args.db or (MEMORY if plan is not None else DEFAULT_SIM_DB)
    try:
        return asyncio.run(
            _simulate(config, profile, calendar, args, db, plan or DEFAULT_PLAN, plan is not None)
        )
    except KeyboardInterrupt:
        print("\ninterrupted: the days committed so far are in the database", file=sys.stderr)
        return 130


def day_end(day: date, timezone: str) -> datetime:
    """The last second of ``day`` in the hall's zone."""
    return datetime.combine(day, dtime(23, 59, 59), ZoneInfo(timezone))


async def _simulate(config, profile, calendar, args, db: str, plan, compare: bool) -> int:
    from ..store import SqliteStore
    from ..store.clock import META_KEY as CLOCK_META_KEY
    from ..store.clock import clock_value
    from .engine import simulate
    from .plan import DEFAULT_PLAN
    from .stats import WaitStats, cases_line, compare_table, summary_table

    if args.fresh:
        for path in (db, args.plan_db):
            if path and path != MEMORY:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
    runs = [("config", DEFAULT_PLAN, db)]
    if compare:
        runs.append((plan.name, plan, args.plan_db or MEMORY))
    start = args.start
    stats_of: list[WaitStats] = []
    for label, run_plan, path in runs:
        store = SqliteStore(path, synchronous=args.synchronous)
        await store.open()
        try:
            loaded = await store.load()
            last = loaded.service_date
            if compare and loaded.last_event_id:
                return _fail(f"{path} already holds events: a comparison needs new databases (add --fresh)")
            run_start = start
            if run_start is None:
                run_start = (
                    last + timedelta(days=1) if last else datetime.now(ZoneInfo(config.timezone)).date()
                )
            elif last is not None and run_start <= last:
                return _fail(f"{path} already holds days up to {last}: use a later --start or --fresh")
            start = run_start
            stats = WaitStats(run_plan.hall_config(config))
            show = args.progress if args.progress is not None else sys.stderr.isatty()
            progress = _Progress(f"{label}", args.days, tty=sys.stderr.isatty()) if show else None
            t0 = time.perf_counter()
            result = await simulate(
                config,
                store,
                start=run_start,
                days=args.days,
                seed=args.seed,
                profile=profile,
                plan=run_plan,
                calendar=calendar,
                observers=[stats.observe],
                progress=progress,
                batch_minutes=args.batch_minutes,
            )
            elapsed = time.perf_counter() - t0
            if result.last_day is not None:  # the hall's clock stands at the end of the last day
                await store.set_meta(
                    CLOCK_META_KEY, clock_value(day_end(result.last_day, config.timezone), 0.0)
                )
        finally:
            await store.close()
        if progress is not None:
            progress.done()
        where = "in memory" if path == MEMORY else path
        print(
            f"{label}: {result.first_day} … {result.last_day}, {result.days} days ({result.working_days} "
            f"working), {result.events} events in {result.commits} transactions, {elapsed:.1f} s "
            f"({result.events / max(elapsed, 1e-9):,.0f} events/s) → {where}"
        )
        if result.turned_away:
            print(f"  turned away at the kiosk: {dict(sorted(result.turned_away.items()))}")
        if result.unexpected:
            print(f"  unexpected refusals: {dict(sorted(result.unexpected.items()))}")
        stats_of.append(stats)
        if not compare:
            print(summary_table(stats))
            if cases_line(stats):
                print(cases_line(stats))
    if compare:
        print()
        print(compare_table(stats_of[0], stats_of[1], "config", "plan"))
    return 0


class _Progress:
    """A one-line progress bar on stderr (a line every 10% when stderr is not a terminal)."""

    def __init__(self, label: str, total: int, *, tty: bool) -> None:
        self.label = label
        self.total = total
        self.tty = tty
        self._last_decile = -1

    def __call__(self, done: int, total: int, day: date, elapsed: float) -> None:
        frac = done / total if total else 1.0
        eta = elapsed / frac - elapsed if frac > 0 else 0.0
        if self.tty:
            bar = "#" * int(frac * 30) + "." * (30 - int(frac * 30))
            sys.stderr.write(
                f"\r{self.label} [{bar}] {done}/{total} working days · {day} · "
                f"{elapsed:.0f} s, about {eta:.0f} s left "
            )
            sys.stderr.flush()
        elif int(frac * 10) > self._last_decile:
            self._last_decile = int(frac * 10)
            print(
                f"{self.label}: {done}/{total} working days ({day}), {elapsed:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
            sys.stderr.flush()


# ---------------------------------------------------------------------- demo


def cmd_demo(args: argparse.Namespace) -> int:
    loaded, problem = _load(args)
    if loaded is None:
        return _fail(problem)
    config, profile, calendar = loaded
    if args.speed <= 0:
        return _fail("--speed must be more than 0")
    from .live import DemoOptions, run_demo

    opts = DemoOptions(
        config_path=Path(args.config),
        db=args.db,
        host=args.host,
        port=args.port,
        speed=args.speed,
        seed=args.seed,
        fresh=args.fresh,
        dashboard=args.dashboard,
        dashboard_port=args.dashboard_port,
        seconds=args.seconds,
        start=args.start,
        password=args.password,
        synchronous=args.synchronous,
        history_days=args.history,
    )
    args.db.parent.mkdir(parents=True, exist_ok=True)
    try:
        return asyncio.run(run_demo(config, profile, calendar, opts))
    except KeyboardInterrupt:
        return 0
