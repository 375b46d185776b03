//! `holdfast bench run`: open-loop load at increasing rates on siege's client.
//!
//! Open loop: request `k` is due at `start + k / rate` whatever happened to the
//! ones before it, and its latency is measured from that due time, so a server
//! that stalls is charged for the queue it causes (no coordinated omission).
//! A fixed set of keep-alive connections sends them; when all are busy, due
//! requests wait and that wait counts. A step passes when at most 1 % fail, the
//! achieved rate is at least 95 % of the offered one and p99 stays under
//! `--p99-limit-ms` (a queue is building: the server is saturated); the ramp
//! stops at the first step that does not. The capacity is the best passing
//! step; one more step at 70 % of it gives the latency at a rate the server can
//! hold, judged against the scenario's p99 target.
//!
//! `/healthz` is ramped the same way first, on the same server, so each result
//! is also given as a ratio to it (the ceiling of this machine and this client).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::json;
use tokio::time::Instant;

use super::seed::{SeedInfo, SeedUser};
use crate::siege::http::{connect, ClientError, Request, Response};
use crate::siege::server::{self, ServerData};
use crate::siege::stats::{classify, Histogram, Outcome};
use crate::siege::target::{parse_target, Target};

pub const STEP_MAX_S: u64 = 120;
pub const CONNECTIONS_MAX: usize = 4_096;
pub const RATE_MAX_PER_S: f64 = 1_000_000.0;
pub const ROUNDS_MAX: usize = 20;
/// A step fails above this share of failed requests.
const ERROR_SHARE_MAX: f64 = 0.01;
/// A step fails when it achieves less than this share of the offered rate.
const ACHIEVED_SHARE_MIN: f64 = 0.95;
/// Time-to-visible: polls per follower home and the pause between them.
const VISIBLE_POLLS_MAX: usize = 1_000;
const VISIBLE_POLL_PAUSE_MS: u64 = 10;
const VISIBLE_TRIALS: usize = 5;
/// Time-to-visible: sampled followers per scale author when seed.json has
/// none (seeds made before the seed kept viewers as samples).
const VISIBLE_SAMPLES: usize = 4;

#[derive(clap::Args, Clone, Debug, Serialize)]
pub struct RunArgs {
    /// home, public, account, context, thread, notifications, post, mixed, healthz,
    /// verify (`verify_credentials`: a signed-in call doing nearly nothing, the
    /// fixed cost every signed-in request pays),
    /// home-followees (scale curve), post-followers (scale curve + time to visible),
    /// or a web page against its API call (SQLite seeds): web-home (vs home),
    /// web-status (a thread's page, vs thread), web-profile (vs account).
    #[arg(long)]
    pub scenario: String,
    /// The directory `holdfast bench seed --out` wrote (seed.json, data/).
    #[arg(long)]
    pub seed_dir: PathBuf,
    /// Where result.json, plot.svg and server.log go.
    #[arg(long)]
    pub out: PathBuf,
    /// A running server on loopback (on the seeded data); without it, bench starts one.
    #[arg(long)]
    pub target: Option<String>,
    /// Self-started server: `--guard on|off` (default off: measure the work, not the shedding).
    #[arg(long, default_value = "off")]
    pub guard: String,
    /// Self-started server: a TOML config for `holdfast serve --config`.
    #[arg(long)]
    pub server_config: Option<PathBuf>,
    /// Seconds per rate step.
    #[arg(long, default_value_t = 5)]
    pub step_s: u64,
    /// First offered rate of the ramp.
    #[arg(long, default_value_t = 250.0)]
    pub rate_start: f64,
    /// Each step offers this many times the rate of the one before.
    #[arg(long, default_value_t = 1.5)]
    pub rate_factor: f64,
    /// The ramp stops here even if every step passed.
    #[arg(long, default_value_t = 200_000.0)]
    pub rate_max: f64,
    /// Skip the ramp: run `--rounds` steps of `--step-s` at this rate, back to back.
    #[arg(long)]
    pub rate: Option<f64>,
    #[arg(long, default_value_t = 1)]
    pub rounds: usize,
    /// The p99 target the 70 % step is judged against (default 10 ms, 20 ms for posting).
    #[arg(long)]
    pub p99_target_ms: Option<f64>,
    /// A step whose p99 exceeds this is saturated (the ramp stops).
    #[arg(long, default_value_t = 100.0)]
    pub p99_limit_ms: f64,
    /// Keep-alive connections (= most requests in flight).
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// A request not answered this long after it was due is a failure.
    #[arg(long, default_value_t = 5_000)]
    pub request_timeout_ms: u64,
    /// Skip the /healthz ramp (no ratios).
    #[arg(long)]
    pub no_healthz: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Scenario {
    Healthz,
    /// `GET /api/v1/accounts/verify_credentials`: the token, one account.
    Verify,
    Home,
    Public,
    Account,
    Context,
    Notifications,
    Post,
    Mixed,
    HomeFollowees,
    PostFollowers,
    /// `GET /home` of the web UI, logged in with a session cookie.
    WebHome,
    /// What an app asks to show a thread: the status, then its context
    /// (alternating, so one view is two requests).
    Thread,
    /// A thread's web page (`/@user/id`: the status and its context), signed in.
    WebStatus,
    /// A profile's web page (`/@user`: the account and its statuses), signed in.
    WebProfile,
}

impl Scenario {
    fn parse(s: &str) -> Result<Scenario, String> {
        Ok(match s {
            "healthz" => Scenario::Healthz,
            "verify" => Scenario::Verify,
            "home" => Scenario::Home,
            "public" => Scenario::Public,
            "account" => Scenario::Account,
            "context" => Scenario::Context,
            "notifications" => Scenario::Notifications,
            "post" => Scenario::Post,
            "mixed" => Scenario::Mixed,
            "home-followees" => Scenario::HomeFollowees,
            "post-followers" => Scenario::PostFollowers,
            "web-home" => Scenario::WebHome,
            "thread" => Scenario::Thread,
            "web-status" => Scenario::WebStatus,
            "web-profile" => Scenario::WebProfile,
            other => return Err(format!("unknown scenario {other:?}; see --help")),
        })
    }
    fn writes(self) -> bool {
        matches!(self, Scenario::Post | Scenario::PostFollowers)
    }
    /// A web page, asked for with a viewer's session cookie.
    fn web(self) -> bool {
        matches!(
            self,
            Scenario::WebHome | Scenario::WebStatus | Scenario::WebProfile
        )
    }
}

/// Makes request number `k` of a step.
type Maker = Arc<dyn Fn(u64) -> Request + Send + Sync>;

#[derive(Serialize, Clone, Debug)]
pub struct Step {
    pub label: String,
    pub offered_per_s: f64,
    pub seconds: f64,
    pub sent: u64,
    pub ok: u64,
    pub failed: u64,
    pub achieved_per_s: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p999_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub failures: std::collections::BTreeMap<String, u64>,
    pub passed: bool,
}

#[derive(Serialize, Clone, Debug, Default)]
pub struct Series {
    pub label: String,
    pub steps: Vec<Step>,
    /// Best achieved rate of a passing step.
    pub capacity_per_s: Option<f64>,
    /// The step at 70 % of the capacity.
    pub at_70_percent: Option<Step>,
    pub p99_target_ms: f64,
    pub p99_target_met_at_70_percent: Option<bool>,
    /// capacity / healthz capacity in the same run.
    pub ratio_to_healthz: Option<f64>,
}

#[derive(Serialize)]
struct Result_ {
    scenario: String,
    args: RunArgs,
    seed: SeedSummary,
    target: String,
    healthz: Option<Series>,
    series: Vec<Series>,
    /// post-followers: per scale author, time until a new post shows on sampled follower homes.
    time_to_visible: Vec<Visible>,
    server_rss_max_mib: Option<f64>,
    started_unix_s: u64,
}

#[derive(Serialize)]
struct SeedSummary {
    users: usize,
    statuses: usize,
    follows: usize,
    max_followers: usize,
    database: &'static str,
}

#[derive(Serialize, Clone)]
struct Visible {
    followers: usize,
    trials: usize,
    /// Per trial: the slowest sampled follower, ms (None: never seen within the polls).
    slowest_ms: Vec<Option<f64>>,
    /// Per trial: from the post to the end of the fan-out job (the post in
    /// every follower's feed), as the server's `/metrics` reports its last
    /// finished job (None: no job, the author is merged on read, or none
    /// finished within the polls).
    fanout_lag_ms: Vec<Option<f64>>,
}

fn check(a: &RunArgs) -> Result<(), String> {
    let within = |ok: bool, what: &str| if ok { Ok(()) } else { Err(what.to_owned()) };
    within(
        (1..=STEP_MAX_S).contains(&a.step_s),
        &format!("--step-s must be 1..={STEP_MAX_S}"),
    )?;
    within(
        a.rate_start > 0.0 && a.rate_start <= RATE_MAX_PER_S,
        "--rate-start out of range",
    )?;
    within(
        a.rate_factor > 1.0 && a.rate_factor <= 10.0,
        "--rate-factor must be in (1, 10]",
    )?;
    within(
        a.rate_max >= a.rate_start && a.rate_max <= RATE_MAX_PER_S,
        "--rate-max out of range",
    )?;
    within(
        a.rate.is_none_or(|r| r > 0.0 && r <= RATE_MAX_PER_S),
        "--rate out of range",
    )?;
    within(
        (1..=ROUNDS_MAX).contains(&a.rounds),
        &format!("--rounds must be 1..={ROUNDS_MAX}"),
    )?;
    within(
        (1..=CONNECTIONS_MAX).contains(&a.connections),
        &format!("--connections must be 1..={CONNECTIONS_MAX}"),
    )?;
    within(
        (100..=60_000).contains(&a.request_timeout_ms),
        "--request-timeout-ms must be 100..=60000",
    )?;
    within(
        a.guard == "on" || a.guard == "off",
        "--guard must be on or off",
    )?;
    Ok(())
}

fn ms(us: Option<u64>) -> Option<f64> {
    us.map(|v| (v as f64 / 10.0).round() / 100.0)
}

/// One open-loop step at `rate` for `seconds`.
async fn step(target: &Target, make: &Maker, rate: f64, a: &RunArgs, label: &str) -> Step {
    let (seconds, connections) = (a.step_s, a.connections);
    let timeout = Duration::from_millis(a.request_timeout_ms);
    let start = Instant::now() + Duration::from_millis(20);
    let deadline = start + Duration::from_secs(seconds);
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (target, make, next) = (target.clone(), make.clone(), next.clone());
        workers.spawn(async move {
            let mut hist = Histogram::default();
            let mut failures: std::collections::BTreeMap<String, u64> = Default::default();
            let (mut sent, mut ok) = (0u64, 0u64);
            let mut conn = None;
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let due = start + Duration::from_secs_f64(k as f64 / rate);
                if due >= deadline {
                    break;
                }
                tokio::time::sleep_until(due).await;
                let req = make(k);
                let result = tokio::time::timeout_at(due + timeout, send(&target, &mut conn, &req))
                    .await
                    .unwrap_or(Err(ClientError::Timeout));
                let elapsed = due.elapsed();
                sent += 1;
                match classify(&result) {
                    (Outcome::Ok, _) => {
                        ok += 1;
                        hist.record(elapsed.as_micros() as u64);
                    }
                    (_, label) => {
                        conn = None;
                        *failures.entry(label).or_default() += 1;
                    }
                }
            }
            (hist, failures, sent, ok)
        });
    }
    let mut hist = Histogram::default();
    let mut failures: std::collections::BTreeMap<String, u64> = Default::default();
    let (mut sent, mut ok) = (0, 0);
    while let Some(Ok((h, f, s, o))) = workers.join_next().await {
        hist.merge(&h);
        for (k, v) in f {
            *failures.entry(k).or_default() += v;
        }
        sent += s;
        ok += o;
    }
    let secs = seconds as f64;
    let failed = sent - ok;
    let achieved = ok as f64 / secs;
    let p99_ms = ms(hist.percentile(0.99));
    let passed = sent > 0
        && (failed as f64) <= ERROR_SHARE_MAX * sent as f64
        && achieved >= ACHIEVED_SHARE_MIN * rate
        && p99_ms.is_some_and(|p| p <= a.p99_limit_ms);
    Step {
        label: label.to_owned(),
        offered_per_s: rate,
        seconds: secs,
        sent,
        ok,
        failed,
        achieved_per_s: (achieved * 10.0).round() / 10.0,
        p50_ms: ms(hist.percentile(0.50)),
        p99_ms,
        p999_ms: ms(hist.percentile(0.999)),
        max_ms: ms(hist.percentile(1.0)),
        failures,
        passed,
    }
}

/// Sends on this worker's keep-alive connection, opening one when needed (and once
/// more if a reused one was closed by the server meanwhile).
async fn send(
    target: &Target,
    conn: &mut Option<crate::siege::http::Conn>,
    req: &Request,
) -> Result<Response, ClientError> {
    let reused = conn.is_some();
    let mut c = match conn.take() {
        Some(c) => c,
        None => connect(target.addr, None).await?,
    };
    let mut result = c.send(&target.host, req).await;
    if reused && matches!(result, Err(ClientError::Closed | ClientError::Reset)) {
        c = connect(target.addr, None).await?;
        result = c.send(&target.host, req).await;
    }
    if matches!(&result, Ok(r) if r.keep_alive) {
        *conn = Some(c);
    }
    result
}

/// Ramps (or runs fixed rounds) and fills a series.
async fn series(
    a: &RunArgs,
    target: &Target,
    make: Maker,
    label: &str,
    p99_target_ms: f64,
) -> Series {
    let mut s = Series {
        label: label.to_owned(),
        p99_target_ms,
        ..Default::default()
    };
    if let Some(rate) = a.rate {
        for round in 0..a.rounds {
            let st = step(
                target,
                &make,
                rate,
                a,
                &format!("{label} round {}", round + 1),
            )
            .await;
            eprintln!("bench: {}", line(&st));
            s.steps.push(st);
        }
        s.capacity_per_s = s
            .steps
            .iter()
            .map(|st| st.achieved_per_s)
            .min_by(f64::total_cmp);
        return s;
    }
    let mut rate = a.rate_start;
    while rate <= a.rate_max {
        let st = step(target, &make, rate, a, label).await;
        eprintln!("bench: {}", line(&st));
        let passed = st.passed;
        s.steps.push(st);
        if !passed {
            break;
        }
        rate *= a.rate_factor;
    }
    s.capacity_per_s = s
        .steps
        .iter()
        .filter(|st| st.passed)
        .map(|st| st.achieved_per_s)
        .max_by(f64::total_cmp);
    if let Some(cap) = s.capacity_per_s {
        let st = step(
            target,
            &make,
            (cap * 0.7).max(1.0),
            a,
            &format!("{label} at 70 %"),
        )
        .await;
        eprintln!("bench: {}", line(&st));
        s.p99_target_met_at_70_percent =
            Some(st.p99_ms.is_some_and(|p| p <= p99_target_ms) && st.passed);
        s.at_70_percent = Some(st);
    }
    s
}

fn line(st: &Step) -> String {
    format!(
        "{:<28} offered {:>9.0}/s achieved {:>9.1}/s p50 {:>7} p99 {:>7} p999 {:>7} ms failed {} {}",
        st.label,
        st.offered_per_s,
        st.achieved_per_s,
        fmt_ms(st.p50_ms),
        fmt_ms(st.p99_ms),
        fmt_ms(st.p999_ms),
        st.failed,
        if st.passed { "pass" } else { "FAIL" }
    )
}

fn fmt_ms(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.2}")).unwrap_or_else(|| "-".into())
}

fn bearer(u: &SeedUser) -> Arc<str> {
    Arc::from(u.token.as_str())
}

/// The web scenarios' session cookies (`holdfast_session=…`, in viewer
/// order), made once by [`web_sessions`] before the server starts.
static WEB_COOKIES: std::sync::OnceLock<Vec<Arc<str>>> = std::sync::OnceLock::new();

/// The web pages of the seed's threads and busy accounts (`/@user/id`,
/// `/@user`), in the order of `threads` and `busy_accounts`: the pages are
/// addressed by username, which seed.json does not keep, so [`web_paths`]
/// asks the API once before the run.
static WEB_PATHS: std::sync::OnceLock<WebPaths> = std::sync::OnceLock::new();

#[derive(Default)]
struct WebPaths {
    threads: Vec<Arc<str>>,
    profiles: Vec<Arc<str>>,
}

/// Looks up (through the API, before anything is measured) who wrote each
/// seeded thread and each busy account's username.
async fn web_paths(target: &Target, seed: &SeedInfo) -> Result<WebPaths, String> {
    let token = bearer(seed.viewers.first().ok_or("seed.json has no viewers")?);
    let mut conn = None;
    let mut paths = WebPaths::default();
    for id in &seed.threads {
        let path = format!("/api/v1/statuses/{id}");
        let user = username_at(target, &mut conn, &token, &path, "/account/acct").await?;
        paths
            .threads
            .push(Arc::from(format!("/@{user}/{id}").as_str()));
    }
    for id in &seed.busy_accounts {
        let path = format!("/api/v1/accounts/{id}");
        let user = username_at(target, &mut conn, &token, &path, "/acct").await?;
        paths.profiles.push(Arc::from(format!("/@{user}").as_str()));
    }
    Ok(paths)
}

/// The username at `pointer` (a JSON pointer) in the API's answer to `path`.
async fn username_at(
    target: &Target,
    conn: &mut Option<crate::siege::http::Conn>,
    token: &Arc<str>,
    path: &str,
    pointer: &str,
) -> Result<String, String> {
    let r = send(target, conn, &Request::get(path).bearer(token))
        .await
        .map_err(|e| format!("{path}: {e:?}"))?;
    r.json()
        .as_ref()
        .and_then(|v| v.pointer(pointer))
        .and_then(|name| name.as_str())
        .map(str::to_owned)
        .ok_or_else(|| format!("{path}: no username in the answer"))
}

/// A web UI session for each seeded viewer, written straight into the seed's
/// SQLite store (seeded accounts have no password to log in with).
async fn web_sessions(
    seed_dir: &std::path::Path,
    seed: &SeedInfo,
) -> Result<Vec<Arc<str>>, String> {
    use holdfast_service::secrets::{hash_secret, random_secret};
    use holdfast_store::Store;
    if seed.database.is_some() {
        return Err(
            "web-home needs a SQLite seed (its sessions are written into the data directory)"
                .into(),
        );
    }
    let limits = holdfast_config::Limits::default();
    let store = holdfast_store::sqlite::SqliteStore::open(&seed_dir.join("data"), &limits)
        .map_err(|e| e.to_string())?;
    let mut cookies = Vec::with_capacity(seed.viewers.len());
    for v in &seed.viewers {
        let secret = random_secret();
        store
            .create_session(
                &hash_secret(&secret),
                v.id,
                limits.session_ttl_s,
                limits.sessions_per_account_max,
            )
            .await
            .map_err(|e| e.to_string())?;
        cookies.push(Arc::from(format!("holdfast_session={secret}").as_str()));
    }
    Ok(cookies)
}

/// The request maker for a read or write scenario over the seeded viewers.
fn maker(scenario: Scenario, seed: &SeedInfo) -> Result<Maker, String> {
    if seed.viewers.is_empty() {
        return Err("seed.json has no viewers".into());
    }
    let tokens: Arc<Vec<Arc<str>>> = Arc::new(seed.viewers.iter().map(bearer).collect());
    let cookies: Arc<Vec<Arc<str>>> = Arc::new(WEB_COOKIES.get().cloned().unwrap_or_default());
    if scenario.web() && cookies.is_empty() {
        return Err("web pages: no sessions were made".into());
    }
    let accounts = Arc::new(seed.busy_accounts.clone());
    let threads = Arc::new(seed.threads.clone());
    if threads.is_empty()
        && matches!(
            scenario,
            Scenario::Context | Scenario::Mixed | Scenario::Thread | Scenario::WebStatus
        )
    {
        return Err("seed.json has no threads (seed a larger instance)".into());
    }
    let pages = WEB_PATHS.get();
    let (thread_pages, profile_pages) = (
        Arc::new(pages.map(|p| p.threads.clone()).unwrap_or_default()),
        Arc::new(pages.map(|p| p.profiles.clone()).unwrap_or_default()),
    );
    if (scenario == Scenario::WebStatus && thread_pages.is_empty())
        || (scenario == Scenario::WebProfile && profile_pages.is_empty())
    {
        return Err("web pages: their addresses were not looked up".into());
    }
    let pick = move |k: u64, what: Scenario| -> Request {
        let token = &tokens[(k as usize) % tokens.len()];
        let spread = (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize;
        match what {
            Scenario::Healthz => Request::get("/healthz"),
            Scenario::Verify => Request::get("/api/v1/accounts/verify_credentials").bearer(token),
            Scenario::Home => Request::get("/api/v1/timelines/home?limit=20").bearer(token),
            Scenario::Public => Request::get("/api/v1/timelines/public?limit=20").bearer(token),
            Scenario::Account => Request::get(format!(
                "/api/v1/accounts/{}/statuses?limit=20",
                accounts[spread % accounts.len()]
            ))
            .bearer(token),
            Scenario::Context => Request::get(format!(
                "/api/v1/statuses/{}/context",
                threads[spread % threads.len()]
            ))
            .bearer(token),
            Scenario::Notifications => Request::get("/api/v1/notifications?limit=20").bearer(token),
            Scenario::WebHome => {
                Request::get("/home").cookie(&cookies[(k as usize) % cookies.len()])
            }
            // The same thread for both halves of a view (k and k + 1).
            Scenario::Thread => {
                let thread = threads
                    [((k / 2).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize % threads.len()];
                let path = if k % 2 == 0 {
                    format!("/api/v1/statuses/{thread}")
                } else {
                    format!("/api/v1/statuses/{thread}/context")
                };
                Request::get(path).bearer(token)
            }
            // The same spread as `context` and `account`, so each page and its
            // API call ask for the same threads and accounts.
            Scenario::WebStatus => Request::get(thread_pages[spread % thread_pages.len()].as_ref())
                .cookie(&cookies[(k as usize) % cookies.len()]),
            Scenario::WebProfile => {
                Request::get(profile_pages[spread % profile_pages.len()].as_ref())
                    .cookie(&cookies[(k as usize) % cookies.len()])
            }
            _ => Request::post_json(
                "/api/v1/statuses",
                &json!({"status": format!("bench post {k} with a little text #bench{}", k % 200)}),
            )
            .bearer(token),
        }
    };
    Ok(match scenario {
        // 90 % reads, 10 % writes: home 50, public 10, account 10, context 10, notifications 10, post 10.
        Scenario::Mixed => Arc::new(move |k| {
            let what = match k % 10 {
                0..=4 => Scenario::Home,
                5 => Scenario::Public,
                6 => Scenario::Account,
                7 => Scenario::Context,
                8 => Scenario::Notifications,
                _ => Scenario::Post,
            };
            pick(k / 10, what)
        }),
        s => Arc::new(move |k| pick(k, s)),
    })
}

/// Posts as a scale author and polls sampled follower homes until the post shows.
/// Opens home once for every viewer the scenario will use, before anything
/// is measured: a viewer's first home request builds its materialized feed
/// (a seeded instance has none), a one-time cost that is not the steady state.
async fn build_home_feeds(
    target: &Target,
    scenario: Scenario,
    seed: &SeedInfo,
    samples: &[Vec<SeedUser>],
) {
    let viewers: Vec<&SeedUser> = match scenario {
        Scenario::Home | Scenario::Mixed | Scenario::WebHome => seed.viewers.iter().collect(),
        Scenario::HomeFollowees => seed.scale_viewers.iter().map(|v| &v.user).collect(),
        Scenario::PostFollowers => samples.iter().flatten().collect(),
        // Nothing to build, but the line below still tells scripts that
        // measurement starts (bench/perf/run-home.sh waits for it).
        _ => Vec::new(),
    };
    let started = Instant::now();
    let mut conn = None;
    let mut failed = 0;
    for v in &viewers {
        let home = Request::get("/api/v1/timelines/home?limit=1").bearer(&bearer(v));
        if send(target, &mut conn, &home).await.is_err() {
            failed += 1;
        }
    }
    eprintln!(
        "bench: built {} home feeds in {:.1} s ({failed} failed)",
        viewers.len(),
        started.elapsed().as_secs_f64()
    );
}

/// Per scale author, the followers time-to-visible polls: seed.json's
/// samples, or else (older seeds) viewers that follow the author, found
/// through `GET /api/v1/accounts/relationships` as each viewer.
async fn visible_samples(target: &Target, seed: &SeedInfo) -> Vec<Vec<SeedUser>> {
    let mut samples: Vec<Vec<SeedUser>> = seed
        .scale_authors
        .iter()
        .map(|a| a.sample_followers.clone())
        .collect();
    if samples.iter().all(|s| !s.is_empty()) {
        return samples;
    }
    let query: Vec<String> = seed
        .scale_authors
        .iter()
        .map(|a| format!("id[]={}", a.user.id))
        .collect();
    let path = format!("/api/v1/accounts/relationships?{}", query.join("&"));
    let mut conn = None;
    for viewer in &seed.viewers {
        if samples.iter().all(|s| s.len() >= VISIBLE_SAMPLES) {
            break;
        }
        let Ok(r) = send(
            target,
            &mut conn,
            &Request::get(&path).bearer(&bearer(viewer)),
        )
        .await
        else {
            continue;
        };
        let Some(rels) = r.json().and_then(|v| v.as_array().cloned()) else {
            continue;
        };
        for (k, author) in seed.scale_authors.iter().enumerate() {
            let follows = rels.iter().any(|rel| {
                rel["id"] == author.user.id.to_string().as_str() && rel["following"] == true
            });
            if follows && samples[k].len() < VISIBLE_SAMPLES && author.sample_followers.is_empty() {
                samples[k].push(viewer.clone());
            }
        }
    }
    samples
}

/// The server's count of finished fan-out jobs and the lag of the last one
/// (`/metrics`), if it reports them.
async fn fanout_metrics(
    target: &Target,
    conn: &mut Option<crate::siege::http::Conn>,
) -> Option<(u64, u64)> {
    let r = send(target, conn, &Request::get("/metrics")).await.ok()?;
    let text = String::from_utf8_lossy(&r.body).into_owned();
    let value = |name: &str| {
        text.lines().find_map(|l| {
            l.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse::<u64>()
                .ok()
        })
    };
    Some((
        value("holdfast_home_fanout_jobs_total")?,
        value("holdfast_home_fanout_lag_ms_last")?,
    ))
}

/// Posts as `author`; how long until the post shows on every sampled
/// follower's home (ms), and until its fan-out job finished (ms, from the
/// server's metrics).
async fn time_to_visible(
    target: &Target,
    author: &SeedUser,
    followers: &[SeedUser],
    trial: usize,
) -> (Option<f64>, Option<f64>) {
    let mut conn = None;
    let jobs_before = fanout_metrics(target, &mut conn)
        .await
        .map(|(jobs, _)| jobs);
    let visible = visible_after_post(target, &mut conn, author, followers, trial).await;
    let mut lag = None;
    if let Some(before) = jobs_before {
        for _ in 0..VISIBLE_POLLS_MAX {
            match fanout_metrics(target, &mut conn).await {
                Some((jobs, last_ms)) if jobs > before => {
                    lag = Some(last_ms as f64);
                    break;
                }
                Some(_) => tokio::time::sleep(Duration::from_millis(VISIBLE_POLL_PAUSE_MS)).await,
                None => break,
            }
        }
    }
    (visible, lag)
}

async fn visible_after_post(
    target: &Target,
    conn: &mut Option<crate::siege::http::Conn>,
    author: &SeedUser,
    followers: &[SeedUser],
    trial: usize,
) -> Option<f64> {
    if followers.is_empty() {
        return None;
    }
    let req = Request::post_json(
        "/api/v1/statuses",
        &json!({"status": format!("visible check {trial} from {}", author.username)}),
    )
    .bearer(&bearer(author));
    let posted = Instant::now();
    let r = send(target, conn, &req).await.ok()?;
    let id = r.json()?.get("id")?.as_str()?.to_owned();
    let mut slowest = 0.0f64;
    for f in followers {
        let home = Request::get("/api/v1/timelines/home?limit=5").bearer(&bearer(f));
        let mut seen = false;
        for _ in 0..VISIBLE_POLLS_MAX {
            if let Ok(r) = send(target, conn, &home).await {
                if r.json()
                    .and_then(|v| v.as_array().cloned())
                    .is_some_and(|a| a.iter().any(|s| s["id"] == id.as_str()))
                {
                    seen = true;
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(VISIBLE_POLL_PAUSE_MS)).await;
        }
        if !seen {
            return None;
        }
        slowest = slowest.max(posted.elapsed().as_secs_f64() * 1000.0);
    }
    Some((slowest * 100.0).round() / 100.0)
}

pub async fn run(a: RunArgs) -> Result<(), String> {
    let scenario = Scenario::parse(&a.scenario)?;
    check(&a)?;
    let given = a.target.as_deref().map(parse_target).transpose()?;
    let seed = SeedInfo::read(&a.seed_dir)?;
    std::fs::create_dir_all(&a.out)
        .map_err(|e| format!("cannot create {}: {e}", a.out.display()))?;
    crate::siege::target::raise_open_files_limit();
    if scenario.web() {
        let _ = WEB_COOKIES.set(web_sessions(&a.seed_dir, &seed).await?);
    }
    let server = match &given {
        Some(_) => None,
        None => {
            let exe = std::env::current_exe()
                .map_err(|e| format!("cannot find the holdfast executable: {e}"))?;
            let data = match &seed.database {
                Some(url) => ServerData::Postgres(url.clone()),
                None => ServerData::Dir(a.seed_dir.join("data")),
            };
            let s = server::start_on(
                &exe,
                data,
                Some(&a.guard),
                a.server_config.as_deref(),
                &a.out,
                None,
            )?;
            if let Err(e) = s.wait_ready().await {
                s.stop().await;
                return Err(e);
            }
            eprintln!(
                "bench: started holdfast serve (pid {}) on {}",
                s.pid, s.target.addr
            );
            Some(s)
        }
    };
    let target = given
        .clone()
        .unwrap_or_else(|| server.as_ref().expect("a server").target.clone());
    let result = drive(&a, scenario, &seed, &target, server.as_ref().map(|s| s.pid)).await;
    if let Some(s) = &server {
        let status = s.stop().await;
        eprintln!("bench: stopped the server ({status})");
    }
    result
}

async fn drive(
    a: &RunArgs,
    scenario: Scenario,
    seed: &SeedInfo,
    target: &Target,
    pid: Option<u32>,
) -> Result<(), String> {
    let started_unix_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let rss_max = Arc::new(AtomicU64::new(0));
    let sampler = pid.map(|pid| {
        let rss_max = rss_max.clone();
        tokio::spawn(async move {
            loop {
                if let Some(k) = server::rss_kib(pid) {
                    rss_max.fetch_max(k, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(server::SAMPLE_PERIOD_MS)).await;
            }
        })
    });
    let target_ms = a
        .p99_target_ms
        .unwrap_or(if scenario.writes() { 20.0 } else { 10.0 });
    let samples = if scenario == Scenario::PostFollowers {
        visible_samples(target, seed).await
    } else {
        Vec::new()
    };
    build_home_feeds(target, scenario, seed, &samples).await;
    if matches!(scenario, Scenario::WebStatus | Scenario::WebProfile) {
        let _ = WEB_PATHS.set(web_paths(target, seed).await?);
    }
    let healthz = if a.no_healthz || scenario == Scenario::Healthz {
        None
    } else {
        let make: Maker = Arc::new(|_| Request::get("/healthz"));
        // The ceiling, always ramped (even for fixed-rate rounds).
        let ramp = RunArgs {
            rate: None,
            ..a.clone()
        };
        Some(series(&ramp, target, make, "healthz", target_ms).await)
    };
    let mut all = Vec::new();
    let mut visible = Vec::new();
    match scenario {
        Scenario::HomeFollowees => {
            for v in &seed.scale_viewers {
                let token = bearer(&v.user);
                let make: Maker = Arc::new(move |_| {
                    Request::get("/api/v1/timelines/home?limit=20").bearer(&token)
                });
                all.push(
                    series(
                        a,
                        target,
                        make,
                        &format!("home, {} followees", v.followees),
                        target_ms,
                    )
                    .await,
                );
            }
        }
        Scenario::PostFollowers => {
            for (author, sampled) in seed.scale_authors.iter().zip(&samples) {
                let token = bearer(&author.user);
                let make: Maker = Arc::new(move |k| {
                    Request::post_json(
                        "/api/v1/statuses",
                        &json!({"status": format!("scale post {k}")}),
                    )
                    .bearer(&token)
                });
                let fixed = RunArgs {
                    rate: Some(a.rate.unwrap_or(50.0)),
                    ..a.clone()
                };
                all.push(
                    series(
                        &fixed,
                        target,
                        make,
                        &format!("post, {} followers", author.followers),
                        target_ms,
                    )
                    .await,
                );
                let mut slowest = Vec::new();
                let mut lags = Vec::new();
                for trial in 0..VISIBLE_TRIALS {
                    let (shown, lag) = time_to_visible(target, &author.user, sampled, trial).await;
                    slowest.push(shown);
                    lags.push(lag);
                }
                eprintln!(
                    "bench: {} followers ({} sampled): time to visible {:?} ms, fan-out done {:?} ms",
                    author.followers,
                    sampled.len(),
                    slowest,
                    lags
                );
                visible.push(Visible {
                    followers: author.followers,
                    trials: VISIBLE_TRIALS,
                    slowest_ms: slowest,
                    fanout_lag_ms: lags,
                });
            }
        }
        s => {
            let label = a.scenario.clone();
            all.push(series(a, target, maker(s, seed)?, &label, target_ms).await);
        }
    }
    if let Some(h) = healthz.as_ref().and_then(|h| h.capacity_per_s) {
        for s in &mut all {
            s.ratio_to_healthz = s
                .capacity_per_s
                .map(|c| (c / h * 10_000.0).round() / 10_000.0);
        }
    }
    if let Some(t) = sampler {
        t.abort();
    }
    let rss = rss_max.load(Ordering::Relaxed);
    let result = Result_ {
        scenario: a.scenario.clone(),
        args: a.clone(),
        seed: SeedSummary {
            users: seed.users,
            statuses: seed.statuses,
            follows: seed.follows,
            max_followers: seed.max_followers,
            database: if seed.database.is_some() {
                "postgres"
            } else {
                "sqlite"
            },
        },
        target: format!("http://{}", target.addr),
        healthz,
        series: all,
        time_to_visible: visible,
        server_rss_max_mib: (rss > 0).then(|| (rss as f64 / 1024.0 * 10.0).round() / 10.0),
        started_unix_s,
    };
    let path = a.out.join("result.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&result).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    std::fs::write(a.out.join("plot.svg"), plot(&result))
        .map_err(|e| format!("cannot write the plot: {e}"))?;
    print!("{}", summary(&result));
    println!("result: {}", path.display());
    Ok(())
}

fn summary(r: &Result_) -> String {
    let mut out = format!(
        "bench {} on {} users ({}), {} statuses, {} follows\n",
        r.scenario, r.seed.users, r.seed.database, r.seed.statuses, r.seed.follows
    );
    let mut one = |s: &Series| {
        let at70 = s.at_70_percent.as_ref();
        out += &format!(
            "  {:<24} capacity {:>9}/s  ratio to /healthz {:>7}  at 70 %: p50 {} p99 {} p999 {} ms (target p99 {} ms: {})\n",
            s.label,
            s.capacity_per_s.map(|c| format!("{c:.0}")).unwrap_or_else(|| "none".into()),
            s.ratio_to_healthz.map(|x| format!("{:.2} %", x * 100.0)).unwrap_or_else(|| "-".into()),
            fmt_ms(at70.and_then(|x| x.p50_ms)),
            fmt_ms(at70.and_then(|x| x.p99_ms)),
            fmt_ms(at70.and_then(|x| x.p999_ms)),
            s.p99_target_ms,
            match s.p99_target_met_at_70_percent {
                Some(true) => "met",
                Some(false) => "missed",
                None => "-",
            }
        );
        if s.at_70_percent.is_none() {
            for st in &s.steps {
                out += &format!("    {}\n", line(st));
            }
        }
    };
    if let Some(h) = &r.healthz {
        one(h);
    }
    for s in &r.series {
        one(s);
    }
    for v in &r.time_to_visible {
        out += &format!(
            "  time to visible, {} followers: {:?} ms; fan-out job done: {:?} ms\n",
            v.followers, v.slowest_ms, v.fanout_lag_ms
        );
    }
    if let Some(m) = r.server_rss_max_mib {
        out += &format!("  server RSS max {m} MiB\n");
    }
    out
}

/// p99 against achieved rate for every series: where the curve turns up is the capacity.
fn plot(r: &Result_) -> String {
    let (w, h, left, bottom) = (760.0, 420.0, 70.0, 50.0);
    let series: Vec<&Series> = r.healthz.iter().chain(r.series.iter()).collect();
    let points: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.steps.iter())
        .filter_map(|st| Some((st.achieved_per_s.max(1.0), st.p99_ms?)))
        .collect();
    let x_max = points
        .iter()
        .map(|p| p.0)
        .fold(10.0, f64::max)
        .log10()
        .ceil();
    let x_min = points
        .iter()
        .map(|p| p.0)
        .fold(f64::MAX, f64::min)
        .max(1.0)
        .log10()
        .floor()
        .min(x_max - 1.0);
    let y_max = points
        .iter()
        .map(|p| p.1)
        .fold(1.0, f64::max)
        .min(1_000.0)
        .log10()
        .ceil();
    let y_min = -1.0f64;
    let sx = |x: f64| left + (x.max(1.0).log10() - x_min) / (x_max - x_min) * (w - left - 20.0);
    let sy = |y: f64| {
        h - bottom - (y.clamp(0.1, 1_000.0).log10() - y_min) / (y_max - y_min) * (h - bottom - 30.0)
    };
    let colours = [
        "#888", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
    ];
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/>"#
    );
    svg += &format!(
        r#"<text x="{left}" y="18" font-size="14">holdfast bench {} ({} users, {}): p99 against achieved rate (log-log)</text>"#,
        r.scenario, r.seed.users, r.seed.database
    );
    for e in (x_min as i32)..=(x_max as i32) {
        let x = sx(10f64.powi(e));
        svg += &format!(
            r##"<line x1="{x}" y1="30" x2="{x}" y2="{}" stroke="#eee"/><text x="{x}" y="{}" text-anchor="middle">{}</text>"##,
            h - bottom,
            h - bottom + 16.0,
            10f64.powi(e)
        );
    }
    for e in (y_min as i32)..=(y_max as i32) {
        let y = sy(10f64.powi(e));
        svg += &format!(
            r##"<line x1="{left}" y1="{y}" x2="{}" y2="{y}" stroke="#eee"/><text x="{}" y="{}" text-anchor="end">{} ms</text>"##,
            w - 20.0,
            left - 6.0,
            y + 4.0,
            10f64.powi(e)
        );
    }
    svg += &format!(
        r#"<text x="{}" y="{}" text-anchor="middle">achieved requests/s</text>"#,
        (w + left) / 2.0,
        h - 12.0
    );
    for (i, s) in series.iter().enumerate() {
        let c = colours[i % colours.len()];
        let pts: Vec<String> = s
            .steps
            .iter()
            .filter_map(|st| {
                Some(format!(
                    "{:.1},{:.1}",
                    sx(st.achieved_per_s),
                    sy(st.p99_ms?)
                ))
            })
            .collect();
        svg += &format!(
            r#"<polyline fill="none" stroke="{c}" stroke-width="2" points="{}"/>"#,
            pts.join(" ")
        );
        svg += &format!(
            r#"<text x="{}" y="{}" fill="{c}">{}</text>"#,
            left + 10.0,
            40.0 + 14.0 * i as f64,
            s.label
        );
    }
    svg += "</svg>\n";
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenarios_parse_and_unknown_ones_are_refused() {
        for s in [
            "healthz",
            "home",
            "public",
            "account",
            "context",
            "notifications",
            "post",
            "mixed",
            "home-followees",
            "post-followers",
        ] {
            assert!(Scenario::parse(s).is_ok(), "{s}");
        }
        assert!(Scenario::parse("homes").is_err());
    }

    #[test]
    fn mixed_is_ninety_ten() {
        let seed = SeedInfo {
            users: 10,
            statuses: 0,
            follows: 0,
            favourites: 0,
            notifications: 0,
            database: None,
            domain: "localhost".into(),
            seconds: 0.0,
            viewers: vec![SeedUser {
                id: 1,
                username: "a".into(),
                token: "t".into(),
            }],
            scale_viewers: vec![],
            scale_authors: vec![],
            busy_accounts: vec![1],
            threads: vec![2],
            max_followers: 0,
        };
        let make = maker(Scenario::Mixed, &seed).unwrap();
        let posts = (0..1_000).filter(|&k| make(k).method == "POST").count();
        assert_eq!(posts, 100);
    }
}
