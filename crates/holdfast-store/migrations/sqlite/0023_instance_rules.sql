-- 0023 (webui, issue 13): the server rules live in the database, edited by
-- admins from the moderation pages. The config file's `[instance] rules`
-- seed the table once (ids 1..n: reports made before this table named rules
-- by position, so those reports keep pointing at the same rules). A deleted
-- rule stays as a row with `deleted_at` set, as in Mastodon, so a report
-- that cited it still shows which rule it was. Rules are listed by
-- `priority` (smallest first), then id, as Mastodon orders them. Same as PostgreSQL's 0023.
CREATE TABLE instance_rules (
    id         INTEGER PRIMARY KEY,
    priority   INTEGER NOT NULL,
    text       TEXT    NOT NULL,
    hint       TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER
);
CREATE INDEX instance_rules_in_order ON instance_rules (priority, id);
