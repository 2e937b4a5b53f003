-- Team mode: every agent runs on one host (a machine's stable name; '' = an agent from before hosts,
-- claimed by the host that has its profile), and every host that runs nxr beats in `hosts`.
ALTER TABLE agents ADD COLUMN host TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS idx_agents_host ON agents(host);
CREATE TABLE IF NOT EXISTS hosts (
    name         TEXT PRIMARY KEY,
    first_seen   TEXT NOT NULL,
    last_seen    TEXT NOT NULL,
    version      TEXT NOT NULL DEFAULT '',
    -- 1 while an `nxr serve` runs there (it reconciles every few seconds), 0 when only commands ran.
    serving      INTEGER NOT NULL DEFAULT 0,
    -- When this host last made its profiles agree with the database, and what it could not do.
    reconciled_at TEXT,
    last_error   TEXT
);
-- The host whose config.yaml a model switch journal row is about ('' = rows from before hosts).
ALTER TABLE model_switch_journal ADD COLUMN host TEXT NOT NULL DEFAULT '';
