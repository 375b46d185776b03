-- Relationships and lists (issue 14).

-- Blocks and mutes get ids, because Mastodon pages `GET /api/v1/blocks` and
-- `/mutes` by them; mutes get an end (`duration`). SQLite cannot add a
-- column with a per-row default, so both tables are rebuilt; rows already
-- there get small ids, older than every snowflake, in the order they had.
CREATE TABLE blocks_new (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    target_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    UNIQUE (account_id, target_id)
);
INSERT INTO blocks_new (id, account_id, target_id)
    SELECT ROW_NUMBER() OVER (ORDER BY account_id, target_id), account_id, target_id FROM blocks;
DROP TABLE blocks;
ALTER TABLE blocks_new RENAME TO blocks;
CREATE INDEX blocks_by_target ON blocks(target_id);

CREATE TABLE mutes_new (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    target_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    notifications INTEGER NOT NULL DEFAULT 1,
    -- Milliseconds since the epoch; NULL: until unmuted.
    expires_at    INTEGER,
    UNIQUE (account_id, target_id)
);
INSERT INTO mutes_new (id, account_id, target_id, notifications)
    SELECT ROW_NUMBER() OVER (ORDER BY account_id, target_id), account_id, target_id, notifications FROM mutes;
DROP TABLE mutes;
ALTER TABLE mutes_new RENAME TO mutes;

CREATE INDEX follow_requests_by_target ON follow_requests(target_id, id);

-- Private notes on other accounts (`POST /api/v1/accounts/:id/note`).
CREATE TABLE account_notes (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    target_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    comment    TEXT    NOT NULL,
    PRIMARY KEY (account_id, target_id)
) WITHOUT ROWID;

-- Accounts featured on a profile (`pin` / `endorsements`).
CREATE TABLE endorsements (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    target_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    UNIQUE (account_id, target_id)
);

-- Domains a user hides (`/api/v1/domain_blocks`).
CREATE TABLE user_domain_blocks (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    domain     TEXT    NOT NULL,
    UNIQUE (account_id, domain)
);

-- Lists of followed accounts, each with its own timeline.
CREATE TABLE lists (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    title          TEXT    NOT NULL,
    -- 'followed', 'list' or 'none', as Mastodon spells them.
    replies_policy TEXT    NOT NULL DEFAULT 'list',
    -- Members' posts stay out of the home timeline.
    exclusive      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX lists_by_account ON lists(account_id, id);

CREATE TABLE list_accounts (
    id         INTEGER PRIMARY KEY,
    list_id    INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    UNIQUE (list_id, account_id)
);
CREATE INDEX list_accounts_by_account ON list_accounts(account_id);
