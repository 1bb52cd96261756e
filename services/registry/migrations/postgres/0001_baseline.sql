-- Baseline of the registry store: its schema (or SQLite file) exists and is tracked from here on.
-- Tables arrive with the issue that builds the service.
SELECT 1;
