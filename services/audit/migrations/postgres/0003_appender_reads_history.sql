-- The audit appender (0002) is granted whenever it exists — also when a DBA or CloudNativePG's
-- managed roles created it because the migrating role may not create roles — and it also reads
-- the migration history, so a service running as it can refuse a schema older than it needs.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sentinel_audit_appender') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO sentinel_audit_appender', current_schema());
        GRANT SELECT, INSERT ON audit_records, audit_checkpoints TO sentinel_audit_appender;
        GRANT SELECT ON _sqlx_migrations TO sentinel_audit_appender;
    ELSE
        RAISE NOTICE 'no role sentinel_audit_appender: create it before migrating (docs/kubernetes.md)';
    END IF;
END
$$;
