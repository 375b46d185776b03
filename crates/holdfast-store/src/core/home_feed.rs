//! Materialized home timelines with a hybrid fan-out (migration 0016).
//!
//! Each reader has a feed of candidate status ids (`home_feed`). A post is
//! copied into its author's feed and, for an ordinary author, into every
//! follower's feed in the posting transaction (fan-out on write: visible on
//! commit). An author who posts with `home_fanout_followers_max` followers or
//! more is marked `fanout_on_read` for good; its statuses are read from its own
//! `(account_id, id)` index when a follower opens home and merged into the
//! page (merge on read), so a post costs the same whatever the audience.
//!
//! The feed only says where to look: every row read still passes the home
//! rules ([`timelines::home_rules`]: followed, visible, not blocked or muted,
//! reblog and reply options, exclusive lists). So deletes, blocks, mutes,
//! suspensions and the unfollow of a private account need no feed writes:
//! their rows stop qualifying at once. A page therefore costs the rows it
//! reads, not the history behind them.

use super::sql::{self};
use super::timelines::{self, home_rules};
use super::{args, Conn};
use crate::model::*;
use crate::StoreResult;

/// The bounds of the feeds, from `Limits`, as SQL integers.
#[derive(Clone, Copy, Debug)]
pub struct FeedLimits {
    pub max: i64,
    pub fanout_followers_max: i64,
    pub backfill_max: i64,
    pub trim_every_posts: i64,
    pub scan_from_followees: i64,
}

impl FeedLimits {
    pub fn new(l: &holdfast_config::Limits) -> FeedLimits {
        let int = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        FeedLimits {
            max: int(l.home_feed_max),
            fanout_followers_max: int(l.home_fanout_followers_max),
            backfill_max: int(l.home_follow_backfill_max),
            trim_every_posts: int(l.home_feed_trim_every_posts).max(1),
            scan_from_followees: int(l.home_scan_followees_min),
        }
    }
}

/// Copies a new status (or reblog) of `author` into the feeds that should
/// hold it, in the posting transaction.
pub async fn fan_out(c: &dyn Conn, author: Id, status_id: Id, f: FeedLimits) -> StoreResult<()> {
    let Some(r) = c
        .query_opt(
            "SELECT fanout_on_read, followers_count, statuses_count FROM accounts WHERE id = ?1",
            &args![author],
        )
        .await?
    else {
        return Ok(());
    };
    let marked: bool = r.get(0)?;
    let followers: i64 = r.get(1)?;
    let statuses: i64 = r.get(2)?;
    let on_read = marked || followers >= f.fanout_followers_max;
    if on_read && !marked {
        c.execute(
            "UPDATE accounts SET fanout_on_read = TRUE WHERE id = ?1",
            &args![author],
        )
        .await?;
    }
    // The author's own feed always holds it: home shows one's own posts.
    c.execute(
        "INSERT INTO home_feed (account_id, status_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        &args![author, status_id],
    )
    .await?;
    if on_read {
        return Ok(());
    }
    c.execute(
        "INSERT INTO home_feed (account_id, status_id) \
         SELECT account_id, CAST(?2 AS BIGINT) FROM follows WHERE target_id = ?1 ON CONFLICT DO NOTHING",
        &args![author, status_id],
    )
    .await?;
    if statuses % f.trim_every_posts == 0 {
        let followers = c
            .query(
                "SELECT account_id FROM follows WHERE target_id = ?1",
                &args![author],
            )
            .await?;
        trim(c, author, f.max).await?;
        for r in followers {
            trim(c, r.get(0)?, f.max).await?;
        }
    }
    Ok(())
}

/// Drops all but the newest `max` rows of one feed.
pub async fn trim(c: &dyn Conn, account: Id, max: i64) -> StoreResult<()> {
    // The cutoff is an uncorrelated subquery, found once by walking at most
    // `max` index entries; NULL (a shorter feed) deletes nothing.
    c.execute(
        "DELETE FROM home_feed WHERE account_id = ?1 AND status_id <= \
         (SELECT status_id FROM home_feed WHERE account_id = ?1 ORDER BY status_id DESC LIMIT 1 OFFSET ?2)",
        &args![account, max],
    )
    .await?;
    Ok(())
}

/// A follow started: the followee's recent statuses join the follower's feed
/// (unless they are merged on read anyway).
pub async fn backfill(c: &dyn Conn, follower: Id, followee: Id, f: FeedLimits) -> StoreResult<()> {
    c.execute(
        "INSERT INTO home_feed (account_id, status_id) \
         SELECT CAST(?1 AS BIGINT), x.id FROM \
           (SELECT s.id FROM statuses s WHERE s.account_id = ?2 \
              AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = ?2 AND a.fanout_on_read) \
            ORDER BY s.id DESC LIMIT ?3) x \
         WHERE TRUE ON CONFLICT DO NOTHING",
        &args![follower, followee, f.backfill_max],
    )
    .await?;
    trim(c, follower, f.max).await
}

/// Builds the feed of an account that has none (created before migration
/// 0016, or by `holdfast bench seed`): the newest `max` statuses of its
/// followees and its own, found with the plan of the fan-out-on-read query.
pub async fn rebuild(c: &dyn Conn, viewer: Id, f: FeedLimits) -> StoreResult<()> {
    let following: i64 = match c
        .query_opt(
            "SELECT following_count FROM accounts WHERE id = ?1",
            &args![viewer],
        )
        .await?
    {
        Some(r) => r.get(0)?,
        None => return Ok(()),
    };
    let author = timelines::home_author_term(following, f.scan_from_followees);
    c.execute(
        &format!(
            "INSERT INTO home_feed (account_id, status_id) \
             SELECT CAST(?1 AS BIGINT), x.id FROM \
               (SELECT s.id FROM statuses s \
                WHERE {author} IN (SELECT target_id FROM follows WHERE account_id = ?1 UNION ALL SELECT CAST(?1 AS BIGINT)) \
                ORDER BY s.id DESC LIMIT ?2) x \
             WHERE TRUE ON CONFLICT DO NOTHING"
        ),
        &args![viewer, f.max],
    )
    .await?;
    c.execute(
        "UPDATE accounts SET home_feed_built = TRUE WHERE id = ?1",
        &args![viewer],
    )
    .await?;
    trim(c, viewer, f.max).await
}

/// A home page from the feed, merged with the followed `fanout_on_read`
/// authors' statuses; None if the viewer's feed was never built.
pub async fn page(c: &dyn Conn, viewer: Id, page: Page) -> StoreResult<Option<Vec<Paged<Id>>>> {
    let built: bool = match c
        .query_opt(
            "SELECT home_feed_built FROM accounts WHERE id = ?1",
            &args![viewer],
        )
        .await?
    {
        Some(r) => r.get(0)?,
        None => false,
    };
    if !built {
        return Ok(None);
    }
    let rules = home_rules("s");
    let from_feed = format!(
        "SELECT h.status_id, h.status_id FROM home_feed h JOIN statuses s ON s.id = h.status_id \
         WHERE h.account_id = ?1 \
           AND (s.account_id = ?1 OR EXISTS (SELECT 1 FROM follows hw WHERE hw.account_id = ?1 AND hw.target_id = s.account_id)) \
           AND {rules}"
    );
    let mut all = sql::paged(c, &from_feed, "h.status_id", &args![viewer], page).await?;
    let merged = c
        .query(
            "SELECT f.target_id FROM follows f JOIN accounts a ON a.id = f.target_id \
             WHERE f.account_id = ?1 AND a.fanout_on_read",
            &args![viewer],
        )
        .await?;
    if merged.is_empty() {
        return Ok(Some(all));
    }
    let by_author =
        format!("SELECT s.id, s.id FROM statuses s WHERE s.account_id = ?2 AND {rules}");
    for r in merged {
        let author: Id = r.get(0)?;
        all.extend(sql::paged(c, &by_author, "s.id", &args![viewer, author], page).await?);
    }
    Ok(Some(merge(all, page)))
}

/// One page out of several sources' pages (each newest first, each already
/// the right page of its own source): newest first, no duplicates, `limit`
/// long, the lowest ids for a `min_id` page (the page just above it).
fn merge(mut all: Vec<Paged<Id>>, page: Page) -> Vec<Paged<Id>> {
    all.sort_by(|a, b| b.cursor.cmp(&a.cursor));
    all.dedup_by_key(|p| p.cursor);
    let limit = page.limit as usize;
    if page.min_id.is_some() {
        let extra = all.len().saturating_sub(limit);
        all.drain(..extra);
    } else {
        all.truncate(limit);
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[Id]) -> Vec<Paged<Id>> {
        v.iter().map(|&i| Paged { cursor: i, item: i }).collect()
    }

    #[test]
    fn merge_keeps_the_page_newest_first_without_duplicates() {
        let p = Page {
            max_id: None,
            since_id: None,
            min_id: None,
            limit: 3,
        };
        let got = merge(ids(&[9, 5, 3, 8, 5, 1]), p);
        assert_eq!(got.iter().map(|x| x.item).collect::<Vec<_>>(), [9, 8, 5]);
        let above = Page {
            min_id: Some(0),
            ..p
        };
        let got = merge(ids(&[9, 5, 3, 8, 5, 1]), above);
        assert_eq!(got.iter().map(|x| x.item).collect::<Vec<_>>(), [5, 3, 1]);
    }
}
