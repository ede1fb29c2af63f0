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
