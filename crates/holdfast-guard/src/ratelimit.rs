//! Rate limits with GCRA (the generic cell rate algorithm): each key keeps
//! one number, its theoretical arrival time (TAT). A budget of N requests
//! per window T lets a request in if, after adding T/N to the TAT, the TAT
//! is at most T ahead of now. That is a token bucket without the bucket:
//! O(1), one integer per key, and exact `remaining`/`reset` for headers.
//!
//! Memory is bounded: each table holds at most `keys_max` keys. A key whose
//! TAT is in the past is indistinguishable from a new one, so it is pruned
//! when room is needed; if a table is still full, newcomers share a single
//! overflow bucket, so a flood from a million addresses degrades to one
//! shared budget instead of growing the table.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// The key newcomers share when a table is full of live keys.
const OVERFLOW_KEY: u128 = u128::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub requests: u32,
    pub window_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// When the budget is whole again, from now.
    pub reset_after_ms: u64,
    /// When the next request would be allowed, from now (0 if allowed).
    pub retry_after_ms: u64,
}

pub struct RateTable {
    budget: Budget,
    shards: Vec<Mutex<HashMap<u128, u64>>>,
    shard_cap: usize,
    start: Instant,
}

impl RateTable {
    /// A table of at most `keys_max` keys, split into `shards` locks.
    pub fn new(budget: Budget, keys_max: usize, shards: usize) -> RateTable {
        let shards = shards.max(1);
        RateTable {
            budget,
            shards: (0..shards).map(|_| Mutex::new(HashMap::new())).collect(),
            shard_cap: (keys_max / shards).max(1),
            start: Instant::now(),
        }
    }

    pub fn budget(&self) -> Budget {
        self.budget
    }

    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Counts one request against `key`, under `budget` (or the table's own).
    pub fn check(&self, key: u128, budget: Option<Budget>) -> Decision {
        self.check_at(key, budget.unwrap_or(self.budget), self.now_ms())
    }

    fn check_at(&self, key: u128, budget: Budget, now: u64) -> Decision {
        let requests = budget.requests.max(1) as u64;
        let window = budget.window_ms.max(1);
        let interval = (window / requests).max(1);
        let shard = &self.shards[(key as usize ^ (key >> 64) as usize) % self.shards.len()];
        let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
        let key = if map.contains_key(&key)
            || map.len() < self.shard_cap
            || prune(&mut map, now, self.shard_cap)
        {
            key
        } else {
            OVERFLOW_KEY
        };
        let tat = map.get(&key).copied().unwrap_or(now).max(now);
        let new_tat = tat + interval;
        let ahead = new_tat - now;
        if ahead > window {
            let retry_after_ms = ahead - window;
            return Decision {
                allowed: false,
                limit: budget.requests,
                remaining: 0,
                reset_after_ms: tat - now,
                retry_after_ms,
            };
        }
        map.insert(key, new_tat);
        let remaining = ((window - ahead) / interval) as u32;
        Decision {
            allowed: true,
            limit: budget.requests,
            remaining,
            reset_after_ms: ahead,
            retry_after_ms: 0,
        }
    }

    /// Gives back one request counted against `key` by `check` (under the
    /// table's own budget): for work the server refused for its own
    /// overload (a 503), which the client did not get and will retry.
    pub fn refund(&self, key: u128) {
        self.refund_at(key, self.now_ms());
    }

    fn refund_at(&self, key: u128, now: u64) {
        let interval =
            (self.budget.window_ms.max(1) / u64::from(self.budget.requests.max(1))).max(1);
        let shard = &self.shards[(key as usize ^ (key >> 64) as usize) % self.shards.len()];
        let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tat) = map.get_mut(&key) {
            *tat = tat.saturating_sub(interval).max(now);
        }
    }

    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Drops keys whose budget is whole again; true if that made room.
fn prune(map: &mut HashMap<u128, u64>, now: u64, cap: usize) -> bool {
    map.retain(|k, tat| *k == OVERFLOW_KEY || *tat > now);
    map.len() < cap
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHARDS: usize = 16;

    /// A table of `requests` per `window_ms`, at most `keys` keys.
    fn table(requests: u32, window_ms: u64, keys: usize) -> RateTable {
        RateTable::new(
            Budget {
                requests,
                window_ms,
            },
            keys,
            SHARDS,
        )
    }

    #[test]
    fn allows_the_budget_then_refuses_until_time_passes() {
        let t = table(5, 1_000, 100);
        let b = t.budget();
        for i in 0..5 {
            let d = t.check_at(1, b, 0);
            assert!(d.allowed, "request {i}");
            assert_eq!(d.remaining, 4 - i);
        }
        let refused = t.check_at(1, b, 0);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_ms, 200);
        assert!(
            t.check_at(1, b, 200).allowed,
            "one interval later one more is allowed"
        );
        assert!(t.check_at(2, b, 0).allowed, "other keys are independent");
    }

    #[test]
    fn a_refund_gives_one_request_back() {
        let t = table(5, 1_000, 100);
        let b = t.budget();
        for _ in 0..5 {
            assert!(t.check_at(1, b, 0).allowed);
        }
        assert!(!t.check_at(1, b, 0).allowed, "spent");
        t.refund_at(1, 0);
        assert!(t.check_at(1, b, 0).allowed, "the refunded one");
        assert!(!t.check_at(1, b, 0).allowed, "and only that one");
        // Refunds never put a key ahead of a whole budget.
        for _ in 0..20 {
            t.refund_at(2, 0);
            t.refund_at(1, 0);
        }
        assert_eq!(t.check_at(1, b, 0).remaining, 4);
    }

    #[test]
    fn memory_is_bounded_and_newcomers_share_overflow() {
        let t = table(2, 60_000, 32);
        for key in 0..10_000u128 {
            t.check_at(key, t.budget(), 0);
        }
        assert!(t.len() <= 32 + SHARDS, "table grew to {}", t.len());
    }

    #[test]
    fn expired_keys_are_pruned_to_make_room() {
        let t = table(2, 1_000, 16);
        for key in 0..16u128 {
            t.check_at(key, t.budget(), 0);
        }
        // Long after, every old key is whole again and may be dropped for new ones.
        let d = t.check_at(999, t.budget(), 10_000);
        assert!(d.allowed && d.remaining == 1);
        assert!(t.len() <= 16);
    }
}
