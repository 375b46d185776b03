-- Relationships and lists (issue 14). Same tables as SQLite's 0009.

-- Blocks and mutes get ids (Mastodon pages `GET /api/v1/blocks` and `/mutes`
-- by them); rows already there get one each. Mutes get an end (`duration`).
ALTER TABLE blocks ADD COLUMN id BIGINT NOT NULL DEFAULT holdfast_next_id();
ALTER TABLE blocks ALTER COLUMN id DROP DEFAULT;
CREATE UNIQUE INDEX blocks_id ON blocks(id);
CREATE INDEX blocks_by_target ON blocks(target_id);

ALTER TABLE mutes ADD COLUMN id BIGINT NOT NULL DEFAULT holdfast_next_id();
ALTER TABLE mutes ALTER COLUMN id DROP DEFAULT;
CREATE UNIQUE INDEX mutes_id ON mutes(id);
-- Milliseconds since the epoch; NULL: until unmuted.
ALTER TABLE mutes ADD COLUMN expires_at BIGINT;

-- The clock the shared SQL compares ends with (SQLite's runner registers the same).
CREATE FUNCTION holdfast_now_ms() RETURNS BIGINT
    LANGUAGE SQL VOLATILE
    AS $$ SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT $$;

CREATE INDEX follow_requests_by_target ON follow_requests(target_id, id);

CREATE TABLE account_notes (
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    target_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    comment    TEXT   NOT NULL,
    PRIMARY KEY (account_id, target_id)
);

CREATE TABLE endorsements (
    id         BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    target_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    UNIQUE (account_id, target_id)
);

CREATE TABLE user_domain_blocks (
    id         BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    domain     TEXT   NOT NULL,
    UNIQUE (account_id, domain)
);

CREATE TABLE lists (
    id             BIGINT  PRIMARY KEY,
    account_id     BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    title          TEXT    NOT NULL,
    replies_policy TEXT    NOT NULL DEFAULT 'list',
    exclusive      BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX lists_by_account ON lists(account_id, id);

CREATE TABLE list_accounts (
    id         BIGINT PRIMARY KEY,
    list_id    BIGINT NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    UNIQUE (list_id, account_id)
);
CREATE INDEX list_accounts_by_account ON list_accounts(account_id);
