-- Alerts, their changes as a followable log, suppressions (why a condition did not raise), and
-- where the evaluator is in the reading log. At most one open alert per (rule, patient).
CREATE TABLE alerts (
    id                TEXT PRIMARY KEY,
    rule_id           TEXT NOT NULL,
    rule_version      BIGINT NOT NULL,
    patient           TEXT NOT NULL,
    state             TEXT NOT NULL,
    priority          TEXT NOT NULL,
    raised_at         BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    snoozed_until     BIGINT,
    tier              BIGINT NOT NULL,
    last_escalated_at BIGINT NOT NULL,
    -- Reading ids that raised or updated it, comma-separated, oldest first.
    readings          TEXT NOT NULL,
    urgent_floor      BIGINT NOT NULL,
    latching          BIGINT NOT NULL
);
CREATE UNIQUE INDEX alerts_one_open ON alerts (rule_id, patient) WHERE state <> 'resolved';
CREATE INDEX alerts_by_patient ON alerts (patient, raised_at);

-- Every change of every alert, in commit order (positions assigned under the alerts lock).
CREATE TABLE alert_changes (
    position     BIGINT PRIMARY KEY,
    alert_id     TEXT NOT NULL,
    change       TEXT NOT NULL,
    at           BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    rule_version BIGINT NOT NULL,
    readings     TEXT NOT NULL
);

CREATE TABLE suppressions (
    id           TEXT PRIMARY KEY,
    rule_id      TEXT NOT NULL,
    rule_version BIGINT NOT NULL,
    patient      TEXT NOT NULL,
    reading_id   TEXT NOT NULL,
    reason       TEXT NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX suppressions_by_patient ON suppressions (patient, at);

CREATE TABLE evaluator_cursor (
    name     TEXT PRIMARY KEY,
    position BIGINT NOT NULL
);
