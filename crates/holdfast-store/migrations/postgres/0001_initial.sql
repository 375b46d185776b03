-- holdfast schema, PostgreSQL. The same tables, columns and rules as
-- migrations/sqlite/0001_initial.sql (the reference), in PostgreSQL's types:
-- times are milliseconds since the Unix epoch (BIGINT), flags are BOOLEAN.

-- Snowflake ids made by the database, so that every holdfast node draws
-- from one clock (the primary's) and one sequence: unique across nodes and
-- time-ordered. Layout as in ids.rs: milliseconds in the high 48 bits, the
-- low 16 bits from a shared sequence. Two ids collide only if 65536 ids are
-- drawn within one millisecond (or the clock steps back onto a millisecond
-- whose sequence values come round again), which ARCHITECTURE.md discusses.
CREATE SEQUENCE holdfast_id_seq AS BIGINT CYCLE;

CREATE FUNCTION holdfast_next_id() RETURNS BIGINT
LANGUAGE SQL VOLATILE PARALLEL UNSAFE AS $$
    SELECT ((floor(extract(epoch FROM clock_timestamp()) * 1000)::BIGINT) << 16)
         | (nextval('holdfast_id_seq') & 65535)
$$;

CREATE TABLE accounts (
    id                 BIGINT  PRIMARY KEY DEFAULT holdfast_next_id(),
    username           TEXT    NOT NULL,
    username_lower     TEXT    NOT NULL UNIQUE,
    display_name       TEXT    NOT NULL DEFAULT '',
    note               TEXT    NOT NULL DEFAULT '',
    locked             BOOLEAN NOT NULL DEFAULT FALSE,
    bot                BOOLEAN NOT NULL DEFAULT FALSE,
    discoverable       BOOLEAN NOT NULL DEFAULT TRUE,
    suspended          BOOLEAN NOT NULL DEFAULT FALSE,
    approved           BOOLEAN NOT NULL DEFAULT TRUE,
    default_visibility INTEGER NOT NULL DEFAULT 0,
    default_sensitive  BOOLEAN NOT NULL DEFAULT FALSE,
    default_language   TEXT,
    created_at         BIGINT  NOT NULL
);
-- Account search is a prefix match on the lower-cased name.
CREATE INDEX accounts_username_prefix ON accounts (username_lower text_pattern_ops);

CREATE TABLE credentials (
    account_id    BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    email_lower   TEXT   NOT NULL UNIQUE,
    password_hash TEXT   NOT NULL
);

CREATE TABLE apps (
    id                 BIGINT PRIMARY KEY DEFAULT holdfast_next_id(),
    name               TEXT   NOT NULL,
    website            TEXT,
    redirect_uris      TEXT   NOT NULL,   -- newline-separated
    scopes             TEXT   NOT NULL,
    client_id          TEXT   NOT NULL UNIQUE,
    client_secret_hash TEXT   NOT NULL,
    created_at         BIGINT NOT NULL
);

CREATE TABLE tokens (
    id         BIGINT PRIMARY KEY DEFAULT holdfast_next_id(),
    token_hash TEXT   NOT NULL UNIQUE,
    app_id     BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    account_id BIGINT REFERENCES accounts(id) ON DELETE CASCADE,
    scopes     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX tokens_by_account ON tokens (account_id) WHERE revoked_at IS NULL;

CREATE TABLE auth_codes (
    code_hash    TEXT   PRIMARY KEY,
    app_id       BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    account_id   BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    scopes       TEXT   NOT NULL,
    redirect_uri TEXT   NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX auth_codes_by_expiry ON auth_codes (expires_at);

CREATE TABLE statuses (
    id                     BIGINT  PRIMARY KEY DEFAULT holdfast_next_id(),
    account_id             BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    text                   TEXT    NOT NULL,
    content                TEXT    NOT NULL,
    spoiler_text           TEXT    NOT NULL DEFAULT '',
    sensitive              BOOLEAN NOT NULL DEFAULT FALSE,
    visibility             INTEGER NOT NULL,
    language               TEXT,
    in_reply_to_id         BIGINT,
    in_reply_to_account_id BIGINT,
    reblog_of_id           BIGINT  REFERENCES statuses(id) ON DELETE CASCADE,
    app_id                 BIGINT  REFERENCES apps(id) ON DELETE SET NULL,
    replies_count          BIGINT  NOT NULL DEFAULT 0,
    reblogs_count          BIGINT  NOT NULL DEFAULT 0,
    favourites_count       BIGINT  NOT NULL DEFAULT 0,
    created_at             BIGINT  NOT NULL,
    -- PostgreSQL's own full-text search. The 'simple' configuration lower-cases
    -- without stemming; ASCII punctuation becomes a space first, so words split
    -- as SQLite's unicode61 tokenizer splits them (PostgreSQL's parser would
    -- otherwise keep `a-b`, `x.org` and `me@x.org` as single tokens). The class
    -- is spelled as byte ranges so it means the same under any locale. Being a
    -- generated column, it can never disagree with the text.
    search                 TSVECTOR GENERATED ALWAYS AS (
                               to_tsvector('simple', regexp_replace(spoiler_text || ' ' || text, '[!-/:-@[-`{-~]+', ' ', 'g'))
                           ) STORED
);
CREATE INDEX statuses_by_author ON statuses (account_id, id);
CREATE INDEX statuses_by_reply ON statuses (in_reply_to_id) WHERE in_reply_to_id IS NOT NULL;
CREATE INDEX statuses_public ON statuses (id) WHERE visibility = 0 AND reblog_of_id IS NULL;
CREATE INDEX statuses_by_reblog_of ON statuses (reblog_of_id, id) WHERE reblog_of_id IS NOT NULL;
-- One reblog per account per status: what makes reblog idempotent.
CREATE UNIQUE INDEX statuses_one_reblog ON statuses (account_id, reblog_of_id) WHERE reblog_of_id IS NOT NULL;
CREATE INDEX statuses_search ON statuses USING GIN (search);

CREATE TABLE follows (
    id         BIGINT  PRIMARY KEY DEFAULT holdfast_next_id(),
    account_id BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    target_id  BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    reblogs    BOOLEAN NOT NULL DEFAULT TRUE,
    notify     BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (account_id, target_id)
);
CREATE INDEX follows_by_target ON follows (target_id, id);

CREATE TABLE follow_requests (
    id         BIGINT PRIMARY KEY DEFAULT holdfast_next_id(),
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    target_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    UNIQUE (account_id, target_id)
);

CREATE TABLE blocks (
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    target_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, target_id)
);

CREATE TABLE mutes (
    account_id    BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    target_id     BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    notifications BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (account_id, target_id)
);

CREATE TABLE favourites (
    id         BIGINT PRIMARY KEY DEFAULT holdfast_next_id(),
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    status_id  BIGINT NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
    UNIQUE (account_id, status_id)
);
CREATE INDEX favourites_by_status ON favourites (status_id, id);
CREATE INDEX favourites_by_account ON favourites (account_id, id);

CREATE TABLE bookmarks (
    id         BIGINT PRIMARY KEY DEFAULT holdfast_next_id(),
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    status_id  BIGINT NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
    UNIQUE (account_id, status_id)
);
CREATE INDEX bookmarks_by_status ON bookmarks (status_id);

CREATE TABLE mentions (
    status_id  BIGINT NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    PRIMARY KEY (status_id, account_id)
);
CREATE INDEX mentions_by_account ON mentions (account_id, status_id);

CREATE TABLE tags (
    id   BIGINT PRIMARY KEY DEFAULT holdfast_next_id(),
    name TEXT   NOT NULL UNIQUE
);
CREATE INDEX tags_name_prefix ON tags (name text_pattern_ops);

CREATE TABLE status_tags (
    tag_id    BIGINT NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    status_id BIGINT NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
    PRIMARY KEY (tag_id, status_id)
);
CREATE INDEX status_tags_by_status ON status_tags (status_id);

CREATE TABLE notifications (
    id              BIGINT PRIMARY KEY DEFAULT holdfast_next_id(),
    account_id      BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    from_account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    type            TEXT   NOT NULL,
    status_id       BIGINT REFERENCES statuses(id) ON DELETE CASCADE,
    created_at      BIGINT NOT NULL
);
CREATE INDEX notifications_by_account ON notifications (account_id, id);
CREATE INDEX notifications_by_status ON notifications (status_id) WHERE status_id IS NOT NULL;
-- Favouriting, unfavouriting and favouriting again notifies once.
CREATE UNIQUE INDEX notifications_once ON notifications (account_id, from_account_id, type, COALESCE(status_id, 0));

CREATE TABLE idempotency_keys (
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key        TEXT   NOT NULL,
    status_id  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, key)
);

CREATE TABLE markers (
    account_id   BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    timeline     TEXT   NOT NULL,
    last_read_id BIGINT NOT NULL,
    version      BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (account_id, timeline)
);
