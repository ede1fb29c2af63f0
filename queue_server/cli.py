"""The ``hallops`` command line."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import signal
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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_serve(config, args))
    except KeyboardInterrupt:
        return 0


async def _serve(config: HallConfig, args: argparse.Namespace) -> int:
    from .server.app import HallServer
    from .store import SqliteStore

    store = SqliteStore(args.db, synchronous=args.synchronous)
    server = HallServer(config, store, host=args.host, port=args.port)
    from .store.sqlite import DatabaseLocked, SchemaTooNew

    try:
        await server.start()
    except (SchemaTooNew, DatabaseLocked) as exc:
        return _fail(str(exc))
    except OSError as exc:
        await store.close()
        if exc.errno == errno.EADDRINUSE:
            return _fail(f"port {args.port} on {args.host} is already in use")
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    base = f"http://{args.host}:{server.port}"
    print(f"HallOps {__version__} · {config.name} ({config.code})", flush=True)
    print(f"  websocket  ws://{args.host}:{server.port}/ws", flush=True)
    print(f"  wall       {base}/display/wall", flush=True)
    print(f"  kiosk      {base}/kiosk", flush=True)
    print(f"  terminal   {base}/terminal", flush=True)
    print(f"  health     {base}/healthz", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()
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

    from .server.auth import hash_token, new_token
    from .store import SqliteStore
    from .store.base import DeviceToken

    name = args.name or (f"{args.role}-{args.window}" if args.window else args.role)
    from .store.sqlite import SchemaTooNew

    store = SqliteStore(args.db, writer=False)  # while the server runs: token rows only
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
    from .sim import cli_simulate

    parser = argparse.ArgumentParser(prog="hallops", description="HallOps: hall operations for 政务服务中心")
    parser.add_argument("--version", action="version", version=f"hallops {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("serve", help="run the queue server")
    s.add_argument("--config", default=DEFAULT_CONFIG, help=f"hall config TOML (default {DEFAULT_CONFIG})")
    s.add_argument("--db", default=DEFAULT_DB, help=f"SQLite database file (default {DEFAULT_DB})")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8765)
    s.add_argument(
        "--synchronous",
        choices=["FULL", "NORMAL"],
        default="FULL",
        help="SQLite synchronous mode (FULL: every acknowledged command survives power loss)",
    )
    s.set_defaults(func=cmd_serve)

    t = sub.add_parser("token", help="mint a device token (prints only the token)")
    t.add_argument("--config", default=DEFAULT_CONFIG)
    t.add_argument("--db", default=DEFAULT_DB)
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
