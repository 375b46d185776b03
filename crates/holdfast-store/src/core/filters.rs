//! Filters: an account's named sets of keywords and statuses that warn about,
//! blur or hide matching statuses in the contexts it names. Only the owner
//! ever sees a filter, so every query is keyed by the owner and someone
//! else's filter (or keyword, or filtered status) is NotFound.
//!
//! Matching happens in the service, over the page the store fetched; here
//! are only the rows.

use super::bounded::{self, Children};
use super::{args, Arg, Conn, Row};
use crate::model::*;
use crate::{StoreError, StoreResult};

/// Contexts are kept as one comma-separated column: a filter names a few of
/// five fixed words, and it is read whole.
fn contexts_text(contexts: &[FilterContext]) -> String {
    contexts
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_contexts(text: &str) -> Vec<FilterContext> {
    text.split(',').filter_map(FilterContext::parse).collect()
}

fn filter_row(r: &Row) -> StoreResult<FilterRow> {
    let contexts: String = r.get(2)?;
    let action: String = r.get(3)?;
    Ok(FilterRow {
        id: r.get(0)?,
        title: r.get(1)?,
        contexts: parse_contexts(&contexts),
        action: FilterAction::parse(&action).unwrap_or(FilterAction::Warn),
        expires_at_ms: r.get(4)?,
        keywords: Vec::new(),
        statuses: Vec::new(),
    })
}

fn keyword_row(r: &Row) -> StoreResult<FilterKeywordRow> {
    Ok(FilterKeywordRow {
        id: r.get(0)?,
        filter_id: r.get(1)?,
        keyword: r.get(2)?,
        whole_word: r.get(3)?,
    })
}

fn status_row(r: &Row) -> StoreResult<FilterStatusRow> {
    Ok(FilterStatusRow {
        id: r.get(0)?,
        filter_id: r.get(1)?,
        status_id: r.get(2)?,
    })
}

const FILTER_COLUMNS: &str = "f.id, f.title, f.context, f.action, f.expires_at";
const KEYWORD_COLUMNS: &str = "k.id, k.filter_id, k.keyword, k.whole_word";
const STATUS_COLUMNS: &str = "fs.id, fs.filter_id, fs.status_id";

/// The owner's filters (all of them, or the one `only`), oldest first, each
/// with its keywords and statuses: three queries however many filters.
async fn load(c: &dyn Conn, owner: Id, only: Option<Id>) -> StoreResult<Vec<FilterRow>> {
    let which = "f.account_id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR f.id = ?2)";
    let mut filters: Vec<FilterRow> = c
        .query(
            &format!("SELECT {FILTER_COLUMNS} FROM filters f WHERE {which} ORDER BY f.id"),
            &args![owner, only],
        )
        .await?
        .iter()
        .map(filter_row)
        .collect::<StoreResult<_>>()?;
    if filters.is_empty() {
        return Ok(filters);
    }
    let keywords = c
        .query(
            &format!(
                "SELECT {KEYWORD_COLUMNS} FROM filter_keywords k JOIN filters f ON f.id = k.filter_id \
                 WHERE {which} ORDER BY k.id"
            ),
            &args![owner, only],
        )
        .await?;
    for r in &keywords {
        let k = keyword_row(r)?;
        if let Some(f) = filters.iter_mut().find(|f| f.id == k.filter_id) {
            f.keywords.push(k);
        }
    }
    let statuses = c
        .query(
            &format!(
                "SELECT {STATUS_COLUMNS} FROM filter_statuses fs JOIN filters f ON f.id = fs.filter_id \
                 WHERE {which} ORDER BY fs.id"
            ),
            &args![owner, only],
        )
        .await?;
    for r in &statuses {
        let s = status_row(r)?;
        if let Some(f) = filters.iter_mut().find(|f| f.id == s.filter_id) {
            f.statuses.push(s);
        }
    }
    Ok(filters)
}

pub async fn all(c: &dyn Conn, owner: Id) -> StoreResult<Vec<FilterRow>> {
    load(c, owner, None).await
}

pub async fn get(c: &dyn Conn, owner: Id, id: Id) -> StoreResult<FilterRow> {
    load(c, owner, Some(id))
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// Locks the owner's filter (PostgreSQL), so two nodes changing its
/// keywords count in turn; NotFound when it is not the owner's.
async fn lock_filter(c: &dyn Conn, owner: Id, id: Id) -> StoreResult<()> {
    bounded::lock_owned(c, "filters", owner, id).await
}

/// An account's filters, and a filter's keywords and statuses (all bounded).
const FILTERS: Children = Children {
    table: "filters",
    parent_column: "account_id",
};
const KEYWORDS: Children = Children {
    table: "filter_keywords",
    parent_column: "filter_id",
};
const STATUSES: Children = Children {
    table: "filter_statuses",
    parent_column: "filter_id",
};

async fn insert_keyword(c: &dyn Conn, filter: Id, k: &NewKeyword) -> StoreResult<Id> {
    c.query_one(
        "INSERT INTO filter_keywords (id, filter_id, keyword, whole_word) \
         VALUES (holdfast_next_id(), ?1, ?2, ?3) RETURNING id",
        &args![filter, &k.keyword, k.whole_word],
    )
    .await?
    .get(0)
}

/// Rejected (rolling back the whole write) when the filter now has more
/// keywords than `max`.
async fn keywords_within(c: &dyn Conn, filter: Id, max: u32) -> StoreResult<()> {
    bounded::within(
        c,
        KEYWORDS,
        filter,
        0,
        max,
        "a filter cannot have that many keywords",
    )
    .await
}

/// Creates a filter with its keywords; Rejected when the owner has
/// `filters_max` already or the keywords pass `keywords_max`. The owner's
/// row is locked first, so two nodes creating at once count in turn.
pub async fn create(
    c: &dyn Conn,
    owner: Id,
    new: &NewFilter,
    bounds: FilterBounds,
) -> StoreResult<FilterRow> {
    bounded::lock_account(c, owner).await?;
    bounded::within(
        c,
        FILTERS,
        owner,
        1,
        bounds.filters_max,
        "You have reached the maximum number of filters",
    )
    .await?;
    let id: Id = c
        .query_one(
            "INSERT INTO filters (id, account_id, title, context, action, expires_at) \
             VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5) RETURNING id",
            &args![
                owner,
                &new.title,
                contexts_text(&new.contexts).as_str(),
                new.action.as_str(),
                new.expires_at_ms
            ],
        )
        .await?
        .get(0)?;
    for k in &new.keywords {
        insert_keyword(c, id, k).await?;
    }
    keywords_within(c, id, bounds.keywords_max).await?;
    get(c, owner, id).await
}

/// Changes the given fields and keywords, all or nothing. A keyword id that
/// is not one of this filter's is NotFound, as Mastodon has it.
pub async fn update(
    c: &dyn Conn,
    owner: Id,
    id: Id,
    u: &FilterUpdate,
    bounds: FilterBounds,
) -> StoreResult<FilterRow> {
    lock_filter(c, owner, id).await?;
    let contexts = u.contexts.as_deref().map(contexts_text);
    c.execute(
        "UPDATE filters SET title = COALESCE(?2, title), context = COALESCE(?3, context), \
         action = COALESCE(?4, action), \
         expires_at = CASE WHEN ?5 THEN ?6 ELSE expires_at END WHERE id = ?1",
        &args![
            id,
            u.title.as_ref(),
            contexts.as_ref(),
            u.action.map(|a| a.as_str()),
            u.expires_at_ms.is_some(),
            u.expires_at_ms.flatten()
        ],
    )
    .await?;
    for change in &u.keywords {
        match change {
            KeywordChange::Add(k) => {
                insert_keyword(c, id, k).await?;
            }
            KeywordChange::Edit {
                id: kid,
                keyword,
                whole_word,
            } => {
                let changed = c
                    .execute(
                        "UPDATE filter_keywords SET keyword = COALESCE(?3, keyword), \
                         whole_word = COALESCE(?4, whole_word) WHERE id = ?1 AND filter_id = ?2",
                        &args![*kid, id, keyword.as_ref(), *whole_word],
                    )
                    .await?;
                if changed == 0 {
                    return Err(StoreError::NotFound);
                }
            }
            KeywordChange::Remove(kid) => {
                let removed = c
                    .execute(
                        "DELETE FROM filter_keywords WHERE id = ?1 AND filter_id = ?2",
                        &args![*kid, id],
                    )
                    .await?;
                if removed == 0 {
                    return Err(StoreError::NotFound);
                }
            }
        }
    }
    keywords_within(c, id, bounds.keywords_max).await?;
    get(c, owner, id).await
}

/// Deletes a filter with its keywords and statuses (by cascade).
pub async fn delete(c: &dyn Conn, owner: Id, id: Id) -> StoreResult<()> {
    let removed = c
        .execute(
            "DELETE FROM filters WHERE id = ?1 AND account_id = ?2",
            &args![id, owner],
        )
        .await?;
    if removed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn keyword(c: &dyn Conn, owner: Id, id: Id) -> StoreResult<FilterKeywordRow> {
    let row = c
        .query_one(
            &format!(
                "SELECT {KEYWORD_COLUMNS} FROM filter_keywords k JOIN filters f ON f.id = k.filter_id \
                 WHERE k.id = ?1 AND f.account_id = ?2"
            ),
            &args![id, owner],
        )
        .await?;
    keyword_row(&row)
}

/// Adds a keyword to the owner's filter; Rejected past `max` keywords.
pub async fn add_keyword(
    c: &dyn Conn,
    owner: Id,
    filter: Id,
    k: &NewKeyword,
    max: u32,
) -> StoreResult<FilterKeywordRow> {
    lock_filter(c, owner, filter).await?;
    let id = insert_keyword(c, filter, k).await?;
    keywords_within(c, filter, max).await?;
    keyword(c, owner, id).await
}

pub async fn update_keyword(
    c: &dyn Conn,
    owner: Id,
    id: Id,
    keyword_text: Option<&str>,
    whole_word: Option<bool>,
) -> StoreResult<FilterKeywordRow> {
    let changed = c
        .execute(
            "UPDATE filter_keywords SET keyword = COALESCE(?3, keyword), whole_word = COALESCE(?4, whole_word) \
             WHERE id = ?1 AND filter_id IN (SELECT f.id FROM filters f WHERE f.account_id = ?2)",
            &args![id, owner, keyword_text, whole_word],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    keyword(c, owner, id).await
}

/// Removes one keyword; returns it as it was.
pub async fn delete_keyword(c: &dyn Conn, owner: Id, id: Id) -> StoreResult<FilterKeywordRow> {
    let before = keyword(c, owner, id).await?;
    c.execute("DELETE FROM filter_keywords WHERE id = ?1", &args![id])
        .await?;
    Ok(before)
}

pub async fn filter_status(c: &dyn Conn, owner: Id, id: Id) -> StoreResult<FilterStatusRow> {
    let row = c
        .query_one(
            &format!(
                "SELECT {STATUS_COLUMNS} FROM filter_statuses fs JOIN filters f ON f.id = fs.filter_id \
                 WHERE fs.id = ?1 AND f.account_id = ?2"
            ),
            &args![id, owner],
        )
        .await?;
    status_row(&row)
}

/// Adds a status to the owner's filter; adding it again returns the row
/// made the first time (a retried add is harmless). Rejected past `max`.
pub async fn add_status(
    c: &dyn Conn,
    owner: Id,
    filter: Id,
    status: Id,
    max: u32,
) -> StoreResult<FilterStatusRow> {
    lock_filter(c, owner, filter).await?;
    c.execute(
        "INSERT INTO filter_statuses (id, filter_id, status_id) VALUES (holdfast_next_id(), ?1, ?2) \
         ON CONFLICT (filter_id, status_id) DO NOTHING",
        &args![filter, status],
    )
    .await?;
    bounded::within(
        c,
        STATUSES,
        filter,
        0,
        max,
        "a filter cannot have that many statuses",
    )
    .await?;
    let row = c
        .query_one(
            &format!(
                "SELECT {STATUS_COLUMNS} FROM filter_statuses fs WHERE fs.filter_id = ?1 AND fs.status_id = ?2"
            ),
            &[Arg::Int(filter), Arg::Int(status)],
        )
        .await?;
    status_row(&row)
}

pub async fn delete_status(c: &dyn Conn, owner: Id, id: Id) -> StoreResult<()> {
    filter_status(c, owner, id).await?;
    c.execute("DELETE FROM filter_statuses WHERE id = ?1", &args![id])
        .await?;
    Ok(())
}
