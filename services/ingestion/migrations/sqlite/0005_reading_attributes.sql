-- What a device said about how it measured, beside the measurement (body site, specimen, which
-- user of a shared device): a JSON array of {"name", "value"}, empty for readings stored before.
ALTER TABLE readings ADD COLUMN attributes TEXT NOT NULL DEFAULT '[]';
