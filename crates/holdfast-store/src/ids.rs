//! Snowflake ids, Mastodon style: milliseconds since the Unix epoch in the
//! high 48 bits, a 16-bit sequence in the low bits. Ids therefore sort by
//! creation time, which is what timelines and `max_id`/`min_id` paging rely on.

use std::sync::atomic::{AtomicI64, Ordering};

use crate::Id;

// The layout lives in holdfast-config, where the guard can use it too.
pub use holdfast_config::ids::{id_floor_at_ms, ms_of_id, SEQUENCE_BITS};
pub use holdfast_config::time::now_ms;

/// Hands out strictly increasing ids within this process, even when the
/// clock stands still or steps back: the next id is always above the last.
///
/// Each process starts its per-millisecond sequence at its own random
/// offset, so two processes writing one SQLite file in the same millisecond
/// (the server and `holdfast user create`, say) almost never pick the same
/// id; if they do, the primary key refuses the second write rather than
/// mixing two rows up.
#[derive(Debug)]
pub struct IdGenerator {
    last: AtomicI64,
    offset: i64,
}

impl Default for IdGenerator {
    fn default() -> Self {
        use std::hash::{BuildHasher, Hasher};
        // std's RandomState is seeded from the OS per process: randomness without a dependency.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(now_ms() as u64);
        IdGenerator {
            last: AtomicI64::new(0),
            offset: (h.finish() & 0x7fff) as i64,
        }
    }
}

impl IdGenerator {
    pub fn next(&self) -> Id {
        let floor = (now_ms() << SEQUENCE_BITS) | self.offset;
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let candidate = floor.max(last + 1);
            match self.last.compare_exchange_weak(
                last,
                candidate,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return candidate,
                Err(seen) => last = seen,
            }
        }
    }

    /// Makes sure ids continue above those already stored (e.g. after a clock step back and restart).
    pub fn observe(&self, stored_max: Id) {
        self.last.fetch_max(stored_max, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_strictly_increase_and_encode_time() {
        let g = IdGenerator::default();
        let before = now_ms();
        let ids: Vec<Id> = (0..10_000).map(|_| g.next()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(ms_of_id(ids[0]) >= before);
        assert!(
            ms_of_id(ids[9_999]) <= now_ms() + 1_000,
            "sequence overflow must not run far ahead of the clock"
        );
    }

    #[test]
    fn observe_keeps_ids_above_stored_ones() {
        let g = IdGenerator::default();
        let future = id_floor_at_ms(now_ms() + 60_000);
        g.observe(future);
        assert!(g.next() > future);
    }
}
