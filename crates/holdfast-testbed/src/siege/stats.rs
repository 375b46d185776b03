//! What happened to every request, bucketed per second, and the percentile maths.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::http::{ClientError, Response};

/// Who sent a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Legit,
    Attacker,
}

/// How a request ended, from the sender's point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx.
    Ok,
    /// The server said no cheaply: 429, 503, 413, 408, or reset/closed the connection.
    Refused,
    /// Anything else: other statuses, client timeouts, connect failures, protocol errors.
    Error,
}

/// Sorts a request's result into an outcome and a label for the per-status counts.
pub fn classify(result: &Result<Response, ClientError>) -> (Outcome, String) {
    match result {
        Ok(r) if (200..300).contains(&r.status) => (Outcome::Ok, r.status.to_string()),
        Ok(r) if matches!(r.status, 429 | 503 | 413 | 408) => {
            (Outcome::Refused, r.status.to_string())
        }
        Ok(r) => (Outcome::Error, r.status.to_string()),
        Err(ClientError::Reset) => (Outcome::Refused, "reset".into()),
        Err(ClientError::Closed) => (Outcome::Refused, "closed".into()),
        Err(ClientError::Connect(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            (Outcome::Refused, "connect_refused".into())
        }
        Err(ClientError::Connect(e)) if e.raw_os_error() == Some(libc::EMFILE) => {
            (Outcome::Error, "client_out_of_files".into())
        }
        Err(ClientError::Connect(_)) => (Outcome::Error, "connect_error".into()),
        Err(ClientError::Timeout) => (Outcome::Error, "timeout".into()),
        Err(ClientError::Protocol(_)) => (Outcome::Error, "protocol_error".into()),
        Err(ClientError::Io(_)) => (Outcome::Error, "io_error".into()),
        Err(ClientError::NotSent) => (Outcome::Error, "not_sent_in_flight_max".into()),
    }
}

/// Nearest-rank percentile of sorted values (`p` in 0..=1): the smallest value with at
/// least `p` of all values at or below it.
pub fn percentile_sorted(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// Values below this are their own bucket; above, each power of two splits into
/// `SUB_BUCKETS` buckets, so a reported value is at most 1/32 (3.1 %) above the truth.
const SUB_BUCKETS: u64 = 32;
const LINEAR_MAX: u64 = 2 * SUB_BUCKETS;
const BUCKETS: usize = (64 - 6 + 1) * SUB_BUCKETS as usize + LINEAR_MAX as usize;

/// A log-linear histogram of microseconds: fixed memory, for the attacker's millions of requests.
#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
        }
    }
}

impl Histogram {
    fn index(v: u64) -> usize {
        if v < LINEAR_MAX {
            return v as usize;
        }
        let shift = 63 - v.leading_zeros() as u64 - 5; // keeps the top 6 bits: 32..=63
        (shift * SUB_BUCKETS + (v >> shift)) as usize
    }

    /// The largest value that falls into bucket `i` (reporting the top keeps percentiles conservative).
    fn upper(i: usize) -> u64 {
        let i = i as u64;
        if i < LINEAR_MAX {
            return i;
        }
        let shift = i / SUB_BUCKETS - 1;
        let mantissa = i - shift * SUB_BUCKETS;
        // u128: the top bucket's bound is exactly u64::MAX.
        (((mantissa as u128 + 1) << shift) - 1) as u64
    }

    pub fn record(&mut self, v: u64) {
        self.counts[Self::index(v)] += 1;
        self.total += 1;
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// Adds another histogram's counts (per-worker histograms into one).
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
    }

    /// Nearest-rank percentile, like `percentile_sorted`, to within one bucket.
    pub fn percentile(&self, p: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((p * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(Self::upper(i));
            }
        }
        unreachable!("rank is at most total")
    }
}

/// Counts for one class in one second (or in total).
#[derive(Clone, Default)]
pub struct Tally {
    pub sent: u64,
    pub ok: u64,
    pub refused: u64,
    pub errors: u64,
    /// Responses that were not refusals: the server did the work (an attacker "got through").
    pub admitted: u64,
    pub latency_us: Histogram,
    /// The slowest request (µs): one stall in a second shows even when the
    /// second's p99 (at 50 legit requests a second, its 1st slowest) is it.
    pub max_us: u64,
}

impl Tally {
    fn add(&mut self, outcome: Outcome, admitted: bool, latency_us: u64) {
        self.sent += 1;
        match outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Refused => self.refused += 1,
            Outcome::Error => self.errors += 1,
        }
        if admitted {
            self.admitted += 1;
        }
        self.latency_us.record(latency_us);
        self.max_us = self.max_us.max(latency_us);
    }
}

#[derive(Default)]
struct Second {
    legit: Tally,
    attacker: Tally,
}

#[derive(Default)]
struct Inner {
    seconds: Vec<Second>,
    legit: Tally,
    attacker: Tally,
    /// Exact legit latencies (µs), bounded by the legit request cap, for exact p99.9.
    legit_exact_us: Vec<u64>,
    legit_labels: BTreeMap<String, u64>,
    attacker_labels: BTreeMap<String, u64>,
    legit_actions: BTreeMap<&'static str, ActionTally>,
    /// Every legit request in the order they ended (bounded like `legit_exact_us`).
    legit_requests: Vec<LegitRequest>,
}

/// One legit request, for `legit.csv`: when it was due and how it went, so
/// a stall can be placed to the millisecond beside the server's own record
/// (a profile, its log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegitRequest {
    /// When it was due, from the start of the run (µs).
    pub due_us: u64,
    pub latency_us: u64,
    pub action: &'static str,
    /// The status, or what happened instead (as in the per-status counts).
    pub outcome: String,
}

/// One legit action's requests: how many, how many ok, and their exact
/// latencies (µs; bounded like `legit_exact_us`), so a flood's tail can be
/// traced to the kind of request that has it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActionTally {
    pub sent: u64,
    pub ok: u64,
    pub exact_us: Vec<u64>,
}

/// Shared by every task; one short lock per request.
pub struct Recorder {
    start: Instant,
    seconds_max: usize,
    inner: Mutex<Inner>,
}

/// A snapshot for the report.
pub struct Snapshot {
    pub timeline: Vec<(Tally, Tally)>,
    pub legit: Tally,
    pub attacker: Tally,
    pub legit_exact_us: Vec<u64>,
    pub legit_labels: BTreeMap<String, u64>,
    pub attacker_labels: BTreeMap<String, u64>,
    /// Latencies sorted.
    pub legit_actions: BTreeMap<&'static str, ActionTally>,
    /// By due time.
    pub legit_requests: Vec<LegitRequest>,
}

impl Recorder {
    pub fn new(start: Instant, duration: Duration) -> Self {
        // One extra second for requests scheduled at the very end.
        let seconds_max = duration.as_secs() as usize + 2;
        Recorder {
            start,
            seconds_max,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn start(&self) -> Instant {
        self.start
    }

    /// Records one request by the second it was (scheduled to be) sent in.
    pub fn record(
        &self,
        class: Class,
        action: &'static str,
        sent_at: Instant,
        latency: Duration,
        result: &Result<Response, ClientError>,
    ) {
        let (outcome, label) = classify(result);
        let admitted = outcome != Outcome::Refused && result.is_ok();
        let latency_us = latency.as_micros().min(u64::MAX as u128) as u64;
        let due = sent_at.saturating_duration_since(self.start);
        let second = (due.as_secs() as usize).min(self.seconds_max - 1);
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if g.seconds.len() <= second {
            g.seconds.resize_with(second + 1, Second::default);
        }
        match class {
            Class::Legit => {
                g.seconds[second].legit.add(outcome, admitted, latency_us);
                g.legit.add(outcome, admitted, latency_us);
                g.legit_exact_us.push(latency_us);
                *g.legit_labels.entry(label.clone()).or_default() += 1;
                let a = g.legit_actions.entry(action).or_default();
                a.sent += 1;
                a.ok += (outcome == Outcome::Ok) as u64;
                a.exact_us.push(latency_us);
                g.legit_requests.push(LegitRequest {
                    due_us: due.as_micros().min(u64::MAX as u128) as u64,
                    latency_us,
                    action,
                    outcome: label,
                });
            }
            Class::Attacker => {
                g.seconds[second]
                    .attacker
                    .add(outcome, admitted, latency_us);
                g.attacker.add(outcome, admitted, latency_us);
                *g.attacker_labels.entry(label).or_default() += 1;
            }
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut legit_exact_us = g.legit_exact_us.clone();
        legit_exact_us.sort_unstable();
        let mut legit_requests = g.legit_requests.clone();
        legit_requests.sort_by_key(|r| r.due_us);
        Snapshot {
            timeline: g
                .seconds
                .iter()
                .map(|s| (s.legit.clone(), s.attacker.clone()))
                .collect(),
            legit: g.legit.clone(),
            attacker: g.attacker.clone(),
            legit_exact_us,
            legit_labels: g.legit_labels.clone(),
            attacker_labels: g.attacker_labels.clone(),
            legit_actions: g
                .legit_actions
                .iter()
                .map(|(k, a)| {
                    let mut a = a.clone();
                    a.exact_us.sort_unstable();
                    (*k, a)
                })
                .collect(),
            legit_requests,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile_sorted(&v, 0.5), Some(50));
        assert_eq!(percentile_sorted(&v, 0.99), Some(99));
        assert_eq!(percentile_sorted(&v, 0.999), Some(100));
        assert_eq!(percentile_sorted(&v, 0.0), Some(1));
        assert_eq!(percentile_sorted(&v, 1.0), Some(100));
        assert_eq!(percentile_sorted(&[7], 0.999), Some(7));
        assert_eq!(percentile_sorted(&[], 0.5), None);
        // 1000 values: p99.9 is the 999th, not the maximum.
        let w: Vec<u64> = (1..=1000).collect();
        assert_eq!(percentile_sorted(&w, 0.999), Some(999));
    }

    #[test]
    fn histogram_buckets_are_contiguous_and_cover_their_values() {
        let mut last = None;
        for v in (0..100_000u64).chain([u32::MAX as u64, u64::MAX / 3, u64::MAX]) {
            let i = Histogram::index(v);
            assert!(i < BUCKETS, "{v} -> {i}");
            assert!(Histogram::upper(i) >= v, "upper({i}) < {v}");
            if let Some(prev) = last {
                assert!(i >= prev);
            }
            last = Some(i);
            if v > 0 && v < 100_000 {
                assert!(i - Histogram::index(v - 1) <= 1, "gap at {v}");
            }
        }
    }

    #[test]
    fn histogram_percentiles_match_exact_within_a_bucket() {
        // A skewed, deterministic sample: mostly fast, a long slow tail.
        let mut values: Vec<u64> = (0..10_000u64)
            .map(|i| {
                if i % 100 == 0 {
                    2_000_000 + i * 97
                } else {
                    500 + (i * 7919) % 20_000
                }
            })
            .collect();
        let mut h = Histogram::default();
        values.iter().for_each(|v| h.record(*v));
        values.sort_unstable();
        assert_eq!(h.count(), 10_000);
        for p in [0.5, 0.9, 0.99, 0.999, 1.0] {
            let exact = percentile_sorted(&values, p).unwrap() as f64;
            let approx = h.percentile(p).unwrap() as f64;
            assert!(
                approx >= exact && approx <= exact * (1.0 + 1.0 / SUB_BUCKETS as f64),
                "p{p}: {approx} vs {exact}"
            );
        }
        assert_eq!(Histogram::default().percentile(0.5), None);
    }

    #[test]
    fn outcomes_follow_the_brief() {
        let resp = |status| {
            Ok(Response {
                status,
                headers: vec![],
                body: vec![],
                keep_alive: true,
            })
        };
        assert_eq!(classify(&resp(200)).0, Outcome::Ok);
        assert_eq!(classify(&resp(204)).0, Outcome::Ok);
        for s in [429, 503, 413, 408] {
            assert_eq!(classify(&resp(s)).0, Outcome::Refused, "{s}");
        }
        for s in [400, 401, 404, 422, 500, 502] {
            assert_eq!(classify(&resp(s)).0, Outcome::Error, "{s}");
        }
        assert_eq!(classify(&Err(ClientError::Reset)).0, Outcome::Refused);
        assert_eq!(classify(&Err(ClientError::Closed)).0, Outcome::Refused);
        assert_eq!(
            classify(&Err(ClientError::Timeout)),
            (Outcome::Error, "timeout".to_owned())
        );
    }

    #[test]
    fn recorder_buckets_by_send_second() {
        let start = Instant::now();
        let r = Recorder::new(start, Duration::from_secs(3));
        let ok = Ok(Response {
            status: 200,
            headers: vec![],
            body: vec![],
            keep_alive: true,
        });
        let busy = Ok(Response {
            status: 503,
            headers: vec![],
            body: vec![],
            keep_alive: true,
        });
        r.record(Class::Legit, "home", start, Duration::from_millis(5), &ok);
        r.record(
            Class::Legit,
            "home",
            start + Duration::from_millis(2500),
            Duration::from_millis(7),
            &busy,
        );
        r.record(
            Class::Attacker,
            "flood",
            start + Duration::from_secs(60),
            Duration::from_millis(1),
            &ok,
        );
        let s = r.snapshot();
        assert_eq!(s.timeline.len(), 5, "late requests land in the last bucket");
        assert_eq!((s.timeline[0].0.sent, s.timeline[0].0.ok), (1, 1));
        assert_eq!((s.timeline[2].0.sent, s.timeline[2].0.refused), (1, 1));
        assert_eq!(s.timeline[4].1.admitted, 1);
        assert_eq!(s.legit_exact_us, vec![5_000, 7_000]);
        let home = &s.legit_actions["home"];
        assert_eq!((home.sent, home.ok), (2, 1));
        assert_eq!(home.exact_us, vec![5_000, 7_000]);
        assert_eq!(s.timeline[2].0.max_us, 7_000);
        let due: Vec<_> = s
            .legit_requests
            .iter()
            .map(|r| (r.due_us, r.latency_us))
            .collect();
        assert_eq!(due, vec![(0, 5_000), (2_500_000, 7_000)]);
        assert_eq!(s.legit_requests[1].outcome, "503");
    }
}
