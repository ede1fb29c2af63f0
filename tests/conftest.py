"""Fixtures shared across the suite: the small test hall and a real server on a free port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from websockets.asyncio.client import connect

from queue_server.config_file import load_hall_config
from queue_server.hall.config import HallConfig
from queue_server.server.app import HallServer
from queue_server.store import SqliteStore

from _backends import BACKENDS, Backend, fresh_database, pg_cluster
from _support import DEMO_HALL, SMALL_HALL, STAFF_PASSWORD, Client  # noqa: F401 - re-exported


@pytest.fixture
def small_config() -> HallConfig:
    return load_hall_config(SMALL_HALL)


@pytest_asyncio.fixture
async def server(tmp_path: Path, small_config: HallConfig) -> AsyncIterator[HallServer]:
    """A real HallServer on a free port with a real SQLite file in tmp_path."""
    srv = HallServer(small_config, SqliteStore(tmp_path / "hall.db"), host="127.0.0.1", port=0)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
def connect_client(server: HallServer):
    """``async with connect_client() as c:`` gives a Client connected to ``server``."""
    import contextlib

    @contextlib.asynccontextmanager
    async def _connect(**kwargs):
        async with connect(f"ws://127.0.0.1:{server.port}/ws", **kwargs) as ws:
            yield Client(ws)

    return _connect


# ---------------------------------------------------------------------- store backends


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL cluster for the session (started only when a test asks for it)."""
    with pg_cluster() as url:
        yield url


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty database of the session cluster for one test."""
    with fresh_database(pg_server) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """The test runs once on a SQLite file and once on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield Backend("sqlite", str(tmp_path / "hall.db"))
        return
    with fresh_database(request.getfixturevalue("pg_server")) as url:
        yield Backend("postgres", url)
