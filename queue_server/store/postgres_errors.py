"""The PostgreSQL store's own errors, importable without psycopg (``hallops serve`` on SQLite
needs no city extra)."""

from __future__ import annotations


class HallLocked(RuntimeError):
    """Another server holds this hall's lock (and this one is not a standby)."""


class LockLost(RuntimeError):
    """The connection holding the hall's lock is gone: this server may no longer write."""
