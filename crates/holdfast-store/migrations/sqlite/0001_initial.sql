-- holdfast schema, SQLite. Times are milliseconds since the Unix epoch;
-- ids are snowflakes (time-ordered), so ORDER BY id is ORDER BY time.

CREATE TABLE accounts (
    id                 INTEGER PRIMARY KEY,
    username           TEXT    NOT NULL,
    username_lower     TEXT    NOT NULL UNIQUE,
    display_name       TEXT    NOT NULL DEFAULT '',
    note               TEXT    NOT NULL DEFAULT '',
    locked             INTEGER NOT NULL DEFAULT 0,
    bot                INTEGER NOT NULL DEFAULT 0,
    discoverable       INTEGER NOT NULL DEFAULT 1,
    suspended          INTEGER NOT NULL DEFAULT 0,
    approved           INTEGER NOT NULL DEFAULT 1,
    default_visibility INTEGER NOT NULL DEFAULT 0,
    default_sensitive  INTEGER NOT NULL DEFAULT 0,
    default_language   TEXT,
    created_at         INTEGER NOT NULL
);

CREATE TABLE credentials (
    account_id    INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    email_lower   TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL
);

CREATE TABLE apps (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL,
    website            TEXT,
    redirect_uris      TEXT NOT NULL,   -- newline-separated
    scopes             TEXT NOT NULL,
    client_id          TEXT NOT NULL UNIQUE,
    client_secret_hash TEXT NOT NULL,
    created_at         INTEGER NOT NULL
);

CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT    NOT NULL UNIQUE,
    app_id     INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
    scopes     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE auth_codes (
    code_hash    TEXT    PRIMARY KEY,
    app_id       INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    scopes       TEXT    NOT NULL,
    redirect_uri TEXT    NOT NULL,
    expires_at   INTEGER NOT NULL
);

CREATE TABLE statuses (
    id                     INTEGER PRIMARY KEY,
    account_id             INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    text                   TEXT    NOT NULL,
    content                TEXT    NOT NULL,
    spoiler_text           TEXT    NOT NULL DEFAULT '',
    sensitive              INTEGER NOT NULL DEFAULT 0,
    visibility             INTEGER NOT NULL,
    language               TEXT,
    in_reply_to_id         INTEGER,
    in_reply_to_account_id INTEGER,
    reblog_of_id           INTEGER REFERENCES statuses(id) ON DELETE CASCADE,
    app_id                 INTEGER REFERENCES apps(id) ON DELETE SET NULL,
    replies_count          INTEGER NOT NULL DEFAULT 0,
    reblogs_count          INTEGER NOT NULL DEFAULT 0,
    favourites_count       INTEGER NOT NULL DEFAULT 0,
    created_at             INTEGER NOT NULL
);
CREATE INDEX statuses_by_author ON statuses(account_id, id);
CREATE INDEX statuses_by_reply ON statuses(in_reply_to_id) WHERE in_reply_to_id IS NOT NULL;
CREATE INDEX statuses_public ON statuses(id) WHERE visibility = 0 AND reblog_of_id IS NULL;
-- One reblog per account per status: what makes reblog idempotent.
CREATE UNIQUE INDEX statuses_one_reblog ON statuses(account_id, reblog_of_id) WHERE reblog_of_id IS NOT NULL;

CREATE TABLE follows (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    target_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    reblogs    INTEGER NOT NULL DEFAULT 1,
    notify     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, target_id)
);
CREATE INDEX follows_by_target ON follows(target_id, id);

CREATE TABLE follow_requests (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    target_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    UNIQUE (account_id, target_id)
);

CREATE TABLE blocks (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    target_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, target_id)
) WITHOUT ROWID;

CREATE TABLE mutes (
    account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    target_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    notifications INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (account_id, target_id)
) WITHOUT ROWID;

CREATE TABLE favourites (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    status_id  INTEGER NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
    UNIQUE (account_id, status_id)
);
CREATE INDEX favourites_by_status ON favourites(status_id, id);

CREATE TABLE bookmarks (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    status_id  INTEGER NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
    UNIQUE (account_id, status_id)
);

CREATE TABLE mentions (
    status_id  INTEGER NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    PRIMARY KEY (status_id, account_id)
) WITHOUT ROWID;
CREATE INDEX mentions_by_account ON mentions(account_id, status_id);

CREATE TABLE tags (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE status_tags (
    tag_id    INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    status_id INTEGER NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
    PRIMARY KEY (tag_id, status_id)
) WITHOUT ROWID;
CREATE INDEX status_tags_by_status ON status_tags(status_id);

CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    from_account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    type            TEXT    NOT NULL,
    status_id       INTEGER REFERENCES statuses(id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL
);
CREATE INDEX notifications_by_account ON notifications(account_id, id);
-- Favouriting, unfavouriting and favouriting again notifies once.
CREATE UNIQUE INDEX notifications_once ON notifications(account_id, from_account_id, type, IFNULL(status_id, 0));

CREATE TABLE idempotency_keys (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key        TEXT    NOT NULL,
    status_id  INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
) WITHOUT ROWID;

CREATE TABLE markers (
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    timeline     TEXT    NOT NULL,
    last_read_id INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (account_id, timeline)
) WITHOUT ROWID;

-- Full-text search over status text. Contentless: the text lives in
-- `statuses`; rowid is the status id.
CREATE VIRTUAL TABLE status_search USING fts5(body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2');
