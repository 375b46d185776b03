-- The auth epoch (issue 10, post): one number that moves whenever a token
-- could stop being good: a token revoked or deleted, an account suspended,
-- disabled, approved (or un-) or deleted, an app changed or deleted. The
-- server keeps proved tokens in memory with the epoch they were proved at
-- and serves them only while it has not moved, so a revocation made by any
-- process (`holdfast user suspend` too: the triggers run wherever the write
-- is made) is seen by the next request, with one tiny read per request
-- instead of the token's look-up (`holdfast-service/src/token_cache.rs`).
CREATE TABLE auth_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO auth_epoch (id, n) VALUES (1, 0);

CREATE TRIGGER auth_epoch_token_revoked AFTER UPDATE OF revoked_at, scopes, account_id, app_id ON tokens
    WHEN OLD.revoked_at IS NOT NEW.revoked_at OR OLD.scopes IS NOT NEW.scopes
      OR OLD.account_id IS NOT NEW.account_id OR OLD.app_id IS NOT NEW.app_id
BEGIN
    UPDATE auth_epoch SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER auth_epoch_token_deleted AFTER DELETE ON tokens
BEGIN
    UPDATE auth_epoch SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER auth_epoch_account_state AFTER UPDATE OF suspended, disabled, approved ON accounts
    WHEN OLD.suspended IS NOT NEW.suspended OR OLD.disabled IS NOT NEW.disabled
      OR OLD.approved IS NOT NEW.approved
BEGIN
    UPDATE auth_epoch SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER auth_epoch_account_deleted AFTER DELETE ON accounts
BEGIN
    UPDATE auth_epoch SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER auth_epoch_app_changed AFTER UPDATE ON apps
BEGIN
    UPDATE auth_epoch SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER auth_epoch_app_deleted AFTER DELETE ON apps
BEGIN
    UPDATE auth_epoch SET n = n + 1 WHERE id = 1;
END;
