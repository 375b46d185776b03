-- Actions versions (issue 10, the read side, session 14): beside each
-- account's relationship version (migration 0032), a second number that moves
-- whenever one of the viewer's own flags on a status may change: what it
-- favourited, bookmarked, reblogged or pinned, and which threads it muted.
-- The store keeps those flags per (viewer, status) in memory with this
-- number and the status' row version (migration 0024: a poll added or taken
-- away by an edit, a thread) they were read at (`core/statuses.rs`,
-- `ViewerFlagsKept`), and uses them only while a home page's own read finds
-- both the same, so a change made by any process or node shows on the next
-- page. Kept in the same row as the relationship version (one per account,
-- never deleted, no foreign key: see 0032); a row first made here starts
-- its relationship version at 0, which is what no row meant.
ALTER TABLE relation_versions ADD COLUMN actions INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER action_versions_favourite_added AFTER INSERT ON favourites
BEGIN
    INSERT INTO relation_versions (account_id, n, actions) VALUES (NEW.account_id, 0, 1)
        ON CONFLICT (account_id) DO UPDATE SET actions = actions + 1;
END;
CREATE TRIGGER action_versions_favourite_changed AFTER UPDATE ON favourites
BEGIN
    INSERT INTO relation_versions (account_id, n, actions) VALUES (OLD.account_id, 0, 1), (NEW.account_id, 0, 1)
        ON CONFLICT (account_id) DO UPDATE SET actions = actions + 1;
END;
CREATE TRIGGER action_versions_favourite_removed AFTER DELETE ON favourites
BEGIN
    INSERT INTO relation_versions (account_id, n, actions) VALUES (OLD.account_id, 0, 1)
        ON CONFLICT (account_id) DO UPDATE SET actions = actions + 1;
END;

CREATE TRIGGER action_versions_bookmark_added AFTER INSERT ON bookmarks
BEGIN
    INSERT INTO relation_versions (account_id, n, actions) VALUES (NEW.account_id, 0, 1)
        ON CONFLICT (account_id) DO UPDATE SET actions = actions + 1;
END;
CREATE TRIGGER action_versions_bookmark_changed AFTER UPDATE ON bookmarks
BEGIN
    INSERT INTO relation_versions (account_id, n, actions) VALUES (OLD.account_id, 0, 1), (NEW.account_id, 0, 1)
        ON CONFLICT (account_id) DO UPDATE SET actions = actions + 1;
END;
CREATE TRIGGER action_versions_bookmark_removed AFTER DELETE ON bookmarks
BEGIN
    INSERT INTO relation_versions (account_id, n, actions) VALUES (OLD.account_id, 0, 1)
        ON CONFLICT (account_id) DO UPDATE SET actions = actions + 1;
END;

CREATE TRIGGER action_versions_pin_added AFTER INSERT ON status_pins
BEGIN
    INSERT INTO relation_versions (account_id, n, actions) VALUES (NEW.account_id, 0, 1)
        ON CONFLICT (account_id) DO UPDATE SET actions = actions + 1;
END;
CREATE TRIGGER action_versions_pin_changed AFTER UPDATE ON status_pins
BEGIN
    INSERT INTO relation_versions (account_id, n, actions) VALUES (OLD.account_id, 0, 1), (NEW.account_id, 0, 1)
        ON CONFLICT (account_id) DO UPDATE SET actions = actions + 1;
END;
CREATE TRIGGER action_versions_pin_removed AFTER DELETE ON status_pins
BEGIN
    INSERT INTO relation_versions (account_id, n, actions) VALUES (OLD.account_id, 0, 1)
        ON CONFLICT (account_id) DO UPDATE SET actions = actions + 1;
END;

CREATE TRIGGER action_versions_thread_mute_added AFTER INSERT ON conversation_mutes
BEGIN
    INSERT INTO relation_versions (account_id, n, actions) VALUES (NEW.account_id, 0, 1)
        ON CONFLICT (account_id) DO UPDATE SET actions = actions + 1;
END;
CREATE TRIGGER action_versions_thread_mute_changed AFTER UPDATE ON conversation_mutes
BEGIN
    INSERT INTO relation_versions (account_id, n, actions) VALUES (OLD.account_id, 0, 1), (NEW.account_id, 0, 1)
        ON CONFLICT (account_id) DO UPDATE SET actions = actions + 1;
END;
CREATE TRIGGER action_versions_thread_mute_removed AFTER DELETE ON conversation_mutes
BEGIN
    INSERT INTO relation_versions (account_id, n, actions) VALUES (OLD.account_id, 0, 1)
        ON CONFLICT (account_id) DO UPDATE SET actions = actions + 1;
END;

-- A reblog is a status of the reblogger's: only rows with `reblog_of_id`
-- move anything (a plain post pays one test of its row).
CREATE TRIGGER action_versions_reblog_added AFTER INSERT ON statuses
WHEN NEW.reblog_of_id IS NOT NULL
BEGIN
    INSERT INTO relation_versions (account_id, n, actions) VALUES (NEW.account_id, 0, 1)
        ON CONFLICT (account_id) DO UPDATE SET actions = actions + 1;
END;
CREATE TRIGGER action_versions_reblog_changed AFTER UPDATE OF account_id, reblog_of_id ON statuses
WHEN OLD.reblog_of_id IS NOT NULL OR NEW.reblog_of_id IS NOT NULL
BEGIN
    INSERT INTO relation_versions (account_id, n, actions) VALUES (OLD.account_id, 0, 1), (NEW.account_id, 0, 1)
        ON CONFLICT (account_id) DO UPDATE SET actions = actions + 1;
END;
CREATE TRIGGER action_versions_reblog_removed AFTER DELETE ON statuses
WHEN OLD.reblog_of_id IS NOT NULL
BEGIN
    INSERT INTO relation_versions (account_id, n, actions) VALUES (OLD.account_id, 0, 1)
        ON CONFLICT (account_id) DO UPDATE SET actions = actions + 1;
END;
