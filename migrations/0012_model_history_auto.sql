-- Whether nxr (1) or the user (0) had picked the model on each side of a change, so that going back to an
-- earlier model also brings back who picked it (an agent nxr had placed stays eligible for auto-upgrade).
-- NULL on rows written before this column existed.
ALTER TABLE agent_model_history ADD COLUMN from_auto_assigned INTEGER;
ALTER TABLE agent_model_history ADD COLUMN to_auto_assigned INTEGER;
