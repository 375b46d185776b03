//! Free loopback ports for the processes a test bed starts.
//!
//! A port found by binding port 0 comes from the kernel's ephemeral range,
//! the range every outgoing connection on the machine takes its local port
//! from. A test bed holds its picks for a while before the process that uses
//! them binds (a cluster starts etcd before the relays, and Patroni starts
//! PostgreSQL tens of seconds later), and in that gap any `connect()` (etcd's
//! peers talking, a previous test's clients) can take one: the process then
//! cannot listen (the likeliest cause of a CI run that once failed with
//! "timed out waiting for a relay to listen"). So ports are picked below the ephemeral range, where `connect()`
//! never lands, from a start that differs per call (two test beds starting
//! at once do not walk the same ports), and each is checked free by binding
//! it; all are held until every one is picked, so none is picked twice.

use std::net::TcpListener;
use std::time::{SystemTime, UNIX_EPOCH};

/// The lowest port picked: clear of the well-known and registered services
/// a developer's machine commonly runs below it (PostgreSQL 5432, etc.).
const PICK_FROM_PORT: u16 = 10_000;
/// Where the ephemeral range starts when the kernel does not say (Linux's default).
const EPHEMERAL_FROM_PORT_DEFAULT: u16 = 32_768;
const EPHEMERAL_RANGE_FILE: &str = "/proc/sys/net/ipv4/ip_local_port_range";

/// `n` distinct loopback ports that were free a moment ago and that no
/// outgoing connection will take in the meantime.
pub fn free_loopback_ports(n: usize) -> Result<Vec<u16>, String> {
    let (from, to) = (PICK_FROM_PORT, ephemeral_from());
    let span = to.saturating_sub(from);
    if (span as usize) < n {
        return Err(format!(
            "cannot find {n} free ports: only {span} lie below the ephemeral range ({to})"
        ));
    }
    let start = start_offset(span);
    let mut held = Vec::with_capacity(n);
    // Bounded: at most one bind per port of the range.
    for step in 0..span {
        if held.len() == n {
            break;
        }
        let port = from + (start + step) % span;
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
            held.push(listener);
        }
    }
    if held.len() < n {
        return Err(format!(
            "cannot find {n} free ports in {from}..{to}: only {} are free",
            held.len()
        ));
    }
    held.iter()
        .map(|l| l.local_addr().map(|a| a.port()).map_err(|e| e.to_string()))
        .collect()
}

/// One free loopback port (see `free_loopback_ports`).
pub fn free_loopback_port() -> Result<u16, String> {
    Ok(free_loopback_ports(1)?[0])
}

/// The first port of the kernel's ephemeral range.
fn ephemeral_from() -> u16 {
    std::fs::read_to_string(EPHEMERAL_RANGE_FILE)
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(EPHEMERAL_FROM_PORT_DEFAULT)
}

/// Where in the range this call starts walking: from the process id and the
/// clock, so concurrent test beds start far apart.
fn start_offset(span: u16) -> u16 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mixed = (std::process::id() as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(nanos as u64);
    (mixed % span as u64) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_free_and_below_the_ephemeral_range() {
        let ports = free_loopback_ports(20).unwrap();
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 20, "a port picked twice: {ports:?}");
        let below = ephemeral_from();
        for port in ports {
            assert!(
                (PICK_FROM_PORT..below).contains(&port),
                "{port} is outside {PICK_FROM_PORT}..{below}"
            );
            TcpListener::bind(("127.0.0.1", port)).expect("a picked port is free");
        }
    }

    #[test]
    fn a_port_in_use_is_not_picked() {
        // Hold every port but a few of a small walk: the picks must avoid them.
        let taken = free_loopback_ports(50).unwrap();
        let held: Vec<_> = taken
            .iter()
            .map(|p| TcpListener::bind(("127.0.0.1", *p)).unwrap())
            .collect();
        let picked = free_loopback_ports(50).unwrap();
        assert!(
            picked.iter().all(|p| !taken.contains(p)),
            "picked a port in use: {picked:?} and {taken:?}"
        );
        drop(held);
    }
}
