"""PostgreSQL schema as numbered migrations; table ``schema_migrations`` holds those applied.

The same tables and columns as the SQLite schema (schema.py), so the rows round-trip to the
same dicts and the dashboard's queries read both, plus a ``hall`` column first in every
table and every key: many halls share one database, each keyed by its hall id (the config's
``code``). Instants stay ISO 8601 text with the hall's offset (as in SQLite: the offset is
kept, and ``ts`` holds the instant for range queries); event ``data`` is ``jsonb``.

Add a migration by appending to ``MIGRATIONS``; never edit one that has shipped. Migrations
run under a transaction-scoped advisory lock, so halls starting together migrate once.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: events log, current state of tickets and windows, numbering, tokens
    """
    CREATE TABLE events (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        hall TEXT NOT NULL,
        type TEXT NOT NULL,
        at TEXT NOT NULL,
        ts DOUBLE PRECISION NOT NULL,
        service_date TEXT NOT NULL,
        actor TEXT NOT NULL,
        ticket TEXT,
        "window" INTEGER,
        data JSONB NOT NULL
    );
    CREATE INDEX events_hall_id ON events(hall, id);
    CREATE INDEX events_hall_ts ON events(hall, ts);
    CREATE INDEX events_hall_ticket ON events(hall, ticket);
    CREATE INDEX events_hall_type ON events(hall, type, ts);
    CREATE FUNCTION hallops_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'events are append-only'; END $$;
    CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
        FOR EACH ROW EXECUTE FUNCTION hallops_events_append_only();
    CREATE TRIGGER events_append_only_truncate BEFORE TRUNCATE ON events
        FOR EACH STATEMENT EXECUTE FUNCTION hallops_events_append_only();

    CREATE TABLE tickets (
        hall TEXT NOT NULL,
        id TEXT NOT NULL,
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
        "window" INTEGER,
        target_window INTEGER,
        recalls INTEGER NOT NULL DEFAULT 0,
        transfers INTEGER NOT NULL DEFAULT 0,
        served_by TEXT,
        estimated_wait_s DOUBLE PRECISION,
        applicant_name TEXT NOT NULL DEFAULT '',
        applicant_phone TEXT NOT NULL DEFAULT '',
        applicant_id TEXT NOT NULL DEFAULT '',
        note TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (hall, id)
    );
    CREATE INDEX tickets_day ON tickets(hall, service_date, queue);
    CREATE UNIQUE INDEX tickets_token ON tickets(hall, status_token);

    CREATE TABLE windows (
        hall TEXT NOT NULL,
        number INTEGER NOT NULL,
        state TEXT NOT NULL,
        pause_reason TEXT NOT NULL DEFAULT '',
        staff TEXT,
        staff_name TEXT NOT NULL DEFAULT '',
        current_ticket TEXT,
        priority_streak INTEGER NOT NULL DEFAULT 0,
        state_since TEXT,
        PRIMARY KEY (hall, number)
    );

    CREATE TABLE ticket_numbers (
        hall TEXT NOT NULL,
        service_date TEXT NOT NULL,
        queue TEXT NOT NULL,
        last_seq INTEGER NOT NULL,
        PRIMARY KEY (hall, service_date, queue)
    );

    CREATE TABLE service_times (
        hall TEXT NOT NULL,
        queue TEXT NOT NULL,
        mean_s DOUBLE PRECISION NOT NULL,
        samples INTEGER NOT NULL,
        PRIMARY KEY (hall, queue)
    );

    CREATE TABLE meta (hall TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (hall, key));

    CREATE TABLE device_tokens (
        hall TEXT NOT NULL,
        token_hash TEXT NOT NULL,
        role TEXT NOT NULL,
        "window" INTEGER,
        name TEXT NOT NULL,
        username TEXT,
        created_at TEXT NOT NULL,
        revoked_at TEXT,
        PRIMARY KEY (hall, token_hash)
    );
    """,
    # 2: cases (办件), service ratings (好差评), their rectifications, the receipt counter
    """
    CREATE TABLE cases (
        hall TEXT NOT NULL,
        receipt_no TEXT NOT NULL,
        service_date TEXT NOT NULL,
        matter_code TEXT NOT NULL,
        matter_name TEXT NOT NULL,
        department TEXT NOT NULL,
        field TEXT NOT NULL,
        case_type TEXT NOT NULL,
        window_kind TEXT NOT NULL,
        one_window INTEGER NOT NULL,
        promised_working_days INTEGER NOT NULL,
        ticket TEXT,
        ticket_number TEXT,
        "window" INTEGER,
        accepted_window_kind TEXT,
        accepted_by TEXT,
        accepted_by_name TEXT NOT NULL DEFAULT '',
        applicant_name TEXT NOT NULL DEFAULT '',
        applicant_phone TEXT NOT NULL DEFAULT '',
        applicant_id TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,
        created_at TEXT NOT NULL,
        accepted_at TEXT,
        clock_started_at TEXT,
        due_at TEXT,
        provisional INTEGER NOT NULL DEFAULT 0,
        paused_working_days INTEGER NOT NULL DEFAULT 0,
        suspended_since TEXT,
        suspension_reason TEXT NOT NULL DEFAULT '',
        suspension_expected_days INTEGER,
        suspensions INTEGER NOT NULL DEFAULT 0,
        extension_days INTEGER NOT NULL DEFAULT 0,
        extension_reason TEXT NOT NULL DEFAULT '',
        extended_at TEXT,
        deficiency_item TEXT NOT NULL DEFAULT '',
        deficiency_promised_date TEXT,
        deficiency_supplied_at TEXT,
        missing_materials TEXT NOT NULL DEFAULT '[]',
        materials_requested_at TEXT,
        rejection_reason TEXT NOT NULL DEFAULT '',
        review_started_at TEXT,
        reviewer TEXT,
        decided_at TEXT,
        decision TEXT,
        decision_note TEXT NOT NULL DEFAULT '',
        decided_by TEXT,
        decided_on_time INTEGER,
        delivered_at TEXT,
        delivery_method TEXT,
        delivery_window INTEGER,
        delivery_ticket TEXT,
        delivery_note TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (hall, receipt_no)
    );
    CREATE INDEX cases_state_due ON cases(hall, state, due_at);
    CREATE INDEX cases_department ON cases(hall, department, state);
    CREATE INDEX cases_day ON cases(hall, service_date);
    CREATE INDEX cases_ticket ON cases(hall, ticket);

    CREATE TABLE case_numbers (
        hall TEXT NOT NULL,
        service_date TEXT NOT NULL,
        last_seq INTEGER NOT NULL,
        PRIMARY KEY (hall, service_date)
    );

    CREATE TABLE ratings (
        hall TEXT NOT NULL,
        id INTEGER NOT NULL,
        ticket TEXT NOT NULL,
        ticket_number TEXT NOT NULL,
        service_date TEXT NOT NULL,
        queue TEXT NOT NULL,
        "window" INTEGER NOT NULL,
        staff TEXT,
        staff_name TEXT NOT NULL DEFAULT '',
        department TEXT NOT NULL DEFAULT '',
        matter_code TEXT NOT NULL DEFAULT '',
        matter_name TEXT NOT NULL DEFAULT '',
        receipt_no TEXT,
        score INTEGER NOT NULL,
        reasons TEXT NOT NULL DEFAULT '[]',
        text TEXT NOT NULL DEFAULT '',
        channel TEXT NOT NULL,
        at TEXT NOT NULL,
        excluded INTEGER NOT NULL DEFAULT 0,
        follow_up_of INTEGER,
        rater_token_hash TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (hall, id),
        FOREIGN KEY (hall, follow_up_of) REFERENCES ratings(hall, id)
    );
    CREATE UNIQUE INDEX ratings_one_per_service ON ratings(hall, ticket) WHERE follow_up_of IS NULL;
    CREATE UNIQUE INDEX ratings_one_follow_up ON ratings(hall, follow_up_of) WHERE follow_up_of IS NOT NULL;
    CREATE INDEX ratings_day ON ratings(hall, service_date);

    CREATE TABLE rectifications (
        hall TEXT NOT NULL,
        id INTEGER NOT NULL,
        rating_id INTEGER NOT NULL,
        ticket TEXT NOT NULL,
        "window" INTEGER NOT NULL,
        owner_department TEXT NOT NULL DEFAULT '',
        owner_staff TEXT,
        owner_staff_name TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        contact_due TEXT NOT NULL,
        rectify_due TEXT NOT NULL,
        provisional INTEGER NOT NULL DEFAULT 0,
        contacted_at TEXT,
        contact_note TEXT NOT NULL DEFAULT '',
        contacted_by TEXT,
        rectified_at TEXT,
        measures TEXT NOT NULL DEFAULT '',
        rectified_by TEXT,
        revisit_at TEXT,
        revisit_satisfaction INTEGER,
        revisit_note TEXT NOT NULL DEFAULT '',
        revisited_by TEXT,
        closed_at TEXT,
        outcome TEXT,
        explanation TEXT NOT NULL DEFAULT '',
        appeal_reason TEXT NOT NULL DEFAULT '',
        appealed_at TEXT,
        appealed_by TEXT,
        appeal_from_state TEXT,
        appeal_decision TEXT,
        appeal_decided_at TEXT,
        appeal_decided_by TEXT,
        appeal_note TEXT NOT NULL DEFAULT '',
        contact_on_time INTEGER,
        rectify_on_time INTEGER,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (hall, id),
        UNIQUE (hall, rating_id),
        FOREIGN KEY (hall, rating_id) REFERENCES ratings(hall, id)
    );
    CREATE INDEX rectifications_state ON rectifications(hall, state, rectify_due);
    CREATE INDEX rectifications_department ON rectifications(hall, owner_department, state);
    """,
    # 3: responsibility by content (差评 owners: the management or the department), complaints
    """
    ALTER TABLE rectifications ADD COLUMN responsible TEXT NOT NULL DEFAULT 'department';
    ALTER TABLE rectifications ADD COLUMN coordinator TEXT NOT NULL DEFAULT '';
    ALTER TABLE rectifications ADD COLUMN triage INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE rectifications ADD COLUMN reassigned_at TEXT;
    ALTER TABLE rectifications ADD COLUMN reassigned_by TEXT;
    ALTER TABLE rectifications ADD COLUMN reassign_reason TEXT NOT NULL DEFAULT '';

    CREATE TABLE complaints (
        hall TEXT NOT NULL,
        id INTEGER NOT NULL,
        channel TEXT NOT NULL,
        category TEXT NOT NULL DEFAULT '',
        content TEXT NOT NULL,
        state TEXT NOT NULL,
        received_at TEXT NOT NULL,
        due_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        responsible TEXT NOT NULL,
        owner_department TEXT NOT NULL,
        triage INTEGER NOT NULL DEFAULT 0,
        provisional INTEGER NOT NULL DEFAULT 0,
        matter_code TEXT NOT NULL DEFAULT '',
        receipt_no TEXT,
        rating_id INTEGER,
        ticket TEXT,
        "window" INTEGER,
        hotline_ref TEXT NOT NULL DEFAULT '',
        complainant_name TEXT NOT NULL DEFAULT '',
        complainant_phone TEXT NOT NULL DEFAULT '',
        received_by TEXT,
        assigned_at TEXT,
        assigned_by TEXT,
        reassignments INTEGER NOT NULL DEFAULT 0,
        reassign_reason TEXT NOT NULL DEFAULT '',
        handled_at TEXT,
        handling TEXT NOT NULL DEFAULT '',
        handled_by TEXT,
        replied_at TEXT,
        reply TEXT NOT NULL DEFAULT '',
        replied_by TEXT,
        reply_on_time INTEGER,
        closed_at TEXT,
        satisfaction INTEGER,
        reminders INTEGER NOT NULL DEFAULT 0,
        last_reminded_at TEXT,
        reminder_note TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (hall, id)
    );
    CREATE INDEX complaints_state_due ON complaints(hall, state, due_at);
    CREATE INDEX complaints_owner ON complaints(hall, owner_department, state);
    """,
    # 4: 集成服务 (issue 16): 一件事 parts of a bundle case, 帮办代办, the one-time notice
    """
    ALTER TABLE cases ADD COLUMN bundle_receipt TEXT;                    -- a part: its 一件事 bundle
    ALTER TABLE cases ADD COLUMN part_after TEXT NOT NULL DEFAULT '[]';  -- a part: JSON list of the parts it waits for
    ALTER TABLE cases ADD COLUMN share_working_days INTEGER;             -- a part: its share of the bundle's promise
    ALTER TABLE cases ADD COLUMN released_at TEXT;                       -- a waiting part: its inputs approved
    ALTER TABLE cases ADD COLUMN withdrawn_reason TEXT NOT NULL DEFAULT '';
    ALTER TABLE cases ADD COLUMN assisted_by TEXT NOT NULL DEFAULT '';   -- 帮办: the hall helper
    ALTER TABLE cases ADD COLUMN assisted_by_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE cases ADD COLUMN agent TEXT NOT NULL DEFAULT '';         -- 代办: the 代办员 (no visit)
    ALTER TABLE cases ADD COLUMN agent_point TEXT NOT NULL DEFAULT '';   -- the 代办员's service point
    ALTER TABLE cases ADD COLUMN notices INTEGER NOT NULL DEFAULT 0;     -- written notices of missing items
    ALTER TABLE cases ADD COLUMN notice_version TEXT NOT NULL DEFAULT '';  -- material list of the 补正 notice
    CREATE INDEX cases_bundle ON cases(hall, bundle_receipt);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
