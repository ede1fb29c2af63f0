"""The ``hallops`` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__

if TYPE_CHECKING:
    from .hall.config import HallConfig

DEFAULT_CONFIG = "data/halls/demo.toml"
DEFAULT_DB = "var/hall.db"


def _fail(message: str, code: int = 1) -> int:
    print(f"hallops: {message}", file=sys.stderr)
    return code


def _load_config(path: str) -> HallConfig | None:
    from .config_file import ConfigError, load_hall_config

    try:
        return load_hall_config(Path(path))
    except ConfigError as err:
        print(f"hallops: invalid hall config {path}:\n{err}", file=sys.stderr)
        return None


# ---------------------------------------------------------------------- serve


def cmd_serve(args: argparse.Namespace) -> int:
    config = _load_config(args.config)
    if config is None:
        return 1
    from .city.cli_city import city_extra_missing
    from .store.open import is_postgres_url

    if args.nats or args.standby or is_postgres_url(args.db):
        missing = city_extra_missing()
        if missing:
            return _fail(missing)
    from .city.serve import run_hall_server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(
            run_hall_server(
                config,
                db=args.db,
                host=args.host,
                port=args.port,
                standby=args.standby,
                nats=args.nats,
                synchronous=args.synchronous,
            )
        )
    except KeyboardInterrupt:
        return 0


# ---------------------------------------------------------------------- token


def cmd_token(args: argparse.Namespace) -> int:
    config = _load_config(args.config)
    if config is None:
        return 1
    if args.role in ("window", "rating_pad"):
        if args.window is None:
            return _fail(f"--role {args.role} needs --window N")
        if config.window(args.window) is None:
            return _fail(f"no window {args.window} in {args.config}")
    elif args.window is not None:
        return _fail("--window goes only with --role window or --role rating_pad")
    return asyncio.run(_token(config, args))


async def _token(config: HallConfig, args: argparse.Namespace) -> int:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from .city.cli_city import city_extra_missing
    from .server.auth import hash_token, new_token
    from .store.base import DeviceToken
    from .store.open import is_postgres_url, store_for
    from .store.sqlite import SchemaTooNew

    name = args.name or (f"{args.role}-{args.window}" if args.window else args.role)
    if is_postgres_url(args.db) and (missing := city_extra_missing()):
        return _fail(missing)
    store = store_for(args.db, hall=config.code, writer=False)
    try:
        await store.open()
    except SchemaTooNew as exc:
        return _fail(str(exc))
    try:
        token = new_token()
        await store.add_token(
            hash_token(token),
            DeviceToken(role=args.role, window=args.window, name=name),
            datetime.now(ZoneInfo(config.timezone)).isoformat(),
        )
    finally:
        await store.close()
    print(token)
    return 0


# ---------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    from dashboard import cli_dashboard

    from . import cli_calendar, config_file, passwords
    from .city import cli_city
    from .sim import cli_simulate

    parser = argparse.ArgumentParser(prog="hallops", description="HallOps: hall operations for 政务服务中心")
    parser.add_argument("--version", action="version", version=f"hallops {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("serve", help="run the queue server")
    s.add_argument("--config", default=DEFAULT_CONFIG, help=f"hall config TOML (default {DEFAULT_CONFIG})")
    s.add_argument(
        "--db",
        default=DEFAULT_DB,
        help=f"SQLite database file (default {DEFAULT_DB}) or postgresql://USER@HOST:PORT/DB (a city, docs/city.md)",
    )
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8765)
    s.add_argument(
        "--synchronous",
        choices=["FULL", "NORMAL"],
        default="FULL",
        help="SQLite synchronous mode (FULL: every acknowledged command survives power loss)",
    )
    s.add_argument(
        "--standby",
        action="store_true",
        help="PostgreSQL only: wait for the hall's running server to stop, then serve (docs/city.md)",
    )
    s.add_argument(
        "--nats", metavar="nats://HOST:PORT", help="publish committed events to the display gateways"
    )
    s.set_defaults(func=cmd_serve)

    t = sub.add_parser("token", help="mint a device token (prints only the token)")
    t.add_argument("--config", default=DEFAULT_CONFIG)
    t.add_argument("--db", default=DEFAULT_DB, help="SQLite file or postgresql://... (the hall's database)")
    t.add_argument(
        "--role",
        required=True,
        choices=["kiosk", "display", "window", "rating_pad", "manager"],
        help="rating_pad: the 好差评 pad of one window (with --window N)",
    )
    t.add_argument("--window", type=int)
    t.add_argument("--name")
    t.set_defaults(func=cmd_token)

    config_file.add_parser(sub)
    passwords.add_parser(sub)
    cli_calendar.add_parser(sub)
    cli_simulate.add_parser(sub)
    cli_dashboard.add_parser(sub)
    cli_city.add_parser(sub)
    cli_city.add_city_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    for attr in ("config",):
        value = getattr(args, attr, None)
        if isinstance(value, str) and args.command in ("serve", "token") and not Path(value).is_file():
            return _fail(f"config file not found: {value}")
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
