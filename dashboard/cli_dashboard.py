"""``hallops dashboard``: run the manager dashboard (Streamlit) on a hall database.

Streamlit runs headless with usage statistics off and nothing fetched at run time; the app
finds its database in ``HALLOPS_DB`` and its hall config in ``HALLOPS_CONFIG``. This module
imports neither Streamlit nor DuckDB, so ``hallops --help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .settings import CONFIG_ENV, DB_ENV

APP = Path(__file__).resolve().parent / "streamlit_app.py"
DEFAULT_DB = "var/hall.db"
DEFAULT_CONFIG = "data/halls/demo.toml"
DEFAULT_PORT = 8501


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("dashboard", help="run the manager dashboard (Streamlit) on a hall database")
    p.add_argument(
        "--db",
        default=DEFAULT_DB,
        help=f"the queue server's SQLite database (default {DEFAULT_DB}),"
        " or a city's postgresql://… (docs/city.md)",
    )
    p.add_argument(
        "--config",
        nargs="+",
        default=[os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG],
        help=f"hall config TOML (default ${CONFIG_ENV} or {DEFAULT_CONFIG}); with a city's database,"
        " one per hall",
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"HTTP port (default {DEFAULT_PORT})")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    p.set_defaults(func=cmd_dashboard)
    return p


def streamlit_argv(app: Path, *, host: str, port: int) -> list[str]:
    """The ``streamlit run`` command line: headless, no usage statistics, no file watcher."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--browser.gatherUsageStats",
        "false",
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--theme.base",
        "light",
    ]


def cmd_dashboard(args: argparse.Namespace) -> int:
    from queue_server.config_file import ConfigError, load_hall_config

    city = args.db.startswith(("postgresql://", "postgres://"))  # a city's database (docs/city.md)
    db = Path(args.db)
    if not city and not db.is_file():
        print(
            f"hallops: database not found: {db} (start the server with hallops serve --db {db} first)",
            file=sys.stderr,
        )
        return 1
    if not city and len(args.config) > 1:
        print("hallops: one --config for one hall's SQLite database", file=sys.stderr)
        return 1
    for config in args.config:
        try:
            load_hall_config(Path(config))
        except FileNotFoundError:
            print(f"hallops: config file not found: {config}", file=sys.stderr)
            return 1
        except ConfigError as err:
            print(f"hallops: invalid hall config {config}:\n{err}", file=sys.stderr)
            return 1
    env = dict(os.environ)
    env[DB_ENV] = args.db if city else str(db.resolve())
    env[CONFIG_ENV] = os.pathsep.join(str(Path(c).resolve()) for c in args.config)
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    argv = streamlit_argv(APP, host=args.host, port=args.port)
    print(f"HallOps 管理看板: http://{args.host}:{args.port}/ ({args.db if city else db})", flush=True)
    if os.name == "posix":
        os.execve(argv[0], argv, env)  # signals go straight to Streamlit
    import subprocess

    return subprocess.call(argv, env=env)
