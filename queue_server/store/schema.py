"""SQLite schema as numbered migrations; ``PRAGMA user_version`` holds the version applied.

Add a migration by appending to ``MIGRATIONS``; never edit one that has shipped.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: events log, current state of tickets and windows, numbering, tokens
    """
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        type TEXT NOT NULL,
        at TEXT NOT NULL,            -- ISO 8601 with the hall's UTC offset
        ts REAL NOT NULL,            -- the same instant as Unix seconds, for range queries
        service_date TEXT NOT NULL,  -- local date in the hall's timezone
        actor TEXT NOT NULL,
        ticket TEXT,
        window INTEGER,
        data TEXT NOT NULL           -- JSON
    );
    CREATE INDEX events_ts ON events(ts);
    CREATE INDEX events_ticket ON events(ticket);
    CREATE INDEX events_type ON events(type, ts);
    CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

    CREATE TABLE tickets (
        id TEXT PRIMARY KEY,
        number TEXT NOT NULL,
        queue TEXT NOT NULL,
        service_date TEXT NOT NULL,
        seq INTEGER NOT NULL,
        channel TEXT NOT NULL,
        priority TEXT NOT NULL,
        state TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        arrived_at TEXT NOT NULL,
        status_token TEXT NOT NULL,
        appointment_slot TEXT,
        checked_in INTEGER NOT NULL DEFAULT 1,
        called_at TEXT,
        served_at TEXT,
        finished_at TEXT,
        window INTEGER,
        target_window INTEGER,
        recalls INTEGER NOT NULL DEFAULT 0,
        transfers INTEGER NOT NULL DEFAULT 0,
        served_by TEXT,
        estimated_wait_s REAL,
        applicant_name TEXT NOT NULL DEFAULT '',
        applicant_phone TEXT NOT NULL DEFAULT '',
        applicant_id TEXT NOT NULL DEFAULT '',
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX tickets_day ON tickets(service_date, queue);
    CREATE UNIQUE INDEX tickets_token ON tickets(status_token);

    CREATE TABLE windows (
        number INTEGER PRIMARY KEY,
        state TEXT NOT NULL,
        pause_reason TEXT NOT NULL DEFAULT '',
        staff TEXT,
        staff_name TEXT NOT NULL DEFAULT '',
        current_ticket TEXT,
        priority_streak INTEGER NOT NULL DEFAULT 0,
        state_since TEXT
    );

    CREATE TABLE ticket_numbers (
        service_date TEXT NOT NULL,
        queue TEXT NOT NULL,
        last_seq INTEGER NOT NULL,
        PRIMARY KEY (service_date, queue)
    );

    CREATE TABLE service_times (
        queue TEXT PRIMARY KEY,
        mean_s REAL NOT NULL,
        samples INTEGER NOT NULL
    );

    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    CREATE TABLE device_tokens (
        token_hash TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        window INTEGER,
        name TEXT NOT NULL,
        username TEXT,               -- staff sessions (login); NULL for device tokens
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
