-- Materialized home timelines with a hybrid fan-out (issue 10).
--
-- `home_feed` holds, per reader, the ids of statuses that may belong on their
-- home timeline: written when a status is posted (to its author and the
-- author's followers), when a follow starts (the followee's recent statuses)
-- and when a reader without a feed first opens it (a rebuild). It is a list of
-- candidates, not of answers: the home query still applies every rule (the
-- author is followed, visibility, blocks, mutes, suspensions, reblog and reply
-- options) to the rows it reads, so a status deleted or made invisible
-- disappears at once without touching the feed. No foreign keys, so that a
-- fan-out costs one index entry per follower; a row whose status is gone is
-- dropped by the join and, later, by trimming.
CREATE TABLE home_feed (
    account_id INTEGER NOT NULL,
    status_id  INTEGER NOT NULL,
    PRIMARY KEY (account_id, status_id)
) WITHOUT ROWID;

-- Set once the account's feed was built (or rebuilt); until then the home
-- query builds it first.
ALTER TABLE accounts ADD COLUMN home_feed_built INTEGER NOT NULL DEFAULT 0;
-- Set (never cleared) once the account posted with at least
-- `home_fanout_followers_max` followers: its statuses are then read from its
-- own index when a follower opens home (merge on read), not copied to every
-- follower. Never cleared, so none of its statuses can fall between the two.
ALTER TABLE accounts ADD COLUMN fanout_on_read INTEGER NOT NULL DEFAULT 0;
CREATE INDEX accounts_fanout_on_read ON accounts (id) WHERE fanout_on_read;
