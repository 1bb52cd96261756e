-- Audit records kept while the audit log could not take them (sentinel_platform::audit_outbox):
-- appended in id order once the log is back, then removed.
CREATE TABLE audit_outbox (
    id      INTEGER PRIMARY KEY,
    entry   BLOB NOT NULL,
    kept_at BIGINT NOT NULL
);
