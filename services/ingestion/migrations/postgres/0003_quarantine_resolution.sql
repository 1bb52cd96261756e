-- A quarantined reading resubmitted and accepted names the reading it became.
ALTER TABLE quarantine ADD COLUMN resolved_by TEXT NOT NULL DEFAULT '';
