-- Which Paperclip agent each nxr agent runs as. No foreign key on agent_id: when an agent is deleted in nxr,
-- its link stays until the next `nxr paperclip sync` removes the Paperclip agent too.
CREATE TABLE IF NOT EXISTS paperclip_links (
    agent_id            INTEGER PRIMARY KEY,
    agent_name          TEXT    NOT NULL,
    company_id          TEXT    NOT NULL,
    paperclip_agent_id  TEXT    NOT NULL,
    -- What the last sync left in Paperclip (model id, nxr skills as a JSON array), so the next sync can tell
    -- which side changed.
    synced_model        TEXT    NOT NULL,
    synced_skills       TEXT    NOT NULL DEFAULT '[]',
    -- The UTC day (YYYY-MM-DD) on which the budget guard paused the agent in Paperclip; NULL when it did not.
    budget_paused_on    TEXT,
    synced_at           TEXT    NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_paperclip_links_pid ON paperclip_links(paperclip_agent_id);
