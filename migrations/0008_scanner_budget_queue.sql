-- The scanner, the usage ingest from Hermes, the free-tier guard and the task queue.

-- A notification with a dedupe key is recorded at most once (e.g. one per agent and proposed model).
ALTER TABLE notifications ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS idx_notifications_dedupe ON notifications(dedupe_key) WHERE dedupe_key IS NOT NULL;

-- Where a usage row came from ('nxr' or 'hermes') and, for a rate-limit row, which limit was hit
-- (per_minute, per_day, upstream, funding, other).
ALTER TABLE usage_events ADD COLUMN source TEXT NOT NULL DEFAULT 'nxr';
ALTER TABLE usage_events ADD COLUMN rate_limit_kind TEXT;
ALTER TABLE usage_events ADD COLUMN detail TEXT;
CREATE INDEX IF NOT EXISTS idx_usage_events_free_at ON usage_events(is_free, occurred_at);

-- How much of each Hermes `session_model_usage` row has been ingested already, so an ingest adds only
-- what is new (the rows' counters grow while a session runs).
CREATE TABLE IF NOT EXISTS usage_ingest (
    agent_id       INTEGER NOT NULL,
    source_key     TEXT    NOT NULL,
    api_calls      INTEGER NOT NULL DEFAULT 0,
    input_tokens   INTEGER NOT NULL DEFAULT 0,
    output_tokens  INTEGER NOT NULL DEFAULT 0,
    cost_usd       REAL    NOT NULL DEFAULT 0,
    updated_at     TEXT    NOT NULL,
    PRIMARY KEY (agent_id, source_key)
);

-- One row per scan (nxr scan, nxr serve).
CREATE TABLE IF NOT EXISTS scans (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at     TEXT    NOT NULL,
    finished_at    TEXT,
    holder         TEXT    NOT NULL DEFAULT '',
    status         TEXT    NOT NULL DEFAULT 'running',
    models         INTEGER NOT NULL DEFAULT 0,
    notifications  INTEGER NOT NULL DEFAULT 0,
    error          TEXT
);
CREATE INDEX IF NOT EXISTS idx_scans_started ON scans(started_at);

-- Leases: which nxr instance may do a shared periodic job (e.g. the scan) until when.
CREATE TABLE IF NOT EXISTS leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

-- Agents' tasks held back while the free daily bucket is empty; drained after the reset.
CREATE TABLE IF NOT EXISTS task_queue (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id     INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    agent_name   TEXT    NOT NULL,
    prompt       TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'queued',
    queued_at    TEXT    NOT NULL,
    run_after    TEXT    NOT NULL,
    started_at   TEXT,
    finished_at  TEXT,
    exit_code    INTEGER,
    output       TEXT,
    error        TEXT
);
CREATE INDEX IF NOT EXISTS idx_task_queue_status ON task_queue(status, id);

-- Per UTC day and agent (0 = none): totals of `usage_events`, kept by a trigger, so the budget's
-- 7 / 30 day figures read at most 30 rows per agent however long the history is.
CREATE TABLE IF NOT EXISTS usage_daily (
    day            TEXT    NOT NULL,
    agent_id       INTEGER NOT NULL DEFAULT 0,
    requests       INTEGER NOT NULL DEFAULT 0,
    free_requests  INTEGER NOT NULL DEFAULT 0,
    tokens         INTEGER NOT NULL DEFAULT 0,
    cost_usd       REAL    NOT NULL DEFAULT 0,
    last_at        TEXT,
    PRIMARY KEY (day, agent_id)
);
INSERT OR IGNORE INTO usage_daily (day, agent_id, requests, free_requests, tokens, cost_usd, last_at)
    SELECT substr(occurred_at, 1, 10), COALESCE(agent_id, 0), SUM(requests),
           SUM(CASE WHEN is_free = 1 THEN requests ELSE 0 END),
           SUM(prompt_tokens + completion_tokens), SUM(cost_usd), MAX(occurred_at)
    FROM usage_events GROUP BY 1, 2;
CREATE TRIGGER IF NOT EXISTS usage_events_daily AFTER INSERT ON usage_events
BEGIN
    INSERT INTO usage_daily (day, agent_id, requests, free_requests, tokens, cost_usd, last_at)
    VALUES (substr(NEW.occurred_at, 1, 10), COALESCE(NEW.agent_id, 0), NEW.requests,
            CASE WHEN NEW.is_free = 1 THEN NEW.requests ELSE 0 END,
            NEW.prompt_tokens + NEW.completion_tokens, NEW.cost_usd, NEW.occurred_at)
    ON CONFLICT (day, agent_id) DO UPDATE SET
        requests = requests + excluded.requests,
        free_requests = free_requests + excluded.free_requests,
        tokens = tokens + excluded.tokens,
        cost_usd = cost_usd + excluded.cost_usd,
        last_at = MAX(COALESCE(last_at, ''), excluded.last_at);
END;
CREATE INDEX IF NOT EXISTS idx_usage_events_status ON usage_events(status, occurred_at);
