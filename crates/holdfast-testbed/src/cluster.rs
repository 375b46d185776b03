//! `holdfast cluster up|status|down --dir DIR`: a whole cluster on loopback,
//! for tests, drills and demos, from Debian's packages:
//!
//! - etcd, 3 members (the consensus store Patroni elects a leader in);
//! - 3 PostgreSQL servers, each run by Patroni (as the `postgres` user:
//!   PostgreSQL refuses root), with `synchronous_mode` and
//!   `synchronous_mode_strict` on, so a commit is on two servers before it is
//!   acknowledged, always (without a synchronous standby, writes wait rather
//!   than go on asynchronously and be lost in the next failover);
//! - 3 holdfast nodes, each given all three database hosts (the node finds the
//!   primary with `target_session_attrs=read-write`, and reads from a standby
//!   while there is none);
//! - HAProxy in front: health checks on `/readyz`, `X-Forwarded-For` (the
//!   nodes trust loopback as their proxy), connection failures retried on
//!   another node, and safe requests (GET, HEAD) retried on a 503.
//!
//! Everything listens on 127.0.0.1 on free ports; DIR holds the data, the
//! configuration, the logs and `cluster.json` (ports and process ids), which
//! `status`, `down` and `holdfast drill` read. Processes are started in their
//! own process groups and stopped by their recorded ids, never by name.
//!
//! Settings known to fail over in about 5 s on a small machine: Patroni
//! ttl 5 / loop_wait 1 / retry_timeout 2, `wal_retrieve_retry_interval=500ms`,
//! no replication slots (`use_slots: false`) with `wal_keep_size` instead.
//! Most of a failover is waiting for the dead leader's key to expire (up to
//! `ttl` after its last renewal), so ttl is the lever, but Patroni needs
//! `loop_wait + 2 * retry_timeout <= ttl` (so a leader that cannot renew its
//! key demotes itself before the key expires: no split brain), and ttl 4
//! therefore means retry_timeout 1 (Patroni 3.0 reads whole seconds: 1.5 is
//! 1). That cannot work with Patroni 3.0's etcd3 client: taking or renewing
//! the leader key gives up ("Error communicating with DCS") when less than
//! 1 s of retry_timeout is left after renewing its lease, which with
//! retry_timeout 1 is always; after a kill of the primary no member ever
//! took the leader key (tried twice, sessions 6 and 7). On etcd v3, ttl 5 /
//! retry_timeout 2 is the floor. Patroni before 3.0.3 keeps its keys in
//! etcd's v2 API instead (see `EtcdApi`: its v3 client can lose acknowledged
//! writes after a pause), whose client has no such floor: there the default
//! is ttl 4 / loop_wait 2 / retry_timeout 1 (`PatroniTiming::for_api`).
//! `--patroni-*` flags set other values, and `up` refuses those that break
//! the rule.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};

use crate::ports::free_loopback_ports;

/// Members of each tier. Three is what a majority needs to survive one loss.
pub const MEMBERS: usize = 3;
/// How long `up` waits for each tier to be ready.
const ETCD_READY_TIMEOUT_MS: u64 = 30_000;
const LEADER_TIMEOUT_MS: u64 = 90_000;
const REPLICAS_TIMEOUT_MS: u64 = 90_000;
const NODE_READY_TIMEOUT_MS: u64 = 30_000;
/// etcd's raft timing. Patroni gives each etcd request at least 1 s and
/// tries the members in turn, and a leader that cannot renew its key
/// within `retry_timeout` demotes its PostgreSQL: with etcd's default
/// election timeout (1 s, randomized up to 2 s) the etcd leader's death
/// left Patroni's requests to both survivors timing out, and the primary
/// demoted (session 6's kill-etcd-member stall). Elected within 0.5-1 s,
/// a leader is there before Patroni's second try.
const ETCD_HEARTBEAT_MS: u64 = 50;
const ETCD_ELECTION_TIMEOUT_MS: u64 = 500;
/// How long `down` waits after SIGTERM before SIGKILL.
const STOP_TIMEOUT_MS: u64 = 20_000;
/// Between two looks while waiting.
const POLL_MS: u64 = 200;
/// One HTTP request to a local process (status pages, health checks).
const HTTP_TIMEOUT_MS: u64 = 2_000;
/// The largest status answer read (Patroni's /cluster is a few KiB).
const HTTP_BODY_MAX_BYTES: u64 = 1 << 20;
/// How much of a process's log end an error quotes when the process died.
const LOG_TAIL_BYTES: u64 = 4 << 10;
/// The database holdfast uses inside the PostgreSQL cluster.
pub const DATABASE: &str = "holdfast";
const STATE_FILE: &str = "cluster.json";
/// Debian packages `up` installs when their programs are missing.
const PACKAGES: &[(&str, &str)] = &[
    ("etcd", "etcd-server"),
    ("patroni", "patroni"),
    ("haproxy", "haproxy"),
];

#[derive(Args, Debug)]
pub struct ClusterArgs {
    #[command(subcommand)]
    pub action: ClusterAction,
}

#[derive(Subcommand, Debug)]
pub enum ClusterAction {
    /// Start etcd, PostgreSQL under Patroni, holdfast nodes and HAProxy on loopback.
    Up(UpArgs),
    /// Show every process, the current primary, replication state and lag.
    Status(DirArgs),
    /// Stop every process the cluster started (the directory is kept).
    Down(DirArgs),
    /// (Started by `up`.) One database member's links, which a drill can cut.
    #[command(hide = true)]
    Relay(crate::relay::RelayArgs),
}

#[derive(Args, Debug)]
pub struct DirArgs {
    /// The cluster's directory (made by `cluster up`).
    #[arg(long)]
    pub dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct UpArgs {
    /// Where the cluster keeps its data, configuration, logs and state.
    #[arg(long)]
    pub dir: PathBuf,
    /// The holdfast binary the nodes run (default: this one).
    #[arg(long)]
    pub holdfast: Option<PathBuf>,
    /// Extra holdfast configuration (TOML) for every node; its [limits] are
    /// used, with `trusted_proxies` set to loopback for HAProxy.
    #[arg(long)]
    pub node_config: Option<PathBuf>,
    #[command(flatten)]
    pub patroni: PatroniTimingArgs,
    /// Which etcd API Patroni keeps its keys in: v2 or v3 (default: v3 for
    /// Patroni 3.0.3 or later, v2 before; see `EtcdApi`). Only for a new cluster.
    #[arg(long, value_parser = EtcdApi::parse)]
    pub etcd_api: Option<EtcdApi>,
}

/// Patroni's failover timing (its dynamic configuration, set when the
/// cluster is first bootstrapped). Whole seconds: Patroni 3.0 reads these
/// as integers (a fraction is cut off). Defaults: `PatroniTiming::for_api`.
#[derive(Args, Debug, Clone, Copy)]
pub struct PatroniTimingArgs {
    /// Seconds the leader key lives after its last renewal: how long a dead
    /// primary goes unnoticed at most (default 4 on etcd v2, 5 on v3).
    #[arg(long = "patroni-ttl-s")]
    pub ttl_s: Option<u32>,
    /// Seconds between two runs of Patroni's loop (the leader renews its
    /// key in each; default 2 on etcd v2, 1 on v3).
    #[arg(long = "patroni-loop-wait-s")]
    pub loop_wait_s: Option<u32>,
    /// Seconds Patroni keeps retrying the DCS (and PostgreSQL) before it
    /// gives up; a leader that cannot renew its key in that time demotes
    /// (default 1 on etcd v2, 2 on v3).
    #[arg(long = "patroni-retry-timeout-s")]
    pub retry_timeout_s: Option<u32>,
}

impl PatroniTimingArgs {
    /// The flags given, the defaults for `api` for the others.
    pub fn resolve(&self, api: EtcdApi) -> PatroniTiming {
        let d = PatroniTiming::for_api(api);
        PatroniTiming {
            ttl_s: self.ttl_s.unwrap_or(d.ttl_s),
            loop_wait_s: self.loop_wait_s.unwrap_or(d.loop_wait_s),
            retry_timeout_s: self.retry_timeout_s.unwrap_or(d.retry_timeout_s),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatroniTiming {
    pub ttl_s: u32,
    pub loop_wait_s: u32,
    pub retry_timeout_s: u32,
}

impl PatroniTiming {
    /// What fails over fastest and still rides out an etcd leader's death
    /// on this kind of machine (bench/drills). On etcd v3 (Patroni 3.0's
    /// client): ttl 5 / loop_wait 1 / retry_timeout 2, the floor (see the
    /// module's comment). On etcd v2: ttl 4 / loop_wait 2 / retry_timeout 1.
    /// Its client has no such floor, and with a nap of a second or more
    /// between loops a standby's Patroni waits on etcd's watch of the
    /// leader key, so it wakes when the key expires rather than at its next
    /// loop: a dead primary is replaced 2–4 s after its last renewal,
    /// where v3's ttl 5 / loop_wait 1 took 4–5 s.
    pub fn for_api(api: EtcdApi) -> PatroniTiming {
        match api {
            EtcdApi::V2 => PatroniTiming {
                ttl_s: 4,
                loop_wait_s: 2,
                retry_timeout_s: 1,
            },
            EtcdApi::V3 => PatroniTiming {
                ttl_s: 5,
                loop_wait_s: 1,
                retry_timeout_s: 2,
            },
        }
    }

    /// Patroni's rule `loop_wait + 2 × retry_timeout <= ttl`: a leader that
    /// cannot renew its key (cut off from etcd) has given up and demoted
    /// before the key expires and a standby may take over, so two servers
    /// never both act as primary.
    pub fn check(&self) -> Result<(), String> {
        if self.ttl_s == 0 || self.loop_wait_s == 0 || self.retry_timeout_s == 0 {
            return Err("Patroni's ttl, loop_wait and retry_timeout must be at least 1 s".into());
        }
        if self.loop_wait_s + 2 * self.retry_timeout_s > self.ttl_s {
            return Err(format!(
                "Patroni needs loop_wait + 2 x retry_timeout <= ttl (so a leader cut off from etcd demotes before its key expires); {} + 2 x {} > {}",
                self.loop_wait_s, self.retry_timeout_s, self.ttl_s
            ));
        }
        Ok(())
    }
}

/// Ports and process ids, written by `up`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClusterState {
    pub dir: PathBuf,
    pub etcd_client_ports: Vec<u16>,
    pub etcd_peer_ports: Vec<u16>,
    pub pg_ports: Vec<u16>,
    pub patroni_ports: Vec<u16>,
    pub node_ports: Vec<u16>,
    pub haproxy_port: u16,
    pub haproxy_stats_port: u16,
    /// name (etcd1, patroni1, node1, haproxy) -> pid
    pub pids: BTreeMap<String, u32>,
    pub pg_bin: PathBuf,
    /// The binary the nodes run (to restart one).
    #[serde(default)]
    pub holdfast: PathBuf,
    /// Where each PostgreSQL server and Patroni REST API really listen; the
    /// advertised `pg_ports` and `patroni_ports` are their relay's (see
    /// relay.rs), so a drill can cut a member off.
    #[serde(default)]
    pub pg_inner_ports: Vec<u16>,
    #[serde(default)]
    pub patroni_inner_ports: Vec<u16>,
    /// Per member, its relay's port to each etcd member (its Patroni's etcd hosts).
    #[serde(default)]
    pub etcd_relay_ports: Vec<Vec<u16>>,
    /// Which of etcd's APIs Patroni keeps its keys in (chosen by `up` for
    /// the installed Patroni, see `EtcdApi`; clusters from before it: v3).
    #[serde(default)]
    pub etcd_api: EtcdApi,
}

/// Which etcd API Patroni uses. Its etcd v3 client before Patroni 3.0.3
/// can hand the leader key back to a leader that was paused past its ttl:
/// on waking, that leader renews its expired lease with a new one and then
/// writes the leader key with no condition (`Etcd3._update_leader`: a plain
/// put whenever its cached view names another lease), overwriting the key
/// the member promoted meanwhile holds. The promoted member demotes, the
/// old primary (an older timeline) leads again, and pg_rewind takes the
/// others back to it: every write acknowledged on the newer timeline is
/// gone (bench/drills/pause-db-primary-stuck/, session 8; fixed upstream in
/// Patroni 3.0.3, patroni/patroni#2689). Patroni's v2 client renews the key
/// with compare-and-swap on its own name (`prevValue`), so a woken leader
/// finds the key taken and demotes. Debian 12 ships Patroni 3.0.2: there
/// the cluster uses etcd's v2 API (etcd 3.4 serves it with `--enable-v2`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EtcdApi {
    V2,
    #[default]
    V3,
}

impl EtcdApi {
    fn parse(s: &str) -> Result<EtcdApi, String> {
        match s {
            "v2" => Ok(EtcdApi::V2),
            "v3" => Ok(EtcdApi::V3),
            _ => Err(format!("{s:?}: v2 or v3")),
        }
    }

    /// The first Patroni whose etcd v3 client renews the leader key only
    /// while it still holds it.
    const V3_SAFE_FROM: (u32, u32, u32) = (3, 0, 3);

    /// The API for this Patroni version (`patroni --version`); v2 when the
    /// version cannot be told, the safe side.
    pub fn for_patroni(version: Option<(u32, u32, u32)>) -> EtcdApi {
        match version {
            Some(v) if v >= Self::V3_SAFE_FROM => EtcdApi::V3,
            _ => EtcdApi::V2,
        }
    }

    /// The section of Patroni's configuration that names etcd.
    fn patroni_section(self) -> &'static str {
        match self {
            EtcdApi::V2 => "etcd",
            EtcdApi::V3 => "etcd3",
        }
    }
}

/// The installed Patroni's version, from `patroni --version` ("patroni 3.0.2").
fn patroni_version() -> Option<(u32, u32, u32)> {
    let out = Command::new("patroni").arg("--version").output().ok()?;
    parse_version(&String::from_utf8_lossy(&out.stdout))
}

fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let word = text
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    let mut parts = word.split('.').map(|p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse::<u32>()
            .ok()
    });
    Some((
        parts.next()??,
        parts.next()??,
        parts.next().flatten().unwrap_or(0),
    ))
}

impl ClusterState {
    /// The links of member `i`'s relay (see relay.rs).
    pub fn relay_links(&self, i: usize) -> Vec<crate::relay::Link> {
        let local = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
        let mut links = vec![
            crate::relay::Link {
                listen: local(self.pg_ports[i]),
                target: local(self.pg_inner_ports[i]),
            },
            crate::relay::Link {
                listen: local(self.patroni_ports[i]),
                target: local(self.patroni_inner_ports[i]),
            },
        ];
        for (j, port) in self.etcd_relay_ports[i].iter().enumerate() {
            links.push(crate::relay::Link {
                listen: local(*port),
                target: local(self.etcd_client_ports[j]),
            });
        }
        links
    }

    /// Whether this cluster was started with relays (older ones were not).
    pub fn has_relays(&self) -> bool {
        self.pg_inner_ports.len() == MEMBERS
            && self.patroni_inner_ports.len() == MEMBERS
            && self.etcd_relay_ports.len() == MEMBERS
    }

    pub fn load(dir: &Path) -> Result<ClusterState, String> {
        let path = dir.join(STATE_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "{}: {e} (is there a cluster here? start one with `holdfast cluster up --dir {}`)",
                path.display(),
                dir.display()
            )
        })?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn save(&self) -> Result<(), String> {
        let path = self.dir.join(STATE_FILE);
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The URL every holdfast node is given: all database hosts.
    pub fn database_url(&self) -> String {
        let hosts: Vec<String> = self
            .pg_ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        format!("postgres://postgres@{}/{DATABASE}", hosts.join(","))
    }

    /// Where clients go: HAProxy.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.haproxy_port)
    }

    pub fn pg_data(&self, member: usize) -> PathBuf {
        self.dir.join(format!("pg{}", member + 1)).join("data")
    }

    /// The postmaster's pid of one PostgreSQL member, from its data directory.
    pub fn postmaster_pid(&self, member: usize) -> Option<u32> {
        let text = std::fs::read_to_string(self.pg_data(member).join("postmaster.pid")).ok()?;
        let pid: u32 = text.lines().next()?.trim().parse().ok()?;
        alive(pid).then_some(pid)
    }

    /// Patroni's view of the cluster (`GET /cluster` on any member that answers).
    pub fn patroni_cluster(&self) -> Result<serde_json::Value, String> {
        let mut last = String::from("no Patroni member answered");
        for port in &self.patroni_ports {
            match http_get(*port, "/cluster") {
                Ok((200, body)) => {
                    return serde_json::from_str(&body).map_err(|e| format!("/cluster: {e}"))
                }
                Ok((status, _)) => last = format!("Patroni :{port} answered {status}"),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// The member index of the current primary, if Patroni names one.
    pub fn primary(&self) -> Option<usize> {
        let cluster = self.patroni_cluster().ok()?;
        let members = cluster.get("members")?.as_array()?;
        let leader = members.iter().find(|m| {
            m.get("role").and_then(|r| r.as_str()) == Some("leader")
                && m.get("state").and_then(|s| s.as_str()) == Some("running")
        })?;
        let port = leader.get("port")?.as_u64()? as u16;
        self.pg_ports.iter().position(|p| *p == port)
    }
}

pub async fn run(args: ClusterArgs) -> Result<(), String> {
    if let ClusterAction::Relay(relay) = args.action {
        return crate::relay::run(relay).await;
    }
    tokio::task::spawn_blocking(move || match args.action {
        ClusterAction::Up(up_args) => up(up_args).map(|state| {
            println!("cluster up in {}", state.dir.display());
            println!("  clients: {}", state.url());
            println!("  database: {}", state.database_url());
            println!(
                "  status:  holdfast cluster status --dir {}",
                state.dir.display()
            );
        }),
        ClusterAction::Status(a) => status(&a.dir),
        ClusterAction::Down(a) => down(&a.dir),
        ClusterAction::Relay(_) => unreachable!("handled above"),
    })
    .await
    .map_err(|e| format!("cluster command failed: {e}"))?
}

// ---- up ----

pub fn up(args: UpArgs) -> Result<ClusterState, String> {
    let dir = absolute(&args.dir)?;
    // A stopped cluster starts again on its old ports: etcd's members and
    // Patroni's configuration name them.
    let previous = if dir.join(STATE_FILE).exists() {
        let state = ClusterState::load(&dir)?;
        if state.pids.values().any(|pid| alive(*pid)) {
            return Err(format!(
                "a cluster is already running in {} (stop it with `holdfast cluster down --dir {}`)",
                dir.display(),
                dir.display()
            ));
        }
        Some(state)
    } else {
        None
    };
    ensure_packages()?;
    let etcd_api = match &previous {
        Some(old) => old.etcd_api,
        None => args
            .etcd_api
            .unwrap_or_else(|| EtcdApi::for_patroni(patroni_version())),
    };
    let timing = args.patroni.resolve(etcd_api);
    timing.check()?;
    let pg_bin = pg_bin()?;
    let holdfast = match args.holdfast {
        Some(p) => absolute(&p)?,
        None => std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?,
    };
    std::fs::create_dir_all(dir.join("logs"))
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let ports = free_loopback_ports(5 * MEMBERS + 2)?;
    let take = |i: usize| ports[i * MEMBERS..(i + 1) * MEMBERS].to_vec();
    let mut state = match previous {
        Some(old) => ClusterState {
            pids: BTreeMap::new(),
            pg_bin,
            holdfast: holdfast.clone(),
            ..old
        },
        None => ClusterState {
            dir: dir.clone(),
            etcd_client_ports: take(0),
            etcd_peer_ports: take(1),
            pg_ports: take(2),
            patroni_ports: take(3),
            node_ports: take(4),
            haproxy_port: ports[5 * MEMBERS],
            haproxy_stats_port: ports[5 * MEMBERS + 1],
            pids: BTreeMap::new(),
            pg_bin,
            holdfast: holdfast.clone(),
            pg_inner_ports: Vec::new(),
            patroni_inner_ports: Vec::new(),
            etcd_relay_ports: Vec::new(),
            etcd_api,
        },
    };
    if !state.has_relays() {
        // A new cluster, or one from before the relays: inner ports now.
        let inner = free_loopback_ports((2 + MEMBERS) * MEMBERS)?;
        let mut chunks = inner.chunks(MEMBERS).map(<[u16]>::to_vec);
        state.pg_inner_ports = chunks.next().unwrap_or_default();
        state.patroni_inner_ports = chunks.next().unwrap_or_default();
        state.etcd_relay_ports = chunks.collect();
    }
    // Saved after every start, so `down` can stop what started even if `up` fails half-way.
    let result = start_all(&mut state, &holdfast, args.node_config.as_deref(), timing);
    state.save()?;
    if let Err(e) = result {
        return Err(format!(
            "{e}\n(logs in {}; stop what started with `holdfast cluster down --dir {}`)",
            dir.join("logs").display(),
            dir.display()
        ));
    }
    Ok(state)
}

fn start_all(
    state: &mut ClusterState,
    holdfast: &Path,
    node_config: Option<&Path>,
    timing: PatroniTiming,
) -> Result<(), String> {
    eprintln!("starting etcd ({MEMBERS} members)");
    for i in 0..MEMBERS {
        start_etcd(state, i)?;
        state.save()?;
    }
    wait_until("etcd to elect a leader", ETCD_READY_TIMEOUT_MS, || {
        state
            .etcd_client_ports
            .iter()
            .any(|p| matches!(http_get(*p, "/health"), Ok((200, body)) if body.contains("true")))
    })?;

    eprintln!("starting the database members' relays");
    for i in 0..MEMBERS {
        start_relay(state, i)?;
        state.save()?;
    }
    for i in 0..MEMBERS {
        let port = state.pg_ports[i];
        let name = format!("relay{}", i + 1);
        wait_for_process(state, &name, "listening", ETCD_READY_TIMEOUT_MS, || {
            TcpStream::connect_timeout(
                &SocketAddr::from(([127, 0, 0, 1], port)),
                Duration::from_millis(HTTP_TIMEOUT_MS),
            )
            .is_ok()
        })?;
    }

    eprintln!("starting PostgreSQL under Patroni ({MEMBERS} members)");
    let owner = postgres_user()?;
    let fresh = !state.pg_data(0).exists();
    for i in 0..MEMBERS {
        start_patroni(state, i, &owner, timing)?;
        state.save()?;
        if i == 0 && fresh {
            // The first one bootstraps (initdb); the others then copy it.
            wait_until("Patroni to bootstrap a primary", LEADER_TIMEOUT_MS, || {
                state.primary().is_some()
            })?;
        }
    }
    // A restarted cluster elects among members that all have data.
    wait_until("Patroni to elect a primary", LEADER_TIMEOUT_MS, || {
        state.primary().is_some()
    })?;
    wait_until(
        "both standbys to stream from the primary, one of them synchronous",
        REPLICAS_TIMEOUT_MS,
        || standbys_streaming(state) >= MEMBERS - 1 && has_sync_standby(state),
    )?;
    let primary = state
        .primary()
        .ok_or("the primary went away during start")?;
    create_database(state, primary)?;

    eprintln!("starting holdfast ({MEMBERS} nodes) and HAProxy");
    let config = node_config_file(state, node_config)?;
    for i in 0..MEMBERS {
        start_node(state, i, holdfast, &config)?;
        state.save()?;
    }
    for i in 0..MEMBERS {
        let port = state.node_ports[i];
        let name = format!("node{}", i + 1);
        wait_for_process(state, &name, "ready", NODE_READY_TIMEOUT_MS, || {
            matches!(http_get(port, "/readyz"), Ok((200, _)))
        })?;
    }
    start_haproxy(state)?;
    state.save()?;
    let port = state.haproxy_port;
    wait_until("HAProxy to route to a node", NODE_READY_TIMEOUT_MS, || {
        matches!(http_get(port, "/api/v1/instance"), Ok((200, _)))
    })
}

fn start_etcd(state: &mut ClusterState, i: usize) -> Result<(), String> {
    let name = format!("etcd{}", i + 1);
    let data = state.dir.join(&name);
    let initial: Vec<String> = (0..MEMBERS)
        .map(|j| {
            format!(
                "etcd{}=http://127.0.0.1:{}",
                j + 1,
                state.etcd_peer_ports[j]
            )
        })
        .collect();
    let client = format!("http://127.0.0.1:{}", state.etcd_client_ports[i]);
    let peer = format!("http://127.0.0.1:{}", state.etcd_peer_ports[i]);
    let mut cmd = Command::new("etcd");
    cmd.args(["--name", &name])
        .arg("--data-dir")
        .arg(&data)
        .args(["--listen-client-urls", &client])
        .args(["--advertise-client-urls", &client])
        .args(["--listen-peer-urls", &peer])
        .args(["--initial-advertise-peer-urls", &peer])
        .args(["--initial-cluster", &initial.join(",")])
        .args(["--initial-cluster-token", "holdfast-local"])
        .args(["--initial-cluster-state", "new"])
        // Loopback is fast: a dead raft leader is replaced within about
        // ETCD_ELECTION_TIMEOUT_MS to twice that (etcd randomizes it), and
        // Patroni's requests wait that out (see ETCD_ELECTION_TIMEOUT_MS).
        .args(["--heartbeat-interval", &ETCD_HEARTBEAT_MS.to_string()])
        .args(["--election-timeout", &ETCD_ELECTION_TIMEOUT_MS.to_string()])
        // A member that was cut off or starved asks "would you vote for
        // me?" before it calls an election, so it cannot depose a healthy
        // leader (each election stalls every request for a moment).
        .arg("--pre-vote");
    if state.etcd_api == EtcdApi::V2 {
        cmd.arg("--enable-v2=true");
    }
    let pid = spawn(&state.dir, &name, cmd)?;
    state.pids.insert(name, pid);
    Ok(())
}

fn start_patroni(
    state: &mut ClusterState,
    i: usize,
    owner: &str,
    timing: PatroniTiming,
) -> Result<(), String> {
    let name = format!("patroni{}", i + 1);
    let home = state.dir.join(format!("pg{}", i + 1));
    std::fs::create_dir_all(&home).map_err(|e| format!("{}: {e}", home.display()))?;
    // Patroni reaches etcd, and everyone reaches this member, through the
    // member's relay (so a drill can cut it off); the servers listen on
    // inner ports.
    let etcd_hosts: Vec<String> = state.etcd_relay_ports[i]
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect();
    let config = format!(
        r#"scope: holdfast
namespace: /holdfast/
name: pg{member}
restapi:
  listen: 127.0.0.1:{rest_inner}
  connect_address: 127.0.0.1:{rest}
{etcd_section}:
  hosts: {etcd}
  # Only these addresses (the relay's), never the members etcd advertises:
  # otherwise Patroni finds etcd's own ports and a cut relay cuts nothing.
  use_proxies: true
bootstrap:
  dcs:
    ttl: {ttl}
    loop_wait: {loop_wait}
    retry_timeout: {retry_timeout}
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    synchronous_mode_strict: true
    # Every streaming standby synchronous, and commits acknowledged only once
    # applied there: a read a node sends to a standby (no primary answering)
    # sees every write acknowledged before it, the reader's own included.
    synchronous_node_count: 2
    postgresql:
      use_pg_rewind: true
      use_slots: false
      parameters:
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        wal_keep_size: 256MB
        max_wal_senders: 10
        max_connections: 200
        wal_retrieve_retry_interval: 500ms
        synchronous_commit: remote_apply
        # Replay never waits long behind a standby's read (which would hold
        # every commit under remote_apply); vacuum keeps what standbys read.
        hot_standby_feedback: "on"
        max_standby_streaming_delay: 1s
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
  pg_hba:
    - local all all trust
    - host replication all 127.0.0.1/32 trust
    - host all all 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:{pg_inner}
  connect_address: 127.0.0.1:{pg}
  data_dir: {data}
  bin_dir: {bin}
  pgpass: {home}/pgpass
  authentication:
    superuser:
      username: postgres
    replication:
      username: replicator
    rewind:
      username: postgres
  parameters:
    unix_socket_directories: '{home}'
tags:
  nofailover: false
  noloadbalance: false
  clonefrom: false
  nosync: false
"#,
        member = i + 1,
        ttl = timing.ttl_s,
        loop_wait = timing.loop_wait_s,
        retry_timeout = timing.retry_timeout_s,
        rest = state.patroni_ports[i],
        rest_inner = state.patroni_inner_ports[i],
        pg_inner = state.pg_inner_ports[i],
        etcd = etcd_hosts.join(","),
        etcd_section = state.etcd_api.patroni_section(),
        pg = state.pg_ports[i],
        data = state.pg_data(i).display(),
        bin = state.pg_bin.display(),
        home = home.display(),
    );
    let config_path = home.join("patroni.yml");
    std::fs::write(&config_path, config).map_err(|e| format!("{}: {e}", config_path.display()))?;
    chown_tree(&home, owner)?;
    // PostgreSQL's user must reach the directory (every parent searchable).
    let readable = as_user(owner, "test")
        .arg("-r")
        .arg(&config_path)
        .status()
        .is_ok_and(|s| s.success());
    if !readable {
        return Err(format!(
            "the {owner} user cannot read {}: every directory above it must be searchable by others (chmod o+x), or use a directory under /tmp or /srv",
            config_path.display()
        ));
    }
    let mut cmd = as_user(owner, "patroni");
    cmd.arg(&config_path).current_dir(&home).env("HOME", &home);
    let pid = spawn(&state.dir, &name, cmd)?;
    state.pids.insert(name, pid);
    Ok(())
}

/// Member `i`'s relay: `holdfast cluster relay` with its links.
fn start_relay(state: &mut ClusterState, i: usize) -> Result<(), String> {
    let name = format!("relay{}", i + 1);
    let mut cmd = Command::new(&state.holdfast);
    cmd.args(["cluster", "relay", "--dir"]).arg(&state.dir);
    for link in state.relay_links(i) {
        cmd.args(["--link", &link.arg()]);
    }
    let pid = spawn(&state.dir, &name, cmd)?;
    state.pids.insert(name, pid);
    Ok(())
}

fn create_database(state: &ClusterState, primary: usize) -> Result<(), String> {
    let psql = state.pg_bin.join("psql");
    let port = state.pg_ports[primary].to_string();
    let exists = Command::new(&psql)
        .args([
            "-X",
            "-q",
            "-t",
            "-A",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            "postgres",
        ])
        .args(["-d", "postgres", "-c"])
        .arg(format!(
            "SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"
        ))
        .output()
        .map_err(|e| format!("psql: {e}"))?;
    if String::from_utf8_lossy(&exists.stdout).trim() == "1" {
        return Ok(());
    }
    let out = Command::new(&psql)
        .args(["-X", "-q", "-h", "127.0.0.1", "-p", &port, "-U", "postgres"])
        .args(["-d", "postgres", "-c"])
        .arg(format!("CREATE DATABASE {DATABASE}"))
        .output()
        .map_err(|e| format!("psql: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "creating the database failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

fn node_config_file(state: &ClusterState, extra: Option<&Path>) -> Result<PathBuf, String> {
    let mut text = match extra {
        Some(p) => std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?,
        None => String::new(),
    };
    if text.contains("trusted_proxies") {
        return Err(
            "--node-config must not set trusted_proxies (the cluster sets it for HAProxy)".into(),
        );
    }
    // HAProxy connects from loopback and says who the client is in X-Forwarded-For.
    let line = "trusted_proxies = [\"127.0.0.1/32\"]\n";
    match text.find("[limits]") {
        Some(at) => {
            let end = text[at..].find('\n').map_or(text.len(), |n| at + n + 1);
            text.insert_str(end, line);
        }
        None => {
            text.push_str("\n[limits]\n");
            text.push_str(line);
        }
    }
    // The status page's view of the cluster: every node's /readyz and the
    // database as Patroni sees it (through the members' relays, as everyone
    // else reaches them).
    if text.contains("[cluster]") {
        return Err("--node-config must not have a [cluster] table (the cluster writes it)".into());
    }
    let urls = |ports: &[u16]| {
        ports
            .iter()
            .map(|p| format!("\"http://127.0.0.1:{p}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    text.push_str(&format!(
        "\n[cluster]\nnodes = [{}]\npatroni = [{}]\n",
        urls(&state.node_ports),
        urls(&state.patroni_ports)
    ));
    let path = state.dir.join("holdfast.toml");
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

fn start_node(
    state: &mut ClusterState,
    i: usize,
    holdfast: &Path,
    config: &Path,
) -> Result<(), String> {
    let name = format!("node{}", i + 1);
    let data = state.dir.join(&name);
    let mut cmd = Command::new(holdfast);
    cmd.arg("serve")
        .args(["--listen", &format!("127.0.0.1:{}", state.node_ports[i])])
        .arg("--data-dir")
        .arg(&data)
        .args(["--database", &state.database_url()])
        .args(["--domain", "localhost"])
        .arg("--config")
        .arg(config)
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
        );
    let pid = spawn(&state.dir, &name, cmd)?;
    state.pids.insert(name, pid);
    Ok(())
}

fn start_haproxy(state: &mut ClusterState) -> Result<(), String> {
    let servers: String = state
        .node_ports
        .iter()
        .enumerate()
        .map(|(i, p)| format!("    server node{} 127.0.0.1:{p} check\n", i + 1))
        .collect();
    let config = format!(
        r#"global
    maxconn 4096

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    # A node that refuses the connection or dies mid-request is tried again
    # on another; a 503 only for safe methods (see disable-l7-retry below).
    retries 2
    option redispatch 1
    retry-on conn-failure empty-response response-timeout 503

frontend clients
    bind 127.0.0.1:{port}
    option forwardfor
    default_backend nodes

backend nodes
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    # A degraded node answers /readyz after trying the primary for up to
    # pg_primary_read_timeout_ms: the check must wait that long.
    timeout check 3s
    default-server inter 500ms fall 2 rise 2
    http-request disable-l7-retry unless METH_GET
    # Which node answered (the drill records it per attempt).
    http-response set-header X-Served-By %[srv_name]
{servers}
listen stats
    bind 127.0.0.1:{stats}
    stats enable
    stats uri /
"#,
        port = state.haproxy_port,
        stats = state.haproxy_stats_port,
    );
    let path = state.dir.join("haproxy.cfg");
    std::fs::write(&path, config).map_err(|e| format!("{}: {e}", path.display()))?;
    let check = Command::new("haproxy")
        .args(["-c", "-q", "-f"])
        .arg(&path)
        .output()
        .map_err(|e| format!("haproxy: {e}"))?;
    if !check.status.success() {
        return Err(format!(
            "haproxy rejected {}: {}",
            path.display(),
            String::from_utf8_lossy(&check.stderr)
        ));
    }
    let mut cmd = Command::new("haproxy");
    cmd.arg("-db").arg("-f").arg(&path);
    let pid = spawn(&state.dir, "haproxy", cmd)?;
    state.pids.insert("haproxy".into(), pid);
    Ok(())
}

/// Whether Patroni names a synchronous standby (commits are on two servers).
pub fn has_sync_standby(state: &ClusterState) -> bool {
    state.patroni_cluster().is_ok_and(|c| {
        c.get("members")
            .and_then(|m| m.as_array())
            .is_some_and(|members| {
                members.iter().any(|m| {
                    m.get("role").and_then(|r| r.as_str()) == Some("sync_standby")
                        && m.get("state").and_then(|s| s.as_str()) == Some("running")
                })
            })
    })
}

/// How many standbys stream from the primary, as the primary itself says
/// (`pg_stat_replication`, asked on its own port, past the relay). Patroni's
/// view is not enough: it calls a standby "running" while it waits to be
/// rewound or replays a base backup, which is no standby at all for a
/// synchronous commit (a drill once started its fault on such a cluster: the
/// new primary had no standby to confirm a commit, and under
/// `synchronous_mode_strict` every write waited for 20 s).
pub fn standbys_streaming(state: &ClusterState) -> usize {
    let Some(primary) = state.primary() else {
        return 0;
    };
    let port = state
        .pg_inner_ports
        .get(primary)
        .or(state.pg_ports.get(primary))
        .copied()
        .unwrap_or(0);
    psql_query(
        &state.pg_bin,
        port,
        "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
    )
    .and_then(|count| count.parse().ok())
    .unwrap_or(0)
}

/// One probe of a database member from outside holdfast, as an operator
/// would: `sql` run by `psql` as the superuser on `port`, its answer trimmed;
/// None when psql fails or the member does not answer. Each probe waits at
/// most 2 s to connect and 1 s for the query, so a dead or cut-off member
/// answers None quickly.
pub fn psql_query(pg_bin: &Path, port: u16, sql: &str) -> Option<String> {
    let out = Command::new(pg_bin.join("psql"))
        .args(["-X", "-A", "-t", "-h", "127.0.0.1", "-U", "postgres"])
        .args(["-d", "postgres", "-p", &port.to_string(), "-c", sql])
        .env("PGCONNECT_TIMEOUT", "2")
        .env("PGOPTIONS", "-c statement_timeout=1000")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Starts one stopped process of the cluster again (after a drill's fault):
/// `etcdN`, `patroniN` (PostgreSQL rejoins, rewound if it diverged) or `nodeN`.
pub fn restart(state: &mut ClusterState, name: &str) -> Result<(), String> {
    if state.pids.get(name).is_some_and(|pid| alive(*pid)) {
        return Ok(());
    }
    let index = |prefix: &str| -> Result<usize, String> {
        let n: usize = name[prefix.len()..]
            .parse()
            .map_err(|_| format!("no process {name}"))?;
        (1..=MEMBERS)
            .contains(&n)
            .then_some(n - 1)
            .ok_or_else(|| format!("no process {name}"))
    };
    if name.starts_with("etcd") {
        start_etcd_again(state, index("etcd")?)?;
    } else if name.starts_with("patroni") {
        let owner = postgres_user()?;
        // The timing lives in the DCS since the bootstrap; the file's copy
        // is read only by a bootstrap, so any valid value does here.
        let timing = PatroniTiming::for_api(state.etcd_api);
        start_patroni(state, index("patroni")?, &owner, timing)?;
    } else if name.starts_with("node") {
        let holdfast = state.holdfast.clone();
        let config = state.dir.join("holdfast.toml");
        start_node(state, index("node")?, &holdfast, &config)?;
    } else {
        return Err(format!("cannot restart {name}"));
    }
    state.save()
}

/// An etcd member that was part of the cluster rejoins with its data.
fn start_etcd_again(state: &mut ClusterState, i: usize) -> Result<(), String> {
    start_etcd(state, i)
}

// ---- status ----

pub fn status(dir: &Path) -> Result<(), String> {
    let state = ClusterState::load(&absolute(dir)?)?;
    println!("cluster in {}", state.dir.display());
    println!("clients: {}", state.url());
    println!();
    println!("{:<10} {:>8}  {:<7}  detail", "process", "pid", "state");
    for (name, pid) in &state.pids {
        let up = alive(*pid);
        let detail = if let Some(n) = name.strip_prefix("node") {
            let i: usize = n.parse().unwrap_or(1) - 1;
            let port = state.node_ports[i];
            match http_get(port, "/readyz") {
                Ok((code, body)) => format!(":{port} /readyz {code} {}", body.trim()),
                Err(e) => format!(":{port} {e}"),
            }
        } else if let Some(n) = name.strip_prefix("etcd") {
            let i: usize = n.parse().unwrap_or(1) - 1;
            format!(":{}", state.etcd_client_ports[i])
        } else if let Some(n) = name.strip_prefix("patroni") {
            let i: usize = n.parse().unwrap_or(1) - 1;
            let pm = state
                .postmaster_pid(i)
                .map_or("not running".to_string(), |p| format!("pid {p}"));
            format!(
                "REST :{}, PostgreSQL :{} ({pm})",
                state.patroni_ports[i], state.pg_ports[i]
            )
        } else if let Some(n) = name.strip_prefix("relay") {
            let i: usize = n.parse().unwrap_or(1) - 1;
            format!(
                "pg{} links: PostgreSQL :{} -> :{}, REST :{} -> :{}, etcd via {:?}",
                i + 1,
                state.pg_ports[i],
                state.pg_inner_ports.get(i).copied().unwrap_or(0),
                state.patroni_ports[i],
                state.patroni_inner_ports.get(i).copied().unwrap_or(0),
                state.etcd_relay_ports.get(i).cloned().unwrap_or_default()
            )
        } else {
            format!(
                ":{} (stats :{})",
                state.haproxy_port, state.haproxy_stats_port
            )
        };
        println!(
            "{name:<10} {pid:>8}  {:<7}  {detail}",
            if up { "running" } else { "stopped" }
        );
    }
    println!();
    match state.patroni_cluster() {
        Ok(cluster) => {
            println!(
                "{:<6} {:>6}  {:<14} {:<10} {:>3}  lag",
                "member", "port", "role", "state", "tl"
            );
            for m in cluster
                .get("members")
                .and_then(|m| m.as_array())
                .into_iter()
                .flatten()
            {
                let s = |k: &str| {
                    m.get(k)
                        .map(|v| v.as_str().map_or(v.to_string(), str::to_owned))
                        .unwrap_or_default()
                };
                println!(
                    "{:<6} {:>6}  {:<14} {:<10} {:>3}  {}",
                    s("name"),
                    s("port"),
                    s("role"),
                    s("state"),
                    s("timeline"),
                    s("lag")
                );
            }
            match state.primary() {
                Some(p) => println!("primary: pg{} (:{})", p + 1, state.pg_ports[p]),
                None => println!("primary: none"),
            }
        }
        Err(e) => println!("Patroni: {e}"),
    }
    Ok(())
}

// ---- down ----

pub fn down(dir: &Path) -> Result<(), String> {
    let state = ClusterState::load(&absolute(dir)?)?;
    // Clients' side first, the consensus store last, so Patroni can stop
    // PostgreSQL cleanly while etcd still answers.
    let order = ["haproxy", "node", "patroni", "relay", "etcd"];
    for prefix in order {
        let pids: Vec<u32> = state
            .pids
            .iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .map(|(_, pid)| *pid)
            .collect();
        stop(&pids);
    }
    // A PostgreSQL whose Patroni was killed keeps running: stop it by the pid
    // in its data directory.
    let postmasters: Vec<u32> = (0..MEMBERS)
        .filter_map(|i| state.postmaster_pid(i))
        .collect();
    stop(&postmasters);
    println!("cluster in {} stopped", state.dir.display());
    Ok(())
}

/// SIGTERM, then SIGKILL whatever is left after the stop timeout.
pub fn stop(pids: &[u32]) {
    for pid in pids {
        signal(*pid, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_millis(STOP_TIMEOUT_MS);
    while pids.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(POLL_MS));
    }
    for pid in pids {
        if alive(*pid) {
            signal(*pid, libc::SIGKILL);
        }
    }
}

// ---- helpers ----

pub fn signal(pid: u32, sig: i32) -> bool {
    // Never a broadcast: pid 0 or a negative pid would signal groups.
    if pid == 0 || pid > i32::MAX as u32 {
        return false;
    }
    // SAFETY: kill(2) with a positive pid only sends a signal.
    unsafe { libc::kill(pid as i32, sig) == 0 }
}

pub fn alive(pid: u32) -> bool {
    if !signal(pid, 0) {
        return false;
    }
    // A zombie (exited, not yet reaped by us) is not alive.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with('Z'))
        })
        .unwrap_or(false)
}

/// Starts a process in its own process group (so it outlives this command
/// and a Ctrl-C here), output to DIR/logs/NAME.log; returns its pid.
fn spawn(dir: &Path, name: &str, mut cmd: Command) -> Result<u32, String> {
    let log_path = dir.join("logs").join(format!("{name}.log"));
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| format!("{}: {e}", log_path.display()))?;
    let log2 = log.try_clone().map_err(|e| e.to_string())?;
    cmd.stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .process_group(0);
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {name}: {e}"))?;
    Ok(child.id())
}

/// Runs `program` as `user` without a shell or an extra parent process
/// (setpriv execs), so the recorded pid is the program's own.
fn as_user(user: &str, program: &str) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args([
        &format!("--reuid={user}"),
        &format!("--regid={user}"),
        "--init-groups",
        program,
    ]);
    cmd
}

/// The unprivileged user PostgreSQL runs as when we are root (it refuses
/// root), or the current user otherwise.
fn postgres_user() -> Result<String, String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return std::env::var("USER").map_err(|_| "cannot tell the current user".to_string());
    }
    let ok = Command::new("id")
        .arg("postgres")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Ok("postgres".into())
    } else {
        Err(
            "running as root needs the `postgres` user (Debian's postgresql package creates it)"
                .into(),
        )
    }
}

fn chown_tree(path: &Path, user: &str) -> Result<(), String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    let out = Command::new("chown")
        .arg("-R")
        .arg(format!("{user}:"))
        .arg(path)
        .output()
        .map_err(|e| format!("chown: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "chown {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

/// Installs the Debian packages whose programs are missing (as root), or says
/// which to install.
fn ensure_packages() -> Result<(), String> {
    let mut missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|(program, _)| !on_path(program))
        .map(|(_, package)| *package)
        .collect();
    if pg_bin().is_err() {
        missing.push("postgresql");
    }
    if missing.is_empty() {
        return Ok(());
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err(format!(
            "missing packages: {} (install them: sudo apt-get install {})",
            missing.join(", "),
            missing.join(" ")
        ));
    }
    eprintln!("installing {} with apt-get", missing.join(", "));
    let status = Command::new("apt-get")
        .args(["install", "-y", "-q"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("apt-get: {e}"))?;
    if !status.success() {
        return Err(format!("apt-get install {} failed", missing.join(" ")));
    }
    Ok(())
}

/// The newest installed PostgreSQL's bin directory (Debian's layout).
fn pg_bin() -> Result<PathBuf, String> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| "PostgreSQL is not installed".to_string())?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| "PostgreSQL is not installed".to_string())
}

fn absolute(path: &Path) -> Result<PathBuf, String> {
    std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn wait_until(what: &str, timeout_ms: u64, mut ready: impl FnMut() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    loop {
        if ready() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "timed out after {timeout_ms} ms waiting for {what}"
            ));
        }
        std::thread::sleep(Duration::from_millis(POLL_MS));
    }
}

/// `wait_until` for a process this command started: gives up as soon as
/// the process has exited, quoting the end of its log, rather than waiting
/// out the timeout and leaving the reason in a file the caller may remove.
fn wait_for_process(
    state: &ClusterState,
    name: &str,
    becomes: &str,
    timeout_ms: u64,
    mut ready: impl FnMut() -> bool,
) -> Result<(), String> {
    let pid = state.pids.get(name).copied();
    let mut exited = false;
    wait_until(&format!("{name} to be {becomes}"), timeout_ms, || {
        if ready() {
            return true;
        }
        exited = pid.is_some_and(|p| !alive(p));
        exited
    })?;
    if exited {
        return Err(format!(
            "{name} exited before it was {becomes}; the end of its log:\n{}",
            log_tail(&state.dir, name)
        ));
    }
    Ok(())
}

/// The last `LOG_TAIL_BYTES` of DIR/logs/NAME.log, or why it cannot be read.
fn log_tail(dir: &Path, name: &str) -> String {
    use std::io::{Seek, SeekFrom};
    let path = dir.join("logs").join(format!("{name}.log"));
    let read = || -> std::io::Result<String> {
        let mut file = std::fs::File::open(&path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(LOG_TAIL_BYTES)))?;
        let mut bytes = Vec::new();
        file.take(LOG_TAIL_BYTES).read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    read().unwrap_or_else(|e| format!("({}: {e})", path.display()))
}

/// A GET to a process on loopback: (status, body). Blocking, bounded in time and size.
pub fn http_get(port: u16, path: &str) -> Result<(u16, String), String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let timeout = Duration::from_millis(HTTP_TIMEOUT_MS);
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!(":{port}: {e}"))?;
    stream.set_read_timeout(Some(timeout)).ok();
    stream.set_write_timeout(Some(timeout)).ok();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!(":{port}: {e}"))?;
    let mut raw = Vec::new();
    stream
        .take(HTTP_BODY_MAX_BYTES)
        .read_to_end(&mut raw)
        .map_err(|e| format!(":{port}: {e}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!(":{port}: not an HTTP answer"))?;
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    Ok((
        status,
        if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        },
    ))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].strip_prefix("\r\n").unwrap_or(&rest[n..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(
            dechunk("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
            "hello world"
        );
        assert_eq!(dechunk("zz\r\n"), "");
    }

    #[test]
    fn the_default_timings_keep_patronis_rule_and_flags_override_them() {
        for api in [EtcdApi::V2, EtcdApi::V3] {
            PatroniTiming::for_api(api).check().unwrap();
        }
        let args = PatroniTimingArgs {
            ttl_s: Some(10),
            loop_wait_s: None,
            retry_timeout_s: None,
        };
        assert_eq!(args.resolve(EtcdApi::V2).ttl_s, 10);
        assert_eq!(args.resolve(EtcdApi::V2).loop_wait_s, 2);
        assert_eq!(args.resolve(EtcdApi::V3).retry_timeout_s, 2);
    }

    #[test]
    fn patroni_before_3_0_3_keeps_its_keys_in_etcd_v2() {
        assert_eq!(parse_version("patroni 3.0.2\n"), Some((3, 0, 2)));
        assert_eq!(parse_version("patroni 4.0.4"), Some((4, 0, 4)));
        assert_eq!(parse_version("patroni 3.1"), Some((3, 1, 0)));
        assert_eq!(parse_version("no version here"), None);
        assert_eq!(EtcdApi::for_patroni(Some((3, 0, 2))), EtcdApi::V2);
        assert_eq!(EtcdApi::for_patroni(Some((3, 0, 3))), EtcdApi::V3);
        assert_eq!(EtcdApi::for_patroni(Some((4, 0, 0))), EtcdApi::V3);
        assert_eq!(EtcdApi::for_patroni(None), EtcdApi::V2);
    }

    #[test]
    fn signals_are_never_broadcast() {
        assert!(!signal(0, 0));
        assert!(!signal(u32::MAX, 0));
        assert!(alive(std::process::id()));
    }
}
