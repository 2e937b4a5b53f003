-- The model a user had chosen in a Hermes profile before nxr first put an agent there (e.g. the root
-- profile's model.default when the hermes agent is created), so `nxr agents revert` can go back to it.
CREATE TABLE IF NOT EXISTS agent_user_models (
    agent_id       INTEGER PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
    model          TEXT    NOT NULL,
    provider       TEXT,
    base_url       TEXT,
    -- The dated copy of config.yaml nxr kept before its change.
    config_backup  TEXT,
    recorded_at    TEXT    NOT NULL
);
