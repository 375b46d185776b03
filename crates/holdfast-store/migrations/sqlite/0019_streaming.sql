-- Live streams ask once per event who hides its author (blocks either way,
-- mutes in force): mutes are then read by their target, as blocks already are.
CREATE INDEX mutes_by_target ON mutes(target_id);
