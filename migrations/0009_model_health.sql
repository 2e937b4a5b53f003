-- Endpoint health per model from OpenRouter's endpoints API (GET /models/{author}/{slug}/endpoints),
-- fetched for the top candidates of each role during `nxr catalog refresh`. The uptime feeds the
-- reliability sub-score; a model never checked stays neutral.
CREATE TABLE IF NOT EXISTS model_health (
    model_id        TEXT PRIMARY KEY,
    -- The best endpoint's uptime over the last day (else the last 30 minutes), in permille.
    uptime_permille INTEGER NOT NULL,
    endpoints       INTEGER NOT NULL,
    checked_at      TEXT NOT NULL
);
