//! Addresses that keep sending after 429, cut off at accept.
//!
//! Answering a refused request still costs a parse and a response; a client
//! that ignores 429 and `Retry-After` should pay for that, not the server.
//! Each anonymous request refused by a rate limit is a strike against its
//! address; `strikes_max` strikes within `window` ban the address. The ban
//! lasts `ban_base`, doubling with each ban while the address persists, up
//! to `ban_max`.
//!
//! An address is judged by its anonymous abuse only: a signed-in user's 429s
//! are budgets per account and never strike. And people who share an address
//! with an attacker (a NAT, an office) are not banned with it. The guard marks
//! an address each time it serves a request with a token it knows as valid
//! (`signed_in_served`); while banned, an address
//! - with no such request within `signed_in_window` is refused at accept
//!   (`Standing::Refused`: the listener closes its new connections at once,
//!   and the guard closes the connection the last strike came on);
//! - with one is accepted (`Standing::TokensOnly`), and each request is judged
//!   by the guard: a token it already knows as valid is served as usual,
//!   anything else (no token, a token it does not know: no database look-up
//!   for a banned address) gets a cheap 429 and its connection closed.
//! An attacker who holds one valid token keeps the second kind of ban for
//! its address; its anonymous requests still cost it a connection each.
//!
//! The table is bounded (`entries_max`). When it is full, a strike (what the
//! table is for) drops every record without a running ban or recent strikes,
//! signed-in marks included; a mark only drops records that no longer
//! matter, at most once per `window`, so a table full of live marks costs a
//! look-up per signed-in request, not a scan. Addresses not tracked are still
//! rate-limited as usual.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
pub struct OffenderBounds {
    pub strikes_max: u32,
    pub window: Duration,
    pub ban_base: Duration,
    pub ban_max: Duration,
    pub entries_max: usize,
    /// A banned address where a signed-in user was served within this long
    /// is judged per request instead of refused at accept.
    pub signed_in_window: Duration,
}

impl OffenderBounds {
    pub fn from_limits(l: &holdfast_config::Limits) -> OffenderBounds {
        OffenderBounds {
            strikes_max: l.offender_strikes_max,
            window: Duration::from_millis(l.offender_window_ms),
            ban_base: Duration::from_millis(l.offender_ban_base_ms),
            ban_max: Duration::from_millis(l.offender_ban_max_ms),
            entries_max: l.offenders_max,
            signed_in_window: Duration::from_millis(l.offender_signed_in_window_ms),
        }
    }
}

/// What a ban means for a connection or a request from an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Not banned.
    Clear,
    /// Banned, and nobody signed in was served from it lately: refused outright.
    Refused,
    /// Banned, but signed-in users were served from it lately: only requests
    /// with a token the guard knows as valid are served.
    TokensOnly,
}

/// What the listener learns about an address when it accepts a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AtAccept {
    pub standing: Standing,
    /// A request with a token the guard knows as valid was served from it
    /// within `signed_in_window`: its connections go to the signed-in lane.
    pub signed_in_lately: bool,
}

/// In the extensions of a request whose address stands `TokensOnly`: the
/// listener let it through, the guard judges it by its token.
#[derive(Clone, Copy, Debug)]
pub struct BannedAddress;

struct Record {
    strikes: u32,
    window_start: Instant,
    banned_until: Option<Instant>,
    /// Bans so far; each one doubles the next. Forgotten once the address
    /// has been quiet for `ban_max` after its last ban.
    bans: u32,
    /// The last request served here with a token the guard knows as valid.
    signed_in_at: Option<Instant>,
}

impl Record {
    fn new(now: Instant) -> Record {
        Record {
            strikes: 0,
            window_start: now,
            banned_until: None,
            bans: 0,
            signed_in_at: None,
        }
    }

    fn banned(&self, now: Instant) -> bool {
        self.banned_until.is_some_and(|until| until > now)
    }

    fn striking(&self, now: Instant, b: &OffenderBounds) -> bool {
        self.strikes > 0 && now.duration_since(self.window_start) < b.window
    }

    fn signed_in_lately(&self, now: Instant, b: &OffenderBounds) -> bool {
        self.signed_in_at
            .is_some_and(|at| now.duration_since(at) < b.signed_in_window)
    }
}

struct Table {
    records: HashMap<IpAddr, Record>,
    /// When a signed-in mark last pruned the full table.
    marks_pruned_at: Option<Instant>,
}

impl Table {
    /// Whether `ip` has, or can now be given, a record (see the module doc).
    fn has_room(&mut self, ip: IpAddr, now: Instant, b: &OffenderBounds, for_strike: bool) -> bool {
        if self.records.contains_key(&ip) || self.records.len() < b.entries_max {
            return true;
        }
        if !for_strike {
            if self
                .marks_pruned_at
                .is_some_and(|at| now.duration_since(at) < b.window)
            {
                return false;
            }
            self.marks_pruned_at = Some(now);
        }
        self.records.retain(|_, r| {
            r.banned(now) || r.striking(now, b) || (!for_strike && r.signed_in_lately(now, b))
        });
        self.records.len() < b.entries_max
    }
}

pub struct Offenders {
    bounds: OffenderBounds,
    table: Mutex<Table>,
    bans_total: AtomicU64,
    refused_total: AtomicU64,
    banned_served_total: AtomicU64,
    banned_refused_total: AtomicU64,
}

impl std::fmt::Debug for Offenders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Offenders")
            .field("bounds", &self.bounds)
            .finish_non_exhaustive()
    }
}

impl Offenders {
    pub fn new(bounds: OffenderBounds) -> Offenders {
        Offenders {
            bounds,
            table: Mutex::new(Table {
                records: HashMap::new(),
                marks_pruned_at: None,
            }),
            bans_total: AtomicU64::new(0),
            refused_total: AtomicU64::new(0),
            banned_served_total: AtomicU64::new(0),
            banned_refused_total: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one strike; returns the ban's length if this strike started one.
    pub fn strike(&self, ip: IpAddr) -> Option<Duration> {
        self.strike_at(ip, Instant::now())
    }

    fn strike_at(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let b = self.bounds;
        let mut table = self.lock();
        if !table.has_room(ip, now, &b, true) {
            return None;
        }
        let r = table.records.entry(ip).or_insert_with(|| Record::new(now));
        if r.banned(now) {
            return None;
        }
        // Quiet long enough after the last ban: start over.
        if r.banned_until
            .is_some_and(|until| now.duration_since(until) > b.ban_max)
        {
            r.bans = 0;
            r.banned_until = None;
        }
        if r.strikes == 0 || now.duration_since(r.window_start) >= b.window {
            r.window_start = now;
            r.strikes = 0;
        }
        r.strikes += 1;
        if r.strikes < b.strikes_max.max(1) {
            return None;
        }
        let length = b
            .ban_base
            .saturating_mul(2u32.saturating_pow(r.bans))
            .min(b.ban_max);
        r.bans += 1;
        r.strikes = 0;
        r.window_start = now;
        r.banned_until = Some(now + length);
        self.bans_total.fetch_add(1, Ordering::Relaxed);
        let signed_in_lately = r.signed_in_lately(now, &b);
        tracing::warn!(address = %ip, ban_s = length.as_secs_f64(), bans = r.bans, signed_in_lately,
            "address banned: it kept sending anonymous requests after 429{}",
            if signed_in_lately { "; its signed-in users are still served" } else { "" });
        Some(length)
    }

    /// Marks `ip` as an address where a request with a token the guard knows
    /// as valid was just served.
    pub fn signed_in_served(&self, ip: IpAddr) {
        self.signed_in_served_at(ip, Instant::now());
    }

    fn signed_in_served_at(&self, ip: IpAddr, now: Instant) {
        let b = self.bounds;
        let mut table = self.lock();
        if table.has_room(ip, now, &b, false) {
            table
                .records
                .entry(ip)
                .or_insert_with(|| Record::new(now))
                .signed_in_at = Some(now);
        }
    }

    /// How a connection or request from `ip` stands now (counted when refused).
    pub fn standing(&self, ip: IpAddr) -> Standing {
        self.standing_at(ip, Instant::now())
    }

    fn standing_at(&self, ip: IpAddr, now: Instant) -> Standing {
        self.at_accept_at(ip, now).standing
    }

    /// How a new connection from `ip` stands, and whether it belongs in the
    /// signed-in lane (one look-up for both).
    pub fn at_accept(&self, ip: IpAddr) -> AtAccept {
        self.at_accept_at(ip, Instant::now())
    }

    fn at_accept_at(&self, ip: IpAddr, now: Instant) -> AtAccept {
        let b = self.bounds;
        let seen = match self.lock().records.get(&ip) {
            Some(r) => {
                let signed_in_lately = r.signed_in_lately(now, &b);
                AtAccept {
                    standing: match (r.banned(now), signed_in_lately) {
                        (true, true) => Standing::TokensOnly,
                        (true, false) => Standing::Refused,
                        (false, _) => Standing::Clear,
                    },
                    signed_in_lately,
                }
            }
            None => AtAccept {
                standing: Standing::Clear,
                signed_in_lately: false,
            },
        };
        if seen.standing == Standing::Refused {
            self.refused_total.fetch_add(1, Ordering::Relaxed);
        }
        seen
    }

    /// Whether a request with a valid token was served from `ip` within the
    /// signed-in window. Unlike [`Offenders::at_accept`] it counts nothing:
    /// it is asked after an answer, and only refusals at accept are counted.
    pub fn signed_in_lately(&self, ip: IpAddr) -> bool {
        self.signed_in_lately_at(ip, Instant::now())
    }

    fn signed_in_lately_at(&self, ip: IpAddr, now: Instant) -> bool {
        let b = self.bounds;
        self.lock()
            .records
            .get(&ip)
            .is_some_and(|r| r.signed_in_lately(now, &b))
    }

    /// Counts the guard's verdict on one request from a `TokensOnly` address.
    pub fn count_judged(&self, served: bool) {
        let counter = if served {
            &self.banned_served_total
        } else {
            &self.banned_refused_total
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self, out: &mut String) {
        use std::fmt::Write;
        let now = Instant::now();
        let banned = self
            .lock()
            .records
            .values()
            .filter(|r| r.banned(now))
            .count();
        let _ = writeln!(
            out,
            "# HELP holdfast_guard_bans_total Addresses banned for sending after 429.\n\
             # TYPE holdfast_guard_bans_total counter\nholdfast_guard_bans_total {}\n\
             # TYPE holdfast_guard_banned_addresses gauge\nholdfast_guard_banned_addresses {banned}\n\
             # HELP holdfast_guard_banned_connections_total Connections (or requests) refused because their address is banned and nobody signed in was served from it lately.\n\
             # TYPE holdfast_guard_banned_connections_total counter\nholdfast_guard_banned_connections_total {}\n\
             # HELP holdfast_guard_banned_requests_total Requests from a banned address that signed-in users share, judged by their token.\n\
             # TYPE holdfast_guard_banned_requests_total counter\n\
             holdfast_guard_banned_requests_total{{outcome=\"served\"}} {}\n\
             holdfast_guard_banned_requests_total{{outcome=\"refused\"}} {}",
            self.bans_total.load(Ordering::Relaxed),
            self.refused_total.load(Ordering::Relaxed),
            self.banned_served_total.load(Ordering::Relaxed),
            self.banned_refused_total.load(Ordering::Relaxed),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds() -> OffenderBounds {
        OffenderBounds {
            strikes_max: 3,
            window: Duration::from_secs(10),
            ban_base: Duration::from_secs(1),
            ban_max: Duration::from_secs(4),
            entries_max: 2,
            signed_in_window: Duration::from_secs(30),
        }
    }

    fn ban(o: &Offenders, ip: IpAddr, now: Instant) {
        let banned = (0..3).find_map(|_| o.strike_at(ip, now));
        assert!(banned.is_some(), "three strikes ban");
    }

    #[test]
    fn persisting_bans_grow_and_are_capped() {
        let o = Offenders::new(bounds());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Instant::now();
        assert_eq!(o.strike_at(ip, t0), None);
        assert_eq!(o.strike_at(ip, t0), None);
        assert_eq!(o.strike_at(ip, t0), Some(Duration::from_secs(1)));
        let mut t = t0 + Duration::from_millis(1_100);
        let mut lengths = Vec::new();
        for _ in 0..4 {
            let ban = (0..3).find_map(|_| o.strike_at(ip, t)).unwrap();
            lengths.push(ban.as_secs());
            t += ban + Duration::from_millis(100);
        }
        assert_eq!(lengths, vec![2, 4, 4, 4]);
    }

    #[test]
    fn strikes_outside_the_window_do_not_add_up() {
        let o = Offenders::new(bounds());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Instant::now();
        for i in 0..10 {
            assert_eq!(o.strike_at(ip, t0 + Duration::from_secs(6 * i)), None);
        }
    }

    #[test]
    fn the_table_is_bounded() {
        let o = Offenders::new(bounds());
        let t0 = Instant::now();
        for i in 0..100u32 {
            o.strike_at(IpAddr::from(i.to_be_bytes()), t0);
            o.signed_in_served_at(IpAddr::from((i + 1000).to_be_bytes()), t0);
        }
        assert!(o.lock().records.len() <= 2);
    }

    #[test]
    fn an_address_belongs_in_the_signed_in_lane_while_its_mark_is_recent() {
        let o = Offenders::new(bounds());
        let marked: IpAddr = "192.0.2.1".parse().unwrap();
        let stranger: IpAddr = "192.0.2.2".parse().unwrap();
        let t0 = Instant::now();
        o.signed_in_served_at(marked, t0);
        let lane = |ip, at| o.at_accept_at(ip, at).signed_in_lately;
        assert!(lane(marked, t0));
        assert!(!lane(stranger, t0), "no mark, no lane");
        assert!(
            !lane(marked, t0 + Duration::from_secs(31)),
            "the mark is forgotten after the signed-in window"
        );
        // A ban does not take the lane away from the users behind the address.
        ban(&o, marked, t0);
        assert_eq!(
            o.at_accept_at(marked, t0),
            AtAccept {
                standing: Standing::TokensOnly,
                signed_in_lately: true
            }
        );
    }

    #[test]
    fn asking_after_an_answer_whether_an_address_signed_in_counts_no_refusal() {
        let o = Offenders::new(bounds());
        let marked: IpAddr = "192.0.2.1".parse().unwrap();
        let banned: IpAddr = "192.0.2.2".parse().unwrap();
        let t0 = Instant::now();
        o.signed_in_served_at(marked, t0);
        ban(&o, banned, t0);
        assert!(o.signed_in_lately_at(marked, t0));
        assert!(!o.signed_in_lately_at(banned, t0));
        assert!(!o.signed_in_lately_at(marked, t0 + Duration::from_secs(31)));
        assert_eq!(
            o.refused_total.load(Ordering::Relaxed),
            0,
            "only a connection refused at accept is a refusal"
        );
        assert_eq!(o.at_accept_at(banned, t0).standing, Standing::Refused);
        assert_eq!(o.refused_total.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_banned_address_shared_with_signed_in_users_is_judged_per_request() {
        let o = Offenders::new(bounds());
        let shared: IpAddr = "192.0.2.1".parse().unwrap();
        let alone: IpAddr = "192.0.2.2".parse().unwrap();
        let t0 = Instant::now();
        o.signed_in_served_at(shared, t0);
        assert_eq!(
            o.standing_at(shared, t0),
            Standing::Clear,
            "a mark alone never bans"
        );
        ban(&o, shared, t0);
        ban(&o, alone, t0);
        assert_eq!(o.standing_at(shared, t0), Standing::TokensOnly);
        assert_eq!(o.standing_at(alone, t0), Standing::Refused);
        assert_eq!(o.refused_total.load(Ordering::Relaxed), 1);
        // After the ban, both are clear again.
        let later = t0 + Duration::from_millis(1_100);
        assert_eq!(o.standing_at(shared, later), Standing::Clear);
        assert_eq!(o.standing_at(alone, later), Standing::Clear);
    }

    #[test]
    fn signed_in_marks_wear_off() {
        let o = Offenders::new(bounds());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Instant::now();
        o.signed_in_served_at(ip, t0);
        let late = t0 + Duration::from_secs(31);
        ban(&o, ip, late);
        assert_eq!(o.standing_at(ip, late), Standing::Refused);
        // A user served again (through the guard's per-request path) renews it.
        o.signed_in_served_at(ip, late);
        assert_eq!(o.standing_at(ip, late), Standing::TokensOnly);
    }

    #[test]
    fn strikes_evict_marks_from_a_full_table() {
        let o = Offenders::new(bounds());
        let [a, b, c, d]: [IpAddr; 4] =
            ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"].map(|s| s.parse().unwrap());
        let t0 = Instant::now();
        o.signed_in_served_at(a, t0);
        o.signed_in_served_at(b, t0);
        o.signed_in_served_at(c, t0);
        assert!(
            !o.lock().records.contains_key(&c),
            "full of live marks: not tracked"
        );
        ban(&o, d, t0);
        assert_eq!(
            o.standing_at(d, t0),
            Standing::Refused,
            "a strike is: it matters more"
        );
    }

    #[test]
    fn marks_prune_a_full_table_at_most_once_per_window() {
        let o = Offenders::new(bounds());
        let [a, b, c]: [IpAddr; 3] =
            ["192.0.2.1", "192.0.2.2", "192.0.2.3"].map(|s| s.parse().unwrap());
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        o.signed_in_served_at(a, t0);
        o.signed_in_served_at(b, t0);
        o.signed_in_served_at(c, at(25)); // a scan that frees nothing
        o.signed_in_served_at(c, at(31)); // a and b are stale now, but no scan yet
        assert!(!o.lock().records.contains_key(&c));
        o.signed_in_served_at(c, at(36));
        assert!(o.lock().records.contains_key(&c));
        assert_eq!(o.lock().records.len(), 1);
    }

    /// What marking an address as signed-in costs per request (the guard does
    /// it on every signed-in request): one thread, and two at once on one
    /// address (the worst case: every request takes the same lock). Prints
    /// nanoseconds per call; numbers in bench/flood/README.md.
    #[test]
    #[ignore = "a micro-benchmark: cargo test -p holdfast-guard --release --lib signed_in_mark_cost -- --ignored --nocapture"]
    fn signed_in_mark_cost() {
        const CALLS: u32 = 2_000_000;
        let o = std::sync::Arc::new(Offenders::new(OffenderBounds {
            entries_max: 100_000,
            ..bounds()
        }));
        let per_call = |threads: u32, spread: u32| {
            let started = Instant::now();
            std::thread::scope(|scope| {
                for t in 0..threads {
                    let o = o.clone();
                    scope.spawn(move || {
                        for i in 0..CALLS {
                            let n = (i % spread) + t * spread;
                            o.signed_in_served(IpAddr::from(n.to_be_bytes()));
                        }
                    });
                }
            });
            started.elapsed().as_nanos() as f64 / (CALLS * threads) as f64
        };
        for (threads, spread, what) in [
            (1, 1, "1 thread, 1 address"),
            (1, 1_000, "1 thread, 1,000 addresses"),
            (2, 1, "2 threads, 1 address each"),
            (2, 1_000, "2 threads, 1,000 addresses each"),
        ] {
            println!(
                "signed_in_served: {:.0} ns per call ({what})",
                per_call(threads, spread)
            );
        }
    }
}
