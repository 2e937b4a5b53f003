-- v1.4: every score of every (model, role) a rescore computed.
CREATE TABLE IF NOT EXISTS model_scores (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id           TEXT    NOT NULL,
    role               TEXT    NOT NULL,
    total_score        INTEGER NOT NULL,
    context_score      INTEGER NOT NULL,
    capability_score   INTEGER NOT NULL,
    tools_score        INTEGER NOT NULL,
    recency_score      INTEGER NOT NULL,
    reliability_score  INTEGER NOT NULL,
    price_score        INTEGER NOT NULL,
    passes             INTEGER NOT NULL DEFAULT 1,
    is_free            INTEGER NOT NULL DEFAULT 0,
    reasons            TEXT    NOT NULL DEFAULT '[]',
    scored_at          TEXT    NOT NULL,
    UNIQUE (model_id, role, scored_at)
);
CREATE INDEX IF NOT EXISTS idx_model_scores_role ON model_scores(role);
CREATE INDEX IF NOT EXISTS idx_model_scores_is_free ON model_scores(is_free);
