"""Storage behind a narrow interface: ``Store`` (base.py). SQLite is the embedded default;
a PostgreSQL backend can implement the same protocol later."""

from .base import Batch, LoadedState, Store
from .sqlite import SqliteStore

__all__ = ["Batch", "LoadedState", "SqliteStore", "Store"]
