-- Statuses: editing, pins, conversation mutes, polls, scheduled statuses and
-- the due-time jobs that end polls and publish scheduled statuses (issue 14).

-- When the status was last edited (ms); NULL: never.
ALTER TABLE statuses ADD COLUMN edited_at INTEGER;
-- The thread a reply belongs to: the id of the status at the top of its
-- reply chain. NULL for a status that replies to nothing (or whose parent
-- was gone when it was written): its thread is its own id. Muting a
-- conversation mutes a thread.
ALTER TABLE statuses ADD COLUMN thread_id INTEGER;
WITH RECURSIVE t(id, root) AS (
    SELECT id, id FROM statuses WHERE in_reply_to_id IS NULL
    UNION ALL
    SELECT s.id, t.root FROM statuses s JOIN t ON s.in_reply_to_id = t.id
)
UPDATE statuses SET thread_id = (SELECT root FROM t WHERE t.id = statuses.id) WHERE in_reply_to_id IS NOT NULL;

-- Earlier versions of edited statuses. The first edit also records the
-- original, so a history is complete; a status never edited has none.
CREATE TABLE status_edits (
    id           INTEGER PRIMARY KEY,
    status_id    INTEGER NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
    text         TEXT    NOT NULL,
    content      TEXT    NOT NULL,
    spoiler_text TEXT    NOT NULL,
    sensitive    INTEGER NOT NULL,
    -- The attachments of this version, as space-separated ids, in order.
    media_ids    TEXT    NOT NULL DEFAULT '',
    -- Whether this version had a poll (its options are in status_edit_poll_options).
    has_poll     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
);
CREATE INDEX status_edits_by_status ON status_edits(status_id, id);

CREATE TABLE status_edit_poll_options (
    edit_id  INTEGER NOT NULL REFERENCES status_edits(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    title    TEXT    NOT NULL,
    PRIMARY KEY (edit_id, position)
) WITHOUT ROWID;

-- Statuses featured on their author's profile.
CREATE TABLE status_pins (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    status_id  INTEGER NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
    UNIQUE (account_id, status_id)
);

-- Threads an account gets no notifications from.
CREATE TABLE conversation_mutes (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    thread_id  INTEGER NOT NULL,
    PRIMARY KEY (account_id, thread_id)
) WITHOUT ROWID;

CREATE TABLE polls (
    id          INTEGER PRIMARY KEY,
    status_id   INTEGER NOT NULL UNIQUE REFERENCES statuses(id) ON DELETE CASCADE,
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    multiple    INTEGER NOT NULL,
    hide_totals INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE poll_options (
    poll_id  INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    title    TEXT    NOT NULL,
    PRIMARY KEY (poll_id, position)
) WITHOUT ROWID;

-- One row per chosen option: a multiple-choice vote is several rows.
CREATE TABLE poll_votes (
    id         INTEGER PRIMARY KEY,
    poll_id    INTEGER NOT NULL REFERENCES polls(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    choice     INTEGER NOT NULL,
    UNIQUE (poll_id, account_id, choice)
);

-- Statuses to be published later, prepared when they were scheduled
-- (rendered HTML, resolved mentions and tags); published by a due job.
CREATE TABLE scheduled_statuses (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    scheduled_at     INTEGER NOT NULL,
    text             TEXT    NOT NULL,
    content          TEXT    NOT NULL,
    spoiler_text     TEXT    NOT NULL,
    sensitive        INTEGER NOT NULL,
    visibility       INTEGER NOT NULL,
    language         TEXT,
    in_reply_to_id   INTEGER,
    app_id           INTEGER,
    -- Space-separated ids of the mentioned accounts, and the tag names.
    mention_ids      TEXT    NOT NULL DEFAULT '',
    tags             TEXT    NOT NULL DEFAULT '',
    media_ids        TEXT    NOT NULL DEFAULT '',
    idempotency_key  TEXT,
    -- The poll to attach, if any: options (in scheduled_poll_options), length, kind.
    poll_expires_in_s INTEGER,
    poll_multiple    INTEGER NOT NULL DEFAULT 0,
    poll_hide_totals INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, idempotency_key)
);
CREATE INDEX scheduled_statuses_by_account ON scheduled_statuses(account_id, id);

CREATE TABLE scheduled_poll_options (
    scheduled_id INTEGER NOT NULL REFERENCES scheduled_statuses(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    title        TEXT    NOT NULL,
    PRIMARY KEY (scheduled_id, position)
) WITHOUT ROWID;

-- Uploads reserved by a scheduled status are not swept as unattached.
ALTER TABLE media_attachments ADD COLUMN scheduled_status_id INTEGER REFERENCES scheduled_statuses(id) ON DELETE SET NULL;

-- Work due at a time: `poll` (notify when a poll ends) and `scheduled`
-- (publish a scheduled status). A node claims a due row with one UPDATE
-- ... WHERE claimed_at IS NULL in the same transaction that does the work,
-- so each job runs exactly once, across restarts and across nodes.
CREATE TABLE due_jobs (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL,
    target_id  INTEGER NOT NULL,
    due_at     INTEGER NOT NULL,
    claimed_at INTEGER,
    UNIQUE (kind, target_id)
);
CREATE INDEX due_jobs_unclaimed ON due_jobs(due_at) WHERE claimed_at IS NULL;
