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
use crate::{StoreError, StoreResult};

/// The job kind, as stored in `due_jobs.kind`. Spelled out in the SQL text
/// (not bound), as in migration 0022's partial indexes: SQLite uses a
/// partial index only for a literal it can match (a bound value would make
/// it re-prepare the statement on every new binding).
pub const JOB_FANOUT: &str = "fanout";

/// The fan-out jobs in id (= queued time) order: `due_jobs(id) WHERE kind =
/// 'fanout'` (migration 0022). Named in the queries, or SQLite sorts every
/// pending job to find the oldest (see `Dialect::indexed_by`).
const QUEUE_INDEX: &str = "due_jobs_fanout_queue";

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

/// The bound on the backlog: Unavailable (503, try again later) while the
/// oldest pending job was queued more than `age_max_ms` ago (job ids carry
/// their time), so a post that would add to it waits for the workers to
/// catch up. One index seek (`due_jobs_fanout_queue`).
pub async fn refuse_when_behind(c: &dyn Conn, age_max_ms: i64) -> StoreResult<()> {
    let oldest: Option<Id> = c
        .query_one(
            &format!(
                "SELECT MIN(id) FROM due_jobs{} WHERE kind = '{JOB_FANOUT}'",
                c.dialect().indexed_by(QUEUE_INDEX)
            ),
            &[],
        )
        .await?
        .get(0)?;
    let behind_ms = oldest.map_or(0, |id| {
        crate::ids::now_ms() - holdfast_config::ids::ms_of_id(id)
    });
    if behind_ms > age_max_ms {
        return Err(StoreError::Unavailable(format!(
            "home timelines are {behind_ms} ms behind; try again shortly"
        )));
    }
    Ok(())
}

/// Runs fan-out work in the caller's transaction: the oldest jobs, one
/// after the other, until `rows_max` followers were walked (a post with a
/// small audience is one short step; the job that runs out of the budget
/// keeps its cursor and goes on in the next batch). Empty when no job is
/// queued (or every queued one is another node's now).
pub async fn run_batch(
    c: &dyn Conn,
    rows_max: i64,
    feed_max: i64,
) -> StoreResult<Vec<FanoutBatch>> {
    // No lock: a batch that finds a feed not open yet ran before it
    // opened, so the fill after has the post (`Dialect::feed_open_barrier`).
    let mut done = Vec::new();
    let mut budget = rows_max.max(1);
    while budget > 0 {
        let Some((batch, walked)) = run_job(c, budget, feed_max).await? else {
            break;
        };
        // Each job takes at least one from the budget, so this ends.
        budget -= walked.max(1);
        done.push(batch);
        if !batch.finished {
            break;
        }
    }
    Ok(done)
}

/// One step of the oldest fan-out job: its next `batch_max` followers at
/// most; with the number of followers walked.
async fn run_job(
    c: &dyn Conn,
    batch_max: i64,
    feed_max: i64,
) -> StoreResult<Option<(FanoutBatch, i64)>> {
    let Some(job) = c
        .query_opt(
            &format!(
                "SELECT j.id, j.target_id, j.owner_id, j.progress, j.feed_trim FROM due_jobs j{} \
                 WHERE j.kind = '{JOB_FANOUT}' ORDER BY j.id LIMIT 1{}",
                c.dialect().indexed_by(QUEUE_INDEX),
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
    if !gone {
        if let Some((copied, walked)) = copy_to_few_built_feeds(
            c, author, status_id, progress, batch_max, feed_trim, feed_max,
        )
        .await?
        {
            c.execute("DELETE FROM due_jobs WHERE id = ?1", &args![job_id])
                .await?;
            let batch = FanoutBatch {
                status_id,
                copied,
                finished: true,
                dropped: false,
            };
            return Ok(Some((batch, walked)));
        }
    }
    // The step's followers: how many and the last follow id, from the
    // index alone (`follows_by_target`); only the copy reads the rows.
    let (walked, last): (i64, Option<Id>) = if gone {
        (0, None)
    } else {
        let r = c
            .query_one(
                "SELECT COUNT(*), MAX(x.id) FROM (SELECT id FROM follows \
                 WHERE target_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3) x",
                &args![author, progress, batch_max],
            )
            .await?;
        (r.get(0)?, r.get(1)?)
    };
    let mut copied = 0;
    if let Some(last) = last {
        copied = c
            .execute(
                &format!(
                    "INSERT INTO home_feed (account_id, status_id) \
                     SELECT f.account_id, CAST(?2 AS BIGINT) FROM follows f \
                     WHERE f.target_id = ?1 AND f.id > ?3 AND f.id <= ?4{BUILT_FOLLOWER} ON CONFLICT DO NOTHING"
                ),
                &args![author, status_id, progress, last],
            )
            .await?;
        if feed_trim {
            let reached: Vec<Id> = c
                .query(
                    "SELECT account_id FROM follows WHERE target_id = ?1 AND id > ?2 AND id <= ?3",
                    &args![author, progress, last],
                )
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect::<StoreResult<_>>()?;
            for follower in reached {
                trim(c, follower, feed_max).await?;
            }
        }
    }
    let finished = walked < batch_max;
    match last {
        Some(last) if !finished => {
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
    let batch = FanoutBatch {
        status_id,
        copied,
        finished,
        dropped: gone,
    };
    Ok(Some((batch, walked)))
}

/// The follower `f` has a feed open to fan-out (see `home_feed::open`).
const BUILT_FOLLOWER: &str =
    " AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = f.account_id AND a.home_feed_built)";

/// When fewer feeds are built than the author has followers (and no more
/// than `budget`), copies the status to the built feeds of followers not
/// reached yet, starting from the built side (`accounts_home_feed_built`,
/// migration 0025): the cost of the smaller side, not of the audience.
/// Finishes the job; with the number of feeds looked at. None: walking the
/// followers is cheaper.
async fn copy_to_few_built_feeds(
    c: &dyn Conn,
    author: Id,
    status_id: Id,
    progress: Id,
    budget: i64,
    feed_trim: bool,
    feed_max: i64,
) -> StoreResult<Option<(u64, i64)>> {
    let followers: i64 = c
        .query_one(
            "SELECT followers_count FROM accounts WHERE id = ?1",
            &args![author],
        )
        .await?
        .get(0)?;
    let cap = budget.min(followers);
    let built: i64 = c
        .query_one(
            &format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM accounts{} WHERE home_feed_built LIMIT ?1) x",
                c.dialect().indexed_by(BUILT_INDEX)
            ),
            &args![cap + 1],
        )
        .await?
        .get(0)?;
    if built > cap {
        return Ok(None);
    }
    let reached: Vec<Id> = c
        .query(
            &format!(
                "INSERT INTO home_feed (account_id, status_id) \
                 SELECT a.id, CAST(?2 AS BIGINT) FROM accounts a{} WHERE a.home_feed_built \
                   AND EXISTS (SELECT 1 FROM follows f WHERE f.account_id = a.id AND f.target_id = ?1 AND f.id > ?3) \
                 ON CONFLICT DO NOTHING RETURNING account_id",
                c.dialect().indexed_by(BUILT_INDEX)
            ),
            &args![author, status_id, progress],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect::<StoreResult<_>>()?;
    if feed_trim {
        for &follower in &reached {
            trim(c, follower, feed_max).await?;
        }
    }
    Ok(Some((reached.len() as u64, built)))
}

/// The accounts whose feed is built (migration 0025).
pub(crate) const BUILT_INDEX: &str = "accounts_home_feed_built";

/// The query for the statuses of pending fan-out jobs that viewer `?1`
/// follows the author of and has not been reached by yet (its follow comes
/// after the job's cursor), newest first, at most `?2`; a home page reads it
/// with its other sources (`home_feed::page`). Read before the feed itself:
/// a batch that commits in between then shows the status in both (the page
/// dedups), never in neither.
pub(crate) fn pending_select(c: &dyn Conn) -> String {
    format!(
        "SELECT j.target_id FROM due_jobs j{} \
         WHERE j.kind = '{JOB_FANOUT}' AND EXISTS (SELECT 1 FROM follows f \
               WHERE f.account_id = ?1 AND f.target_id = j.owner_id AND f.id > j.progress) \
         ORDER BY j.id DESC LIMIT ?2",
        c.dialect().indexed_by(QUEUE_INDEX)
    )
}
