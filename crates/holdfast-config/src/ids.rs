//! The id layout, Mastodon style: milliseconds since the Unix epoch in the
//! high bits, a 16-bit sequence in the low bits, so ids sort by creation
//! time. Here (not in the store) so the guard can tell a deep page from its
//! `max_id` without knowing the store; the store makes ids with it, and
//! PostgreSQL's `holdfast_next_id()` (migration) uses the same layout.

// fact: the id layout (Mastodon's snowflakes), not a tunable
pub const SEQUENCE_BITS: u32 = 16;

/// The smallest id that could have been made at `ms`: for time-based paging bounds.
pub fn id_floor_at_ms(ms: i64) -> i64 {
    ms << SEQUENCE_BITS
}

/// When an id was made, in milliseconds since the Unix epoch.
pub fn ms_of_id(id: i64) -> i64 {
    id >> SEQUENCE_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_round_trips() {
        let ms = 1_764_000_000_000;
        assert_eq!(ms_of_id(id_floor_at_ms(ms) | 0xffff), ms);
        assert!(id_floor_at_ms(ms + 1) > id_floor_at_ms(ms) | 0xffff);
    }
}
