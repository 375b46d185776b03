-- The cluster event feed of the streaming API: every node writes its events
-- here and NOTIFYs `holdfast_events` with the id; every node reads past its
-- own cursor, so a notification lost in a failover costs nothing (the next
-- read catches up) and nothing is read twice. Rows are pruned after a while.
CREATE TABLE stream_events (
    id BIGSERIAL PRIMARY KEY,
    origin TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX stream_events_created_at ON stream_events (created_at);
