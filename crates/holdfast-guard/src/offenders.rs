//! Addresses that keep sending after 429, cut off at accept.
//!
//! Answering a refused request still costs a parse and a response; a client
//! that ignores 429 and `Retry-After` should pay for that, not the server.
//! Each anonymous request refused by a rate limit is a strike against its
//! address; `strikes_max` strikes within `window` ban the address: the
//! listener closes its new connections straight after accept (and the guard
//! closes the connection the last strike came on). The ban lasts `ban_base`,
//! doubling with each ban while the address persists, up to `ban_max`.
//!
//! Only anonymous abuse counts: a signed-in user's 429s are budgets per
//! account, and never ban the address the user shares with others. A ban
//! does apply to everyone at that address while it lasts (at accept nobody
//! is known yet): that is the price of an address that floods.
//!
//! The table is bounded (`entries_max`); when full, records without a
//! running ban are dropped first, and newcomers are not tracked until there
//! is room (they are still rate-limited as usual).

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
}

struct Record {
    strikes: u32,
    window_start: Instant,
    banned_until: Option<Instant>,
    /// Bans so far; each one doubles the next. Forgotten once the address
    /// has been quiet for `ban_max` after its last ban.
    bans: u32,
}

pub struct Offenders {
    bounds: OffenderBounds,
    table: Mutex<HashMap<IpAddr, Record>>,
    bans_total: AtomicU64,
    refused_total: AtomicU64,
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
            table: Mutex::new(HashMap::new()),
            bans_total: AtomicU64::new(0),
            refused_total: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Record>> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one strike; returns the ban's length if this strike started one.
    pub fn strike(&self, ip: IpAddr) -> Option<Duration> {
        self.strike_at(ip, Instant::now())
    }

    fn strike_at(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let b = self.bounds;
        let mut table = self.lock();
        if !table.contains_key(&ip) && table.len() >= b.entries_max {
            table.retain(|_, r| {
                r.banned_until.is_some_and(|until| until > now)
                    || now.duration_since(r.window_start) < b.window
            });
            if table.len() >= b.entries_max {
                return None;
            }
        }
        let r = table.entry(ip).or_insert(Record {
            strikes: 0,
            window_start: now,
            banned_until: None,
            bans: 0,
        });
        if r.banned_until.is_some_and(|until| until > now) {
            return None;
        }
        // Quiet long enough after the last ban: start over.
        if r.banned_until
            .is_some_and(|until| now.duration_since(until) > b.ban_max)
        {
            r.bans = 0;
            r.banned_until = None;
        }
        if now.duration_since(r.window_start) >= b.window {
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
        tracing::warn!(address = %ip, ban_s = length.as_secs_f64(), bans = r.bans,
            "address banned: it kept sending anonymous requests after 429");
        Some(length)
    }

    /// Whether connections from `ip` are refused now (counted when they are).
    pub fn refuses(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let banned = self
            .lock()
            .get(&ip)
            .and_then(|r| r.banned_until)
            .is_some_and(|until| until > now);
        if banned {
            self.refused_total.fetch_add(1, Ordering::Relaxed);
        }
        banned
    }

    pub fn render(&self, out: &mut String) {
        use std::fmt::Write;
        let now = Instant::now();
        let banned = self
            .lock()
            .values()
            .filter(|r| r.banned_until.is_some_and(|until| until > now))
            .count();
        let _ = writeln!(
            out,
            "# HELP holdfast_guard_bans_total Addresses banned for sending after 429.\n\
             # TYPE holdfast_guard_bans_total counter\nholdfast_guard_bans_total {}\n\
             # TYPE holdfast_guard_banned_addresses gauge\nholdfast_guard_banned_addresses {banned}\n\
             # HELP holdfast_guard_banned_connections_total Connections closed at accept because their address is banned.\n\
             # TYPE holdfast_guard_banned_connections_total counter\nholdfast_guard_banned_connections_total {}",
            self.bans_total.load(Ordering::Relaxed),
            self.refused_total.load(Ordering::Relaxed),
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
        }
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
        }
        assert!(o.lock().len() <= 2);
    }
}
