-- The auth epoch (issue 10, post): one number that moves whenever a token
-- could stop being good: a token revoked or deleted, an account suspended,
-- disabled, approved (or un-) or deleted, an app changed or deleted. Every
-- node keeps proved tokens in memory with the epoch they were proved at and
-- serves them only while it has not moved, so a revocation made on any node
-- or by any process (`holdfast user suspend` too: the triggers run wherever
-- the write is made) is seen by the next request on every node, with one
-- tiny read per request instead of the token's look-up
-- (`holdfast-service/src/token_cache.rs`).
CREATE TABLE auth_epoch (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    n  BIGINT   NOT NULL
);
INSERT INTO auth_epoch (id, n) VALUES (1, 0);

CREATE FUNCTION holdfast_auth_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE auth_epoch SET n = n + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

-- Deferred to the commit: the epoch row is the last lock such a transaction
-- takes, so two of them (a suspension revoking tokens, a log-out) never wait
-- on each other in opposite orders.
CREATE CONSTRAINT TRIGGER auth_epoch_token_changed AFTER UPDATE OF revoked_at, scopes, account_id, app_id ON tokens
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.scopes IS DISTINCT FROM NEW.scopes
          OR OLD.account_id IS DISTINCT FROM NEW.account_id OR OLD.app_id IS DISTINCT FROM NEW.app_id)
    EXECUTE FUNCTION holdfast_auth_epoch_bump();
CREATE CONSTRAINT TRIGGER auth_epoch_token_deleted AFTER DELETE ON tokens
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION holdfast_auth_epoch_bump();
CREATE CONSTRAINT TRIGGER auth_epoch_account_state AFTER UPDATE OF suspended, disabled, approved ON accounts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.suspended IS DISTINCT FROM NEW.suspended OR OLD.disabled IS DISTINCT FROM NEW.disabled
          OR OLD.approved IS DISTINCT FROM NEW.approved)
    EXECUTE FUNCTION holdfast_auth_epoch_bump();
CREATE CONSTRAINT TRIGGER auth_epoch_account_deleted AFTER DELETE ON accounts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION holdfast_auth_epoch_bump();
CREATE CONSTRAINT TRIGGER auth_epoch_app_changed AFTER UPDATE OR DELETE ON apps
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION holdfast_auth_epoch_bump();
