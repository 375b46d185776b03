-- The id floor of 0005, without its one shared row.
--
-- 0005 kept the lease in one row, which every transaction minting past the
-- lease updated and then held locked until its commit returned, and a
-- commit waits for a synchronous standby. So once a second the minting
-- transactions queued behind each other, and after a failover (a new
-- holder: every transaction updates the row) they all did, one commit at a
-- time. Taken in the middle of transactions that hold other rows (an
-- account's counts), the row lock also deadlocked now and then, costing
-- PostgreSQL's deadlock_timeout (1 s) each time.
--
-- Now each lease is a row of its own, inserted and never updated: the floor
-- is the highest lease, found through an index. An insert takes no lock
-- that another transaction waits on, so minting never queues and never
-- deadlocks. The rules are 0005's, applied to the highest row:
--
-- * No committed id has a millisecond at or past the highest committed
--   lease. A transaction that mints at or past the highest lease it can see
--   inserts a lease a second ahead (lease_span_ms) in the same transaction,
--   so the lease commits, and replicates synchronously, together with the
--   ids it covers. Several transactions may do so at once; the highest wins.
-- * holder: which server process minted under the lease (the postmaster's
--   start time). A server that finds another holder's lease on top (a
--   promoted standby, or a restarted primary) starts at the lease at the
--   earliest: if its clock is behind, it shifts its clock by offset_ms, so
--   ids go on from the lease at the clock's pace; the shift is dropped once
--   its own clock passes the lease. The same happens if the holder's clock
--   steps back by more than the span.
-- * Leases more than a minute below the one just inserted are deleted by
--   the transaction that inserts it, a few at a time, skipping any another
--   transaction is deleting (SKIP LOCKED: no waiting there either). The
--   highest lease is never among them.
--
-- Cost: an index probe per id; an insert (and a small delete) once a second,
-- or per new holder.
CREATE TABLE holdfast_id_leases (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lease_ms  BIGINT NOT NULL,
    offset_ms BIGINT NOT NULL DEFAULT 0,
    holder    TEXT
);
CREATE INDEX holdfast_id_leases_highest ON holdfast_id_leases (lease_ms DESC);

INSERT INTO holdfast_id_leases (lease_ms, offset_ms, holder)
SELECT lease_ms, offset_ms, holder FROM holdfast_id_clock;

CREATE OR REPLACE FUNCTION holdfast_next_id() RETURNS BIGINT
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE AS $$
DECLARE
    -- How far ahead of the newest id a lease is put.
    lease_span_ms CONSTANT BIGINT := 1000;
    -- How far below a new lease the old ones are deleted, at most this many
    -- per new lease (more than are inserted, so the table stays small).
    kept_ms       CONSTANT BIGINT := 60000;
    deleted_max   CONSTANT INT    := 16;
    top      holdfast_id_leases%ROWTYPE;
    -- As a number: the same text whatever the session's TimeZone or DateStyle.
    me       TEXT := extract(epoch FROM pg_postmaster_start_time())::TEXT;
    clock_ms BIGINT;
    ms       BIGINT;
    shift    BIGINT;
BEGIN
    -- STRICT: no lease at all would mean the floor is lost; minting from
    -- the clock alone could go below acknowledged ids, so refuse instead.
    SELECT * INTO STRICT top FROM holdfast_id_leases ORDER BY lease_ms DESC LIMIT 1;
    -- Read after the lease, so one committed before we looked is never
    -- ahead of this clock by more than the span.
    clock_ms := floor(extract(epoch FROM clock_timestamp()) * 1000)::BIGINT;
    shift := CASE WHEN top.holder IS NOT DISTINCT FROM me THEN top.offset_ms ELSE 0 END;
    ms := clock_ms + shift;
    IF top.holder IS DISTINCT FROM me OR ms < top.lease_ms - lease_span_ms THEN
        -- A new holder, or this clock went back: never below the lease.
        ms := GREATEST(clock_ms, top.lease_ms);
        shift := ms - clock_ms;
    ELSIF shift > 0 AND clock_ms >= top.lease_ms THEN
        -- This clock alone is past every id minted: the shift can go.
        ms := clock_ms;
        shift := 0;
    ELSIF ms < top.lease_ms THEN
        -- Covered by the lease on top (committed, or this transaction's).
        RETURN (ms << 16) | (nextval('holdfast_id_seq') & 65535);
    END IF;
    INSERT INTO holdfast_id_leases (lease_ms, offset_ms, holder)
    VALUES (ms + lease_span_ms, shift, me);
    DELETE FROM holdfast_id_leases
     WHERE id IN (SELECT id FROM holdfast_id_leases
                   WHERE lease_ms < ms - kept_ms
                   ORDER BY lease_ms
                   LIMIT deleted_max
                   FOR UPDATE SKIP LOCKED);
    RETURN (ms << 16) | (nextval('holdfast_id_seq') & 65535);
END
$$;

DROP TABLE holdfast_id_clock;
