-- A home feed is built in two steps (issue 10, pg; `core/home_feed.rs`):
-- opened to fan-out first (`home_feed_built`: posts from then on reach it
-- by their fan-out jobs), then filled from history (`home_feed_filled`:
-- pages read from it only from then on). So a build no longer excludes
-- every post on the cluster while it reads history. Feeds built before this
-- migration were built in one step: they are filled.
ALTER TABLE accounts ADD COLUMN home_feed_filled BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE accounts SET home_feed_filled = TRUE WHERE home_feed_built;
