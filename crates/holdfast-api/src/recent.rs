//! The status page's memory of the last few minutes, bounded: requests
//! (count, 5xx answers, a latency histogram) in a ring of time slots, and
//! snapshots of counters that only grow (the guard's refusals, standby
//! reads), whose differences say what happened within the window.
//!
//! Size: `status_window_s / status_slot_s` slots (30 by default), each a
//! histogram of `BUCKETS` counters; nothing grows with traffic.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Latency histogram layout: a power of two of microseconds, split into
/// 2^SUB_BITS equal steps, so a quantile is known to within 1/2^SUB_BITS
/// (12.5 %) of itself at any scale.
// fact: the histogram's format (8 steps per power of two)
const SUB_BITS: u32 = 3;
// fact: microseconds up to 2^40 (12 days) fit; longer lands in the last bucket
const POWERS: usize = 40;
const BUCKETS: usize = POWERS << SUB_BITS;

fn bucket_of(us: u64) -> usize {
    let us = us.max(1);
    let power = 63 - us.leading_zeros();
    let step = if power >= SUB_BITS {
        ((us >> (power - SUB_BITS)) as usize) & ((1 << SUB_BITS) - 1)
    } else {
        ((us << (SUB_BITS - power)) as usize) & ((1 << SUB_BITS) - 1)
    };
    ((power as usize) << SUB_BITS | step).min(BUCKETS - 1)
}

/// The upper edge of a bucket, in microseconds (what a quantile reports).
fn bucket_ceiling_us(bucket: usize) -> u64 {
    let power = (bucket >> SUB_BITS) as u32;
    let step = (bucket & ((1 << SUB_BITS) - 1)) as u64;
    let base = 1u64 << power;
    base + (base * (step + 1) >> SUB_BITS)
}

struct Slot {
    /// Which slot of time this is (seconds since start / slot length); a
    /// slot found holding an older index is stale and reset before use.
    index: u64,
    requests: u64,
    server_errors: u64,
    latency: Box<[u32; BUCKETS]>,
}

impl Slot {
    fn new() -> Slot {
        Slot {
            index: u64::MAX,
            requests: 0,
            server_errors: 0,
            latency: Box::new([0; BUCKETS]),
        }
    }
}

/// What the window saw, for the status page and `/metrics`.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct RequestFigures {
    /// Seconds the figures cover: the window, or less just after a start.
    pub covered_s: u64,
    pub requests: u64,
    pub per_second: f64,
    /// Answers with a 5xx status (the guard's own refusals are counted apart).
    pub server_errors: u64,
    pub error_ratio: f64,
    /// None when no request was answered in the window.
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

pub struct Recent {
    started: Instant,
    slot: Duration,
    slots: Mutex<Vec<Slot>>,
    /// (slot index, counter totals) at the start of each slot, oldest first.
    snapshots: Mutex<VecDeque<(u64, BTreeMap<String, u64>)>>,
}

impl Recent {
    pub fn new(window_s: u64, slot_s: u64) -> Recent {
        let slot_s = slot_s.max(1);
        let count = window_s.div_ceil(slot_s).max(1) as usize;
        Recent {
            started: Instant::now(),
            slot: Duration::from_secs(slot_s),
            slots: Mutex::new((0..count).map(|_| Slot::new()).collect()),
            snapshots: Mutex::new(VecDeque::with_capacity(count + 1)),
        }
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    fn slot_index(&self) -> u64 {
        (self.started.elapsed().as_secs_f64() / self.slot.as_secs_f64()) as u64
    }

    /// One answered request.
    pub fn record(&self, status: u16, elapsed: Duration) {
        let now = self.slot_index();
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let n = slots.len() as u64;
        let slot = &mut slots[(now % n) as usize];
        if slot.index != now {
            slot.index = now;
            slot.requests = 0;
            slot.server_errors = 0;
            slot.latency.fill(0);
        }
        slot.requests += 1;
        if status >= 500 {
            slot.server_errors += 1;
        }
        let bucket = bucket_of(elapsed.as_micros().min(u128::from(u64::MAX)) as u64);
        slot.latency[bucket] = slot.latency[bucket].saturating_add(1);
    }

    /// Rate, errors and latency quantiles over the window.
    pub fn requests(&self) -> RequestFigures {
        let now = self.slot_index();
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let n = slots.len() as u64;
        let oldest = now.saturating_sub(n - 1);
        let mut merged = [0u64; BUCKETS];
        let (mut requests, mut errors) = (0, 0);
        for slot in slots.iter().filter(|s| s.index >= oldest && s.index <= now) {
            requests += slot.requests;
            errors += slot.server_errors;
            for (m, c) in merged.iter_mut().zip(slot.latency.iter()) {
                *m += u64::from(*c);
            }
        }
        drop(slots);
        // The current slot is partly over; the oldest ones may predate the start.
        let window = self.slot * n as u32;
        let covered = self.started.elapsed().min(window).as_secs_f64().max(1.0);
        let quantile = |q: f64| -> Option<f64> {
            if requests == 0 {
                return None;
            }
            let rank = ((requests as f64) * q).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (bucket, count) in merged.iter().enumerate() {
                seen += count;
                if seen >= rank {
                    return Some(bucket_ceiling_us(bucket) as f64 / 1000.0);
                }
            }
            None
        };
        RequestFigures {
            covered_s: covered as u64,
            requests,
            per_second: requests as f64 / covered,
            server_errors: errors,
            error_ratio: if requests == 0 {
                0.0
            } else {
                errors as f64 / requests as f64
            },
            p50_ms: quantile(0.5),
            p99_ms: quantile(0.99),
        }
    }

    /// Keeps the totals of counters that only grow, once per slot (a ticker
    /// calls this every `status_slot_s`); the oldest beyond the window go.
    pub fn snapshot(&self, totals: BTreeMap<String, u64>) {
        let now = self.slot_index();
        let keep = self.slots.lock().unwrap_or_else(|p| p.into_inner()).len();
        let mut snapshots = self.snapshots.lock().unwrap_or_else(|p| p.into_inner());
        if snapshots.back().is_some_and(|(i, _)| *i == now) {
            return;
        }
        snapshots.push_back((now, totals));
        while snapshots.len() > keep + 1 {
            snapshots.pop_front();
        }
    }

    /// How much each counter grew within the window (since the oldest kept
    /// snapshot; a counter absent then counts from zero).
    pub fn growth(&self, totals: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
        let snapshots = self.snapshots.lock().unwrap_or_else(|p| p.into_inner());
        let empty = BTreeMap::new();
        let base = snapshots.front().map_or(&empty, |(_, t)| t);
        totals
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.saturating_sub(base.get(k).copied().unwrap_or(0)),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_bound_a_value_within_an_eighth() {
        for us in [
            1u64,
            7,
            8,
            9,
            100,
            999,
            1_000,
            12_345,
            1_000_000,
            5_000_000_000,
        ] {
            let ceiling = bucket_ceiling_us(bucket_of(us));
            assert!(ceiling >= us, "{us} -> {ceiling}");
            assert!(
                ceiling as f64 <= us as f64 * 1.25 + 1.0,
                "{us} -> {ceiling}"
            );
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn quantiles_and_errors_come_from_the_window() {
        let r = Recent::new(300, 10);
        for _ in 0..98 {
            r.record(200, Duration::from_millis(10));
        }
        r.record(503, Duration::from_millis(2_000));
        r.record(500, Duration::from_millis(2_000));
        let f = r.requests();
        assert_eq!(f.requests, 100);
        assert_eq!(f.server_errors, 2);
        let p50 = f.p50_ms.unwrap();
        assert!((10.0..=12.5).contains(&p50), "{p50}");
        let p99 = f.p99_ms.unwrap();
        assert!((2_000.0..=2_500.0).contains(&p99), "{p99}");
    }

    #[test]
    fn counters_grow_from_the_oldest_snapshot() {
        let r = Recent::new(300, 10);
        r.snapshot(BTreeMap::from([("a".to_owned(), 5)]));
        let now = BTreeMap::from([("a".to_owned(), 9), ("b".to_owned(), 2)]);
        let g = r.growth(&now);
        assert_eq!(g["a"], 4);
        assert_eq!(g["b"], 2);
    }
}
