-- Accepted readings, in log order, and rejected ones kept in quarantine. Times are µs since the
-- Unix epoch, UTC. `position` is assigned under the table's write lock, so positions follow
-- commit order and a follower reading "after position P" never skips a late commit.
CREATE TABLE readings (
    id                 TEXT PRIMARY KEY,
    position           INTEGER NOT NULL UNIQUE,
    device_id          TEXT NOT NULL,
    sequence           TEXT NOT NULL,
    observed_at        INTEGER NOT NULL,
    received_at        INTEGER NOT NULL,
    code_system        TEXT NOT NULL,
    code               TEXT NOT NULL,
    value              REAL,
    unit               TEXT,
    original_value     REAL,
    original_unit      TEXT,
    components         TEXT NOT NULL,
    flags              TEXT NOT NULL,
    data_absent_reason TEXT NOT NULL,
    patient            TEXT,
    batch_id           TEXT NOT NULL,
    CONSTRAINT readings_once_per_device_sequence UNIQUE (device_id, sequence)
);
CREATE INDEX readings_by_device ON readings (device_id, observed_at);
CREATE INDEX readings_by_patient ON readings (patient, observed_at);

CREATE TABLE quarantine (
    id          TEXT PRIMARY KEY,
    received_at INTEGER NOT NULL,
    caller      TEXT NOT NULL,
    batch_id    TEXT NOT NULL,
    batch_index INTEGER NOT NULL,
    device_id   TEXT NOT NULL,
    raw         TEXT NOT NULL,
    violations  TEXT NOT NULL
);
CREATE INDEX quarantine_by_device ON quarantine (device_id, received_at);
