-- v1.4: agents learn their role, skills and how their model was chosen.
ALTER TABLE agents ADD COLUMN role TEXT NOT NULL DEFAULT 'custom';
ALTER TABLE agents ADD COLUMN skillset TEXT NOT NULL DEFAULT '[]';
ALTER TABLE agents ADD COLUMN model_score INTEGER;
ALTER TABLE agents ADD COLUMN model_auto_assigned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN workspace_id TEXT NOT NULL DEFAULT 'default';
ALTER TABLE agents ADD COLUMN is_default INTEGER NOT NULL DEFAULT 0;
