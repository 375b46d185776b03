//! `holdfast siege`: legitimate users and attackers at once, against a server on loopback.
//!
//! Flow: refuse non-loopback targets → (start a server) → sign up legitimate users and
//! prepare attacker credentials → run both sides for `--duration-s` → write
//! `report.json` and `plot.svg`, print a summary. Everything is bounded: the run by
//! its duration and by `--max-requests`, connections by the flags below, each request
//! by `--request-timeout-ms`.

mod attack;
pub mod http;
pub mod pinning;
mod plot;
mod report;
pub mod scenarios;
pub mod server;
mod slowbodies;
mod slowloris;
pub mod stats;
pub mod target;
mod workload;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::task::JoinSet;
use tokio::time::Instant;

use scenarios::Scenario;
pub use workload::Rng;

/// Longest siege; per-second histograms cost ~32 KiB each, so this also bounds memory.
pub const DURATION_MAX_S: u64 = 900;
pub const USERS_MAX: usize = 1_000;
/// Issue 10's target for the calm mix is ~6,000/s (10x the first measured
/// capacity), so the ramp must be able to offer more than that.
pub const LEGIT_RATE_MAX_PER_S: f64 = 20_000.0;
pub const ATTACK_CONCURRENCY_MAX: usize = 8_192;
pub const SLOWLORIS_CONNECTIONS_MAX: usize = 50_000;
pub const SLOW_BODIES_MAX: usize = 20_000;
pub const BIG_BODY_MAX_BYTES: usize = 64 * 1024 * 1024;
pub const REQUEST_TIMEOUT_MAX_MS: u64 = 60_000;
/// File descriptors kept back for everything that is not a siege socket.
const SPARE_FILES: u64 = 256;
/// After the deadline, how long past the request timeout to wait for stragglers.
const DRAIN_EXTRA_MS: u64 = 2_000;

#[derive(clap::Args, Clone, Debug, Serialize)]
pub struct SiegeArgs {
    /// Server to siege: http://127.A.B.C:PORT or http://[::1]:PORT (loopback only).
    /// Without it, siege starts `holdfast serve` itself and stops it afterwards.
    #[arg(long)]
    pub target: Option<String>,
    /// calm, anonymous-flood, token-flood, login-flood, signup-flood, slowloris, big-bodies,
    /// mixed, fake-tokens, slow-bodies or shared-address.
    #[arg(long)]
    pub scenario: String,
    /// How long both sides run, after setup.
    #[arg(long, default_value_t = 30)]
    pub duration_s: u64,
    /// Directory for report.json, plot.svg, legit.csv (every legit request: when it
    /// was due, how long it took) and server.log when siege starts the server.
    #[arg(long, default_value = "siege-out")]
    pub out: PathBuf,
    /// Legitimate users, each signed up through the API from its own 127.0.x.y address.
    #[arg(long, default_value_t = 20)]
    pub users: usize,
    /// Total open-loop arrival rate of legitimate requests.
    #[arg(long, default_value_t = 50.0)]
    pub legit_rate_per_s: f64,
    /// Closed-loop flood workers (shared by the floods of the scenario). The default keeps
    /// far more than 10× the legitimate load in flight.
    #[arg(long, default_value_t = 256)]
    pub attack_concurrency: usize,
    /// Cap on the floods' total send rate; 0 = as fast as the workers get answers.
    #[arg(long, default_value_t = 0.0)]
    pub attack_rate_per_s: f64,
    /// Distinct 127.1.x.y source addresses the floods rotate through.
    #[arg(long, default_value_t = 4_096)]
    pub attack_source_ips: usize,
    /// shared-address only: the floods send from the legitimate users' shared
    /// address too, so the server must tell them apart by token, not by address.
    #[arg(long)]
    pub attack_from_legit_address: bool,
    /// Half-open connections for slowloris (each from its own 127.2.x.y address).
    #[arg(long, default_value_t = 5_000)]
    pub slowloris_connections: usize,
    /// Slowloris sends one header byte per connection this often.
    #[arg(long, default_value_t = 3_000)]
    pub slowloris_trickle_ms: u64,
    /// Stalled request bodies of the slow-bodies attack: half HTTP/1.1 requests
    /// (one per connection), half HTTP/2 streams (16 per connection).
    #[arg(long, default_value_t = 1_000)]
    pub slow_bodies: usize,
    /// Pin the server siege starts to these CPUs (e.g. 0), so attackers do not
    /// share its cores; see also --siege-cpus.
    #[arg(long)]
    pub server_cpus: Option<String>,
    /// Pin every siege thread (legitimate users and attackers) to these CPUs (e.g. 1).
    #[arg(long)]
    pub siege_cpus: Option<String>,
    /// Then move the legitimate users' thread to these CPUs (e.g. 0, beside the
    /// server): on a 2-core box the attackers saturate their core, and legitimate
    /// requests sent late from it would measure siege, not the server.
    #[arg(long)]
    pub legit_cpus: Option<String>,
    /// Body size of the big-bodies attack.
    #[arg(long, default_value_t = 1024 * 1024)]
    pub big_body_bytes: usize,
    /// A request not answered this long after it was due counts as an error.
    #[arg(long, default_value_t = 5_000)]
    pub request_timeout_ms: u64,
    /// Hard cap on requests sent by both sides together.
    #[arg(long, default_value_t = 5_000_000)]
    pub max_requests: u64,
    /// Self-started server only: pass `--guard on|off` to `holdfast serve`
    /// (omitted: the server's default).
    #[arg(long)]
    pub guard: Option<String>,
    /// Self-started server only: a TOML config file for `holdfast serve --config`.
    #[arg(long)]
    pub server_config: Option<PathBuf>,
    /// With --target: the server's pid, to sample its RSS.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Seed for the request mix and attacker choices.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Requests left for the whole run, shared by every sender.
pub struct Budget(AtomicU64);

impl Budget {
    pub fn take(&self) -> bool {
        self.0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }
}

fn check(args: &SiegeArgs) -> Result<(), String> {
    let within = |ok: bool, what: &str| if ok { Ok(()) } else { Err(what.to_owned()) };
    within(
        (1..=DURATION_MAX_S).contains(&args.duration_s),
        &format!("--duration-s must be 1..={DURATION_MAX_S}"),
    )?;
    within(
        (1..=USERS_MAX).contains(&args.users),
        &format!("--users must be 1..={USERS_MAX}"),
    )?;
    within(
        args.legit_rate_per_s > 0.0 && args.legit_rate_per_s <= LEGIT_RATE_MAX_PER_S,
        &format!("--legit-rate-per-s must be in (0, {LEGIT_RATE_MAX_PER_S}]"),
    )?;
    within(
        (1..=ATTACK_CONCURRENCY_MAX).contains(&args.attack_concurrency),
        &format!("--attack-concurrency must be 1..={ATTACK_CONCURRENCY_MAX}"),
    )?;
    within(
        args.attack_rate_per_s >= 0.0 && args.attack_rate_per_s.is_finite(),
        "--attack-rate-per-s must be >= 0",
    )?;
    within(
        (1..=target::ADDRESSES_PER_REGION_MAX).contains(&args.attack_source_ips),
        &format!(
            "--attack-source-ips must be 1..={}",
            target::ADDRESSES_PER_REGION_MAX
        ),
    )?;
    within(
        args.slowloris_connections
            <= SLOWLORIS_CONNECTIONS_MAX.min(target::ADDRESSES_PER_REGION_MAX),
        &format!("--slowloris-connections must be at most {SLOWLORIS_CONNECTIONS_MAX}"),
    )?;
    within(
        args.slowloris_trickle_ms >= 100,
        "--slowloris-trickle-ms must be at least 100",
    )?;
    within(
        args.slow_bodies <= SLOW_BODIES_MAX,
        &format!("--slow-bodies must be at most {SLOW_BODIES_MAX}"),
    )?;
    for cpus in [&args.server_cpus, &args.siege_cpus, &args.legit_cpus]
        .into_iter()
        .flatten()
    {
        pinning::parse_cpus(cpus)?;
    }
    within(
        args.big_body_bytes <= BIG_BODY_MAX_BYTES,
        &format!("--big-body-bytes must be at most {BIG_BODY_MAX_BYTES}"),
    )?;
    within(
        (100..=REQUEST_TIMEOUT_MAX_MS).contains(&args.request_timeout_ms),
        &format!("--request-timeout-ms must be 100..={REQUEST_TIMEOUT_MAX_MS}"),
    )?;
    within(args.max_requests >= 1, "--max-requests must be at least 1")?;
    if let Some(g) = &args.guard {
        within(g == "on" || g == "off", "--guard must be on or off")?;
    }
    if args.target.is_some() {
        within(
            args.guard.is_none() && args.server_config.is_none() && args.server_cpus.is_none(),
            "--guard, --server-config and --server-cpus only apply when siege starts the server (no --target)",
        )?;
    } else {
        within(
            args.server_pid.is_none(),
            "--server-pid only applies with --target",
        )?;
    }
    Ok(())
}

/// The legitimate side's sockets at worst: one per request in flight (rate ×
/// timeout, but never more than its own bound on requests in flight) plus
/// the idle ones. Counting rate × timeout alone refused 4,800/s calm (24,000
/// > a 20,000-file limit) although at most 4,096 can be in flight.
fn legit_sockets_max(args: &SiegeArgs) -> u64 {
    let in_flight = ((args.legit_rate_per_s * args.request_timeout_ms as f64 / 1000.0) as u64)
        .min(workload::LEGIT_IN_FLIGHT_MAX as u64);
    in_flight + (workload::IDLE_CONNS_PER_USER_MAX * args.users) as u64
}

/// Makes sure the sockets siege wants fit under the open-files limit; slowloris gives way.
fn fit_open_files(args: &mut SiegeArgs, scenario: Scenario) -> Result<(), String> {
    let limit = target::raise_open_files_limit();
    let legit = legit_sockets_max(args);
    let floods = if scenario.request_floods().is_empty() {
        0
    } else {
        args.attack_concurrency as u64
    };
    let fixed = legit + floods + SPARE_FILES;
    if fixed > limit {
        return Err(format!("needs about {fixed} open files but the limit is {limit}; lower --attack-concurrency or raise `ulimit -n`"));
    }
    if scenario.has_slow_bodies() {
        let sockets = (args.slow_bodies / 2
            + args
                .slow_bodies
                .div_ceil(2 * slowbodies::H2_STREAMS_PER_CONN)) as u64;
        if fixed + sockets > limit {
            return Err(format!(
                "--slow-bodies {} needs about {} open files but the limit is {limit}",
                args.slow_bodies,
                fixed + sockets
            ));
        }
    }
    if scenario.has_slowloris() && fixed + args.slowloris_connections as u64 > limit {
        let capped = (limit - fixed) as usize;
        eprintln!("siege: open-files limit is {limit}; capping slowloris at {capped} connections (asked {})", args.slowloris_connections);
        args.slowloris_connections = capped;
    }
    Ok(())
}

/// Runs one siege; Err for refused arguments, failed setup, or a server that died mid-run.
pub async fn run(mut args: SiegeArgs) -> Result<(), String> {
    // Refuse before anything else happens: no server start, no socket, no file.
    let scenario = Scenario::parse(&args.scenario)?;
    let given_target = args
        .target
        .as_deref()
        .map(target::parse_target)
        .transpose()?;
    check(&args)?;
    if args.attack_from_legit_address && !scenario.legit_share_an_address() {
        return Err("--attack-from-legit-address only applies to shared-address".into());
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    // From here on a run always leaves a report.json: its results, or why
    // nothing was served (a server that did not start, a failed setup).
    let _ = std::fs::remove_file(args.out.join("report.json"));
    let result = match fit_open_files(&mut args, scenario) {
        Ok(()) => start_and_siege(&args, scenario, given_target).await,
        Err(e) => Err(e),
    };
    if let Err(e) = &result {
        report::write_failure(&args, e);
    }
    result
}

async fn start_and_siege(
    args: &SiegeArgs,
    scenario: Scenario,
    given_target: Option<target::Target>,
) -> Result<(), String> {
    let server = match &given_target {
        Some(_) => None,
        None => {
            let exe = std::env::current_exe()
                .map_err(|e| format!("cannot find the holdfast executable: {e}"))?;
            let server_cpus = args
                .server_cpus
                .as_deref()
                .map(pinning::parse_cpus)
                .transpose()?;
            let s = Arc::new(server::start(
                &exe,
                args.guard.as_deref(),
                args.server_config.as_deref(),
                &args.out,
                server_cpus.as_deref(),
            )?);
            if let Err(e) = s.wait_ready().await {
                s.stop().await;
                return Err(e);
            }
            eprintln!(
                "siege: started holdfast serve (pid {}) on {}",
                s.pid, s.target.addr
            );
            if server_cpus.is_some() {
                eprintln!(
                    "siege: server threads on CPUs {}",
                    pinning::threads_cpus(s.pid).join(" | ")
                );
            }
            Some(s)
        }
    };
    if let Some(cpus) = args
        .siege_cpus
        .as_deref()
        .map(pinning::parse_cpus)
        .transpose()?
    {
        pinning::pin_this_process(&cpus)?;
    }
    let result = siege(args, scenario, given_target, server.clone()).await;
    if let Some(s) = &server {
        let status = s.stop().await;
        eprintln!("siege: stopped the server ({status})");
    }
    result
}

async fn siege(
    args: &SiegeArgs,
    scenario: Scenario,
    given: Option<target::Target>,
    server: Option<Arc<server::Server>>,
) -> Result<(), String> {
    let target = given
        .or_else(|| server.as_ref().map(|s| s.target.clone()))
        .expect("a target or a server");
    let pid = server.as_ref().map(|s| s.pid).or(args.server_pid);
    let started_unix_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut rng = Rng::new(args.seed);
    // Usernames must be new on every run against the same server.
    let run_tag = format!(
        "{:x}",
        (started_unix_s ^ u64::from(std::process::id()).rotate_left(20)) & 0xff_ffff
    );
    let request_timeout = Duration::from_millis(args.request_timeout_ms);

    let setup_start = Instant::now();
    eprintln!("siege: signing up {} users on {}", args.users, target.addr);
    let legit = Arc::new(
        workload::setup(
            &target,
            args.users,
            &run_tag,
            &mut rng,
            request_timeout,
            scenario.legit_share_an_address(),
        )
        .await?,
    );
    let floods = scenario.request_floods();
    let kit = attack::setup(
        &target,
        &floods,
        &run_tag,
        &mut rng,
        legit
            .users
            .iter()
            .map(|u| u.account.email.clone())
            .collect(),
        legit.users.iter().map(|u| u.account.id.clone()).collect(),
        args.big_body_bytes,
    )
    .await?;
    let setup_s = setup_start.elapsed().as_secs_f64();

    eprintln!(
        "siege: running {} for {} s",
        scenario.name(),
        args.duration_s
    );
    let duration = Duration::from_secs(args.duration_s);
    let start = Instant::now();
    let start_unix_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let deadline = start + duration;
    let recorder = Arc::new(stats::Recorder::new(start.into_std(), duration));
    let budget = Arc::new(Budget(AtomicU64::new(args.max_requests)));
    let slow_stats = Arc::new(slowloris::Stats::default());
    let (sampler, sampler_task) =
        server::Sampler::spawn(start, pid, server.clone(), slow_stats.clone());

    // Legitimate users get their own thread and scheduler, so that thousands of attacker
    // tasks on the main runtime cannot delay their due times (siege measuring itself).
    let legit_thread = {
        let (legit, recorder, budget, seed) = (
            legit.clone(),
            recorder.clone(),
            budget.clone(),
            rng.next_u64(),
        );
        let rate = args.legit_rate_per_s;
        let cpus = args
            .legit_cpus
            .as_deref()
            .map(pinning::parse_cpus)
            .transpose()?;
        std::thread::Builder::new()
            .name("siege-legit".into())
            .spawn(move || -> Result<(), String> {
                if let Some(cpus) = cpus {
                    pinning::pin(0, &cpus)?;
                }
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                rt.block_on(legit.run(recorder, budget, deadline, rate, seed));
                Ok(())
            })
            .map_err(|e| format!("cannot start the legit thread: {e}"))?
    };

    let mut attackers = JoinSet::new();
    let flood = Arc::new(attack::Flood {
        target: target.clone(),
        kit,
        recorder: recorder.clone(),
        budget: budget.clone(),
        pacer: (args.attack_rate_per_s > 0.0)
            .then(|| attack::Pacer::new(start, args.attack_rate_per_s)),
        request_timeout,
        source_ips: args.attack_source_ips,
        from_legit_address: args.attack_from_legit_address,
    });
    flood.spawn(
        &mut attackers,
        &floods,
        args.attack_concurrency,
        deadline,
        &mut rng,
    );
    if scenario.has_slowloris() {
        let trickle = Duration::from_millis(args.slowloris_trickle_ms);
        slowloris::spawn(
            &mut attackers,
            &target,
            args.slowloris_connections,
            deadline,
            trickle,
            slow_stats.clone(),
        );
    }
    if scenario.has_slow_bodies() {
        slowbodies::spawn(
            &mut attackers,
            &target,
            args.slow_bodies,
            deadline,
            Duration::from_millis(args.slowloris_trickle_ms),
            slow_stats.clone(),
        );
    }

    let legit_done = tokio::task::spawn_blocking(move || legit_thread.join());
    match legit_done.await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => return Err(e),
        _ => return Err("the legit thread panicked".into()),
    }
    let drain_until = deadline + request_timeout + Duration::from_millis(DRAIN_EXTRA_MS);
    while let Ok(Some(_)) = tokio::time::timeout_at(drain_until, attackers.join_next()).await {}
    attackers.abort_all();
    let duration_s = start.elapsed().as_secs_f64().min(duration.as_secs_f64());
    sampler.stop();
    let _ = sampler_task.await;

    let samples = sampler
        .samples
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let rss_max_kib = samples.iter().filter_map(|s| s.rss_kib).max();
    let died = sampler
        .died
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let slow =
        (scenario.has_slowloris() || scenario.has_slow_bodies()).then(|| report::SlowlorisJson {
            attack: if scenario.has_slow_bodies() {
                "slow-body"
            } else {
                "slowloris"
            },
            connections_wanted: if scenario.has_slow_bodies() {
                args.slow_bodies
            } else {
                args.slowloris_connections
            },
            attempted: slow_stats.attempted.load(Ordering::Relaxed),
            connect_failed: slow_stats.connect_failed.load(Ordering::Relaxed),
            cut_by_server: slow_stats.cut_by_server.load(Ordering::Relaxed),
            held_to_end: slow_stats.held_to_end.load(Ordering::Relaxed),
            open_max: slow_stats.open_max.load(Ordering::Relaxed),
        });
    let server_json = report::ServerJson {
        pid,
        self_started: server.is_some(),
        rss_max_kib,
        rss_max_mib: rss_max_kib.map(|k| (k as f64 / 1024.0 * 10.0).round() / 10.0),
        died_during_run: died.clone(),
        exit_status: server.as_ref().and_then(|s| s.exited()),
        samples,
    };
    let snapshot = recorder.snapshot();
    let report = report::Report::build(
        args,
        format!("http://{}", target.addr),
        started_unix_s,
        setup_s,
        duration_s,
        &snapshot,
        slow,
        server_json,
    );
    let json_path = args.out.join("report.json");
    let svg_path = args.out.join("plot.svg");
    let csv_path = args.out.join("legit.csv");
    std::fs::write(&csv_path, report::legit_csv(&snapshot, start_unix_us))
        .map_err(|e| format!("cannot write {}: {e}", csv_path.display()))?;
    let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(&json_path, json)
        .map_err(|e| format!("cannot write {}: {e}", json_path.display()))?;
    std::fs::write(&svg_path, plot::render(&report))
        .map_err(|e| format!("cannot write {}: {e}", svg_path.display()))?;
    print!("{}", report.summary());
    println!(
        "report: {}  plot: {}",
        json_path.display(),
        svg_path.display()
    );
    match died {
        Some(status) => Err(format!("the server died during the siege ({status})")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        siege: SiegeArgs,
    }

    fn args(extra: &[&str]) -> SiegeArgs {
        let mut argv = vec!["siege", "--scenario", "mixed"];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).unwrap().siege
    }

    #[test]
    fn budget_stops_at_zero() {
        let b = Budget(AtomicU64::new(2));
        assert!(b.take() && b.take());
        assert!(!b.take());
    }

    #[test]
    fn defaults_pass_and_bounds_hold() {
        assert!(check(&args(&[])).is_ok());
        assert!(check(&args(&["--duration-s", "0"])).is_err());
        assert!(check(&args(&["--duration-s", "100000"])).is_err());
        assert!(check(&args(&["--guard", "maybe"])).is_err());
        assert!(check(&args(&["--target", "http://127.0.0.1:1", "--guard", "off"])).is_err());
        assert!(check(&args(&["--server-pid", "1"])).is_err());
    }

    #[test]
    fn legit_sockets_are_bounded_by_what_can_be_in_flight() {
        let slow = args(&["--legit-rate-per-s", "10", "--users", "20"]);
        assert_eq!(
            legit_sockets_max(&slow),
            50 + 80,
            "10/s x 5 s + 4 idle per user"
        );
        let fast = args(&["--legit-rate-per-s", "4800", "--users", "20"]);
        assert_eq!(
            legit_sockets_max(&fast),
            workload::LEGIT_IN_FLIGHT_MAX as u64 + 80,
            "not 4,800/s x 5 s"
        );
        assert!(check(&args(&["--legit-rate-per-s", "6000"])).is_ok());
    }

    #[tokio::test]
    async fn non_loopback_target_is_refused_before_anything_happens() {
        let dir = std::env::temp_dir().join(format!("siege-refuse-{}", std::process::id()));
        let a = args(&[
            "--target",
            "http://192.0.2.1:80",
            "--out",
            dir.to_str().unwrap(),
        ]);
        let err = run(a).await.unwrap_err();
        assert!(err.contains("loopback"), "{err}");
        assert!(!dir.exists(), "no output directory for a refused target");
    }
}
