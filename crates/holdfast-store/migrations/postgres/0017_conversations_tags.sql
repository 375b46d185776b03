-- Conversations, followed and featured tags, dismissed suggestions, and the
-- options a follow request keeps (issue 14, social). Same tables as SQLite's 0017.

CREATE TABLE tag_follows (
    id         BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    tag_id     BIGINT NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    UNIQUE (account_id, tag_id)
);
CREATE INDEX tag_follows_by_tag ON tag_follows (tag_id);

CREATE TABLE featured_tags (
    id         BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    tag_id     BIGINT NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    UNIQUE (account_id, tag_id)
);

CREATE TABLE direct_threads (
    status_id       BIGINT PRIMARY KEY REFERENCES statuses(id) ON DELETE CASCADE,
    conversation_id BIGINT NOT NULL
);
CREATE INDEX direct_threads_by_conversation ON direct_threads (conversation_id, status_id);

CREATE TABLE account_conversations (
    id              BIGINT  PRIMARY KEY,
    account_id      BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    conversation_id BIGINT  NOT NULL,
    participants    TEXT    NOT NULL,
    last_status_id  BIGINT  NOT NULL,
    unread          BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (account_id, conversation_id, participants)
);
CREATE INDEX account_conversations_by_last ON account_conversations (account_id, last_status_id);

CREATE TABLE suggestion_dismissals (
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    target_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, target_id)
);

ALTER TABLE follow_requests ADD COLUMN reblogs BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE follow_requests ADD COLUMN notify BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE follow_requests ADD COLUMN languages TEXT;
ALTER TABLE follows ADD COLUMN languages TEXT;
