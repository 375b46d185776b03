-- Actions versions (issue 10, the read side, session 14): beside each
-- account's relationship version (migration 0032), a second number that moves
-- whenever one of the viewer's own flags on a status may change: what it
-- favourited, bookmarked, reblogged or pinned, and which threads it muted.
-- Every node keeps those flags per (viewer, status) in memory with this
-- number and the status' row version (migration 0024: a poll added or taken
-- away by an edit, a thread) they were read at (`core/statuses.rs`,
-- `ViewerFlagsKept`), and uses them only while a home page's own read finds
-- both the same, so a change made on any node or by any process shows on the
-- next page on every node. Kept in the same row as the relationship version
-- (one per account, never deleted, no foreign key: see 0032); a row first
-- made here starts its relationship version at 0, which is what no row meant.
ALTER TABLE relation_versions ADD COLUMN actions BIGINT NOT NULL DEFAULT 0;

-- One bump for both numbers: `holdfast_versions_bump(add_n, add_actions, ids)`
-- adds `add_n` to the relationship version and `add_actions` to the actions version of
-- each account, in id order (two transactions lock them in one order). The
-- relationship bump of 0032 becomes the case (1, 0) of it.
CREATE FUNCTION holdfast_versions_bump(add_n BIGINT, add_actions BIGINT, VARIADIC ids BIGINT[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO relation_versions (account_id, n, actions)
        SELECT DISTINCT id, add_n, add_actions FROM unnest(ids) AS t(id) WHERE id IS NOT NULL ORDER BY id
        ON CONFLICT (account_id) DO UPDATE
            SET n = relation_versions.n + EXCLUDED.n, actions = relation_versions.actions + EXCLUDED.actions;
$$;
CREATE OR REPLACE FUNCTION holdfast_relation_versions_bump(VARIADIC ids BIGINT[]) RETURNS void
LANGUAGE sql AS $$
    SELECT holdfast_versions_bump(1, 0, VARIADIC ids);
$$;

-- The row's owner (0032's follows, mutes, lists; here the favouriter,
-- bookmarker, pinner, thread muter, reblogger): the trigger's argument
-- 'actions' moves the actions version, none the relationship version.
CREATE OR REPLACE FUNCTION holdfast_relation_versions_owner() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    moved BIGINT := CASE WHEN TG_NARGS > 0 AND TG_ARGV[0] = 'actions' THEN 1 ELSE 0 END;
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM holdfast_versions_bump(1 - moved, moved, NEW.account_id);
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM holdfast_versions_bump(1 - moved, moved, OLD.account_id, NEW.account_id);
    ELSE
        PERFORM holdfast_versions_bump(1 - moved, moved, OLD.account_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER action_versions_favourites AFTER INSERT OR UPDATE OR DELETE ON favourites
    FOR EACH ROW EXECUTE FUNCTION holdfast_relation_versions_owner('actions');
CREATE TRIGGER action_versions_bookmarks AFTER INSERT OR UPDATE OR DELETE ON bookmarks
    FOR EACH ROW EXECUTE FUNCTION holdfast_relation_versions_owner('actions');
CREATE TRIGGER action_versions_status_pins AFTER INSERT OR UPDATE OR DELETE ON status_pins
    FOR EACH ROW EXECUTE FUNCTION holdfast_relation_versions_owner('actions');
CREATE TRIGGER action_versions_conversation_mutes AFTER INSERT OR UPDATE OR DELETE ON conversation_mutes
    FOR EACH ROW EXECUTE FUNCTION holdfast_relation_versions_owner('actions');
-- A reblog is a status of the reblogger's: only rows with `reblog_of_id`
-- move anything (a plain post calls no function).
CREATE TRIGGER action_versions_reblog_added AFTER INSERT ON statuses
    FOR EACH ROW WHEN (NEW.reblog_of_id IS NOT NULL)
    EXECUTE FUNCTION holdfast_relation_versions_owner('actions');
CREATE TRIGGER action_versions_reblog_changed AFTER UPDATE OF account_id, reblog_of_id ON statuses
    FOR EACH ROW WHEN (OLD.reblog_of_id IS NOT NULL OR NEW.reblog_of_id IS NOT NULL)
    EXECUTE FUNCTION holdfast_relation_versions_owner('actions');
CREATE TRIGGER action_versions_reblog_removed AFTER DELETE ON statuses
    FOR EACH ROW WHEN (OLD.reblog_of_id IS NOT NULL)
    EXECUTE FUNCTION holdfast_relation_versions_owner('actions');
