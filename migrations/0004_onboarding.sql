-- v1.4: the record of `nxr init` / the /setup wizard.
CREATE TABLE IF NOT EXISTS onboarding (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    mode                     TEXT    NOT NULL CHECK (mode IN ('free', 'key')),
    started_at               TEXT    NOT NULL,
    completed_at             TEXT,
    agents_created           TEXT    NOT NULL DEFAULT '[]',
    initial_free_models      TEXT    NOT NULL DEFAULT '{}',
    ollama_detected          INTEGER NOT NULL DEFAULT 0,
    faster_whisper_detected  INTEGER NOT NULL DEFAULT 0,
    steps_completed          TEXT    NOT NULL DEFAULT '[]'
);
