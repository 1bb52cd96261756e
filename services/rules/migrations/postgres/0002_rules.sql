-- Clinical rules and their versions. A version is never changed in place once submitted: an
-- edit is a new draft version; status steps are recorded with who took them and when.
CREATE TABLE rules (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    -- 'builtin' for the shipped library, 'authored' for rules written through the API.
    origin     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE rule_versions (
    rule_id      TEXT NOT NULL REFERENCES rules (id),
    version      BIGINT NOT NULL,
    status       TEXT NOT NULL,
    -- The RuleDefinition as JSON.
    definition   TEXT NOT NULL,
    author       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    submitted_at BIGINT,
    approved_by  TEXT,
    approved_at  BIGINT,
    activated_at BIGINT,
    retired_at   BIGINT,
    PRIMARY KEY (rule_id, version)
);
CREATE INDEX rule_versions_by_status ON rule_versions (status);
