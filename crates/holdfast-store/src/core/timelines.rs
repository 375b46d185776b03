//! Timelines computed on read: public, tag, account, favourites, bookmarks,
//! and the home timeline's fan-out-on-read query (the viewer's and followed
//! accounts' statuses, found through the `(account_id, id)` index), which
//! builds the materialized feeds (`home_feed`) and answers when a feed cannot
//! be built, and the public posts of followed hashtags that both merge in. Every list applies the visibility rule and the viewer's blocks
//! and mutes.

use super::sql::{self, viewer_param, vis};
use super::{args, Arg, Conn, Row};
use crate::model::*;
use crate::StoreResult;

/// Two ways to find a home page, chosen by how many accounts the viewer
/// follows (kept in the account row). Following few: read each author's
/// newest statuses through the `(account_id, id)` index and sort them; this
/// costs the followees' whole history, 320 ms at 5,000 followees on a 10k
/// instance. Following many (`scan_from_followees` or more): walk all
/// statuses newest first and keep the followees' ones; a page is found after
/// a few dozen rows, but for an account following a handful of quiet
/// accounts that walk would cover the whole table (160 ms at 10 followees).
/// The unary `+` keeps the author term off the index, so the walk is by id.
pub async fn home(
    c: &dyn Conn,
    viewer: Id,
    page: Page,
    scan_from_followees: i64,
) -> StoreResult<Vec<Paged<Id>>> {
    let following: i64 = match c
        .query_opt(
            "SELECT following_count FROM accounts WHERE id = ?1",
            &args![viewer],
        )
        .await?
    {
        Some(r) => r.get(0)?,
        None => 0,
    };
    let author = home_author_term(following, scan_from_followees);
    let select = format!(
        "SELECT s.id, s.id FROM statuses s \
         WHERE {author} IN (SELECT target_id FROM follows WHERE account_id = ?1 UNION ALL SELECT CAST(?1 AS BIGINT)) \
           AND {}",
        home_rules("s")
    );
    let followed = sql::paged(c, &select, "s.id", &args![viewer], page).await?;
    match followed_tags_page(c, viewer, page).await? {
        Some(tagged) => Ok(super::home_feed::merge(
            followed.into_iter().chain(tagged).collect(),
            page,
        )),
        None => Ok(followed),
    }
}

/// The home timeline's third source, merged on read with the feed (and the
/// fan-out-on-read query): public originals (no reblogs) with a hashtag the
/// viewer follows, from anyone, as Mastodon's fan-out to tag followers sends
/// them, under the visibility, block and mute rules (not the reply rules:
/// Mastodon does not apply them to tags either). None, at the cost of one
/// indexed lookup, for a viewer who follows no tag.
pub async fn followed_tags_page(
    c: &dyn Conn,
    viewer: Id,
    page: Page,
) -> StoreResult<Option<Vec<Paged<Id>>>> {
    let follows_tags = c
        .query_opt(
            "SELECT 1 FROM tag_follows WHERE account_id = ?1 LIMIT 1",
            &args![viewer],
        )
        .await?
        .is_some();
    if !follows_tags {
        return Ok(None);
    }
    Ok(Some(followed_tags_of(c, viewer, page).await?))
}

/// [`followed_tags_page`] for a viewer known to follow a hashtag.
pub(crate) async fn followed_tags_of(
    c: &dyn Conn,
    viewer: Id,
    page: Page,
) -> StoreResult<Vec<Paged<Id>>> {
    // Driven from the followed tags' `(tag_id, status_id)` keys; DISTINCT:
    // a status with two followed tags is one row.
    let select = format!(
        "SELECT DISTINCT st.status_id, st.status_id FROM tag_follows tf \
         JOIN status_tags st ON st.tag_id = tf.tag_id JOIN statuses s ON s.id = st.status_id \
         WHERE tf.account_id = ?1 AND s.visibility = {} AND s.reblog_of_id IS NULL AND {} AND {}",
        vis(Visibility::Public),
        sql::visible("s"),
        sql::not_filtered("s")
    );
    sql::paged(c, &select, "st.status_id", &args![viewer], page).await
}

/// The author term of a query over the followees' statuses: the unary `+`
/// keeps it off the `(account_id, id)` index, so the plan is the walk by id
/// (see [`home`]).
pub fn home_author_term(following: i64, scan_from_followees: i64) -> &'static str {
    if following >= scan_from_followees {
        "+s.account_id"
    } else {
        "s.account_id"
    }
}

/// What a status `s` by the viewer (`?1`) or a followee must pass to be on
/// the viewer's home timeline: reblogs only from followees whose reblogs the
/// viewer wants, replies only to the viewer, the author or a followee, no
/// author of an exclusive list, visible, and not blocked or muted. Shared by
/// the fan-out-on-read query and the materialized feed (`home_feed`).
pub fn home_rules(s: &str) -> String {
    format!(
        "({s}.reblog_of_id IS NULL OR {s}.account_id = ?1 \
              OR EXISTS (SELECT 1 FROM follows hf WHERE hf.account_id = ?1 AND hf.target_id = {s}.account_id AND hf.reblogs)) \
           AND ({s}.in_reply_to_account_id IS NULL OR {s}.in_reply_to_account_id IN (CAST(?1 AS BIGINT), {s}.account_id) \
                OR EXISTS (SELECT 1 FROM follows hr WHERE hr.account_id = ?1 AND hr.target_id = {s}.in_reply_to_account_id)) \
           AND NOT EXISTS (SELECT 1 FROM list_accounts xm JOIN lists xl ON xl.id = xm.list_id \
                           WHERE xl.account_id = ?1 AND xl.exclusive AND xm.account_id = {s}.account_id) \
           AND {} AND {}",
        sql::visible_with_reblog(s),
        sql::not_filtered(s)
    )
}

/// Public statuses, no reblogs; with `only_media`, only those with attachments.
pub async fn public(
    c: &dyn Conn,
    viewer: Option<Id>,
    only_media: bool,
    page: Page,
) -> StoreResult<Vec<Paged<Id>>> {
    let mut select = format!(
        "SELECT s.id, s.id FROM statuses s WHERE s.visibility = {} AND s.reblog_of_id IS NULL AND {} AND {} AND {}",
        vis(Visibility::Public),
        sql::visible("s"),
        sql::not_filtered("s"),
        sql::not_silenced("s")
    );
    if only_media {
        select += &format!(" AND {}", sql::has_media("s"));
    }
    sql::paged(c, &select, "s.id", &args![viewer_param(viewer)], page).await
}

pub async fn tag(
    c: &dyn Conn,
    viewer: Option<Id>,
    tag: &str,
    page: Page,
) -> StoreResult<Vec<Paged<Id>>> {
    let select = format!(
        "SELECT s.id, s.id FROM statuses s \
         JOIN status_tags st ON st.status_id = s.id JOIN tags t ON t.id = st.tag_id AND t.name = ?2 \
         WHERE s.visibility = {} AND s.reblog_of_id IS NULL AND {} AND {} AND {}",
        vis(Visibility::Public),
        sql::visible("s"),
        sql::not_filtered("s"),
        sql::not_silenced("s")
    );
    sql::paged(c, &select, "s.id", &args![viewer_param(viewer), tag], page).await
}

pub async fn account(
    c: &dyn Conn,
    viewer: Option<Id>,
    account_id: Id,
    filter: AccountStatusesFilter,
    tagged: Option<&str>,
    page: Page,
) -> StoreResult<Vec<Paged<Id>>> {
    if filter.pinned {
        return super::edits::pinned(c, viewer, account_id, page).await;
    }
    let mut select = format!(
        "SELECT s.id, s.id FROM statuses s WHERE s.account_id = ?2 AND {}",
        sql::visible_with_reblog("s")
    );
    if filter.only_media {
        // A reblog carries no media of its own: Mastodon's only_media lists the author's own posts.
        select += &format!(" AND {}", sql::has_media("s"));
    }
    if filter.exclude_replies {
        select += " AND (s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id)";
    }
    if filter.exclude_reblogs {
        select += " AND s.reblog_of_id IS NULL";
    }
    let mut params = vec![Arg::Int(viewer_param(viewer)), Arg::Int(account_id)];
    if let Some(tagged) = tagged {
        select += " AND EXISTS (SELECT 1 FROM status_tags st JOIN tags t ON t.id = st.tag_id WHERE st.status_id = s.id AND t.name = ?3)";
        params.push(Arg::Text(tagged));
    }
    sql::paged(c, &select, "s.id", &params, page).await
}

pub async fn favourites(c: &dyn Conn, viewer: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
    let select = format!(
        "SELECT f.id, s.id FROM favourites f JOIN statuses s ON s.id = f.status_id WHERE f.account_id = ?1 AND {}",
        sql::visible("s")
    );
    sql::paged(c, &select, "f.id", &args![viewer], page).await
}

pub async fn bookmarks(c: &dyn Conn, viewer: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
    let select = format!(
        "SELECT b.id, s.id FROM bookmarks b JOIN statuses s ON s.id = b.status_id WHERE b.account_id = ?1 AND {}",
        sql::visible("s")
    );
    sql::paged(c, &select, "b.id", &args![viewer], page).await
}

/// Full-text search (each database's own engine, see `Dialect::text_match`),
/// newest first, only what the viewer may see.
pub async fn search(
    c: &dyn Conn,
    viewer: Option<Id>,
    query: &str,
    limit: u32,
    offset: u32,
) -> StoreResult<Vec<Id>> {
    let Some(m) = c.dialect().text_match(query) else {
        return Ok(Vec::new());
    };
    let mut params = vec![Arg::Int(viewer_param(viewer))];
    params.extend(m.args());
    let n = params.len();
    params.extend([Arg::from(limit), Arg::from(offset)]);
    let rows = c
        .query(
            &format!(
                "SELECT s.id FROM {} WHERE {} AND {} AND {} ORDER BY s.id DESC LIMIT ?{} OFFSET ?{}",
                m.from,
                m.condition,
                sql::visible("s"),
                sql::not_filtered("s"),
                n + 1,
                n + 2
            ),
            &params,
        )
        .await?;
    rows.iter().map(|r| r.get(0)).collect()
}

/// A tag's name, its use in the window starting at parameter `?{since}`, and its id.
fn tag_columns(since: usize) -> String {
    format!(
        "t.name, \
         (SELECT COUNT(*) FROM status_tags st JOIN statuses s ON s.id = st.status_id WHERE st.tag_id = t.id AND s.created_at > ?{since}), \
         (SELECT COUNT(DISTINCT s.account_id) FROM status_tags st JOIN statuses s ON s.id = st.status_id WHERE st.tag_id = t.id AND s.created_at > ?{since}), \
         t.id"
    )
}

fn tag_row(r: &Row) -> StoreResult<TagRow> {
    Ok(TagRow {
        name: r.get(0)?,
        uses_last_week: r.get(1)?,
        accounts_last_week: r.get(2)?,
        id: r.get(3)?,
    })
}

/// The start of the tag usage window (`tag_usage_window_s` ago), in ms.
fn window_start_ms(window_s: u64) -> i64 {
    crate::ids::now_ms() - (window_s as i64).saturating_mul(1000)
}

pub async fn search_tags(
    c: &dyn Conn,
    prefix_lower: &str,
    limit: u32,
    offset: u32,
    window_s: u64,
) -> StoreResult<Vec<TagRow>> {
    let pattern = sql::like_prefix(prefix_lower);
    let rows = c
        .query(
            &format!(
                "SELECT {} FROM tags t WHERE t.name LIKE ?1 ESCAPE '\\' \
                 ORDER BY (t.name = ?2) DESC, length(t.name), {} LIMIT ?3 OFFSET ?4",
                tag_columns(5),
                c.dialect().byte_order("t.name")
            ),
            &args![
                &pattern,
                prefix_lower,
                limit,
                offset,
                window_start_ms(window_s)
            ],
        )
        .await?;
    rows.iter().map(tag_row).collect()
}

pub async fn tag_row_by_name(c: &dyn Conn, name_lower: &str, window_s: u64) -> StoreResult<TagRow> {
    let found = c
        .query_opt(
            &format!("SELECT {} FROM tags t WHERE t.name = ?1", tag_columns(2)),
            &args![name_lower, window_start_ms(window_s)],
        )
        .await?;
    // A tag nobody used yet still exists as a name (Mastodon answers 200 for any valid tag).
    match found {
        Some(r) => tag_row(&r),
        None => Ok(TagRow {
            id: None,
            name: name_lower.to_owned(),
            uses_last_week: 0,
            accounts_last_week: 0,
        }),
    }
}

// ---- api: `timelines/direct` (issue 14) ----

/// The viewer's direct statuses: those it wrote and those that mention it,
/// newest first, under the visibility, block and mute rules (Mastodon's
/// direct timeline, removed in 3.0 for conversations). Found through the
/// `(account_id, id)` index and the mentions' `(account_id, status_id)` index.
pub async fn direct(c: &dyn Conn, viewer: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
    let select = format!(
        "SELECT s.id, s.id FROM statuses s WHERE s.visibility = {} AND s.reblog_of_id IS NULL \
           AND (s.account_id = ?1 OR s.id IN (SELECT dm.status_id FROM mentions dm WHERE dm.account_id = ?1)) \
           AND {} AND {}",
        vis(Visibility::Direct),
        sql::visible("s"),
        sql::not_filtered("s")
    );
    sql::paged(c, &select, "s.id", &args![viewer], page).await
}
