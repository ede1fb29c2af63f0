"""A local PostgreSQL cluster in a folder, for ``hallops city`` (a trial city on one machine).

Debian's ``postgresql`` binaries (``/usr/lib/postgresql/<version>/bin``, or ``HALLOPS_PGBIN``).
PostgreSQL refuses to run as root: when HallOps runs as root the server runs as ``nobody``
(``runuser``) in a folder ``nobody`` owns, with its socket in that folder too."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PG_HINT = "install Debian's PostgreSQL server (apt-get install -y postgresql) or set HALLOPS_PGBIN"
SERVER_USER = "nobody"


class ClusterError(RuntimeError):
    pass


def pg_bin() -> Path:
    given = os.environ.get("HALLOPS_PGBIN")
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for folder in [Path(given)] if given else found:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise ClusterError(f"no PostgreSQL server binaries (initdb, pg_ctl): {PG_HINT}")


def _as_server_user(argv: list[str]) -> list[str]:
    return ["runuser", "-u", SERVER_USER, "--", *argv] if os.geteuid() == 0 else argv


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(_as_server_user(argv), capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        hint = f" (every folder above it must be open to {SERVER_USER})" if os.geteuid() == 0 else ""
        raise ClusterError(
            f"{what} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}{hint}"
        )


class LocalCluster:
    """``start()`` makes the cluster on first use (``initdb``) and starts it on ``port``;
    ``stop()`` stops it (fast shutdown). The URL names the ``postgres`` database."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder.resolve()
        self.port = port
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.bin = pg_bin()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, SERVER_USER)
            for path in self.folder.rglob("*"):
                shutil.chown(path, SERVER_USER)
        if not (self.data / "PG_VERSION").is_file():
            _run(
                [
                    str(self.bin / "initdb"),
                    "-D",
                    str(self.data),
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
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-w",
                "-t",
                "60",
                "start",
                "-o",
                f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.folder}"
                " -c max_connections=200",
            ],
            "pg_ctl start",
        )
        return self.url

    def stop(self) -> None:
        subprocess.run(
            _as_server_user([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            timeout=120,
            check=False,
        )
