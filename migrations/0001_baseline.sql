-- Baseline: the tables the first nxr needed.
CREATE TABLE IF NOT EXISTS agents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL UNIQUE,
    model       TEXT    NOT NULL,
    provider    TEXT    NOT NULL DEFAULT 'openrouter',
    status      TEXT    NOT NULL DEFAULT 'active',
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);

CREATE TABLE IF NOT EXISTS settings (
    "key"       TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS notifications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL DEFAULT '',
    agent_id    INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    payload     TEXT,
    created_at  TEXT    NOT NULL,
    read_at     TEXT
);
CREATE INDEX IF NOT EXISTS idx_notifications_unread ON notifications(read_at);

CREATE TABLE IF NOT EXISTS usage_events (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id           INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    model              TEXT    NOT NULL,
    is_free            INTEGER NOT NULL DEFAULT 0,
    requests           INTEGER NOT NULL DEFAULT 1,
    prompt_tokens      INTEGER NOT NULL DEFAULT 0,
    completion_tokens  INTEGER NOT NULL DEFAULT 0,
    cost_usd           REAL    NOT NULL DEFAULT 0,
    status             TEXT    NOT NULL DEFAULT 'ok',
    occurred_at        TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_usage_events_at ON usage_events(occurred_at);

CREATE TABLE IF NOT EXISTS agent_model_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id    INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    from_model  TEXT,
    to_model    TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    changed_at  TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_agent_model_history_agent ON agent_model_history(agent_id, changed_at);
