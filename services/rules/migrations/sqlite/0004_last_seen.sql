-- The latest reading received from each device, kept by the evaluator in the same transaction
-- as its cursor, so device silence is judged the same after a restart.
CREATE TABLE device_last_seen (
    device_id   TEXT PRIMARY KEY,
    reading_id  TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
