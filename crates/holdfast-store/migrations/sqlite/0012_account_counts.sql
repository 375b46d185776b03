-- Follower, following and status counts live in the account row (issue 10).
-- Computed with COUNT on every account rendered, they cost as much as the
-- account is popular: ~50 ms for an account with 100k followers, on every
-- status of theirs in every timeline. Triggers keep them: every insert and
-- delete, including foreign-key cascades (a status deleted takes its reblogs
-- with it; a block removes follows), moves them in the same transaction, so
-- no code path can forget one. Direct messages (visibility 3) do not count,
-- as before.
ALTER TABLE accounts ADD COLUMN followers_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN following_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN statuses_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN last_status_at INTEGER;

UPDATE accounts SET
    followers_count = (SELECT COUNT(*) FROM follows f WHERE f.target_id = accounts.id),
    following_count = (SELECT COUNT(*) FROM follows f WHERE f.account_id = accounts.id),
    statuses_count  = (SELECT COUNT(*) FROM statuses s WHERE s.account_id = accounts.id AND s.visibility <> 3),
    last_status_at  = (SELECT MAX(s.created_at) FROM statuses s WHERE s.account_id = accounts.id AND s.visibility <> 3);

-- One statement for both rows: in PostgreSQL it locks them in index order, so
-- A following B while B follows A cannot deadlock; SQLite keeps the same shape.
CREATE TRIGGER follows_counts_insert AFTER INSERT ON follows BEGIN
    UPDATE accounts
       SET followers_count = followers_count + (id = NEW.target_id),
           following_count = following_count + (id = NEW.account_id)
     WHERE id IN (NEW.target_id, NEW.account_id);
END;

CREATE TRIGGER follows_counts_delete AFTER DELETE ON follows BEGIN
    UPDATE accounts
       SET followers_count = followers_count - (id = OLD.target_id),
           following_count = following_count - (id = OLD.account_id)
     WHERE id IN (OLD.target_id, OLD.account_id);
END;

CREATE TRIGGER statuses_counts_insert AFTER INSERT ON statuses WHEN NEW.visibility <> 3 BEGIN
    UPDATE accounts
       SET statuses_count = statuses_count + 1,
           last_status_at = MAX(IFNULL(last_status_at, NEW.created_at), NEW.created_at)
     WHERE id = NEW.account_id;
END;

-- last_status_at is looked up again only when the newest status went.
CREATE TRIGGER statuses_counts_delete AFTER DELETE ON statuses WHEN OLD.visibility <> 3 BEGIN
    UPDATE accounts
       SET statuses_count = statuses_count - 1,
           last_status_at = CASE WHEN OLD.created_at < IFNULL(last_status_at, 0) THEN last_status_at
                                 ELSE (SELECT MAX(s.created_at) FROM statuses s WHERE s.account_id = OLD.account_id AND s.visibility <> 3) END
     WHERE id = OLD.account_id;
END;
