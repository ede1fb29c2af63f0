"""The two store backends of the tests: a SQLite file, or a database of a real PostgreSQL
cluster that the session starts itself (a plain module; the fixtures are in conftest.py).

PostgreSQL refuses to run as root; when the tests run as root (CI does) the server alone runs
as ``nobody`` (``runuser``), in a folder ``nobody`` owns under the system temp folder, with
its socket there too (Debian's ``/var/run/postgresql`` is not writable by ``nobody``).
Binaries: Debian's ``postgresql`` package (``/usr/lib/postgresql/<version>/bin``), or a
folder named by ``HALLOPS_PGBIN``. When they are missing the tests that need them fail with
the install step to take; they never skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from queue_server.store.base import Store
from queue_server.store.open import store_for

PG_PACKAGE_HINT = "install Debian's PostgreSQL server: apt-get install -y postgresql (or set HALLOPS_PGBIN)"
BACKENDS = ("sqlite", "postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_bin() -> Path:
    given = os.environ.get("HALLOPS_PGBIN")
    candidates = (
        [Path(given)]
        if given
        else sorted(
            Path("/usr/lib/postgresql").glob("*/bin"),
            key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
            reverse=True,
        )
    )
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    pytest.fail(f"no PostgreSQL server binaries (initdb, pg_ctl) found: {PG_PACKAGE_HINT}")


def as_server_user(argv: list[str]) -> list[str]:
    """PostgreSQL will not run as root: run its programs as ``nobody`` then."""
    return ["runuser", "-u", "nobody", "--", *argv] if os.geteuid() == 0 else argv


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(as_server_user(argv), capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        pytest.fail(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


@contextlib.contextmanager
def pg_cluster() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free port; yields the URL of its ``postgres`` database."""
    binaries = pg_bin()
    base = Path(tempfile.mkdtemp(prefix="hallops-pg-", dir=tempfile.gettempdir()))
    if os.geteuid() == 0:
        shutil.chown(base, "nobody")
    port = free_port()
    data, log = base / "data", base / "server.log"
    _run(
        [
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ],
        "initdb",
    )
    _run(
        [
            str(binaries / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-t",
            "30",
            "start",
            "-o",
            f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={base} -c fsync=off"
            " -c max_connections=200",
        ],
        "pg_ctl start",
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database of the cluster at ``server_url``, dropped afterwards."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name} TEMPLATE template0")
    try:
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as con:
            con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass(frozen=True)
class Backend:
    """One test's database: ``db`` is what ``hallops serve --db`` takes (a SQLite file or a
    ``postgresql://`` URL of a fresh database), ``hall`` the hall id its rows are keyed by."""

    name: str
    db: str
    hall: str = "small-test"

    def store(self, **kwargs: Any) -> Store:
        return store_for(self.db, hall=self.hall, **kwargs)

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """The rows of a query on the hall's database, straight from the engine (``?``
        placeholders; one hall per test database, so no ``hall`` filter is needed)."""
        if self.name == "sqlite":
            with contextlib.closing(sqlite3.connect(self.db)) as con:
                return con.execute(sql, params).fetchall()
        import psycopg

        with psycopg.connect(self.db) as pg:
            return pg.execute(sql.replace("?", "%s"), params).fetchall()  # type: ignore[arg-type]

    @property
    def integrity_errors(self) -> tuple[type[Exception], ...]:
        """What the engine raises when a row breaks a constraint."""
        if self.name == "sqlite":
            return (sqlite3.IntegrityError,)
        import psycopg

        return (psycopg.errors.IntegrityError,)
