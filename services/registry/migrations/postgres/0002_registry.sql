-- Devices, their status history, patients' bindings over time, and credentials.
-- Times are microseconds since the Unix epoch, UTC. No patient names or MRNs are stored:
-- a binding holds only the hospital's opaque patient reference.
CREATE TABLE devices (
    id                        TEXT PRIMARY KEY,
    serial                    TEXT NOT NULL,
    manufacturer              TEXT NOT NULL,
    model                     TEXT NOT NULL,
    udi_di                    TEXT NOT NULL,
    udi_pi                    TEXT NOT NULL,
    firmware_version          TEXT NOT NULL,
    kind                      TEXT NOT NULL,
    care_setting              TEXT NOT NULL,
    transport                 TEXT NOT NULL,
    security                  TEXT NOT NULL,
    gateway_id                TEXT NOT NULL,
    expected_interval_seconds BIGINT NOT NULL,
    status                    TEXT NOT NULL,
    registered_at             BIGINT NOT NULL,
    CONSTRAINT devices_serial_per_manufacturer UNIQUE (manufacturer, serial)
);
CREATE INDEX devices_by_kind ON devices (kind, id);
CREATE INDEX devices_by_gateway ON devices (gateway_id);

CREATE TABLE device_status_history (
    device_id TEXT NOT NULL REFERENCES devices (id),
    step      BIGINT NOT NULL,
    status    TEXT NOT NULL,
    at        BIGINT NOT NULL,
    reason    TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    PRIMARY KEY (device_id, step)
);

CREATE TABLE bindings (
    id         TEXT PRIMARY KEY,
    device_id  TEXT NOT NULL REFERENCES devices (id),
    patient    TEXT NOT NULL,
    start_at   BIGINT NOT NULL,
    end_at     BIGINT
);
CREATE INDEX bindings_by_device ON bindings (device_id, start_at);
CREATE INDEX bindings_by_patient ON bindings (patient);

CREATE TABLE credentials (
    id             TEXT PRIMARY KEY,
    principal_kind TEXT NOT NULL,
    principal_id   TEXT NOT NULL,
    roles          TEXT NOT NULL,
    secret_digest  BYTEA NOT NULL,
    issued_at      BIGINT NOT NULL,
    revoked_at     BIGINT,
    replaced_by    TEXT NOT NULL
);
CREATE INDEX credentials_by_principal ON credentials (principal_id);
