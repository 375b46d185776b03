//! Home fan-out as a durable job (migration 0022).
//!
//! A post's transaction writes the status, the author's own feed row and one
//! `due_jobs` row of kind [`JOB_FANOUT`] (see [`super::home_feed::fan_out`]).
//! Workers on every node then copy the status into the followers' feeds,
//! walking the author's followers in `follows.id` order: one batch of at most
//! `home_fanout_batch_max` followers per transaction, which also moves the
//! job's cursor (`progress`) or, after the last batch, deletes the job. So a
//! post costs the same whatever its audience, a crash between batches loses
//! nothing (the rows and the cursor commit together), and inserts are
//! idempotent (`ON CONFLICT DO NOTHING`) besides: each follower gets the row
//! once. On PostgreSQL a batch locks its job row (`FOR UPDATE SKIP LOCKED`),
//! so workers on several nodes take different jobs; SQLite has one writer.
//!
//! While a job is pending, home pages merge its status on read for the
//! followers it has not reached yet ([`pending`]), so nothing waits for the
//! worker; the feed is still only a list of candidates, every row read passes
//! the home rules, and a status deleted before its job ran is dropped by the
//! job and never passes those rules anyway.

use super::home_feed::trim;
use super::{args, Conn};
use crate::model::*;
use crate::StoreResult;

/// The job kind, as stored in `due_jobs.kind`. Spelled out in the SQL text
/// (not bound), as in migration 0022's partial indexes: SQLite uses a
/// partial index only for a literal it can match (a bound value would make
/// it re-prepare the statement on every new binding).
pub const JOB_FANOUT: &str = "fanout";

/// Queues the fan-out of `status_id` by `author` to its followers, in the
/// posting transaction; `feed_trim`: the batches also trim the feeds they
/// write to.
pub async fn queue(c: &dyn Conn, author: Id, status_id: Id, feed_trim: bool) -> StoreResult<()> {
    c.execute(
        &format!(
            "INSERT INTO due_jobs (id, kind, target_id, due_at, owner_id, feed_trim) \
             VALUES (holdfast_next_id(), '{JOB_FANOUT}', ?1, holdfast_now_ms(), ?2, ?3) \
             ON CONFLICT (kind, target_id) DO NOTHING"
        ),
        &args![status_id, author, feed_trim],
    )
    .await?;
    Ok(())
}

/// Runs one batch of the oldest fan-out job, in the caller's transaction.
/// None when no job is queued (or every queued one is another node's now).
pub async fn run_batch(
    c: &dyn Conn,
    batch_max: i64,
    feed_max: i64,
) -> StoreResult<Option<FanoutBatch>> {
    let Some(job) = c
        .query_opt(
            &format!(
                "SELECT j.id, j.target_id, j.owner_id, j.progress, j.feed_trim FROM due_jobs j \
                 WHERE j.kind = '{JOB_FANOUT}' ORDER BY j.id LIMIT 1{}",
                c.dialect().for_update_skip_locked("j")
            ),
            &[],
        )
        .await?
    else {
        return Ok(None);
    };
    let job_id: Id = job.get(0)?;
    let status_id: Id = job.get(1)?;
    let author: Id = job.get(2)?;
    let progress: Id = job.get(3)?;
    let feed_trim: bool = job.get(4)?;
    let gone = c
        .query_opt("SELECT 1 FROM statuses WHERE id = ?1", &args![status_id])
        .await?
        .is_none();
    let followers: Vec<(Id, Id)> = if gone {
        Vec::new()
    } else {
        c.query(
            "SELECT id, account_id FROM follows WHERE target_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            &args![author, progress, batch_max],
        )
        .await?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .collect::<StoreResult<_>>()?
    };
    let mut copied = 0;
    if let Some(&(last, _)) = followers.last() {
        copied = c
            .execute(
                "INSERT INTO home_feed (account_id, status_id) \
                 SELECT account_id, CAST(?2 AS BIGINT) FROM follows \
                 WHERE target_id = ?1 AND id > ?3 AND id <= ?4 ON CONFLICT DO NOTHING",
                &args![author, status_id, progress, last],
            )
            .await?;
        if feed_trim {
            for &(_, follower) in &followers {
                trim(c, follower, feed_max).await?;
            }
        }
    }
    let finished = (followers.len() as i64) < batch_max;
    match followers.last() {
        Some(&(last, _)) if !finished => {
            c.execute(
                "UPDATE due_jobs SET progress = ?2 WHERE id = ?1",
                &args![job_id, last],
            )
            .await?;
        }
        _ => {
            c.execute("DELETE FROM due_jobs WHERE id = ?1", &args![job_id])
                .await?;
        }
    }
    Ok(Some(FanoutBatch {
        status_id,
        copied,
        finished,
        dropped: gone,
    }))
}

/// The statuses of pending fan-out jobs that `viewer` follows the author of
/// and has not been reached by yet (its follow comes after the job's
/// cursor), newest first, at most `max`. Read before the feed itself: a
/// batch that commits in between then shows the status in both (the page
/// dedups), never in neither.
pub async fn pending(c: &dyn Conn, viewer: Id, max: i64) -> StoreResult<Vec<Id>> {
    c.query(
        &format!(
            "SELECT j.target_id FROM due_jobs j \
             WHERE j.kind = '{JOB_FANOUT}' AND EXISTS (SELECT 1 FROM follows f \
                   WHERE f.account_id = ?1 AND f.target_id = j.owner_id AND f.id > j.progress) \
             ORDER BY j.id DESC LIMIT ?2"
        ),
        &args![viewer, max],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect()
}
