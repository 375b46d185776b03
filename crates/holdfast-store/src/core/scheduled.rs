//! Scheduled statuses, and the due-time jobs that publish them and end
//! polls.
//!
//! A job is a `due_jobs` row (kind, target, due time). Every node polls for
//! due rows; a node claims one with a single `UPDATE ... WHERE claimed_at IS
//! NULL` *in the same transaction that does the job's work*, so the claim
//! and the work commit together or not at all: a crash before the commit
//! leaves the job due for the next poll, and of two nodes claiming the same
//! row one updates it and the other finds it claimed. So each job runs
//! exactly once, across restarts and across nodes. Claimed rows are kept
//! as a record.

use super::bounded;
use super::edits::{ids_from_text, ids_text};
use super::sql::{self, media_row, MEDIA_COLUMNS};
use super::{args, Arg, Conn, Row};
use crate::model::*;
use crate::{StoreError, StoreResult};

/// Job kinds, as stored.
pub const JOB_POLL: &str = "poll";
pub const JOB_SCHEDULED: &str = "scheduled";

const DAY_MS: i64 = 24 * 3600 * 1000; // fact: the length of a day

/// Makes (or moves) the job `kind` of `target` due at `due_at`; moving a
/// claimed job makes it due again (an edited poll that ends anew).
pub async fn schedule_job(c: &dyn Conn, kind: &str, target: Id, due_at: i64) -> StoreResult<()> {
    c.execute(
        "INSERT INTO due_jobs (id, kind, target_id, due_at) VALUES (holdfast_next_id(), ?1, ?2, ?3) \
         ON CONFLICT (kind, target_id) DO UPDATE SET due_at = excluded.due_at, claimed_at = NULL",
        &args![kind, target, due_at],
    )
    .await?;
    Ok(())
}

pub async fn unschedule_job(c: &dyn Conn, kind: &str, target: Id) -> StoreResult<()> {
    c.execute(
        "DELETE FROM due_jobs WHERE kind = ?1 AND target_id = ?2",
        &args![kind, target],
    )
    .await?;
    Ok(())
}

/// Claims the oldest job due at `now` and does it, in the caller's
/// transaction. None when nothing is due. A poll's end tells at most
/// `poll_batch` accounts per run (the job is due again at once for the
/// rest). Home fan-out jobs are not due at a time: their own workers run
/// them (`fanout::run_batch`).
pub async fn run_due_job(
    c: &dyn Conn,
    now: i64,
    idempotency_ttl_s: u64,
    poll_batch: u32,
) -> StoreResult<Option<JobDone>> {
    let claimed = c
        .query_opt(
            &format!(
                "UPDATE due_jobs SET claimed_at = ?1 WHERE id = ( \
                   SELECT j.id FROM due_jobs j WHERE j.claimed_at IS NULL AND j.kind <> '{}' \
                   AND j.due_at <= ?1 ORDER BY j.due_at, j.id LIMIT 1{}) \
                 AND claimed_at IS NULL RETURNING kind, target_id",
                super::fanout::JOB_FANOUT,
                c.dialect().for_update_skip_locked("j")
            ),
            &args![now],
        )
        .await?;
    let Some(r) = claimed else {
        return Ok(None);
    };
    let (kind, target): (String, Id) = (r.get(0)?, r.get(1)?);
    let dropped = |why: &str| JobDone::Dropped {
        kind: kind.clone(),
        target_id: target,
        why: why.to_owned(),
    };
    Ok(Some(match kind.as_str() {
        JOB_POLL => match super::polls::end(c, target, now, poll_batch).await? {
            Some((status_id, notified)) => JobDone::PollEnded {
                status_id,
                notified,
            },
            None => dropped("the poll is gone"),
        },
        JOB_SCHEDULED => match publish(c, target, idempotency_ttl_s).await? {
            Ok(done) => done,
            Err(why) => dropped(why),
        },
        _ => dropped("unknown job kind"),
    }))
}

/// Publishes scheduled status `id` (and removes it from the schedule).
/// What can no longer be done is checked before anything is written, so a
/// job is dropped (the inner Err) rather than retried forever.
async fn publish(
    c: &dyn Conn,
    id: Id,
    idempotency_ttl_s: u64,
) -> StoreResult<Result<JobDone, &'static str>> {
    let Some(row) = c
        .query_opt(
            "SELECT account_id, text, content, spoiler_text, sensitive, visibility, language, \
             in_reply_to_id, app_id, mention_ids, tags, media_ids, \
             poll_expires_in_s, poll_multiple, poll_hide_totals \
             FROM scheduled_statuses WHERE id = ?1",
            &args![id],
        )
        .await?
    else {
        return Ok(Err("the scheduled status is gone"));
    };
    let account_id: Id = row.get(0)?;
    let in_reply_to: Option<Id> = row.get(7)?;
    if let Some(parent) = in_reply_to {
        let there = c
            .query_opt(
                "SELECT 1 FROM statuses WHERE id = ?1 AND reblog_of_id IS NULL",
                &args![parent],
            )
            .await?;
        if there.is_none() {
            c.execute("DELETE FROM scheduled_statuses WHERE id = ?1", &args![id])
                .await?;
            return Ok(Err("the status it replies to was deleted"));
        }
    }
    // Accounts mentioned then may be gone now; uploads reserved then are
    // still reserved unless their owner deleted them.
    let mentions = existing(
        c,
        "SELECT id FROM accounts WHERE ",
        "id",
        &ids_from_text(&row.get::<String>(9)?),
    )
    .await?;
    let reserved: Vec<Id> = c
        .query(
            "SELECT id FROM media_attachments WHERE scheduled_status_id = ?1",
            &args![id],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect::<StoreResult<_>>()?;
    let media_ids: Vec<Id> = ids_from_text(&row.get::<String>(11)?)
        .into_iter()
        .filter(|m| reserved.contains(m))
        .collect();
    let poll = poll_of(c, id, &row, 12).await?;
    let new = NewStatus {
        account_id,
        text: row.get(1)?,
        content: row.get(2)?,
        spoiler_text: row.get(3)?,
        sensitive: row.get(4)?,
        visibility: Visibility::from_i64(row.get(5)?),
        language: row.get(6)?,
        in_reply_to,
        app_id: row.get(8)?,
        mentions,
        tags: row
            .get::<String>(10)?
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        idempotency_key: None,
        media_ids,
        poll,
    };
    // Deleting the row frees its uploads (ON DELETE SET NULL) for the post.
    c.execute("DELETE FROM scheduled_statuses WHERE id = ?1", &args![id])
        .await?;
    if new.text.trim().is_empty() && new.media_ids.is_empty() {
        return Ok(Err("its attachments were deleted and it has no text"));
    }
    let status_id = super::statuses::create(c, &new, idempotency_ttl_s).await?;
    Ok(Ok(JobDone::Published {
        account_id,
        status_id,
    }))
}

/// Of `ids`, those `select` (ending in `WHERE `) still finds by `col`.
async fn existing(c: &dyn Conn, select: &str, col: &str, ids: &[Id]) -> StoreResult<Vec<Id>> {
    let found: Vec<Id> = c
        .query(
            &format!("{select}{}", c.dialect().in_ids(col, 1)),
            &[Arg::Ids(ids)],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect::<StoreResult<_>>()?;
    Ok(ids.iter().copied().filter(|i| found.contains(i)).collect())
}

/// The poll a scheduled row carries (columns `at`..`at+2`), if any.
async fn poll_of(c: &dyn Conn, id: Id, row: &Row, at: usize) -> StoreResult<Option<NewPoll>> {
    let Some(expires_in_s) = row.get::<Option<i64>>(at)? else {
        return Ok(None);
    };
    let options = c
        .query(
            "SELECT title FROM scheduled_poll_options WHERE scheduled_id = ?1 ORDER BY position",
            &args![id],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect::<StoreResult<_>>()?;
    Ok(Some(NewPoll {
        options,
        expires_in_s,
        multiple: row.get(at + 1)?,
        hide_totals: row.get(at + 2)?,
    }))
}

/// Rejected when the account would pass either bound with a status at
/// `at_ms` (`except` is the one being moved, not counted).
async fn check_bounds(
    c: &dyn Conn,
    account_id: Id,
    at_ms: i64,
    except: Id,
    bounds: ScheduleBounds,
) -> StoreResult<()> {
    let day = at_ms - at_ms.rem_euclid(DAY_MS);
    let r = c
        .query_one(
            "SELECT COUNT(*), COUNT(CASE WHEN scheduled_at >= ?3 AND scheduled_at < ?4 THEN 1 END) \
             FROM scheduled_statuses WHERE account_id = ?1 AND id <> ?2",
            &args![account_id, except, day, day + DAY_MS],
        )
        .await?;
    let (total, that_day): (i64, i64) = (r.get(0)?, r.get(1)?);
    if total >= i64::from(bounds.total_max) {
        return Err(StoreError::Rejected(
            "you have exceeded the limit of scheduled statuses",
        ));
    }
    if that_day >= i64::from(bounds.per_day_max) {
        return Err(StoreError::Rejected(
            "you have exceeded the limit of scheduled statuses for that day",
        ));
    }
    Ok(())
}

/// Schedules a status; with an idempotency key this account already used
/// for a scheduled status still waiting, returns that one's id.
pub async fn create(
    c: &dyn Conn,
    new: &NewScheduledStatus,
    bounds: ScheduleBounds,
) -> StoreResult<Id> {
    let s = &new.status;
    // The account's row is locked, so two schedulings racing count right.
    bounded::lock_account(c, s.account_id).await?;
    if let Some(key) = &s.idempotency_key {
        if let Some(r) = c
            .query_opt(
                "SELECT id FROM scheduled_statuses WHERE account_id = ?1 AND idempotency_key = ?2",
                &args![s.account_id, key],
            )
            .await?
        {
            return r.get(0);
        }
    }
    check_bounds(c, s.account_id, new.scheduled_at_ms, 0, bounds).await?;
    let poll = s.poll.as_ref();
    let id: Id = c
        .query_one(
            "INSERT INTO scheduled_statuses (id, account_id, scheduled_at, text, content, spoiler_text, sensitive, \
             visibility, language, in_reply_to_id, app_id, mention_ids, tags, media_ids, idempotency_key, \
             poll_expires_in_s, poll_multiple, poll_hide_totals) \
             VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) \
             RETURNING id",
            &args![
                s.account_id,
                new.scheduled_at_ms,
                &s.text,
                &s.content,
                &s.spoiler_text,
                s.sensitive,
                s.visibility,
                s.language.as_deref(),
                s.in_reply_to,
                s.app_id,
                &ids_text(&s.mentions),
                &s.tags.join(" "),
                &ids_text(&s.media_ids),
                s.idempotency_key.as_deref(),
                poll.map(|p| p.expires_in_s),
                poll.is_some_and(|p| p.multiple),
                poll.is_some_and(|p| p.hide_totals),
            ],
        )
        .await?
        .get(0)?;
    for (position, title) in poll
        .map(|p| p.options.as_slice())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        c.execute(
            "INSERT INTO scheduled_poll_options (scheduled_id, position, title) VALUES (?1, ?2, ?3)",
            &args![id, position as i64, title],
        )
        .await?;
    }
    for media_id in &s.media_ids {
        let reserved = c
            .execute(
                "UPDATE media_attachments SET scheduled_status_id = ?1 \
                 WHERE id = ?2 AND account_id = ?3 AND status_id IS NULL AND scheduled_status_id IS NULL",
                &args![id, *media_id, s.account_id],
            )
            .await?;
        if reserved != 1 {
            return Err(StoreError::Rejected(
                "media_ids must name your own uploads that no status uses yet",
            ));
        }
    }
    schedule_job(c, JOB_SCHEDULED, id, new.scheduled_at_ms).await?;
    Ok(id)
}

const SCHEDULED_COLUMNS: &str = "id, account_id, scheduled_at, text, spoiler_text, sensitive, visibility, \
     language, in_reply_to_id, app_id, idempotency_key, media_ids, poll_expires_in_s, poll_multiple, poll_hide_totals";

/// `account_id`'s scheduled statuses with these ids, in the order given.
async fn load(c: &dyn Conn, account_id: Id, ids: &[Id]) -> StoreResult<Vec<ScheduledStatusRow>> {
    let d = c.dialect();
    let rows = c
        .query(
            &format!(
                "SELECT {SCHEDULED_COLUMNS} FROM scheduled_statuses WHERE account_id = ?1 AND {}",
                d.in_ids("id", 2)
            ),
            &[Arg::Int(account_id), Arg::Ids(ids)],
        )
        .await?;
    let media: Vec<MediaRow> = c
        .query(
            &format!(
                "SELECT {MEDIA_COLUMNS} FROM media_attachments m WHERE {}",
                d.in_ids("m.scheduled_status_id", 1)
            ),
            &[Arg::Ids(ids)],
        )
        .await?
        .iter()
        .map(media_row)
        .collect::<StoreResult<_>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: Id = r.get(0)?;
        let media_ids = ids_from_text(&r.get::<String>(11)?);
        out.push(ScheduledStatusRow {
            id,
            account_id: r.get(1)?,
            scheduled_at_ms: r.get(2)?,
            text: r.get(3)?,
            spoiler_text: r.get(4)?,
            sensitive: r.get(5)?,
            visibility: Visibility::from_i64(r.get(6)?),
            language: r.get(7)?,
            in_reply_to_id: r.get(8)?,
            app_id: r.get(9)?,
            idempotency_key: r.get(10)?,
            media: media_ids
                .iter()
                .filter_map(|m| media.iter().find(|x| x.id == *m).cloned())
                .collect(),
            media_ids,
            poll: poll_of(c, id, r, 12).await?,
        });
    }
    out.sort_by_key(|s| ids.iter().position(|i| *i == s.id));
    Ok(out)
}

pub async fn list(
    c: &dyn Conn,
    account_id: Id,
    page: Page,
) -> StoreResult<Vec<Paged<ScheduledStatusRow>>> {
    let ids = sql::paged(
        c,
        "SELECT id, id FROM scheduled_statuses WHERE account_id = ?1",
        "id",
        &args![account_id],
        page,
    )
    .await?;
    let ids: Vec<Id> = ids.iter().map(|p| p.item).collect();
    Ok(load(c, account_id, &ids)
        .await?
        .into_iter()
        .map(|s| Paged {
            cursor: s.id,
            item: s,
        })
        .collect())
}

/// One of `account_id`'s scheduled statuses; anyone else's is NotFound.
pub async fn get(c: &dyn Conn, account_id: Id, id: Id) -> StoreResult<ScheduledStatusRow> {
    load(c, account_id, &[id])
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

pub async fn reschedule(
    c: &dyn Conn,
    account_id: Id,
    id: Id,
    at_ms: i64,
    bounds: ScheduleBounds,
) -> StoreResult<ScheduledStatusRow> {
    bounded::lock_account(c, account_id).await?;
    get(c, account_id, id).await?;
    check_bounds(c, account_id, at_ms, id, bounds).await?;
    c.execute(
        "UPDATE scheduled_statuses SET scheduled_at = ?2 WHERE id = ?1",
        &args![id, at_ms],
    )
    .await?;
    schedule_job(c, JOB_SCHEDULED, id, at_ms).await?;
    get(c, account_id, id).await
}

/// Cancels one of `account_id`'s scheduled statuses (its uploads become
/// plain unattached uploads again).
pub async fn cancel(c: &dyn Conn, account_id: Id, id: Id) -> StoreResult<()> {
    let gone = c
        .execute(
            "DELETE FROM scheduled_statuses WHERE id = ?1 AND account_id = ?2",
            &args![id, account_id],
        )
        .await?;
    if gone != 1 {
        return Err(StoreError::NotFound);
    }
    unschedule_job(c, JOB_SCHEDULED, id).await
}
