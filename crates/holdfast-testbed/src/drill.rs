//! `holdfast drill --cluster DIR --fault NAME --rounds N --out DIR`: runs a
//! workload through a local cluster's HAProxy, injects a fault, lets the
//! cluster heal, then checks everything that was acknowledged.
//!
//! Workload (per round, fresh accounts): writers post statuses, each with its
//! own `Idempotency-Key`, retrying a failed attempt (5xx, a dropped
//! connection) until the client's deadline; readers follow every writer and
//! read their home timelines; social clients follow and unfollow the writers
//! and favourite their statuses, retrying the same way. Every outcome is
//! recorded: acknowledged (with the status id), refused with a definite error
//! (4xx), or failed at the deadline.
//!
//! Check (a Jepsen-style set check, once the cluster is healthy again): every
//! acknowledged status is in its author's statuses exactly once (lost,
//! duplicated), and in every reader's home timeline (stale); nothing refused
//! with a definite error turned up later; every acknowledged follow, unfollow
//! and favourite is in effect (unless a later one on the same pair failed,
//! which leaves it unknown).
//!
//! Faults: `kill-db-primary` (host loss: Patroni and PostgreSQL, SIGKILL),
//! `kill-db-replica`, `kill-node` (a holdfast node), `restart-node` (graceful,
//! rolling through every node), `kill-etcd-member`, `pause-db-primary`
//! (SIGSTOP), `partition-db-primary` (the primary's relay cut, see relay.rs;
//! the check adds that the old primary turned read-only on its side). Killed
//! processes are started again after the workload, so the next round finds
//! three of each.
//!
//! Safety: the drill only acts on a cluster whose every recorded process is
//! running and was started from its directory (seen in /proc), on loopback;
//! every loop is bounded in count and time.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use serde::Serialize;

use crate::cluster::{self, ClusterState, MEMBERS};
use crate::siege::http::{connect, Conn, Request, Response};
use crate::siege::stats::percentile_sorted;

/// Pause between two attempts of one operation.
const RETRY_PAUSE_MS: u64 = 200;
/// One HTTP attempt's own bound (the operation's deadline bounds the retries).
const ATTEMPT_TIMEOUT_MS: u64 = 5_000;
/// Pages read per timeline in the check (40 statuses a page).
const CHECK_PAGES_MAX: usize = 200;
const CHECK_PAGE_LIMIT: usize = 40;
/// How long the cluster may take to heal after the workload.
const HEAL_TIMEOUT_MS: u64 = 120_000;
const POLL_MS: u64 = 250;
/// Most clients of each kind (each gets its own loopback source address).
const CLIENTS_MAX: usize = 200;
/// How long pause-db-primary freezes the primary, and partition-db-primary
/// cuts it off.
const PAUSE_S: u64 = 10;
/// How often the drill looks whether a cut-off primary still takes writes.
const DEMOTION_POLL_MS: u64 = 250;
/// Most rounds in one drill.
const ROUNDS_MAX: u32 = 100;
/// How often the drill asks Patroni who leads during a round.
const PATRONI_POLL_MS: u64 = 100;
/// How often the drill asks each surviving database member directly whether
/// it is out of recovery yet (on one open connection: a cheap query).
const PROBE_POLL_MS: u64 = 20;
/// One connection attempt, or one query, of that probe.
const PROBE_TIMEOUT_MS: u64 = 1_000;

#[derive(Args, Debug, Clone)]
pub struct DrillArgs {
    /// The cluster's directory (from `holdfast cluster up`).
    #[arg(long)]
    pub cluster: PathBuf,
    /// kill-db-primary, kill-db-replica, kill-node, restart-node, kill-etcd-member,
    /// pause-db-primary or partition-db-primary.
    #[arg(long)]
    pub fault: String,
    #[arg(long, default_value_t = 1)]
    pub rounds: u32,
    /// Where the report goes (report.json, summary.md, one JSON per round).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 8)]
    pub writers: usize,
    #[arg(long, default_value_t = 4)]
    pub readers: usize,
    /// Clients that follow and unfollow the writers and favourite their
    /// statuses during the round (checked like the posts).
    #[arg(long, default_value_t = 2)]
    pub socials: usize,
    /// Seconds of workload per round.
    #[arg(long, default_value_t = 20)]
    pub duration_s: u64,
    /// When the fault is injected, seconds into the workload.
    #[arg(long, default_value_t = 5)]
    pub fault_at_s: u64,
    /// A client's deadline for one operation, retries included.
    #[arg(long, default_value_t = 10)]
    pub deadline_s: u64,
    /// Operations per second per client (the nodes' per-token rate limit is 300 per 5 min).
    #[arg(long, default_value_t = 4.0)]
    pub rate: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    KillDbPrimary,
    KillDbReplica,
    KillNode,
    RestartNode,
    KillEtcdMember,
    PauseDbPrimary,
    PartitionDbPrimary,
}

impl Fault {
    pub fn parse(s: &str) -> Result<Fault, String> {
        Ok(match s {
            "kill-db-primary" => Fault::KillDbPrimary,
            "kill-db-replica" => Fault::KillDbReplica,
            "kill-node" => Fault::KillNode,
            "restart-node" => Fault::RestartNode,
            "kill-etcd-member" => Fault::KillEtcdMember,
            "pause-db-primary" => Fault::PauseDbPrimary,
            "partition-db-primary" => Fault::PartitionDbPrimary,
            _ => return Err(format!("unknown fault {s:?}: kill-db-primary, kill-db-replica, kill-node, restart-node, kill-etcd-member, pause-db-primary or partition-db-primary")),
        })
    }
}

#[derive(Serialize, Default, Debug)]
pub struct RoundReport {
    pub round: u32,
    pub fault: String,
    pub fault_detail: String,
    /// When the fault was injected, ms since the workload started.
    pub fault_at_ms: u64,
    pub writes_acknowledged: usize,
    pub writes_refused: usize,
    pub writes_failed: usize,
    pub reads_ok: usize,
    pub reads_failed: usize,
    /// Operations that failed at their deadline, by endpoint and last status.
    pub failed_by_endpoint: BTreeMap<String, usize>,
    /// Attempts that failed (and were retried, or not), by endpoint and status.
    pub attempt_errors: BTreeMap<String, usize>,
    /// Longest time without an acknowledged write after the fault (ms).
    pub write_unavailable_ms: u64,
    pub write_latency_ms_p50: Option<u64>,
    pub write_latency_ms_p99: Option<u64>,
    pub read_latency_ms_p50: Option<u64>,
    pub read_latency_ms_p99: Option<u64>,
    pub lost: usize,
    pub duplicated: usize,
    pub stale: usize,
    pub refused_but_present: usize,
    /// Follows, unfollows and favourites acknowledged, and failed at their deadline.
    pub social_acknowledged: usize,
    pub social_failed: usize,
    /// Acknowledged follows or unfollows not in effect after the fault.
    pub follows_lost: usize,
    /// Acknowledged favourites not in effect after the fault.
    pub favourites_lost: usize,
    /// partition-db-primary: when the cut-off primary, seen from its own side
    /// of the partition, stopped taking writes (read-only, or shut down as
    /// Patroni does when it loses etcd), ms after the cut; None if it still
    /// took writes when the partition healed (a split brain risk).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_primary_writes_stopped_after_ms: Option<u64>,
    pub heal_ms: u64,
    /// Standbys streaming from the primary (its `pg_stat_replication`) just
    /// before the fault: a round counts only if the cluster was whole.
    pub standbys_at_fault: usize,
    /// Where the write stall goes, from Patroni's view polled during the
    /// round (ms after the fault): when it first named a running leader other
    /// than the one before the fault, and when it first named a running
    /// synchronous standby of that new leader (strict synchronous mode: from
    /// then on commits can be acknowledged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_leader_after_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_sync_standby_after_ms: Option<u64>,
    /// The first post acknowledged after the fault, ms after it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_write_after_ms: Option<u64>,
    /// The write stall split in two, from the drill's own probe of every
    /// member but the old primary, on its own port (a connection kept open,
    /// asked `pg_is_in_recovery()` every PROBE_POLL_MS, then one commit that
    /// wrote WAL): when a new primary was out of recovery, and when it first
    /// acknowledged a commit (strict synchronous mode: once a standby streams
    /// from it), ms after the fault. That is Patroni's part (detection,
    /// leader race, promotion) and PostgreSQL's (a standby re-attaching).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_primary_promoted_after_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_primary_commits_after_ms: Option<u64>,
    /// The promise behind "lost 0" in a double failure: when the new
    /// primary acknowledged the probe's first commit, how many synchronous
    /// standbys had already applied it (`pg_stat_replication`: `sync_state`
    /// sync, `replay_lsn` past the commit's start). 0 means a commit was
    /// acknowledged by one server alone, which one more failure would lose:
    /// the round fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_primary_first_commit_standbys: Option<u64>,
    /// Writes the nodes held, after the fault, until a new primary had a
    /// synchronous standby (`holdfast_store_sync_standby_waits_total`, summed
    /// over the nodes' /metrics: before the fault and after the round).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub writes_held_for_sync_standby: Option<u64>,
    /// holdfast's part: from the moment the new primary acknowledged its
    /// first commit to the acknowledged post that ended the write stall, as
    /// the client saw it (reconnect, retry, HAProxy, the HTTP answer). Can be
    /// slightly negative: a node's commit and the probe's wait for the same
    /// standby, and either may be answered first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holdfast_part_ms: Option<i64>,
    /// How many timelines the primary moved on between the fault and the
    /// heal, per Patroni (a promotion, or a demotion and promotion again):
    /// 0 means the primary rode out the fault (kill-etcd-member should).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline_changes: Option<u64>,
    /// The leader after the round is on an older timeline than one seen
    /// during it (see `timeline_went_back`): the round fails.
    pub leader_timeline_went_back: bool,
    /// Per second since the start: [second, acknowledged writes, failed attempts, reads ok].
    pub timeline: Vec<[u64; 4]>,
    /// Every attempt, as tab-separated lines (written to `round-NNN-attempts.tsv`).
    #[serde(skip)]
    pub attempts_tsv: String,
    pub passed: bool,
}

pub async fn run(args: DrillArgs) -> Result<(), String> {
    let fault = Fault::parse(&args.fault)?;
    if args.rounds == 0 || args.rounds > ROUNDS_MAX {
        return Err(format!("--rounds must be 1..={ROUNDS_MAX}"));
    }
    if args.writers == 0
        || args.writers > CLIENTS_MAX
        || args.readers > CLIENTS_MAX
        || args.socials > CLIENTS_MAX
    {
        return Err(format!(
            "--writers 1..={CLIENTS_MAX}, --readers and --socials 0..={CLIENTS_MAX}"
        ));
    }
    if args.fault_at_s >= args.duration_s || !(args.rate > 0.0 && args.rate <= 50.0) {
        return Err("--fault-at-s must be before the end (--duration-s); --rate 0..50".into());
    }
    let dir = std::path::absolute(&args.cluster).map_err(|e| e.to_string())?;
    let mut state = ClusterState::load(&dir)?;
    check_local(&state)?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let run_id = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        % 100_000) as u32;
    let mut reports = Vec::new();
    for round in 1..=args.rounds {
        eprintln!("round {round}/{}: {}", args.rounds, args.fault);
        let report = round_once(&args, fault, &mut state, run_id, round).await?;
        let path = args.out.join(format!("round-{round:03}.json"));
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&report).unwrap_or_default(),
        )
        .map_err(|e| format!("{}: {e}", path.display()))?;
        let tsv = args.out.join(format!("round-{round:03}-attempts.tsv"));
        std::fs::write(&tsv, &report.attempts_tsv)
            .map_err(|e| format!("{}: {e}", tsv.display()))?;
        let svg = args.out.join(format!("round-{round:03}.svg"));
        std::fs::write(&svg, timeline_svg(&report))
            .map_err(|e| format!("{}: {e}", svg.display()))?;
        eprintln!(
            "  acked {} lost {} dup {} stale {} | follows/favs acked {} lost {} | failed writes {} follows/favs {} reads {} | write stall {} ms | read p99 {:?} ms | {}",
            report.writes_acknowledged,
            report.lost,
            report.duplicated,
            report.stale,
            report.social_acknowledged,
            report.follows_lost + report.favourites_lost,
            report.writes_failed,
            report.social_failed,
            report.reads_failed,
            report.write_unavailable_ms,
            report.read_latency_ms_p99,
            if report.passed { "pass" } else { "FAIL" }
        );
        eprintln!(
            "  after the fault: Patroni named a new leader at {} ms, its synchronous standby at {} ms; first write acknowledged at {} ms",
            opt_ms(report.new_leader_after_ms),
            opt_ms(report.new_sync_standby_after_ms),
            opt_ms(report.first_write_after_ms),
        );
        if let Some(commits) = report.new_primary_commits_after_ms {
            eprintln!(
                "  the new primary was out of recovery at {} ms and acknowledged a commit at {commits} ms; holdfast's part after that: {} ms",
                opt_ms(report.new_primary_promoted_after_ms),
                report
                    .holdfast_part_ms
                    .map_or_else(|| "-".into(), |v| v.to_string()),
            );
        }
        if let Some(n) = report.new_primary_first_commit_standbys {
            eprintln!(
                "  the new primary's first commit was on {n} synchronous standby(s) when acknowledged; the nodes held {} write(s) for a synchronous standby",
                opt_ms(report.writes_held_for_sync_standby)
            );
        }
        if let Some(n) = report.timeline_changes {
            eprintln!("  the primary moved on {n} timeline(s)");
        }
        if report.standbys_at_fault < MEMBERS - 1 {
            eprintln!(
                "  the cluster was not whole at the fault: {} standby(s) streaming from the primary",
                report.standbys_at_fault
            );
        }
        if let Some(ms) = report.old_primary_writes_stopped_after_ms {
            eprintln!("  the cut-off primary stopped taking writes {ms} ms after the cut");
        }
        reports.push(report);
    }
    let summary = summary_table(&args.fault, &reports);
    std::fs::write(args.out.join("summary.md"), &summary).map_err(|e| e.to_string())?;
    std::fs::write(
        args.out.join("report.json"),
        serde_json::to_string_pretty(&reports).unwrap_or_default(),
    )
    .map_err(|e| e.to_string())?;
    println!("{summary}");
    if reports.iter().all(|r| r.passed) {
        Ok(())
    } else {
        Err("the drill found lost, duplicated or stale writes, or failed reads (or a round began on a cluster without both standbys streaming)".into())
    }
}

/// Refuses any cluster it cannot see is ours and local: every recorded
/// process running and started from the cluster's directory.
fn check_local(state: &ClusterState) -> Result<(), String> {
    let dir = state.dir.to_string_lossy().to_string();
    for (name, pid) in &state.pids {
        if !cluster::alive(*pid) {
            return Err(format!("{name} (pid {pid}) is not running: start the cluster with `holdfast cluster up --dir {dir}`"));
        }
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        if !cmdline.contains(&dir) {
            return Err(format!(
                "pid {pid} ({name}) was not started from {dir}: refusing to touch it"
            ));
        }
    }
    if state.pids.len() < 3 * MEMBERS + 1 {
        return Err("the cluster is incomplete".into());
    }
    Ok(())
}

/// A client with its own loopback source address, keeping its connection.
struct Client {
    addr: SocketAddr,
    host: String,
    source: IpAddr,
    conn: Option<Conn>,
    token: Option<Arc<str>>,
}

impl Client {
    fn new(port: u16, source: IpAddr) -> Client {
        Client {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            host: format!("127.0.0.1:{port}"),
            source,
            conn: None,
            token: None,
        }
    }

    /// One attempt: a status, or why not.
    async fn send(&mut self, mut req: Request) -> Result<Response, String> {
        if let Some(t) = &self.token {
            req = req.bearer(t);
        }
        if self.conn.is_none() {
            self.conn = Some(
                connect(self.addr, Some(self.source))
                    .await
                    .map_err(|e| format!("connect: {e:?}"))?,
            );
        }
        let conn = self.conn.as_mut().expect("just connected");
        match tokio::time::timeout(
            Duration::from_millis(ATTEMPT_TIMEOUT_MS),
            conn.send(&self.host, &req),
        )
        .await
        {
            Ok(Ok(r)) => {
                if !r.keep_alive {
                    self.conn = None;
                }
                Ok(r)
            }
            Ok(Err(e)) => {
                self.conn = None;
                Err(format!("{e:?}")
                    .split('(')
                    .next()
                    .unwrap_or("error")
                    .to_owned())
            }
            Err(_) => {
                self.conn = None;
                Err("timeout".into())
            }
        }
    }

    /// Retries until a 2xx, a definite refusal (4xx), or the deadline.
    async fn operation(
        &mut self,
        req: Request,
        deadline: Duration,
        endpoint: &'static str,
        log: &Log,
    ) -> Outcome {
        let started = Instant::now();
        loop {
            let sent_ms = Log::now_ms(&log.lock());
            let sent = Instant::now();
            let answer = self.send(req.clone()).await;
            log.attempt(Attempt {
                sent_ms,
                took_ms: sent.elapsed().as_millis() as u64,
                endpoint,
                outcome: match &answer {
                    Ok(r) => r.status.to_string(),
                    Err(e) => e.clone(),
                },
                node: match &answer {
                    Ok(r) => r.header("x-served-by").unwrap_or("-").to_owned(),
                    Err(_) => "-".into(),
                },
            });
            let last = match answer {
                Ok(r) if (200..300).contains(&r.status) => {
                    return Outcome::Ok(r, started.elapsed())
                }
                Ok(r) if (400..500).contains(&r.status) && r.status != 429 && r.status != 408 => {
                    log.attempt_error(endpoint, &r.status.to_string());
                    return Outcome::Refused(r.status);
                }
                Ok(r) => r.status.to_string(),
                Err(e) => e,
            };
            log.attempt_error(endpoint, &last);
            if started.elapsed() + Duration::from_millis(RETRY_PAUSE_MS) >= deadline {
                return Outcome::Failed(last);
            }
            tokio::time::sleep(Duration::from_millis(RETRY_PAUSE_MS)).await;
        }
    }
}

enum Outcome {
    Ok(Response, Duration),
    Refused(u16),
    Failed(String),
}

/// What every client saw, shared.
#[derive(Default)]
struct Log {
    inner: Mutex<LogInner>,
}

#[derive(Default)]
struct LogInner {
    /// key -> (status id, ack time since start in ms)
    acked: HashMap<String, (String, u64)>,
    /// Acknowledged status ids in the order acknowledged (what socials favourite).
    acked_ids: Vec<String>,
    social_acked: usize,
    social_failed: usize,
    refused: Vec<String>,
    failed_writes: usize,
    reads_ok: usize,
    reads_failed: usize,
    failed_by_endpoint: BTreeMap<String, usize>,
    attempt_errors: BTreeMap<String, usize>,
    /// (time since start ms, latency ms)
    write_latency: Vec<(u64, u64)>,
    read_latency: Vec<(u64, u64)>,
    /// per-second [acked, attempt errors, reads ok, reads failed]
    timeline: BTreeMap<u64, [u64; 4]>,
    /// Every attempt of every operation (bounded: the round's duration,
    /// rate and deadline bound the attempts), for `round-NNN-attempts.tsv`.
    attempts: Vec<Attempt>,
    start: Option<Instant>,
}

/// One HTTP attempt as a client saw it.
struct Attempt {
    /// When it was sent, ms since the workload started.
    sent_ms: u64,
    took_ms: u64,
    endpoint: &'static str,
    /// The status, or why there was none (`timeout`, a connection error).
    outcome: String,
    /// The node that answered (HAProxy's `X-Served-By`), or `-`.
    node: String,
}

impl Log {
    fn lock(&self) -> std::sync::MutexGuard<'_, LogInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now_ms(inner: &LogInner) -> u64 {
        inner.start.map_or(0, |s| s.elapsed().as_millis() as u64)
    }

    fn attempt(&self, a: Attempt) {
        self.lock().attempts.push(a);
    }

    fn attempt_error(&self, endpoint: &str, what: &str) {
        let mut l = self.lock();
        *l.attempt_errors
            .entry(format!("{endpoint} {what}"))
            .or_default() += 1;
        let t = Self::now_ms(&l) / 1000;
        l.timeline.entry(t).or_default()[1] += 1;
    }
}

struct Account {
    client: Client,
    id: String,
}

async fn sign_up(port: u16, source: IpAddr, username: &str) -> Result<Account, String> {
    let mut c = Client::new(port, source);
    let fail = |what: &str, r: Result<Response, String>| match r {
        Ok(r) => format!("{what}: {} {}", r.status, String::from_utf8_lossy(&r.body)),
        Err(e) => format!("{what}: {e}"),
    };
    let app = c
        .send(Request::post_form(
            "/api/v1/apps",
            &[
                ("client_name", "holdfast-drill"),
                ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob"),
                ("scopes", "read write follow"),
            ],
        ))
        .await;
    let app = match app {
        Ok(r) if r.status == 200 => r.json().ok_or("app: not JSON")?,
        other => return Err(fail("register an app", other)),
    };
    let field = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let token = c
        .send(Request::post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &field(&app, "client_id")),
                ("client_secret", &field(&app, "client_secret")),
                ("scope", "read write follow"),
            ],
        ))
        .await;
    let app_token: Arc<str> = match token {
        Ok(r) if r.status == 200 => {
            field(&r.json().ok_or("token: not JSON")?, "access_token").into()
        }
        other => return Err(fail("app token", other)),
    };
    let body = serde_json::json!({
        "username": username, "email": format!("{username}@drill.invalid"),
        "password": format!("drill-{username}-password"), "agreement": true, "locale": "en",
    });
    let r = c
        .send(Request::post_json("/api/v1/accounts", &body).bearer(&app_token))
        .await;
    let user_token: Arc<str> = match r {
        Ok(r) if r.status == 200 => {
            field(&r.json().ok_or("sign-up: not JSON")?, "access_token").into()
        }
        other => return Err(fail("sign up", other)),
    };
    c.token = Some(user_token);
    let me = c
        .send(Request::get("/api/v1/accounts/verify_credentials"))
        .await;
    let id = match me {
        Ok(r) if r.status == 200 => field(&r.json().ok_or("me: not JSON")?, "id"),
        other => return Err(fail("verify credentials", other)),
    };
    Ok(Account { client: c, id })
}

fn source_address(run_id: u32, round: u32, kind: u8, index: usize) -> IpAddr {
    // 127.X.Y.Z: X from the run and round (so a later drill does not reuse an
    // address whose sign-up budget is spent), Y the kind, Z the index.
    let x = 100 + ((run_id + round) % 100) as u8;
    IpAddr::V4(Ipv4Addr::new(127, x, kind, (index + 2) as u8))
}

async fn round_once(
    args: &DrillArgs,
    fault: Fault,
    state: &mut ClusterState,
    run_id: u32,
    round: u32,
) -> Result<RoundReport, String> {
    let port = state.haproxy_port;
    // A whole cluster first (the previous round's heal, or whatever ran
    // before): a fault on top of an unhealed one measures a double fault.
    wait_healthy(state).await?;
    // Accounts: writers, then readers who follow every writer.
    let mut writers = Vec::new();
    for i in 0..args.writers {
        let name = format!("d{run_id}r{round}w{i}");
        writers.push(sign_up(port, source_address(run_id, round, 1, i), &name).await?);
    }
    let mut readers = Vec::new();
    for i in 0..args.readers {
        let name = format!("d{run_id}r{round}r{i}");
        let mut reader = sign_up(port, source_address(run_id, round, 2, i), &name).await?;
        for w in &writers {
            let r = reader
                .client
                .send(Request::post_form(
                    format!("/api/v1/accounts/{}/follow", w.id),
                    &[],
                ))
                .await;
            if !matches!(&r, Ok(r) if r.status == 200) {
                return Err(format!("follow failed: {:?}", r.map(|r| r.status)));
            }
        }
        readers.push(reader);
    }
    let mut socials = Vec::new();
    for i in 0..args.socials {
        let name = format!("d{run_id}r{round}s{i}");
        socials.push(sign_up(port, source_address(run_id, round, 4, i), &name).await?);
    }
    let writer_ids: Arc<[String]> = writers.iter().map(|w| w.id.clone()).collect();

    let log = Arc::new(Log::default());
    log.lock().start = Some(Instant::now());
    let started = Instant::now();
    let end = started + Duration::from_secs(args.duration_s);
    let deadline = Duration::from_secs(args.deadline_s);
    let period = Duration::from_secs_f64(1.0 / args.rate);
    let mut tasks = Vec::new();
    for (i, mut w) in writers.into_iter().enumerate() {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let mut k = 0u64;
            while Instant::now() < end {
                let next = Instant::now() + period;
                let key = format!("drill-{run_id}-{round}-{i}-{k}");
                let mut req = Request::post_json(
                    "/api/v1/statuses",
                    &serde_json::json!({"status": format!("drill write {key}")}),
                );
                req.idempotency_key = Some(key.clone());
                match w
                    .client
                    .operation(req, deadline, "POST /api/v1/statuses", &log)
                    .await
                {
                    Outcome::Ok(r, took) => {
                        let id = r
                            .json()
                            .and_then(|v| v["id"].as_str().map(str::to_owned))
                            .unwrap_or_default();
                        let mut l = log.lock();
                        let t = Log::now_ms(&l);
                        l.acked_ids.push(id.clone());
                        l.acked.insert(key, (id, t));
                        l.write_latency.push((t, took.as_millis() as u64));
                        l.timeline.entry(t / 1000).or_default()[0] += 1;
                    }
                    Outcome::Refused(status) => {
                        let mut l = log.lock();
                        l.refused.push(key);
                        *l.failed_by_endpoint
                            .entry(format!("POST /api/v1/statuses {status}"))
                            .or_default() += 1;
                    }
                    Outcome::Failed(last) => {
                        let mut l = log.lock();
                        l.failed_writes += 1;
                        *l.failed_by_endpoint
                            .entry(format!("POST /api/v1/statuses {last}"))
                            .or_default() += 1;
                    }
                }
                k += 1;
                tokio::time::sleep_until(next.into()).await;
            }
            (w, k)
        }));
    }
    let mut read_tasks = Vec::new();
    for mut r in readers.into_iter() {
        let log = log.clone();
        read_tasks.push(tokio::spawn(async move {
            while Instant::now() < end {
                let next = Instant::now() + period;
                let req = Request::get("/api/v1/timelines/home?limit=20");
                match r
                    .client
                    .operation(req, deadline, "GET /api/v1/timelines/home", &log)
                    .await
                {
                    Outcome::Ok(_, took) => {
                        let mut l = log.lock();
                        let t = Log::now_ms(&l);
                        l.reads_ok += 1;
                        l.read_latency.push((t, took.as_millis() as u64));
                        l.timeline.entry(t / 1000).or_default()[2] += 1;
                    }
                    Outcome::Refused(status) => {
                        let mut l = log.lock();
                        l.reads_failed += 1;
                        *l.failed_by_endpoint
                            .entry(format!("GET /api/v1/timelines/home {status}"))
                            .or_default() += 1;
                    }
                    Outcome::Failed(last) => {
                        let mut l = log.lock();
                        l.reads_failed += 1;
                        let t = Log::now_ms(&l);
                        l.timeline.entry(t / 1000).or_default()[3] += 1;
                        *l.failed_by_endpoint
                            .entry(format!("GET /api/v1/timelines/home {last}"))
                            .or_default() += 1;
                    }
                }
                tokio::time::sleep_until(next.into()).await;
            }
            r
        }));
    }

    let mut social_tasks = Vec::new();
    for s in socials.into_iter() {
        social_tasks.push(tokio::spawn(social_client(
            s,
            writer_ids.clone(),
            log.clone(),
            end,
            period,
            deadline,
        )));
    }

    // partition-db-primary: watch, from the cut-off primary's own side, when
    // it stops taking writes.
    let demotion = match (fault, state.primary()) {
        (Fault::PartitionDbPrimary, Some(p)) if state.has_relays() => Some(tokio::spawn(
            writes_stopped_after(state.pg_bin.clone(), state.pg_inner_ports[p]),
        )),
        _ => None,
    };

    // The fault, at its time, and Patroni watched from then on.
    let old_leader = state.primary();
    let timeline_before = leader_timeline(state).await;
    let standbys_at_fault = {
        let s = state.clone();
        tokio::task::spawn_blocking(move || cluster::standbys_streaming(&s))
            .await
            .unwrap_or(0)
    };
    let db_fault = matches!(
        fault,
        Fault::KillDbPrimary | Fault::PauseDbPrimary | Fault::PartitionDbPrimary
    );
    let held_before = if db_fault {
        writes_held_for_sync_standby(state).await
    } else {
        None
    };
    tokio::time::sleep_until((started + Duration::from_secs(args.fault_at_s)).into()).await;
    let fault_ms = started.elapsed().as_millis() as u64;
    let fault_at = Instant::now();
    let (detail, to_restart) = inject(fault, state).await?;
    eprintln!("  fault at {fault_ms} ms: {detail}");
    let watch_until = end + deadline;
    let patroni = tokio::spawn(watch_patroni(
        state.clone(),
        old_leader,
        fault_at,
        watch_until,
    ));
    let new_primary = db_fault.then(|| {
        tokio::spawn(watch_new_primary(
            state.clone(),
            old_leader,
            fault_at,
            watch_until,
        ))
    });

    let mut writers = Vec::new();
    for t in tasks {
        writers.push(t.await.map_err(|e| e.to_string())?.0);
    }
    let mut readers = Vec::new();
    for t in read_tasks {
        readers.push(t.await.map_err(|e| e.to_string())?);
    }
    let mut socials = Vec::new();
    for t in social_tasks {
        socials.push(t.await.map_err(|e| e.to_string())?);
    }
    let old_primary_writes_stopped_after_ms = match demotion {
        Some(watch) => watch.await.map_err(|e| e.to_string())?,
        None => None,
    };
    let watched = patroni.await.map_err(|e| e.to_string())?;
    let (new_leader_after_ms, new_sync_standby_after_ms) = (
        watched.new_leader_after_ms,
        watched.new_sync_standby_after_ms,
    );
    let (new_primary_promoted_after_ms, new_primary_commits_after_ms, first_commit_standbys) =
        match new_primary {
            Some(probe) => probe.await.map_err(|e| e.to_string())?,
            None => (None, None, None),
        };

    // Heal: start what was killed, wait for a primary, two standbys and ready nodes.
    let heal_started = Instant::now();
    for name in &to_restart {
        cluster::restart(state, name)?;
    }
    let healed = wait_healthy(state).await;
    let went_back = timeline_went_back(watched.highest_timeline, leader_timeline(state).await);
    if let Some((seen, now)) = went_back {
        // Said even when the cluster never heals (it may not: the member
        // that took the key back has no standby on its old timeline).
        eprintln!(
            "  the leader went back from timeline {seen} to {now}: a member took the leader key back after another was promoted; writes acknowledged on timeline {seen} are being discarded"
        );
    }
    healed?;
    let heal_ms = heal_started.elapsed().as_millis() as u64;
    let writes_held_for_sync_standby =
        match (held_before, writes_held_for_sync_standby(state).await) {
            (Some(before), Some(after)) => Some(after.saturating_sub(before)),
            _ => None,
        };
    let timeline_changes = match (timeline_before, leader_timeline(state).await) {
        (Some(before), Some(after)) => Some(after.saturating_sub(before)),
        _ => None,
    };

    // Check.
    let l = std::mem::take(&mut *log.lock());
    let mut report = RoundReport {
        round,
        fault: args.fault.clone(),
        fault_detail: detail,
        fault_at_ms: fault_ms,
        writes_acknowledged: l.acked.len(),
        writes_refused: l.refused.len(),
        writes_failed: l.failed_writes,
        reads_ok: l.reads_ok,
        reads_failed: l.reads_failed,
        failed_by_endpoint: l.failed_by_endpoint.clone(),
        attempt_errors: l.attempt_errors.clone(),
        social_acknowledged: l.social_acked,
        social_failed: l.social_failed,
        old_primary_writes_stopped_after_ms,
        new_leader_after_ms,
        new_sync_standby_after_ms,
        new_primary_promoted_after_ms,
        new_primary_commits_after_ms,
        new_primary_first_commit_standbys: first_commit_standbys,
        writes_held_for_sync_standby,
        timeline_changes,
        leader_timeline_went_back: went_back.is_some(),
        standbys_at_fault,
        heal_ms,
        ..Default::default()
    };
    let during = |v: &[(u64, u64)]| {
        let mut x: Vec<u64> = v
            .iter()
            .filter(|(t, _)| *t >= fault_ms)
            .map(|(_, d)| *d)
            .collect();
        x.sort_unstable();
        (percentile_sorted(&x, 0.5), percentile_sorted(&x, 0.99))
    };
    (report.write_latency_ms_p50, report.write_latency_ms_p99) = during(&l.write_latency);
    (report.read_latency_ms_p50, report.read_latency_ms_p99) = during(&l.read_latency);
    let mut ack_times: Vec<u64> = l
        .acked
        .values()
        .map(|(_, t)| *t)
        .filter(|t| *t >= fault_ms)
        .collect();
    ack_times.sort_unstable();
    report.first_write_after_ms = ack_times.first().map(|t| t - fault_ms);
    let mut previous = fault_ms;
    let mut stall_end = None;
    for t in &ack_times {
        if t - previous > report.write_unavailable_ms {
            report.write_unavailable_ms = t - previous;
            stall_end = Some(*t);
        }
        previous = *t;
    }
    report.holdfast_part_ms = match (stall_end, new_primary_commits_after_ms) {
        (Some(end), Some(commits)) => Some(end as i64 - (fault_ms + commits) as i64),
        _ => None,
    };
    report.attempts_tsv = attempts_tsv(&l.attempts);
    let last_second = l.timeline.keys().next_back().copied().unwrap_or(0);
    report.timeline = (0..=last_second)
        .map(|s| {
            let v = l.timeline.get(&s).copied().unwrap_or_default();
            [s, v[0], v[1], v[2]]
        })
        .collect();

    // Every writer's own statuses: each acknowledged key exactly once.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut checker = Client::new(port, source_address(run_id, round, 3, 0));
    checker.token = writers.first().and_then(|w| w.client.token.clone());
    for w in &writers {
        for text in read_all(&mut checker, &format!("/api/v1/accounts/{}/statuses", w.id)).await? {
            if let Some(key) = drill_key(&text) {
                *seen.entry(key).or_default() += 1;
            }
        }
    }
    report.lost = l.acked.keys().filter(|k| !seen.contains_key(*k)).count();
    report.duplicated = seen.values().filter(|n| **n > 1).count();
    report.refused_but_present = l.refused.iter().filter(|k| seen.contains_key(*k)).count();
    // Every reader's home timeline holds every acknowledged status.
    for r in &mut readers {
        let mut home = std::collections::HashSet::new();
        for text in read_all(&mut r.client, "/api/v1/timelines/home").await? {
            if let Some(key) = drill_key(&text) {
                home.insert(key);
            }
        }
        report.stale += l.acked.keys().filter(|k| !home.contains(*k)).count();
    }
    // Every acknowledged follow, unfollow and favourite is in effect.
    for s in &mut socials {
        let (follows_lost, favourites_lost) = check_social(s).await?;
        report.follows_lost += follows_lost;
        report.favourites_lost += favourites_lost;
    }
    report.passed = report.standbys_at_fault >= MEMBERS - 1
        && !report.leader_timeline_went_back
        && report.lost == 0
        && report.follows_lost == 0
        && report.favourites_lost == 0
        && (fault != Fault::PartitionDbPrimary
            || report.old_primary_writes_stopped_after_ms.is_some())
        && report.duplicated == 0
        && report.stale == 0
        && report.refused_but_present == 0
        && report.reads_failed == 0
        && report.new_primary_first_commit_standbys != Some(0);
    Ok(report)
}

/// What a social client expects of one follow after its operations: the last
/// acknowledged one, unless a later one failed (outcome unknown).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Following,
    NotFollowing,
    Unknown,
}

enum SocialOp {
    /// Follow (true) or unfollow (false) this account.
    Follow(String, bool),
    Favourite(String),
}

/// A social client and what it was acknowledged.
struct Social {
    account: Account,
    follows: HashMap<String, Expect>,
    favourited: Vec<String>,
}

/// Alternates between following or unfollowing the next writer (toggling
/// what it expects) and favouriting a recently acknowledged status, each
/// operation retried to its deadline like the writers' posts (both are
/// idempotent in Mastodon's API).
async fn social_client(
    mut account: Account,
    writer_ids: Arc<[String]>,
    log: Arc<Log>,
    end: Instant,
    period: Duration,
    deadline: Duration,
) -> Social {
    let mut follows: HashMap<String, Expect> = HashMap::new();
    let mut favourited = Vec::new();
    let mut k = 0usize;
    while Instant::now() < end {
        let next = Instant::now() + period;
        let op = if k % 2 == 0 && !writer_ids.is_empty() {
            let target = writer_ids[(k / 2) % writer_ids.len()].clone();
            let follow = follows.get(&target) != Some(&Expect::Following);
            Some(SocialOp::Follow(target, follow))
        } else {
            let l = log.lock();
            let recent = l.acked_ids.len().min(20);
            (recent > 0).then(|| {
                SocialOp::Favourite(l.acked_ids[l.acked_ids.len() - 1 - k % recent].clone())
            })
        };
        if let Some(op) = op {
            let (path, endpoint) = match &op {
                SocialOp::Follow(id, true) => (
                    format!("/api/v1/accounts/{id}/follow"),
                    "POST /api/v1/accounts/:id/follow",
                ),
                SocialOp::Follow(id, false) => (
                    format!("/api/v1/accounts/{id}/unfollow"),
                    "POST /api/v1/accounts/:id/unfollow",
                ),
                SocialOp::Favourite(id) => (
                    format!("/api/v1/statuses/{id}/favourite"),
                    "POST /api/v1/statuses/:id/favourite",
                ),
            };
            let outcome = account
                .client
                .operation(Request::post_form(path, &[]), deadline, endpoint, &log)
                .await;
            let ok = matches!(outcome, Outcome::Ok(..));
            match op {
                SocialOp::Follow(target, follow) => {
                    let expect = match (ok, follow) {
                        (true, true) => Expect::Following,
                        (true, false) => Expect::NotFollowing,
                        (false, _) => Expect::Unknown,
                    };
                    follows.insert(target, expect);
                }
                SocialOp::Favourite(id) if ok => favourited.push(id),
                SocialOp::Favourite(_) => {}
            }
            let mut l = log.lock();
            match outcome {
                Outcome::Ok(..) => l.social_acked += 1,
                Outcome::Refused(status) => {
                    l.social_failed += 1;
                    *l.failed_by_endpoint
                        .entry(format!("{endpoint} {status}"))
                        .or_default() += 1;
                }
                Outcome::Failed(last) => {
                    l.social_failed += 1;
                    *l.failed_by_endpoint
                        .entry(format!("{endpoint} {last}"))
                        .or_default() += 1;
                }
            }
        }
        k += 1;
        tokio::time::sleep_until(next.into()).await;
    }
    Social {
        account,
        follows,
        favourited,
    }
}

/// (follows or unfollows not in effect, favourites not in effect).
async fn check_social(s: &mut Social) -> Result<(usize, usize), String> {
    let mut follows_lost = 0;
    let known: Vec<(&String, &Expect)> = s
        .follows
        .iter()
        .filter(|(_, e)| **e != Expect::Unknown)
        .collect();
    if !known.is_empty() {
        let query: Vec<String> = known.iter().map(|(id, _)| format!("id[]={id}")).collect();
        let url = format!("/api/v1/accounts/relationships?{}", query.join("&"));
        let rels = get_json(&mut s.account.client, &url).await?;
        for (id, expect) in known {
            let following = rels
                .as_array()
                .and_then(|a| a.iter().find(|r| r["id"].as_str() == Some(id.as_str())))
                .and_then(|r| r["following"].as_bool());
            if following != Some(*expect == Expect::Following) {
                follows_lost += 1;
            }
        }
    }
    let mut favourites_lost = 0;
    let ids: std::collections::BTreeSet<String> = s.favourited.iter().cloned().collect();
    for id in ids {
        let status = get_json(&mut s.account.client, &format!("/api/v1/statuses/{id}")).await?;
        if status["favourited"].as_bool() != Some(true) {
            favourites_lost += 1;
        }
    }
    Ok((follows_lost, favourites_lost))
}

/// One GET in the check, retried a few times (the cluster is healthy by now).
async fn get_json(client: &mut Client, url: &str) -> Result<serde_json::Value, String> {
    for _ in 0..20 {
        match client.send(Request::get(url.to_owned())).await {
            Ok(r) if r.status == 200 => {
                if let Some(v) = r.json() {
                    return Ok(v);
                }
            }
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(RETRY_PAUSE_MS)).await;
    }
    Err(format!("check: cannot read {url}"))
}

fn opt_ms(v: Option<u64>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

fn attempts_tsv(attempts: &[Attempt]) -> String {
    let mut out = String::from("sent_ms\ttook_ms\tendpoint\toutcome\tnode\n");
    let mut sorted: Vec<&Attempt> = attempts.iter().collect();
    sorted.sort_by_key(|a| a.sent_ms);
    for a in sorted {
        out += &format!(
            "{}\t{}\t{}\t{}\t{}\n",
            a.sent_ms, a.took_ms, a.endpoint, a.outcome, a.node
        );
    }
    out
}

/// Watches Patroni from the fault until `until`: (when it first named a
/// running leader other than `old_leader`, when it first named a running
/// synchronous standby beside that new leader), in ms after `fault_at`.
/// Every member but the old leader is asked at once (a frozen or cut-off
/// member does not answer, or answers from its stale view).
async fn watch_patroni(
    state: ClusterState,
    old_leader: Option<usize>,
    fault_at: Instant,
    until: Instant,
) -> PatroniWatch {
    let state = Arc::new(state);
    let (mut leader_at, mut sync_at) = (None, None);
    let mut highest_timeline = None;
    // On to the end (not just until a new leader has a synchronous standby):
    // a member that comes back from the fault may still take the leader key
    // back, which only the timelines after it show (see `timeline_went_back`).
    while Instant::now() < until {
        let mut asks = tokio::task::JoinSet::new();
        for i in (0..MEMBERS).filter(|i| Some(*i) != old_leader) {
            let state = state.clone();
            asks.spawn_blocking(move || {
                cluster::http_get(state.patroni_ports[i], "/cluster")
                    .ok()
                    .filter(|(status, _)| *status == 200)
                    .and_then(|(_, body)| serde_json::from_str::<serde_json::Value>(&body).ok())
                    .map(|view| {
                        (
                            new_leader_and_sync(&state, &view, old_leader),
                            leader_timeline_in(&view),
                        )
                    })
            });
        }
        let now = fault_at.elapsed().as_millis() as u64;
        while let Some(answer) = asks.join_next().await {
            if let Ok(Some(((leader, sync), timeline))) = answer {
                highest_timeline = highest_timeline.max(timeline);
                if leader && leader_at.is_none() {
                    leader_at = Some(now);
                }
                if leader && sync && sync_at.is_none() {
                    sync_at = Some(now);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(PATRONI_POLL_MS)).await;
    }
    PatroniWatch {
        new_leader_after_ms: leader_at,
        new_sync_standby_after_ms: sync_at,
        highest_timeline,
    }
}

/// What `watch_patroni` saw from the fault on.
struct PatroniWatch {
    new_leader_after_ms: Option<u64>,
    new_sync_standby_after_ms: Option<u64>,
    /// The highest timeline a running leader had in any member's view.
    highest_timeline: Option<u64>,
}

/// Whether the cluster's leader now is on an older timeline than a leader
/// seen during the round: a member that lost the leader key took it back
/// after another was promoted (Patroni's etcd v3 client before 3.0.3 does
/// that after a pause, see cluster::EtcdApi). Every write acknowledged on
/// the newer timeline is then being thrown away (pg_rewind takes the others
/// back to the old one), so the round fails whatever the set check finds.
fn timeline_went_back(highest_seen: Option<u64>, now: Option<u64>) -> Option<(u64, u64)> {
    match (highest_seen, now) {
        (Some(seen), Some(now)) if now < seen => Some((seen, now)),
        _ => None,
    }
}

/// In one view of Patroni's: (a running leader that is not `old_leader`,
/// and beside it a running synchronous standby).
fn new_leader_and_sync(
    state: &ClusterState,
    view: &serde_json::Value,
    old_leader: Option<usize>,
) -> (bool, bool) {
    let members = view["members"].as_array().cloned().unwrap_or_default();
    let running =
        |m: &serde_json::Value| matches!(m["state"].as_str(), Some("running" | "streaming"));
    let new_leader = members.iter().any(|m| {
        m["role"].as_str() == Some("leader")
            && running(m)
            && m["port"]
                .as_u64()
                .and_then(|p| state.pg_ports.iter().position(|q| u64::from(*q) == p))
                != old_leader
    });
    let sync = members
        .iter()
        .any(|m| m["role"].as_str() == Some("sync_standby") && running(m));
    (new_leader, new_leader && sync)
}

/// The timeline of Patroni's current leader, if it names one.
async fn leader_timeline(state: &ClusterState) -> Option<u64> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || leader_timeline_in(&state.patroni_cluster().ok()?))
        .await
        .ok()
        .flatten()
}

/// The timeline of the running leader in one view of Patroni's.
fn leader_timeline_in(view: &serde_json::Value) -> Option<u64> {
    view["members"].as_array()?.iter().find(|m| {
        m["role"].as_str() == Some("leader")
            && matches!(m["state"].as_str(), Some("running" | "streaming"))
    })?["timeline"]
        .as_u64()
}

/// Probes every member but `old_leader` directly, on its own port (past
/// its relay), until one of them is a primary that acknowledges a commit:
/// (when it was first out of recovery, when its first commit was
/// acknowledged, how many synchronous standbys had applied that commit by
/// then), the times in ms after `fault_at`. The times are what the nodes
/// could have seen at best, so the write stall beyond them is holdfast's.
async fn watch_new_primary(
    state: ClusterState,
    old_leader: Option<usize>,
    fault_at: Instant,
    until: Instant,
) -> Probed {
    let mut probes = tokio::task::JoinSet::new();
    for i in (0..MEMBERS).filter(|i| Some(*i) != old_leader) {
        let port = state
            .pg_inner_ports
            .get(i)
            .or(state.pg_ports.get(i))
            .copied()
            .unwrap_or(0);
        probes.spawn(probe_member(port, fault_at, until));
    }
    let mut found = (None, None, None);
    while let Some(answer) = probes.join_next().await {
        if let Ok(probed @ (_, Some(_), _)) = answer {
            found = probed;
            break; // dropping the set stops the other probes
        }
    }
    found
}

/// What `watch_new_primary` found: promoted at, first commit acknowledged
/// at (ms after the fault), synchronous standbys that had applied it.
type Probed = (Option<u64>, Option<u64>, Option<u64>);

/// One member's probe (see `watch_new_primary`): a connection kept open,
/// `pg_is_in_recovery()` every PROBE_POLL_MS until false, then one
/// transaction that writes WAL (a transactional logical message), whose
/// commit waits for the synchronous standbys like any write's. (Session 7's
/// probe committed a `txid_current()` alone: PostgreSQL does not wait for
/// standbys for a transaction that wrote no WAL before its commit record, so
/// it was acknowledged at once on a new primary with no standby, which
/// looked like a hole in synchronous replication and was not one.) It notes
/// the WAL insert position first; just after the acknowledgement it asks how
/// many synchronous standbys have replayed past it. Applied there, the
/// commit is on two servers; none means it was acknowledged by this one alone.
async fn probe_member(port: u16, fault_at: Instant, until: Instant) -> Probed {
    let mut config = tokio_postgres::Config::new();
    config
        .host("127.0.0.1")
        .port(port)
        .user("postgres")
        .dbname("postgres")
        .application_name("holdfast-drill-probe")
        .connect_timeout(Duration::from_millis(PROBE_TIMEOUT_MS));
    let bound = Duration::from_millis(PROBE_TIMEOUT_MS);
    let since = |at: Instant| at.duration_since(fault_at).as_millis() as u64;
    let first_value = |messages: &[tokio_postgres::SimpleQueryMessage]| {
        messages.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
            _ => None,
        })
    };
    let mut promoted = None;
    while Instant::now() < until {
        let connected = tokio::time::timeout(bound, config.connect(tokio_postgres::NoTls)).await;
        let Ok(Ok((client, connection))) = connected else {
            tokio::time::sleep(Duration::from_millis(PROBE_POLL_MS)).await;
            continue;
        };
        let driver = tokio::spawn(connection);
        while promoted.is_none() && Instant::now() < until {
            let asked =
                tokio::time::timeout(bound, client.simple_query("SELECT pg_is_in_recovery()"))
                    .await;
            let in_recovery = match asked {
                Ok(Ok(messages)) => first_value(&messages).as_deref() == Some("t"),
                _ => break, // reconnect
            };
            if in_recovery {
                tokio::time::sleep(Duration::from_millis(PROBE_POLL_MS)).await;
            } else {
                promoted = Some(since(Instant::now()));
            }
        }
        if promoted.is_some() {
            let left = until.saturating_duration_since(Instant::now());
            let commit = tokio::time::timeout(
                left,
                client.simple_query(
                    "BEGIN; SELECT pg_current_wal_insert_lsn(); \
                     SELECT pg_logical_emit_message(true, 'holdfast-drill', 'probe'); COMMIT",
                ),
            )
            .await;
            if let Ok(Ok(messages)) = commit {
                let committed = since(Instant::now());
                let lsn = first_value(&messages)
                    .filter(|l| l.chars().all(|c| c.is_ascii_hexdigit() || c == '/'));
                let standbys = match lsn {
                    Some(lsn) => client
                        .simple_query(&format!(
                            "SELECT count(*) FROM pg_stat_replication \
                              WHERE sync_state IN ('sync', 'quorum') AND replay_lsn > '{lsn}'::pg_lsn"
                        ))
                        .await
                        .ok()
                        .and_then(|m| first_value(&m))
                        .and_then(|n| n.parse().ok()),
                    None => None,
                };
                driver.abort();
                return (promoted, Some(committed), standbys);
            }
        }
        driver.abort();
        tokio::time::sleep(Duration::from_millis(PROBE_POLL_MS)).await;
    }
    (promoted, None, None)
}

/// Polls the cut-off primary directly on its inner port (as a client on its
/// side of the partition would) until it stops taking writes: read-only, or
/// not accepting connections, twice in a row (one failed look could be a
/// busy moment). ms since the watch began, or None if it still took writes
/// after PAUSE_S.
async fn writes_stopped_after(pg_bin: PathBuf, port: u16) -> Option<u64> {
    let started = Instant::now();
    let polls = PAUSE_S * 1000 / DEMOTION_POLL_MS;
    let mut stopped_since: Option<u64> = None;
    for _ in 0..polls {
        let pg_bin = pg_bin.clone();
        let writable = tokio::task::spawn_blocking(move || {
            cluster::psql_query(&pg_bin, port, "SHOW transaction_read_only").as_deref()
                == Some("off")
        })
        .await
        .unwrap_or(true);
        let now = started.elapsed().as_millis() as u64;
        match (writable, stopped_since) {
            (true, _) => stopped_since = None,
            (false, None) => stopped_since = Some(now),
            (false, Some(since)) => return Some(since),
        }
        tokio::time::sleep(Duration::from_millis(DEMOTION_POLL_MS)).await;
    }
    None
}

fn drill_key(content: &str) -> Option<String> {
    let at = content.find("drill-")?;
    let key: String = content[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    Some(key)
}

/// Every status' content on a timeline, oldest pages last, bounded.
async fn read_all(client: &mut Client, path: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut max_id: Option<String> = None;
    for _ in 0..CHECK_PAGES_MAX {
        let url = match &max_id {
            Some(m) => format!("{path}?limit={CHECK_PAGE_LIMIT}&max_id={m}"),
            None => format!("{path}?limit={CHECK_PAGE_LIMIT}"),
        };
        let mut page = None;
        for _ in 0..20 {
            match client.send(Request::get(url.clone())).await {
                Ok(r) if r.status == 200 => {
                    page = r.json();
                    break;
                }
                _ => tokio::time::sleep(Duration::from_millis(RETRY_PAUSE_MS)).await,
            }
        }
        let page = page.ok_or_else(|| format!("check: cannot read {url}"))?;
        let items = page.as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            break;
        }
        for s in &items {
            out.push(s["content"].as_str().unwrap_or_default().to_owned());
        }
        max_id = items
            .last()
            .and_then(|s| s["id"].as_str().map(str::to_owned));
    }
    Ok(out)
}

/// Injects the fault; returns what was done and which processes to start again.
async fn inject(fault: Fault, state: &mut ClusterState) -> Result<(String, Vec<String>), String> {
    let kill_member = |state: &ClusterState, i: usize| -> String {
        let name = format!("patroni{}", i + 1);
        let patroni = state.pids.get(&name).copied().unwrap_or(0);
        let postmaster = state.postmaster_pid(i).unwrap_or(0);
        cluster::signal(patroni, libc::SIGKILL);
        cluster::signal(postmaster, libc::SIGKILL);
        format!(
            "SIGKILL Patroni (pid {patroni}) and PostgreSQL (pid {postmaster}) of pg{}",
            i + 1
        )
    };
    match fault {
        Fault::KillDbPrimary => {
            let p = state.primary().ok_or("no primary to kill")?;
            Ok((kill_member(state, p), vec![format!("patroni{}", p + 1)]))
        }
        Fault::KillDbReplica => {
            let p = state.primary().ok_or("no primary")?;
            let r = (p + 1) % MEMBERS;
            Ok((kill_member(state, r), vec![format!("patroni{}", r + 1)]))
        }
        Fault::KillNode => {
            let pid = state.pids.get("node1").copied().unwrap_or(0);
            cluster::signal(pid, libc::SIGKILL);
            Ok((
                format!("SIGKILL holdfast node1 (pid {pid})"),
                vec!["node1".into()],
            ))
        }
        Fault::KillEtcdMember => {
            // The raft leader: the worst case (the others must elect one
            // while Patroni's requests wait), and the one a random member
            // hits only one time in three.
            let leader = etcd_leader(state).await;
            let name = format!("etcd{}", leader.map_or(1, |i| i + 1));
            let pid = state.pids.get(&name).copied().unwrap_or(0);
            cluster::signal(pid, libc::SIGKILL);
            let role = if leader.is_some() {
                "the raft leader"
            } else {
                "no leader seen"
            };
            Ok((format!("SIGKILL {name} (pid {pid}, {role})"), vec![name]))
        }
        Fault::PauseDbPrimary => {
            // The primary's machine freezes (SIGSTOP to Patroni, the
            // postmaster and every backend): to everyone else it is cut off.
            // It wakes PAUSE_S later, after a new primary was elected, and
            // must not acknowledge a write as the old primary (split brain).
            let p = state.primary().ok_or("no primary to pause")?;
            let mut pids: Vec<u32> = state
                .pids
                .get(&format!("patroni{}", p + 1))
                .copied()
                .into_iter()
                .collect();
            if let Some(pm) = state.postmaster_pid(p) {
                pids.push(pm);
                pids.extend(children_of(pm));
            }
            for pid in &pids {
                cluster::signal(*pid, libc::SIGSTOP);
            }
            let resume = pids.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(PAUSE_S)).await;
                for pid in resume {
                    cluster::signal(pid, libc::SIGCONT);
                }
            });
            Ok((
                format!(
                    "SIGSTOP pg{} (Patroni, PostgreSQL and {} processes) for {PAUSE_S} s",
                    p + 1,
                    pids.len()
                ),
                Vec::new(),
            ))
        }
        Fault::PartitionDbPrimary => {
            // The primary's relay stops carrying anything: the nodes, the
            // other members and etcd lose it, and it loses them (relay.rs).
            // Healed PAUSE_S later, after a new primary was elected.
            if !state.has_relays() {
                return Err("this cluster has no relays (started by an older holdfast): `holdfast cluster down` and `up` again".into());
            }
            let p = state.primary().ok_or("no primary to cut off")?;
            let relay = state
                .pids
                .get(&format!("relay{}", p + 1))
                .copied()
                .unwrap_or(0);
            if !cluster::signal(relay, libc::SIGUSR1) {
                return Err(format!("cannot signal relay{} (pid {relay})", p + 1));
            }
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(PAUSE_S)).await;
                cluster::signal(relay, libc::SIGUSR2);
            });
            Ok((
                format!(
                    "pg{} cut off (relay pid {relay}: PostgreSQL, Patroni's REST API and its etcd links) for {PAUSE_S} s",
                    p + 1
                ),
                Vec::new(),
            ))
        }
        Fault::RestartNode => {
            // Rolling: one node at a time, the next only once this one is ready.
            for i in 0..MEMBERS {
                let name = format!("node{}", i + 1);
                let pid = state.pids.get(&name).copied().unwrap_or(0);
                cluster::stop(&[pid]);
                cluster::restart(state, &name)?;
                let port = state.node_ports[i];
                wait_for(HEAL_TIMEOUT_MS, move || {
                    matches!(cluster::http_get(port, "/readyz"), Ok((200, _)))
                })
                .await?;
            }
            Ok((
                "SIGTERM and start again, node1..node3 in turn".into(),
                Vec::new(),
            ))
        }
    }
}

/// Writes the nodes held so far until a new primary had a synchronous
/// standby, summed over the nodes' /metrics; None if a node did not say.
async fn writes_held_for_sync_standby(state: &ClusterState) -> Option<u64> {
    let ports = state.node_ports.clone();
    tokio::task::spawn_blocking(move || {
        ports.iter().try_fold(0, |sum, port| {
            let (200, body) = cluster::http_get(*port, "/metrics").ok()? else {
                return None;
            };
            let held = body.lines().find_map(|l| {
                l.strip_prefix("holdfast_store_sync_standby_waits_total ")
                    .and_then(|v| v.trim().parse::<u64>().ok())
            })?;
            Some(sum + held)
        })
    })
    .await
    .ok()
    .flatten()
}

/// Which etcd member is the raft leader (its `/metrics` says
/// `etcd_server_is_leader 1`).
async fn etcd_leader(state: &ClusterState) -> Option<usize> {
    let ports = state.etcd_client_ports.clone();
    tokio::task::spawn_blocking(move || {
        ports.iter().position(|port| {
            matches!(cluster::http_get(*port, "/metrics"), Ok((200, body))
                if body.lines().any(|l| l.trim() == "etcd_server_is_leader 1"))
        })
    })
    .await
    .ok()
    .flatten()
}

/// The direct children of `parent` (a postmaster's backends and workers).
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    let (_, rest) = s.rsplit_once(") ")?;
                    rest.split(' ').nth(1)?.parse::<u32>().ok()
                })
                == Some(parent)
        })
        .collect()
}

async fn wait_healthy(state: &ClusterState) -> Result<(), String> {
    let s = state.clone();
    wait_for(HEAL_TIMEOUT_MS, move || {
        s.primary().is_some()
            && cluster::standbys_streaming(&s) >= MEMBERS - 1
            && cluster::has_sync_standby(&s)
            && s.node_ports
                .iter()
                .all(|p| matches!(cluster::http_get(*p, "/readyz"), Ok((200, body)) if body.contains("\"ready\"")))
    })
    .await
}

async fn wait_for(
    timeout_ms: u64,
    ready: impl FnMut() -> bool + Send + 'static,
) -> Result<(), String> {
    let ready = Arc::new(Mutex::new(ready));
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    loop {
        let r = ready.clone();
        let ok =
            tokio::task::spawn_blocking(move || (r.lock().unwrap_or_else(|p| p.into_inner()))())
                .await
                .unwrap_or(false);
        if ok {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "the cluster did not become healthy within {timeout_ms} ms"
            ));
        }
        tokio::time::sleep(Duration::from_millis(POLL_MS)).await;
    }
}

fn summary_table(fault: &str, reports: &[RoundReport]) -> String {
    let mut s = String::from(
        "| round | fault | acked | lost | dup | stale | follows/favs acked | follows/favs lost | failed writes | failed reads | write stall ms | new primary commits ms | holdfast part ms | first commit on standbys | writes held for a standby | write p50/p99 ms | read p50/p99 ms | heal ms | result |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let ms = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    for r in reports {
        s += &format!(
            "| {} | {fault} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {}/{} | {}/{} | {} | {} |\n",
            r.round,
            r.writes_acknowledged,
            r.lost,
            r.duplicated,
            r.stale,
            r.social_acknowledged,
            r.follows_lost + r.favourites_lost,
            r.writes_failed + r.social_failed,
            r.reads_failed,
            r.write_unavailable_ms,
            ms(r.new_primary_commits_after_ms),
            r.holdfast_part_ms
                .map_or_else(|| "-".to_string(), |v| v.to_string()),
            ms(r.new_primary_first_commit_standbys),
            ms(r.writes_held_for_sync_standby),
            ms(r.write_latency_ms_p50),
            ms(r.write_latency_ms_p99),
            ms(r.read_latency_ms_p50),
            ms(r.read_latency_ms_p99),
            r.heal_ms,
            if r.passed { "pass" } else { "FAIL" }
        );
    }
    s
}

/// The round's timeline: acknowledged writes, failed attempts and reads per
/// second, with the fault marked.
pub fn timeline_svg(r: &RoundReport) -> String {
    const W: f64 = 900.0;
    const H: f64 = 320.0;
    const PAD: f64 = 50.0;
    let seconds = r.timeline.len().max(2) as f64 - 1.0;
    let top = r
        .timeline
        .iter()
        .flat_map(|p| [p[1], p[2], p[3]])
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let x = |s: f64| PAD + s / seconds * (W - 2.0 * PAD);
    let y = |v: f64| H - PAD - v / top * (H - 2.0 * PAD);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{PAD}\" y=\"20\" font-size=\"14\">round {}: {} (write stall {} ms, lost {}, duplicated {}, stale {})</text>\n\
         <line x1=\"{PAD}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n\
         <line x1=\"{PAD}\" y1=\"{PAD}\" x2=\"{PAD}\" y2=\"{}\" stroke=\"black\"/>\n\
         <text x=\"{}\" y=\"{}\">seconds</text><text x=\"5\" y=\"{}\">{top}/s</text>\n",
        r.round,
        r.fault,
        r.write_unavailable_ms,
        r.lost,
        r.duplicated,
        r.stale,
        H - PAD,
        W - PAD,
        H - PAD,
        H - PAD,
        W / 2.0,
        H - 15.0,
        PAD + 4.0,
    );
    let fault_x = x(r.fault_at_ms as f64 / 1000.0);
    svg += &format!(
        "<line x1=\"{fault_x:.1}\" y1=\"{PAD}\" x2=\"{fault_x:.1}\" y2=\"{}\" stroke=\"#c0392b\" stroke-dasharray=\"4 3\"/>\n\
         <text x=\"{:.1}\" y=\"{}\" fill=\"#c0392b\">fault</text>\n",
        H - PAD,
        fault_x + 3.0,
        PAD + 12.0
    );
    let series = [
        (1, "#1b7f3b", "writes acknowledged/s"),
        (2, "#c0392b", "failed attempts/s"),
        (3, "#2c5aa0", "reads/s"),
    ];
    for (n, (column, colour, name)) in series.iter().enumerate() {
        let points: Vec<String> = r
            .timeline
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p[0] as f64), y(p[*column] as f64)))
            .collect();
        svg += &format!(
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>\n\
             <text x=\"{}\" y=\"{}\" fill=\"{colour}\">{name}</text>\n",
            points.join(" "),
            W - 220.0,
            PAD + 15.0 * n as f64,
        );
    }
    svg + "</svg>\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeline_plot_is_an_svg_with_the_fault_marked() {
        let r = RoundReport {
            round: 1,
            fault: "kill-node".into(),
            fault_at_ms: 2_000,
            timeline: vec![[0, 3, 0, 4], [1, 3, 1, 4], [2, 0, 5, 4], [3, 4, 0, 4]],
            ..Default::default()
        };
        let svg = timeline_svg(&r);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("fault") && svg.contains("kill-node"));
        assert_eq!(svg.matches("<polyline").count(), 3);
        // An empty round still renders.
        assert!(timeline_svg(&RoundReport::default()).contains("</svg>"));
    }

    #[test]
    fn a_leader_back_on_an_older_timeline_is_caught() {
        assert_eq!(timeline_went_back(Some(13), Some(12)), Some((13, 12)));
        assert_eq!(timeline_went_back(Some(13), Some(13)), None);
        assert_eq!(timeline_went_back(Some(12), Some(14)), None);
        assert_eq!(timeline_went_back(None, Some(12)), None);
        assert_eq!(timeline_went_back(Some(13), None), None);
        let view = serde_json::json!({"members": [
            {"name": "pg1", "role": "replica", "state": "streaming", "timeline": 13},
            {"name": "pg2", "role": "leader", "state": "running", "timeline": 12},
        ]});
        assert_eq!(leader_timeline_in(&view), Some(12));
    }

    #[test]
    fn faults_parse_and_unknown_ones_are_refused() {
        assert_eq!(Fault::parse("kill-db-primary"), Ok(Fault::KillDbPrimary));
        assert_eq!(Fault::parse("restart-node"), Ok(Fault::RestartNode));
        assert_eq!(Fault::parse("pause-db-primary"), Ok(Fault::PauseDbPrimary));
        assert_eq!(
            Fault::parse("partition-db-primary"),
            Ok(Fault::PartitionDbPrimary)
        );
        assert!(Fault::parse("rm-rf").is_err());
    }

    #[test]
    fn keys_are_found_in_rendered_content() {
        assert_eq!(
            drill_key("<p>drill write drill-12-1-3-44</p>").as_deref(),
            Some("drill-12-1-3-44")
        );
        assert_eq!(drill_key("<p>hello</p>"), None);
    }

    #[test]
    fn source_addresses_are_loopback_and_distinct() {
        let a = source_address(7, 1, 1, 0);
        let b = source_address(7, 1, 1, 1);
        let c = source_address(7, 1, 2, 0);
        assert!(a.is_loopback() && b.is_loopback() && c.is_loopback());
        assert!(a != b && a != c);
    }
}
