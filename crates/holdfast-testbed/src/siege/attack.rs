//! Request floods: closed-loop workers, each rotating through many 127.1.x.y source
//! addresses, optionally paced to a total rate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::http::{connect, ClientError, Conn, Request};
use super::scenarios::Attack;
use super::stats::{Class, Recorder};
use super::target::{attacker_source, legit_source, Target, FLOOD_REGION};
use super::workload::{app_token, create_app, sign_up, Rng};
use super::Budget;

/// Requests a flood worker sends on one connection before moving to its next source address.
const REQUESTS_PER_CONN_MAX: u32 = 8;
/// App tokens the sign-up flood rotates through.
const SIGNUP_APP_TOKENS: usize = 4;
/// Pause after a failed connect, so a refusing server does not turn siege into a busy loop
/// that starves its own legitimate users of CPU.
const CONNECT_FAILURE_PAUSE_MS: u64 = 20;

/// What the attackers obtained during setup, like a real attacker would beforehand.
pub struct Kit {
    /// A token of an account the attacker controls (or stole).
    pub stolen_token: Option<Arc<str>>,
    /// An OAuth app, for password grants.
    pub app: Option<(String, String)>,
    /// Client tokens allowed to sign up.
    pub signup_tokens: Vec<Arc<str>>,
    /// E-mails of real users, for wrong-password log-ins.
    pub victim_emails: Vec<String>,
    /// Account ids to look at anonymously.
    pub profile_ids: Vec<String>,
    /// The large body, shared by every request.
    pub big_body: Arc<[u8]>,
}

/// Prepares what `floods` need, from attacker addresses.
pub async fn setup(
    target: &Target,
    floods: &[Attack],
    run_tag: &str,
    rng: &mut Rng,
    victim_emails: Vec<String>,
    profile_ids: Vec<String>,
    big_body_bytes: usize,
) -> Result<Kit, String> {
    let source = attacker_source(target, FLOOD_REGION, 0);
    let mut kit = Kit {
        stolen_token: None,
        app: None,
        signup_tokens: Vec::new(),
        victim_emails,
        profile_ids,
        big_body: Arc::from(&b""[..]),
    };
    if floods.contains(&Attack::StolenToken) || floods.contains(&Attack::BigBodies) {
        let account = sign_up(target, source, &format!("s{run_tag}victim"), rng.next_u64()).await?;
        kit.stolen_token = Some(account.token);
    }
    if floods.contains(&Attack::Login) || floods.contains(&Attack::Signup) {
        kit.app = Some(create_app(target, source).await?);
    }
    if floods.contains(&Attack::Signup) {
        for i in 0..SIGNUP_APP_TOKENS {
            let app = create_app(target, attacker_source(target, FLOOD_REGION, i + 1)).await?;
            kit.signup_tokens
                .push(app_token(target, attacker_source(target, FLOOD_REGION, i + 1), &app).await?);
        }
    }
    if floods.contains(&Attack::BigBodies) {
        // Valid JSON all the way through, so only its size is wrong.
        let mut body = Vec::with_capacity(big_body_bytes);
        body.extend_from_slice(b"{\"status\":\"");
        body.resize(big_body_bytes.saturating_sub(2).max(body.len()), b'a');
        body.extend_from_slice(b"\"}");
        kit.big_body = Arc::from(body);
    }
    Ok(kit)
}

/// Hands out send slots at a fixed total rate, shared by all workers.
pub struct Pacer {
    start: Instant,
    rate_per_s: f64,
    next: AtomicU64,
}

impl Pacer {
    pub fn new(start: Instant, rate_per_s: f64) -> Self {
        Pacer {
            start,
            rate_per_s,
            next: AtomicU64::new(0),
        }
    }

    /// Waits for the next slot; false once slots run past the deadline.
    async fn wait(&self, deadline: Instant) -> bool {
        let k = self.next.fetch_add(1, Ordering::Relaxed);
        let due = self.start + Duration::from_secs_f64(k as f64 / self.rate_per_s);
        if due >= deadline {
            return false;
        }
        tokio::time::sleep_until(due).await;
        true
    }
}

pub struct Flood {
    pub target: Target,
    pub kit: Kit,
    pub recorder: Arc<Recorder>,
    pub budget: Arc<Budget>,
    pub pacer: Option<Pacer>,
    pub request_timeout: Duration,
    /// Distinct source addresses the floods rotate through.
    pub source_ips: usize,
    /// Every flood connection comes from the legitimate users' shared address
    /// instead (`--attack-from-legit-address`).
    pub from_legit_address: bool,
}

impl Flood {
    fn request(&self, attack: Attack, rng: &mut Rng) -> Request {
        let kit = &self.kit;
        match attack {
            Attack::AnonymousRead => match (
                rng.below(3),
                kit.profile_ids.get(rng.below(kit.profile_ids.len())),
            ) {
                (1, Some(id)) => Request::get(format!("/api/v1/accounts/{id}")),
                (2, Some(id)) => Request::get(format!("/api/v1/accounts/{id}/statuses?limit=40")),
                _ => Request::get("/api/v1/timelines/public?limit=40"),
            },
            Attack::StolenToken => {
                let token = kit.stolen_token.as_ref().expect("setup made a token");
                if rng.below(2) == 0 {
                    Request::get("/api/v1/timelines/home?limit=40").bearer(token)
                } else {
                    Request::get("/api/v1/notifications?limit=80").bearer(token)
                }
            }
            Attack::Login => {
                let (id, secret) = kit.app.as_ref().expect("setup made an app");
                let email = kit
                    .victim_emails
                    .get(rng.below(kit.victim_emails.len()))
                    .map(String::as_str)
                    .unwrap_or("nobody@example.com");
                let wrong = format!("wrong-{:016x}", rng.next_u64());
                Request::post_form(
                    "/oauth/token",
                    &[
                        ("grant_type", "password"),
                        ("client_id", id),
                        ("client_secret", secret),
                        ("username", email),
                        ("password", &wrong),
                        ("scope", "read"),
                    ],
                )
            }
            Attack::Signup => {
                let token = &kit.signup_tokens[rng.below(kit.signup_tokens.len())];
                let name = format!("f{:x}", rng.next_u64() & 0xffff_ffff_ffff);
                let body = json!({"username": name, "email": format!("{name}@example.com"), "password": format!("pw-{name}"), "agreement": true, "locale": "en"});
                Request::post_json("/api/v1/accounts", &body).bearer(token)
            }
            Attack::BigBodies => {
                Request::post_bytes("/api/v1/statuses", "application/json", kit.big_body.clone())
                    .bearer(kit.stolen_token.as_ref().expect("setup made a token"))
            }
            Attack::FakeTokens => {
                // A new made-up token every time, on a route that needs one and
                // on one that ignores it.
                let token: Arc<str> =
                    format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64()).into();
                if rng.below(2) == 0 {
                    Request::get("/api/v1/timelines/home?limit=40").bearer(&token)
                } else {
                    Request::get("/api/v1/instance").bearer(&token)
                }
            }
            Attack::Slowloris | Attack::SlowBodies => {
                unreachable!("slowloris and slow bodies are not request floods")
            }
        }
    }

    /// One closed-loop worker: send, wait for the answer, send again, until the deadline or budget ends.
    async fn worker(
        self: Arc<Self>,
        attack: Attack,
        worker: usize,
        workers: usize,
        deadline: Instant,
        seed: u64,
    ) {
        let mut rng = Rng::new(seed);
        let mut conn: Option<Conn> = None;
        let mut address = worker;
        while Instant::now() < deadline && self.budget.take() {
            if let Some(pacer) = &self.pacer {
                if !pacer.wait(deadline).await {
                    break;
                }
            }
            let req = self.request(attack, &mut rng);
            let sent_at = Instant::now();
            let connection = match conn.take() {
                Some(c) if c.served < REQUESTS_PER_CONN_MAX => Ok(c),
                _ => {
                    // Each new connection comes from the worker's next address.
                    address = (address + workers) % self.source_ips.max(1);
                    let source = if self.from_legit_address {
                        legit_source(&self.target, 0)
                    } else {
                        attacker_source(&self.target, FLOOD_REGION, address)
                    };
                    let timeout = tokio::time::timeout(
                        self.request_timeout,
                        connect(self.target.addr, source),
                    );
                    timeout.await.unwrap_or(Err(ClientError::Timeout))
                }
            };
            let mut c = match connection {
                Ok(c) => c,
                Err(e) => {
                    self.recorder.record(
                        Class::Attacker,
                        attack.name(),
                        sent_at.into_std(),
                        sent_at.elapsed(),
                        &Err(e),
                    );
                    tokio::time::sleep(Duration::from_millis(CONNECT_FAILURE_PAUSE_MS)).await;
                    continue;
                }
            };
            let result =
                tokio::time::timeout(self.request_timeout, c.send(&self.target.host, &req))
                    .await
                    .unwrap_or(Err(ClientError::Timeout));
            self.recorder.record(
                Class::Attacker,
                attack.name(),
                sent_at.into_std(),
                sent_at.elapsed(),
                &result,
            );
            if matches!(&result, Ok(r) if r.keep_alive) {
                conn = Some(c);
            }
        }
    }

    /// Starts `concurrency` workers spread evenly over `floods`.
    pub fn spawn(
        self: &Arc<Self>,
        tasks: &mut JoinSet<()>,
        floods: &[Attack],
        concurrency: usize,
        deadline: Instant,
        rng: &mut Rng,
    ) {
        if floods.is_empty() {
            return;
        }
        for w in 0..concurrency.max(floods.len()) {
            let attack = floods[w % floods.len()];
            tasks.spawn(
                self.clone()
                    .worker(attack, w, concurrency, deadline, rng.next_u64()),
            );
        }
    }
}
