//! The home rules ([`super::timelines::home_rules`]) for a page's
//! candidates from the materialized feed, checked once per account rather
//! than once per candidate (issue 10, the read side).
//!
//! Nearly every rule depends only on an account: whether the viewer follows
//! it (and wants its reblogs), whether it is suspended, blocks the viewer,
//! is blocked or muted by the viewer, or is in one of the viewer's exclusive
//! lists. A page's candidates come from a few dozen accounts, so those
//! facts are read once per account (one statement), the candidates' own
//! columns once per candidate (one statement), and mentions only for the
//! few private or direct statuses whose visibility hangs on one. What an
//! account is to the viewer (followed, blocks either way, muted, in an
//! exclusive list) is kept between pages ([`RelationFacts`]) by the viewer's
//! relationship version (migration 0032), which the candidates' statement
//! reads with them: a page whose accounts are all kept runs no facts
//! statement, and any change to the viewer's follows, blocks (either way),
//! mutes or exclusive lists, made by any process or node, moves the version
//! and so is read by the very next page. The SQL
//! form stays for the fan-out-on-read query (`timelines::home`), which
//! filters while it walks; the two must say the same (conformance:
//! `home_timeline_rules_and_filters`, `home_feed_pages_past_hidden_rows`,
//! `list_timeline_replies_policy_and_exclusive`, `visibility_rules`).

use super::sql::mute_in_force;
use super::{Arg, Conn, Row};
use crate::kept::{Seen, SeenStatus};
use crate::model::*;
use crate::versioned::{FastMap, FastSet, Versioned};
use crate::StoreResult;

/// What one account is to one viewer, as far as the home rules care: kept
/// between pages in [`RelationFacts`].
#[derive(Clone, Copy, Default, Debug, PartialEq)]
pub(crate) struct Relation {
    followed: bool,
    /// Followed, with its reblogs wanted.
    reblogs_wanted: bool,
    /// It blocks the viewer.
    blocks_viewer: bool,
    /// The viewer blocks it, or mutes it (a mute in force).
    filtered: bool,
    /// A member of one of the viewer's exclusive lists.
    exclusive: bool,
    /// When the viewer's timed mute of it ends (ms since the epoch, the
    /// database's clock), if one is in force: a mute that ends moves no
    /// version, so the entry is good only while the page's read finds the
    /// database's clock before this.
    mute_ends_ms: Option<i64>,
}

/// [`Relation`]s by (viewer, account), each good for the viewer's
/// relationship version it was read at (`home_relation_facts_cache_max`).
pub(crate) type RelationFacts = Versioned<i64, Relation, (Id, Id)>;

/// What the home rules need to know of one account, for one viewer.
#[derive(Clone, Copy, Default)]
struct Facts {
    /// Suspended, or not approved: nobody sees its statuses.
    hidden: bool,
    /// Its row's version (what its rendered JSON is kept by).
    version: i64,
    relation: Relation,
}

/// A status the visibility rule is applied to: a candidate, or the status
/// a candidate reblogs.
#[derive(Clone, Copy)]
struct Shown {
    id: Id,
    author: Id,
    visibility: Visibility,
    version: i64,
}

struct Candidate {
    status: Shown,
    /// Its author's hidden flag and row version.
    author: (bool, i64),
    is_reblog: bool,
    /// The reblogged status, if it (still) exists.
    original: Option<Shown>,
    /// The reblogged status' author's hidden flag and row version.
    original_author: Option<(bool, i64)>,
    in_reply_to_account: Option<Id>,
}

/// Candidates judged by the home rules ([`passing`], [`feed_passing`]).
pub(crate) struct Judged {
    /// The candidates' ids, in the order read.
    pub ids: Vec<Id>,
    /// Those that pass, with the versions of their rows and their authors'
    /// as the read found them.
    pub passing: FastMap<Id, SeenStatus>,
    /// The viewer's actions version (migration 0033) as the same read found
    /// it, for the viewer's kept flags (`statuses::ViewerFlagsKept`); None
    /// when there was no candidate.
    pub actions: Option<i64>,
}

/// Which of `ids` pass the home rules for `viewer` (and still exist), with
/// the versions of their rows and their authors' as this read found them.
pub(crate) async fn passing(
    c: &dyn Conn,
    kept: &RelationFacts,
    viewer: Id,
    ids: &[Id],
) -> StoreResult<Judged> {
    if ids.is_empty() {
        return Ok(Judged {
            ids: Vec::new(),
            passing: FastMap::default(),
            actions: None,
        });
    }
    let rows = c
        .query(
            &format!(
                "SELECT {} FROM {} CROSS JOIN {CANDIDATE_FROM} WHERE s.id = j.value",
                candidate_columns(2),
                c.dialect().ids_table(1, "j")
            ),
            &[Arg::Ids(ids), Arg::Int(viewer)],
        )
        .await?;
    judge(c, kept, viewer, &rows).await
}

/// The viewer's next feed rows within `bounds` (in the page's order; rows
/// of statuses gone since are skipped), read with the columns the rules
/// need in one statement, and which of them pass (as [`passing`]).
pub(crate) async fn feed_passing(
    c: &dyn Conn,
    kept: &RelationFacts,
    viewer: Id,
    bounds: Page,
) -> StoreResult<Judged> {
    let clause = super::sql::page_clause("hf.status_id", bounds, 2);
    let mut params = vec![Arg::Int(viewer)];
    params.extend(clause.values.iter().map(|v| Arg::Int(*v)));
    let rows = c
        .query(
            &format!(
                "SELECT {} FROM home_feed hf JOIN statuses s ON s.id = hf.status_id \
                 JOIN accounts a ON a.id = s.account_id LEFT JOIN statuses o ON o.id = s.reblog_of_id \
                 LEFT JOIN accounts ao ON ao.id = o.account_id WHERE hf.account_id = ?1{}",
                candidate_columns(1),
                clause.sql
            ),
            &params,
        )
        .await?;
    judge(c, kept, viewer, &rows).await
}

/// Candidates read with [`candidate_columns`]: their ids in the order read,
/// and which of them pass the home rules.
async fn judge(
    c: &dyn Conn,
    kept: &RelationFacts,
    viewer: Id,
    rows: &[Row],
) -> StoreResult<Judged> {
    let candidates = rows
        .iter()
        .map(candidate)
        .collect::<StoreResult<Vec<_>>>()?;
    let ids: Vec<Id> = candidates.iter().map(|k| k.status.id).collect();
    let Some(first) = rows.first() else {
        return Ok(Judged {
            ids,
            passing: FastMap::default(),
            actions: None,
        });
    };
    // The viewer's relationship version, the database's clock and the
    // viewer's actions version, as this same statement saw them (constant
    // subqueries: one value for all rows).
    let version: i64 = first.get(RELATION_VERSION_COLUMN)?;
    let now_ms: i64 = first.get(RELATION_VERSION_COLUMN + 1)?;
    let actions: i64 = first.get(RELATION_VERSION_COLUMN + 2)?;
    let mut authors: FastMap<Id, (bool, i64)> =
        FastMap::with_capacity_and_hasher(rows.len(), Default::default());
    for k in &candidates {
        authors.insert(k.status.author, k.author);
        if let Some((o, author)) = k.original.zip(k.original_author) {
            authors.insert(o.author, author);
        }
    }
    let mut accounts: Vec<Id> = candidates
        .iter()
        .flat_map(|k| {
            [
                Some(k.status.author),
                k.original.map(|o| o.author),
                k.in_reply_to_account,
            ]
        })
        .flatten()
        .collect();
    accounts.sort_unstable();
    accounts.dedup();
    let relations = relations(c, kept, viewer, &accounts, version, now_ms).await?;
    // An account that is not there (a reply to one deleted since) is
    // followed by nobody, as the SQL's EXISTS finds.
    let of = |a: Id| {
        let (hidden, version) = authors.get(&a).copied().unwrap_or_default();
        Facts {
            hidden,
            version,
            relation: relations.get(&a).copied().unwrap_or_default(),
        }
    };

    // Public and unlisted statuses, one's own, and private ones of followed
    // accounts are visible whoever they mention; only the rest need a look.
    let open = |s: Shown| {
        matches!(s.visibility, Visibility::Public | Visibility::Unlisted)
            || s.author == viewer
            || (s.visibility == Visibility::Private && of(s.author).relation.followed)
    };
    let unsure: Vec<Id> = candidates
        .iter()
        .flat_map(|k| [Some(k.status), k.original])
        .flatten()
        .filter(|s| !open(*s))
        .map(|s| s.id)
        .collect();
    let mentioned = mentioning(c, viewer, &unsure).await?;
    let visible = |s: Shown| {
        let a = of(s.author);
        !a.hidden && !a.relation.blocks_viewer && (open(s) || mentioned.contains(&s.id))
    };
    let seen = |s: Shown| Seen {
        version: s.version,
        author: s.author,
        author_version: of(s.author).version,
    };

    let passing = candidates
        .iter()
        .filter(|k| {
            let s = k.status;
            let own = s.author == viewer;
            let a = of(s.author);
            let r = a.relation;
            (own || r.followed)
                && (!k.is_reblog || own || r.reblogs_wanted)
                && k.in_reply_to_account
                    .is_none_or(|to| to == viewer || to == s.author || of(to).relation.followed)
                && !r.exclusive
                && visible(s)
                && (!k.is_reblog || k.original.is_some_and(|o| visible(o)))
                && !r.filtered
                && k.original.is_none_or(|o| !of(o.author).relation.filtered)
        })
        .map(|k| {
            let seen = SeenStatus {
                status: seen(k.status),
                original: k.original.map(|o| (o.id, seen(o))),
            };
            (k.status.id, seen)
        })
        .collect();
    Ok(Judged {
        ids,
        passing,
        actions: Some(actions),
    })
}

/// A candidate's own columns, with the status it reblogs (`o`) and both
/// authors (`a`, `ao`: hidden, row version), then the relationship version of
/// the viewer (`?{viewer}`) and the database's clock, for [`relations`], and
/// the viewer's actions version, for its kept flags ([`Judged::actions`]).
fn candidate_columns(viewer: usize) -> String {
    format!(
        "s.id, s.account_id, s.visibility, s.reblog_of_id, s.in_reply_to_account_id, \
         o.id, o.account_id, o.visibility, s.version, o.version, \
         (a.suspended OR NOT a.approved), a.version, (ao.suspended OR NOT ao.approved), ao.version, \
         COALESCE((SELECT rv.n FROM relation_versions rv WHERE rv.account_id = ?{viewer}), 0), \
         holdfast_now_ms(), \
         COALESCE((SELECT rv.actions FROM relation_versions rv WHERE rv.account_id = ?{viewer}), 0)"
    )
}
/// Where [`candidate_columns`] puts the relationship version (the clock and
/// the actions version follow).
// fact: the position of that column in the list above, not a tunable.
const RELATION_VERSION_COLUMN: usize = 14;
const CANDIDATE_FROM: &str = "statuses s JOIN accounts a ON a.id = s.account_id \
     LEFT JOIN statuses o ON o.id = s.reblog_of_id LEFT JOIN accounts ao ON ao.id = o.account_id";

fn candidate(r: &Row) -> StoreResult<Candidate> {
    let reblog_of: Option<Id> = r.get(3)?;
    let original = match (
        r.get::<Option<Id>>(5)?,
        r.get::<Option<Id>>(6)?,
        r.get::<Option<i64>>(7)?,
        r.get::<Option<i64>>(9)?,
    ) {
        (Some(id), Some(author), Some(v), Some(version)) => Some(Shown {
            id,
            author,
            visibility: Visibility::from_i64(v),
            version,
        }),
        _ => None,
    };
    let original_author = match (r.get::<Option<bool>>(12)?, r.get::<Option<i64>>(13)?) {
        (Some(hidden), Some(version)) if original.is_some() => Some((hidden, version)),
        _ => None,
    };
    Ok(Candidate {
        status: Shown {
            id: r.get(0)?,
            author: r.get(1)?,
            visibility: Visibility::from_i64(r.get(2)?),
            version: r.get(8)?,
        },
        author: (r.get(10)?, r.get(11)?),
        is_reblog: reblog_of.is_some(),
        // A reblog of a status whose author row is gone shows nothing of it.
        original: original.filter(|_| original_author.is_some()),
        original_author,
        in_reply_to_account: r.get(4)?,
    })
}

/// What `accounts` are to `viewer`: kept ones at the relationship `version`
/// the page's statement read (and, for a timed mute, only before the
/// database's clock `now_ms` of that read reaches its end); the others in
/// one statement, then kept at the version that statement read with them.
async fn relations(
    c: &dyn Conn,
    kept: &RelationFacts,
    viewer: Id,
    accounts: &[Id],
    version: i64,
    now_ms: i64,
) -> StoreResult<FastMap<Id, Relation>> {
    let mut found = FastMap::with_capacity_and_hasher(accounts.len(), Default::default());
    let mut missing = Vec::new();
    let kept_now = kept.get_each(accounts.iter().map(|&a| ((viewer, a), version)));
    for (&a, r) in accounts.iter().zip(kept_now) {
        match r {
            Some(r) if r.mute_ends_ms.is_none_or(|end| now_ms < end) => {
                found.insert(a, r);
            }
            _ => missing.push(a),
        }
    }
    if missing.is_empty() {
        return Ok(found);
    }
    let (read_version, read) = read_relations(c, viewer, &missing).await?;
    found.extend(read.iter().copied());
    kept.put_each(
        read.into_iter().map(|(a, r)| ((viewer, a), r)),
        read_version,
    );
    Ok(found)
}

/// What `accounts` are to `viewer`, in one statement with the viewer's
/// relationship version it read them at: a walk over the ids probing each
/// (a join, not `IN`: `Dialect::ids_table`). What most viewers never have
/// (blocks either way, mutes, exclusive lists) is asked once for the viewer
/// before it is asked once per account.
async fn read_relations(
    c: &dyn Conn,
    viewer: Id,
    accounts: &[Id],
) -> StoreResult<(i64, Vec<(Id, Relation)>)> {
    let rows = c
        .query(
            &format!(
                "SELECT j.value, f.account_id IS NOT NULL, COALESCE(f.reblogs, FALSE), \
                   (EXISTS (SELECT 1 FROM blocks b WHERE b.target_id = ?1) \
                    AND EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = j.value AND b.target_id = ?1)), \
                   ((EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = ?1) \
                     AND EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = ?1 AND b.target_id = j.value)) \
                    OR (EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = ?1) \
                     AND EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = ?1 AND m.target_id = j.value AND {in_force}))), \
                   (EXISTS (SELECT 1 FROM lists xl WHERE xl.account_id = ?1 AND xl.exclusive) \
                    AND EXISTS (SELECT 1 FROM list_accounts xm JOIN lists xl ON xl.id = xm.list_id \
                           WHERE xm.account_id = j.value AND xl.account_id = ?1 AND xl.exclusive)), \
                   CASE WHEN EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = ?1) \
                     THEN (SELECT m.expires_at FROM mutes m WHERE m.account_id = ?1 AND m.target_id = j.value AND {in_force}) END, \
                   COALESCE((SELECT rv.n FROM relation_versions rv WHERE rv.account_id = ?1), 0) \
                 FROM {} LEFT JOIN follows f ON f.account_id = ?1 AND f.target_id = j.value",
                c.dialect().ids_table(2, "j"),
                in_force = mute_in_force("m"),
            ),
            &[Arg::Int(viewer), Arg::Ids(accounts)],
        )
        .await?;
    let mut version = 0;
    let relations = rows
        .iter()
        .map(|r| {
            let followed: bool = r.get(1)?;
            version = r.get(7)?;
            Ok((
                r.get(0)?,
                Relation {
                    followed,
                    reblogs_wanted: followed && r.get::<bool>(2)?,
                    blocks_viewer: r.get(3)?,
                    filtered: r.get(4)?,
                    exclusive: r.get(5)?,
                    mute_ends_ms: r.get(6)?,
                },
            ))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok((version, relations))
}

/// Which of `ids` mention `viewer`.
async fn mentioning(c: &dyn Conn, viewer: Id, ids: &[Id]) -> StoreResult<FastSet<Id>> {
    if ids.is_empty() {
        return Ok(FastSet::default());
    }
    c.query(
        &format!(
            "SELECT m.status_id FROM {} CROSS JOIN mentions m WHERE m.account_id = ?1 AND m.status_id = j.value",
            c.dialect().ids_table(2, "j")
        ),
        &[Arg::Int(viewer), Arg::Ids(ids)],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect()
}
