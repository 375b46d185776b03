-- The plan of every statement a post and its fan-out run (issue 10: the cost
-- of a post must not grow with the history behind it). Run on a migrated copy
-- of a seed:  sqlite3 -readonly COPY/data/holdfast.db < bench/perf/post-plans.sql
-- Each plan must SEARCH by an index (never SCAN a table that grows with
-- history); the ids are placeholders, the plans do not depend on them.
.mode list
.print '-- idempotency key: expire, claim'
EXPLAIN QUERY PLAN DELETE FROM idempotency_keys WHERE account_id = 1 AND created_at < 2;
EXPLAIN QUERY PLAN INSERT INTO idempotency_keys (account_id, key, status_id, created_at) VALUES (1, 'k', 2, 3) ON CONFLICT (account_id, key) DO NOTHING RETURNING status_id;
.print '-- reply: the parent, its count'
EXPLAIN QUERY PLAN SELECT account_id, COALESCE(thread_id, id) FROM statuses WHERE id = 1 AND reblog_of_id IS NULL;
EXPLAIN QUERY PLAN UPDATE statuses SET replies_count = replies_count + 1 WHERE id = 1;
.print '-- the status (and its count trigger on accounts)'
EXPLAIN QUERY PLAN INSERT INTO statuses (id, account_id, text, content, spoiler_text, sensitive, visibility, language, in_reply_to_id, in_reply_to_account_id, app_id, created_at, thread_id) VALUES (1, 2, 't', 'c', '', 0, 0, NULL, NULL, NULL, NULL, 3, NULL) RETURNING id;
EXPLAIN QUERY PLAN UPDATE accounts SET statuses_count = statuses_count + 1, last_status_at = MAX(IFNULL(last_status_at, 3), 3) WHERE id = 2;
.print '-- mentions, tags, search'
EXPLAIN QUERY PLAN INSERT INTO mentions (status_id, account_id) VALUES (1, 2) ON CONFLICT DO NOTHING;
EXPLAIN QUERY PLAN INSERT INTO tags (id, name) VALUES (1, 'bench') ON CONFLICT (name) DO NOTHING;
EXPLAIN QUERY PLAN INSERT INTO status_tags (tag_id, status_id) SELECT id, 1 FROM tags WHERE name = 'bench' ON CONFLICT DO NOTHING;
-- (status_search is FTS5: a contentless table, no plan; sqlite3 older than the bundled SQLite cannot open it)
.print '-- own feed row, trim, backlog bound, fan-out job'
EXPLAIN QUERY PLAN SELECT fanout_on_read, followers_count, statuses_count FROM accounts WHERE id = 1;
EXPLAIN QUERY PLAN INSERT INTO home_feed (account_id, status_id) VALUES (1, 2) ON CONFLICT DO NOTHING;
EXPLAIN QUERY PLAN DELETE FROM home_feed WHERE account_id = 1 AND status_id <= (SELECT status_id FROM home_feed WHERE account_id = 1 ORDER BY status_id DESC LIMIT 1 OFFSET 800);
EXPLAIN QUERY PLAN SELECT MIN(id) FROM due_jobs INDEXED BY due_jobs_fanout_queue WHERE kind = 'fanout';
EXPLAIN QUERY PLAN INSERT INTO due_jobs (id, kind, target_id, due_at, owner_id, feed_trim) VALUES (1, 'fanout', 2, 3, 4, 0) ON CONFLICT (kind, target_id) DO NOTHING;
.print '-- notify subscribers'
EXPLAIN QUERY PLAN SELECT f.account_id FROM follows f WHERE f.target_id = 1 AND f.notify AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = 1 AND b.target_id = f.account_id) ORDER BY f.id LIMIT 100;
.print '-- a fan-out batch'
EXPLAIN QUERY PLAN SELECT j.id, j.target_id, j.owner_id, j.progress, j.feed_trim FROM due_jobs j INDEXED BY due_jobs_fanout_queue WHERE j.kind = 'fanout' ORDER BY j.id LIMIT 1;
EXPLAIN QUERY PLAN SELECT 1 FROM statuses WHERE id = 1;
EXPLAIN QUERY PLAN SELECT COUNT(*), MAX(x.id) FROM (SELECT id FROM follows WHERE target_id = 1 AND id > 2 ORDER BY id LIMIT 500) x;
EXPLAIN QUERY PLAN INSERT INTO home_feed (account_id, status_id) SELECT f.account_id, CAST(2 AS BIGINT) FROM follows f WHERE f.target_id = 1 AND f.id > 3 AND f.id <= 4 AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = f.account_id AND a.home_feed_built) ON CONFLICT DO NOTHING;
EXPLAIN QUERY PLAN SELECT account_id FROM follows WHERE target_id = 1 AND id > 2 AND id <= 3;
EXPLAIN QUERY PLAN UPDATE due_jobs SET progress = 2 WHERE id = 1;
EXPLAIN QUERY PLAN DELETE FROM due_jobs WHERE id = 1;
.print '-- pending jobs merged on read'
EXPLAIN QUERY PLAN SELECT j.target_id FROM due_jobs j INDEXED BY due_jobs_fanout_queue WHERE j.kind = 'fanout' AND EXISTS (SELECT 1 FROM follows f WHERE f.account_id = 1 AND f.target_id = j.owner_id AND f.id > j.progress) ORDER BY j.id DESC LIMIT 1000;
.print '-- a fan-out step that starts from the built feeds (migration 0025)'
EXPLAIN QUERY PLAN SELECT followers_count FROM accounts WHERE id = 1;
EXPLAIN QUERY PLAN SELECT COUNT(*) FROM (SELECT 1 FROM accounts INDEXED BY accounts_home_feed_built WHERE home_feed_built LIMIT 501) x;
EXPLAIN QUERY PLAN INSERT INTO home_feed (account_id, status_id) SELECT a.id, CAST(2 AS BIGINT) FROM accounts a INDEXED BY accounts_home_feed_built WHERE a.home_feed_built AND EXISTS (SELECT 1 FROM follows f WHERE f.account_id = a.id AND f.target_id = 1 AND f.id > 3) ON CONFLICT DO NOTHING RETURNING account_id;
