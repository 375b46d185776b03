//! The `holdfast` binary: `serve` runs the server; `user` is for operators.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use holdfast_config::{
    Config, FileConfig, Registrations, DEFAULT_DATA_DIR, DEFAULT_DOMAIN, DEFAULT_LISTEN,
};
use holdfast_guard::listener::ListenerConfig;
use holdfast_guard::Guard;
use holdfast_service::moderation::Actor;
use holdfast_service::Service;
use holdfast_store::{AccountChange, Role};

mod backend;
mod fd_budget;

#[derive(Parser)]
#[command(
    name = "holdfast",
    version,
    about = "A Mastodon-compatible microblogging server that stays up"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage accounts (works while the server runs).
    User {
        #[command(subcommand)]
        action: UserAction,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Apply pending database migrations and exit (serve also does this at start).
    Migrate(CommonArgs),
    /// The moderation audit log: who did what, newest first.
    Audit {
        /// At most this many entries (default and cap: the admin page size).
        #[arg(long)]
        limit: Option<u32>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Announcements to every user (shown by apps through /api/v1/announcements).
    Announce {
        #[command(subcommand)]
        action: AnnounceAction,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Flood a server on loopback with legitimate users and attackers; report what got through.
    Siege(holdfast_testbed::siege::SiegeArgs),
    /// Benchmarks at scale: `bench seed` builds a synthetic instance, `bench run` drives a scenario.
    #[command(subcommand)]
    Bench(holdfast_testbed::bench::BenchCommand),
    /// A local cluster on loopback: etcd, PostgreSQL under Patroni, holdfast nodes, HAProxy.
    Cluster(holdfast_testbed::cluster::ClusterArgs),
    /// Run a workload through a local cluster, inject a fault, check every acknowledged write.
    Drill(holdfast_testbed::drill::DrillArgs),
}

#[derive(Args, Clone)]
struct CommonArgs {
    /// Where the SQLite database lives (created if missing).
    #[arg(long, env = "HOLDFAST_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// A PostgreSQL URL (postgres://a:5432,b:5432/holdfast?target_session_attrs=read-write);
    /// without it, holdfast uses SQLite in the data directory.
    #[arg(long, env = "HOLDFAST_DATABASE", global = true)]
    database: Option<String>,
    /// A TOML file with settings and `[limits]`; flags and environment win over it.
    #[arg(long, env = "HOLDFAST_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// The bare domain this instance is known by.
    #[arg(long, env = "HOLDFAST_DOMAIN", global = true)]
    domain: Option<String>,
    /// The operator's contact e-mail, shown in the instance entity.
    #[arg(long, env = "HOLDFAST_CONTACT_EMAIL", global = true)]
    contact_email: Option<String>,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Address to listen on.
    #[arg(long, env = "HOLDFAST_LISTEN")]
    listen: Option<String>,
    /// Who may sign up: open, approval or closed (default: open on localhost, else approval).
    #[arg(long, env = "HOLDFAST_REGISTRATIONS")]
    registrations: Option<String>,
    /// Flood defences: on (default) or off (only to measure what they do).
    #[arg(long, env = "HOLDFAST_GUARD")]
    guard: Option<String>,
    /// Serve https: a PEM certificate chain (needs --tls-key too).
    #[arg(long, env = "HOLDFAST_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key for --tls-cert.
    #[arg(long, env = "HOLDFAST_TLS_KEY")]
    tls_key: Option<PathBuf>,
}

/// What `serve` adds to the settings every command shares.
#[derive(Default)]
struct ServeOptions {
    listen: Option<String>,
    registrations: Option<String>,
    guard: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
}

#[derive(Subcommand)]
enum UserAction {
    /// Create an account; the password is read from the first line of standard input.
    Create {
        username: String,
        #[arg(long)]
        email: String,
    },
    /// List accounts (at most `--limit`, by default `cli_user_list_default`).
    List {
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Suspend an account: its sessions end and it disappears from view.
    Suspend { username: String },
    /// Lift a suspension.
    Unsuspend { username: String },
    /// Approve an account that signed up while registrations needed approval.
    Approve { username: String },
    /// Make an account a moderator or an admin (the admin API and moderation pages).
    Grant {
        username: String,
        /// moderator or admin
        role: String,
    },
    /// Take an account's role away (it becomes a plain user).
    Revoke { username: String },
    /// Hide an account from public timelines (its followers still see it).
    Silence { username: String },
    /// Lift a silence.
    Unsilence { username: String },
    /// Set a new password (read from the first line of standard input);
    /// every token and log-in session of the account ends.
    Password { username: String },
    /// Delete an account and everything it owns, for good.
    Delete { username: String },
}

#[derive(Subcommand)]
enum AnnounceAction {
    /// Publish an announcement to every user.
    Create {
        text: String,
        /// Shown from this many seconds from now (default: at once).
        #[arg(long)]
        starts_in_s: Option<u32>,
        /// No longer shown this many seconds from now (default: until deleted).
        #[arg(long)]
        ends_in_s: Option<u32>,
        /// The times are whole days.
        #[arg(long)]
        all_day: bool,
    },
    /// List every announcement, ended and future ones included.
    List,
    /// Delete an announcement.
    Delete { id: i64 },
}

fn resolve(common: &CommonArgs, serve: ServeOptions) -> Result<Config, String> {
    let ServeOptions {
        listen,
        registrations,
        guard,
        tls_cert,
        tls_key,
    } = serve;
    let file = match &common.config {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    };
    let domain = common
        .domain
        .clone()
        .or(file.domain)
        .unwrap_or_else(|| DEFAULT_DOMAIN.to_owned());
    let registrations = match registrations {
        Some(r) => Registrations::parse(&r)
            .ok_or_else(|| format!("--registrations must be open, approval or closed, not {r}"))?,
        None => file
            .registrations
            .unwrap_or_else(|| Registrations::default_for_domain(&domain)),
    };
    let guard_enabled = match guard.as_deref() {
        None => file.guard.unwrap_or(true),
        Some("on") => true,
        Some("off") => false,
        Some(other) => return Err(format!("--guard must be on or off, not {other}")),
    };
    let tls_cert = tls_cert.or(file.tls_cert);
    let tls_key = tls_key.or(file.tls_key);
    if tls_cert.is_some() != tls_key.is_some() {
        return Err("TLS needs both --tls-cert and --tls-key (or tls_cert and tls_key)".to_owned());
    }
    Ok(Config {
        guard_enabled,
        tls_cert,
        tls_key,
        listen: listen
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
        data_dir: common
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
        database_url: common.database.clone().or(file.database),
        domain,
        registrations,
        contact_email: holdfast_config::check_contact_email(
            common
                .contact_email
                .as_deref()
                .or(file.contact_email.as_deref())
                .unwrap_or(""),
        )?,
        instance: file.instance.check()?,
        cluster: file.cluster.check(&file.limits)?,
        limits: file.limits,
    })
}

/// Links point at the listener for a local instance (https when it serves
/// TLS), at https://domain otherwise.
fn base_url(config: &Config) -> String {
    if config.domain == "localhost" {
        let scheme = if config.tls_cert.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", config.listen)
    } else {
        format!("https://{}", config.domain)
    }
}

async fn open_service(config: Config) -> Result<Service, String> {
    let (store, media) = backend::open_store(&config).await?;
    let base = base_url(&config);
    Ok(Service::new(store, media, config, base))
}

/// Binds the first of `listen`'s addresses that binds, with room for `backlog`
/// connections waiting for `accept` (`TcpListener::bind` always asks for 1,024).
async fn listen_on(listen: &str, backlog: u32) -> std::io::Result<tokio::net::TcpListener> {
    let mut last_error = None;
    for addr in tokio::net::lookup_host(listen).await? {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        // As `TcpListener::bind`: a restart may bind while old connections linger.
        socket.set_reuseaddr(true)?;
        match socket.bind(addr).and_then(|()| socket.listen(backlog)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address to listen on")
    }))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("holdfast: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("holdfast: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve(args) => {
            serve(resolve(
                &args.common,
                ServeOptions {
                    listen: args.listen,
                    registrations: args.registrations,
                    guard: args.guard,
                    tls_cert: args.tls_cert,
                    tls_key: args.tls_key,
                },
            )?)
            .await
        }
        Command::Migrate(common) => {
            open_service(resolve(&common, ServeOptions::default())?).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::User { action, common } => {
            user(
                open_service(resolve(&common, ServeOptions::default())?).await?,
                action,
            )
            .await
        }
        Command::Audit { limit, common } => {
            audit(
                open_service(resolve(&common, ServeOptions::default())?).await?,
                limit,
            )
            .await
        }
        Command::Announce { action, common } => {
            announce(
                open_service(resolve(&common, ServeOptions::default())?).await?,
                action,
            )
            .await
        }
        Command::Siege(args) => holdfast_testbed::siege::run(args).await,
        Command::Bench(command) => holdfast_testbed::bench::run(command).await,
        Command::Cluster(args) => holdfast_testbed::cluster::run(args).await,
        Command::Drill(args) => holdfast_testbed::drill::run(args).await,
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let listen = config.listen.clone();
    let data_dir = config.data_dir.clone();
    let registrations = config.registrations;
    let guard_enabled = config.guard_enabled;
    let limits = config.limits.clone();
    // Checked before anything opens: a bad certificate stops the start with its reason.
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(holdfast_guard::listener::TlsConfig {
            acceptor: holdfast_guard::tls::acceptor(cert, key)?,
            handshake_timeout: Duration::from_millis(limits.tls_handshake_timeout_ms),
        }),
        _ => None,
    };
    limits.check_admission_tuning()?;
    // A write waiting out a failover must still answer within the request's
    // own deadline, or the client gets the request timeout's 503 instead.
    // (Only PostgreSQL retries writes across a failover.)
    if config.database_url.is_some() && limits.pg_write_retry_window_ms >= limits.request_timeout_ms
    {
        return Err(format!(
            "pg_write_retry_window_ms ({}) must be below request_timeout_ms ({})",
            limits.pg_write_retry_window_ms, limits.request_timeout_ms
        ));
    }
    // Whose word the listener takes about the client: its address (PROXY
    // header, X-Forwarded-For), so per-address limits work behind HAProxy,
    // and its scheme (X-Forwarded-Proto, for Link headers).
    let trusted_proxies = limits
        .trusted_proxies
        .iter()
        .map(|p| {
            holdfast_guard::netaddr::Cidr::parse(p).map_err(|e| format!("trusted_proxies: {e}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let feed_config = config.clone();
    // The PostgreSQL pools' own I/O runtime exists for the signed-in lane:
    // with one runtime there is nothing to keep apart, and every query would
    // pay two wake-ups across threads for nothing (with it, server CPU per
    // home page on PostgreSQL was 6 to 26 % higher in two alternating pairs,
    // bench/perf/README.md, "Session 12 (pg)").
    let mut config = config;
    if signed_in_lane_threads(&limits, guard_enabled) == 0 {
        config.limits.pg_io_threads_max = 0;
    }
    let service = open_service(config).await?;
    service.spawn_media_cleanup();
    service.spawn_push_delivery(holdfast_api::push_client::transport());
    service.spawn_due_jobs();
    service.spawn_home_fanout();
    // After the migrations (the feed's table exists); serving starts once the
    // feed listens, or after a bounded wait (then /readyz says it is down).
    if let Some(feed) = backend::open_feed(&feed_config)? {
        service.events.attach_feed(feed.clone());
        let wait = Duration::from_millis(limits.pg_connect_timeout_ms * 2);
        let started = std::time::Instant::now();
        while !feed.is_live() && started.elapsed() < wait {
            tokio::time::sleep(Duration::from_millis(limits.feed_start_poll_ms)).await;
        }
        if !feed.is_live() {
            tracing::warn!("the streaming event feed is not live yet; serving anyway");
        }
    }
    let hub = service.events.clone();
    let streams = service.events.clone();
    let listener = listen_on(&listen, limits.listen_backlog_max)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let mut listener_config = ListenerConfig::from_limits(&limits);
    listener_config.max_connections =
        fd_budget::fit_connections(listener_config.max_connections, &limits);
    let tls_enabled = tls.is_some();
    listener_config.tls = tls;
    listener_config.trusted_proxies = Arc::new(trusted_proxies);

    let guard = Guard::new(&limits, holdfast_api::refusal)?;
    guard.attach_token_directory(Arc::new(TokenOwners(service.clone())));
    listener_config.offenders = Some(guard.offenders.clone());
    listener_config.refusal_body = Some(holdfast_api::refusal);
    guard.spawn_attack_log(Duration::from_secs(limits.attack_log_interval_s));
    let metrics_guard = guard.clone();
    let refusals = guard.refusals.clone();
    let guard_counters: holdfast_api::CounterSource = Arc::new(move || refusals.totals());
    let app = holdfast_api::app(
        service,
        Some(Arc::new(move |out: &mut String| {
            metrics_guard.render_metrics(out)
        })),
        guard_enabled.then_some(guard_counters),
    );
    if !guard_enabled {
        tracing::warn!(
            "the guard is OFF: no rate limits, admission control or cache (measurement mode)"
        );
    }
    let app = holdfast_guard::edge(app, guard_enabled.then(|| guard.clone()), &limits);
    let lane = signed_in_lane(&limits, guard_enabled)?;
    listener_config.signed_in_lane = lane.as_ref().map(|runtime| runtime.handle().clone());
    tracing::info!(%listen, data_dir = %data_dir.display(), ?registrations, guard = guard_enabled,
        tls = tls_enabled, max_connections = listener_config.max_connections,
        signed_in_lane = lane.is_some(), "holdfast is serving");
    holdfast_guard::listener::serve(
        listener,
        app,
        listener_config,
        guard.refusals.clone(),
        async move {
            shutdown_signal().await;
            // Streams end first (SSE finishes, WebSockets get a close frame),
            // so the listener's drain is not held up by them.
            hub.shut_down();
        },
    )
    .await;
    streams
        .drained(
            Duration::from_millis(limits.streaming_write_timeout_ms),
            Duration::from_millis(limits.streaming_drain_poll_ms),
        )
        .await;
    // Its connections have drained above; a runtime cannot be dropped (which
    // blocks) from inside another.
    if let Some(lane) = lane {
        lane.shutdown_background();
    }
    tracing::info!("stopped");
    Ok(())
}

/// How many threads the signed-in lane has (0: no lane; see `signed_in_lane`).
fn signed_in_lane_threads(limits: &holdfast_config::Limits, guard_enabled: bool) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if guard_enabled {
        cores.min(limits.signed_in_lane_threads_max)
    } else {
        0
    }
}

/// The runtime of the signed-in lane (see `holdfast_guard::listener`): as many
/// workers as the main runtime has, up to `signed_in_lane_threads_max`. Only
/// with the guard on: the guard is what marks an address as signed-in.
fn signed_in_lane(
    limits: &holdfast_config::Limits,
    guard_enabled: bool,
) -> Result<Option<tokio::runtime::Runtime>, String> {
    let threads = signed_in_lane_threads(limits, guard_enabled);
    if threads == 0 {
        return Ok(None);
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("hf-signed-in")
        .enable_all()
        .build()
        .map(Some)
        .map_err(|e| format!("cannot start the signed-in lane's runtime: {e}"))
}

/// Answers the guard's question "whose token (or web session) is this?" from
/// the database, so signed-in budgets are per account and made-up tokens count
/// as anonymous.
struct TokenOwners(Service);

impl holdfast_guard::tokens::TokenDirectory for TokenOwners {
    fn owner<'a>(&'a self, token: &'a str) -> holdfast_guard::tokens::OwnerFuture<'a> {
        use holdfast_guard::tokens::TokenOwner;
        use holdfast_service::ServiceError;
        Box::pin(async move {
            match self.0.authenticate(token).await {
                Ok(p) => Some(p.account_id.map_or(TokenOwner::App, TokenOwner::Account)),
                Err(ServiceError::Unauthorized(_)) => Some(TokenOwner::Unknown),
                Err(_) => None,
            }
        })
    }

    fn session_owner<'a>(&'a self, secret: &'a str) -> holdfast_guard::tokens::OwnerFuture<'a> {
        use holdfast_guard::tokens::TokenOwner;
        Box::pin(async move {
            match self.0.session_account(secret).await {
                Ok(Some(account)) => Some(TokenOwner::Account(account.id)),
                Ok(None) => Some(TokenOwner::Unknown),
                Err(_) => None,
            }
        })
    }

    fn session_cookie(&self) -> &'static str {
        holdfast_api::web::session::SESSION_COOKIE
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { () = interrupt => {}, () = terminate => {} }
}

async fn user(service: Service, action: UserAction) -> Result<(), String> {
    match action {
        UserAction::Create { username, email } => {
            let password = read_password()?;
            let account = service
                .create_user(&username, &email, password)
                .await
                .map_err(|e| e.to_string())?;
            println!("created {} (id {})", account.username, account.id);
        }
        UserAction::List { limit } => {
            println!(
                "{:<20} {:<30} {:<32} {:<10} status",
                "id", "username", "email", "role"
            );
            for row in service
                .list_accounts(limit)
                .await
                .map_err(|e| e.to_string())?
            {
                let a = &row.account;
                let state = if a.suspended {
                    "suspended"
                } else if !a.approved {
                    "pending"
                } else {
                    "active"
                };
                println!(
                    "{:<20} {:<30} {:<32} {:<10} {state}",
                    a.id,
                    a.username,
                    row.email,
                    a.role.as_str()
                );
            }
        }
        UserAction::Suspend { username } => {
            let a = service
                .set_suspended(&username, true)
                .await
                .map_err(|e| format!("{username}: {e}"))?;
            println!("suspended {}", a.username);
        }
        UserAction::Unsuspend { username } => {
            let a = service
                .set_suspended(&username, false)
                .await
                .map_err(|e| format!("{username}: {e}"))?;
            println!("unsuspended {}", a.username);
        }
        UserAction::Approve { username } => {
            let a = service
                .approve(&username)
                .await
                .map_err(|e| format!("{username}: {e}"))?;
            println!("approved {}", a.username);
        }
        UserAction::Grant { username, role } => {
            let role = match Role::parse(&role) {
                Some(r @ (Role::Moderator | Role::Admin)) => r,
                _ => return Err(format!("the role must be moderator or admin, not {role}")),
            };
            let a = service
                .set_role_of(&username, role)
                .await
                .map_err(|e| format!("{username}: {e}"))?;
            println!("{} is now {}", a.account.username, role.as_str());
        }
        UserAction::Revoke { username } => {
            let a = service
                .set_role_of(&username, Role::User)
                .await
                .map_err(|e| format!("{username}: {e}"))?;
            println!("{} is now a user", a.account.username);
        }
        UserAction::Silence { username } => {
            let a = service
                .change_account_by_name(&username, AccountChange::Silenced(true))
                .await
                .map_err(|e| format!("{username}: {e}"))?;
            println!("silenced {}", a.account.username);
        }
        UserAction::Unsilence { username } => {
            let a = service
                .change_account_by_name(&username, AccountChange::Silenced(false))
                .await
                .map_err(|e| format!("{username}: {e}"))?;
            println!("unsilenced {}", a.account.username);
        }
        UserAction::Password { username } => {
            let password = read_password()?;
            let a = service
                .reset_password(&username, password)
                .await
                .map_err(|e| format!("{username}: {e}"))?;
            println!("password of {} changed; its sessions ended", a.username);
        }
        UserAction::Delete { username } => {
            let a = service
                .delete_user(&username)
                .await
                .map_err(|e| format!("{username}: {e}"))?;
            println!("deleted {}", a.username);
        }
    }
    Ok(())
}

fn read_password() -> Result<String, String> {
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| format!("cannot read the password: {e}"))?;
    Ok(password.trim_end_matches(['\r', '\n']).to_owned())
}

async fn audit(service: Service, limit: Option<u32>) -> Result<(), String> {
    let page = holdfast_service::PageRequest {
        limit,
        ..Default::default()
    };
    let log = service
        .audit_log(Actor::Operator, page)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{:<24} {:<16} {:<20} {:<14} {:<24} detail",
        "when", "who", "action", "target type", "target"
    );
    for e in log.items {
        println!(
            "{:<24} {:<16} {:<20} {:<14} {:<24} {}",
            holdfast_config::time::iso8601(e.created_at_ms),
            e.actor_username.as_deref().unwrap_or(if e.actor.is_some() {
                "(deleted)"
            } else {
                "(operator)"
            }),
            e.action,
            e.target_type,
            e.target_name,
            e.detail
        );
    }
    Ok(())
}

async fn announce(service: Service, action: AnnounceAction) -> Result<(), String> {
    let at = |s: Option<u32>| s.map(|s| holdfast_config::time::now_ms() + i64::from(s) * 1000);
    match action {
        AnnounceAction::Create {
            text,
            starts_in_s,
            ends_in_s,
            all_day,
        } => {
            let a = service
                .create_announcement(
                    Actor::Operator,
                    &text,
                    at(starts_in_s),
                    at(ends_in_s),
                    all_day,
                    true,
                )
                .await
                .map_err(|e| e.to_string())?;
            println!("announcement {} published", a.id);
        }
        AnnounceAction::List => {
            for a in service
                .all_announcements(Actor::Operator)
                .await
                .map_err(|e| e.to_string())?
            {
                let when =
                    |ms: Option<i64>| ms.map_or("-".to_owned(), holdfast_config::time::iso8601);
                println!(
                    "{:<20} {:<24} {:<24} {}",
                    a.id,
                    when(a.starts_at_ms),
                    when(a.ends_at_ms),
                    a.text
                );
            }
        }
        AnnounceAction::Delete { id } => {
            service
                .delete_announcement(Actor::Operator, id)
                .await
                .map_err(|e| e.to_string())?;
            println!("announcement {id} deleted");
        }
    }
    Ok(())
}
