-- Moderation (issue 14, and issue 13's moderation): roles, account actions,
-- reports, the audit log, instance-level domain and address blocks, and
-- announcements. Same tables as SQLite's 0014.

-- role: 0 user, 1 moderator, 2 admin (the service names them). silenced:
-- hidden from public timelines for those who do not follow. sensitized:
-- media forced sensitive. disabled: may not log in (data stays visible).
ALTER TABLE accounts ADD COLUMN role INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN silenced BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN sensitized BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
-- The address an account signed up from (Admin::Account `ip`).
ALTER TABLE accounts ADD COLUMN sign_up_ip TEXT;

CREATE TABLE reports (
    id                 BIGINT PRIMARY KEY,
    account_id         BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    target_account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    comment            TEXT    NOT NULL DEFAULT '',
    category           TEXT    NOT NULL,
    forwarded          BOOLEAN NOT NULL DEFAULT FALSE,
    -- Rule ids (the configured instance rules), space-separated.
    rule_ids           TEXT    NOT NULL DEFAULT '',
    assigned_account_id BIGINT REFERENCES accounts(id) ON DELETE SET NULL,
    action_taken_at    BIGINT,
    action_taken_by_account_id BIGINT REFERENCES accounts(id) ON DELETE SET NULL,
    resolution_note    TEXT    NOT NULL DEFAULT '',
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX reports_by_account ON reports(account_id, id);
CREATE INDEX reports_by_target ON reports(target_account_id, id);
CREATE INDEX reports_unresolved ON reports(id) WHERE action_taken_at IS NULL;

CREATE TABLE report_statuses (
    report_id BIGINT NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    status_id BIGINT NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
    PRIMARY KEY (report_id, status_id)
);

-- Who did what: kept when the actor's or the target's account is deleted.
CREATE TABLE audit_log (
    id          BIGINT PRIMARY KEY,
    -- NULL: the operator, through the CLI.
    account_id  BIGINT REFERENCES accounts(id) ON DELETE SET NULL,
    action      TEXT    NOT NULL,
    target_type TEXT    NOT NULL,
    target_id   BIGINT,
    -- What the target was called then (a username, a domain, an address).
    target_name TEXT    NOT NULL DEFAULT '',
    detail      TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);

CREATE TABLE instance_domain_blocks (
    id              BIGINT PRIMARY KEY,
    domain          TEXT    NOT NULL UNIQUE,
    severity        TEXT    NOT NULL,
    reject_media    BOOLEAN NOT NULL DEFAULT FALSE,
    reject_reports  BOOLEAN NOT NULL DEFAULT FALSE,
    private_comment TEXT,
    public_comment  TEXT,
    obfuscate       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      BIGINT NOT NULL
);

CREATE TABLE ip_blocks (
    id         BIGINT PRIMARY KEY,
    -- A network in CIDR form, normalized by the service (10.0.0.0/8, 2001:db8::/32).
    ip         TEXT    NOT NULL UNIQUE,
    severity   TEXT    NOT NULL,
    comment    TEXT    NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT
);

CREATE TABLE announcements (
    id           BIGINT PRIMARY KEY,
    text         TEXT    NOT NULL,
    content      TEXT    NOT NULL,
    starts_at    BIGINT,
    ends_at      BIGINT,
    all_day      BOOLEAN NOT NULL DEFAULT FALSE,
    published_at BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE announcement_reads (
    announcement_id BIGINT NOT NULL REFERENCES announcements(id) ON DELETE CASCADE,
    account_id      BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    PRIMARY KEY (announcement_id, account_id)
);

CREATE TABLE announcement_reactions (
    announcement_id BIGINT NOT NULL REFERENCES announcements(id) ON DELETE CASCADE,
    account_id      BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    PRIMARY KEY (announcement_id, account_id, name)
);
