-- Ledgerlink store, SQLite flavour. Times are integer microseconds since the Unix epoch so the
-- same values and comparisons work unchanged on PostgreSQL (BIGINT) and sort correctly.

-- Inbox: every incoming event, stored before it is acknowledged, unique per (source, key).
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    source       TEXT    NOT NULL,
    dedupe_key   TEXT    NOT NULL,
    scope        TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    stored_at    INTEGER NOT NULL,
    UNIQUE (source, dedupe_key)
);

-- Jobs: the durable queue. A job runs only when no earlier job of its subject is unfinished.
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    kind             TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    source           TEXT,
    payload          TEXT    NOT NULL,
    event_id         INTEGER REFERENCES events (id),
    parent_job_id    INTEGER REFERENCES jobs (id),
    state            TEXT    NOT NULL
        CHECK (state IN ('pending', 'running', 'done', 'failed', 'skipped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_run_at      INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    replay_mode      TEXT    NOT NULL DEFAULT 'refetch'
        CHECK (replay_mode IN ('refetch', 'snapshot')),
    snapshot         TEXT,
    error_class      TEXT,
    error_code       TEXT,
    error_message    TEXT,
    error_field_path TEXT,
    error_payloads   TEXT,
    exhausted        INTEGER NOT NULL DEFAULT 0,
    resolution       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    finished_at      INTEGER
);
-- Candidates for leasing, in arrival order.
CREATE INDEX jobs_pending ON jobs (id) WHERE state = 'pending';
-- Crashed workers' jobs: running with an expired lease.
CREATE INDEX jobs_running ON jobs (lease_expires_at) WHERE state = 'running';
-- The per-subject ordering check.
CREATE INDEX jobs_open_subject ON jobs (subject, id) WHERE state IN ('pending', 'running', 'failed');
CREATE INDEX jobs_failed ON jobs (updated_at) WHERE state = 'failed';
CREATE INDEX jobs_subject ON jobs (subject);
CREATE INDEX jobs_event ON jobs (event_id);

-- Durable named watermarks (the poller's "modified since").
CREATE TABLE watermarks (
    name       TEXT PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Identity map: one Visma record per BigCommerce record and entity/kind, unique both ways.
CREATE TABLE identity_map (
    legal_entity TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    bc_id        TEXT    NOT NULL,
    visma_id     TEXT    NOT NULL,
    job_id       INTEGER,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (legal_entity, kind, bc_id),
    UNIQUE (legal_entity, kind, visma_id)
);

-- Write intents: recorded before a Visma write, completed after it. An open intent found on a
-- retry means the outcome of the earlier call is unknown.
CREATE TABLE write_intents (
    id           INTEGER PRIMARY KEY,
    legal_entity TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    bc_id        TEXT    NOT NULL,
    external_ref TEXT    NOT NULL,
    job_id       INTEGER,
    state        TEXT    NOT NULL CHECK (state IN ('open', 'completed', 'abandoned')),
    visma_id     TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX write_intents_one_open ON write_intents (legal_entity, kind, bc_id)
    WHERE state = 'open';
CREATE INDEX write_intents_ref ON write_intents (external_ref);

-- Echo suppression: what we wrote to a resource, so the event it causes can be recognised.
CREATE TABLE echo_markers (
    id           INTEGER PRIMARY KEY,
    target       TEXT    NOT NULL,
    resource     TEXT    NOT NULL,
    content_hash TEXT    NOT NULL,
    written_at   INTEGER NOT NULL
);
CREATE INDEX echo_markers_lookup ON echo_markers (target, resource, written_at);

-- Audit log: append-only (enforced below). One row per attempt, its HTTP exchanges, and the
-- references (order ids, document numbers) it can be found by.
CREATE TABLE audit_attempts (
    id               INTEGER PRIMARY KEY,
    job_id           INTEGER NOT NULL,
    attempt          INTEGER NOT NULL,
    kind             TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    worker           TEXT    NOT NULL,
    started_at       INTEGER NOT NULL,
    duration_us      INTEGER NOT NULL,
    replay_mode      TEXT    NOT NULL,
    plugin_name      TEXT,
    plugin_version   TEXT,
    plugin_hash      TEXT,
    outcome          TEXT    NOT NULL,
    error_class      TEXT,
    error_code       TEXT,
    error_message    TEXT,
    error_field_path TEXT
);
CREATE INDEX audit_attempts_job ON audit_attempts (job_id);

CREATE TABLE audit_exchanges (
    id               INTEGER PRIMARY KEY,
    attempt_id       INTEGER NOT NULL REFERENCES audit_attempts (id),
    seq              INTEGER NOT NULL,
    at               INTEGER NOT NULL,
    system           TEXT    NOT NULL,
    method           TEXT    NOT NULL,
    url              TEXT    NOT NULL,
    request_headers  TEXT,
    request_body     TEXT,
    status           INTEGER,
    response_headers TEXT,
    response_body    TEXT,
    duration_us      INTEGER NOT NULL
);
CREATE INDEX audit_exchanges_attempt ON audit_exchanges (attempt_id);

CREATE TABLE audit_refs (
    attempt_id INTEGER NOT NULL REFERENCES audit_attempts (id),
    ref_kind   TEXT    NOT NULL,
    ref_value  TEXT    NOT NULL
);
CREATE INDEX audit_refs_value ON audit_refs (ref_value, ref_kind);
CREATE INDEX audit_refs_attempt ON audit_refs (attempt_id);

-- Operator actions (replay, skip), kept like the audit log: never changed, never removed.
CREATE TABLE job_actions (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    job_id  INTEGER NOT NULL,
    action  TEXT    NOT NULL,
    actor   TEXT    NOT NULL,
    reason  TEXT,
    detail  TEXT
);
CREATE INDEX job_actions_job ON job_actions (job_id);

CREATE TRIGGER audit_attempts_no_update BEFORE UPDATE ON audit_attempts
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_attempts_no_delete BEFORE DELETE ON audit_attempts
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_exchanges_no_update BEFORE UPDATE ON audit_exchanges
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_exchanges_no_delete BEFORE DELETE ON audit_exchanges
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_refs_no_update BEFORE UPDATE ON audit_refs
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_refs_no_delete BEFORE DELETE ON audit_refs
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER job_actions_no_update BEFORE UPDATE ON job_actions
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER job_actions_no_delete BEFORE DELETE ON job_actions
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
