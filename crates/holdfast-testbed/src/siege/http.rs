//! A small HTTP/1.1 client over tokio's `TcpStream`.
//!
//! Hand-written rather than reqwest/hyper so that siege controls exactly what
//! goes on the wire (source address per socket, keep-alive, half-sent bodies)
//! and stays lean. It speaks just enough HTTP/1.1 for holdfast: requests with
//! `Content-Length` bodies; responses framed by `Content-Length`, `chunked`
//! transfer coding, or connection close.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A response head larger than this is a protocol error (holdfast's are < 2 KiB).
pub const RESPONSE_HEAD_MAX_BYTES: usize = 64 * 1024;
/// A response body larger than this is a protocol error (pages are bounded server-side).
pub const RESPONSE_BODY_MAX_BYTES: usize = 8 * 1024 * 1024;
/// How much one read asks the kernel for.
const READ_CHUNK_BYTES: usize = 16 * 1024;
/// Bodies up to this size go out in the same write as the head (one packet with nodelay).
const COALESCE_BODY_MAX_BYTES: usize = 16 * 1024;

#[derive(Debug)]
pub enum ClientError {
    /// The TCP connect failed (refused, no free port, too many open files…).
    Connect(io::Error),
    /// The server closed the connection before a whole response arrived.
    Closed,
    /// The server reset the connection.
    Reset,
    /// Siege's own per-request deadline passed.
    Timeout,
    /// The bytes that came back are not HTTP siege understands.
    Protocol(String),
    /// Any other socket error.
    Io(io::Error),
    /// Never sent: siege's own bound on requests in flight was reached, so
    /// the server was not asked (it was already that far behind).
    NotSent,
}

impl ClientError {
    fn from_io(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => ClientError::Reset,
            io::ErrorKind::UnexpectedEof => ClientError::Closed,
            _ => ClientError::Io(e),
        }
    }
}

/// One request; the body is shared so that a flood of large bodies costs one allocation.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
    pub bearer: Option<Arc<str>>,
    pub content_type: Option<&'static str>,
    pub body: Arc<[u8]>,
    /// Sent as `Idempotency-Key` (the drill's writes).
    pub idempotency_key: Option<String>,
    /// Sent as `Cookie` (a web UI session).
    pub cookie: Option<Arc<str>>,
}

impl Request {
    pub fn get(path: impl Into<String>) -> Self {
        Request {
            method: "GET",
            path: path.into(),
            bearer: None,
            content_type: None,
            body: Arc::from(&b""[..]),
            idempotency_key: None,
            cookie: None,
        }
    }

    pub fn post_json(path: impl Into<String>, body: &serde_json::Value) -> Self {
        Request::post_bytes(
            path,
            "application/json",
            Arc::from(body.to_string().into_bytes()),
        )
    }

    pub fn post_form(path: impl Into<String>, fields: &[(&str, &str)]) -> Self {
        Request::post_bytes(
            path,
            "application/x-www-form-urlencoded",
            Arc::from(form_encode(fields).into_bytes()),
        )
    }

    pub fn post_bytes(
        path: impl Into<String>,
        content_type: &'static str,
        body: Arc<[u8]>,
    ) -> Self {
        Request {
            method: "POST",
            path: path.into(),
            bearer: None,
            content_type: Some(content_type),
            body,
            idempotency_key: None,
            cookie: None,
        }
    }

    pub fn bearer(mut self, token: &Arc<str>) -> Self {
        self.bearer = Some(token.clone());
        self
    }

    /// A request of a browser logged in to the web UI (`name=value`).
    pub fn cookie(mut self, cookie: &Arc<str>) -> Self {
        self.cookie = Some(cookie.clone());
        self
    }

    fn head(&self, host: &str) -> String {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: holdfast-siege\r\nAccept: application/json\r\n",
            self.method, self.path
        );
        if let Some(token) = &self.bearer {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        if let Some(cookie) = &self.cookie {
            head.push_str(&format!("Cookie: {cookie}\r\n"));
        }
        if let Some(ct) = self.content_type {
            head.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        if let Some(key) = &self.idempotency_key {
            head.push_str(&format!("Idempotency-Key: {key}\r\n"));
        }
        if self.method != "GET" || !self.body.is_empty() {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        head.push_str("\r\n");
        head
    }
}

/// `application/x-www-form-urlencoded`: everything but unreserved characters is %-escaped.
pub fn form_encode(fields: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        for (j, part) in [k, v].iter().enumerate() {
            if j == 1 {
                out.push('=');
            }
            for b in part.bytes() {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    out.push(b as char);
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the connection may carry another request.
    pub keep_alive: bool,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// A parsed status line and headers.
#[derive(Debug, PartialEq)]
pub struct Head {
    pub minor_version: u8,
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

/// How the body after a head is delimited.
#[derive(Debug, PartialEq)]
pub enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

impl Head {
    fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn framing(&self, request_was_head: bool) -> Result<Framing, String> {
        // RFC 9112 §6.3: these never carry a body, whatever the headers say.
        if request_was_head
            || (100..200).contains(&self.status)
            || self.status == 204
            || self.status == 304
        {
            return Ok(Framing::Length(0));
        }
        if let Some(te) = self.get("transfer-encoding") {
            if te
                .to_ascii_lowercase()
                .split(',')
                .any(|c| c.trim() == "chunked")
            {
                return Ok(Framing::Chunked);
            }
        }
        match self.get("content-length") {
            Some(v) => v
                .trim()
                .parse()
                .map(Framing::Length)
                .map_err(|_| format!("bad content-length {v:?}")),
            None => Ok(Framing::UntilClose),
        }
    }

    pub fn keep_alive(&self) -> bool {
        let connection = self.get("connection").unwrap_or("").to_ascii_lowercase();
        if self.minor_version >= 1 {
            !connection.contains("close")
        } else {
            connection.contains("keep-alive")
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Parses a response head from the start of `buf`; `Ok(None)` means more bytes are needed.
/// On success also returns how many bytes the head took (including the blank line).
pub fn parse_head(buf: &[u8]) -> Result<Option<(Head, usize)>, String> {
    let Some(end) = find(buf, b"\r\n\r\n") else {
        if buf.len() > RESPONSE_HEAD_MAX_BYTES {
            return Err(format!(
                "response head exceeds {RESPONSE_HEAD_MAX_BYTES} bytes"
            ));
        }
        return Ok(None);
    };
    let text =
        std::str::from_utf8(&buf[..end]).map_err(|_| "response head is not UTF-8".to_owned())?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let minor_version = match parts.next() {
        Some("HTTP/1.1") => 1,
        Some("HTTP/1.0") => 0,
        other => return Err(format!("not an HTTP/1.x status line: {other:?}")),
    };
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .filter(|s| (100..1000).contains(s))
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("bad header line {line:?}"))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    Ok(Some((
        Head {
            minor_version,
            status,
            headers,
        },
        end + 4,
    )))
}

/// Decodes a complete chunked body from the start of `buf`; `Ok(None)` means more bytes are
/// needed. Returns the body and the bytes consumed (through the final CRLF after trailers).
/// Chunk extensions and trailer fields are read and ignored.
pub fn decode_chunked(buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, String> {
    let mut pos = 0;
    let mut body = Vec::new();
    loop {
        let Some(line_len) = find(&buf[pos..], b"\r\n") else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&buf[pos..pos + line_len])
            .map_err(|_| "chunk size line is not UTF-8".to_owned())?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        pos += line_len + 2;
        if size == 0 {
            // Trailer section: header lines until an empty line.
            loop {
                let Some(len) = find(&buf[pos..], b"\r\n") else {
                    return Ok(None);
                };
                pos += len + 2;
                if len == 0 {
                    return Ok(Some((body, pos)));
                }
            }
        }
        if body.len() + size > RESPONSE_BODY_MAX_BYTES {
            return Err(format!(
                "chunked body exceeds {RESPONSE_BODY_MAX_BYTES} bytes"
            ));
        }
        if buf.len() < pos + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&buf[pos..pos + size]);
        if &buf[pos + size..pos + size + 2] != b"\r\n" {
            return Err("chunk data not followed by CRLF".to_owned());
        }
        pos += size + 2;
    }
}

/// One client connection, bound to its own source address.
pub struct Conn {
    stream: TcpStream,
    /// Bytes read but not yet consumed by a response.
    buf: Vec<u8>,
    /// Requests already answered on this connection (a reused one may have been closed by the server meanwhile).
    pub served: u32,
}

/// Opens a connection to `addr` from `source` (any port); `None` lets the kernel choose.
pub async fn connect(addr: SocketAddr, source: Option<IpAddr>) -> Result<Conn, ClientError> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(ClientError::Connect)?;
    if let Some(ip) = source {
        socket
            .bind(SocketAddr::new(ip, 0))
            .map_err(ClientError::Connect)?;
    }
    let stream = socket.connect(addr).await.map_err(ClientError::Connect)?;
    // Requests are small and latency is what we measure: no Nagle delay.
    let _ = stream.set_nodelay(true);
    Ok(Conn {
        stream,
        buf: Vec::with_capacity(READ_CHUNK_BYTES),
        served: 0,
    })
}

impl Conn {
    /// The raw stream, for slowloris which speaks half-HTTP on purpose.
    pub fn stream(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// Sends one request and reads its response. The caller puts a deadline around it.
    pub async fn send(&mut self, host: &str, req: &Request) -> Result<Response, ClientError> {
        let head = req.head(host);
        let written = if req.body.len() <= COALESCE_BODY_MAX_BYTES {
            let mut bytes = head.into_bytes();
            bytes.extend_from_slice(&req.body);
            self.stream.write_all(&bytes).await
        } else {
            match self.stream.write_all(head.as_bytes()).await {
                Ok(()) => self.stream.write_all(&req.body).await,
                Err(e) => Err(e),
            }
        };
        if let Err(e) = written {
            // A server that refuses a body (413) may answer and close before reading it all;
            // the answer, if it arrived, is the truth.
            return match self.read_response(req.method == "HEAD").await {
                Ok(mut r) => {
                    r.keep_alive = false;
                    Ok(r)
                }
                Err(_) => Err(ClientError::from_io(e)),
            };
        }
        let response = self.read_response(req.method == "HEAD").await?;
        self.served += 1;
        Ok(response)
    }

    /// Reads more bytes into the buffer; `Ok(false)` at end of stream.
    async fn fill(&mut self) -> Result<bool, ClientError> {
        let old = self.buf.len();
        self.buf.resize(old + READ_CHUNK_BYTES, 0);
        let n = self.stream.read(&mut self.buf[old..]).await;
        match n {
            Ok(n) => {
                self.buf.truncate(old + n);
                Ok(n > 0)
            }
            Err(e) => {
                self.buf.truncate(old);
                Err(ClientError::from_io(e))
            }
        }
    }

    async fn read_response(&mut self, request_was_head: bool) -> Result<Response, ClientError> {
        loop {
            let (head, head_len) = loop {
                if let Some(parsed) = parse_head(&self.buf).map_err(ClientError::Protocol)? {
                    break parsed;
                }
                if !self.fill().await? {
                    return Err(ClientError::Closed);
                }
            };
            self.buf.drain(..head_len);
            let framing = head
                .framing(request_was_head)
                .map_err(ClientError::Protocol)?;
            let mut keep_alive = head.keep_alive();
            let body = match framing {
                Framing::Length(n) => {
                    if n > RESPONSE_BODY_MAX_BYTES {
                        return Err(ClientError::Protocol(format!(
                            "content-length {n} exceeds {RESPONSE_BODY_MAX_BYTES}"
                        )));
                    }
                    while self.buf.len() < n {
                        if !self.fill().await? {
                            return Err(ClientError::Closed);
                        }
                    }
                    self.buf.drain(..n).collect()
                }
                Framing::Chunked => loop {
                    if let Some((body, used)) =
                        decode_chunked(&self.buf).map_err(ClientError::Protocol)?
                    {
                        self.buf.drain(..used);
                        break body;
                    }
                    if !self.fill().await? {
                        return Err(ClientError::Closed);
                    }
                },
                Framing::UntilClose => {
                    keep_alive = false;
                    while self.fill().await? {
                        if self.buf.len() > RESPONSE_BODY_MAX_BYTES {
                            return Err(ClientError::Protocol(format!(
                                "body exceeds {RESPONSE_BODY_MAX_BYTES} bytes"
                            )));
                        }
                    }
                    std::mem::take(&mut self.buf)
                }
            };
            // Interim answers (100 Continue) precede the real one.
            if (100..200).contains(&head.status) {
                continue;
            }
            return Ok(Response {
                status: head.status,
                headers: head.headers,
                body,
                keep_alive,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_needs_the_blank_line() {
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n").unwrap(),
            None
        );
    }

    #[test]
    fn head_parses_status_and_lowercases_names() {
        let raw =
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 0\r\n\r\nrest";
        let (head, used) = parse_head(raw).unwrap().unwrap();
        assert_eq!(head.status, 429);
        assert_eq!(head.get("retry-after"), Some("3"));
        assert_eq!(used, raw.len() - 4);
        assert_eq!(head.framing(false).unwrap(), Framing::Length(0));
        assert!(head.keep_alive());
    }

    #[test]
    fn head_rejects_garbage() {
        assert!(parse_head(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 abc OK\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n").is_err());
    }

    #[test]
    fn framing_rules() {
        let head = |s: &str| parse_head(s.as_bytes()).unwrap().unwrap().0;
        assert_eq!(
            head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                .framing(false)
                .unwrap(),
            Framing::Chunked
        );
        assert_eq!(
            head("HTTP/1.1 200 OK\r\n\r\n").framing(false).unwrap(),
            Framing::UntilClose
        );
        assert_eq!(
            head("HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n")
                .framing(false)
                .unwrap(),
            Framing::Length(0)
        );
        assert_eq!(
            head("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
                .framing(true)
                .unwrap(),
            Framing::Length(0)
        );
        assert!(head("HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n")
            .framing(false)
            .is_err());
        assert!(!head("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").keep_alive());
        assert!(!head("HTTP/1.0 200 OK\r\n\r\n").keep_alive());
        assert!(head("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n").keep_alive());
    }

    #[test]
    fn chunked_decodes_with_extensions_and_trailers() {
        let raw = b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\nNEXT";
        let (body, used) = decode_chunked(raw).unwrap().unwrap();
        assert_eq!(body, b"hello, world");
        assert_eq!(&raw[used..], b"NEXT");
    }

    #[test]
    fn chunked_waits_for_every_part() {
        let full = b"a\r\n0123456789\r\n0\r\n\r\n";
        for cut in 0..full.len() {
            assert_eq!(decode_chunked(&full[..cut]).unwrap(), None, "cut at {cut}");
        }
        assert_eq!(decode_chunked(full).unwrap().unwrap().0, b"0123456789");
    }

    #[test]
    fn chunked_rejects_bad_sizes_and_missing_crlf() {
        assert!(decode_chunked(b"zz\r\n").is_err());
        assert!(decode_chunked(b"3\r\nabcX\r\n").is_err());
        assert!(
            decode_chunked(format!("{:x}\r\n", RESPONSE_BODY_MAX_BYTES + 1).as_bytes()).is_err()
        );
    }

    #[test]
    fn request_head_has_length_and_auth() {
        let token: Arc<str> = Arc::from("t0k");
        let req = Request::post_form(
            "/oauth/token",
            &[("grant_type", "password"), ("scope", "read write")],
        )
        .bearer(&token);
        let head = req.head("127.0.0.1:8080");
        assert!(head.starts_with("POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"));
        assert!(head.contains("Authorization: Bearer t0k\r\n"));
        assert!(head.contains(&format!("Content-Length: {}\r\n", req.body.len())));
        assert_eq!(&*req.body, b"grant_type=password&scope=read%20write");
        assert!(!Request::get("/").head("h").contains("Content-Length"));
    }
}
