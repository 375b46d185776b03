-- Grouped notifications (Mastodon's /api/v2/notifications): favourites and
-- reblogs of one status, and follows, that arrive within a 12-hour span share
-- a group key, set once when the notification is written. NULL means "not
-- groupable" (the group is then `ungrouped-<id>`). The index is in byte order
-- (COLLATE "C") so that the prefix range used to find a group's latest key
-- means the same as in SQLite.
ALTER TABLE notifications ADD COLUMN group_key TEXT COLLATE "C";
CREATE INDEX notifications_by_group ON notifications (account_id, group_key, id) WHERE group_key IS NOT NULL;
