-- The IANA zone a device's clock is set to, for timestamps that carry none.
ALTER TABLE devices ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
