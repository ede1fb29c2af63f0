"""The city's commands: ``hallops gateway`` (a display gateway) and ``hallops city`` (a local
trial city in one command). Parsing needs no city extra; running does, and says so."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any

CITY_EXTRA_HINT = "the city commands need the city extra: pip install 'hallops[city]'"


def city_extra_missing() -> str | None:
    try:
        import nats  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError as exc:
        return f"{CITY_EXTRA_HINT} ({exc.name} is missing)"
    return None


def cmd_gateway(args: argparse.Namespace) -> int:
    missing = city_extra_missing()
    if missing:
        print(f"hallops: {missing}", file=sys.stderr)
        return 1
    from .gateway import run_gateway

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(run_gateway(args.nats, host=args.host, port=args.port))
    except KeyboardInterrupt:
        return 0


def add_parser(sub: Any) -> None:
    """``hallops gateway --nats nats://HOST:PORT [--host H] [--port P]``."""
    g = sub.add_parser("gateway", help="a display gateway of a city of halls (docs/city.md)")
    g.add_argument("--nats", required=True, help="nats://HOST:PORT of the city's NATS")
    g.add_argument("--host", default="127.0.0.1")
    g.add_argument("--port", type=int, default=8770)
    g.set_defaults(func=cmd_gateway)


def cmd_city(args: argparse.Namespace) -> int:
    missing = city_extra_missing()
    if missing:
        print(f"hallops: {missing}", file=sys.stderr)
        return 1
    from pathlib import Path

    from .trial import CityOptions, run_city

    opts = CityOptions(
        configs=tuple(Path(c) for c in args.config),
        folder=Path(args.folder),
        speed=args.speed,
        seed=args.seed,
        fresh=args.fresh,
        dashboard=args.dashboard,
        dashboard_port=args.dashboard_port,
        gateways=args.gateways,
        seconds=args.seconds,
    )
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(run_city(opts))
    except KeyboardInterrupt:
        return 0


def add_city_parser(sub: Any) -> None:
    """``hallops city``: a local trial city (PostgreSQL, NATS, three halls, two gateways, the
    simulator and the city dashboard) in one command."""
    from .trial import DEFAULT_FOLDER, TRIAL_HALLS

    c = sub.add_parser(
        "city", help="a local trial city in one command: three halls, gateways, dashboard (docs/city.md)"
    )
    c.add_argument(
        "--config", nargs="+", default=list(TRIAL_HALLS), help="the halls' configs (default: three halls)"
    )
    c.add_argument(
        "--folder", default=DEFAULT_FOLDER, help=f"PostgreSQL data and logs (default {DEFAULT_FOLDER})"
    )
    c.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second (default 60)")
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--fresh", action="store_true", help="start from an empty city database")
    c.add_argument("--gateways", type=int, default=2)
    c.add_argument("--no-dashboard", dest="dashboard", action="store_false")
    c.add_argument("--dashboard-port", type=int, default=8501)
    c.add_argument("--seconds", type=float, help=argparse.SUPPRESS)  # tests: stop after this long
    c.set_defaults(func=cmd_city)
