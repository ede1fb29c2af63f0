"""Which store a ``--db`` value names: a ``postgresql://`` URL (a city's shared database) or
a SQLite file path (the embedded default, one hall per file)."""

from __future__ import annotations

from pathlib import Path

from .base import Store

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(db: str | Path) -> bool:
    return isinstance(db, str) and db.startswith(POSTGRES_SCHEMES)


def store_for(
    db: str | Path, *, hall: str, standby: bool = False, writer: bool = True, synchronous: str = "FULL"
) -> Store:
    """The store for ``db``, not yet opened. ``hall`` (the config's code) keys the hall's rows
    in a shared PostgreSQL database; ``standby`` waits for the hall's running server to stop
    instead of failing; ``writer=False`` opens without the hall lock (minting tokens while
    the hall runs). A SQLite file has one server: ``standby`` is refused there."""
    if is_postgres_url(db):
        from .postgres import PostgresStore

        return PostgresStore(str(db), hall=hall, standby=standby, writer=writer)
    if standby:
        raise ValueError(
            "--standby needs a PostgreSQL database (--db postgresql://...): a SQLite file has one server"
        )
    from .sqlite import SqliteStore

    return SqliteStore(db, synchronous=synchronous, writer=writer)
