//! Self-contained mode: siege starts `holdfast serve` itself on a free loopback
//! port with a throw-away data directory, watches its memory, and stops it after.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use super::http::{connect, Request};
use super::slowloris;
use super::target::{parse_target, Target};

/// How long the server may take to answer /healthz after it starts.
const START_TIMEOUT_MS: u64 = 30_000;
/// After SIGTERM, how long before SIGKILL.
const STOP_TIMEOUT_MS: u64 = 15_000;
/// RSS sampling period.
pub const SAMPLE_PERIOD_MS: u64 = 500;

pub struct Server {
    child: Mutex<Child>,
    pub pid: u32,
    pub target: Target,
    /// A throw-away data directory, removed at stop (None when the caller gave the data).
    scratch_dir: Option<PathBuf>,
    pub log_path: PathBuf,
}

/// Where the started server keeps its data.
pub enum ServerData {
    /// A fresh SQLite data directory in the temp dir, removed at stop (siege).
    Scratch,
    /// An existing SQLite data directory, kept (a seeded bench instance).
    Dir(PathBuf),
    /// A PostgreSQL URL (`--database`), kept.
    Postgres(String),
}

/// Starts `exe serve` with a fresh data directory; its log goes to `out_dir/server.log`.
pub fn start(
    exe: &Path,
    guard: Option<&str>,
    config: Option<&Path>,
    out_dir: &Path,
    cpus: Option<&[usize]>,
) -> Result<Server, String> {
    start_on(exe, ServerData::Scratch, guard, config, out_dir, cpus)
}

/// Starts `exe serve` on the given data; its log goes to `out_dir/server.log`.
/// With `cpus`, the server is pinned to them (see `pinning`).
pub fn start_on(
    exe: &Path,
    data: ServerData,
    guard: Option<&str>,
    config: Option<&Path>,
    out_dir: &Path,
    cpus: Option<&[usize]>,
) -> Result<Server, String> {
    let port = crate::ports::free_loopback_port()?;
    let listen = format!("127.0.0.1:{port}");
    let target = parse_target(&format!("http://{listen}"))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let scratch_dir = matches!(data, ServerData::Scratch).then(|| {
        std::env::temp_dir().join(format!("holdfast-siege-{}-{nanos}", std::process::id()))
    });
    if let Some(d) = &scratch_dir {
        std::fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    let log_path = out_dir.join("server.log");
    let log = File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let log2 = log.try_clone().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(exe);
    cmd.arg("serve")
        .arg("--listen")
        .arg(&listen)
        .arg("--domain")
        .arg("localhost");
    match (&data, &scratch_dir) {
        (ServerData::Postgres(url), _) => cmd.arg("--database").arg(url),
        (ServerData::Dir(d), _) | (ServerData::Scratch, Some(d)) => cmd.arg("--data-dir").arg(d),
        (ServerData::Scratch, None) => unreachable!("a scratch directory was made above"),
    };
    if let Some(g) = guard {
        cmd.arg("--guard").arg(g);
    }
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    // Per-request logging under a flood would measure the disk, not the server.
    cmd.env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2);
    if let Some(cpus) = cpus {
        // Pinned before exec, so every thread the server starts inherits it.
        let set = super::pinning::cpu_set(cpus);
        use std::os::unix::process::CommandExt;
        // SAFETY: between fork and exec only one async-signal-safe system
        // call runs, on a set computed before the fork.
        unsafe {
            cmd.pre_exec(move || {
                if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {} serve: {e}", exe.display()))?;
    Ok(Server {
        pid: child.id(),
        child: Mutex::new(child),
        target,
        scratch_dir,
        log_path,
    })
}

impl Server {
    /// Exit status if the process has ended.
    pub fn exited(&self) -> Option<String> {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        child.try_wait().ok().flatten().map(|s| s.to_string())
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    pub async fn wait_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_millis(START_TIMEOUT_MS);
        while Instant::now() < deadline {
            if let Some(status) = self.exited() {
                return Err(format!(
                    "the server exited at start ({status}):\n{}",
                    self.log_tail()
                ));
            }
            let probe = tokio::time::timeout(Duration::from_secs(1), async {
                let mut c = connect(self.target.addr, None).await?;
                c.send(&self.target.host, &Request::get("/healthz")).await
            });
            if let Ok(Ok(r)) = probe.await {
                if r.status == 200 {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!(
            "the server did not answer /healthz within {START_TIMEOUT_MS} ms:\n{}",
            self.log_tail()
        ))
    }

    /// SIGTERM, then SIGKILL after the grace; removes a scratch data directory. Returns the exit status.
    pub async fn stop(&self) -> String {
        if self.exited().is_none() {
            // SAFETY: kill(2) on the pid of our own child, which has not been reaped yet.
            unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_millis(STOP_TIMEOUT_MS);
            while self.exited().is_none() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if self.exited().is_none() {
                let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        if let Some(d) = &self.scratch_dir {
            let _ = std::fs::remove_dir_all(d);
        }
        self.exited().unwrap_or_else(|| "unknown".into())
    }
}

/// Resident set size of a process, from /proc (Linux).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[derive(Clone, Debug, Serialize)]
pub struct Sample {
    pub t_s: f64,
    pub rss_kib: Option<u64>,
    pub slowloris_open: u64,
}

/// Samples the server's RSS (and the slowloris gauge) every `SAMPLE_PERIOD_MS` until stopped;
/// notices a self-started server dying mid-run.
pub struct Sampler {
    pub samples: Mutex<Vec<Sample>>,
    pub died: Mutex<Option<String>>,
    stop: AtomicBool,
}

impl Sampler {
    pub fn spawn(
        start: Instant,
        pid: Option<u32>,
        server: Option<Arc<Server>>,
        slow: Arc<slowloris::Stats>,
    ) -> (Arc<Sampler>, tokio::task::JoinHandle<()>) {
        let sampler = Arc::new(Sampler {
            samples: Mutex::new(Vec::new()),
            died: Mutex::new(None),
            stop: AtomicBool::new(false),
        });
        let me = sampler.clone();
        let handle = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(SAMPLE_PERIOD_MS));
            while !me.stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let sample = Sample {
                    t_s: start.elapsed().as_secs_f64(),
                    rss_kib: pid.and_then(rss_kib),
                    slowloris_open: slow.open.load(Ordering::Relaxed),
                };
                me.samples
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(sample);
                if let Some(status) = server.as_ref().and_then(|s| s.exited()) {
                    me.died
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get_or_insert(status);
                }
            }
        });
        (sampler, handle)
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_own_rss() {
        let rss = rss_kib(std::process::id()).expect("/proc/self/status has VmRSS");
        assert!(rss > 100, "{rss} KiB");
        assert_eq!(rss_kib(u32::MAX), None);
    }
}
