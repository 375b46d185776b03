-- Media attachments (issue 7). An upload is a row here plus its files in the
-- media store (files under <data_dir>/media/ on SQLite); `status_id` stays NULL
-- until a status takes it, and unattached rows expire (media clean-up task).
CREATE TABLE media_attachments (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    status_id   INTEGER REFERENCES statuses(id) ON DELETE CASCADE,
    -- Order among the status' attachments, as the client listed them.
    position    INTEGER NOT NULL DEFAULT 0,
    kind        TEXT    NOT NULL,
    description TEXT,
    focus_x     REAL,
    focus_y     REAL,
    -- {"original": {...}, "small": {...}} as Mastodon renders it (without focus).
    meta        TEXT    NOT NULL,
    blurhash    TEXT,
    file_key    TEXT    NOT NULL,
    preview_key TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX media_by_status ON media_attachments(status_id) WHERE status_id IS NOT NULL;
CREATE INDEX media_unattached ON media_attachments(created_at) WHERE status_id IS NULL;
CREATE INDEX media_by_account ON media_attachments(account_id);

-- Avatar and header: keys in the media store; NULL means the default picture.
ALTER TABLE accounts ADD COLUMN avatar_key TEXT;
ALTER TABLE accounts ADD COLUMN header_key TEXT;
