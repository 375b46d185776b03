-- Relationship versions (issue 10, the read side, session 12): one number per
-- account that moves whenever a fact the home rules read about that account
-- as a viewer may change: whom it follows (and whether it wants their
-- reblogs), whom it blocks and who blocks it, whom it mutes, and who is in
-- its exclusive lists. Every node keeps those facts per (viewer, account) in
-- memory with the version they were read at (`core/home_rules.rs`) and uses
-- them only while a page's own read finds the same version, so a change made
-- on any node or by any process is seen by the next page on every node. A
-- timed mute ending moves nothing: the kept entry carries the mute's end and
-- is dropped past it. No row: version 0. Rows are never deleted (a number
-- reused could match an entry kept before), and have no foreign key (a
-- cascade from a deleted account must not fail on them).
CREATE TABLE relation_versions (
    account_id BIGINT PRIMARY KEY,
    n          BIGINT NOT NULL
);

-- Moves the given accounts' versions, in id order, so that two transactions
-- moving the same two accounts (a block each way) lock them in one order.
CREATE FUNCTION holdfast_relation_versions_bump(VARIADIC ids BIGINT[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO relation_versions (account_id, n)
        SELECT DISTINCT id, 1 FROM unnest(ids) AS t(id) WHERE id IS NOT NULL ORDER BY id
        ON CONFLICT (account_id) DO UPDATE SET n = relation_versions.n + 1;
$$;

-- Follows, mutes, lists: the row's owner. Blocks: both sides (the blocker
-- filters the target; the target is blocked by its viewer).
CREATE FUNCTION holdfast_relation_versions_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM holdfast_relation_versions_bump(NEW.account_id);
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM holdfast_relation_versions_bump(OLD.account_id, NEW.account_id);
    ELSE
        PERFORM holdfast_relation_versions_bump(OLD.account_id);
    END IF;
    RETURN NULL;
END
$$;
CREATE FUNCTION holdfast_relation_versions_both() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM holdfast_relation_versions_bump(NEW.account_id, NEW.target_id);
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM holdfast_relation_versions_bump(OLD.account_id, OLD.target_id, NEW.account_id, NEW.target_id);
    ELSE
        PERFORM holdfast_relation_versions_bump(OLD.account_id, OLD.target_id);
    END IF;
    RETURN NULL;
END
$$;
-- A list member: the list's owner (the list may be gone already when its
-- deletion cascades here; the list's own trigger moves its owner then).
CREATE FUNCTION holdfast_relation_versions_list_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM holdfast_relation_versions_bump(VARIADIC ARRAY(SELECT account_id FROM lists WHERE id = NEW.list_id));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM holdfast_relation_versions_bump(VARIADIC ARRAY(SELECT account_id FROM lists WHERE id IN (OLD.list_id, NEW.list_id)));
    ELSE
        PERFORM holdfast_relation_versions_bump(VARIADIC ARRAY(SELECT account_id FROM lists WHERE id = OLD.list_id));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER relation_versions_follows AFTER INSERT OR UPDATE OR DELETE ON follows
    FOR EACH ROW EXECUTE FUNCTION holdfast_relation_versions_owner();
CREATE TRIGGER relation_versions_blocks AFTER INSERT OR UPDATE OR DELETE ON blocks
    FOR EACH ROW EXECUTE FUNCTION holdfast_relation_versions_both();
CREATE TRIGGER relation_versions_mutes AFTER INSERT OR UPDATE OR DELETE ON mutes
    FOR EACH ROW EXECUTE FUNCTION holdfast_relation_versions_owner();
CREATE TRIGGER relation_versions_lists AFTER INSERT OR UPDATE OR DELETE ON lists
    FOR EACH ROW EXECUTE FUNCTION holdfast_relation_versions_owner();
CREATE TRIGGER relation_versions_list_accounts AFTER INSERT OR UPDATE OR DELETE ON list_accounts
    FOR EACH ROW EXECUTE FUNCTION holdfast_relation_versions_list_member();
