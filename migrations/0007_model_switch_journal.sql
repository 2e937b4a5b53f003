-- A model switch in flight: written before an agent's config.yaml is changed, removed in the same
-- transaction that records the switch in `agents`. A row left behind (the process was killed between
-- the file write and the commit) tells the next nxr to put the file back as it was.
CREATE TABLE IF NOT EXISTS model_switch_journal (
    agent_id       INTEGER PRIMARY KEY,
    config_path    TEXT    NOT NULL,
    -- The whole file before the switch; NULL when it did not exist.
    config_before  BLOB,
    to_model       TEXT    NOT NULL,
    started_at     TEXT    NOT NULL
);
