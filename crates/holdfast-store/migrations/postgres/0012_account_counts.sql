-- Follower, following and status counts live in the account row (issue 10).
-- Computed with COUNT on every account rendered, they cost as much as the
-- account is popular: ~50 ms for an account with 100k followers, on every
-- status of theirs in every timeline. Triggers keep them: every insert and
-- delete, including foreign-key cascades (a status deleted takes its reblogs
-- with it; a block removes follows), moves them in the same transaction, so
-- no code path can forget one. Direct messages (visibility 3) do not count,
-- as before.
ALTER TABLE accounts
    ADD COLUMN followers_count BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN following_count BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN statuses_count  BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN last_status_at  BIGINT;

UPDATE accounts SET
    followers_count = (SELECT COUNT(*) FROM follows f WHERE f.target_id = accounts.id),
    following_count = (SELECT COUNT(*) FROM follows f WHERE f.account_id = accounts.id),
    statuses_count  = (SELECT COUNT(*) FROM statuses s WHERE s.account_id = accounts.id AND s.visibility <> 3),
    last_status_at  = (SELECT MAX(s.created_at) FROM statuses s WHERE s.account_id = accounts.id AND s.visibility <> 3);

-- One statement for both rows locks them in index order, so A following B
-- while B follows A cannot deadlock.
CREATE FUNCTION holdfast_follows_counts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r follows%ROWTYPE;
    step BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN r := NEW; step := 1; ELSE r := OLD; step := -1; END IF;
    UPDATE accounts
       SET followers_count = followers_count + CASE WHEN id = r.target_id THEN step ELSE 0 END,
           following_count = following_count + CASE WHEN id = r.account_id THEN step ELSE 0 END
     WHERE id IN (r.target_id, r.account_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER follows_counts AFTER INSERT OR DELETE ON follows
    FOR EACH ROW EXECUTE FUNCTION holdfast_follows_counts();

-- last_status_at is looked up again only when the newest status went.
CREATE FUNCTION holdfast_statuses_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.visibility <> 3 THEN
            UPDATE accounts
               SET statuses_count = statuses_count + 1,
                   last_status_at = GREATEST(COALESCE(last_status_at, NEW.created_at), NEW.created_at)
             WHERE id = NEW.account_id;
        END IF;
    ELSIF OLD.visibility <> 3 THEN
        UPDATE accounts
           SET statuses_count = statuses_count - 1,
               last_status_at = CASE WHEN OLD.created_at < COALESCE(last_status_at, 0) THEN last_status_at
                                     ELSE (SELECT MAX(s.created_at) FROM statuses s WHERE s.account_id = OLD.account_id AND s.visibility <> 3) END
         WHERE id = OLD.account_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER statuses_counts AFTER INSERT OR DELETE ON statuses
    FOR EACH ROW EXECUTE FUNCTION holdfast_statuses_counts();
