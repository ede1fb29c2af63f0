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
    # 2: cases (办件), service ratings (好差评), their rectifications, the receipt counter
    """
    CREATE TABLE cases (
        receipt_no TEXT PRIMARY KEY,          -- SL-20261123-0001: per day, never reused
        service_date TEXT NOT NULL,           -- local date the case was created
        matter_code TEXT NOT NULL,
        matter_name TEXT NOT NULL,
        department TEXT NOT NULL,             -- the matter's deciding department (catalogue name)
        field TEXT NOT NULL,
        case_type TEXT NOT NULL,              -- 即办件 / 承诺件
        window_kind TEXT NOT NULL,            -- the matter's: 无差别 / 分领域 / 专窗
        one_window INTEGER NOT NULL,          -- the matter goes through 一窗
        promised_working_days INTEGER NOT NULL,
        ticket TEXT,                          -- ticket served when created (or resumed)
        ticket_number TEXT,
        window INTEGER,                       -- window that created (or resumed) it
        accepted_window_kind TEXT,            -- that window's kind: 无差别综合 / 分领域 / 专窗 ...
        accepted_by TEXT,                     -- actor id (staff username or device name)
        accepted_by_name TEXT NOT NULL DEFAULT '',
        applicant_name TEXT NOT NULL DEFAULT '',
        applicant_phone TEXT NOT NULL DEFAULT '',
        applicant_id TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,                  -- materials_requested accepted in_review suspended decided completed rejected
        created_at TEXT NOT NULL,
        accepted_at TEXT,                     -- 受理 (after 补正: when the materials were complete)
        clock_started_at TEXT,
        due_at TEXT,                          -- close of business of the last working day
        provisional INTEGER NOT NULL DEFAULT 0,
        paused_working_days INTEGER NOT NULL DEFAULT 0,
        suspended_since TEXT,
        suspension_reason TEXT NOT NULL DEFAULT '',
        suspension_expected_days INTEGER,
        suspensions INTEGER NOT NULL DEFAULT 0,
        extension_days INTEGER NOT NULL DEFAULT 0,
        extension_reason TEXT NOT NULL DEFAULT '',
        extended_at TEXT,
        deficiency_item TEXT NOT NULL DEFAULT '',   -- 容缺受理: the item still missing
        deficiency_promised_date TEXT,
        deficiency_supplied_at TEXT,
        missing_materials TEXT NOT NULL DEFAULT '[]',  -- JSON list of the 补正 notice
        materials_requested_at TEXT,
        rejection_reason TEXT NOT NULL DEFAULT '',
        review_started_at TEXT,
        reviewer TEXT,
        decided_at TEXT,
        decision TEXT,                        -- approved / disapproved
        decision_note TEXT NOT NULL DEFAULT '',
        decided_by TEXT,
        decided_on_time INTEGER,              -- decided_at <= due_at (按时办结)
        delivered_at TEXT,
        delivery_method TEXT,                 -- window / post
        delivery_window INTEGER,
        delivery_ticket TEXT,
        delivery_note TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL
    );
    CREATE INDEX cases_state_due ON cases(state, due_at);
    CREATE INDEX cases_department ON cases(department, state);
    CREATE INDEX cases_day ON cases(service_date);
    CREATE INDEX cases_ticket ON cases(ticket);

    CREATE TABLE case_numbers (
        service_date TEXT PRIMARY KEY,
        last_seq INTEGER NOT NULL
    );

    CREATE TABLE ratings (
        id INTEGER PRIMARY KEY,
        ticket TEXT NOT NULL,
        ticket_number TEXT NOT NULL,
        service_date TEXT NOT NULL,
        queue TEXT NOT NULL,
        window INTEGER NOT NULL,
        staff TEXT,
        staff_name TEXT NOT NULL DEFAULT '',
        department TEXT NOT NULL DEFAULT '',  -- the window's department
        matter_code TEXT NOT NULL DEFAULT '', -- of the case handled in the service, if any
        matter_name TEXT NOT NULL DEFAULT '', -- that matter, else the queue's name
        receipt_no TEXT,
        score INTEGER NOT NULL,               -- 5 非常满意 ... 1 非常不满意; 1-2 are 差评
        reasons TEXT NOT NULL DEFAULT '[]',   -- JSON list of picked reasons
        text TEXT NOT NULL DEFAULT '',
        channel TEXT NOT NULL,                -- pad / status_page
        at TEXT NOT NULL,
        excluded INTEGER NOT NULL DEFAULT 0,  -- an upheld appeal: kept, but out of the figures
        follow_up_of INTEGER REFERENCES ratings(id),  -- 追评: the rating it follows up
        rater_token_hash TEXT NOT NULL DEFAULT ''     -- sha256 of the status token (status page)
    );
    CREATE UNIQUE INDEX ratings_one_per_service ON ratings(ticket) WHERE follow_up_of IS NULL;
    CREATE UNIQUE INDEX ratings_one_follow_up ON ratings(follow_up_of) WHERE follow_up_of IS NOT NULL;
    CREATE INDEX ratings_day ON ratings(service_date);

    CREATE TABLE rectifications (
        id INTEGER PRIMARY KEY,
        rating_id INTEGER NOT NULL UNIQUE REFERENCES ratings(id),
        ticket TEXT NOT NULL,
        window INTEGER NOT NULL,
        owner_department TEXT NOT NULL DEFAULT '',
        owner_staff TEXT,
        owner_staff_name TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,                  -- open contacted rectified appealed closed
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
        revisit_satisfaction INTEGER,         -- 1-5, the rater's satisfaction at 回访
        revisit_note TEXT NOT NULL DEFAULT '',
        revisited_by TEXT,
        closed_at TEXT,
        outcome TEXT,                         -- rectified / on_the_spot / explained / appeal_upheld
        explanation TEXT NOT NULL DEFAULT '',
        appeal_reason TEXT NOT NULL DEFAULT '',
        appealed_at TEXT,
        appealed_by TEXT,
        appeal_from_state TEXT,
        appeal_decision TEXT,                 -- upheld / rejected
        appeal_decided_at TEXT,
        appeal_decided_by TEXT,
        appeal_note TEXT NOT NULL DEFAULT '',
        contact_on_time INTEGER,              -- contacted_at <= contact_due (NULL: not yet)
        rectify_on_time INTEGER,              -- rectified_at <= rectify_due (NULL: not yet)
        updated_at TEXT NOT NULL
    );
    CREATE INDEX rectifications_state ON rectifications(state, rectify_due);
    CREATE INDEX rectifications_department ON rectifications(owner_department, state);
    """,
    # 3: responsibility by content (差评 owners: the management or the department), complaints
    """
    ALTER TABLE rectifications ADD COLUMN responsible TEXT NOT NULL DEFAULT 'department';  -- management / department
    ALTER TABLE rectifications ADD COLUMN coordinator TEXT NOT NULL DEFAULT '';  -- the management, co-ordinating
    ALTER TABLE rectifications ADD COLUMN triage INTEGER NOT NULL DEFAULT 0;  -- free text: the management triages
    ALTER TABLE rectifications ADD COLUMN reassigned_at TEXT;
    ALTER TABLE rectifications ADD COLUMN reassigned_by TEXT;
    ALTER TABLE rectifications ADD COLUMN reassign_reason TEXT NOT NULL DEFAULT '';

    CREATE TABLE complaints (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL,                -- onsite / phone / hotline_12345 / rating / unresolved
        category TEXT NOT NULL DEFAULT '',    -- the responsibility catalogue's entry; '' free text
        content TEXT NOT NULL,
        state TEXT NOT NULL,                  -- received assigned handled replied closed
        received_at TEXT NOT NULL,
        due_at TEXT NOT NULL,                 -- reply (12345: 反馈) due, close of business
        updated_at TEXT NOT NULL,
        responsible TEXT NOT NULL,            -- management / department
        owner_department TEXT NOT NULL,       -- never empty: the management's name or a department
        triage INTEGER NOT NULL DEFAULT 0,
        provisional INTEGER NOT NULL DEFAULT 0,
        matter_code TEXT NOT NULL DEFAULT '',
        receipt_no TEXT,
        rating_id INTEGER,
        ticket TEXT,
        window INTEGER,
        hotline_ref TEXT NOT NULL DEFAULT '', -- 12345 work-order number
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
        satisfaction INTEGER,                 -- 1-5, the complainant's
        reminders INTEGER NOT NULL DEFAULT 0, -- 督办
        last_reminded_at TEXT,
        reminder_note TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX complaints_state_due ON complaints(state, due_at);
    CREATE INDEX complaints_owner ON complaints(owner_department, state);
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
    CREATE INDEX cases_bundle ON cases(bundle_receipt);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
