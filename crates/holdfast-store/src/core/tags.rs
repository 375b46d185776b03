//! Hashtags as accounts use them: following a tag (its public posts join the
//! follower's home timeline, see `timelines::home`), featuring tags on a
//! profile, and a tag's use per day (`history`).

use super::{args, sql, Arg, Conn};
use crate::model::*;
use crate::{StoreError, StoreResult};

/// The tag named `name_lower`, made if nobody used it yet; returns its id.
async fn tag_id(c: &dyn Conn, name_lower: &str) -> StoreResult<Id> {
    c.execute(
        "INSERT INTO tags (id, name) VALUES (holdfast_next_id(), ?1) ON CONFLICT (name) DO NOTHING",
        &args![name_lower],
    )
    .await?;
    c.query_one("SELECT id FROM tags WHERE name = ?1", &args![name_lower])
        .await?
        .get(0)
}

/// Follows a tag; following it again is no error. Rejected past `max` tags.
pub async fn follow(c: &dyn Conn, me: Id, name_lower: &str, max: u32) -> StoreResult<()> {
    let tag = tag_id(c, name_lower).await?;
    let added = c
        .execute(
            "INSERT INTO tag_follows (id, account_id, tag_id) VALUES (holdfast_next_id(), ?1, ?2) \
             ON CONFLICT (account_id, tag_id) DO NOTHING",
            &args![me, tag],
        )
        .await?;
    if added == 1 {
        let count: i64 = c
            .query_one(
                "SELECT COUNT(*) FROM tag_follows WHERE account_id = ?1",
                &args![me],
            )
            .await?
            .get(0)?;
        if count > i64::from(max) {
            return Err(StoreError::Rejected("you follow too many hashtags"));
        }
    }
    Ok(())
}

/// Not following the tag (or an unknown tag) is no error.
pub async fn unfollow(c: &dyn Conn, me: Id, name_lower: &str) -> StoreResult<()> {
    c.execute(
        "DELETE FROM tag_follows WHERE account_id = ?1 AND tag_id IN (SELECT id FROM tags WHERE name = ?2)",
        &args![me, name_lower],
    )
    .await?;
    Ok(())
}

/// The tags `me` follows, newest follow first, paged by the follow.
pub async fn followed(c: &dyn Conn, me: Id, page: Page) -> StoreResult<Vec<Paged<TagRef>>> {
    sql::paged_rows(
        c,
        "SELECT f.id, t.id, t.name FROM tag_follows f JOIN tags t ON t.id = f.tag_id WHERE f.account_id = ?1",
        "f.id",
        &args![me],
        page,
        |r| {
            Ok(TagRef {
                id: r.get(1)?,
                name: r.get(2)?,
            })
        },
    )
    .await
}

/// Of `tags`, those `me` follows.
pub async fn followed_among(c: &dyn Conn, me: Id, tags: &[Id]) -> StoreResult<Vec<Id>> {
    c.query(
        &format!(
            "SELECT tag_id FROM tag_follows WHERE account_id = ?1 AND {}",
            c.dialect().in_ids("tag_id", 2)
        ),
        &[Arg::Int(me), Arg::Ids(tags)],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// Per tag and day (days since the epoch, UTC) from `since_ms` on: public
/// statuses using it, and their distinct authors. Only public posts count,
/// as in Mastodon, so the history tells nothing about private ones.
pub async fn history(c: &dyn Conn, tags: &[Id], since_ms: i64) -> StoreResult<Vec<TagDay>> {
    c.query(
        &format!(
            "SELECT st.tag_id, s.created_at / 86400000, COUNT(*), COUNT(DISTINCT s.account_id) \
             FROM status_tags st JOIN statuses s ON s.id = st.status_id \
             WHERE {} AND s.created_at >= ?2 AND s.visibility = {} AND s.reblog_of_id IS NULL \
             GROUP BY st.tag_id, s.created_at / 86400000",
            c.dialect().in_ids("st.tag_id", 1),
            sql::vis(Visibility::Public)
        ),
        &[Arg::Ids(tags), Arg::Int(since_ms)],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(TagDay {
            tag_id: r.get(0)?,
            day: r.get(1)?,
            uses: r.get(2)?,
            accounts: r.get(3)?,
        })
    })
    .collect()
}

/// A featured tag with the account's public and unlisted statuses using it.
fn featured_columns() -> String {
    let counted = format!(
        "FROM status_tags st JOIN statuses s ON s.id = st.status_id \
         WHERE st.tag_id = f.tag_id AND s.account_id = f.account_id \
           AND s.visibility IN ({}, {}) AND s.reblog_of_id IS NULL",
        sql::vis(Visibility::Public),
        sql::vis(Visibility::Unlisted)
    );
    format!("f.id, t.name, (SELECT COUNT(*) {counted}), (SELECT MAX(s.created_at) {counted})")
}

fn featured_row(r: &super::Row) -> StoreResult<FeaturedTagRow> {
    Ok(FeaturedTagRow {
        id: r.get(0)?,
        name: r.get(1)?,
        statuses_count: r.get(2)?,
        last_status_at_ms: r.get(3)?,
    })
}

/// Features a tag on `me`'s profile. Conflict if it is already featured,
/// Rejected past `max`.
pub async fn feature(
    c: &dyn Conn,
    me: Id,
    name_lower: &str,
    max: u32,
) -> StoreResult<FeaturedTagRow> {
    let tag = tag_id(c, name_lower).await?;
    let count: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM featured_tags WHERE account_id = ?1",
            &args![me],
        )
        .await?
        .get(0)?;
    let row = c
        .query_opt(
            "INSERT INTO featured_tags (id, account_id, tag_id) VALUES (holdfast_next_id(), ?1, ?2) \
             ON CONFLICT (account_id, tag_id) DO NOTHING RETURNING id",
            &args![me, tag],
        )
        .await?;
    let Some(row) = row else {
        return Err(StoreError::Conflict("Tag"));
    };
    if count >= i64::from(max) {
        return Err(StoreError::Rejected("you feature too many hashtags"));
    }
    let id: Id = row.get(0)?;
    let r = c
        .query_one(
            &format!(
                "SELECT {} FROM featured_tags f JOIN tags t ON t.id = f.tag_id WHERE f.id = ?1",
                featured_columns()
            ),
            &args![id],
        )
        .await?;
    featured_row(&r)
}

/// NotFound unless the featured tag is `me`'s.
pub async fn unfeature(c: &dyn Conn, me: Id, id: Id) -> StoreResult<()> {
    let removed = c
        .execute(
            "DELETE FROM featured_tags WHERE id = ?1 AND account_id = ?2",
            &args![id, me],
        )
        .await?;
    if removed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// An account's featured tags, in the order they were featured.
pub async fn featured(c: &dyn Conn, account: Id) -> StoreResult<Vec<FeaturedTagRow>> {
    c.query(
        &format!(
            "SELECT {} FROM featured_tags f JOIN tags t ON t.id = f.tag_id \
             WHERE f.account_id = ?1 ORDER BY f.id",
            featured_columns()
        ),
        &args![account],
    )
    .await?
    .iter()
    .map(featured_row)
    .collect()
}

/// The tags `me` used most in its newest `scan_max` statuses, not featured yet.
pub async fn suggestions(
    c: &dyn Conn,
    me: Id,
    scan_max: u32,
    limit: u32,
) -> StoreResult<Vec<TagRef>> {
    c.query(
        "SELECT t.id, t.name FROM status_tags st JOIN tags t ON t.id = st.tag_id \
         WHERE st.status_id IN (SELECT s.id FROM statuses s WHERE s.account_id = ?1 AND s.reblog_of_id IS NULL \
                                ORDER BY s.id DESC LIMIT ?2) \
           AND NOT EXISTS (SELECT 1 FROM featured_tags f WHERE f.account_id = ?1 AND f.tag_id = t.id) \
         GROUP BY t.id, t.name ORDER BY COUNT(*) DESC, t.id DESC LIMIT ?3",
        &args![me, scan_max, limit],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(TagRef {
            id: r.get(0)?,
            name: r.get(1)?,
        })
    })
    .collect()
}
