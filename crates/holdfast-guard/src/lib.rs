//! The flood defence between the listener and the router.
//!
//! For every request, cheapest check first: operator endpoints pass (those
//! that query something within a small budget); rate limits (per token, with
//! a short window for its burst, and per account when signed in, with a
//! bearer token or the web log-in cookie;
//! per address when anonymous; tighter ones for sign-up, log-in, search and
//! delete) answer 429 with Mastodon's
//! `X-RateLimit-*` headers, and anonymous 429s count against the address
//! (see `offenders`); the body is read before admission (see `bodies`);
//! anonymous GETs are answered from a short-lived cache; everything else
//! must be admitted by the adaptive concurrency limit, in priority order,
//! within its class' deadline, or gets 503 with `Retry-After` at once.
//! The guard knows nothing of Mastodon beyond paths: no database, no JSON
//! shapes beyond the error body.

pub mod admission;
pub mod bodies;
pub mod cache;
pub mod classify;
pub mod cookies;
pub mod cors;
pub mod forwarded;
pub mod linger;
pub mod listener;
pub mod netaddr;
pub mod offenders;
pub mod ratelimit;
mod refusals;
pub mod tls;
pub mod tokens;
pub mod write_stall;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use holdfast_config::{time, Limits};
use sha2::{Digest, Sha256};

use crate::admission::{Admission, AdmissionConfig, Class};
use crate::bodies::{BodyBounds, BodyFailure};
use crate::cache::{AnonCache, Lookup};
use crate::classify::Special;
use crate::cookies::cookie;
use crate::listener::CloseConnection;
use crate::netaddr::{client_key, Cidr};
use crate::offenders::{BannedAddress, OffenderBounds, Offenders};
use crate::ratelimit::{Budget, Decision, RateTable};
pub use crate::refusals::{Reason, Refusals};
use crate::tokens::{KnownTokens, TokenDirectory, TokenOwner};

struct Tables {
    token: RateTable,
    /// A token's (or web session's) short window: its opening burst.
    token_burst: RateTable,
    account: RateTable,
    anonymous_ip: RateTable,
    /// Look-ups of tokens not seen lately, per address: what a flood of
    /// made-up tokens costs the database is bounded by this.
    token_lookup_ip: RateTable,
    /// `/readyz` (a database query) and `/metrics`, per address.
    ops_ip: RateTable,
    signup: RateTable,
    login: RateTable,
    search: RateTable,
    delete: RateTable,
    media: RateTable,
}

enum Override {
    Exempt,
    Budget(u32),
}

/// Writes a refusal's body (`{"error": message}`) with its status. holdfast-api
/// provides it (`holdfast_api::refusal`): the guard knows when to refuse, not
/// the shape of Mastodon's JSON.
pub type RefusalBody = fn(StatusCode, &str) -> Response;

pub struct Guard {
    refusal_body: RefusalBody,
    /// Only `retry_after_for` is read at request time.
    limits: Limits,
    tables: Tables,
    overrides: Vec<(Cidr, Override)>,
    window_ms: u64,
    admission: Arc<Admission>,
    cache: Arc<AnonCache>,
    admission_wait: [Duration; 3],
    deep_page_age_ms: i64,
    bodies: BodyBounds,
    known_tokens: KnownTokens,
    pub offenders: Arc<Offenders>,
    directory: std::sync::OnceLock<Arc<dyn TokenDirectory>>,
    pub refusals: Arc<Refusals>,
}

impl Guard {
    pub fn new(limits: &Limits, refusal_body: RefusalBody) -> Result<Arc<Guard>, String> {
        let keys = limits.rate_keys_max;
        let window_ms = limits.rate_window_s * 1000;
        let table = |requests: u32, window_ms: u64| {
            RateTable::new(
                Budget {
                    requests,
                    window_ms,
                },
                keys,
                limits.rate_table_shards,
            )
        };
        let overrides = limits
            .rate_overrides
            .iter()
            .map(|o| {
                let cidr = Cidr::parse(&o.cidr)?;
                Ok((
                    cidr,
                    if o.exempt {
                        Override::Exempt
                    } else {
                        Override::Budget(o.requests.unwrap_or(limits.rate_anonymous_ip_requests))
                    },
                ))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Arc::new(Guard {
            refusal_body,
            limits: limits.clone(),
            tables: Tables {
                token: table(limits.rate_token_requests, window_ms),
                token_burst: table(
                    limits.rate_token_burst_requests,
                    limits.rate_token_burst_window_ms,
                ),
                account: table(limits.rate_account_requests, window_ms),
                anonymous_ip: table(limits.rate_anonymous_ip_requests, window_ms),
                token_lookup_ip: table(limits.rate_token_lookup_ip_requests, window_ms),
                ops_ip: table(limits.rate_ops_ip_requests, window_ms),
                signup: table(
                    limits.rate_signup_requests,
                    limits.rate_signup_window_s * 1000,
                ),
                login: table(limits.rate_login_requests, window_ms),
                search: table(limits.rate_search_requests, window_ms),
                delete: table(
                    limits.rate_delete_requests,
                    limits.rate_delete_window_s * 1000,
                ),
                media: table(
                    limits.rate_media_requests,
                    limits.rate_media_window_s * 1000,
                ),
            },
            overrides,
            window_ms,
            admission: Admission::new(AdmissionConfig::from_limits(limits)),
            cache: AnonCache::new(
                Duration::from_millis(limits.anon_cache_ttl_ms),
                limits.anon_cache_entries_max,
                limits.anon_cache_body_max_bytes,
            ),
            admission_wait: limits.admission_wait_ms.map(Duration::from_millis),
            deep_page_age_ms: (limits.deep_page_age_s * 1000) as i64,
            bodies: BodyBounds {
                prebuffer_max: limits.body_prebuffer_bytes_max,
                grace: Duration::from_millis(limits.body_read_grace_ms),
                min_rate_bytes_per_s: limits.body_min_rate_bytes_per_s,
            },
            known_tokens: KnownTokens::new(
                Duration::from_secs(limits.token_owner_cache_ttl_s),
                limits.token_owner_cache_entries_max,
            ),
            offenders: Arc::new(Offenders::new(OffenderBounds::from_limits(limits))),
            directory: std::sync::OnceLock::new(),
            refusals: Arc::new(Refusals::default()),
        }))
    }

    /// Where the guard learns whose a token is. Without one (unit tests of
    /// the guard alone), every token counts as an app token of its own.
    pub fn attach_token_directory(&self, directory: Arc<dyn TokenDirectory>) {
        let _ = self.directory.set(directory);
    }

    /// Whose `token` is: from the table of valid tokens seen lately, or a
    /// look-up paid from the address' look-up budget (`Err` when it is spent).
    async fn owner_of(
        &self,
        credential: &Credential,
        key: u128,
        ip_key: u128,
        exempt: bool,
    ) -> Result<TokenOwner, Unidentified> {
        let Some(directory) = self.directory.get() else {
            return Ok(TokenOwner::App);
        };
        if let Some(owner) = self.known_tokens.get(key) {
            return Ok(owner);
        }
        if !exempt {
            let d = self.tables.token_lookup_ip.check(ip_key, None);
            if !d.allowed {
                return Err(Unidentified::OverBudget(d));
            }
        }
        // The look-up asks the database for someone not known yet: it waits
        // for admission like anonymous work, so under a flood of made-up
        // tokens the signed-in users already known are served first.
        let permit = match self.admission.acquire(Class::Anonymous, None).await {
            Ok(p) => p,
            Err(_) => return Err(Unidentified::Overloaded),
        };
        let looked_up = match credential {
            Credential::Bearer(token) => directory.owner(token).await,
            Credential::Session(secret) => directory.session_owner(secret).await,
        };
        drop(permit);
        match looked_up {
            Some(owner) => {
                self.known_tokens.remember(key, owner);
                Ok(owner)
            }
            // Cannot tell (database unavailable): budget it as a token of its
            // own, but do not remember the guess (it is not known as valid);
            // the handler answers 503 or 401 on its own authentication anyway.
            None => Ok(TokenOwner::App),
        }
    }

    /// What the request signs in with: a bearer token, else the web log-in
    /// cookie (known only once a directory is attached).
    fn credential(&self, headers: &HeaderMap) -> Option<Credential> {
        if let Some(token) = bearer(headers) {
            return Some(Credential::Bearer(token));
        }
        let name = self.directory.get()?.session_cookie();
        // An empty one (what log-out leaves until the browser drops it) signs
        // in no one: not worth a look-up.
        cookie(headers, name)
            .filter(|secret| !secret.is_empty())
            .map(Credential::Session)
    }

    /// Starts the once-per-interval log of what was refused (never one line per request).
    pub fn spawn_attack_log(self: &Arc<Self>, interval: Duration) {
        let refusals = self.refusals.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.tick().await;
            loop {
                tick.tick().await;
                refusals.log_since_last();
            }
        });
    }

    fn override_for(&self, ip: IpAddr) -> Option<&Override> {
        self.overrides
            .iter()
            .find(|(cidr, _)| cidr.contains(ip))
            .map(|(_, o)| o)
    }

    /// Prometheus text for the guard's own state; appended to `/metrics`.
    pub fn render_metrics(&self, out: &mut String) {
        use std::fmt::Write;
        self.refusals.render(out);
        self.offenders.render(out);
        let _ = writeln!(
            out,
            "# TYPE holdfast_guard_admission_limit gauge\nholdfast_guard_admission_limit {}",
            self.admission.limit()
        );
        let _ = writeln!(
            out,
            "# TYPE holdfast_guard_in_flight gauge\nholdfast_guard_in_flight {}",
            self.admission.in_flight()
        );
        out.push_str("# TYPE holdfast_guard_queued gauge\n");
        for (class, n) in Class::ALL.iter().zip(self.admission.queued()) {
            let _ = writeln!(
                out,
                "holdfast_guard_queued{{class=\"{}\"}} {n}",
                class.as_str()
            );
        }
        let _ = writeln!(
            out,
            "# TYPE holdfast_guard_cache_entries gauge\nholdfast_guard_cache_entries {}",
            self.cache.len()
        );
        out.push_str("# TYPE holdfast_guard_rate_keys gauge\n");
        let t = &self.tables;
        for (name, table) in [
            ("token", &t.token),
            ("token_burst", &t.token_burst),
            ("account", &t.account),
            ("anonymous_ip", &t.anonymous_ip),
            ("token_lookup_ip", &t.token_lookup_ip),
            ("ops_ip", &t.ops_ip),
            ("signup", &t.signup),
            ("login", &t.login),
            ("search", &t.search),
            ("delete", &t.delete),
            ("media", &t.media),
        ] {
            let _ = writeln!(
                out,
                "holdfast_guard_rate_keys{{table=\"{name}\"}} {}",
                table.len()
            );
        }
    }
}

fn ip_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u32::from(v4) as u128,
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The bearer token, if the request carries one.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    Some(token.trim().to_owned())
}

/// What a request signs in with, as far as budgets and bans care (handlers
/// authenticate every request themselves).
enum Credential {
    Bearer(String),
    /// The web log-in cookie's secret.
    Session(String),
}

impl Credential {
    /// Its key in the tables: a hash (the secret itself is never kept); a
    /// session's is tagged, so the same string as a bearer token is another key.
    fn key(&self) -> u128 {
        match self {
            Credential::Bearer(token) => token_key(token),
            Credential::Session(secret) => token_key(&format!("session\0{secret}")),
        }
    }
}

/// A token's key in the tables: its hash (the token itself is never kept).
fn token_key(token: &str) -> u128 {
    let digest = Sha256::digest(token.as_bytes());
    u128::from_be_bytes(
        digest[..16]
            .try_into()
            // fact: SHA-256's output size
            .expect("a SHA-256 digest has 32 bytes"),
    )
}

/// Why a token's owner is not known for this request.
enum Unidentified {
    /// The address spent its look-up budget.
    OverBudget(Decision),
    /// No admission slot for the look-up in time.
    Overloaded,
}

/// Who a request counts as, for budgets, priority and the cache.
#[derive(Clone, Copy)]
enum Who {
    /// No token, or one that is not valid.
    Anonymous,
    /// A user token: budgets per token and per account.
    Account { token: u128, account: i64 },
    /// An app-only token: a budget per token.
    App { token: u128 },
}

impl Who {
    fn signed_in(self) -> bool {
        !matches!(self, Who::Anonymous)
    }

    /// The key of the token (or web session) it signs in with.
    fn token(self) -> Option<u128> {
        match self {
            Who::Anonymous => None,
            Who::Account { token, .. } | Who::App { token } => Some(token),
        }
    }

    /// The key of per-principal budgets (search, delete, uploads). Accounts
    /// are tagged so they can never collide with an address or a token hash.
    fn principal(self, ip_key: u128) -> u128 {
        // fact: address keys are IPv4 (below 2^32) or an IPv6 /64 (low 64 bits
        // zero), so 2^64 + id (ids are positive) is never an address' key.
        const ACCOUNT_TAG: u128 = 1 << 64;
        match self {
            Who::Anonymous => ip_key,
            Who::Account { account, .. } => ACCOUNT_TAG | account as u64 as u128,
            Who::App { token } => token,
        }
    }
}

/// The axum middleware: `axum::middleware::from_fn_with_state(guard, guard::screen)`.
pub async fn screen(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| client_key(c.0.ip()));
    let ip_key = ip_u128(ip);
    // A banned address that signed-in users share (the listener let it
    // through): only a token already known as valid is served, and nothing
    // is looked up for anyone else.
    if request.extensions().get::<BannedAddress>().is_some() {
        let known = guard
            .credential(request.headers())
            .and_then(|credential| guard.known_tokens.get(credential.key()))
            .is_some_and(|owner| owner != TokenOwner::Unknown);
        guard.offenders.count_judged(known);
        if !known {
            return guard.banned(&request);
        }
    }
    let over = guard.override_for(ip);
    let allow_listed = matches!(over, Some(Override::Exempt));
    if classify::is_ops(path) {
        // Health checks cost nothing; readiness asks the database and metrics
        // render every table, so those get a small budget of their own
        // (operators allow-list their monitoring with an exempt override).
        if classify::is_free_ops(path) || allow_listed {
            return next.run(request).await;
        }
        let d = guard.tables.ops_ip.check(ip_key, None);
        if !d.allowed {
            return guard.rate_limited(&d);
        }
        return next.run(request).await;
    }
    // Media files are not API calls: a client shows a page of pictures with
    // plain image requests (no token), and Mastodon does not count them against
    // the API budgets either. They still pass admission and the connection caps.
    let exempt = allow_listed || classify::is_media_file(path);

    // ---- who is asking: signed-in budgets are per account, as Mastodon's ----
    // (Media files ignore tokens and sessions, so theirs are never looked up.)
    let credential = guard
        .credential(request.headers())
        .filter(|_| !classify::is_media_file(path));
    let who = match credential {
        None => Who::Anonymous,
        Some(credential) => {
            let key = credential.key();
            match guard.owner_of(&credential, key, ip_key, exempt).await {
                Ok(TokenOwner::Account(account)) => Who::Account {
                    token: key,
                    account,
                },
                Ok(TokenOwner::App) => Who::App { token: key },
                Ok(TokenOwner::Unknown) => Who::Anonymous,
                // A session the address may no longer look up: budgeted as
                // anonymous (the handler still checks the session itself).
                Err(Unidentified::OverBudget(_))
                    if matches!(credential, Credential::Session(_)) =>
                {
                    Who::Anonymous
                }
                Err(Unidentified::OverBudget(refused)) => {
                    guard.refusals.count(Reason::RateLimited, Class::Anonymous);
                    return anonymous_refused(&guard, ip, &request, &refused);
                }
                Err(Unidentified::Overloaded) => {
                    guard.refusals.count(Reason::QueueTimeout, Class::Anonymous);
                    return guard.overloaded();
                }
            }
        }
    };
    let path = request.uri().path();
    let deep_floor_id =
        holdfast_config::ids::id_floor_at_ms(time::now_ms() - guard.deep_page_age_ms);
    let class = classify::class(
        request.method(),
        request.uri(),
        who.signed_in(),
        deep_floor_id,
    );
    let special = classify::special(request.method(), path);
    let upload = classify::is_upload(
        request.method(),
        path,
        request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    );
    let class = if upload { Class::Expensive } else { class };

    // ---- rate limits ----
    let ip_budget = match over {
        Some(Override::Budget(n)) => Some(Budget {
            requests: *n,
            window_ms: guard.window_ms,
        }),
        _ => None,
    };
    let t = &guard.tables;
    let principal = who.principal(ip_key);
    let mut decisions: Vec<Decision> = Vec::with_capacity(3);
    if let Some(token) = who.token().filter(|_| !exempt) {
        // A token's burst first (a stolen one's first 300 reads at once held a
        // one-core server): refused here, it spends none of the budgets below,
        // so a client that overshoots on start-up loses nothing of its 300.
        // Not reported on success: `X-RateLimit-*` stay Mastodon's budgets.
        let burst = t.token_burst.check(token, None);
        if !burst.allowed {
            guard.refusals.count(Reason::TokenBurst, class);
            return guard.rate_limited(&burst);
        }
    }
    if !exempt {
        // Per-address budgets only where there is no account: people behind
        // one address (a NAT, an office) are each counted on their own.
        match who {
            Who::Account { token, .. } => {
                decisions.push(t.token.check(token, None));
                decisions.push(t.account.check(principal, None));
            }
            Who::App { token } => decisions.push(t.token.check(token, None)),
            Who::Anonymous => decisions.push(t.anonymous_ip.check(ip_key, ip_budget)),
        }
        match special {
            Some(Special::Signup) => decisions.push(t.signup.check(ip_key, None)),
            Some(Special::Login) => decisions.push(t.login.check(ip_key, None)),
            Some(Special::Search) => decisions.push(t.search.check(principal, None)),
            Some(Special::Delete) => decisions.push(t.delete.check(principal, None)),
            None => {}
        }
        if upload {
            decisions.push(t.media.check(principal, None));
        }
    }
    if let Some(refused) = decisions.iter().find(|d| !d.allowed) {
        guard.refusals.count(Reason::RateLimited, class);
        if !who.signed_in() {
            return anonymous_refused(&guard, ip, &request, refused);
        }
        return guard.rate_limited(refused);
    }
    if who.signed_in() {
        // Its address is then not refused at accept if it gets banned (see `offenders`).
        guard.offenders.signed_in_served(ip);
    }
    // Reported in X-RateLimit-*: the budget closest to running out, as Mastodon does.
    let reported = decisions.iter().min_by_key(|d| d.remaining).copied();

    // ---- streams: past the rate limits, but no cache and no admission slot ----
    // (a stream lives for hours; the hub caps streaming connections itself)
    if classify::is_streaming(path) {
        return with_rate_headers(next.run(request).await, reported);
    }

    // ---- cheap answers for anonymous reads ----
    // A range request must not be answered with (or fill the cache with) a whole body.
    // A request with an unknown token counts as anonymous here too: the
    // answer it gets is the anonymous one (or a 401, which is not cached).
    let cacheable = !who.signed_in()
        && request.method() == axum::http::Method::GET
        && !request.headers().contains_key(header::RANGE)
        // Media files are large and immutable (clients cache them for a year);
        // the cache is for small answers computed per request.
        && !classify::is_media_file(path)
        && !request.headers().contains_key(header::COOKIE);
    let mut filler = None;
    if cacheable {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        // The scheme too: `Link` headers differ between http and https (the
        // listener leaves X-Forwarded-Proto only from trusted proxies).
        let proto = request
            .headers()
            .get("x-forwarded-proto")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let key = format!("{proto}|{host}{}", request.uri());
        match guard.cache.lookup(key) {
            Lookup::Hit(cached) => return with_rate_headers(cached.to_response(), reported),
            Lookup::Wait(slot) => {
                if let Some(cached) =
                    cache::wait_for_fill(slot, guard.admission_wait[class as usize]).await
                {
                    return with_rate_headers(cached.to_response(), reported);
                }
            }
            Lookup::Fill(f) => filler = Some(f),
            Lookup::Bypass => {}
        }
    }

    // ---- the body, before admission: a slow one holds no slot ----
    let request = {
        let version = request.version();
        let (parts, body) = request.into_parts();
        match bodies::prebuffer(body, guard.bodies).await {
            Ok(body) => Request::from_parts(parts, body),
            Err(failure) => {
                guard.refusals.count(Reason::SlowBody, class);
                return with_rate_headers(guard.body_refused(failure, version), reported);
            }
        }
    };

    // ---- admission ----
    // A signed-in principal may hold only its share of the slots (see `admission`).
    let admitted_as = who.signed_in().then_some(principal);
    let permit = match guard.admission.acquire(class, admitted_as).await {
        Ok(p) => p,
        Err(refusal) => {
            let reason = match refusal {
                admission::Refusal::QueueFull => Reason::QueueFull,
                admission::Refusal::Timeout => Reason::QueueTimeout,
                admission::Refusal::PrincipalShare => Reason::PrincipalShare,
            };
            guard.refusals.count(reason, class);
            if !exempt {
                guard.refund_hashing(special, ip_key);
            }
            return with_rate_headers(guard.overloaded(), reported);
        }
    };
    let response = next.run(request).await;
    if !exempt && response.status() == StatusCode::SERVICE_UNAVAILABLE {
        guard.refund_hashing(special, ip_key);
    }
    let response = match filler {
        Some(f) => f.complete(response).await,
        None => response,
    };
    drop(permit);
    with_rate_headers(response, reported)
}

/// A 429 for an anonymous request: a strike against its address (enough of
/// them ban it, and the connection is cut at once), and on HTTP/1.1 the
/// connection is closed after the answer, so a client that ignores 429 pays a
/// new connection for every refusal.
fn anonymous_refused(guard: &Guard, ip: IpAddr, request: &Request, d: &Decision) -> Response {
    if guard.offenders.strike(ip).is_some() {
        if let Some(close) = request.extensions().get::<CloseConnection>() {
            close.close();
        }
    }
    let mut r = guard.rate_limited(d);
    if request.version() <= axum::http::Version::HTTP_11 {
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    r
}

fn with_rate_headers(mut response: Response, decision: Option<Decision>) -> Response {
    if let Some(d) = decision {
        let h = response.headers_mut();
        h.insert("x-ratelimit-limit", HeaderValue::from(d.limit));
        h.insert("x-ratelimit-remaining", HeaderValue::from(d.remaining));
        if let Ok(v) =
            HeaderValue::from_str(&time::iso8601(time::now_ms() + d.reset_after_ms as i64))
        {
            h.insert("x-ratelimit-reset", v);
        }
    }
    response
}

impl Guard {
    /// A sign-up or log-in the server refused for its own overload (a 503:
    /// no admission slot, or the password-hashing threads busy) gives its
    /// place in the address' budget back. It did no hashing and created
    /// nothing; charging it would lock out a client that retries as told (a
    /// few 503s on a loaded machine spent a sign-up budget of 5 per 30 min).
    fn refund_hashing(&self, special: Option<Special>, ip_key: u128) {
        match special {
            Some(Special::Signup) => self.tables.signup.refund(ip_key),
            Some(Special::Login) => self.tables.login.refund(ip_key),
            _ => {}
        }
    }

    fn rate_limited(&self, d: &Decision) -> Response {
        let mut r = with_rate_headers(
            (self.refusal_body)(StatusCode::TOO_MANY_REQUESTS, "Too many requests"),
            Some(*d),
        );
        let retry_s = self.limits.retry_after_for(Some(d.retry_after_ms));
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_s));
        r
    }

    /// An anonymous request from a banned address that signed-in users share:
    /// a cheap 429, and the connection takes no more requests: closed after
    /// the answer on HTTP/1.1; on HTTP/2 a GOAWAY, so the other streams in
    /// flight on it (a signed-in user's, say) still finish.
    fn banned(&self, request: &Request) -> Response {
        let mut r = (self.refusal_body)(
            StatusCode::TOO_MANY_REQUESTS,
            "This address is banned for a while",
        );
        let retry_s = self.limits.retry_after_for(None);
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_s));
        if request.version() <= axum::http::Version::HTTP_11 {
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        } else if let Some(close) = request.extensions().get::<CloseConnection>() {
            close.goodbye();
        }
        r
    }

    fn overloaded(&self) -> Response {
        let mut r = (self.refusal_body)(
            StatusCode::SERVICE_UNAVAILABLE,
            "The server is busy, please retry shortly",
        );
        let retry_s = self.limits.retry_after_for(None);
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_s));
        r
    }

    /// A body that stalled or broke off: 408 (or 400), and on HTTP/1.1 the
    /// connection is closed, since the rest of the body will never be read.
    fn body_refused(&self, failure: BodyFailure, version: axum::http::Version) -> Response {
        let mut r = match failure {
            BodyFailure::TooSlow => (self.refusal_body)(
                StatusCode::REQUEST_TIMEOUT,
                "The request body arrived too slowly",
            ),
            BodyFailure::Broken => {
                (self.refusal_body)(StatusCode::BAD_REQUEST, "The request body is broken")
            }
        };
        if version <= axum::http::Version::HTTP_11 {
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        r
    }
}

/// The HTTP edge around the application, innermost first: the guard's
/// `screen` (None: the guard is off, to measure its effect), then CORS,
/// outermost, so preflights are answered before the guard sees them and the
/// guard's own refusals leave with the CORS headers.
///
/// Both wrap the router as one service, not each of its routes (as
/// `Router::layer` would): a request the guard refuses or answers from its
/// cache then never clones a route's handler stack and the application state
/// in it (the `Service` clone and drop were ~1 % of a one-core server's CPU
/// under a flood of refusals: bench/flood, session 9).
pub fn edge(app: axum::Router, guard: Option<Arc<Guard>>, limits: &Limits) -> axum::Router {
    use tower::Layer;
    let cors = axum::middleware::from_fn_with_state(cors::Cors::new(limits), cors::apply);
    match guard {
        Some(guard) => axum::Router::new().fallback_service(
            cors.layer(axum::middleware::from_fn_with_state(guard, screen).layer(app)),
        ),
        None => axum::Router::new().fallback_service(cors.layer(app)),
    }
}
