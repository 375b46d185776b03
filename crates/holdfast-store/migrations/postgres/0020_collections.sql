-- Collections (Mastodon 4.6's featured collections): accounts an account
-- recommends others to follow, by name, with an optional hashtag.
CREATE TABLE collections (
    id            BIGINT  PRIMARY KEY,
    account_id    BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    description   TEXT    NOT NULL DEFAULT '',
    language      TEXT,
    -- Lower-cased, as tags are stored; NULL: no hashtag.
    tag_name      TEXT,
    sensitive     BOOLEAN NOT NULL DEFAULT FALSE,
    discoverable  BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);
CREATE INDEX collections_by_account ON collections(account_id, id);

-- Every account in a collection: all local, so every item is accepted at once
-- (Mastodon's `pending` is for remote accounts whose consent is not known).
CREATE TABLE collection_items (
    id            BIGINT  PRIMARY KEY,
    collection_id BIGINT  NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    account_id    BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at    BIGINT  NOT NULL,
    UNIQUE (collection_id, account_id)
);
-- `in_collections`: the collections an account is featured in.
CREATE INDEX collection_items_by_account ON collection_items(account_id, collection_id);
