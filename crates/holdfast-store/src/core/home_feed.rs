//! Materialized home timelines with a hybrid fan-out (migrations 0016, 0022).
//!
//! Each reader has a feed of candidate status ids (`home_feed`). A post goes
//! into its author's feed in the posting transaction and, for an ordinary
//! author, into every follower's feed by a durable fan-out job that runs in
//! bounded batches after the commit ([`super::fanout`]); until the job has
//! reached a follower, that follower's home pages merge the post on read. An
//! author who posts with `home_fanout_followers_max` followers or more is
//! marked `fanout_on_read` for good; its statuses are read from its own
//! `(account_id, id)` index when a follower opens home and merged into the
//! page (merge on read).
//!
//! The feed only says where to look: every row read still passes the home
//! rules ([`timelines::home_rules`], checked per account by [`super::home_rules`]: followed, visible, not blocked or muted,
//! reblog and reply options, exclusive lists). So deletes, blocks, mutes,
//! suspensions and the unfollow of a private account need no feed writes:
//! their rows stop qualifying at once. A page therefore costs the rows it
//! reads, not the history behind them.

use crate::versioned::FastMap;

use super::sql;
use super::timelines;
use super::{args, Arg, Conn};
use crate::kept::SeenStatus;
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
    pub fanout_batch_max: i64,
    pub pending_merge_max: i64,
    /// See `home_fanout_backlog_age_max_ms`; `i64::MAX` where nobody can be
    /// told to try again (a scheduled status published by its due job).
    pub backlog_age_max_ms: i64,
    /// See `home_fanout_built_check_max`.
    pub built_check_max: i64,
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
            fanout_batch_max: int(l.home_fanout_batch_max).max(1),
            pending_merge_max: int(l.home_fanout_pending_merge_max),
            backlog_age_max_ms: i64::try_from(l.home_fanout_backlog_age_max_ms).unwrap_or(i64::MAX),
            built_check_max: int(l.home_fanout_built_check_max),
        }
    }
}

/// A new status (or reblog) of `author`, in the posting transaction: into
/// the author's own feed at once (one sees one's own post), and, for an
/// ordinary author with followers, a fan-out job that copies it into their
/// feeds in batches after the commit ([`super::fanout`]); home pages merge
/// it on read until then. So a post costs the same whatever its audience.
/// Returns the author's row as this transaction now has it (None when it
/// changed after the read, or there is no such account).
pub async fn fan_out(
    c: &dyn Conn,
    author: Id,
    status_id: Id,
    f: FeedLimits,
) -> StoreResult<Option<AccountRow>> {
    // Batches copy only into open feeds: the decision below is ordered
    // against feeds opening by the lock this statement takes
    // (`Dialect::fan_out_decision_lock`). It reads the author's whole row,
    // which a post's answer shows (bench/perf, session 12: read once, not
    // again for the answer).
    let Some(r) = c
        .query_opt(
            &format!(
                "SELECT {}, a.fanout_on_read{} FROM accounts a WHERE a.id = ?1",
                sql::account_columns(),
                c.dialect().fan_out_decision_lock()
            ),
            &args![author],
        )
        .await?
    else {
        return Ok(None);
    };
    let row = sql::account_row(&r)?;
    let marked: bool = r.get(sql::ACCOUNT_COLUMNS_N)?;
    let followers = row.followers_count;
    let statuses = row.statuses_count;
    let on_read = marked || followers >= f.fanout_followers_max;
    // The row as read, while it is the row as it stands.
    let mut current = Some(row);
    if on_read && !marked {
        c.execute(
            "UPDATE accounts SET fanout_on_read = TRUE WHERE id = ?1",
            &args![author],
        )
        .await?;
        // Its version moved (migration 0024).
        current = None;
    }
    c.execute(
        "INSERT INTO home_feed (account_id, status_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        &args![author, status_id],
    )
    .await?;
    let feed_trim = statuses % f.trim_every_posts == 0;
    if feed_trim {
        trim(c, author, f.max).await?;
    }
    if !on_read && followers > 0 {
        if !any_built_follower(c, author, followers, f.built_check_max).await? {
            // Nobody's feed would get the row: no job to queue, run and merge.
            return Ok(current);
        }
        super::fanout::refuse_when_behind(c, f.backlog_age_max_ms).await?;
        super::fanout::queue(c, author, status_id, feed_trim).await?;
    }
    Ok(current)
}

/// Whether one of `author`'s `followers` has a built feed, found by looking
/// at no more than about `look_max` rows: from the built side when at most
/// that many feeds are built, else from the followers' side when there are
/// at most that many of them. True when neither side is that small (the job
/// finds out).
async fn any_built_follower(
    c: &dyn Conn,
    author: Id,
    followers: i64,
    look_max: i64,
) -> StoreResult<bool> {
    if look_max <= 0 {
        return Ok(true);
    }
    // One statement (one round trip on PostgreSQL): the side is chosen by
    // the CASE, whose branches run only when chosen.
    let built_index = c.dialect().indexed_by(super::fanout::BUILT_INDEX);
    c.query_one(
        &format!(
            "SELECT CASE \
               WHEN (SELECT COUNT(*) FROM (SELECT 1 FROM accounts{built_index} WHERE home_feed_built LIMIT ?2) x) <= ?3 \
                 THEN EXISTS (SELECT 1 FROM accounts a{built_index} WHERE a.home_feed_built \
                   AND EXISTS (SELECT 1 FROM follows f WHERE f.account_id = a.id AND f.target_id = ?1)) \
               WHEN ?4 THEN EXISTS (SELECT 1 FROM follows f WHERE f.target_id = ?1 \
                   AND EXISTS (SELECT 1 FROM accounts a{built_index} WHERE a.id = f.account_id AND a.home_feed_built)) \
               ELSE TRUE END"
        ),
        &args![author, look_max + 1, look_max, followers <= look_max],
    )
    .await?
    .get(0)
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

/// Opens `viewer`'s feed to fan-out (`home_feed_built`): the first of the
/// three steps that build a feed (created before migration 0016, or by
/// `holdfast bench seed`), each its own transaction: open, pass the
/// barrier (`Dialect::feed_open_barrier`, returned here; None on SQLite),
/// [`fill`]. Posts that commit from here on reach the feed by their fan-out
/// jobs; the fill finds the ones before. A build that stops half way leaves
/// a feed open but not filled, which the next home read builds again.
pub async fn open(c: &dyn Conn, viewer: Id) -> StoreResult<Option<&'static str>> {
    c.execute(
        "UPDATE accounts SET home_feed_built = TRUE WHERE id = ?1 AND NOT home_feed_built",
        &args![viewer],
    )
    .await?;
    Ok(c.dialect().feed_open_barrier())
}

/// Fills an open feed from history: the newest `max` statuses of the
/// viewer's followees and its own, found with the plan of the
/// fan-out-on-read query; then home pages read from it
/// (`home_feed_filled`). Rows a fan-out batch writes meanwhile are kept
/// once (`ON CONFLICT DO NOTHING`); inserted oldest first, the order
/// batches write in, so the two do not deadlock on each other's rows.
pub async fn fill(c: &dyn Conn, viewer: Id, f: FeedLimits) -> StoreResult<()> {
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
             WHERE TRUE ORDER BY x.id ON CONFLICT DO NOTHING"
        ),
        &args![viewer, f.max],
    )
    .await?;
    c.execute(
        "UPDATE accounts SET home_feed_filled = TRUE WHERE id = ?1",
        &args![viewer],
    )
    .await?;
    trim(c, viewer, f.max).await
}

/// A home page: its ids, and what its read saw of each status and author
/// (row versions, to find their kept fragments); the statuses of followed
/// hashtags, which pass other rules, have no entry.
pub struct FeedPage {
    pub ids: Vec<Paged<Id>>,
    pub(crate) seen: FastMap<Id, SeenStatus>,
    /// The viewer's actions version, as the page's first read of candidates
    /// found it (`home_rules::Judged::actions`); None if it read none.
    pub(crate) actions: Option<i64>,
    /// Whether the viewer has filters (`HomePage::filters`).
    pub filters: bool,
}

/// A home page from the feed, merged with the statuses of pending fan-out
/// jobs that have not reached the viewer, the followed `fanout_on_read`
/// authors' statuses and the public posts of followed hashtags
/// (`timelines::followed_tags_page`); None if the viewer's feed was never
/// filled ([`open`]).
///
/// Candidates first, rules second: each source (the feed, each merged
/// author's index) gives its next `2 x limit` ids within the page bounds, the
/// newest of them all are checked against the home rules in one query, and
/// this repeats past the last id checked (at most `rounds_max` times) until
/// the page is full or the sources are spent. So the rules run on about a
/// page of rows however many authors are merged.
pub async fn page(
    c: &dyn Conn,
    relations: &super::home_rules::RelationFacts,
    viewer: Id,
    page: Page,
    rounds_max: usize,
    pending_max: i64,
) -> StoreResult<Option<FeedPage>> {
    let Some(sources) = sources(c, viewer, pending_max).await? else {
        return Ok(None);
    };
    let Sources {
        merged,
        pending,
        follows_tags,
        filters,
    } = sources;
    let ascending = page.min_id.is_some();
    let limit = page.limit as usize;
    // The rules are most of a page's cost, paid per candidate, and nearly
    // every feed row passes them: the first round checks 1.5 pages of
    // candidates, later ones 2. One round more than `rounds_max` keeps the
    // candidates a page may check at least `rounds_max` x 2 pages.
    let mut per_source = (limit + limit / 2).max(1);
    let mut found = Vec::with_capacity(limit);
    let mut seen = FastMap::with_capacity_and_hasher(limit, Default::default());
    let mut actions = None;
    let mut bounds = page;
    for _ in 0..rounds_max.max(1) + 1 {
        bounds.limit = per_source as u32;
        // The feed alone (no merged author, nothing pending here): its rows
        // and their columns for the rules in one statement.
        let feed_only = merged.is_empty() && !pending.iter().any(|&id| within(id, bounds));
        let (judged, more) = if feed_only {
            let judged = super::home_rules::feed_passing(c, relations, viewer, bounds).await?;
            let more = judged.ids.len() == per_source;
            (judged, more)
        } else {
            let mut candidates =
                next_ids(c, "home_feed", "account_id", "status_id", viewer, bounds).await?;
            let mut more = candidates.len() == per_source;
            candidates.extend(pending.iter().copied().filter(|&id| within(id, bounds)));
            for &author in &merged {
                let ids = next_ids(c, "statuses", "account_id", "id", author, bounds).await?;
                more |= ids.len() == per_source;
                candidates.extend(ids);
            }
            if ascending {
                candidates.sort_unstable();
            } else {
                candidates.sort_unstable_by(|a, b| b.cmp(a));
            }
            candidates.dedup();
            // Past the first `per_source`, a source that was cut short may hold
            // ids in between: those wait for the next round.
            candidates.truncate(per_source);
            if let Some(&last) = candidates.last() {
                // Pending ids past this round's last wait for the next round.
                more |= pending
                    .iter()
                    .any(|&id| within(id, bounds) && if ascending { id > last } else { id < last });
            }
            let mut judged = super::home_rules::passing(c, relations, viewer, &candidates).await?;
            judged.ids = candidates;
            (judged, more)
        };
        let super::home_rules::Judged {
            ids: candidates,
            mut passing,
            actions: read_actions,
        } = judged;
        actions = actions.or(read_actions);
        let Some(&last) = candidates.last() else {
            break;
        };
        for id in &candidates {
            if found.len() == limit {
                break;
            }
            if let Some(s) = passing.remove(id) {
                found.push(*id);
                seen.insert(*id, s);
            }
        }
        if found.len() == limit || !more {
            break;
        }
        if ascending {
            bounds.min_id = Some(last);
        } else {
            bounds.max_id = Some(last);
        }
        per_source = (limit * 2).max(1);
    }
    if ascending {
        found.reverse();
    }
    let found: Vec<Paged<Id>> = found
        .into_iter()
        .map(|id| Paged {
            cursor: id,
            item: id,
        })
        .collect();
    // The public posts of followed hashtags: a source with rules of its own,
    // its page merged with this one.
    let ids = if follows_tags {
        let tagged = timelines::followed_tags_of(c, viewer, page).await?;
        merge(found.into_iter().chain(tagged).collect(), page)
    } else {
        found
    };
    Ok(Some(FeedPage {
        ids,
        seen,
        actions,
        filters,
    }))
}

/// What a home page learns before it reads the feed (see [`sources`]).
struct Sources {
    /// The followed `fanout_on_read` authors, whose statuses are merged on read.
    merged: Vec<Id>,
    /// Posts whose fan-out job has not reached this viewer yet: a source of
    /// their own, read before the feed (see `fanout::pending`).
    pending: Vec<Id>,
    /// Whether the viewer follows a hashtag (`timelines::followed_tags_page`).
    follows_tags: bool,
    /// Whether the viewer has filters (`HomePage::filters`).
    filters: bool,
}

/// A home page's sources besides the feed, in one statement (each was one
/// statement of its own: bench/perf, session 10); None if the viewer's feed
/// was never filled ([`open`]). The merged authors are driven from the few
/// `fanout_on_read` authors (their partial index), each probed in the
/// viewer's follows: the cost does not grow with the number of accounts the
/// viewer follows (bench/perf: home-followees).
async fn sources(c: &dyn Conn, viewer: Id, pending_max: i64) -> StoreResult<Option<Sources>> {
    // Each row tagged with what it says: 1 filled, 2 a merged author, 3 a
    // pending status, 4 follows a hashtag, 5 has filters.
    let rows = c
        .query(
            &format!(
                "SELECT CAST(1 AS BIGINT), CAST(1 AS BIGINT) FROM accounts a WHERE a.id = ?1 AND a.home_feed_filled \
                 UNION ALL SELECT CAST(2 AS BIGINT), a.id FROM accounts a WHERE a.fanout_on_read \
                   AND EXISTS (SELECT 1 FROM follows f WHERE f.account_id = ?1 AND f.target_id = a.id) \
                 UNION ALL SELECT CAST(3 AS BIGINT), p.target_id FROM ({}) p \
                 UNION ALL SELECT CAST(4 AS BIGINT), CAST(1 AS BIGINT) \
                   WHERE EXISTS (SELECT 1 FROM tag_follows WHERE account_id = ?1) \
                 UNION ALL SELECT CAST(5 AS BIGINT), CAST(1 AS BIGINT) \
                   WHERE EXISTS (SELECT 1 FROM filters WHERE account_id = ?1)",
                super::fanout::pending_select(c)
            ),
            &args![viewer, pending_max],
        )
        .await?;
    let mut filled = false;
    let mut sources = Sources {
        merged: Vec::new(),
        pending: Vec::new(),
        follows_tags: false,
        filters: false,
    };
    for r in &rows {
        let value: Id = r.get(1)?;
        match r.get::<i64>(0)? {
            1 => filled = true,
            2 => sources.merged.push(value),
            3 => sources.pending.push(value),
            4 => sources.follows_tags = true,
            _ => sources.filters = true,
        }
    }
    Ok(filled.then_some(sources))
}

/// Whether `id` is inside the bounds of `page` (`max_id` above it,
/// `min_id` or else `since_id` below it), as `sql::page_clause` bounds a query.
fn within(id: Id, page: Page) -> bool {
    page.max_id.is_none_or(|max| id < max)
        && page.min_id.or(page.since_id).is_none_or(|min| id > min)
}

/// One page out of several sources' pages (each newest first, each already
/// the right page of its own source): newest first, no duplicates, `limit`
/// long, the lowest ids for a `min_id` page (the page just above it).
pub(crate) fn merge(mut all: Vec<Paged<Id>>, page: Page) -> Vec<Paged<Id>> {
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

/// The next ids of one source within `bounds`, in the page's order: rows of
/// `table` whose `owner` column is `owner`, paged by `id_col`. Table and
/// column names are this module's constants, never input.
async fn next_ids(
    c: &dyn Conn,
    table: &str,
    owner_col: &str,
    id_col: &str,
    owner: Id,
    bounds: Page,
) -> StoreResult<Vec<Id>> {
    let clause = sql::page_clause(id_col, bounds, 2);
    let mut params = vec![Arg::Int(owner)];
    params.extend(clause.values.iter().map(|v| Arg::Int(*v)));
    c.query(
        &format!(
            "SELECT {id_col} FROM {table} WHERE {owner_col} = ?1{}",
            clause.sql
        ),
        &params,
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect()
}
