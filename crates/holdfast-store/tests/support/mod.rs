//! Test backends for the conformance suite: a fresh SQLite data directory,
//! or a fresh database in a throwaway PostgreSQL cluster that this harness
//! starts itself (initdb into a temporary directory, a free loopback port).
//!
//! The cluster is started once per test binary and stopped by a watchdog
//! shell that waits for this process to exit, then stops PostgreSQL and
//! removes the directory, so nothing outlives the run, even after a panic.
//! PostgreSQL refuses to run as root: as root, initdb and postgres run as
//! the `postgres` user (Debian's package creates it), else `nobody`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use holdfast_config::Limits;
use holdfast_store::postgres::PgStore;
use holdfast_store::sqlite::SqliteStore;
use holdfast_store::Store;

pub mod common;
// The test beds' port picker, the same file (holdfast-testbed depends on this
// crate, so it cannot be a dependency here): below the ephemeral range, so an
// outgoing connection cannot take the port while initdb runs.
#[path = "../../../holdfast-testbed/src/ports.rs"]
#[allow(dead_code)]
mod ports;

/// How long the throwaway cluster may take to accept connections.
const PG_START_TIMEOUT: Duration = Duration::from_secs(60);
/// Connections per test store: tests run in parallel against one cluster.
const TEST_POOL_SIZE: usize = 4;

static NEXT: AtomicU64 = AtomicU64::new(0);

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn limits() -> Limits {
    Limits {
        pg_pool_size: TEST_POOL_SIZE,
        ..Limits::default()
    }
}

/// One backend under test. `second_node` opens another store on the same
/// data, as a second holdfast node would.
pub struct Backend {
    pub store: Arc<dyn Store>,
    pub kind: Kind,
    _dir: Option<TempDir>,
}

#[derive(Clone)]
pub enum Kind {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Backend {
    pub async fn second_node(&self) -> Arc<dyn Store> {
        match &self.kind {
            // SQLite is the single-node shape: one process owns the file, so
            // "another node" is the same store. (A second SqliteStore on one
            // file can mint colliding ids: see the report on IdGenerator.)
            Kind::Sqlite(_) => self.store.clone(),
            Kind::Postgres(url) => Arc::new(
                PgStore::open(url, &limits())
                    .await
                    .expect("second PostgreSQL node"),
            ),
        }
    }

    /// Where this backend keeps media bytes: files beside SQLite, the
    /// `media_blobs` table in PostgreSQL.
    pub async fn media_store(&self) -> Arc<dyn holdfast_store::MediaStore> {
        match &self.kind {
            Kind::Sqlite(dir) => Arc::new(
                holdfast_store::FileMediaStore::open(&dir.join("media")).expect("media directory"),
            ),
            Kind::Postgres(url) => Arc::new(
                PgStore::open(url, &limits())
                    .await
                    .expect("PostgreSQL media store"),
            ),
        }
    }

    /// Another store on this backend's data, opened with other limits. For
    /// reads only: a second SQLite store on one file could mint colliding ids.
    pub async fn reopened_with(&self, limits: Limits) -> Arc<dyn Store> {
        match &self.kind {
            Kind::Sqlite(dir) => Arc::new(SqliteStore::open(dir, &limits).expect("reopen SQLite")),
            Kind::Postgres(url) => Arc::new(
                PgStore::open(url, &limits)
                    .await
                    .expect("reopen PostgreSQL"),
            ),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.kind, Kind::Postgres(_))
    }
}

pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let p = std::env::temp_dir().join(unique(prefix));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub async fn sqlite() -> Backend {
    let dir = TempDir::new("holdfast-sqlite-test");
    let store = SqliteStore::open(&dir.0, &limits()).expect("open SQLite");
    Backend {
        store: Arc::new(store),
        kind: Kind::Sqlite(dir.0.clone()),
        _dir: Some(dir),
    }
}

pub async fn postgres() -> Backend {
    let url = fresh_database();
    let store = PgStore::open(&url, &limits())
        .await
        .expect("open PostgreSQL");
    Backend {
        store: Arc::new(store),
        kind: Kind::Postgres(url),
        _dir: None,
    }
}

// ---- the throwaway cluster ----

pub struct Cluster {
    pub port: u16,
    pub bin: PathBuf,
}

impl Cluster {
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Runs SQL as the superuser through psql (synchronous: usable from any test runtime).
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
            ])
            .args(["-p", &self.port.to_string(), "-d", database, "-c", sql])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

/// A new, empty database in the shared cluster: each test gets its own.
pub fn fresh_database() -> String {
    let c = cluster();
    let name = unique("holdfast_test");
    // CREATE DATABASE copies template1; serializing them avoids
    // "source database is being accessed by other users".
    static CREATE: Mutex<()> = Mutex::new(());
    let _guard = CREATE.lock().unwrap_or_else(|p| p.into_inner());
    c.psql("postgres", &format!("CREATE DATABASE {name}"));
    c.url(&name)
}

pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        start_cluster().unwrap_or_else(|e| panic!("cannot start a throwaway PostgreSQL: {e}"))
    })
}

fn pg_bin_dir() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("HOLDFAST_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| "PostgreSQL is not installed (Debian: apt-get install postgresql; scripts/test does this)".to_string())?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse::<u32>().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| "no initdb under /usr/lib/postgresql/*/bin".into())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// As root, who runs PostgreSQL: Debian's `postgres` user if present, else `nobody`.
pub fn unprivileged_user() -> Option<&'static str> {
    if !is_root() {
        return None;
    }
    let exists = |u: &str| {
        Command::new("id")
            .arg(u)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    Some(if exists("postgres") {
        "postgres"
    } else {
        "nobody"
    })
}

/// `cmd args…`, as the unprivileged user when we are root.
pub fn command_as(user: Option<&str>, program: &Path) -> Command {
    match user {
        Some(u) => {
            let mut c = Command::new("runuser");
            c.args(["-u", u, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    }
}

pub fn free_port() -> u16 {
    ports::free_loopback_port().expect("a free loopback port")
}

fn start_cluster() -> Result<Cluster, String> {
    let bin = pg_bin_dir()?;
    let user = unprivileged_user();
    // Not a TempDir: the watchdog removes it once PostgreSQL has stopped.
    let dir = std::env::temp_dir().join(unique("holdfast-pg"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    if let Some(u) = user {
        let ok = Command::new("chown")
            .arg("-R")
            .arg(u)
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err(format!("cannot chown {} to {u}", dir.display()));
        }
    }
    let data = dir.join("data");
    let out = command_as(user, &bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--lc-collate=C",
            "--lc-ctype=C.UTF-8",
            "--no-sync",
        ])
        .output()
        .map_err(|e| format!("cannot run initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let port = free_port();
    // Durability settings off: these tests check behaviour, not crash safety.
    let script = r#"
        "$1/postgres" -D "$2/data" -p "$3" -k "$2" -c listen_addresses=127.0.0.1 -c max_connections=300 \
            -c fsync=off -c synchronous_commit=off -c full_page_writes=off >"$2/postgres.log" 2>&1 &
        pg=$!
        while [ -d "/proc/$4" ] && kill -0 "$pg" 2>/dev/null; do sleep 0.3; done
        kill -INT "$pg" 2>/dev/null
        wait "$pg"
        rm -rf "$2"
    "#;
    command_as(user, Path::new("/bin/sh"))
        .args(["-c", script, "holdfast-pg-watchdog"])
        .arg(&bin)
        .arg(&dir)
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start postgres: {e}"))?;
    let cluster = Cluster { port, bin };
    let deadline = Instant::now() + PG_START_TIMEOUT;
    loop {
        let ready = Command::new(cluster.bin.join("pg_isready"))
            .args([
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "postgres",
            ])
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            return Ok(cluster);
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join("postgres.log")).unwrap_or_default();
            return Err(format!("PostgreSQL did not start in time: {log}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
