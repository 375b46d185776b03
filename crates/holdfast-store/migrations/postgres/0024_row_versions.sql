-- Row versions (issue 10, home): a status or account renders the same JSON
-- for as long as its version is unchanged, so nodes may keep rendered
-- statuses and accounts and check them against the version a page reads,
-- with no invalidation messages between nodes. Triggers bump the version on
-- every change, whichever code path makes it (counts moved by other
-- triggers, edits, profile updates, moderation), so none can forget one.
-- Row locks order the updates of one row, so each committed content has
-- its own version. A statement that sets the version itself is left alone.
ALTER TABLE statuses ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION holdfast_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.version = OLD.version THEN
        NEW.version := OLD.version + 1;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER statuses_version BEFORE UPDATE ON statuses
    FOR EACH ROW EXECUTE FUNCTION holdfast_bump_version();
CREATE TRIGGER accounts_version BEFORE UPDATE ON accounts
    FOR EACH ROW EXECUTE FUNCTION holdfast_bump_version();

-- What a status shows besides its row: an attachment of a posted status
-- changed (its description, or taken off by an edit), or a mention went
-- (with the mentioned account, by cascade). Attaching at posting time is
-- not a change: the status is new.
CREATE FUNCTION holdfast_status_parts_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE statuses SET version = version + 1 WHERE id = OLD.status_id;
    RETURN NULL;
END $$;

CREATE TRIGGER media_attachments_status_version AFTER UPDATE ON media_attachments
    FOR EACH ROW WHEN (OLD.status_id IS NOT NULL) EXECUTE FUNCTION holdfast_status_parts_version();
CREATE TRIGGER mentions_status_version AFTER DELETE ON mentions
    FOR EACH ROW EXECUTE FUNCTION holdfast_status_parts_version();
