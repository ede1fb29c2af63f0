"""The city options of ``hallops serve`` and ``hallops token``, run as an operator would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from city_support import HALL, ROOT

from queue_server.server.auth import hash_token
from queue_server.store.postgres import PostgresStore

from _support import SMALL_HALL


def hallops(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "queue_server.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_token_mints_into_the_halls_postgresql_rows(pg_url: str) -> None:
    done = hallops(
        "token", "--config", str(SMALL_HALL), "--db", pg_url, "--role", "display", "--name", "wall-2"
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    store = PostgresStore(pg_url, hall=HALL, writer=False)
    await store.open()
    try:
        found = await store.find_token(hash_token(token))
        other_hall = PostgresStore(pg_url, hall="another-hall", writer=False)
        await other_hall.open()
        try:
            assert await other_hall.find_token(hash_token(token)) is None
        finally:
            await other_hall.close()
    finally:
        await store.close()
    assert found is not None and found.role == "display" and found.name == "wall-2"


def test_standby_needs_postgresql(tmp_path: Path) -> None:
    done = hallops(
        "serve", "--config", str(SMALL_HALL), "--db", str(tmp_path / "hall.db"), "--port", "0", "--standby"
    )
    assert done.returncode == 1
    assert "--standby needs a PostgreSQL database" in done.stderr and "Traceback" not in done.stderr
