-- Media attachments (issue 7): the same table as migrations/sqlite/0003_media.sql.
CREATE TABLE media_attachments (
    id          BIGINT  PRIMARY KEY DEFAULT holdfast_next_id(),
    account_id  BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    status_id   BIGINT  REFERENCES statuses(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL DEFAULT 0,
    kind        TEXT    NOT NULL,
    description TEXT,
    focus_x     DOUBLE PRECISION,
    focus_y     DOUBLE PRECISION,
    meta        TEXT    NOT NULL,
    blurhash    TEXT,
    file_key    TEXT    NOT NULL,
    preview_key TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX media_by_status ON media_attachments(status_id) WHERE status_id IS NOT NULL;
CREATE INDEX media_unattached ON media_attachments(created_at) WHERE status_id IS NULL;
CREATE INDEX media_by_account ON media_attachments(account_id);

-- The media bytes themselves. In a cluster they live in PostgreSQL, so every
-- node can serve them and they survive a failover with the rest of the data
-- (synchronous replication covers them like any row); no extra service to run.
CREATE TABLE media_blobs (
    key        TEXT   PRIMARY KEY,
    bytes      BYTEA  NOT NULL,
    created_at BIGINT NOT NULL
);
-- Bytes are already compressed (JPEG/PNG): do not let TOAST try again.
ALTER TABLE media_blobs ALTER COLUMN bytes SET STORAGE EXTERNAL;

ALTER TABLE accounts ADD COLUMN avatar_key TEXT;
ALTER TABLE accounts ADD COLUMN header_key TEXT;
