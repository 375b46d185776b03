-- The accounts whose home feed is built (issue 10, post): a fan-out batch
-- copies a post only into built feeds (SQLite), and when fewer feeds are
-- built than the author has followers it starts from this side instead of
-- walking every follower (`core/fanout.rs`, `copy_to_few_built_feeds`).
CREATE INDEX accounts_home_feed_built ON accounts(id) WHERE home_feed_built;
