-- Home fan-out as a durable job (issue 10): a post's transaction writes the
-- status, the author's own feed row and one `due_jobs` row of kind 'fanout'
-- (target: the status); workers on every node copy it into the followers'
-- feeds in bounded batches, each batch one transaction that also moves the
-- job's cursor, so a post costs the same whatever its audience and a crash
-- loses nothing (the job and its cursor commit with the rows they stand for).
--
-- owner_id: the status' author (home pages merge the statuses of pending
-- jobs whose author the reader follows, so nothing waits for the worker).
-- progress: the last `follows.id` of the author's followers already copied
-- to (followers are walked in follow id order, through follows_by_target);
-- a reader whose follow id is above it does not have the row yet.
-- feed_trim: this post also trims the feeds it reaches to home_feed_max.
-- A fan-out job is deleted when its last batch commits.
ALTER TABLE due_jobs ADD COLUMN owner_id INTEGER;
ALTER TABLE due_jobs ADD COLUMN progress INTEGER NOT NULL DEFAULT 0;
ALTER TABLE due_jobs ADD COLUMN feed_trim INTEGER NOT NULL DEFAULT 0;

-- Fan-out jobs are never "due at a time": keep them out of the due-time
-- queue's index (the due-job worker names the same condition).
DROP INDEX due_jobs_unclaimed;
CREATE INDEX due_jobs_unclaimed ON due_jobs(due_at) WHERE claimed_at IS NULL AND kind <> 'fanout';
-- The fan-out queue, oldest first, and its pending jobs by author.
CREATE INDEX due_jobs_fanout_queue ON due_jobs(id) WHERE kind = 'fanout';
CREATE INDEX due_jobs_fanout_owner ON due_jobs(owner_id) WHERE kind = 'fanout';

-- A post notifies the followers who asked for it (`notify`): found through
-- this index instead of walking every follower's row in the posting
-- transaction (9,390 row reads per post of the busiest seeded author).
CREATE INDEX follows_notify_by_target ON follows(target_id, id) WHERE notify;
