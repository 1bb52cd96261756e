-- The audit log: append-only records, each signed as part of the log head it creates, and the
-- published checkpoints. Times are microseconds since the Unix epoch, UTC.
CREATE TABLE audit_records (
    sequence     BIGINT PRIMARY KEY,
    recorded_at  BIGINT NOT NULL,
    actor_kind   TEXT   NOT NULL,
    actor_id     TEXT   NOT NULL,
    actor_role   TEXT   NOT NULL,
    action       TEXT   NOT NULL,
    subject_type TEXT   NOT NULL,
    subject_id   TEXT   NOT NULL,
    outcome      TEXT   NOT NULL,
    reason       TEXT   NOT NULL,
    service      TEXT   NOT NULL,
    trace_id     TEXT   NOT NULL,
    detail       TEXT   NOT NULL,
    leaf_hash    BYTEA  NOT NULL,
    signature    BYTEA  NOT NULL
);
CREATE INDEX audit_records_by_actor ON audit_records (actor_id, sequence);
CREATE INDEX audit_records_by_action ON audit_records (action, sequence);
CREATE INDEX audit_records_by_subject ON audit_records (subject_type, subject_id, sequence);
CREATE INDEX audit_records_by_time ON audit_records (recorded_at);

CREATE TABLE audit_checkpoints (
    tree_size    BIGINT PRIMARY KEY,
    root_hash    BYTEA  NOT NULL,
    note         TEXT   NOT NULL,
    published_at BIGINT NOT NULL
);

-- Append-only, enforced by the database itself: UPDATE, DELETE and TRUNCATE are refused by
-- triggers for every role, the owner included.
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- And by grants: the role the audit service should log in with (granted to its login role by
-- the hospital's DBA, docs/audit.md) may only read and append. Creating it needs CREATEROLE;
-- without that the triggers above still hold.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_records, audit_checkpoints FROM PUBLIC;
DO $$
BEGIN
    BEGIN
        CREATE ROLE sentinel_audit_appender NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL; -- it exists already, or another database's migration is creating it right now
    END;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO sentinel_audit_appender', current_schema());
    GRANT SELECT, INSERT ON audit_records, audit_checkpoints TO sentinel_audit_appender;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'no privilege to create role sentinel_audit_appender; triggers still enforce append-only';
END
$$;
