"""The ``hallops`` command line, run as a subprocess like an operator would."""

from __future__ import annotations

import hashlib
import re
import socket
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from queue_server import __version__
from queue_server.store.schema import SCHEMA_VERSION

from _support import DEMO_HALL, SMALL_HALL

ROOT = Path(__file__).resolve().parents[1]


def hallops(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "queue_server.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_version():
    result = hallops("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"hallops {__version__}"


def test_serve_with_a_missing_config_file(tmp_path):
    missing = tmp_path / "nope.toml"
    result = hallops("serve", "--config", str(missing), "--db", str(tmp_path / "hall.db"), "--port", "0")
    assert result.returncode != 0
    assert "config file not found" in result.stderr and str(missing) in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "hall.db").exists()


def test_serve_on_a_port_already_in_use(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = hallops(
            "serve",
            "--config",
            str(SMALL_HALL),
            "--db",
            str(tmp_path / "hall.db"),
            "--port",
            str(port),
            timeout=20,
        )
    assert result.returncode == 1
    assert "already in use" in result.stderr and str(port) in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "command", [("serve", "--port", "0"), ("token", "--role", "kiosk")], ids=["serve", "token"]
)
def test_a_database_of_a_newer_schema_is_refused_with_a_message(tmp_path, command):
    db = tmp_path / "hall.db"
    with closing(sqlite3.connect(db)) as con:
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        con.commit()
    try:
        result = hallops(command[0], "--config", str(SMALL_HALL), "--db", str(db), *command[1:], timeout=8)
    except subprocess.TimeoutExpired:
        pytest.fail(f"hallops {command[0]} hangs after refusing a newer database instead of exiting")
    assert result.returncode == 1
    assert f"schema version {SCHEMA_VERSION + 1}" in result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    if command[0] == "token":
        assert result.stdout == ""  # scripts read the token from stdout


def test_token_for_a_window_needs_the_window(tmp_path):
    result = hallops(
        "token", "--config", str(SMALL_HALL), "--db", str(tmp_path / "hall.db"), "--role", "window"
    )
    assert result.returncode != 0
    assert "--window" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "role", "window"),
    [
        (("--role", "kiosk"), "kiosk", None),
        (("--role", "window", "--window", "3"), "window", 3),
    ],
)
def test_token_prints_only_the_token(tmp_path, args, role, window):
    db = tmp_path / "hall.db"
    result = hallops("token", "--config", str(SMALL_HALL), "--db", str(db), *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("\n") and result.stdout.count("\n") == 1
    token = result.stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{24,}", token), result.stdout
    with closing(sqlite3.connect(db)) as con:
        row = con.execute(
            "SELECT role, window FROM device_tokens WHERE token_hash = ?",
            (hashlib.sha256(token.encode()).hexdigest(),),
        ).fetchone()
    assert row == (role, window)


def test_check_config_accepts_the_demo_hall():
    result = hallops("check-config", str(DEMO_HALL))
    assert result.returncode == 0, result.stdout + result.stderr
