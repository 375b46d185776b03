//! A fixed set of dedicated threads for CPU- and memory-heavy work (argon2
//! password hashing, image decoding), taken under a semaphore with a bounded
//! wait. Dedicated threads rather than tokio's blocking pool: every thread
//! that ever held a large allocation keeps a malloc arena of that size, so
//! work spread over many blocking threads grows the process with the number
//! of threads ever used (measured under log-in and upload floods); on a fixed
//! set it stays bounded.

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

#[derive(Clone)]
pub struct DedicatedThreads {
    permits: Arc<Semaphore>,
    jobs: std::sync::mpsc::SyncSender<Job>,
    wait: Duration,
    size: usize,
}

impl DedicatedThreads {
    /// `concurrency` threads named `name-N`; callers wait at most `wait` for one.
    pub fn new(name: &str, concurrency: usize, wait: Duration) -> DedicatedThreads {
        let size = concurrency.max(1);
        // At most `size` jobs exist at once (the semaphore), so the channel never holds more.
        let (jobs, rx) = std::sync::mpsc::sync_channel::<Job>(size);
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..size {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || loop {
                    let job = match rx.lock().unwrap_or_else(|p| p.into_inner()).recv() {
                        Ok(job) => job,
                        Err(_) => return, // every pool handle is gone
                    };
                    job();
                })
                .expect("can start a dedicated worker thread");
        }
        DedicatedThreads {
            permits: Arc::new(Semaphore::new(size)),
            jobs,
            wait,
            size,
        }
    }

    /// Threads at work now (for `/metrics`).
    pub fn busy(&self) -> usize {
        self.size.saturating_sub(self.permits.available_permits())
    }

    /// Runs `f` on one of the threads. The inner `Err` is a panic in `f`,
    /// caught so that the thread lives on and the caller decides what it means.
    pub async fn run<T, F>(&self, f: F) -> Result<std::thread::Result<T>, Refusal>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| Refusal::Busy)?
            .map_err(|_| Refusal::Closed)?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        // The permit goes with the work: if the request is abandoned, the
        // slot stays taken until the work really ends.
        let job: Job = Box::new(move || {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            drop(permit);
            let _ = tx.send(out);
        });
        self.jobs.send(job).map_err(|_| Refusal::Closed)?;
        rx.await.map_err(|_| Refusal::Lost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
