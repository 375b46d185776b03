//! Where siege may send (loopback only), and from which source addresses.
//!
//! The whole of 127.0.0.0/8 routes to `lo` on Linux, so a client can bind any
//! 127.A.B.C as its source address without configuring anything; the server
//! then sees many distinct client IPs, which is what per-IP defences key on.
//! Legitimate users live in 127.0.x.y, request floods in 127.1.x.y and
//! slowloris in 127.2.x.y, so a server log tells them apart at a glance.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Distinct host addresses per /16 region (last octet 1..=254, third octet 0..=255).
pub const ADDRESSES_PER_REGION_MAX: usize = 254 * 256;

/// Second octet of each kind of client.
const LEGIT_REGION: u8 = 0;
pub const FLOOD_REGION: u8 = 1;
pub const SLOWLORIS_REGION: u8 = 2;

#[derive(Clone, Debug)]
pub struct Target {
    pub addr: SocketAddr,
    /// What goes into the `Host` header.
    pub host: String,
}

impl Target {
    /// Whether client sockets can take 127.x source addresses (not for an IPv6 target).
    pub fn distinct_sources(&self) -> bool {
        self.addr.is_ipv4()
    }
}

/// True for 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8.
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.octets()[0] == 127,
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.octets()[0] == 127)
        }
    }
}

/// Parses `http://HOST:PORT[/…]` and refuses anything that is not loopback.
///
/// Names are not resolved (a resolver could point anywhere); only IP literals and
/// the name `localhost` (taken as 127.0.0.1) are accepted.
pub fn parse_target(url: &str) -> Result<Target, String> {
    let refuse = |why: String| {
        Err(format!(
            "refusing target {url:?}: {why}; siege only sends to loopback (127.0.0.0/8 or [::1])"
        ))
    };
    let Some(rest) = url.strip_prefix("http://") else {
        return refuse("it is not an http:// URL".to_owned());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return refuse("user info is not supported".to_owned());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((host, after)) = v6.split_once(']') else {
            return refuse("unclosed [".to_owned());
        };
        let port = match after.strip_prefix(':') {
            Some(p) => p,
            None if after.is_empty() => "80",
            None => return refuse("junk after ]".to_owned()),
        };
        (host, port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, p),
            None => (authority, "80"),
        }
    };
    let Ok(port) = port.parse::<u16>() else {
        return refuse(format!("bad port {port:?}"));
    };
    if port == 0 {
        return refuse("port 0".to_owned());
    }
    let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        match host.parse() {
            Ok(ip) => ip,
            Err(_) => {
                return refuse(format!(
                    "{host:?} is not an IP literal (names are not resolved)"
                ))
            }
        }
    };
    if !is_loopback(ip) {
        return refuse(format!("{ip} is not a loopback address"));
    }
    let addr = SocketAddr::new(ip, port);
    Ok(Target {
        addr,
        host: addr.to_string(),
    })
}

fn region_address(region: u8, index: usize) -> IpAddr {
    let index = index % ADDRESSES_PER_REGION_MAX;
    let ip = Ipv4Addr::new(127, region, (index / 254) as u8, (index % 254) as u8 + 1);
    assert!(is_loopback(IpAddr::V4(ip)));
    IpAddr::V4(ip)
}

/// Source address of legitimate user `index`: 127.0.1.1, 127.0.1.2, … (127.0.0.x is left to the server).
pub fn legit_source(target: &Target, index: usize) -> Option<IpAddr> {
    target
        .distinct_sources()
        .then(|| region_address(LEGIT_REGION, index + 254))
}

/// Source address number `index` of an attacker region.
pub fn attacker_source(target: &Target, region: u8, index: usize) -> Option<IpAddr> {
    target
        .distinct_sources()
        .then(|| region_address(region, index))
}

/// Raises the soft open-files limit to the hard limit and returns the new soft limit.
/// Slowloris alone wants thousands of sockets; the server siege starts inherits it too.
// rlim_t is not u64 on every target, so the casts are not always no-ops.
#[allow(clippy::unnecessary_cast)]
pub fn raise_open_files_limit() -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return raised.rlim_cur as u64;
            }
        }
        limit.rlim_cur as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_targets_are_accepted() {
        assert_eq!(
            parse_target("http://127.0.0.1:8080").unwrap().addr,
            "127.0.0.1:8080".parse().unwrap()
        );
        assert_eq!(
            parse_target("http://127.9.8.7:1/x?y").unwrap().addr,
            "127.9.8.7:1".parse().unwrap()
        );
        assert_eq!(
            parse_target("http://localhost:3000/").unwrap().addr,
            "127.0.0.1:3000".parse().unwrap()
        );
        assert_eq!(
            parse_target("http://[::1]:9000").unwrap().addr,
            "[::1]:9000".parse().unwrap()
        );
        assert_eq!(parse_target("http://127.0.0.1").unwrap().addr.port(), 80);
    }

    #[test]
    fn everything_else_is_refused() {
        for url in [
            "http://10.0.0.1:80",
            "http://192.168.1.1:8080",
            "http://0.0.0.0:8080",
            "http://[::]:8080",
            "http://[2001:db8::1]:80",
            "http://example.com:80",
            "http://127.0.0.1.nip.io:80",
            "https://127.0.0.1:443",
            "127.0.0.1:8080",
            "http://evil@127.0.0.1:80",
            "http://127.0.0.1:0",
            "http://127.0.0.1:99999",
            "http://[::ffff:10.0.0.1]:80",
        ] {
            let err = parse_target(url).unwrap_err();
            assert!(err.contains("loopback"), "{url}: {err}");
        }
    }

    #[test]
    fn mapped_loopback_counts() {
        assert!(is_loopback("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!is_loopback("128.0.0.1".parse().unwrap()));
    }

    #[test]
    fn sources_are_distinct_loopback_and_separated_by_role() {
        let t = parse_target("http://127.0.0.1:8080").unwrap();
        let legit: Vec<_> = (0..600).map(|i| legit_source(&t, i).unwrap()).collect();
        let flood: Vec<_> = (0..ADDRESSES_PER_REGION_MAX)
            .map(|i| attacker_source(&t, FLOOD_REGION, i).unwrap())
            .collect();
        let mut all: Vec<_> = legit.iter().chain(flood.iter()).copied().collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 600 + ADDRESSES_PER_REGION_MAX);
        assert!(all.iter().all(|ip| is_loopback(*ip)));
        assert_eq!(legit[0], "127.0.1.1".parse::<IpAddr>().unwrap());
        assert!(flood.iter().all(|ip| matches!(ip, IpAddr::V4(v) if v.octets()[1] == 1 && v.octets()[3] != 0 && v.octets()[3] != 255)));
        // An IPv6 target cannot use 127.x sources.
        assert_eq!(
            legit_source(&parse_target("http://[::1]:1").unwrap(), 0),
            None
        );
    }
}
