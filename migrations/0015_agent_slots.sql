-- Team mode: the routing slots of each agent's config.yaml as its host last read them (so every host
-- can show them), and slot changes asked on any host, which the agent's host writes to its file.
CREATE TABLE IF NOT EXISTS agent_slots (
    agent_id  INTEGER NOT NULL,
    slot      TEXT NOT NULL,
    provider  TEXT,
    model     TEXT,
    base_url  TEXT,
    -- The slot's place in the file (main first).
    position  INTEGER NOT NULL,
    read_at   TEXT NOT NULL,
    PRIMARY KEY (agent_id, slot)
);
CREATE TABLE IF NOT EXISTS slot_requests (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id  INTEGER NOT NULL,
    slot      TEXT NOT NULL,
    model     TEXT NOT NULL,
    force     INTEGER NOT NULL DEFAULT 0,
    asked_at  TEXT NOT NULL,
    -- The host the change was asked on.
    asked_on  TEXT NOT NULL,
    -- When the agent's host wrote it, or refused it with `error`.
    done_at   TEXT,
    error     TEXT
);
CREATE INDEX IF NOT EXISTS idx_slot_requests_pending ON slot_requests(done_at, id);
