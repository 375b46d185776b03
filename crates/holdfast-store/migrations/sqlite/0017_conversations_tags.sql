-- Conversations, followed and featured tags, dismissed suggestions, and the
-- options a follow request keeps (issue 14, social).

-- Hashtags an account follows: their public posts join its home timeline.
CREATE TABLE tag_follows (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    tag_id     INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    UNIQUE (account_id, tag_id)
);
CREATE INDEX tag_follows_by_tag ON tag_follows(tag_id);

-- Hashtags shown on a profile (`/api/v1/featured_tags`).
CREATE TABLE featured_tags (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    tag_id     INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    UNIQUE (account_id, tag_id)
);

-- The conversation (thread) each direct status belongs to: its parent's,
-- or its own id when it starts one.
CREATE TABLE direct_threads (
    status_id       INTEGER PRIMARY KEY REFERENCES statuses(id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL
);
CREATE INDEX direct_threads_by_conversation ON direct_threads(conversation_id, status_id);

-- A conversation as one participant sees it (Mastodon's AccountConversation):
-- the other participants (ids ascending, comma-separated), its newest status
-- and whether it is unread.
CREATE TABLE account_conversations (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL,
    participants    TEXT    NOT NULL,
    last_status_id  INTEGER NOT NULL,
    unread          INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, conversation_id, participants)
);
CREATE INDEX account_conversations_by_last ON account_conversations(account_id, last_status_id);

-- Suggestions an account dismissed (`DELETE /api/v1/suggestions/:id`).
CREATE TABLE suggestion_dismissals (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    target_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, target_id)
) WITHOUT ROWID;

-- A request to follow a locked account keeps the follow's options until it
-- is authorized; `languages` is comma-separated ISO 639-1 codes, NULL for all.
ALTER TABLE follow_requests ADD COLUMN reblogs INTEGER NOT NULL DEFAULT 1;
ALTER TABLE follow_requests ADD COLUMN notify INTEGER NOT NULL DEFAULT 0;
ALTER TABLE follow_requests ADD COLUMN languages TEXT;
ALTER TABLE follows ADD COLUMN languages TEXT;
