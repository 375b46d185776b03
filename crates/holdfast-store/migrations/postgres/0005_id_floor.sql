-- Ids never go back in a failover. holdfast_next_id() takes the primary's
-- clock; a standby promoted with a clock behind the old primary's would mint
-- ids that sort before ones already acknowledged (and could meet them). So
-- the id clock keeps a floor in a table that replicates with the data:
--
-- * lease_ms: no committed id has a millisecond at or past it. A transaction
--   that mints past the lease raises it (to that millisecond + 1 s) in the
--   same transaction, so the raise commits, and replicates synchronously,
--   together with the ids it covers. One row update per second, not per id.
-- * holder: which server process minted under this lease (the postmaster's
--   start time). A server that finds another holder (a promoted standby, or a
--   restarted primary) starts at the lease at the earliest: if its clock is
--   behind, it shifts its clock by offset_ms, so ids go on from the lease at
--   the clock's pace; the shift is dropped once its own clock passes the
--   lease. The same happens if the holder's clock steps back by more than the
--   lease span.
--
-- Cost: a one-row read per id; a row write once per second or per new holder.
-- What remains (ARCHITECTURE.md): within one millisecond, ids are ordered by
-- the sequence modulo 65,536.
CREATE TABLE holdfast_id_clock (
    only_row  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    lease_ms  BIGINT  NOT NULL,
    offset_ms BIGINT  NOT NULL DEFAULT 0,
    holder    TEXT
);

-- The first lease covers every id minted so far, by whichever clock.
INSERT INTO holdfast_id_clock (lease_ms)
SELECT GREATEST(
    floor(extract(epoch FROM clock_timestamp()) * 1000)::BIGINT,
    (SELECT COALESCE(MAX(id), 0) FROM statuses) >> 16,
    (SELECT COALESCE(MAX(id), 0) FROM accounts) >> 16,
    (SELECT COALESCE(MAX(id), 0) FROM notifications) >> 16,
    (SELECT COALESCE(MAX(id), 0) FROM tokens) >> 16
) + 1;

CREATE OR REPLACE FUNCTION holdfast_next_id() RETURNS BIGINT
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS $$
DECLARE
    -- How far ahead of the newest id the lease is pushed.
    lease_span_ms CONSTANT BIGINT := 1000;
    c        holdfast_id_clock%ROWTYPE;
    -- As a number: the same text whatever the session's TimeZone or DateStyle.
    me       TEXT := extract(epoch FROM pg_postmaster_start_time())::TEXT;
    clock_ms BIGINT;
    ms       BIGINT;
BEGIN
    SELECT * INTO STRICT c FROM holdfast_id_clock;
    -- Read after the row, so a lease raised by a transaction that committed
    -- before we looked is never ahead of this clock by more than the span.
    clock_ms := floor(extract(epoch FROM clock_timestamp()) * 1000)::BIGINT;
    ms := clock_ms + c.offset_ms;
    IF c.holder IS DISTINCT FROM me OR ms < c.lease_ms - lease_span_ms THEN
        -- A new holder, or this clock went back: never below the lease.
        ms := GREATEST(clock_ms, c.lease_ms);
        UPDATE holdfast_id_clock
           SET holder = me,
               offset_ms = ms - clock_ms,
               lease_ms = GREATEST(lease_ms, ms + lease_span_ms);
    ELSIF c.offset_ms > 0 AND clock_ms >= c.lease_ms THEN
        -- This clock alone is past every id minted: the shift can go.
        ms := clock_ms;
        UPDATE holdfast_id_clock
           SET offset_ms = 0,
               lease_ms = GREATEST(lease_ms, ms + lease_span_ms);
    ELSIF ms >= c.lease_ms THEN
        UPDATE holdfast_id_clock SET lease_ms = GREATEST(lease_ms, ms + lease_span_ms);
    END IF;
    RETURN (ms << 16) | (nextval('holdfast_id_seq') & 65535);
END
$$;
