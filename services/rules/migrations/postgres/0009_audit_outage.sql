-- Audit records kept while the audit log could not take them (sentinel_platform::audit_outbox):
-- appended in id order once the log is back, then removed.
CREATE TABLE audit_outbox (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry   BYTEA NOT NULL,
    kept_at BIGINT NOT NULL
);

-- Technical alerts (about the suite itself, routed to rules.technical_route) are marked in the
-- change log, so watchers can be routed without looking the alert up.
ALTER TABLE alert_changes ADD COLUMN technical BIGINT NOT NULL DEFAULT 0;
