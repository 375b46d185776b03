//! Timelines are computed on read (fan-out on read): the home timeline is the
//! viewer's and followed accounts' statuses, found through the
//! `(account_id, id)` index. Every list applies the visibility rule and the
//! viewer's blocks and mutes.

use rusqlite::{params, Connection, OptionalExtension};

use super::sql::{self, viewer_param};
use crate::model::*;

pub fn home(c: &Connection, viewer: Id, page: Page) -> rusqlite::Result<Vec<Paged<Id>>> {
    let select = format!(
        "SELECT s.id, s.id FROM statuses s \
         WHERE s.account_id IN (SELECT target_id FROM follows WHERE account_id = ?1 UNION ALL SELECT ?1) \
           AND (s.reblog_of_id IS NULL OR s.account_id = ?1 \
                OR EXISTS (SELECT 1 FROM follows hf WHERE hf.account_id = ?1 AND hf.target_id = s.account_id AND hf.reblogs = 1)) \
           AND (s.in_reply_to_account_id IS NULL OR s.in_reply_to_account_id IN (?1, s.account_id) \
                OR s.in_reply_to_account_id IN (SELECT target_id FROM follows WHERE account_id = ?1)) \
           AND {} AND {}",
        sql::visible_with_reblog("s"),
        sql::not_filtered("s")
    );
    sql::paged(c, &select, "s.id", [viewer], page)
}

pub fn public(
    c: &Connection,
    viewer: Option<Id>,
    only_media: bool,
    page: Page,
) -> rusqlite::Result<Vec<Paged<Id>>> {
    let mut select = format!(
        "SELECT s.id, s.id FROM statuses s WHERE s.visibility = 0 AND s.reblog_of_id IS NULL AND {} AND {}",
        sql::visible("s"),
        sql::not_filtered("s")
    );
    if only_media {
        select += &format!(" AND {}", sql::has_media("s"));
    }
    sql::paged(c, &select, "s.id", [viewer_param(viewer)], page)
}

pub fn tag(
    c: &Connection,
    viewer: Option<Id>,
    tag: &str,
    page: Page,
) -> rusqlite::Result<Vec<Paged<Id>>> {
    let select = format!(
        "SELECT s.id, s.id FROM statuses s \
         JOIN status_tags st ON st.status_id = s.id JOIN tags t ON t.id = st.tag_id AND t.name = ?2 \
         WHERE s.visibility = 0 AND s.reblog_of_id IS NULL AND {} AND {}",
        sql::visible("s"),
        sql::not_filtered("s")
    );
    sql::paged(c, &select, "s.id", params![viewer_param(viewer), tag], page)
}

pub fn account(
    c: &Connection,
    viewer: Option<Id>,
    account_id: Id,
    filter: AccountStatusesFilter,
    tagged: Option<&str>,
    page: Page,
) -> rusqlite::Result<Vec<Paged<Id>>> {
    // Nothing is pinned yet, so that filter selects nothing.
    if filter.pinned {
        return Ok(Vec::new());
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
    if tagged.is_some() {
        select += " AND EXISTS (SELECT 1 FROM status_tags st JOIN tags t ON t.id = st.tag_id WHERE st.status_id = s.id AND t.name = ?3)";
    } else {
        select += " AND ?3 IS NULL";
    }
    sql::paged(
        c,
        &select,
        "s.id",
        params![viewer_param(viewer), account_id, tagged],
        page,
    )
}

pub fn favourites(c: &Connection, viewer: Id, page: Page) -> rusqlite::Result<Vec<Paged<Id>>> {
    let select = format!(
        "SELECT f.id, s.id FROM favourites f JOIN statuses s ON s.id = f.status_id WHERE f.account_id = ?1 AND {}",
        sql::visible("s")
    );
    sql::paged(c, &select, "f.id", [viewer], page)
}

pub fn bookmarks(c: &Connection, viewer: Id, page: Page) -> rusqlite::Result<Vec<Paged<Id>>> {
    let select = format!(
        "SELECT b.id, s.id FROM bookmarks b JOIN statuses s ON s.id = b.status_id WHERE b.account_id = ?1 AND {}",
        sql::visible("s")
    );
    sql::paged(c, &select, "b.id", [viewer], page)
}

/// Full-text search (FTS5), newest first, only what the viewer may see.
/// The query is passed as a quoted phrase per word, so FTS5 syntax in user
/// input (`NEAR`, `*`, `:`) is matched literally instead of being interpreted.
pub fn search(
    c: &Connection,
    viewer: Option<Id>,
    query: &str,
    limit: u32,
    offset: u32,
) -> rusqlite::Result<Vec<Id>> {
    let fts_query = query
        .split_whitespace()
        .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ");
    if fts_query.is_empty() {
        return Ok(Vec::new());
    }
    let mut stmt = c.prepare_cached(&format!(
        "SELECT s.id FROM status_search f JOIN statuses s ON s.id = f.rowid \
         WHERE status_search MATCH ?2 AND {} AND {} ORDER BY s.id DESC LIMIT ?3 OFFSET ?4",
        sql::visible("s"),
        sql::not_filtered("s")
    ))?;
    let rows = stmt.query_map(
        params![viewer_param(viewer), fts_query, limit, offset],
        |r| r.get(0),
    )?;
    rows.collect()
}

const TAG_COLUMNS: &str = "t.name, \
    (SELECT COUNT(*) FROM status_tags st JOIN statuses s ON s.id = st.status_id WHERE st.tag_id = t.id AND s.created_at > ?9), \
    (SELECT COUNT(DISTINCT s.account_id) FROM status_tags st JOIN statuses s ON s.id = st.status_id WHERE st.tag_id = t.id AND s.created_at > ?9), t.id";

fn week_ago_ms() -> i64 {
    crate::ids::now_ms() - 7 * 24 * 3600 * 1000
}

pub fn search_tags(
    c: &Connection,
    prefix_lower: &str,
    limit: u32,
    offset: u32,
) -> rusqlite::Result<Vec<TagRow>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {TAG_COLUMNS} FROM tags t WHERE t.name LIKE ?1 ESCAPE '\\' ORDER BY (t.name = ?2) DESC, length(t.name), t.name LIMIT ?3 OFFSET ?4"
    ))?;
    let rows = stmt.query_map(
        rusqlite::named_params! {"?1": sql::like_prefix(prefix_lower), "?2": prefix_lower, "?3": limit, "?4": offset, "?9": week_ago_ms()},
        |r| Ok(TagRow { name: r.get(0)?, uses_last_week: r.get(1)?, accounts_last_week: r.get(2)?, id: r.get(3)? }),
    )?;
    rows.collect()
}

pub fn tag_row(c: &Connection, name_lower: &str) -> rusqlite::Result<TagRow> {
    let found = c
        .prepare_cached(&format!(
            "SELECT {TAG_COLUMNS} FROM tags t WHERE t.name = ?1"
        ))?
        .query_row(
            rusqlite::named_params! {"?1": name_lower, "?9": week_ago_ms()},
            |r| {
                Ok(TagRow {
                    name: r.get(0)?,
                    uses_last_week: r.get(1)?,
                    accounts_last_week: r.get(2)?,
                    id: r.get(3)?,
                })
            },
        )
        .optional()?;
    // A tag nobody used yet still exists as a name (Mastodon answers 200 for any valid tag).
    Ok(found.unwrap_or(TagRow {
        id: None,
        name: name_lower.to_owned(),
        uses_last_week: 0,
        accounts_last_week: 0,
    }))
}
