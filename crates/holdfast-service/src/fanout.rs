//! The home fan-out workers: every node runs `home_fanout_workers_max` of
//! them, each copying one batch of the oldest fan-out jobs at a time into
//! followers' home feeds (`Store::run_fanout_batch`: one transaction per
//! batch, exactly once across restarts and nodes), never on a request's
//! path. A post on this node wakes one at once; jobs queued on other nodes
//! are found by polling every `home_fanout_poll_interval_ms`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::Service;

/// What the workers did since start (for `/metrics` and the bench).
#[derive(Default)]
pub struct FanoutState {
    /// Wakes an idle worker when this node queued a job.
    wake: Notify,
    pub batches: AtomicU64,
    pub rows: AtomicU64,
    pub jobs: AtomicU64,
    /// From a post's id time to its job's last batch, the last one finished
    /// and the largest.
    pub lag_ms_last: AtomicU64,
    pub lag_ms_max: AtomicU64,
}

impl Service {
    /// A post, reblog or published status may have queued a fan-out job.
    pub(crate) fn wake_fanout(&self) {
        self.fanout.wake.notify_one();
    }

    /// Starts this node's fan-out workers (`serve` calls it once).
    pub fn spawn_home_fanout(&self) {
        let idle = Duration::from_millis(self.limits().home_fanout_poll_interval_ms.max(1));
        for _ in 0..self.limits().home_fanout_workers_max.max(1) {
            let service = self.clone();
            tokio::spawn(async move {
                loop {
                    match service.store.run_fanout_batch().await {
                        Ok(batches) if !batches.is_empty() => {
                            batches.into_iter().for_each(|b| service.count_batch(b))
                        }
                        Ok(_) => {
                            let _ =
                                tokio::time::timeout(idle, service.fanout.wake.notified()).await;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "home fan-out batch failed; will retry");
                            tokio::time::sleep(idle).await;
                        }
                    }
                }
            });
        }
    }

    fn count_batch(&self, batch: holdfast_store::FanoutBatch) {
        let s: &Arc<FanoutState> = &self.fanout;
        s.batches.fetch_add(1, Ordering::Relaxed);
        s.rows.fetch_add(batch.copied, Ordering::Relaxed);
        if batch.finished {
            s.jobs.fetch_add(1, Ordering::Relaxed);
            let posted_ms = holdfast_config::ids::ms_of_id(batch.status_id);
            let lag = (holdfast_config::time::now_ms() - posted_ms).max(0) as u64;
            s.lag_ms_last.store(lag, Ordering::Relaxed);
            s.lag_ms_max.fetch_max(lag, Ordering::Relaxed);
        }
    }
}
