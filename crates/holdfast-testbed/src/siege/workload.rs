//! Legitimate users: signed up through the API at setup, then driven open-loop.
//!
//! Open loop: request k is due at `start + k / rate` whether or not earlier ones
//! finished, and its latency counts from that due time. A server that stalls
//! therefore shows up as queueing latency and timeouts, as real users feel it,
//! instead of silently slowing the load down (coordinated omission).

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::http::{connect, ClientError, Conn, Request, Response};
use super::stats::{Class, Recorder};
use super::target::{legit_source, Target};
use super::Budget;

/// Scopes every siege app and user asks for.
pub const SCOPES: &str = "read write follow push";
/// A setup request refused with 429/503 (or failing) is tried this many times.
const SETUP_ATTEMPTS_MAX: u32 = 20;
/// Longest wait between setup attempts, whatever Retry-After says.
const SETUP_RETRY_WAIT_MAX_MS: u64 = 3_000;
/// Wait between setup attempts when the server gives no Retry-After.
const SETUP_RETRY_WAIT_DEFAULT_MS: u64 = 250;
/// Deadline of one setup request (sign-ups hash a password and may queue).
const SETUP_REQUEST_TIMEOUT_MS: u64 = 15_000;
/// Sign-ups in flight at once during setup (each costs the server an argon2 hash).
const SETUP_CONCURRENCY: usize = 4;
/// Each user follows at most this many others (the next ones in a ring).
const FOLLOWS_PER_USER_MAX: usize = 50;
/// Status ids remembered as favourite targets.
const RECENT_STATUSES_MAX: usize = 256;
/// Idle keep-alive connections each user keeps.
pub const IDLE_CONNS_PER_USER_MAX: usize = 4;
/// Legit requests in flight at once; beyond it a due request is not sent and
/// counts as a failure of its own kind (`not_sent_in_flight_max`): the server
/// is at least this many requests behind. Also what bounds the legitimate
/// side's sockets (see `fit_open_files`).
pub const LEGIT_IN_FLIGHT_MAX: usize = 4_096;

/// A small, fast, seedable PRNG (SplitMix64): reproducible runs without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// A request during setup: fresh connection from `source`, retried while the server
/// refuses or fails, so that setup also works against a guarded server. Returns the JSON body.
pub async fn setup_call(
    target: &Target,
    source: Option<IpAddr>,
    req: &Request,
) -> Result<Value, String> {
    let mut last = String::new();
    for attempt in 1..=SETUP_ATTEMPTS_MAX {
        let attempt_result =
            tokio::time::timeout(Duration::from_millis(SETUP_REQUEST_TIMEOUT_MS), async {
                let mut conn = connect(target.addr, source).await?;
                conn.send(&target.host, req).await
            })
            .await
            .unwrap_or(Err(ClientError::Timeout));
        let mut wait_ms = SETUP_RETRY_WAIT_DEFAULT_MS;
        match attempt_result {
            Ok(r) if (200..300).contains(&r.status) => {
                return r.json().ok_or_else(|| {
                    format!(
                        "{} {} answered {} with a body that is not JSON",
                        req.method, req.path, r.status
                    )
                })
            }
            Ok(r) if matches!(r.status, 429 | 503) => {
                if let Some(s) = r.header("retry-after").and_then(|v| v.parse::<u64>().ok()) {
                    wait_ms = s.saturating_mul(1000).min(SETUP_RETRY_WAIT_MAX_MS);
                }
                last = format!("{}", r.status);
            }
            Ok(r) => {
                let body = String::from_utf8_lossy(&r.body);
                return Err(format!(
                    "{} {} answered {}: {}",
                    req.method,
                    req.path,
                    r.status,
                    body.chars().take(300).collect::<String>()
                ));
            }
            Err(e) => last = format!("{e:?}"),
        }
        if attempt < SETUP_ATTEMPTS_MAX {
            tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        }
    }
    Err(format!(
        "{} {} failed {SETUP_ATTEMPTS_MAX} times, last: {last}",
        req.method, req.path
    ))
}

fn field(v: &Value, name: &str) -> Result<String, String> {
    match &v[name] {
        Value::String(s) => Ok(s.clone()),
        other => Err(format!(
            "expected a string {name:?} in the answer, got {other}"
        )),
    }
}

/// Registers an OAuth app; returns (client_id, client_secret).
pub async fn create_app(
    target: &Target,
    source: Option<IpAddr>,
) -> Result<(String, String), String> {
    let app = setup_call(
        target,
        source,
        &Request::post_form(
            "/api/v1/apps",
            &[
                ("client_name", "holdfast-siege"),
                ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob"),
                ("scopes", SCOPES),
            ],
        ),
    )
    .await?;
    Ok((field(&app, "client_id")?, field(&app, "client_secret")?))
}

/// An app-level token (client_credentials), which is what may call `POST /api/v1/accounts`.
pub async fn app_token(
    target: &Target,
    source: Option<IpAddr>,
    app: &(String, String),
) -> Result<Arc<str>, String> {
    let t = setup_call(
        target,
        source,
        &Request::post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &app.0),
                ("client_secret", &app.1),
                ("scope", SCOPES),
            ],
        ),
    )
    .await?;
    Ok(Arc::from(field(&t, "access_token")?))
}

/// A signed-up account.
pub struct Account {
    pub username: String,
    pub email: String,
    pub id: String,
    pub token: Arc<str>,
}

/// Signs up exactly as a Mastodon app does: app → client token → account → verify.
pub async fn sign_up(
    target: &Target,
    source: Option<IpAddr>,
    username: &str,
    rng_word: u64,
) -> Result<Account, String> {
    let app = create_app(target, source).await?;
    let client_token = app_token(target, source, &app).await?;
    let email = format!("{username}@example.com");
    let password = format!("siege-{rng_word:016x}");
    let body = json!({"username": username, "email": email, "password": password, "agreement": true, "locale": "en"});
    let created = setup_call(
        target,
        source,
        &Request::post_json("/api/v1/accounts", &body).bearer(&client_token),
    )
    .await?;
    let token: Arc<str> = Arc::from(field(&created, "access_token")?);
    let me = setup_call(
        target,
        source,
        &Request::get("/api/v1/accounts/verify_credentials").bearer(&token),
    )
    .await?;
    Ok(Account {
        username: username.to_owned(),
        email,
        id: field(&me, "id")?,
        token,
    })
}

/// One legitimate user: an account, its own source address and its keep-alive connections.
pub struct User {
    pub account: Account,
    source: Option<IpAddr>,
    idle: Mutex<Vec<Conn>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Action {
    Home,
    Post,
    Favourite,
    Notifications,
    Public,
}

/// The mix, in percent: what people mostly do is read their home timeline.
const MIX_PERCENT: [(Action, usize); 5] = [
    (Action::Home, 50),
    (Action::Post, 15),
    (Action::Favourite, 15),
    (Action::Notifications, 10),
    (Action::Public, 10),
];

impl Action {
    fn pick(rng: &mut Rng) -> Action {
        let mut roll = rng.below(100);
        for (action, percent) in MIX_PERCENT {
            if roll < percent {
                return action;
            }
            roll -= percent;
        }
        unreachable!("the mix adds up to 100")
    }

    fn name(self) -> &'static str {
        match self {
            Action::Home => "home_timeline",
            Action::Post => "post_status",
            Action::Favourite => "favourite",
            Action::Notifications => "notifications",
            Action::Public => "public_timeline",
        }
    }
}

/// Everything the legitimate side needs while running.
pub struct Legit {
    pub users: Vec<Arc<User>>,
    recent: Mutex<VecDeque<String>>,
    target: Target,
    request_timeout: Duration,
}

/// Signs up `count` users (from their own addresses), has each follow the next ones
/// in a ring, and posts one status each so favourites have targets. With
/// `shared_address`, every user then sends from the first user's address, as
/// people behind one NAT do (they signed up elsewhere: sign-up has a tight
/// per-address budget).
pub async fn setup(
    target: &Target,
    count: usize,
    run_tag: &str,
    rng: &mut Rng,
    request_timeout: Duration,
    shared_address: bool,
) -> Result<Legit, String> {
    let gate = Arc::new(Semaphore::new(SETUP_CONCURRENCY));
    let mut jobs = JoinSet::new();
    for i in 0..count {
        let (target, gate, word) = (target.clone(), gate.clone(), rng.next_u64());
        let username = format!("s{run_tag}u{i}");
        jobs.spawn(async move {
            let _slot = gate.acquire_owned().await.map_err(|e| e.to_string())?;
            let source = legit_source(&target, i);
            let account = sign_up(&target, source, &username, word).await?;
            let source = if shared_address {
                legit_source(&target, 0)
            } else {
                source
            };
            Ok::<_, String>((
                i,
                User {
                    account,
                    source,
                    idle: Mutex::new(Vec::new()),
                },
            ))
        });
    }
    let mut users: Vec<Option<Arc<User>>> = (0..count).map(|_| None).collect();
    while let Some(joined) = jobs.join_next().await {
        let (i, user) = joined.map_err(|e| e.to_string())??;
        users[i] = Some(Arc::new(user));
    }
    let users: Vec<Arc<User>> = users
        .into_iter()
        .map(|u| u.expect("every sign-up joined"))
        .collect();

    // Follows and seed posts, still bounded by the same gate.
    let mut jobs = JoinSet::new();
    for (i, user) in users.iter().enumerate() {
        let follows = (count - 1).min(FOLLOWS_PER_USER_MAX);
        let others: Vec<String> = (1..=follows)
            .map(|d| users[(i + d) % count].account.id.clone())
            .collect();
        let (target, gate, user) = (target.clone(), gate.clone(), user.clone());
        jobs.spawn(async move {
            let _slot = gate.acquire_owned().await.map_err(|e| e.to_string())?;
            for id in others {
                let req = Request::post_json(format!("/api/v1/accounts/{id}/follow"), &json!({}))
                    .bearer(&user.account.token);
                setup_call(&target, user.source, &req).await?;
            }
            let post = Request::post_json(
                "/api/v1/statuses",
                &json!({"status": format!("hello from {}", user.account.username)}),
            )
            .bearer(&user.account.token);
            field(&setup_call(&target, user.source, &post).await?, "id")
        });
    }
    let mut recent = VecDeque::new();
    while let Some(joined) = jobs.join_next().await {
        recent.push_back(joined.map_err(|e| e.to_string())??);
    }
    Ok(Legit {
        users,
        recent: Mutex::new(recent),
        target: target.clone(),
        request_timeout,
    })
}

impl Legit {
    /// Runs the open-loop schedule until `deadline`, then waits for requests in flight
    /// (each bounded by the request timeout).
    pub async fn run(
        self: Arc<Self>,
        recorder: Arc<Recorder>,
        budget: Arc<Budget>,
        deadline: Instant,
        rate_per_s: f64,
        seed: u64,
    ) {
        let start: Instant = recorder.start().into();
        assert!(rate_per_s > 0.0 && !self.users.is_empty());
        let mut rng = Rng::new(seed);
        let in_flight = Arc::new(Semaphore::new(LEGIT_IN_FLIGHT_MAX));
        let mut tasks = JoinSet::new();
        for k in 0u64.. {
            let due = start + Duration::from_secs_f64(k as f64 / rate_per_s);
            if due >= deadline || !budget.take() {
                break;
            }
            tokio::time::sleep_until(due).await;
            let user = self.users[(k as usize) % self.users.len()].clone();
            let action = Action::pick(&mut rng);
            let pick = rng.next_u64();
            match in_flight.clone().try_acquire_owned() {
                Ok(permit) => {
                    let (me, recorder) = (self.clone(), recorder.clone());
                    tasks.spawn(async move {
                        let _permit = permit;
                        me.one(&recorder, &user, action, due, pick).await;
                    });
                }
                Err(_) => recorder.record(
                    Class::Legit,
                    action.name(),
                    due.into_std(),
                    // Charged as the timeout it would have become.
                    self.request_timeout,
                    &Err(ClientError::NotSent),
                ),
            }
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
    }

    fn request(&self, user: &User, action: Action, pick: u64) -> (Action, Request) {
        let token = &user.account.token;
        match action {
            Action::Home => (
                action,
                Request::get("/api/v1/timelines/home?limit=20").bearer(token),
            ),
            Action::Notifications => (
                action,
                Request::get("/api/v1/notifications?limit=20").bearer(token),
            ),
            Action::Public => (
                action,
                Request::get("/api/v1/timelines/public?limit=20").bearer(token),
            ),
            Action::Post => {
                let body = json!({"status": format!("siege status {pick:x} from {}", user.account.username)});
                (
                    action,
                    Request::post_json("/api/v1/statuses", &body).bearer(token),
                )
            }
            Action::Favourite => {
                let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
                match recent.get(pick as usize % recent.len().max(1)) {
                    Some(id) => (
                        action,
                        Request::post_json(format!("/api/v1/statuses/{id}/favourite"), &json!({}))
                            .bearer(token),
                    ),
                    None => (
                        Action::Home,
                        Request::get("/api/v1/timelines/home?limit=20").bearer(token),
                    ),
                }
            }
        }
    }

    async fn one(&self, recorder: &Recorder, user: &User, action: Action, due: Instant, pick: u64) {
        let (action, req) = self.request(user, action, pick);
        let result = tokio::time::timeout_at(due + self.request_timeout, self.send(user, &req))
            .await
            .unwrap_or(Err(ClientError::Timeout));
        recorder.record(
            Class::Legit,
            action.name(),
            due.into_std(),
            due.elapsed(),
            &result,
        );
        if let (Action::Post, Ok(r)) = (action, &result) {
            if let Some(Value::String(id)) = r.json().as_ref().map(|v| v["id"].clone()) {
                let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
                if recent.len() >= RECENT_STATUSES_MAX {
                    recent.pop_front();
                }
                recent.push_back(id);
            }
        }
    }

    /// Sends on an idle keep-alive connection if the user has one. A reused connection the
    /// server closed meanwhile is retried once on a fresh one, as every real client does.
    async fn send(&self, user: &User, req: &Request) -> Result<Response, ClientError> {
        let idle = user.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let (mut conn, reused) = match idle {
            Some(c) => (c, true),
            None => (connect(self.target.addr, user.source).await?, false),
        };
        let mut result = conn.send(&self.target.host, req).await;
        if reused && matches!(result, Err(ClientError::Closed | ClientError::Reset)) {
            conn = connect(self.target.addr, user.source).await?;
            result = conn.send(&self.target.host, req).await;
        }
        if matches!(&result, Ok(r) if r.keep_alive) {
            let mut idle = user.idle.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < IDLE_CONNS_PER_USER_MAX {
                idle.push(conn);
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_matches_the_brief() {
        assert_eq!(MIX_PERCENT.iter().map(|(_, p)| p).sum::<usize>(), 100);
        let mut rng = Rng::new(7);
        let mut counts = std::collections::HashMap::new();
        for _ in 0..100_000 {
            *counts.entry(Action::pick(&mut rng)).or_insert(0usize) += 1;
        }
        for (action, percent) in MIX_PERCENT {
            let share = counts[&action] as f64 / 1000.0;
            assert!(
                (share - percent as f64).abs() < 1.0,
                "{action:?}: {share}% vs {percent}%"
            );
        }
    }
}
