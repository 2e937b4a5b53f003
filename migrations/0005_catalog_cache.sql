-- The last good OpenRouter catalog: one row per model with the fields nxr scores on, plus the raw entry.
CREATE TABLE IF NOT EXISTS catalog_models (
    id                  TEXT    PRIMARY KEY,
    name                TEXT    NOT NULL,
    context_length      INTEGER NOT NULL,
    created             INTEGER NOT NULL,
    prompt_price        TEXT    NOT NULL,
    completion_price    TEXT    NOT NULL,
    is_free             INTEGER NOT NULL,
    supports_tools      INTEGER NOT NULL,
    supports_vision     INTEGER NOT NULL,
    expiration_date     TEXT,
    raw                 TEXT    NOT NULL,
    fetched_at          TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_catalog_models_free ON catalog_models(is_free);

-- One row: where the stored catalog came from.
CREATE TABLE IF NOT EXISTS catalog_meta (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    source      TEXT    NOT NULL,
    fetched_at  TEXT    NOT NULL,
    model_count INTEGER NOT NULL,
    skipped     INTEGER NOT NULL DEFAULT 0
);
