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
//! few private or direct statuses whose visibility hangs on one. The SQL
//! form stays for the fan-out-on-read query (`timelines::home`), which
//! filters while it walks; the two must say the same (conformance:
//! `home_timeline_rules_and_filters`, `home_feed_pages_past_hidden_rows`,
//! `list_timeline_replies_policy_and_exclusive`, `visibility_rules`).

use std::collections::{HashMap, HashSet};

use super::sql::mute_in_force;
use super::{Arg, Conn, Row};
use crate::kept::{Seen, SeenStatus};
use crate::model::*;
use crate::StoreResult;

/// What the home rules need to know of one account, for one viewer.
#[derive(Clone, Copy, Default)]
struct Facts {
    /// Suspended, or not approved: nobody sees its statuses.
    hidden: bool,
    followed: bool,
    /// Followed, with its reblogs wanted.
    reblogs_wanted: bool,
    /// It blocks the viewer.
    blocks_viewer: bool,
    /// The viewer blocks it, or mutes it (a mute in force).
    filtered: bool,
    /// A member of one of the viewer's exclusive lists.
    exclusive: bool,
    /// Its row's version (what its rendered JSON is kept by).
    version: i64,
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
    is_reblog: bool,
    /// The reblogged status, if it (still) exists.
    original: Option<Shown>,
    in_reply_to_account: Option<Id>,
}

/// Which of `ids` pass the home rules for `viewer` (and still exist), with
/// the versions of their rows and their authors' as this read found them.
pub(crate) async fn passing(
    c: &dyn Conn,
    viewer: Id,
    ids: &[Id],
) -> StoreResult<HashMap<Id, SeenStatus>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = c
        .query(
            &format!(
                "SELECT {CANDIDATE_COLUMNS} FROM {} CROSS JOIN {CANDIDATE_FROM} WHERE s.id = j.value",
                c.dialect().ids_table(1, "j")
            ),
            &[Arg::Ids(ids)],
        )
        .await?;
    Ok(judge(c, viewer, &rows).await?.1)
}

/// The viewer's next feed rows within `bounds` (in the page's order; rows
/// of statuses gone since are skipped), read with the columns the rules
/// need in one statement, and which of them pass (as [`passing`]).
pub(crate) async fn feed_passing(
    c: &dyn Conn,
    viewer: Id,
    bounds: Page,
) -> StoreResult<(Vec<Id>, HashMap<Id, SeenStatus>)> {
    let clause = super::sql::page_clause("hf.status_id", bounds, 2);
    let mut params = vec![Arg::Int(viewer)];
    params.extend(clause.values.iter().map(|v| Arg::Int(*v)));
    let rows = c
        .query(
            &format!(
                "SELECT {CANDIDATE_COLUMNS} FROM home_feed hf JOIN statuses s ON s.id = hf.status_id \
                 LEFT JOIN statuses o ON o.id = s.reblog_of_id WHERE hf.account_id = ?1{}",
                clause.sql
            ),
            &params,
        )
        .await?;
    judge(c, viewer, &rows).await
}

/// Candidates read with [`CANDIDATE_COLUMNS`]: their ids in the order read,
/// and which of them pass the home rules.
async fn judge(
    c: &dyn Conn,
    viewer: Id,
    rows: &[Row],
) -> StoreResult<(Vec<Id>, HashMap<Id, SeenStatus>)> {
    let candidates = rows
        .iter()
        .map(candidate)
        .collect::<StoreResult<Vec<_>>>()?;
    let ids: Vec<Id> = candidates.iter().map(|k| k.status.id).collect();
    if candidates.is_empty() {
        return Ok((ids, HashMap::new()));
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
    let facts = facts(c, viewer, &accounts).await?;
    // An account that is not there (a reply to one deleted since) is
    // followed by nobody, as the SQL's EXISTS finds.
    let of = |a: Id| facts.get(&a).copied().unwrap_or_default();

    // Public and unlisted statuses, one's own, and private ones of followed
    // accounts are visible whoever they mention; only the rest need a look.
    let open = |s: Shown| {
        matches!(s.visibility, Visibility::Public | Visibility::Unlisted)
            || s.author == viewer
            || (s.visibility == Visibility::Private && of(s.author).followed)
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
        !a.hidden && !a.blocks_viewer && (open(s) || mentioned.contains(&s.id))
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
            (own || a.followed)
                && (!k.is_reblog || own || a.reblogs_wanted)
                && k.in_reply_to_account
                    .is_none_or(|r| r == viewer || r == s.author || of(r).followed)
                && !a.exclusive
                && visible(s)
                && (!k.is_reblog || k.original.is_some_and(|o| visible(o)))
                && !a.filtered
                && k.original.is_none_or(|o| !of(o.author).filtered)
        })
        .map(|k| {
            let seen = SeenStatus {
                status: seen(k.status),
                original: k.original.map(|o| (o.id, seen(o))),
            };
            (k.status.id, seen)
        })
        .collect();
    Ok((ids, passing))
}

/// A candidate's own columns, with the status it reblogs (`o`).
const CANDIDATE_COLUMNS: &str =
    "s.id, s.account_id, s.visibility, s.reblog_of_id, s.in_reply_to_account_id, \
     o.id, o.account_id, o.visibility, s.version, o.version";
const CANDIDATE_FROM: &str = "statuses s LEFT JOIN statuses o ON o.id = s.reblog_of_id";

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
    Ok(Candidate {
        status: Shown {
            id: r.get(0)?,
            author: r.get(1)?,
            visibility: Visibility::from_i64(r.get(2)?),
            version: r.get(8)?,
        },
        is_reblog: reblog_of.is_some(),
        original,
        in_reply_to_account: r.get(4)?,
    })
}

/// The facts of `accounts` for `viewer`, in one statement: a walk over the
/// ids probing each account (a join, not `IN`: `Dialect::ids_table`). What
/// most viewers never have (blocks either way, mutes, exclusive lists) is
/// asked once for the viewer before it is asked once per account.
async fn facts(c: &dyn Conn, viewer: Id, accounts: &[Id]) -> StoreResult<HashMap<Id, Facts>> {
    let rows = c
        .query(
            &format!(
                "SELECT a.id, (a.suspended OR NOT a.approved), f.account_id IS NOT NULL, COALESCE(f.reblogs, FALSE), \
                   (EXISTS (SELECT 1 FROM blocks b WHERE b.target_id = ?1) \
                    AND EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = a.id AND b.target_id = ?1)), \
                   ((EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = ?1) \
                     AND EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = ?1 AND b.target_id = a.id)) \
                    OR (EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = ?1) \
                     AND EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = ?1 AND m.target_id = a.id AND {}))), \
                   (EXISTS (SELECT 1 FROM lists xl WHERE xl.account_id = ?1 AND xl.exclusive) \
                    AND EXISTS (SELECT 1 FROM list_accounts xm JOIN lists xl ON xl.id = xm.list_id \
                           WHERE xm.account_id = a.id AND xl.account_id = ?1 AND xl.exclusive)), \
                   a.version \
                 FROM {} CROSS JOIN accounts a LEFT JOIN follows f ON f.account_id = ?1 AND f.target_id = a.id \
                 WHERE a.id = j.value",
                mute_in_force("m"),
                c.dialect().ids_table(2, "j")
            ),
            &[Arg::Int(viewer), Arg::Ids(accounts)],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let followed: bool = r.get(2)?;
            Ok((
                r.get(0)?,
                Facts {
                    hidden: r.get(1)?,
                    followed,
                    reblogs_wanted: followed && r.get::<bool>(3)?,
                    blocks_viewer: r.get(4)?,
                    filtered: r.get(5)?,
                    exclusive: r.get(6)?,
                    version: r.get(7)?,
                },
            ))
        })
        .collect()
}

/// Which of `ids` mention `viewer`.
async fn mentioning(c: &dyn Conn, viewer: Id, ids: &[Id]) -> StoreResult<HashSet<Id>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
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
