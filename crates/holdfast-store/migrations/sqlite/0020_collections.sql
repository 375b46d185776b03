-- Collections (Mastodon 4.6's featured collections): accounts an account
-- recommends others to follow, by name, with an optional hashtag.
CREATE TABLE collections (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    description   TEXT    NOT NULL DEFAULT '',
    language      TEXT,
    -- Lower-cased, as tags are stored; NULL: no hashtag.
    tag_name      TEXT,
    sensitive     INTEGER NOT NULL DEFAULT 0,
    discoverable  INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX collections_by_account ON collections(account_id, id);

-- Every account in a collection: all local, so every item is accepted at once
-- (Mastodon's `pending` is for remote accounts whose consent is not known).
CREATE TABLE collection_items (
    id            INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    UNIQUE (collection_id, account_id)
);
-- `in_collections`: the collections an account is featured in.
CREATE INDEX collection_items_by_account ON collection_items(account_id, collection_id);
