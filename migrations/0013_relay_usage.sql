-- What the relay measured of each request it forwarded or refused: how long the request was held for a
-- slot of the account's minute, and how long its answer took to end (milliseconds; NULL on rows that did
-- not come through the relay).
ALTER TABLE usage_events ADD COLUMN held_ms INTEGER;
ALTER TABLE usage_events ADD COLUMN latency_ms INTEGER;
CREATE INDEX IF NOT EXISTS idx_usage_events_source_at ON usage_events(source, occurred_at);
