//! A fixed set of dedicated threads for CPU- and memory-heavy work (argon2
//! password hashing, image decoding), taken under a semaphore with a bounded
//! wait. Dedicated threads rather than tokio's blocking pool: every thread
//! that ever held a large allocation keeps a malloc arena of that size, so
//! work spread over many blocking threads grows the process with the number
//! of threads ever used (measured under log-in and upload floods); on a fixed
//! set it stays bounded.
//!
//! A pool may run its threads at the lowest CPU priority (`Priority::Idle`,
//! Linux `SCHED_IDLE`): the kernel then runs them only when the process'
//! other threads (the ones answering requests) have nothing to do, and
//! preempts them the moment one wakes. Password hashing runs so: a flood of
//! log-ins can make log-ins slow, never everyone else's requests. (Under
//! autogroup or a cgroup the policy ranks threads within the server's own
//! group, so other processes on the machine do not starve it.)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

type Job = Box<dyn FnOnce() + Send>;

/// Why work did not run.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No thread came free within the wait.
    Busy,
    /// The pool is shut down (the threads or the semaphore are gone).
    Closed,
    /// The job was taken but its answer never came back.
    Lost,
}

/// The CPU priority of a pool's threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// As the rest of the process.
    Normal,
    /// Only what the process' other threads leave (Linux `SCHED_IDLE`;
    /// elsewhere, as `Normal`).
    Idle,
}

/// How big a pool is and how long and how many callers may wait for it.
#[derive(Clone, Copy, Debug)]
pub struct PoolBounds {
    pub threads: usize,
    /// Callers waiting for a thread at once; one more is refused at once
    /// (`None`: bounded only by `wait` and by admission in front of the pool).
    pub queue_max: Option<usize>,
    pub wait: Duration,
    pub priority: Priority,
}

#[derive(Clone)]
pub struct DedicatedThreads {
    permits: Arc<Semaphore>,
    jobs: std::sync::mpsc::SyncSender<Job>,
    wait: Duration,
    size: usize,
    /// Callers holding a [`Claim`] (running or waiting), at most `claims_max`.
    claimed: Arc<AtomicUsize>,
    claims_max: usize,
}

impl DedicatedThreads {
    /// `concurrency` threads named `name-N`; callers wait at most `wait` for one.
    pub fn new(name: &str, concurrency: usize, wait: Duration) -> DedicatedThreads {
        DedicatedThreads::with_bounds(
            name,
            PoolBounds {
                threads: concurrency,
                queue_max: None,
                wait,
                priority: Priority::Normal,
            },
        )
    }

    pub fn with_bounds(name: &str, bounds: PoolBounds) -> DedicatedThreads {
        let size = bounds.threads.max(1);
        // At most `size` jobs exist at once (the semaphore), so the channel never holds more.
        let (jobs, rx) = std::sync::mpsc::sync_channel::<Job>(size);
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..size {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || {
                    if bounds.priority == Priority::Idle {
                        run_at_idle_priority();
                    }
                    worker_loop(&rx)
                })
                .expect("can start a dedicated worker thread");
        }
        DedicatedThreads {
            permits: Arc::new(Semaphore::new(size)),
            jobs,
            wait: bounds.wait,
            size,
            claimed: Arc::new(AtomicUsize::new(0)),
            claims_max: bounds
                .queue_max
                .map_or(usize::MAX, |queue| size.saturating_add(queue)),
        }
    }

    /// Threads at work now (for `/metrics`).
    pub fn busy(&self) -> usize {
        self.size.saturating_sub(self.permits.available_permits())
    }

    /// Runs `f` on one of the threads (see [`Claim::run`]).
    pub async fn run<T, F>(&self, f: F) -> Result<std::thread::Result<T>, Refusal>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.claim()?.run(f).await
    }

    /// A place among the pool's callers, running or waiting: refused at once
    /// when the threads are taken and `queue_max` callers already wait. A
    /// caller with more work before it needs a thread (a log-in looks the
    /// account up first) claims before that work, so a refusal costs nothing
    /// but this check: under a log-in flood the refusals are most requests.
    pub fn claim(&self) -> Result<Claim<'_>, Refusal> {
        self.claimed
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.claims_max).then_some(n + 1)
            })
            .map_err(|_| Refusal::Busy)?;
        Ok(Claim {
            pool: self,
            place: Place(self.claimed.clone()),
        })
    }
}

/// A caller's place at a [`DedicatedThreads`] pool, from [`DedicatedThreads::claim`].
pub struct Claim<'a> {
    pool: &'a DedicatedThreads,
    place: Place,
}

impl Claim<'_> {
    /// Runs `f` on one of the threads, after waiting at most the pool's
    /// `wait` for one. The inner `Err` is a panic in `f`, caught so that the
    /// thread lives on and the caller decides what it means.
    pub async fn run<T, F>(self, f: F) -> Result<std::thread::Result<T>, Refusal>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let pool = self.pool;
        let permit = tokio::time::timeout(pool.wait, pool.permits.clone().acquire_owned())
            .await
            .map_err(|_| Refusal::Busy)?
            .map_err(|_| Refusal::Closed)?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        // The permit and the place go with the work: if the request is
        // abandoned, both stay taken until the work really ends.
        let place = self.place;
        let job: Job = Box::new(move || {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            drop((permit, place));
            let _ = tx.send(out);
        });
        pool.jobs.send(job).map_err(|_| Refusal::Closed)?;
        rx.await.map_err(|_| Refusal::Lost)
    }
}

/// Held by a claim; gives the place back on drop.
struct Place(Arc<AtomicUsize>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn worker_loop(rx: &std::sync::Mutex<std::sync::mpsc::Receiver<Job>>) {
    loop {
        let job = match rx.lock().unwrap_or_else(|p| p.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return, // every pool handle is gone
        };
        job();
    }
}

/// Puts the calling thread under `SCHED_IDLE` (Linux applies scheduling
/// policies per thread, and pid 0 is the caller). If the kernel refuses, the
/// thread runs at normal priority and says so once.
#[cfg(target_os = "linux")]
fn run_at_idle_priority() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: pid 0 names the calling thread; `param` outlives the call.
    let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
    if rc != 0 {
        tracing::warn!(error = %std::io::Error::last_os_error(),
            "could not lower a worker thread to SCHED_IDLE; it runs at normal priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn run_at_idle_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    /// One thread, one place in its queue, and a long wait.
    fn one_thread_one_place(priority: Priority) -> DedicatedThreads {
        DedicatedThreads::with_bounds(
            "test",
            PoolBounds {
                threads: 1,
                queue_max: Some(1),
                wait: Duration::from_secs(5),
                priority,
            },
        )
    }

    #[tokio::test]
    async fn runs_work_survives_panics_and_refuses_when_busy() {
        let pool = DedicatedThreads::new("test", 1, Duration::from_millis(50));
        assert_eq!(pool.run(|| 2 + 2).await.unwrap().unwrap(), 4);
        assert!(pool.run(|| panic!("boom")).await.unwrap().is_err());
        // The one thread lives on after the panic.
        assert_eq!(pool.run(|| 7).await.unwrap().unwrap(), 7);
        let slow = pool.clone();
        let running = tokio::spawn(async move {
            slow.run(|| std::thread::sleep(Duration::from_millis(300)))
                .await
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(pool.busy(), 1);
        assert_eq!(pool.run(|| ()).await.unwrap_err(), Refusal::Busy);
        running.await.unwrap().unwrap().unwrap();
        assert_eq!(pool.busy(), 0);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let pool = one_thread_one_place(Priority::Normal);
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let running = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(move || hold.recv()).await })
        };
        while pool.busy() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let queued = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(|| 7).await })
        };
        while pool.claimed.load(Ordering::Acquire) < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The one place in the queue is taken: refused now, not after `wait`.
        let started = std::time::Instant::now();
        assert_eq!(pool.run(|| ()).await.unwrap_err(), Refusal::Busy);
        assert!(started.elapsed() < Duration::from_secs(1));
        release.send(()).unwrap();
        running.await.unwrap().unwrap().unwrap().unwrap();
        assert_eq!(queued.await.unwrap().unwrap().unwrap(), 7);
        assert_eq!(pool.claimed.load(Ordering::Acquire), 0, "places given back");
    }

    #[tokio::test]
    async fn a_claim_holds_a_place_before_any_work() {
        // A log-in claims before it looks the account up: the places count
        // from the claim, so a flood is refused before that look-up.
        let pool = DedicatedThreads::with_bounds(
            "test",
            PoolBounds {
                threads: 1,
                queue_max: Some(1),
                wait: Duration::from_secs(5),
                priority: Priority::Normal,
            },
        );
        let first = pool.claim().expect("a thread's place");
        let second = pool.claim().expect("the queue's place");
        assert_eq!(pool.busy(), 0, "nothing runs yet");
        assert_eq!(pool.claim().err(), Some(Refusal::Busy));
        drop(first);
        assert_eq!(second.run(|| 5).await.unwrap().unwrap(), 5);
        let third = pool.claim().expect("places given back");
        assert_eq!(third.run(|| 6).await.unwrap().unwrap(), 6);
        assert_eq!(pool.claimed.load(Ordering::Acquire), 0);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn idle_priority_threads_run_under_sched_idle() {
        let pool = one_thread_one_place(Priority::Idle);
        // SAFETY: sched_getscheduler(0) only reads the calling thread's policy.
        let policy = pool
            .run(|| unsafe { libc::sched_getscheduler(0) })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(policy, libc::SCHED_IDLE);
        // SAFETY: as above, on the test's own thread.
        assert_ne!(unsafe { libc::sched_getscheduler(0) }, libc::SCHED_IDLE);
    }
}
