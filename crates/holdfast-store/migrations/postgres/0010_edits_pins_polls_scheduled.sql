-- Statuses: editing, pins, conversation mutes, polls, scheduled statuses and
-- the due-time jobs that end polls and publish scheduled statuses (issue 14).
-- Same tables as SQLite's 0010.

ALTER TABLE statuses ADD COLUMN edited_at BIGINT;
-- The id of the status at the top of a reply's chain; NULL for a status
-- that replies to nothing (its thread is its own id).
ALTER TABLE statuses ADD COLUMN thread_id BIGINT;
WITH RECURSIVE t(id, root) AS (
    SELECT id, id FROM statuses WHERE in_reply_to_id IS NULL
    UNION ALL
    SELECT s.id, t.root FROM statuses s JOIN t ON s.in_reply_to_id = t.id
)
UPDATE statuses s SET thread_id = t.root FROM t WHERE t.id = s.id AND in_reply_to_id IS NOT NULL;

CREATE TABLE status_edits (
    id           BIGINT  PRIMARY KEY,
    status_id    BIGINT  NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
    text         TEXT    NOT NULL,
    content      TEXT    NOT NULL,
    spoiler_text TEXT    NOT NULL,
    sensitive    BOOLEAN NOT NULL,
    media_ids    TEXT    NOT NULL DEFAULT '',
    has_poll     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT  NOT NULL
);
CREATE INDEX status_edits_by_status ON status_edits(status_id, id);

CREATE TABLE status_edit_poll_options (
    edit_id  BIGINT  NOT NULL REFERENCES status_edits(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    title    TEXT    NOT NULL,
    PRIMARY KEY (edit_id, position)
);

CREATE TABLE status_pins (
    id         BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    status_id  BIGINT NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
    UNIQUE (account_id, status_id)
);

CREATE TABLE conversation_mutes (
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    thread_id  BIGINT NOT NULL,
    PRIMARY KEY (account_id, thread_id)
);

CREATE TABLE polls (
    id          BIGINT  PRIMARY KEY,
    status_id   BIGINT  NOT NULL UNIQUE REFERENCES statuses(id) ON DELETE CASCADE,
    account_id  BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    multiple    BOOLEAN NOT NULL,
    hide_totals BOOLEAN NOT NULL,
    expires_at  BIGINT  NOT NULL
);

CREATE TABLE poll_options (
    poll_id  BIGINT  NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    title    TEXT    NOT NULL,
    PRIMARY KEY (poll_id, position)
);

CREATE TABLE poll_votes (
    id         BIGINT  PRIMARY KEY,
    poll_id    BIGINT  NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    account_id BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    choice     INTEGER NOT NULL,
    UNIQUE (poll_id, account_id, choice)
);

CREATE TABLE scheduled_statuses (
    id                BIGINT  PRIMARY KEY,
    account_id        BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    scheduled_at      BIGINT  NOT NULL,
    text              TEXT    NOT NULL,
    content           TEXT    NOT NULL,
    spoiler_text      TEXT    NOT NULL,
    sensitive         BOOLEAN NOT NULL,
    visibility        INTEGER NOT NULL,
    language          TEXT,
    in_reply_to_id    BIGINT,
    app_id            BIGINT,
    mention_ids       TEXT    NOT NULL DEFAULT '',
    tags              TEXT    NOT NULL DEFAULT '',
    media_ids         TEXT    NOT NULL DEFAULT '',
    idempotency_key   TEXT,
    poll_expires_in_s BIGINT,
    poll_multiple     BOOLEAN NOT NULL DEFAULT FALSE,
    poll_hide_totals  BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (account_id, idempotency_key)
);
CREATE INDEX scheduled_statuses_by_account ON scheduled_statuses(account_id, id);

CREATE TABLE scheduled_poll_options (
    scheduled_id BIGINT  NOT NULL REFERENCES scheduled_statuses(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    title        TEXT    NOT NULL,
    PRIMARY KEY (scheduled_id, position)
);

ALTER TABLE media_attachments ADD COLUMN scheduled_status_id BIGINT REFERENCES scheduled_statuses(id) ON DELETE SET NULL;

CREATE TABLE due_jobs (
    id         BIGINT PRIMARY KEY,
    kind       TEXT   NOT NULL,
    target_id  BIGINT NOT NULL,
    due_at     BIGINT NOT NULL,
    claimed_at BIGINT,
    UNIQUE (kind, target_id)
);
CREATE INDEX due_jobs_unclaimed ON due_jobs(due_at) WHERE claimed_at IS NULL;
