-- Relationship versions (issue 10, the read side, session 12): one number per
-- account that moves whenever a fact the home rules read about that account
-- as a viewer may change: whom it follows (and whether it wants their
-- reblogs), whom it blocks and who blocks it, whom it mutes, and who is in
-- its exclusive lists. The store keeps those facts per (viewer, account) in
-- memory with the version they were read at (`core/home_rules.rs`) and uses
-- them only while a page's own read finds the same version, so a change made
-- by any process or node is seen by the next page. A timed mute ending moves
-- nothing: the kept entry carries the mute's end and is dropped past it.
-- No row: version 0. Rows are never deleted (a number reused could match an
-- entry kept before), and have no foreign key (a cascade from a deleted
-- account must not fail on them).
CREATE TABLE relation_versions (
    account_id INTEGER PRIMARY KEY,
    n          INTEGER NOT NULL
);

CREATE TRIGGER relation_versions_follow_added AFTER INSERT ON follows
BEGIN
    INSERT INTO relation_versions (account_id, n) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER relation_versions_follow_changed AFTER UPDATE ON follows
BEGIN
    INSERT INTO relation_versions (account_id, n) VALUES (OLD.account_id, 1), (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER relation_versions_follow_removed AFTER DELETE ON follows
BEGIN
    INSERT INTO relation_versions (account_id, n) VALUES (OLD.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET n = n + 1;
END;

-- A block moves both sides: the blocker filters the target, the target is
-- blocked by its viewer.
CREATE TRIGGER relation_versions_block_added AFTER INSERT ON blocks
BEGIN
    INSERT INTO relation_versions (account_id, n) VALUES (NEW.account_id, 1), (NEW.target_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER relation_versions_block_changed AFTER UPDATE ON blocks
BEGIN
    INSERT INTO relation_versions (account_id, n)
        VALUES (OLD.account_id, 1), (OLD.target_id, 1), (NEW.account_id, 1), (NEW.target_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER relation_versions_block_removed AFTER DELETE ON blocks
BEGIN
    INSERT INTO relation_versions (account_id, n) VALUES (OLD.account_id, 1), (OLD.target_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER relation_versions_mute_added AFTER INSERT ON mutes
BEGIN
    INSERT INTO relation_versions (account_id, n) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER relation_versions_mute_changed AFTER UPDATE ON mutes
BEGIN
    INSERT INTO relation_versions (account_id, n) VALUES (OLD.account_id, 1), (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER relation_versions_mute_removed AFTER DELETE ON mutes
BEGIN
    INSERT INTO relation_versions (account_id, n) VALUES (OLD.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET n = n + 1;
END;

-- Exclusive lists: a list's owner moves when the list is made, changed or
-- deleted, or a member is added or removed.
CREATE TRIGGER relation_versions_list_added AFTER INSERT ON lists
BEGIN
    INSERT INTO relation_versions (account_id, n) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER relation_versions_list_changed AFTER UPDATE ON lists
BEGIN
    INSERT INTO relation_versions (account_id, n) VALUES (OLD.account_id, 1), (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER relation_versions_list_removed AFTER DELETE ON lists
BEGIN
    INSERT INTO relation_versions (account_id, n) VALUES (OLD.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER relation_versions_list_member_added AFTER INSERT ON list_accounts
BEGIN
    INSERT INTO relation_versions (account_id, n)
        SELECT account_id, 1 FROM lists WHERE id = NEW.list_id
        ON CONFLICT (account_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER relation_versions_list_member_changed AFTER UPDATE ON list_accounts
BEGIN
    INSERT INTO relation_versions (account_id, n)
        SELECT account_id, 1 FROM lists WHERE id IN (OLD.list_id, NEW.list_id)
        ON CONFLICT (account_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER relation_versions_list_member_removed AFTER DELETE ON list_accounts
BEGIN
    INSERT INTO relation_versions (account_id, n)
        SELECT account_id, 1 FROM lists WHERE id = OLD.list_id
        ON CONFLICT (account_id) DO UPDATE SET n = n + 1;
END;
