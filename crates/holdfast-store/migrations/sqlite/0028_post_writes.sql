-- Search entries waiting for the end of their transaction (issue 10, post).
-- The writer runs each queued write in a savepoint of one group-commit
-- transaction, and FTS5 writes what it holds in memory to disk at every
-- savepoint: a new index segment per post, each merged again and again
-- later. So a post's entry waits here, and the writer moves all of them
-- into `status_search` once, just before the commit (`runner::run_batch`):
-- one segment per transaction, never seen by a reader (they see committed
-- data only, when this table is empty again).
CREATE TABLE status_search_queue (
    status_id INTEGER PRIMARY KEY REFERENCES statuses (id) ON DELETE CASCADE,
    body      TEXT NOT NULL
);

-- A post moves its author's count and, through `accounts_version`, wrote
-- the author's row a second time for the version (migration 0024): the
-- count's own UPDATE now moves the version too, which that trigger leaves
-- alone (its WHEN clause).
DROP TRIGGER statuses_counts_insert;
CREATE TRIGGER statuses_counts_insert AFTER INSERT ON statuses WHEN NEW.visibility <> 3 BEGIN
    UPDATE accounts
       SET statuses_count = statuses_count + 1,
           last_status_at = MAX(IFNULL(last_status_at, NEW.created_at), NEW.created_at),
           version = version + 1
     WHERE id = NEW.account_id;
END;
