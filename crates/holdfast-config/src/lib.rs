//! Every setting and every limit of holdfast, in one place.
//!
//! Each bound in the system (pools, queues, bodies, pages, timeouts) is a
//! field here with its unit last in the name, a default that suits a small
//! single node, and can be overridden from a TOML file (`[limits]` table).
//! Nothing else in the workspace hard-codes a limit.

pub mod ids;
pub mod time;

use std::path::PathBuf;

use serde::Deserialize;

/// Who may sign up through `POST /api/v1/accounts`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registrations {
    /// Anyone may sign up and use the account at once.
    Open,
    /// Anyone may sign up; an operator must approve before log-in works.
    Approval,
    /// Nobody may sign up through the API; operators use `holdfast user create`.
    Closed,
}

impl Registrations {
    /// Open on a localhost playground, approval anywhere a stranger could reach.
    pub fn default_for_domain(domain: &str) -> Self {
        if domain == "localhost" {
            Registrations::Open
        } else {
            Registrations::Approval
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Registrations::Open),
            "approval" => Some(Registrations::Approval),
            "closed" => Some(Registrations::Closed),
            _ => None,
        }
    }
}

/// The whole configuration of one node.
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    /// A PostgreSQL URL (libpq style, several hosts allowed); None means SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// The bare domain this instance is known by (`uri` in the instance entity, the part after `@`).
    pub domain: String,
    pub registrations: Registrations,
    /// Where people reach the operator (instance `email` / `contact.email`); empty when unset.
    pub contact_email: String,
    /// Flood defences (rate limits, admission control, cache). Off only to measure their effect.
    pub guard_enabled: bool,
    /// Serve https with this PEM certificate chain and key (both or neither).
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// What the operator tells people about this server (rules, policies).
    pub instance: InstanceTexts,
    /// The other members of a cluster, for the status page (`[cluster]`).
    pub cluster: ClusterMembers,
    pub limits: Limits,
}

/// Where the status page asks about the rest of a cluster, from the config
/// file's `[cluster]` table (`holdfast cluster up` writes one). Empty on a
/// single node. URLs are `http://host:port`, without credentials (the
/// status page only reads: `/readyz`, and Patroni's `GET /cluster`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterMembers {
    /// Every holdfast node's base URL (this one may be among them); the
    /// status page shows each one's `/readyz`.
    pub nodes: Vec<String>,
    /// Every Patroni member's REST API; the status page shows the database
    /// cluster as the first that answers `GET /cluster` sees it.
    pub patroni: Vec<String>,
}

impl ClusterMembers {
    /// Refuses lists longer than `status_cluster_members_max` and URLs that
    /// are not plain `http://` (the status page's client speaks only that).
    pub fn check(self, limits: &Limits) -> Result<Self, String> {
        for (what, urls) in [("nodes", &self.nodes), ("patroni", &self.patroni)] {
            if urls.len() > limits.status_cluster_members_max {
                return Err(format!(
                    "[cluster] {what} lists {} URLs; at most status_cluster_members_max ({})",
                    urls.len(),
                    limits.status_cluster_members_max
                ));
            }
            if let Some(bad) = urls
                .iter()
                .find(|u| !u.starts_with("http://") || u.contains('@'))
            {
                return Err(format!(
                    "[cluster] {what}: {bad:?} is not an http://host:port URL without credentials"
                ));
            }
        }
        Ok(self)
    }
}

/// The operator's texts about this server, from the config file's `[instance]`
/// table. Plain text (paragraphs separated by blank lines); the API renders it
/// as HTML. Empty means "not written", and each endpoint answers that honestly.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InstanceTexts {
    /// `GET /api/v1/instance/extended_description`.
    pub extended_description: String,
    /// `GET /api/v1/instance/privacy_policy`.
    pub privacy_policy: String,
    /// `GET /api/v1/instance/terms_of_service` (404 while empty, as Mastodon).
    pub terms_of_service: String,
    /// The day the terms took effect, `YYYY-MM-DD`; required with `terms_of_service`.
    pub terms_of_service_effective_date: String,
    /// The server rules, in order; their ids are their positions from 1.
    pub rules: Vec<InstanceRule>,
    /// When this node read the texts (their `updated_at`: holdfast keeps no edit history).
    #[serde(skip)]
    pub loaded_at_ms: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceRule {
    pub text: String,
    #[serde(default)]
    pub hint: String,
}

impl InstanceTexts {
    /// Refuses texts the API could not answer truthfully (terms without a date).
    pub fn check(self) -> Result<Self, String> {
        let date = self.terms_of_service_effective_date.trim();
        if !self.terms_of_service.trim().is_empty() || !date.is_empty() {
            let ok = date.len() == 10
                && date.char_indices().all(|(i, c)| {
                    if i == 4 || i == 7 {
                        c == '-'
                    } else {
                        c.is_ascii_digit()
                    }
                });
            if !ok {
                return Err(format!(
                    "[instance] terms_of_service needs terms_of_service_effective_date as YYYY-MM-DD, not {date:?}"
                ));
            }
        }
        if let Some(r) = self.rules.iter().find(|r| r.text.trim().is_empty()) {
            return Err(format!("[instance] a rule has no text (hint {:?})", r.hint));
        }
        Ok(InstanceTexts {
            loaded_at_ms: time::now_ms(),
            ..self
        })
    }
}

/// Every bound, with units last in names.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    // ---- store ----
    /// Read-only SQLite connections; writes go through one writer connection.
    pub db_read_connections: usize,
    /// How long a request waits for a database connection before it gets 503.
    pub db_acquire_timeout_ms: u64,
    /// How long SQLite waits on a locked database (e.g. the CLI writing while the server runs).
    pub db_busy_timeout_ms: u64,
    // ---- failover: reads (drill) ----
    /// With a standby to fall back on (a multi-host URL), a read on the
    /// primary (from getting a pool slot, opening a connection included)
    /// gives up after this and goes to a standby: a frozen or cut-off primary stays silent rather than
    /// refusing, and would otherwise cost each read `pg_operation_timeout_ms`.
    /// The primary then counts as unreachable for `pg_primary_recheck_ms`.
    pub pg_primary_read_timeout_ms: u64,

    /// PostgreSQL connections per node; requests beyond this wait up to `db_acquire_timeout_ms`.
    pub pg_pool_size: usize,
    /// How long opening one PostgreSQL connection (per host tried) may take.
    pub pg_connect_timeout_ms: u64,
    /// Server-side cap on one SQL statement (`statement_timeout`).
    pub pg_statement_timeout_ms: u64,
    /// Client-side cap on one whole store operation, round trips included: what
    /// turns a silently dead network into a 503 instead of a hang.
    pub pg_operation_timeout_ms: u64,
    /// How many times a transaction that lost a deadlock or serialization race is re-run.
    pub pg_tx_retries_max: u32,
    /// Prepared statements kept per connection.
    pub pg_statement_cache_max: usize,

    // ---- failover ----
    /// After the PostgreSQL primary could not be reached, for this long reads go
    /// straight to a standby and writes are refused at once (503 + Retry-After)
    /// before the primary is tried again. Only with a multi-host database URL
    /// (the hosts are searched for a standby); one host: every request tries it.
    pub pg_primary_recheck_ms: u64,
    /// How long a write waits out a lost primary (retrying while nothing was
    /// committed) before it is answered 503; also how long into an outage
    /// writes keep waiting at all, after which they are refused at once.
    /// Multi-host URLs only. Keep it below `request_timeout_ms`.
    pub pg_write_retry_window_ms: u64,

    // ---- status page and ops (ops, issue 13) ----
    /// What the status page's recent figures cover (request rate, error rate,
    /// p50/p99 latency, the guard's refusals): the last this many seconds.
    pub status_window_s: u64,
    /// The window slides in steps of this much; it keeps `status_window_s /
    /// status_slot_s` slots of counts and a latency histogram each.
    pub status_slot_s: u64,
    /// How long one fetch of a peer node's `/readyz` or of a Patroni REST API
    /// may take before that member shows as unreachable on the status page.
    pub status_fetch_timeout_ms: u64,
    /// How long the cluster's view (peers, Patroni) is reused before the next
    /// status request fetches it again.
    pub status_cluster_cache_ms: u64,
    /// Largest answer read from a peer node or from Patroni.
    pub status_fetch_body_max_bytes: usize,
    /// Most peer nodes, and most Patroni REST APIs, a `[cluster]` table may list.
    pub status_cluster_members_max: usize,
    /// Timeline pages kept in memory to answer again while no database host
    /// answers at all (degraded mode's last resort); 0 turns it off.
    pub read_cache_entries_max: usize,
    /// Oldest copy of a page the read cache may answer with.
    pub read_cache_stale_max_s: u64,

    // ---- failover drills (drills, issue 9) ----
    /// Statuses deleted or edited lately (on any node, learnt from the event
    /// feed) that the read cache remembers, so a page read just before the
    /// change cannot be kept with it (each is remembered for
    /// `request_timeout_ms`, the longest a read can be in flight). Past this
    /// many at once the whole read cache is dropped rather than risk it.
    pub read_cache_tombstones_max: usize,
    /// With a standby to fall back on (a multi-host URL), a read the primary
    /// has not answered after this long is started on a standby as well (any
    /// host but the primary's) and the first answer is used: a primary that
    /// is frozen or cut off by the network costs a read this much, not
    /// `pg_primary_read_timeout_ms`. Only the slowest reads are sent twice.
    /// Standbys are synchronous with `remote_apply` (see `holdfast cluster`),
    /// so a standby's answer holds every acknowledged write.
    pub pg_read_hedge_ms: u64,
    /// Within one attempt to open a connection to the primary (a
    /// multi-host URL), a host that answered as a standby is asked every
    /// this long whether it takes writes yet, on one connection kept open
    /// (a tiny query, not a new backend): a write waiting out a failover
    /// reaches the standby Patroni promotes this long after the promotion at
    /// most. Each waiting write asks each standby this often.
    pub pg_connect_requalify_ms: u64,

    // ---- failover: a synchronous standby before the first commit (drill, issue 9) ----
    /// With several hosts in the URL (a cluster), a connection to a primary
    /// runs no write until the primary's `pg_stat_replication` shows at
    /// least this many synchronous standbys (`sync` or `quorum`): right
    /// after a failover the promoted standby has none for a moment, and a
    /// write acknowledged then would be on one server only (see
    /// ARCHITECTURE.md, "A commit is on two servers"). Needs the
    /// `pg_monitor` role. 0 accepts asynchronous replication.
    pub pg_sync_standbys_min: u64,
    /// How often such a connection asks again, within what is left of the
    /// write's window (`pg_write_retry_window_ms`).
    pub pg_sync_standby_poll_ms: u64,

    // ---- failover: reads only from a server that is not stale (drill, issue 9) ----
    /// With several hosts in the URL (a cluster), a connection asks its
    /// server at most this often, before a read, whether it is fit to read
    /// from: a standby whose WAL receiver streams, or a primary with its
    /// synchronous standbys (`pg_sync_standbys_min`). A primary that was
    /// frozen while another was promoted wakes with neither, and whatever it
    /// answers misses the writes acknowledged since (one small query per
    /// connection per period).
    pub pg_read_fitness_check_ms: u64,
    /// How long a server may go on failing that check before it is no longer
    /// read from (its connections dropped, no new ones for one check period):
    /// a primary just promoted has no standby for a moment, and a standby's
    /// WAL receiver reconnects after every failover. A standby is read from
    /// past this too while no primary answers (it had every acknowledged
    /// write: `remote_apply`).
    pub pg_read_unfit_grace_ms: u64,

    // ---- passwords ----
    /// Concurrent argon2id hashes (dedicated threads); each takes ~19 MiB and a core
    /// for ~30 ms. One on a 2-core machine keeps a core for everything else.
    pub password_hash_concurrency: usize,
    /// How long a log-in or sign-up waits for a hashing slot before 503.
    pub password_hash_wait_ms: u64,

    // ---- HTTP ----
    /// Largest request body accepted on any route.
    pub request_body_max_bytes: usize,
    /// Largest body on the credential routes (OAuth, app registration, sign-up).
    pub credentials_body_max_bytes: usize,
    /// A request that takes longer than this is answered 503.
    pub request_timeout_ms: u64,
    /// After SIGTERM, in-flight requests get this long before the process exits anyway.
    pub shutdown_grace_ms: u64,

    // ---- listener ----
    // ---- lingering close ----
    /// After the server is done with a connection, it stops writing and reads and
    /// discards what the client still sends, for at most this long in total, so the
    /// client gets the answer instead of a reset (nginx's lingering close).
    pub linger_time_ms: u64,
    /// While lingering, the longest wait for the next bytes from the client. As
    /// long as `linger_time_ms`: a client slow to react to the early answer (a
    /// loaded machine, a high-latency link) sends its next bytes or closes late,
    /// and at 500 ms Node's fetch lost its 413 to a reset in 7 of 10 uploads at
    /// load 14. A silent connection still lets go within `linger_time_ms`.
    pub linger_idle_ms: u64,
    /// While lingering, the most bytes read and discarded before closing anyway.
    pub linger_bytes_max: usize,
    /// Bytes all lingering connections together may discard per second, in
    /// turns (see `linger_burst_bytes`); past it they are closed at once, so a
    /// flood of refused big bodies costs the server little reading (unbounded,
    /// 1 MiB bodies at 1,600/s took a core; 64 MiB/s is about 4,000 reads of
    /// 16 KiB). At this rate a single client's refused upload of
    /// `linger_bytes_max` drains within `linger_time_ms`.
    pub linger_bytes_per_s_max: u64,
    /// Open connections at once, all clients together; accepting pauses at the cap.
    pub max_connections: usize,
    /// Open connections from one client address (IPv6 grouped by /64); more are closed at once.
    pub max_connections_per_ip: usize,
    // ---- streaming ----
    // ---- web push (issue 12) ----
    /// Push endpoints (host names or IP addresses) that may be private,
    /// loopback or link-local and plain http; everything else must be a
    /// public https address (a push endpoint is a URL a user gives us).
    /// Empty: none (tests list 127.0.0.1 to reach a loopback receiver).
    pub push_allowed_hosts: Vec<String>,
    /// Longest push endpoint URL accepted; a longer one is a 422.
    pub push_endpoint_max_bytes: usize,
    /// How often a node looks for due push deliveries.
    pub push_poll_interval_ms: u64,
    /// Deliveries one node claims per look.
    pub push_batch_max: u32,
    /// A claimed delivery is hidden from other nodes this long; if its node
    /// dies meanwhile, another picks it up after.
    pub push_lease_ms: u64,
    /// Attempts per delivery before it is dropped.
    pub push_attempts_max: u32,
    /// Wait before the first retry; doubled for each later one.
    pub push_retry_base_ms: u64,
    /// Longest wait for a push service's answer (connect, TLS, response).
    pub push_request_timeout_ms: u64,
    /// How long a push service should keep an undelivered message (`TTL` header).
    pub push_ttl_s: u64,
    /// The VAPID token's lifetime (RFC 8292 allows at most a day).
    pub push_vapid_token_ttl_s: u64,
    /// Characters of the status text sent as a push message's body (it must fit one 4 KiB record).
    pub push_body_max_chars: usize,
    /// Streaming connections (SSE and WebSocket) open at once on this node, all clients together.
    pub streaming_connections_max: usize,
    /// Streaming connections one account may hold at once on this node; more are refused (429).
    pub streaming_connections_per_account_max: usize,
    /// Streaming connections from one client address (IPv6 by /64) at once; more are refused (429).
    pub streaming_connections_per_ip_max: usize,
    /// Streams one WebSocket may be subscribed to at once; a subscription past it gets an error message.
    pub streaming_subscriptions_per_connection_max: usize,
    /// Bytes of events queued for one connection that the client has not taken yet;
    /// past it the client is a slow consumer and is disconnected (with a close reason).
    pub streaming_send_buffer_bytes: usize,
    /// Events the in-process hub keeps for subscribers that are behind; one that falls
    /// further behind has missed events and is disconnected (it reconnects and refetches).
    pub streaming_hub_events_max: usize,
    /// SSE heartbeat (`:thump`) and WebSocket ping interval.
    pub streaming_heartbeat_ms: u64,
    /// A WebSocket that sends nothing (not even a pong) for this long is closed.
    pub streaming_idle_timeout_ms: u64,
    /// One write to a streaming client that makes no progress for this long drops the connection.
    pub streaming_write_timeout_ms: u64,
    /// Largest message a WebSocket client may send (subscribe/unsubscribe are tiny).
    pub streaming_client_message_max_bytes: usize,
    /// How often an open stream checks that its token still authenticates; a revoked
    /// token or a suspended account ends the stream within this long.
    pub streaming_token_recheck_ms: u64,
    /// PostgreSQL event feed (across nodes): how often a node reads the feed even
    /// without a notification (the safety net for a lost `NOTIFY`).
    pub streaming_feed_poll_ms: u64,
    /// How long feed rows are kept before they are pruned.
    pub streaming_feed_retention_s: u64,
    /// Longest pause between reconnection attempts of the feed's connections.
    pub streaming_feed_reconnect_max_ms: u64,
    /// Events queued for publishing to (or delivery from) the feed; past it they are dropped and counted.
    pub streaming_feed_queue_max: usize,

    /// A client must send a complete request head within this long, and an idle
    /// keep-alive connection is closed after it: hyper runs this timer whenever it
    /// waits for a request head, which is what defeats slowloris.
    pub header_read_timeout_ms: u64,
    /// Largest request head (request line plus headers).
    pub header_max_bytes: usize,
    pub h2_max_concurrent_streams: u32,

    // ---- streaming: shared per-event answers (stream, issue 12) ----
    /// Per event, the accounts that hide its author (blocks either way, mutes)
    /// are read once for all public and hashtag subscribers; past this many,
    /// each subscriber asks the store for itself instead.
    pub streaming_event_hiders_max: usize,
    /// Recent events whose shared answers (visibility, hiders, the anonymous
    /// rendering) are kept for subscribers still working through them; a
    /// subscriber further behind computes its own.
    pub streaming_event_memos_max: usize,

    // ---- guard: slow bodies and per-address requests (harden) ----
    /// Requests in flight at once from one client address (IPv6 by /64) until
    /// their response head, HTTP/1.1 requests and HTTP/2 streams alike; more are a 429.
    pub requests_in_flight_per_ip_max: usize,
    /// Bodies up to this size are read whole *before* admission, so a slow body
    /// holds no admission slot; larger ones (uploads) stream on after admission.
    pub body_prebuffer_bytes_max: usize,
    /// A request body may take this long before its data rate is judged.
    pub body_read_grace_ms: u64,
    /// After the grace, a body must arrive at least this fast on average, or
    /// the request is answered 408 and its connection closed.
    pub body_min_rate_bytes_per_s: u64,
    /// Look-ups of a token not seen lately, per client address per `rate_window_s`
    /// (what a flood of made-up tokens may cost the database).
    pub rate_token_lookup_ip_requests: u32,
    /// How long after its last use the guard remembers a valid token's account
    /// (budgets and bans only; handlers authenticate every request themselves).
    pub token_owner_cache_ttl_s: u64,
    pub token_owner_cache_entries_max: usize,
    /// `/readyz` and `/metrics` per client address per `rate_window_s`
    /// (`/healthz` is free; exempt a monitoring network with `rate_overrides`).
    pub rate_ops_ip_requests: u32,
    /// Anonymous requests refused with 429 from one address within
    /// `offender_window_ms` that ban the address (refused at accept).
    pub offender_strikes_max: u32,
    pub offender_window_ms: u64,
    /// The first ban's length; each further ban while the address persists doubles it.
    pub offender_ban_base_ms: u64,
    pub offender_ban_max_ms: u64,
    /// Addresses the ban table tracks at once.
    pub offenders_max: usize,

    // ---- guard: bans spare signed-in users behind the address (harden, issue 11) ----
    /// A banned address where a request with a valid token (one the guard
    /// already knows) was served within this long is not refused at accept:
    /// its requests are judged one by one, and only those with such a token
    /// are served.
    pub offender_signed_in_window_ms: u64,
    /// A write to a client that takes nothing for this long ends its connection:
    /// hyper has no write timeout, and a client that stops reading (an SSE stream
    /// above all) would otherwise hold its connection and slots for as long as it likes.
    pub write_stall_timeout_ms: u64,

    // ---- guard: rate limits (GCRA; Mastodon-like defaults) ----
    /// The window all request budgets below are counted over, unless named otherwise.
    pub rate_window_s: u64,
    /// Per access token (Mastodon: 300 per 5 minutes).
    pub rate_token_requests: u32,
    /// Per account, all its tokens together (Mastodon: 1,500 per 5 minutes).
    /// Signed-in requests have no per-address budget: people behind one
    /// address (a NAT, an office) are each counted on their own.
    pub rate_account_requests: u32,
    /// Per client address for anonymous requests (no token, or one that is not valid).
    pub rate_anonymous_ip_requests: u32,
    pub rate_signup_window_s: u64,
    /// Sign-ups per client address per `rate_signup_window_s`.
    pub rate_signup_requests: u32,
    /// Password log-ins (token endpoint, log-in form) per client address per window.
    pub rate_login_requests: u32,
    /// Searches per principal per window.
    pub rate_search_requests: u32,
    pub rate_delete_window_s: u64,
    /// Status deletions per principal per `rate_delete_window_s`.
    pub rate_delete_requests: u32,
    /// Most keys each rate-limit table keeps; past it, expired keys are pruned and
    /// unknown clients share one overflow bucket, so a flood from a million
    /// addresses costs bounded memory.
    pub rate_keys_max: usize,
    /// Per-network exemptions or tighter budgets, e.g. `{ cidr = "10.0.0.0/8", exempt = true }`.
    pub rate_overrides: Vec<RateOverride>,

    // ---- hardening: password hashing and fair admission (flood, issue 11) ----
    /// Log-ins and sign-ups waiting for a hashing slot at once; one more is a
    /// 503 at once, before it has looked anything up. The hashing threads run
    /// at the lowest CPU priority (`SCHED_IDLE`), so under load the queue
    /// drains slowly: it is kept short.
    pub password_hash_queue_max: usize,
    /// Once half the admission limit is in use, the share of it one signed-in
    /// principal (an account, or an app token) may hold, admitted and waiting
    /// together; past it, its next request is a 503 at once. A stolen token's burst cannot then take
    /// every slot and place in the queue ahead of real users while the limit
    /// is still small.
    pub admission_principal_share: f64,
    /// What one principal may always hold, however small the limit (a client
    /// loading a page asks a few things at once).
    pub admission_principal_slots_min: u32,
    /// An HTTP/2 connection refused a request because its address is banned
    /// (and signed-in users share it) gets a GOAWAY, not a cut: its other
    /// streams in flight may finish for this long, then it is cut.
    pub banned_goodbye_grace_ms: u64,
    /// 503 answers get a log line at most this often, each with how many went
    /// without one since (a log-in flood was 5,000 lines a second).
    pub unavailable_log_interval_ms: u64,

    // ---- lingering close, paced (flood, issue 11) ----
    /// How far the lingering budget (`linger_bytes_per_s_max`) may run ahead
    /// of its rate: the most read and discarded at once. Reads beyond it take
    /// turns at the rate, so refused uploads cost the server an even trickle
    /// of work, never a second's worth in one go (64 MiB read at once held a
    /// one-core server ~50 ms: bench/flood, session 9).
    pub linger_burst_bytes: u64,
    /// Longest a lingering connection waits for its turn at the budget; a
    /// turn further away closes the connection at once (the budget is spent).
    /// Short: at 100 ms every refused 1 MiB body of a flood kept its turn in
    /// the queue and its connection for `linger_time_ms`, the connection cap
    /// filled, and new connections waited in the kernel's backlog (a second).
    pub linger_turn_wait_max_ms: u64,

    // ---- guard: a token's opening burst (flood, issue 11, session 10) ----
    /// Requests one access token (or web session) may make at once, besides
    /// `rate_token_requests` per `rate_window_s`: Mastodon's 300 per 5 minutes
    /// lets a stolen token spend all 300 (each a real timeline read) in the
    /// first half second, and on a one-core server that burst set legitimate
    /// users' p99 under the `mixed` flood (bench/flood, session 9). 40 passes a
    /// client's start-up untouched: Elk or Phanpy opening ask ~20-40 things at
    /// once (instance, credentials, preferences, emojis, filters, lists,
    /// markers, home, notifications, relationships).
    pub rate_token_burst_requests: u32,
    /// The burst refills at `rate_token_burst_requests` per this long (40 per
    /// 5 s: 8 requests a second, which a person using a client never keeps up;
    /// a script that does meets the 300 per 5 minutes within a minute anyway).
    pub rate_token_burst_window_ms: u64,
    /// Connections the kernel queues for `accept` (Linux caps it at
    /// `net.core.somaxconn`, 4096 by default). A flood's opening wave (1,024
    /// attackers, 5,000 slowloris sockets) overflowed tokio's 1,024: the SYNs
    /// beyond it are dropped, and a user connecting then waited for the
    /// client's SYN retry, a second (bench/flood, session 10).
    pub listen_backlog_max: u32,

    // ---- guard: the signed-in lane (flood, issue 11, session 11) ----
    /// Worker threads of the runtime that serves connections from addresses
    /// where a signed-in user was served within `offender_signed_in_window_ms`
    /// (at most one per core); 0 serves every connection on the one runtime.
    /// On a core saturated by a flood, the kernel runs this lane's thread (it
    /// mostly sleeps) ahead of the busy one, so signed-in requests are read and
    /// served first instead of queueing behind the flood's tasks in arrival
    /// order (bench/flood, session 11).
    pub signed_in_lane_threads_max: usize,

    // ---- guard: admission control ----
    pub admission_initial_concurrency: u32,
    pub admission_min_concurrency: u32,
    pub admission_max_concurrency: u32,
    /// Waiting room per class: interactive, anonymous, expensive.
    pub admission_queue_max: [usize; 3],
    /// How long a request may wait for admission, per class, before a 503.
    pub admission_wait_ms: [u64; 3],
    /// Paging further back than this (by `max_id`) counts as expensive work.
    pub deep_page_age_s: u64,

    // ---- guard: cache for anonymous reads ----
    pub anon_cache_ttl_ms: u64,
    pub anon_cache_entries_max: usize,
    pub anon_cache_body_max_bytes: usize,

    // ---- browser edge and request bodies ----
    /// Most bracket levels in one parameter name (`a[b][c]` has 2), in every
    /// encoding; deeper is a 400 (Rack allows 32; Mastodon's deepest is 3).
    pub param_depth_max: usize,
    /// Most parts (text and files) in one `multipart/form-data` body; more is a 413.
    pub multipart_parts_max: usize,
    /// How long a browser may cache a CORS preflight answer (`Access-Control-Max-Age`).
    pub cors_max_age_s: u64,
    /// Longest `Access-Control-Request-Headers` echoed back in a preflight; a
    /// longer (or malformed) one gets the fixed list of headers clients use.
    pub cors_request_headers_max_bytes: usize,
    /// A TLS client must finish its handshake within this long, or is disconnected
    /// (the connection holds its listener slots meanwhile).
    pub tls_handshake_timeout_ms: u64,
    /// Proxies (CIDRs or single addresses) whose word is taken about the client:
    /// `X-Forwarded-Proto`, `X-Forwarded-For` and the PROXY protocol (v1/v2, read
    /// when a connection from one of them starts with it). From anyone else these
    /// are ignored. Empty: believe nobody.
    pub trusted_proxies: Vec<String>,

    // ---- content ----
    pub status_max_chars: usize,
    /// Every URL counts as this many characters, whatever its length (Mastodon's rule).
    pub status_url_chars: usize,
    pub username_max_chars: usize,
    pub display_name_max_chars: usize,
    pub note_max_chars: usize,
    pub password_min_chars: usize,
    pub password_max_chars: usize,
    pub mentions_per_status_max: usize,
    pub tags_per_status_max: usize,
    pub idempotency_key_max_chars: usize,
    /// How long an `Idempotency-Key` keeps returning the first result.
    pub idempotency_key_ttl_s: u64,

    // ---- speed (issue 10) ----
    /// Distinct account notes kept rendered as HTML (0: render every time).
    pub rendered_notes_max: usize,
    /// A viewer following at least this many accounts gets the home page by
    /// walking all statuses newest first instead of each followee's index
    /// (cheaper past this point; measured in bench/perf).
    pub home_scan_followees_min: usize,

    // ---- web UI (web, issue 13) ----
    /// How long browsers keep the web UI's stylesheet and script; their URLs
    /// carry a hash of their content, so a new build is fetched at once anyway.
    pub web_assets_max_age_s: u64,
    /// Most accounts shown on one page of followers, following or follow requests.
    pub web_accounts_page: u32,
    /// Most authorized apps listed on the settings page.
    pub web_authorized_apps_max: u32,

    // ---- server rules (webui, issue 13) ----
    /// Rules in force at once; the moderation pages refuse another past it.
    pub rules_max: u32,
    /// Rule rows kept, the deleted rules included (reports cite them by id).
    pub rules_kept_max: u32,
    pub rule_text_max_chars: usize,
    pub rule_hint_max_chars: usize,

    // ---- pages ----
    pub statuses_page_default: u32,
    pub statuses_page_max: u32,
    pub accounts_page_default: u32,
    pub accounts_page_max: u32,
    pub notifications_page_default: u32,
    pub notifications_page_max: u32,
    pub search_page_default: u32,
    pub search_page_max: u32,
    /// Deepest `offset` search accepts; deeper paging is refused with 400.
    pub search_offset_max: u32,
    // ---- home feeds and group commit (perf, issue 10) ----
    /// Statuses kept per account in its materialized home feed (`home_feed`);
    /// older rows are trimmed. Paging past them finds nothing, as in Mastodon.
    pub home_feed_max: usize,
    /// An author who posts with at least this many followers is read on
    /// merge (its statuses are looked up when a follower opens home) instead of
    /// copied into every follower's feed; sticky once reached. Below it, a post
    /// queues a fan-out job that copies it to every follower's feed in batches
    /// (`home_fanout_batch_max`; measured in bench/perf: the post-followers curve).
    pub home_fanout_followers_max: usize,
    /// Statuses of a newly followed account copied into the follower's feed.
    pub home_follow_backfill_max: usize,
    /// Every this many posts of an author, the fan-out job of the post trims
    /// the feeds it writes to (and the post trims the author's own) to
    /// `home_feed_max` (so a feed holds at most about
    /// `home_feed_max` + followees x this).
    pub home_feed_trim_every_posts: usize,
    /// Rounds of "next candidates, then the rules" a home page may take
    /// before it is answered short (many hidden statuses in a row).
    pub home_page_rounds_max: usize,
    /// Writes the SQLite writer commits together in one transaction (one
    /// fsync), each in its own savepoint; each is acknowledged after the commit.
    pub sqlite_group_commit_max: usize,
    /// Writes waiting for the SQLite writer; past this a write waits (up to
    /// `db_acquire_timeout_ms`) for room, then gets 503.
    pub sqlite_write_queue_max: usize,

    // ---- home fan-out jobs (fanout, issue 10) ----
    /// Followers one fan-out batch walks, in one transaction (a post's own
    /// transaction writes only a job row; workers copy it in batches of this
    /// many, so no write waits on a post's whole audience). A batch goes on
    /// to the next jobs while it has followers to spare, so posts with small
    /// audiences share one.
    pub home_fanout_batch_max: usize,
    /// Fan-out workers per node (each runs one batch at a time; on SQLite
    /// they share the one writer, on PostgreSQL they take different jobs).
    pub home_fanout_workers_max: usize,
    /// How often an idle fan-out worker looks for jobs other nodes queued
    /// (a post on its own node wakes it at once).
    pub home_fanout_poll_interval_ms: u64,
    /// Pending fan-out jobs a home page merges on read (newest first), so a
    /// post is on its followers' home timelines before its job has run.
    pub home_fanout_pending_merge_max: usize,

    // ---- bench seed: the bulk loader (seed, issue 10) ----
    /// Rows per INSERT statement when `holdfast bench seed` loads SQLite: one
    /// statement bound and stepped per this many rows instead of per row.
    pub bulk_sqlite_rows_per_insert_max: usize,
    /// How long `holdfast bench seed` waits for the migrating store's own
    /// connections to close, so that it can load SQLite without a journal
    /// (after that it loads with the WAL, slower).
    pub bulk_sqlite_exclusive_wait_ms: u64,

    // ---- home timeline: the read side (home, issue 10) ----
    /// Statuses whose mentions, tags and attachments are kept between pages
    /// (by id, used only while the status' `edited_at` is unchanged; 0: read
    /// them with every page). Measured in bench/perf (home).
    pub status_parts_cache_max: usize,
    /// Statuses, and separately accounts, whose rendered JSON is kept between
    /// pages (by id, used only while the row's `version` is unchanged,
    /// migration 0024; 0: render every status on every page). A home page
    /// reads no rows for a status kept at the versions it reads. Hits and
    /// misses in `/metrics`; measured in bench/perf (home).
    pub rendered_json_cache_max: usize,

    // ---- reads without a hand-off (home, issue 10) ----
    /// SQLite reads run on the async worker that asks for them when the
    /// server has at most this many workers (one per core); with more, a
    /// read hands the worker's other tasks to another thread first
    /// (`block_in_place`), so a slow read cannot hold them. On two cores
    /// there is no spare core for that thread: the hand-off took ~35 % of
    /// the server's CPU per home request (bench/perf, session 9), while a
    /// read holding a worker leaves the other worker to steal its tasks.
    /// 1 (the default) reads in place only on a one-worker server (one core,
    /// or pinned): on two workers, reading in place cost the mixed workload
    /// a ramp step (450 against 675 req/s) and home on 100k users its p99
    /// at 70 % (11.5 against 9.7 ms), measured back to back on the quiet
    /// machine (bench/perf, session 9), for 15 % less CPU per home request:
    /// a read holding one of two workers stalls every task queued behind it.
    /// 0 hands off always.
    pub sqlite_read_in_place_workers_max: usize,

    // ---- home timeline: relationship facts kept (home, issue 10, session 12) ----
    /// (viewer, account) pairs whose home-rule facts (followed and reblogs
    /// wanted, blocks either way, a mute, an exclusive list) are kept between
    /// pages, each used only while the viewer's relationship version
    /// (migration 0032, moved by triggers) is the one a page's own read finds,
    /// and only until a timed mute in it ends; 0: read them with every page.
    /// Hits and misses in `/metrics`; measured in bench/perf (session 12, home).
    pub home_relation_facts_cache_max: usize,

    // ---- home timeline: the viewer's flags kept (home14, issue 10, session 14) ----
    /// (viewer, status) pairs whose viewer's flags (favourited, reblogged,
    /// bookmarked, pinned, thread muted; and whether the status has a poll)
    /// are kept between home pages, each used only while the viewer's
    /// actions version (migration 0033, moved by triggers) and the status'
    /// row version are the ones a page's own read finds; 0: read them with
    /// every page. Hits and misses in `/metrics`; measured in bench/perf
    /// (session 14, home14).
    pub home_viewer_flags_cache_max: usize,

    // ---- media ----
    /// Largest body on the media routes (`/api/v1/media`, `/api/v2/media`,
    /// `update_credentials`): the image cap plus room for a thumbnail and form fields.
    pub media_upload_body_max_bytes: usize,
    /// Largest image file accepted (instance `image_size_limit`).
    pub media_image_max_bytes: usize,
    /// Most pixels (width x height) an image may declare; checked from the header
    /// before decoding, so a decompression bomb is refused before it allocates
    /// (instance `image_matrix_limit`; Mastodon's is 7680x4320).
    pub media_image_max_pixels: u64,
    /// Stored originals larger than this many pixels are scaled down to it, as
    /// Mastodon does (3840x2160): it bounds what is kept, served and encoded.
    pub media_original_max_pixels: u64,
    /// Longest side an image may declare, in pixels (also given to the decoder).
    pub media_image_max_side_px: u32,
    /// Most memory one decode may allocate (the decoder's own `max_alloc`).
    pub media_decode_alloc_max_bytes: u64,
    /// Images decoded at once (each on a blocking thread); the rest wait.
    pub media_decode_concurrency: usize,
    /// How long an upload waits for a decoding slot before 503.
    pub media_decode_wait_ms: u64,
    /// Media files are served in chunks of this size, so a download holds
    /// this much memory however large the file.
    pub media_serve_chunk_bytes: usize,
    /// Previews (`small`) fit in a square of this side, in pixels.
    pub media_preview_side_px: u32,
    /// Avatars are scaled down to fit in a square of this side, in pixels.
    pub media_avatar_side_px: u32,
    /// Headers are scaled down to fit in this box, in pixels.
    pub media_header_width_px: u32,
    pub media_header_height_px: u32,
    /// JPEG quality (1-100) of re-encoded images and previews.
    pub media_jpeg_quality: u8,
    /// Longest media description (alt text), in characters (Mastodon's limit).
    pub media_description_max_chars: usize,
    /// Most media attachments on one status.
    pub statuses_media_max: usize,
    /// Uploads never attached to a status are removed after this long.
    pub media_unattached_ttl_s: u64,
    /// How often the clean-up task looks for expired uploads.
    pub media_cleanup_interval_s: u64,
    /// Most expired uploads removed per clean-up tick.
    pub media_cleanup_batch_max: u32,
    pub rate_media_window_s: u64,
    /// Uploads (media, avatar, header) per principal per `rate_media_window_s` (Mastodon: 30 per 30 min).
    pub rate_media_requests: u32,
    // ---- posting at scale: writer priority, fan-out backlog (post, issue 10) ----
    /// A background write (a fan-out batch) is set aside by the SQLite writer
    /// while requests' writes fill every group commit; once it has waited
    /// this long it joins the next one anyway, so posts cannot starve it.
    pub sqlite_background_write_wait_max_ms: u64,
    /// The bound on the home fan-out backlog: while the oldest pending
    /// fan-out job is older than this, a post that would queue another one is
    /// refused with 503 (try again later), so the jobs, the rows they hold
    /// and the cost of merging them on read stop growing until the workers
    /// catch up. Posts merged on read (large audiences) are not affected.
    pub home_fanout_backlog_age_max_ms: u64,
    /// How often a thread of its own checkpoints SQLite's WAL into the
    /// database file (PASSIVE: never waits for the writer), so that commits
    /// do not wait behind checkpoints.
    pub sqlite_checkpoint_interval_ms: u64,
    /// WAL pages past which the writer checkpoints itself after a commit
    /// anyway (SQLite's `wal_autocheckpoint`; its default is 1,000): only
    /// reached if the checkpoint thread falls far behind.
    pub sqlite_writer_checkpoint_pages: u32,
    /// The SQLite writer connection's page cache, KiB (SQLite's default is
    /// 2,000): the index pages posts and fan-out batches write to stay in it.
    pub sqlite_writer_cache_kib: u32,
    // ---- bearer tokens and posting (post, issue 10) ----
    /// Proved bearer tokens kept in memory, by the hash of their secret; one
    /// is served from here only while the auth epoch it was proved at has
    /// not moved (migration 0026), which replaces the token's look-up on
    /// every request by a one-row read. Past this many, the older half goes.
    pub token_cache_max: usize,
    /// Rows a post may look at to find whether any follower's home feed is
    /// built (from whichever side is smaller: the built feeds or the
    /// followers): when none is, no fan-out job is queued (batches copy
    /// only into built feeds). Past this, the job is queued and finds out.
    pub home_fanout_built_check_max: usize,
    // ---- posting: warm at start (post, issue 10, session 9) ----
    /// At start the SQLite server checkpoints what an earlier process left in
    /// the WAL, then grows the WAL file with zeros (synced) to the size it
    /// reaches in use (`sqlite_writer_checkpoint_pages` frames), but never
    /// past this nor past the database file's own size. Otherwise the first
    /// seconds of writes after a start append to a growing file, and each
    /// commit's sync also writes the file's new size, where later commits
    /// overwrite old frames in place. 0 turns it off.
    pub sqlite_wal_warm_bytes_max: u64,
    // ---- posting at scale: group commit gathers (post, issue 10, session 10) ----
    /// How long a write may wait in all (counted from when it was queued)
    /// for more writes to join its transaction, when the one before had
    /// company (more than one write: a queue is building). A write that
    /// waited that long behind a busy writer commits at once, so the wait
    /// only spends idle time. Each commit costs the same whatever it holds
    /// (the fsync, the WAL frames' header, SQLite's walk of its page cache
    /// after a b-tree split, a search index segment), so gathering a few posts
    /// per commit spends less per post; every write still answers only after
    /// its commit. 0 commits at once (no wait).
    pub sqlite_group_commit_gather_us: u64,
    // ---- posting at scale: the WAL starts over (post, issue 10, session 11) ----
    /// WAL frames (pages) past which the checkpoint thread, having copied
    /// them into the database file, asks the SQLite writer to copy the few
    /// committed since, between two transactions, so that the next one starts
    /// the WAL over. Otherwise a writer that never pauses keeps the WAL
    /// growing until it checkpoints itself at `sqlite_writer_checkpoint_pages`,
    /// a whole interval's frames and a sync of the database file with writes
    /// waiting. 0 leaves it to that.
    pub sqlite_wal_restart_pages: u32,
    // ---- posting at scale: the search index fed in batches (post13, issue 10, session 13) ----
    /// Committed writes after which the SQLite writer moves the queued
    /// search entries (migration 0028's queue) into the FTS5 index, in the
    /// next transaction. FTS5 writes a segment per move and merges in
    /// proportion to the leaf pages it writes, so a segment per commit made
    /// the index ~11 of the WAL frames a lone post wrote (bench/perf, session
    /// 13); a segment per many posts fills its pages. A search moves what is
    /// queued first (`Db::index_queued_search`), so it still finds every
    /// acknowledged post. 0 moves them at every commit (the old way).
    pub sqlite_search_index_batch_writes: usize,
    /// The longest queued search entries wait, counted from the first
    /// commit that left them queued, before the writer moves them at its
    /// next commit (even below `sqlite_search_index_batch_writes`).
    pub sqlite_search_index_wait_max_ms: u64,
    // ---- statuses: edits, pins, polls, scheduled (posts, issue 14) ----
    /// Versions one status may have (the original and each edit).
    pub status_versions_max: u32,
    /// Statuses one account may pin to its profile (Mastodon: 5).
    pub pinned_statuses_max: u32,
    /// Options in one poll (Mastodon: 4).
    pub poll_options_max: usize,
    /// Longest poll option, in characters (Mastodon: 50).
    pub poll_option_max_chars: usize,
    /// Shortest and longest a poll may run (Mastodon: 5 minutes, about a month).
    pub poll_expires_in_min_s: u64,
    pub poll_expires_in_max_s: u64,
    /// How soon a scheduled status may be published, at the earliest (Mastodon: 5 minutes).
    pub scheduled_lead_min_s: u64,
    /// Scheduled statuses one account may have waiting (Mastodon: 300), and on one day (25).
    pub scheduled_statuses_max: u32,
    pub scheduled_statuses_per_day_max: u32,
    /// How often each node looks for due jobs (poll ends, scheduled statuses).
    pub due_jobs_poll_interval_ms: u64,
    /// Most jobs one node runs per look; the rest wait for the next.
    pub due_jobs_per_tick_max: u32,
    // ---- relationships and lists (rel, issue 14) ----
    /// Longest mute a `duration` may ask for (10 years; 0 is "until unmuted").
    pub mute_duration_max_s: u64,
    /// Lists one account may have (Mastodon: 50).
    pub lists_per_account_max: u32,
    /// Longest list title.
    pub list_title_max_chars: usize,
    /// Accounts in one list.
    pub list_accounts_max: u32,
    /// Most ids in one `POST/DELETE /api/v1/lists/:id/accounts`.
    pub list_accounts_ids_max: usize,
    /// Longest private note on an account (Mastodon: 2 000).
    pub account_note_max_chars: usize,
    /// Accounts one account may endorse.
    pub endorsements_max: u32,
    /// Domains one account may hide.
    pub user_domain_blocks_max: u32,
    /// Longest domain name (DNS: 253).
    pub domain_max_chars: usize,
    /// Followers shown per account by `familiar_followers`.
    pub familiar_followers_each_max: u32,
    /// Furthest `offset` into the directory (deep offsets cost a scan).
    pub directory_offset_max: u32,
    /// Most ids in one `relationships?id[]=` query.
    pub relationships_ids_max: usize,
    // ---- filters and notification policies (filters, issue 14) ----
    /// Filters one account may have.
    pub filters_per_account_max: u32,
    /// Keywords in one filter.
    pub filter_keywords_per_filter_max: u32,
    /// Statuses in one filter.
    pub filter_statuses_per_filter_max: u32,
    /// Longest filter keyword (v1: phrase).
    pub filter_keyword_max_chars: usize,
    /// Longest filter title.
    pub filter_title_max_chars: usize,
    /// Latest a filter's `expires_in` may reach (10 years).
    pub filter_expires_in_max_s: u64,
    /// Accounts whose compiled filters are kept in memory; past it, the
    /// least recently compiled are dropped.
    pub filter_cache_accounts_max: usize,
    /// How long a compiled filter set is used before it is read again. A
    /// change on this node drops it at once; this bounds how long a change
    /// made on another node of a cluster takes to apply here.
    pub filter_cache_ttl_ms: u64,
    /// Most ids in one bulk accept or dismiss of notification requests.
    pub notification_requests_ids_max: usize,
    // ---- early client calls (grouped notifications, unread counts, fetch many) ----
    /// Most notifications one grouped page (`/api/v2/notifications`) walks to
    /// find its groups; a page cut short by it links on from where it stopped.
    pub notification_groups_scan_max: u32,
    /// Sample accounts per notification group (Mastodon: 8).
    pub notification_group_samples_max: u32,
    /// `unread_count` when no `limit` is given (Mastodon: 100).
    pub unread_count_default: u32,
    /// Highest `limit` `unread_count` counts to (Mastodon: 1000).
    pub unread_count_max: u32,
    // ---- social: conversations and tags (social, issue 14) ----
    /// Hashtags one account may follow.
    pub followed_tags_max: u32,
    /// `GET /api/v1/followed_tags` page size (Mastodon: 100, at most 200).
    pub followed_tags_page_default: u32,
    pub followed_tags_page_max: u32,
    /// Hashtags one account may feature on its profile (Mastodon: 10).
    pub featured_tags_max: u32,
    /// `featured_tags/suggestions` looks at this many of the caller's newest statuses ...
    pub featured_tag_suggestions_scan_max: u32,
    /// ... and suggests at most this many tags (Mastodon: 10).
    pub featured_tag_suggestions_max: u32,
    /// Days a Tag's `history` covers, today included (Mastodon: 7).
    pub tag_history_days: u32,
    /// `GET /api/v1/conversations` page size (Mastodon: 20, at most 40).
    pub conversations_page_default: u32,
    pub conversations_page_max: u32,
    /// Followers told of one new post by a `status` notification (`notify`
    /// follows), the oldest follows first: bounds the posting transaction.
    pub status_subscribers_notified_max: u32,
    /// Languages one follow may be narrowed to (`languages[]`).
    pub follow_languages_max: usize,
    // ---- conformance gaps (conform, issue 14) ----
    /// Accounts told of a poll's end by one run of its durable job (the
    /// author first, then voters in id order); a bigger poll's end is told
    /// by further runs of the same job, each its own transaction.
    pub poll_end_notified_per_job_max: u32,
    /// Moderators and admins told of one new report (`admin.report`), the
    /// longest-standing accounts first: bounds the report's transaction.
    pub report_staff_notified_max: u32,
    // ---- discovery: trends (misc, issue 14) ----
    /// Trends look at public statuses this recent.
    pub trends_window_s: u64,
    /// ... and at most this many of them, the newest (bounds the work of a trends request).
    pub trends_scan_statuses_max: u32,
    /// `GET /api/v1/trends/tags` page size (Mastodon: 10, at most 20).
    pub trends_tags_page_default: u32,
    pub trends_tags_page_max: u32,
    /// `GET /api/v1/trends/statuses` page size (Mastodon: 20, at most 40).
    pub trends_statuses_page_default: u32,
    pub trends_statuses_page_max: u32,
    /// Highest `offset` a trends page may start at (more is a 400).
    pub trends_offset_max: u32,
    /// Most distinct ids in one `GET /api/v1/statuses?id[]=` (Mastodon: 20; more is a 422).
    pub fetch_statuses_ids_max: usize,
    /// Most distinct ids in one `GET /api/v1/accounts?id[]=` (Mastodon: 40; more is a 422).
    pub fetch_accounts_ids_max: usize,
    // ---- collections, profile, oEmbed (api, issue 14) ----
    /// Collections one account may make (Mastodon's role `collection_limit`).
    pub collections_per_account_max: u32,
    /// Accounts in one collection (Mastodon: 25).
    pub collection_items_max: u32,
    /// Longest collection name (Mastodon: 40).
    pub collection_name_max_chars: usize,
    /// Longest collection description (Mastodon: 100).
    pub collection_description_max_chars: usize,
    /// `accounts/:id/collections` and `in_collections` page size (Mastodon: 40, at most 80).
    pub collections_page_default: u32,
    pub collections_page_max: u32,
    /// Highest `offset` those pages may start at (more is a 400).
    pub collections_offset_max: u32,
    /// `GET /api/oembed`: how long a consumer may cache the answer (Mastodon: a day) ...
    pub oembed_cache_age_s: u64,
    /// ... and the embed's width when the consumer asks none (Mastodon: 400).
    pub oembed_width_default: u32,
    // ---- moderation (admin, issue 14) ----
    /// Longest report comment (Mastodon: 1 000).
    pub report_comment_max_chars: usize,
    /// Most statuses one report may name.
    pub report_statuses_max: usize,
    /// Most rule ids one report may name.
    pub report_rules_max: usize,
    /// Reports one account may have open (unresolved) at once.
    pub reports_open_per_account_max: u32,
    /// Admin list pages (accounts, reports, blocks, audit log): default and most
    /// (Mastodon: 100 and 200).
    pub admin_page_default: u32,
    pub admin_page_max: u32,
    /// Longest free text a moderator writes (resolution note, block comments).
    pub moderation_note_max_chars: usize,
    /// Instance-level domain blocks kept at most.
    pub admin_domain_blocks_max: u32,
    /// Address blocks kept at most (sign-up and log-in read them all).
    pub ip_blocks_max: u32,
    /// Longest announcement text.
    pub announcement_text_max_chars: usize,
    /// Announcements kept at most (`GET /api/v1/announcements` shows the active ones).
    pub announcements_max: u32,
    /// Longest reaction name (one emoji, perhaps with modifiers).
    pub announcement_reaction_name_max_chars: usize,
    /// Distinct reactions one announcement may gather.
    pub announcement_reactions_max: u32,
    // ---- PostgreSQL at scale: the bulk loader (pg, issue 10) ----
    /// `maintenance_work_mem` of `holdfast bench seed`'s PostgreSQL session:
    /// the memory each index, key and foreign-key build at the end of a load
    /// sorts in before it spills to disk (a million users' follows index is
    /// ~1 GB).
    pub bulk_pg_maintenance_work_mem_bytes: u64,
    // ---- PostgreSQL: connection I/O on its own thread (pg, issues 10 and 11) ----
    /// Threads of the PostgreSQL pools' own runtime, which opens every pooled
    /// connection and drives its socket. A connection's driver task used to
    /// run on whichever runtime opened it (the main one, under a flood), so
    /// a request served on the signed-in lane still waited behind the flood
    /// for its query's answer to be read. 0: no runtime of their own (each
    /// connection driven by the runtime that opened it, as before). `serve`
    /// uses it only with a signed-in lane (guard on): with one runtime there
    /// is nothing to keep apart, and the hop between threads costs CPU.
    pub pg_io_threads_max: usize,
    // ---- store core (issue 8): bounds the store used to keep to itself ----
    /// Deepest reply chain `context` follows, up or down; ancestors beyond it
    /// are not shown (so it also caps the ancestors `context_statuses_max` allows).
    pub thread_depth_max: u32,
    /// How far back a tag's use counts for its history (`uses_last_week`, `accounts_last_week`).
    pub tag_usage_window_s: u64,
    /// Idle time before TCP keepalive probes start on a PostgreSQL connection.
    pub pg_keepalive_idle_s: u64,
    /// A write waiting out a failover pauses this long before its second
    /// attempt, doubling after each, up to `pg_write_retry_pause_max_ms`
    /// (a switchover takes about a second, a crash a few to detect). The cap
    /// is short because a waiting write notices the new primary only at its
    /// next attempt (on average half a pause late), and an attempt is cheap:
    /// one connection try to every host at once, which the old and standby
    /// hosts refuse at once.
    pub pg_write_retry_pause_first_ms: u64,
    pub pg_write_retry_pause_max_ms: u64,
    /// Prepared statements kept per SQLite connection (the store's query
    /// texts are a fixed set of a few dozen shapes; more only costs memory).
    pub sqlite_statement_cache_max: usize,
    /// Event rows the PostgreSQL feed reads per catch-up query.
    pub streaming_feed_read_batch_max: u32,
    /// How far below its cursor (in event ids) the feed reads again, for rows
    /// that committed after a higher id (sequences are not commit-ordered).
    pub streaming_feed_gap_window_ids: u32,
    /// Attempts to write one event to the feed before it is dropped.
    pub streaming_feed_publish_attempts_max: u32,
    /// Most statuses returned on each side of a thread by `context`.
    pub context_statuses_max: u32,

    // ---- OAuth ----
    // ---- OAuth: PKCE, log-in sessions, app registration ----
    // ---- bounds that were written in the code (issue 8; the tidy test keeps them here) ----
    /// Descriptors kept back for the database, logs and the runtime when the
    /// connection cap is fitted to the open-files limit.
    pub runtime_reserved_fds: u64,
    /// The fitted connection cap never goes below this, however few descriptors there are.
    pub fitted_connections_min: usize,
    /// How often the guard logs what it refused (one line per kind, never per request).
    pub attack_log_interval_s: u64,
    /// At start, how often to look whether the event feed listens yet (for at
    /// most twice `pg_connect_timeout_ms`).
    pub feed_start_poll_ms: u64,
    /// Accounts `holdfast user list` prints when not given `--limit`.
    pub cli_user_list_default: u32,
    /// Longest plain-text refusal of the framework that is turned into
    /// Mastodon's `{"error": …}` (they are one line; longer ones are not read).
    pub refusal_text_max_bytes: usize,
    /// `Cache-Control: max-age` of media files (a key never changes content: `immutable`).
    pub media_cache_max_age_s: u64,
    /// Statuses on the web front page.
    pub web_statuses_page: u32,
    /// `Cache-Control: max-age` of the web UI's static pictures.
    pub web_static_max_age_s: u64,
    /// A stream catching up on notifications reads this many per query…
    pub streaming_notifications_per_fetch: u32,
    /// …and makes at most this many queries per wake-up.
    pub streaming_notification_rounds_max: usize,
    /// After its close frame is queued, a WebSocket's writer gets
    /// `streaming_write_timeout_ms` plus this long to send it.
    pub streaming_close_grace_ms: u64,
    /// At shutdown, how often to look whether every stream has closed.
    pub streaming_drain_poll_ms: u64,
    /// Admission's gradient limiter: the weight of each latency in the
    /// long-term ("normal") latency, an exponential moving average.
    pub admission_long_rtt_weight: f64,
    /// How much slower than normal a request may be before the limit shrinks.
    pub admission_latency_tolerance: f64,
    /// How far the limit moves towards its new target per request (0-1).
    pub admission_smoothing: f64,
    /// The share of the admission limit expensive work may hold at once
    /// (at least one slot), so it never takes every slot from interactive users.
    pub admission_expensive_share: f64,
    /// The PROXY protocol reader waits this long before peeking again at a partial header.
    pub proxy_header_peek_retry_ms: u64,
    /// After `accept` fails (out of descriptors, say), the listener pauses this long.
    pub accept_error_pause_ms: u64,
    /// Lingering close reads and discards in chunks of this size.
    pub linger_buffer_bytes: usize,
    /// Rate-limit tables are split into this many locked shards (less contention).
    pub rate_table_shards: usize,
    /// Deleting a status announces the deletion of its reblogs to streams: they
    /// are read in pages of this size…
    pub reblog_deletions_page: u32,
    /// …at most this many pages (best effort beyond).
    pub reblog_deletions_pages_max: usize,
    /// Longest bearer token or authorization code a client may present (ours
    /// are 43 characters); longer ones are refused before hashing.
    pub oauth_token_max_bytes: usize,
    /// Longest `Authorization: Basic` credentials decoded (client id and secret).
    pub basic_auth_max_bytes: usize,
    /// Longest language code a status or account may carry (`en`, `pt-BR`, `zh-Hant`).
    pub language_max_chars: usize,
    /// `Retry-After` (seconds) on a refusal whose end is unknown: overload,
    /// no database primary, too many streams. See `Limits::retry_after_for`.
    pub retry_after_s: u64,

    /// How long a log-in on the authorize page stays valid (the session cookie's life).
    pub session_ttl_s: u64,
    /// Most live log-in sessions one account keeps; the oldest goes when a new one starts.
    pub sessions_per_account_max: usize,
    /// Longest `website` an app may register.
    pub app_website_max_chars: usize,
    /// Longest OAuth `state` the authorize page carries through its steps.
    pub oauth_state_max_chars: usize,
    pub auth_code_ttl_s: u64,
    pub redirect_uris_max: usize,
    pub redirect_uri_max_chars: usize,
    pub app_name_max_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            db_read_connections: 4,
            db_acquire_timeout_ms: 2_000,
            db_busy_timeout_ms: 5_000,
            pg_primary_read_timeout_ms: 1_500,
            pg_pool_size: 8,
            pg_connect_timeout_ms: 3_000,
            pg_statement_timeout_ms: 5_000,
            pg_operation_timeout_ms: 8_000,
            pg_tx_retries_max: 3,
            pg_statement_cache_max: 256,
            pg_primary_recheck_ms: 1_000,
            pg_write_retry_window_ms: 8_000,
            status_window_s: 300,
            status_slot_s: 10,
            status_fetch_timeout_ms: 1_000,
            status_cluster_cache_ms: 2_000,
            status_fetch_body_max_bytes: 64 * 1024,
            status_cluster_members_max: 16,
            read_cache_entries_max: 512,
            read_cache_stale_max_s: 300,
            read_cache_tombstones_max: 4_096,
            pg_read_hedge_ms: 300,
            pg_connect_requalify_ms: 50,
            pg_sync_standbys_min: 1,
            pg_sync_standby_poll_ms: 10,
            pg_read_fitness_check_ms: 1_000,
            pg_read_unfit_grace_ms: 2_000,
            password_hash_concurrency: 1,
            password_hash_wait_ms: 1_000,
            request_body_max_bytes: 256 * 1024,
            credentials_body_max_bytes: 16 * 1024,
            request_timeout_ms: 15_000,
            shutdown_grace_ms: 10_000,
            linger_time_ms: 2_000,
            linger_idle_ms: 2_000,
            linger_bytes_max: 64 * 1024 * 1024,
            linger_bytes_per_s_max: 64 * 1024 * 1024,
            max_connections: 10_000,
            max_connections_per_ip: 64,
            push_allowed_hosts: Vec::new(),
            push_endpoint_max_bytes: 2_048,
            push_poll_interval_ms: 500,
            push_batch_max: 32,
            push_lease_ms: 60_000,
            push_attempts_max: 5,
            push_retry_base_ms: 2_000,
            push_request_timeout_ms: 10_000,
            push_ttl_s: 48 * 3_600,
            push_vapid_token_ttl_s: 12 * 3_600,
            push_body_max_chars: 500,
            streaming_connections_max: 8_000,
            streaming_connections_per_account_max: 16,
            streaming_connections_per_ip_max: 48,
            streaming_subscriptions_per_connection_max: 32,
            streaming_send_buffer_bytes: 512 * 1024,
            streaming_hub_events_max: 4_096,
            streaming_heartbeat_ms: 15_000,
            streaming_idle_timeout_ms: 60_000,
            streaming_write_timeout_ms: 10_000,
            streaming_client_message_max_bytes: 4 * 1024,
            streaming_token_recheck_ms: 60_000,
            streaming_feed_poll_ms: 2_000,
            streaming_feed_retention_s: 600,
            streaming_feed_reconnect_max_ms: 5_000,
            streaming_feed_queue_max: 4_096,
            header_read_timeout_ms: 5_000,
            header_max_bytes: 16 * 1024,
            h2_max_concurrent_streams: 64,
            streaming_event_hiders_max: 10_000,
            streaming_event_memos_max: 64,
            requests_in_flight_per_ip_max: 128,
            body_prebuffer_bytes_max: 64 * 1024,
            body_read_grace_ms: 5_000,
            body_min_rate_bytes_per_s: 4_096,
            rate_token_lookup_ip_requests: 1_500,
            token_owner_cache_ttl_s: 300,
            token_owner_cache_entries_max: 100_000,
            rate_ops_ip_requests: 1_200,
            offender_strikes_max: 50,
            offender_window_ms: 10_000,
            offender_ban_base_ms: 10_000,
            offender_ban_max_ms: 600_000,
            offenders_max: 10_000,
            offender_signed_in_window_ms: 600_000,
            write_stall_timeout_ms: 30_000,
            rate_window_s: 300,
            rate_token_requests: 300,
            rate_anonymous_ip_requests: 300,
            rate_account_requests: 1_500,
            rate_signup_window_s: 1_800,
            rate_signup_requests: 5,
            rate_login_requests: 25,
            rate_search_requests: 60,
            rate_delete_window_s: 1_800,
            rate_delete_requests: 30,
            rate_keys_max: 100_000,
            rate_overrides: Vec::new(),
            password_hash_queue_max: 8,
            admission_principal_share: 0.25,
            admission_principal_slots_min: 4,
            banned_goodbye_grace_ms: 2_000,
            unavailable_log_interval_ms: 1_000,
            linger_burst_bytes: 256 * 1024,
            linger_turn_wait_max_ms: 5,
            rate_token_burst_requests: 40,
            rate_token_burst_window_ms: 5_000,
            listen_backlog_max: 4_096,
            signed_in_lane_threads_max: 8,
            admission_initial_concurrency: 16,
            admission_min_concurrency: 4,
            admission_max_concurrency: 256,
            admission_queue_max: [256, 128, 16],
            admission_wait_ms: [2_000, 1_000, 300],
            deep_page_age_s: 24 * 3600,
            anon_cache_ttl_ms: 1_000,
            anon_cache_entries_max: 1_024,
            anon_cache_body_max_bytes: 512 * 1024,
            param_depth_max: 8,
            multipart_parts_max: 128,
            cors_max_age_s: 7_200,
            cors_request_headers_max_bytes: 1_024,
            tls_handshake_timeout_ms: 10_000,
            trusted_proxies: Vec::new(),
            status_max_chars: 500,
            status_url_chars: 23,
            username_max_chars: 30,
            display_name_max_chars: 30,
            note_max_chars: 500,
            password_min_chars: 8,
            password_max_chars: 72,
            mentions_per_status_max: 50,
            tags_per_status_max: 30,
            idempotency_key_max_chars: 200,
            idempotency_key_ttl_s: 24 * 3600,
            rendered_notes_max: 10_000,
            home_scan_followees_min: 200,
            web_assets_max_age_s: 365 * 24 * 3600,
            web_accounts_page: 40,
            web_authorized_apps_max: 100,
            rules_max: 100,
            rules_kept_max: 1_000,
            rule_text_max_chars: 300,
            rule_hint_max_chars: 2_000,
            statuses_page_default: 20,
            statuses_page_max: 40,
            accounts_page_default: 40,
            accounts_page_max: 80,
            notifications_page_default: 40,
            notifications_page_max: 80,
            search_page_default: 20,
            search_page_max: 40,
            search_offset_max: 10_000,
            home_feed_max: 800,
            home_fanout_followers_max: 10_000,
            home_follow_backfill_max: 100,
            home_feed_trim_every_posts: 64,
            home_page_rounds_max: 8,
            sqlite_group_commit_max: 64,
            sqlite_write_queue_max: 1_024,
            home_fanout_batch_max: 500,
            home_fanout_workers_max: 2,
            home_fanout_poll_interval_ms: 250,
            home_fanout_pending_merge_max: 1_000,
            bulk_sqlite_rows_per_insert_max: 64,
            bulk_sqlite_exclusive_wait_ms: 5_000,
            status_parts_cache_max: 20_000,
            rendered_json_cache_max: 20_000,
            sqlite_read_in_place_workers_max: 1,
            home_relation_facts_cache_max: 65_536,
            home_viewer_flags_cache_max: 65_536,
            media_upload_body_max_bytes: 17 * 1024 * 1024,
            media_image_max_bytes: 16 * 1024 * 1024,
            media_image_max_pixels: 7_680 * 4_320,
            media_original_max_pixels: 3_840 * 2_160,
            media_image_max_side_px: 16_384,
            media_decode_alloc_max_bytes: 256 * 1024 * 1024,
            media_decode_concurrency: 2,
            media_decode_wait_ms: 10_000,
            media_serve_chunk_bytes: 256 * 1024,
            media_preview_side_px: 640,
            media_avatar_side_px: 400,
            media_header_width_px: 1_500,
            media_header_height_px: 500,
            media_jpeg_quality: 85,
            media_description_max_chars: 1_500,
            statuses_media_max: 4,
            media_unattached_ttl_s: 24 * 3600,
            media_cleanup_interval_s: 600,
            media_cleanup_batch_max: 100,
            rate_media_window_s: 1_800,
            rate_media_requests: 30,
            sqlite_background_write_wait_max_ms: 20,
            home_fanout_backlog_age_max_ms: 10_000,
            sqlite_checkpoint_interval_ms: 200,
            sqlite_writer_checkpoint_pages: 16_000,
            sqlite_writer_cache_kib: 32 * 1024,
            token_cache_max: 10_000,
            home_fanout_built_check_max: 64,
            sqlite_wal_warm_bytes_max: 128 * 1024 * 1024,
            sqlite_group_commit_gather_us: 0,
            sqlite_wal_restart_pages: 8_000,
            sqlite_search_index_batch_writes: 256,
            sqlite_search_index_wait_max_ms: 1_000,
            status_versions_max: 100,
            pinned_statuses_max: 5,
            poll_options_max: 4,
            poll_option_max_chars: 50,
            poll_expires_in_min_s: 300,
            poll_expires_in_max_s: 2_629_746,
            scheduled_lead_min_s: 300,
            scheduled_statuses_max: 300,
            scheduled_statuses_per_day_max: 25,
            due_jobs_poll_interval_ms: 1_000,
            due_jobs_per_tick_max: 50,
            mute_duration_max_s: 10 * 365 * 24 * 3600,
            lists_per_account_max: 50,
            list_title_max_chars: 256,
            list_accounts_max: 1_000,
            list_accounts_ids_max: 100,
            account_note_max_chars: 2_000,
            endorsements_max: 100,
            user_domain_blocks_max: 1_000,
            domain_max_chars: 253,
            familiar_followers_each_max: 10,
            directory_offset_max: 10_000,
            relationships_ids_max: 100,
            filters_per_account_max: 100,
            filter_keywords_per_filter_max: 100,
            filter_statuses_per_filter_max: 100,
            filter_keyword_max_chars: 100,
            filter_title_max_chars: 256,
            filter_expires_in_max_s: 10 * 365 * 24 * 3600,
            filter_cache_accounts_max: 10_000,
            filter_cache_ttl_ms: 2_000,
            notification_requests_ids_max: 100,
            notification_groups_scan_max: 2_000,
            notification_group_samples_max: 8,
            unread_count_default: 100,
            unread_count_max: 1_000,
            followed_tags_max: 1_000,
            followed_tags_page_default: 100,
            followed_tags_page_max: 200,
            featured_tags_max: 10,
            featured_tag_suggestions_scan_max: 1_000,
            featured_tag_suggestions_max: 10,
            tag_history_days: 7,
            conversations_page_default: 20,
            conversations_page_max: 40,
            status_subscribers_notified_max: 10_000,
            follow_languages_max: 100,
            poll_end_notified_per_job_max: 500,
            report_staff_notified_max: 100,
            trends_window_s: 7 * 24 * 3600,
            trends_scan_statuses_max: 5000,
            trends_tags_page_default: 10,
            trends_tags_page_max: 20,
            trends_statuses_page_default: 20,
            trends_statuses_page_max: 40,
            trends_offset_max: 400,
            fetch_statuses_ids_max: 20,
            fetch_accounts_ids_max: 40,
            collections_per_account_max: 10,
            collection_items_max: 25,
            collection_name_max_chars: 40,
            collection_description_max_chars: 100,
            collections_page_default: 40,
            collections_page_max: 80,
            collections_offset_max: 1_000,
            oembed_cache_age_s: 24 * 3600,
            oembed_width_default: 400,
            report_comment_max_chars: 1_000,
            report_statuses_max: 100,
            report_rules_max: 20,
            reports_open_per_account_max: 100,
            admin_page_default: 100,
            admin_page_max: 200,
            moderation_note_max_chars: 1_000,
            admin_domain_blocks_max: 10_000,
            ip_blocks_max: 1_000,
            announcement_text_max_chars: 5_000,
            announcements_max: 100,
            announcement_reaction_name_max_chars: 16,
            announcement_reactions_max: 40,
            bulk_pg_maintenance_work_mem_bytes: 1024 * 1024 * 1024,
            pg_io_threads_max: 1,
            thread_depth_max: 256,
            tag_usage_window_s: 7 * 24 * 3600,
            pg_keepalive_idle_s: 10,
            pg_write_retry_pause_first_ms: 100,
            pg_write_retry_pause_max_ms: 250,
            sqlite_statement_cache_max: 128,
            streaming_feed_read_batch_max: 1_000,
            streaming_feed_gap_window_ids: 256,
            streaming_feed_publish_attempts_max: 3,
            context_statuses_max: 4_096,
            runtime_reserved_fds: 256,
            fitted_connections_min: 16,
            attack_log_interval_s: 10,
            feed_start_poll_ms: 20,
            cli_user_list_default: 1_000,
            refusal_text_max_bytes: 4_096,
            media_cache_max_age_s: 365 * 24 * 3600,
            web_statuses_page: 20,
            web_static_max_age_s: 24 * 3600,
            streaming_notifications_per_fetch: 40,
            streaming_notification_rounds_max: 5,
            streaming_close_grace_ms: 1_000,
            streaming_drain_poll_ms: 10,
            admission_long_rtt_weight: 0.01,
            admission_latency_tolerance: 2.0,
            admission_smoothing: 0.2,
            admission_expensive_share: 0.25,
            proxy_header_peek_retry_ms: 5,
            accept_error_pause_ms: 100,
            linger_buffer_bytes: 16 * 1024,
            rate_table_shards: 16,
            reblog_deletions_page: 80,
            reblog_deletions_pages_max: 5,
            oauth_token_max_bytes: 512,
            basic_auth_max_bytes: 4_096,
            language_max_chars: 10,
            retry_after_s: 1,
            session_ttl_s: 7 * 24 * 3600,
            sessions_per_account_max: 16,
            app_website_max_chars: 2_000,
            oauth_state_max_chars: 1_000,
            auth_code_ttl_s: 600,
            redirect_uris_max: 10,
            redirect_uri_max_chars: 2_000,
            app_name_max_chars: 60,
        }
    }
}

impl Limits {
    /// The admission limiter's tuning must be fractions (and a tolerance of at
    /// least 1), or the limit would swing or never shrink; checked at start.
    pub fn check_admission_tuning(&self) -> Result<(), String> {
        let fraction = |name: &str, v: f64| {
            if v > 0.0 && v <= 1.0 {
                Ok(())
            } else {
                Err(format!("{name} ({v}) must be above 0 and at most 1"))
            }
        };
        fraction("admission_long_rtt_weight", self.admission_long_rtt_weight)?;
        fraction("admission_smoothing", self.admission_smoothing)?;
        fraction("admission_expensive_share", self.admission_expensive_share)?;
        fraction("admission_principal_share", self.admission_principal_share)?;
        if self.admission_latency_tolerance < 1.0 {
            return Err(format!(
                "admission_latency_tolerance ({}) must be at least 1",
                self.admission_latency_tolerance
            ));
        }
        Ok(())
    }

    /// The one `Retry-After` policy, for the guard and the API alike: the
    /// seconds until `known_wait_ms` ends (a rate limit's next slot), rounded
    /// up, or `retry_after_s` when the end is unknown; never 0.
    pub fn retry_after_for(&self, known_wait_ms: Option<u64>) -> u64 {
        known_wait_ms
            .map_or(self.retry_after_s, |ms| ms.div_ceil(1000))
            .max(1)
    }
}

/// An operator's exception to the rate limits for one network.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateOverride {
    /// `192.0.2.0/24`, `2001:db8::/32` or a single address.
    pub cidr: String,
    /// No rate limit at all for this network.
    #[serde(default)]
    pub exempt: bool,
    /// A different per-address budget per `rate_window_s` (smaller to tighten).
    pub requests: Option<u32>,
}

/// What a TOML config file may say; every field optional, flags and env win over it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database: Option<String>,
    pub domain: Option<String>,
    pub registrations: Option<Registrations>,
    pub contact_email: Option<String>,
    pub guard: Option<bool>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub instance: InstanceTexts,
    pub cluster: ClusterMembers,
    pub limits: Limits,
}

impl FileConfig {
    pub fn load(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("invalid config file {}: {e}", path.display()))
    }
}

/// A contact address as an operator may give it: empty (none), or something
/// that looks like an e-mail address. Returns it trimmed.
pub fn check_contact_email(raw: &str) -> Result<String, String> {
    let e = raw.trim();
    if e.is_empty() {
        return Ok(String::new());
    }
    let ok = match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && e.len() <= 254
                && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if ok {
        Ok(e.to_owned())
    } else {
        Err(format!("contact e-mail {e:?} is not an e-mail address"))
    }
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./holdfast-data";
pub const DEFAULT_DOMAIN: &str = "localhost";

/// The version we report: Mastodon clients gate features on the leading Mastodon version.
pub const MASTODON_COMPAT_VERSION: &str = "4.3.0";
/// The schemes' default ports (a protocol fact, for push endpoint URLs).
pub const HTTPS_DEFAULT_PORT: u16 = 443;
pub const HTTP_DEFAULT_PORT: u16 = 80;

pub const HOLDFAST_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_override_from_toml_keeps_other_defaults() {
        let f: FileConfig =
            toml::from_str("domain = \"example.org\"\n[limits]\nstatus_max_chars = 1000\n")
                .unwrap();
        assert_eq!(f.domain.as_deref(), Some("example.org"));
        assert_eq!(f.limits.status_max_chars, 1000);
        assert_eq!(
            f.limits.statuses_page_max,
            Limits::default().statuses_page_max
        );
    }

    #[test]
    fn rate_overrides_parse() {
        let f: FileConfig =
            toml::from_str("[[limits.rate_overrides]]\ncidr = \"10.0.0.0/8\"\nexempt = true\n")
                .unwrap();
        assert!(f.limits.rate_overrides[0].exempt);
    }

    #[test]
    fn contact_email_is_checked() {
        assert_eq!(check_contact_email("  ").unwrap(), "");
        assert_eq!(
            check_contact_email(" ops@example.org ").unwrap(),
            "ops@example.org"
        );
        assert!(check_contact_email("nobody").is_err());
        assert!(check_contact_email("a b@example.org").is_err());
        let f: FileConfig = toml::from_str("contact_email = \"ops@example.org\"\n").unwrap();
        assert_eq!(f.contact_email.as_deref(), Some("ops@example.org"));
    }

    #[test]
    fn admission_tuning_is_checked() {
        assert!(Limits::default().check_admission_tuning().is_ok());
        let l = Limits {
            admission_expensive_share: 1.5,
            ..Limits::default()
        };
        let err = l.check_admission_tuning().unwrap_err();
        assert!(err.contains("admission_expensive_share"), "{err}");
        let l = Limits {
            admission_latency_tolerance: 0.5,
            ..Limits::default()
        };
        assert!(l.check_admission_tuning().is_err());
    }

    #[test]
    fn retry_after_is_one_policy() {
        let l = Limits::default();
        assert_eq!(l.retry_after_for(None), l.retry_after_s);
        assert_eq!(l.retry_after_for(Some(1)), 1, "rounded up");
        assert_eq!(l.retry_after_for(Some(2_001)), 3);
        assert_eq!(l.retry_after_for(Some(0)), 1, "never 0");
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<FileConfig>("[limits]\nstatus_max_char = 1\n").is_err());
    }

    #[test]
    fn registrations_default_depends_on_domain() {
        assert_eq!(
            Registrations::default_for_domain("localhost"),
            Registrations::Open
        );
        assert_eq!(
            Registrations::default_for_domain("social.example"),
            Registrations::Approval
        );
    }

    #[test]
    fn the_deploy_example_config_is_valid() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/holdfast.toml");
        let config = FileConfig::load(std::path::Path::new(path)).unwrap();
        assert_eq!(
            config.limits.trusted_proxies,
            vec!["10.0.0.0/24".to_string()]
        );
        assert!(
            config.database.unwrap().contains(','),
            "every database host"
        );
        assert!(config.limits.pg_write_retry_window_ms < config.limits.request_timeout_ms);
    }
}
