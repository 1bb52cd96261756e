-- The audit log: append-only records, each signed as part of the log head it creates, and the
-- published checkpoints. Times are microseconds since the Unix epoch, UTC.
CREATE TABLE audit_records (
    sequence     INTEGER PRIMARY KEY,
    recorded_at  INTEGER NOT NULL,
    actor_kind   TEXT    NOT NULL,
    actor_id     TEXT    NOT NULL,
    actor_role   TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    subject_type TEXT    NOT NULL,
    subject_id   TEXT    NOT NULL,
    outcome      TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    service      TEXT    NOT NULL,
    trace_id     TEXT    NOT NULL,
    detail       TEXT    NOT NULL,
    leaf_hash    BLOB    NOT NULL,
    signature    BLOB    NOT NULL
);
CREATE INDEX audit_records_by_actor ON audit_records (actor_id, sequence);
CREATE INDEX audit_records_by_action ON audit_records (action, sequence);
CREATE INDEX audit_records_by_subject ON audit_records (subject_type, subject_id, sequence);
CREATE INDEX audit_records_by_time ON audit_records (recorded_at);

CREATE TABLE audit_checkpoints (
    tree_size    INTEGER PRIMARY KEY,
    root_hash    BLOB    NOT NULL,
    note         TEXT    NOT NULL,
    published_at INTEGER NOT NULL
);

-- Append-only, enforced by the database. Tampering that bypasses these (editing the file) is
-- what verification catches.
CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit records are append-only: UPDATE refused'); END;
CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit records are append-only: DELETE refused'); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only: UPDATE refused'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only: DELETE refused'); END;
