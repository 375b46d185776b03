//! Timelines, computed on read as in the SQLite backend (fan-out on read over
//! the `(account_id, id)` index), with the same visibility and filter rules.

use super::pool::Db;
use super::sql::{self, clean, viewer_param};
use crate::model::*;
use crate::StoreResult;

pub async fn home(db: Db<'_>, viewer: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
    let select = format!(
        "SELECT s.id, s.id FROM statuses s \
         WHERE s.account_id IN (SELECT target_id FROM follows WHERE account_id = $1::BIGINT UNION ALL SELECT $1::BIGINT) \
           AND (s.reblog_of_id IS NULL OR s.account_id = $1::BIGINT \
                OR EXISTS (SELECT 1 FROM follows hf WHERE hf.account_id = $1::BIGINT AND hf.target_id = s.account_id AND hf.reblogs)) \
           AND (s.in_reply_to_account_id IS NULL OR s.in_reply_to_account_id IN ($1::BIGINT, s.account_id) \
                OR s.in_reply_to_account_id IN (SELECT target_id FROM follows WHERE account_id = $1::BIGINT)) \
           AND {} AND {}",
        sql::visible_with_reblog("s"),
        sql::not_filtered("s")
    );
    sql::paged(db, &select, "s.id", &[&viewer], page).await
}

pub async fn public(
    db: Db<'_>,
    viewer: Option<Id>,
    only_media: bool,
    page: Page,
) -> StoreResult<Vec<Paged<Id>>> {
    let mut select = format!(
        "SELECT s.id, s.id FROM statuses s WHERE s.visibility = 0 AND s.reblog_of_id IS NULL AND {} AND {}",
        sql::visible("s"),
        sql::not_filtered("s")
    );
    if only_media {
        select += &format!(" AND {}", sql::has_media("s"));
    }
    sql::paged(db, &select, "s.id", &[&viewer_param(viewer)], page).await
}

pub async fn tag(
    db: Db<'_>,
    viewer: Option<Id>,
    tag: &str,
    page: Page,
) -> StoreResult<Vec<Paged<Id>>> {
    let select = format!(
        "SELECT s.id, s.id FROM statuses s \
         JOIN status_tags st ON st.status_id = s.id JOIN tags t ON t.id = st.tag_id AND t.name = $2 \
         WHERE s.visibility = 0 AND s.reblog_of_id IS NULL AND {} AND {}",
        sql::visible("s"),
        sql::not_filtered("s")
    );
    sql::paged(
        db,
        &select,
        "s.id",
        &[&viewer_param(viewer), &clean(tag)],
        page,
    )
    .await
}

pub async fn account(
    db: Db<'_>,
    viewer: Option<Id>,
    account_id: Id,
    filter: AccountStatusesFilter,
    tagged: Option<&str>,
    page: Page,
) -> StoreResult<Vec<Paged<Id>>> {
    // Nothing is pinned yet, so that filter selects nothing.
    if filter.pinned {
        return Ok(Vec::new());
    }
    let mut select = format!(
        "SELECT s.id, s.id FROM statuses s WHERE s.account_id = $2 AND {}",
        sql::visible_with_reblog("s")
    );
    if filter.only_media {
        select += &format!(" AND {}", sql::has_media("s"));
    }
    if filter.exclude_replies {
        select += " AND (s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id)";
    }
    if filter.exclude_reblogs {
        select += " AND s.reblog_of_id IS NULL";
    }
    let v = viewer_param(viewer);
    match tagged {
        Some(t) => {
            select += " AND EXISTS (SELECT 1 FROM status_tags st JOIN tags t ON t.id = st.tag_id WHERE st.status_id = s.id AND t.name = $3)";
            sql::paged(db, &select, "s.id", &[&v, &account_id, &clean(t)], page).await
        }
        None => sql::paged(db, &select, "s.id", &[&v, &account_id], page).await,
    }
}

pub async fn favourites(db: Db<'_>, viewer: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
    let select = format!(
        "SELECT f.id, s.id FROM favourites f JOIN statuses s ON s.id = f.status_id WHERE f.account_id = $1 AND {}",
        sql::visible("s")
    );
    sql::paged(db, &select, "f.id", &[&viewer], page).await
}

pub async fn bookmarks(db: Db<'_>, viewer: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
    let select = format!(
        "SELECT b.id, s.id FROM bookmarks b JOIN statuses s ON s.id = b.status_id WHERE b.account_id = $1 AND {}",
        sql::visible("s")
    );
    sql::paged(db, &select, "b.id", &[&viewer], page).await
}

/// Full-text search with PostgreSQL's text search, same semantics as the
/// SQLite backend: every word of the query must occur, a word that splits
/// into several tokens (`state-of-the-art`) as a phrase, and a word with no
/// token at all (`&`) is ignored. User input only reaches `plainto_tsquery`
/// and `phraseto_tsquery`, which take plain text, so tsquery syntax in a
/// query is never interpreted. The `plainto_tsquery` prefilter (all tokens
/// present) is what the GIN index answers; the per-word phrase check then
/// runs on those candidates only.
pub async fn search(
    db: Db<'_>,
    viewer: Option<Id>,
    query: &str,
    limit: u32,
    offset: u32,
) -> StoreResult<Vec<Id>> {
    let words: Vec<String> = clean(query)
        .split_whitespace()
        .map(split_like_index)
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let all = words.join(" ");
    let rows = db
        .query(
            &format!(
                "SELECT s.id FROM statuses s \
                 WHERE s.search @@ plainto_tsquery('simple', $2) \
                   AND NOT EXISTS (SELECT 1 FROM unnest($3::TEXT[]) w \
                                   WHERE NOT s.search @@ phraseto_tsquery('simple', w)) \
                   AND {} AND {} ORDER BY s.id DESC LIMIT $4 OFFSET $5",
                sql::visible("s"),
                sql::not_filtered("s")
            ),
            &[
                &viewer_param(viewer),
                &all,
                &words,
                &(limit as i64),
                &(offset as i64),
            ],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The query side of the `search` column's rule: ASCII punctuation is a separator.
fn split_like_index(word: &str) -> String {
    word.split(|c: char| c.is_ascii_punctuation())
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_words_split_on_ascii_punctuation() {
        assert_eq!(super::split_like_index("of-the"), "of the");
        assert_eq!(super::split_like_index("&"), "");
        assert_eq!(super::split_like_index("!fox:*"), "fox");
        assert_eq!(super::split_like_index("café"), "café");
    }
}

const TAG_COLUMNS: &str = "t.name, \
    (SELECT COUNT(*) FROM status_tags st JOIN statuses s ON s.id = st.status_id WHERE st.tag_id = t.id AND s.created_at > $9), \
    (SELECT COUNT(DISTINCT s.account_id) FROM status_tags st JOIN statuses s ON s.id = st.status_id WHERE st.tag_id = t.id AND s.created_at > $9), t.id";

fn week_ago_ms() -> i64 {
    crate::ids::now_ms() - 7 * 24 * 3600 * 1000
}

fn tag_row(r: &tokio_postgres::Row) -> TagRow {
    TagRow {
        name: r.get(0),
        uses_last_week: r.get(1),
        accounts_last_week: r.get(2),
        id: r.get(3),
    }
}

/// `$9` in TAG_COLUMNS is the week bound, renumbered to follow each query's own parameters.
pub async fn search_tags(
    db: Db<'_>,
    prefix_lower: &str,
    limit: u32,
    offset: u32,
) -> StoreResult<Vec<TagRow>> {
    let prefix_lower = clean(prefix_lower);
    let columns = TAG_COLUMNS.replace("$9", "$5");
    let rows = db
        .query(
            &format!(
                "SELECT {columns} FROM tags t WHERE t.name LIKE $1 ESCAPE '\\' \
                 ORDER BY (t.name = $2) DESC, length(t.name), t.name COLLATE \"C\" LIMIT $3 OFFSET $4"
            ),
            &[&sql::like_prefix(&prefix_lower), &prefix_lower, &(limit as i64), &(offset as i64), &week_ago_ms()],
        )
        .await?;
    Ok(rows.iter().map(tag_row).collect())
}

pub async fn tag_row_by_name(db: Db<'_>, name_lower: &str) -> StoreResult<TagRow> {
    let name_lower = clean(name_lower);
    let columns = TAG_COLUMNS.replace("$9", "$2");
    let found = db
        .query_opt(
            &format!("SELECT {columns} FROM tags t WHERE t.name = $1"),
            &[&name_lower, &week_ago_ms()],
        )
        .await?;
    // A tag nobody used yet still exists as a name (Mastodon answers 200 for any valid tag).
    Ok(found.map(|r| tag_row(&r)).unwrap_or(TagRow {
        id: None,
        name: name_lower,
        uses_last_week: 0,
        accounts_last_week: 0,
    }))
}
