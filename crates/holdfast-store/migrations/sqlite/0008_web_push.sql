-- Web Push (issue 12). One subscription per access token (Mastodon's rule: a
-- new POST replaces the token's subscription), the notification types it
-- wants, the instance's VAPID key pair, and the delivery queue every node
-- works from (a claimed row is hidden until its lease ends, so a node that
-- dies mid-delivery costs a late retry, never a lost one).
CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY,
    token_id   INTEGER NOT NULL UNIQUE REFERENCES tokens(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    endpoint   TEXT NOT NULL,
    key_p256dh TEXT NOT NULL,
    key_auth   TEXT NOT NULL,
    policy     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX push_subscriptions_by_account ON push_subscriptions(account_id);
CREATE TABLE push_alerts (
    subscription_id INTEGER NOT NULL REFERENCES push_subscriptions(id) ON DELETE CASCADE,
    type            TEXT NOT NULL,
    PRIMARY KEY (subscription_id, type)
);
CREATE TABLE push_deliveries (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES push_subscriptions(id) ON DELETE CASCADE,
    notification_id INTEGER NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    attempts        INTEGER NOT NULL DEFAULT 0,
    due_at          INTEGER NOT NULL
);
CREATE INDEX push_deliveries_due ON push_deliveries(due_at);
CREATE INDEX push_deliveries_by_subscription ON push_deliveries(subscription_id);
-- The one VAPID key pair (row 1), made by whichever node needs it first.
CREATE TABLE push_vapid (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    private_key TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
