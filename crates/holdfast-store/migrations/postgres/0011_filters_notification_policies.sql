-- Filters and notification policies (issue 14). Same tables as SQLite's 0011.

-- A filter: a title, where it applies and what it does, with keywords and
-- statuses under it (Mastodon's v2 filters; v1 filters are a view of the keywords).
CREATE TABLE filters (
    id          BIGINT  PRIMARY KEY,
    account_id  BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    title       TEXT    NOT NULL,
    -- The contexts as Mastodon spells them, comma-separated: home,notifications,public,thread,account.
    context     TEXT    NOT NULL,
    -- 'warn', 'hide' or 'blur'.
    action      TEXT    NOT NULL,
    -- Milliseconds since the epoch; NULL: never expires.
    expires_at  BIGINT
);
CREATE INDEX filters_by_account ON filters(account_id, id);

CREATE TABLE filter_keywords (
    id         BIGINT  PRIMARY KEY,
    filter_id  BIGINT  NOT NULL REFERENCES filters(id) ON DELETE CASCADE,
    keyword    TEXT    NOT NULL,
    whole_word BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX filter_keywords_by_filter ON filter_keywords(filter_id, id);

CREATE TABLE filter_statuses (
    id        BIGINT  PRIMARY KEY,
    filter_id BIGINT  NOT NULL REFERENCES filters(id) ON DELETE CASCADE,
    status_id BIGINT  NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
    UNIQUE (filter_id, status_id)
);
CREATE INDEX filter_statuses_by_status ON filter_statuses(status_id);

-- What happens to notifications from some kinds of senders: 'accept',
-- 'filter' (kept aside, as a notification request) or 'drop'. No row: the defaults.
CREATE TABLE notification_policies (
    account_id           BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    for_not_following    TEXT NOT NULL DEFAULT 'accept',
    for_not_followers    TEXT NOT NULL DEFAULT 'accept',
    for_new_accounts     TEXT NOT NULL DEFAULT 'accept',
    for_private_mentions TEXT NOT NULL DEFAULT 'filter',
    for_limited_accounts TEXT NOT NULL DEFAULT 'filter'
);

-- A filtered notification is kept, out of the lists, until its request is
-- accepted (it joins them) or dismissed (it goes).
ALTER TABLE notifications ADD COLUMN filtered BOOLEAN NOT NULL DEFAULT FALSE;

-- One request per (recipient, sender) while filtered notifications wait.
CREATE TABLE notification_requests (
    id              BIGINT  PRIMARY KEY,
    account_id      BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    from_account_id BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    last_status_id  BIGINT REFERENCES statuses(id) ON DELETE SET NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    UNIQUE (account_id, from_account_id)
);

-- Senders whose requests were accepted: their notifications are not filtered again.
CREATE TABLE notification_permissions (
    account_id      BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    from_account_id BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, from_account_id)
);
