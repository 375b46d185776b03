-- Row versions (issue 10, home): a status or account renders the same JSON
-- for as long as its version is unchanged, so nodes may keep rendered
-- statuses and accounts and check them against the version a page reads,
-- with no invalidation messages between nodes. Triggers bump the version on
-- every change, whichever code path makes it (counts moved by other
-- triggers, edits, profile updates, moderation), so none can forget one.
-- A statement that sets the version itself is left alone (the WHEN clause),
-- which also keeps each trigger's own UPDATE from firing it again.
ALTER TABLE statuses ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER statuses_version AFTER UPDATE ON statuses WHEN NEW.version = OLD.version BEGIN
    UPDATE statuses SET version = OLD.version + 1 WHERE id = OLD.id;
END;

CREATE TRIGGER accounts_version AFTER UPDATE ON accounts WHEN NEW.version = OLD.version BEGIN
    UPDATE accounts SET version = OLD.version + 1 WHERE id = OLD.id;
END;

-- What a status shows besides its row: an attachment of a posted status
-- changed (its description, or taken off by an edit), or a mention went
-- (with the mentioned account, by cascade). Attaching at posting time is
-- not a change: the status is new.
CREATE TRIGGER media_attachments_status_version AFTER UPDATE ON media_attachments
WHEN OLD.status_id IS NOT NULL BEGIN
    UPDATE statuses SET version = version + 1 WHERE id = OLD.status_id;
END;

CREATE TRIGGER mentions_status_version AFTER DELETE ON mentions BEGIN
    UPDATE statuses SET version = version + 1 WHERE id = OLD.status_id;
END;
