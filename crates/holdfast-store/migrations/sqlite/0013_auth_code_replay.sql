-- A replayed authorization code revokes the token its first use issued
-- (RFC 6749 §4.1.2, issue 11). So a used code is kept, marked used, until it
-- expires (codes live minutes; expired ones are swept as before), with the
-- hash of the token it was exchanged for.
ALTER TABLE auth_codes ADD COLUMN used_at INTEGER;
ALTER TABLE auth_codes ADD COLUMN token_hash TEXT;
