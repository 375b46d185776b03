//! The client behind a proxy. Behind HAProxy every connection comes from
//! HAProxy's address, so per-address limits (sign-up, log-in, anonymous reads,
//! connections) would lump every user together. A proxy tells us who the
//! client is in one of two ways, and we believe it only when the proxy is in
//! `trusted_proxies`, so a client cannot pick its own address:
//!
//! - the PROXY protocol (v1 text or v2 binary, HAProxy's `send-proxy` /
//!   `send-proxy-v2`): a header before the first byte of HTTP or TLS, read by
//!   the listener; it gives the client's address for the whole connection;
//! - `X-Forwarded-For` (HAProxy's `option forwardfor`, nginx, a CDN): per
//!   request; read from the right, skipping trusted hops, the first address
//!   that is not a trusted proxy is the client (what a client wrote itself
//!   sits further left and is never reached past an untrusted hop).
//!
//! A trusted peer may send either or neither: the listener looks at the first
//! bytes and reads a PROXY header only if one is there. From anyone else the
//! bytes are HTTP (a PROXY line from a stranger is a malformed request).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::http::HeaderMap;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::netaddr::Cidr;

/// The PROXY protocol's own bounds (protocol facts, not tunables).
const V1_PREFIX: &[u8] = b"PROXY ";
// fact: a v1 header is at most 107 bytes including its CRLF (spec, section 2.1).
const V1_MAX_BYTES: usize = 107;
const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";
// fact: a v2 header's fixed part (signature, version, family, length).
const V2_FIXED_BYTES: usize = 16;

pub const FORWARDED_FOR: &str = "x-forwarded-for";

/// Whether `ip` is one of the proxies we believe.
pub fn is_trusted(ip: IpAddr, trusted: &[Cidr]) -> bool {
    let ip = ip.to_canonical();
    trusted.iter().any(|c| c.contains(ip))
}

/// What the first bytes of a connection say.
#[derive(Debug, PartialEq, Eq)]
enum Sniff {
    /// Not a PROXY header: HTTP or TLS starts here.
    NotProxy,
    /// Too few bytes yet to tell.
    NeedMore,
    /// A v1 header of this many bytes (CRLF included).
    V1(usize),
    /// A v2 header of this many bytes (fixed part included).
    V2(usize),
}

#[derive(Debug, PartialEq, Eq)]
pub enum ProxyError {
    Malformed(&'static str),
    TimedOut,
    Closed,
    Io,
}

impl std::fmt::Display for ProxyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProxyError::Malformed(why) => write!(f, "malformed PROXY header: {why}"),
            ProxyError::TimedOut => f.write_str("PROXY header did not arrive in time"),
            ProxyError::Closed => f.write_str("connection closed before its first request"),
            ProxyError::Io => f.write_str("read error"),
        }
    }
}

fn sniff(prefix: &[u8]) -> Result<Sniff, ProxyError> {
    if prefix.is_empty() {
        return Ok(Sniff::NeedMore);
    }
    let v1 = prefix.len().min(V1_PREFIX.len());
    if prefix[..v1] == V1_PREFIX[..v1] {
        if prefix.len() < V1_PREFIX.len() {
            return Ok(Sniff::NeedMore);
        }
        let window = &prefix[..prefix.len().min(V1_MAX_BYTES)];
        return match window.windows(2).position(|w| w == b"\r\n") {
            Some(i) => Ok(Sniff::V1(i + 2)),
            None if prefix.len() >= V1_MAX_BYTES => Err(ProxyError::Malformed("v1 line too long")),
            None => Ok(Sniff::NeedMore),
        };
    }
    let v2 = prefix.len().min(V2_SIGNATURE.len());
    if prefix[..v2] == V2_SIGNATURE[..v2] {
        if prefix.len() < V2_FIXED_BYTES {
            return Ok(Sniff::NeedMore);
        }
        let len = u16::from_be_bytes([prefix[14], prefix[15]]) as usize;
        return Ok(Sniff::V2(V2_FIXED_BYTES + len));
    }
    Ok(Sniff::NotProxy)
}

/// A v1 line (CRLF included). `None`: `UNKNOWN` (the proxy's own connection).
fn parse_v1(line: &[u8]) -> Result<Option<SocketAddr>, ProxyError> {
    let bad = ProxyError::Malformed;
    let line = line
        .strip_suffix(b"\r\n")
        .ok_or(bad("v1 line without CRLF"))?;
    let line = std::str::from_utf8(line).map_err(|_| bad("v1 line is not text"))?;
    let fields: Vec<&str> = line.split(' ').collect();
    match fields.get(1).copied() {
        Some("UNKNOWN") => Ok(None),
        Some(family @ ("TCP4" | "TCP6")) => {
            let [_, _, src, _dst, sport, _dport] = fields[..] else {
                return Err(bad("v1 line needs 6 fields"));
            };
            let ip: IpAddr = src.parse().map_err(|_| bad("v1 source address"))?;
            if ip.is_ipv4() != (family == "TCP4") {
                return Err(bad("v1 source address does not match its family"));
            }
            let port: u16 = sport.parse().map_err(|_| bad("v1 source port"))?;
            Ok(Some(SocketAddr::new(ip, port)))
        }
        _ => Err(bad("v1 protocol must be TCP4, TCP6 or UNKNOWN")),
    }
}

/// A whole v2 header. `None`: `LOCAL` (a health check) or an address family
/// without an IP source (unix sockets, unspecified).
fn parse_v2(header: &[u8]) -> Result<Option<SocketAddr>, ProxyError> {
    let bad = ProxyError::Malformed;
    if header.len() < V2_FIXED_BYTES || &header[..12] != V2_SIGNATURE {
        return Err(bad("v2 signature"));
    }
    let version_command = header[12];
    if version_command >> 4 != 2 {
        return Err(bad("v2 version"));
    }
    match version_command & 0x0f {
        0 => return Ok(None),
        1 => {}
        _ => return Err(bad("v2 command")),
    }
    let addresses = &header[V2_FIXED_BYTES..];
    match header[13] >> 4 {
        // AF_INET: source 4, destination 4, source port 2, destination port 2.
        1 => {
            let a = addresses
                .get(..12)
                .ok_or(bad("v2 IPv4 addresses truncated"))?;
            let ip = IpAddr::from([a[0], a[1], a[2], a[3]]);
            Ok(Some(SocketAddr::new(ip, u16::from_be_bytes([a[8], a[9]]))))
        }
        // AF_INET6: source 16, destination 16, ports 2 + 2.
        2 => {
            let a = addresses
                .get(..36)
                .ok_or(bad("v2 IPv6 addresses truncated"))?;
            let mut src = [0u8; 16];
            src.copy_from_slice(&a[..16]);
            let ip = IpAddr::from(src);
            Ok(Some(SocketAddr::new(
                ip,
                u16::from_be_bytes([a[32], a[33]]),
            )))
        }
        0 | 3 => Ok(None),
        _ => Err(bad("v2 address family")),
    }
}

/// Reads a PROXY header from the start of `stream` if there is one, consuming
/// exactly its bytes and nothing after it. `Ok(None)`: no header (or one that
/// names no client); the stream is untouched apart from the header.
/// `peek_retry`: the pause before peeking again at a partial header.
pub async fn read_proxy_header(
    stream: &mut TcpStream,
    timeout: Duration,
    peek_retry: Duration,
) -> Result<Option<SocketAddr>, ProxyError> {
    match tokio::time::timeout(timeout, read_proxy_header_inner(stream, peek_retry)).await {
        Ok(r) => r,
        Err(_) => Err(ProxyError::TimedOut),
    }
}

async fn read_proxy_header_inner(
    stream: &mut TcpStream,
    peek_retry: Duration,
) -> Result<Option<SocketAddr>, ProxyError> {
    let mut buf = [0u8; V1_MAX_BYTES];
    let mut seen = 0;
    loop {
        let n = stream.peek(&mut buf).await.map_err(|_| ProxyError::Io)?;
        if n == 0 {
            return Err(ProxyError::Closed);
        }
        match sniff(&buf[..n])? {
            Sniff::NotProxy => return Ok(None),
            Sniff::V1(len) => {
                let mut line = vec![0u8; len];
                stream
                    .read_exact(&mut line)
                    .await
                    .map_err(|_| ProxyError::Io)?;
                return parse_v1(&line);
            }
            Sniff::V2(len) => {
                let mut header = vec![0u8; len];
                stream
                    .read_exact(&mut header)
                    .await
                    .map_err(|_| ProxyError::Io)?;
                return parse_v2(&header);
            }
            Sniff::NeedMore => {
                if n == seen {
                    // Nothing new since the last look: peek returns at once
                    // while data is pending, so wait a little before looking again.
                    tokio::time::sleep(peek_retry).await;
                }
                seen = n;
            }
        }
    }
}

/// The client's address for one request on a connection whose (PROXY-resolved)
/// peer is `peer`: from `X-Forwarded-For` when `peer` is a trusted proxy, else
/// `peer` itself.
pub fn client_address(headers: &HeaderMap, peer: IpAddr, trusted: &[Cidr]) -> IpAddr {
    let peer = peer.to_canonical();
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let mut client = peer;
    // Several X-Forwarded-For fields are one list in order; walk it from the
    // end (the hop closest to us). Stop at the first entry that is not a
    // trusted proxy (the client), or that cannot be read (then the last
    // trusted hop is the best we know). The walk is bounded by the header
    // size cap of the listener.
    for value in headers.get_all(FORWARDED_FOR).iter().rev() {
        let Ok(value) = value.to_str() else {
            return client;
        };
        for entry in value.rsplit(',') {
            let Some(ip) = parse_forwarded_entry(entry.trim()) else {
                return client;
            };
            client = ip;
            if !is_trusted(ip, trusted) {
                return client;
            }
        }
    }
    client
}

/// `192.0.2.1`, `2001:db8::1`, `192.0.2.1:4711` or `[2001:db8::1]:4711`.
fn parse_forwarded_entry(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|c| Cidr::parse(c).unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(FORWARDED_FOR, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn forwarded_for_is_ignored_from_strangers() {
        let trusted = cidrs(&["10.0.0.0/8"]);
        let h = xff(&["203.0.113.9"]);
        assert_eq!(
            client_address(&h, ip("192.0.2.7"), &trusted),
            ip("192.0.2.7")
        );
        assert_eq!(client_address(&h, ip("192.0.2.7"), &[]), ip("192.0.2.7"));
    }

    #[test]
    fn forwarded_for_from_a_trusted_proxy_names_the_client() {
        let trusted = cidrs(&["10.0.0.0/8"]);
        let proxy = ip("10.0.0.2");
        assert_eq!(
            client_address(&xff(&["203.0.113.9"]), proxy, &trusted),
            ip("203.0.113.9")
        );
        // A client that writes its own X-Forwarded-For gets it prepended to:
        // the proxy's entry (the rightmost) wins.
        assert_eq!(
            client_address(&xff(&["1.2.3.4, 203.0.113.9"]), proxy, &trusted),
            ip("203.0.113.9")
        );
        // Trusted hops are skipped, across several fields.
        assert_eq!(
            client_address(&xff(&["1.2.3.4, 203.0.113.9", "10.9.9.9"]), proxy, &trusted),
            ip("203.0.113.9")
        );
        // Only proxies: the leftmost is as far as we can see.
        assert_eq!(
            client_address(&xff(&["10.1.1.1, 10.2.2.2"]), proxy, &trusted),
            ip("10.1.1.1")
        );
        // Ports and brackets are tolerated; IPv4-mapped IPv6 is IPv4.
        assert_eq!(
            client_address(&xff(&["[2001:db8::7]:4711"]), proxy, &trusted),
            ip("2001:db8::7")
        );
        assert_eq!(
            client_address(&xff(&["::ffff:203.0.113.5"]), proxy, &trusted),
            ip("203.0.113.5")
        );
        // No header: the proxy itself.
        assert_eq!(client_address(&HeaderMap::new(), proxy, &trusted), proxy);
    }

    #[test]
    fn unreadable_entries_stop_the_walk_at_the_last_trusted_hop() {
        let trusted = cidrs(&["10.0.0.0/8"]);
        let proxy = ip("10.0.0.2");
        assert_eq!(
            client_address(&xff(&["1.2.3.4, garbage, 10.3.3.3"]), proxy, &trusted),
            ip("10.3.3.3")
        );
        assert_eq!(client_address(&xff(&["unknown"]), proxy, &trusted), proxy);
        assert_eq!(client_address(&xff(&[""]), proxy, &trusted), proxy);
    }

    #[test]
    fn sniffing_tells_http_and_tls_from_proxy_headers() {
        assert_eq!(sniff(b"GET / HTTP/1.1\r\n"), Ok(Sniff::NotProxy));
        assert_eq!(sniff(b"POST /api"), Ok(Sniff::NotProxy));
        assert_eq!(sniff(b"P"), Ok(Sniff::NeedMore));
        assert_eq!(sniff(b"PROPFIND"), Ok(Sniff::NotProxy));
        assert_eq!(sniff(&[0x16, 0x03, 0x01]), Ok(Sniff::NotProxy));
        assert_eq!(sniff(b""), Ok(Sniff::NeedMore));
        assert_eq!(sniff(b"PROXY TCP4 1.2.3.4"), Ok(Sniff::NeedMore));
        let line = b"PROXY TCP4 1.2.3.4 5.6.7.8 1111 80\r\nGET /";
        assert_eq!(sniff(line), Ok(Sniff::V1(line.len() - 5)));
        let long = [b"PROXY ".as_slice(), &[b'x'; 120]].concat();
        assert!(sniff(&long).is_err());
        let mut v2 = V2_SIGNATURE.to_vec();
        assert_eq!(sniff(&v2), Ok(Sniff::NeedMore));
        v2.extend_from_slice(&[0x21, 0x11, 0, 12]);
        assert_eq!(sniff(&v2), Ok(Sniff::V2(28)));
    }

    #[test]
    fn v1_lines() {
        assert_eq!(
            parse_v1(b"PROXY TCP4 203.0.113.9 10.0.0.1 51000 443\r\n"),
            Ok(Some("203.0.113.9:51000".parse().unwrap()))
        );
        assert_eq!(
            parse_v1(b"PROXY TCP6 2001:db8::9 2001:db8::1 51000 443\r\n"),
            Ok(Some("[2001:db8::9]:51000".parse().unwrap()))
        );
        assert_eq!(parse_v1(b"PROXY UNKNOWN\r\n"), Ok(None));
        assert!(parse_v1(b"PROXY TCP4 2001:db8::9 10.0.0.1 1 2\r\n").is_err());
        assert!(parse_v1(b"PROXY TCP4 203.0.113.9 10.0.0.1 51000\r\n").is_err());
        assert!(parse_v1(b"PROXY TCP4 nonsense 10.0.0.1 1 2\r\n").is_err());
        assert!(parse_v1(b"PROXY UDP4 203.0.113.9 10.0.0.1 1 2\r\n").is_err());
        assert!(parse_v1(b"PROXY TCP4 203.0.113.9 10.0.0.1 99999 2\r\n").is_err());
    }

    fn v2(command: u8, family: u8, addresses: &[u8]) -> Vec<u8> {
        let mut h = V2_SIGNATURE.to_vec();
        h.push(0x20 | command);
        h.push(family);
        h.extend_from_slice(&(addresses.len() as u16).to_be_bytes());
        h.extend_from_slice(addresses);
        h
    }

    #[test]
    fn v2_headers() {
        let v4 = [203, 0, 113, 9, 10, 0, 0, 1, 0xc7, 0x38, 1, 187];
        assert_eq!(
            parse_v2(&v2(1, 0x11, &v4)),
            Ok(Some("203.0.113.9:51000".parse().unwrap()))
        );
        let mut v6 = vec![0x20, 0x01, 0x0d, 0xb8];
        v6.extend_from_slice(&[0; 11]);
        v6.push(9);
        v6.extend_from_slice(&[0; 16]);
        v6.extend_from_slice(&[0xc7, 0x38, 1, 187]);
        assert_eq!(
            parse_v2(&v2(1, 0x21, &v6)),
            Ok(Some("[2001:db8::9]:51000".parse().unwrap()))
        );
        // TLVs after the addresses are allowed and skipped.
        let mut with_tlv = v4.to_vec();
        with_tlv.extend_from_slice(&[0x04, 0, 1, 0]);
        assert!(parse_v2(&v2(1, 0x11, &with_tlv)).unwrap().is_some());
        assert_eq!(
            parse_v2(&v2(0, 0x00, &[])),
            Ok(None),
            "LOCAL: a health check"
        );
        assert_eq!(parse_v2(&v2(1, 0x31, &[0; 216])), Ok(None), "unix socket");
        assert!(parse_v2(&v2(1, 0x11, &v4[..8])).is_err(), "truncated");
        assert!(parse_v2(&v2(2, 0x11, &v4)).is_err(), "unknown command");
        let mut wrong_version = v2(1, 0x11, &v4);
        wrong_version[12] = 0x11;
        assert!(parse_v2(&wrong_version).is_err());
    }

    #[tokio::test]
    async fn reads_exactly_the_header_and_leaves_the_request() {
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cases: Vec<(Vec<u8>, Option<SocketAddr>)> = vec![
            (
                b"PROXY TCP4 203.0.113.9 10.0.0.1 51000 443\r\n".to_vec(),
                Some("203.0.113.9:51000".parse().unwrap()),
            ),
            (
                v2(1, 0x11, &[203, 0, 113, 9, 10, 0, 0, 1, 0xc7, 0x38, 1, 187]),
                Some("203.0.113.9:51000".parse().unwrap()),
            ),
            (Vec::new(), None),
        ];
        for (header, want) in cases {
            let mut client = TcpStream::connect(addr).await.unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            // The header in two pieces, to exercise the partial path.
            let (a, b) = header.split_at(header.len() / 2);
            let b = b.to_vec();
            client.write_all(a).await.unwrap();
            let writer = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                client.write_all(&b).await.unwrap();
                client.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
                client
            });
            let got = read_proxy_header(
                &mut server,
                Duration::from_secs(2),
                Duration::from_millis(5),
            )
            .await;
            assert_eq!(got, Ok(want));
            let _client = writer.await.unwrap();
            let mut rest = [0u8; 16];
            server.read_exact(&mut rest).await.unwrap();
            assert_eq!(&rest, b"GET / HTTP/1.1\r\n");
        }
    }

    #[tokio::test]
    async fn a_header_that_never_ends_times_out() {
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        client.write_all(b"PROXY TCP4 1.2").await.unwrap();
        let got = read_proxy_header(
            &mut server,
            Duration::from_millis(100),
            Duration::from_millis(5),
        )
        .await;
        assert_eq!(got, Err(ProxyError::TimedOut));
    }
}
