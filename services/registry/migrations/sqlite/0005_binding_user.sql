-- The user slot of a shared device (a home cuff's or a family scale's user index, 0 to 254) a
-- binding is for; NULL: the binding is for the whole device, whoever measured.
ALTER TABLE bindings ADD COLUMN device_user INTEGER;
