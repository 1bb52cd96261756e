-- A role with exactly what the rules service needs at run time: read and write its own tables —
-- no DDL, no other schema, the migration history read-only. A DBA (or CloudNativePG's managed
-- roles, deploy/kubernetes/database) gives the service's login role membership in it; the schema
-- owner keeps the migrations, which run as a separate step. Roles are per server: created here
-- only when missing and when the migrating role may create roles (otherwise a DBA creates it),
-- then granted whenever it exists.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sentinel_rules_rw') THEN
        BEGIN
            CREATE ROLE sentinel_rules_rw NOLOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL; -- created meanwhile
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'no privilege to create role sentinel_rules_rw: create it before migrating (docs/kubernetes.md)';
                RETURN;
        END;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO sentinel_rules_rw', current_schema());
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO sentinel_rules_rw', current_schema());
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO sentinel_rules_rw', current_schema());
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO sentinel_rules_rw', current_schema());
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO sentinel_rules_rw', current_schema());
    -- The migration history is the owner's: the service only reads it (to refuse an old schema).
    REVOKE INSERT, UPDATE, DELETE ON _sqlx_migrations FROM sentinel_rules_rw;
END
$$;
