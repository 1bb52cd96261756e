-- When a credential stops working (µs since the Unix epoch, UTC); NULL: valid until revoked.
ALTER TABLE credentials ADD COLUMN expires_at BIGINT;
