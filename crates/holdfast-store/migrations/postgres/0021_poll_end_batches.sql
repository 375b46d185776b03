-- A poll's end is told in bounded batches, each a run of its due job: the
-- last account told so far (NULL: nobody yet, not even the author), so the
-- next run goes on after it. An edit that ends the poll anew resets it.
ALTER TABLE polls ADD COLUMN end_notified_through BIGINT;
