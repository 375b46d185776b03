//! Trends and usage: how much this server is used (nodeinfo) and what is
//! trending on it, all computed from local activity. Every query reads a bounded
//! slice: the newest public statuses of a time window, at most a fixed number.

use super::sql::vis;
use super::{args, Conn};
use crate::model::*;
use crate::StoreResult;

/// Accounts and posts, for nodeinfo's `usage`. "Active" means posted in the
/// window (holdfast keeps no log-in history, Mastodon counts log-ins).
pub async fn usage(
    c: &dyn Conn,
    month_start_ms: i64,
    halfyear_start_ms: i64,
) -> StoreResult<Usage> {
    let r = c
        .query_one(
            "SELECT (SELECT COUNT(*) FROM accounts WHERE NOT suspended AND approved), \
                    (SELECT COUNT(*) FROM accounts WHERE NOT suspended AND approved AND last_status_at > ?1), \
                    (SELECT COUNT(*) FROM accounts WHERE NOT suspended AND approved AND last_status_at > ?2), \
                    (SELECT COUNT(*) FROM statuses WHERE reblog_of_id IS NULL)",
            &args![month_start_ms, halfyear_start_ms],
        )
        .await?;
    Ok(Usage {
        users: r.get(0)?,
        active_month: r.get(1)?,
        active_halfyear: r.get(2)?,
        local_posts: r.get(3)?,
    })
}

/// The newest public originals since id `?1`, at most `?2` of them, by
/// authors in good standing: the sample every trend is computed from.
fn recent_public() -> String {
    format!(
        "SELECT rs.id FROM statuses rs \
         WHERE rs.id > ?1 AND rs.visibility = {public} AND rs.reblog_of_id IS NULL \
           AND NOT EXISTS (SELECT 1 FROM accounts ra WHERE ra.id = rs.account_id AND (ra.suspended OR NOT ra.approved)) \
         ORDER BY rs.id DESC LIMIT ?2",
        public = vis(Visibility::Public)
    )
}

/// Tags used by the most distinct accounts in the sample, then by the most uses.
/// `uses_last_week`/`accounts_last_week` are the counts within the sample.
pub async fn trending_tags(
    c: &dyn Conn,
    since_id: Id,
    scan_max: u32,
    limit: u32,
    offset: u32,
) -> StoreResult<Vec<TagRow>> {
    let rows = c
        .query(
            &format!(
                "SELECT t.name, COUNT(*), COUNT(DISTINCT s.account_id), t.id \
                 FROM status_tags st JOIN statuses s ON s.id = st.status_id JOIN tags t ON t.id = st.tag_id \
                 WHERE st.status_id IN ({}) \
                 GROUP BY t.id, t.name \
                 ORDER BY COUNT(DISTINCT s.account_id) DESC, COUNT(*) DESC, t.id DESC \
                 LIMIT ?3 OFFSET ?4",
                recent_public()
            ),
            &args![since_id, scan_max, limit, offset],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(TagRow {
                name: r.get(0)?,
                uses_last_week: r.get(1)?,
                accounts_last_week: r.get(2)?,
                id: Some(r.get(3)?),
            })
        })
        .collect()
}

/// Statuses of the sample that drew the most reblogs and favourites (at least one).
pub async fn trending_statuses(
    c: &dyn Conn,
    since_id: Id,
    scan_max: u32,
    limit: u32,
    offset: u32,
) -> StoreResult<Vec<Id>> {
    let rows = c
        .query(
            &format!(
                "SELECT s.id FROM statuses s WHERE s.id IN ({}) \
                   AND s.reblogs_count + s.favourites_count > 0 \
                 ORDER BY s.reblogs_count + s.favourites_count DESC, s.id DESC \
                 LIMIT ?3 OFFSET ?4",
                recent_public()
            ),
            &args![since_id, scan_max, limit, offset],
        )
        .await?;
    rows.iter().map(|r| r.get(0)).collect()
}
