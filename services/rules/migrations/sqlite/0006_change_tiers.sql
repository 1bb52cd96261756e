-- The tier an alert stood at when each change happened, so WatchAlerts can route changes to the
-- people holding that tier.
ALTER TABLE alert_changes ADD COLUMN tier BIGINT NOT NULL DEFAULT 0;
