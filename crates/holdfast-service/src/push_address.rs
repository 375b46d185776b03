//! Where a push endpoint may point. The URL comes from a user, so it is a
//! way to make the server send requests (server-side request forgery): only
//! https to public addresses is allowed, unless the operator lists the host
//! in `push_allowed_hosts`. Names are resolved when subscribing and again at
//! every delivery, and the delivery connects to an address checked then, so
//! a name that later resolves to a private address is refused too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// A push endpoint, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Endpoint {
    pub https: bool,
    /// As written (lowercase), without brackets for IPv6.
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl Endpoint {
    /// `scheme://host[:port]`, the VAPID audience.
    pub fn origin(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        let default_port = default_port(self.https);
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default_port {
            format!("{scheme}://{host}")
        } else {
            format!("{scheme}://{host}:{}", self.port)
        }
    }

    /// The `Host` header value.
    pub fn authority(&self) -> String {
        self.origin()
            .split_once("://")
            .map(|(_, a)| a.to_owned())
            .unwrap_or_default()
    }
}

fn default_port(https: bool) -> u16 {
    if https {
        holdfast_config::HTTPS_DEFAULT_PORT
    } else {
        holdfast_config::HTTP_DEFAULT_PORT
    }
}

/// Parses an absolute http(s) URL; None when it is not one.
pub fn parse(url: &str) -> Option<Endpoint> {
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return None;
    };
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let path = path.split('#').next().unwrap_or("/");
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    if authority.contains('@')
        || authority.is_empty()
        || path.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return None;
    }
    let default_port = default_port(https);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => default_port,
            None => return None,
        };
        host.parse::<Ipv6Addr>().ok()?;
        (host.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), p.parse().ok()?),
            None => (authority.to_owned(), default_port),
        }
    };
    let host = host.to_ascii_lowercase();
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
    {
        return None;
    }
    Some(Endpoint {
        https,
        host,
        port,
        path,
    })
}

/// Whether an address is one anybody on the internet could reach: not
/// private, loopback, link-local, shared, multicast, unspecified or reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => {
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || v6.is_unique_local()
                    || v6.is_unicast_link_local())
            }
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    // fact: 0.0.0.0/8 "this network", 100.64.0.0/10 shared (carrier NAT), 240.0.0.0/4 reserved.
    let special = a == 0 || (a == 100 && (b & 0xc0) == 0x40) || a >= 240;
    !(special
        || ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation())
}

/// Why an endpoint is refused, in words for the 422.
pub type Refusal = &'static str;

/// Checks `url` and resolves it: the addresses a delivery may connect to.
pub async fn vet(
    url: &str,
    allowed_hosts: &[String],
) -> Result<(Endpoint, Vec<SocketAddr>), Refusal> {
    let endpoint = parse(url).ok_or("Endpoint is not a valid URL")?;
    let allowed = allowed_hosts
        .iter()
        .any(|h| h.eq_ignore_ascii_case(&endpoint.host));
    if !endpoint.https && !allowed {
        return Err("Endpoint must be an https URL");
    }
    let addrs: Vec<SocketAddr> = match endpoint.host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, endpoint.port)],
        Err(_) => tokio::net::lookup_host((endpoint.host.as_str(), endpoint.port))
            .await
            .map_err(|_| "Endpoint host does not resolve")?
            .collect(),
    };
    if addrs.is_empty() {
        return Err("Endpoint host does not resolve");
    }
    if !allowed && !addrs.iter().all(|a| is_public(a.ip())) {
        return Err("Endpoint must not point at a private, loopback or link-local address");
    }
    Ok((endpoint, addrs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_into_their_parts() {
        let e = parse("https://Push.Example.com/wpush/v2/abc?x=1#frag").unwrap();
        assert_eq!(e.host, "push.example.com");
        assert_eq!((e.https, e.port), (true, 443));
        assert_eq!(e.path, "/wpush/v2/abc?x=1");
        assert_eq!(e.origin(), "https://push.example.com");
        let e = parse("http://127.0.0.1:8123").unwrap();
        assert_eq!((e.port, e.path.as_str()), (8123, "/"));
        assert_eq!(e.origin(), "http://127.0.0.1:8123");
        let e = parse("https://[::1]:9/p").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("::1", 9));
        for bad in [
            "ftp://x/",
            "https://",
            "https://user@host/",
            "https://h:99999/",
            "x",
            "https://a b/",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn private_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "2606:4700::1111", "100.128.0.1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn vetting_refuses_http_and_private_unless_allowed() {
        assert!(vet("http://8.8.8.8/x", &[]).await.is_err());
        assert!(vet("https://127.0.0.1/x", &[]).await.is_err());
        assert!(vet("https://[::1]/x", &[]).await.is_err());
        let allowed = vec!["127.0.0.1".to_owned()];
        let (e, addrs) = vet("http://127.0.0.1:9/x", &allowed).await.unwrap();
        assert_eq!(e.path, "/x");
        assert_eq!(addrs, vec!["127.0.0.1:9".parse().unwrap()]);
    }
}
