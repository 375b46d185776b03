//! Polls: made with their status (or replaced by an edit), voted on, and
//! ended by a due job (`scheduled::run_due_job`) that notifies the voters
//! and the author. Counts are computed from the votes, never kept apart
//! from them, so they cannot drift.

use std::collections::HashMap;

use super::notifications::notify_all;
use super::scheduled::{schedule_job, unschedule_job, JOB_POLL};
use super::{args, Arg, Conn};
use crate::model::*;
use crate::{StoreError, StoreResult};

/// Makes the poll of status `status_id`, ending `poll.expires_in_s` after `now`.
pub async fn create(
    c: &dyn Conn,
    status_id: Id,
    account_id: Id,
    poll: &NewPoll,
    now: i64,
) -> StoreResult<Id> {
    let expires_at = ends_at(poll, now);
    let row = c
        .query_one(
            "INSERT INTO polls (id, status_id, account_id, multiple, hide_totals, expires_at) \
             VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5) RETURNING id",
            &args![
                status_id,
                account_id,
                poll.multiple,
                poll.hide_totals,
                expires_at
            ],
        )
        .await?;
    let id: Id = row.get(0)?;
    write_options(c, id, &poll.options).await?;
    schedule_job(c, JOB_POLL, id, expires_at).await?;
    Ok(id)
}

fn ends_at(poll: &NewPoll, now: i64) -> i64 {
    now.saturating_add(poll.expires_in_s.saturating_mul(1000))
}

async fn write_options(c: &dyn Conn, poll_id: Id, options: &[String]) -> StoreResult<()> {
    for (position, title) in options.iter().enumerate() {
        c.execute(
            "INSERT INTO poll_options (poll_id, position, title) VALUES (?1, ?2, ?3)",
            &args![poll_id, position as i64, title],
        )
        .await?;
    }
    Ok(())
}

/// An edit's poll: None removes the status' poll; a poll replaces it,
/// keeping the votes only if the options and `multiple` are unchanged (as
/// Mastodon does). The end moves to `expires_in_s` after `now` either way.
pub async fn replace(
    c: &dyn Conn,
    status_id: Id,
    account_id: Id,
    poll: Option<&NewPoll>,
    now: i64,
) -> StoreResult<()> {
    let old = c
        .query_opt(
            "SELECT id, multiple FROM polls WHERE status_id = ?1",
            &args![status_id],
        )
        .await?;
    let (old_id, old_multiple): (Id, bool) = match (old, poll) {
        (None, None) => return Ok(()),
        (None, Some(p)) => {
            create(c, status_id, account_id, p, now).await?;
            return Ok(());
        }
        (Some(r), _) => (r.get(0)?, r.get(1)?),
    };
    let Some(poll) = poll else {
        unschedule_job(c, JOB_POLL, old_id).await?;
        c.execute("DELETE FROM polls WHERE id = ?1", &args![old_id])
            .await?;
        return Ok(());
    };
    let old_options = options_of(c, old_id).await?;
    if old_options != poll.options || old_multiple != poll.multiple {
        c.execute("DELETE FROM poll_votes WHERE poll_id = ?1", &args![old_id])
            .await?;
        c.execute(
            "DELETE FROM poll_options WHERE poll_id = ?1",
            &args![old_id],
        )
        .await?;
        write_options(c, old_id, &poll.options).await?;
    }
    let expires_at = ends_at(poll, now);
    c.execute(
        "UPDATE polls SET multiple = ?2, hide_totals = ?3, expires_at = ?4, end_notified_through = NULL \
         WHERE id = ?1",
        &args![old_id, poll.multiple, poll.hide_totals, expires_at],
    )
    .await?;
    schedule_job(c, JOB_POLL, old_id, expires_at).await?;
    Ok(())
}

/// The option titles of a poll, in order.
pub async fn options_of(c: &dyn Conn, poll_id: Id) -> StoreResult<Vec<String>> {
    c.query(
        "SELECT title FROM poll_options WHERE poll_id = ?1 ORDER BY position",
        &args![poll_id],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// The polls of these statuses as `viewer` sees them, by status id: three
/// queries whatever the number of statuses, none when no status has a poll.
pub async fn for_statuses(
    c: &dyn Conn,
    viewer: Option<Id>,
    status_ids: &[Id],
) -> StoreResult<HashMap<Id, PollView>> {
    let d = c.dialect();
    let mut polls: HashMap<Id, PollView> = HashMap::new();
    for r in c
        .query(
            &format!(
                "SELECT id, status_id, account_id, multiple, hide_totals, expires_at FROM polls WHERE {}",
                d.in_ids("status_id", 1)
            ),
            &[Arg::Ids(status_ids)],
        )
        .await?
    {
        let id: Id = r.get(0)?;
        polls.insert(
            id,
            PollView {
                id,
                status_id: r.get(1)?,
                account_id: r.get(2)?,
                options: Vec::new(),
                multiple: r.get(3)?,
                hide_totals: r.get(4)?,
                expires_at_ms: r.get(5)?,
                votes_count: 0,
                voters_count: 0,
                own_votes: Vec::new(),
            },
        );
    }
    if polls.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<Id> = polls.keys().copied().collect();
    for r in c
        .query(
            &format!(
                "SELECT o.poll_id, o.title, \
                 (SELECT COUNT(*) FROM poll_votes v WHERE v.poll_id = o.poll_id AND v.choice = o.position) \
                 FROM poll_options o WHERE {} ORDER BY o.poll_id, o.position",
                d.in_ids("o.poll_id", 1)
            ),
            &[Arg::Ids(&ids)],
        )
        .await?
    {
        if let Some(p) = polls.get_mut(&r.get::<Id>(0)?) {
            let votes_count: i64 = r.get(2)?;
            p.votes_count += votes_count;
            p.options.push(PollOptionRow {
                title: r.get(1)?,
                votes_count,
            });
        }
    }
    for r in c
        .query(
            &format!(
                "SELECT poll_id, COUNT(DISTINCT account_id) FROM poll_votes WHERE {} GROUP BY poll_id",
                d.in_ids("poll_id", 1)
            ),
            &[Arg::Ids(&ids)],
        )
        .await?
    {
        if let Some(p) = polls.get_mut(&r.get::<Id>(0)?) {
            p.voters_count = r.get(1)?;
        }
    }
    if let Some(v) = viewer {
        for r in c
            .query(
                &format!(
                    "SELECT poll_id, choice FROM poll_votes WHERE account_id = ?1 AND {} ORDER BY poll_id, choice",
                    d.in_ids("poll_id", 2)
                ),
                &[Arg::Int(v), Arg::Ids(&ids)],
            )
            .await?
        {
            if let Some(p) = polls.get_mut(&r.get::<Id>(0)?) {
                p.own_votes.push(r.get(1)?);
            }
        }
    }
    Ok(polls.into_values().map(|p| (p.status_id, p)).collect())
}

/// The status a poll belongs to.
pub async fn status_of(c: &dyn Conn, poll_id: Id) -> StoreResult<Id> {
    c.query_one("SELECT status_id FROM polls WHERE id = ?1", &args![poll_id])
        .await?
        .get(0)
}

/// `account_id` votes for `choices` (indexes, distinct, already checked to
/// be non-empty by the caller). The poll's row is locked first (PostgreSQL),
/// so two votes of one account racing count once.
pub async fn vote(
    c: &dyn Conn,
    account_id: Id,
    poll_id: Id,
    choices: &[u32],
    now: i64,
) -> StoreResult<()> {
    let r = c
        .query_one(
            &format!(
                "SELECT p.account_id, p.multiple, p.expires_at, \
                 (SELECT COUNT(*) FROM poll_options o WHERE o.poll_id = p.id), \
                 EXISTS (SELECT 1 FROM poll_votes v WHERE v.poll_id = p.id AND v.account_id = ?2) \
                 FROM polls p WHERE p.id = ?1{}",
                c.dialect().for_update("p")
            ),
            &args![poll_id, account_id],
        )
        .await?;
    let (author, multiple, expires_at, options, voted): (Id, bool, i64, i64, bool) =
        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
    if expires_at <= now {
        return Err(StoreError::Rejected("The poll has already ended"));
    }
    if author == account_id {
        return Err(StoreError::Rejected("You cannot vote in your own poll"));
    }
    if voted {
        return Err(StoreError::Rejected("You have already voted on this poll"));
    }
    if !multiple && choices.len() > 1 {
        return Err(StoreError::Rejected("This poll allows one choice only"));
    }
    if choices.iter().any(|&ch| i64::from(ch) >= options) {
        return Err(StoreError::Rejected(
            "The chosen vote option does not exist",
        ));
    }
    for choice in choices {
        c.execute(
            "INSERT INTO poll_votes (id, poll_id, account_id, choice) VALUES (holdfast_next_id(), ?1, ?2, ?3) \
             ON CONFLICT DO NOTHING",
            &args![poll_id, account_id, *choice],
        )
        .await?;
    }
    Ok(())
}

/// One run of the poll's end: the author (on the first run), then the
/// next voters in id order, at most `batch` accounts in all, each get a
/// `poll` notification (from the author). When voters remain, the job is
/// made due again at `now` and the next run goes on after the last voter
/// told (`polls.end_notified_through`; NULL until the first run), so a poll of any size ends in
/// bounded transactions. None when the poll is gone (its status was deleted).
pub async fn end(
    c: &dyn Conn,
    poll_id: Id,
    now: i64,
    batch: u32,
) -> StoreResult<Option<(Id, Vec<Id>)>> {
    let Some(r) = c
        .query_opt(
            "SELECT status_id, account_id, end_notified_through FROM polls WHERE id = ?1",
            &args![poll_id],
        )
        .await?
    else {
        return Ok(None);
    };
    let (status_id, author, through): (Id, Id, Option<Id>) = (r.get(0)?, r.get(1)?, r.get(2)?);
    let batch = i64::from(batch.max(1));
    let mut notified: Vec<Id> = Vec::new();
    if through.is_none() {
        notified.push(author);
    }
    // One more than this run takes, to know whether another run is needed.
    let wanted = batch - notified.len() as i64;
    let mut voters: Vec<Id> = c
        .query(
            "SELECT DISTINCT account_id FROM poll_votes \
             WHERE poll_id = ?1 AND account_id <> ?2 AND account_id > ?3 \
             ORDER BY account_id LIMIT ?4",
            &args![poll_id, author, through.unwrap_or(Id::MIN), wanted + 1],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect::<StoreResult<_>>()?;
    let more = voters.len() as i64 > wanted;
    voters.truncate(wanted.max(0) as usize);
    let cursor = voters.last().copied().or(through).unwrap_or(Id::MIN);
    notified.extend(voters);
    notify_all(
        c,
        &notified,
        author,
        NotificationType::Poll,
        Some(status_id),
    )
    .await?;
    c.execute(
        "UPDATE polls SET end_notified_through = ?2 WHERE id = ?1",
        &args![poll_id, cursor],
    )
    .await?;
    if more {
        schedule_job(c, JOB_POLL, poll_id, now).await?;
    }
    Ok(Some((status_id, notified)))
}
