//! SQL building blocks every topic shares: the visibility rule, the
//! block/mute filter, paging, and the column lists with their row mappers.
//!
//! Convention: in every query that uses the viewer fragments, `?1` is the
//! viewer's account id, or 0 when anonymous (no account has id 0).

use super::{Arg, Conn, Row};
use crate::model::*;
use crate::StoreResult;

pub fn viewer_param(viewer: Option<Id>) -> Id {
    viewer.unwrap_or(0)
}

/// A visibility as it is stored (its enum value), for SQL text.
pub fn vis(v: Visibility) -> i64 {
    v as i64
}

/// The visibility rule, for a status aliased `s`: its author is not
/// suspended (and was approved) and does not block the viewer, and it is
/// public or unlisted, or the viewer wrote it, or it is private and the
/// viewer follows the author, or it mentions the viewer.
pub fn visible(s: &str) -> String {
    format!(
        "(NOT EXISTS (SELECT 1 FROM accounts va WHERE va.id = {s}.account_id AND (va.suspended OR NOT va.approved)) \
          AND NOT EXISTS (SELECT 1 FROM blocks vb WHERE vb.account_id = {s}.account_id AND vb.target_id = ?1) \
          AND ({s}.visibility IN ({public}, {unlisted}) OR {s}.account_id = ?1 \
               OR ({s}.visibility = {private} AND EXISTS (SELECT 1 FROM follows vf WHERE vf.account_id = ?1 AND vf.target_id = {s}.account_id)) \
               OR EXISTS (SELECT 1 FROM mentions vm WHERE vm.status_id = {s}.id AND vm.account_id = ?1)))",
        public = vis(Visibility::Public),
        unlisted = vis(Visibility::Unlisted),
        private = vis(Visibility::Private),
    )
}

/// Visible, and for a reblog the reblogged status is visible too.
pub fn visible_with_reblog(s: &str) -> String {
    format!(
        "({} AND ({s}.reblog_of_id IS NULL OR EXISTS (SELECT 1 FROM statuses vo WHERE vo.id = {s}.reblog_of_id AND {})))",
        visible(s),
        visible("vo")
    )
}

/// What the viewer chose not to see in lists: authors (and reblogged
/// authors) the viewer blocks or mutes. Direct fetches are not filtered.
pub fn not_filtered(s: &str) -> String {
    let one = |a: &str| {
        format!(
            "(NOT EXISTS (SELECT 1 FROM blocks fb WHERE fb.account_id = ?1 AND fb.target_id = {a}) \
              AND NOT EXISTS (SELECT 1 FROM mutes fm WHERE fm.account_id = ?1 AND fm.target_id = {a} AND {}))",
            mute_in_force("fm")
        )
    };
    format!(
        "({} AND ({s}.reblog_of_id IS NULL OR {}))",
        one(&format!("{s}.account_id")),
        one(&format!(
            "(SELECT fo.account_id FROM statuses fo WHERE fo.id = {s}.reblog_of_id)"
        ))
    )
}

/// A mute aliased `m` has not ended (`duration`): the rule every reader of
/// `mutes` applies, so an ended mute stops hiding at once, without a sweeper.
pub fn mute_in_force(m: &str) -> String {
    format!("({m}.expires_at IS NULL OR {m}.expires_at > holdfast_now_ms())")
}

/// For a status aliased `s` in a public timeline: its author is not
/// silenced, unless the viewer (`?1`) is the author or follows them.
pub fn not_silenced(s: &str) -> String {
    format!(
        "(NOT EXISTS (SELECT 1 FROM accounts sa WHERE sa.id = {s}.account_id AND sa.silenced) \
          OR {s}.account_id = ?1 \
          OR EXISTS (SELECT 1 FROM follows sf WHERE sf.account_id = ?1 AND sf.target_id = {s}.account_id))"
    )
}

/// For a status aliased `s`: it has at least one attachment (`only_media`).
pub fn has_media(s: &str) -> String {
    format!("EXISTS (SELECT 1 FROM media_attachments om WHERE om.status_id = {s}.id)")
}

/// The bounds of a page as parameters (so the SQL text is one of a few
/// fixed shapes, each prepared once per connection).
pub struct PageBounds {
    pub sql: String,
    pub values: Vec<i64>,
    pub ascending: bool,
}

/// `AND … ORDER BY … LIMIT …` for a page; its parameters are numbered from `first`.
pub fn page_clause(cursor_col: &str, page: Page, first: usize) -> PageBounds {
    let mut sql = String::new();
    let mut values = Vec::with_capacity(3);
    let mut bound = |sql: &mut String, op: &str, v: i64| {
        values.push(v);
        *sql += &format!(" AND {cursor_col} {op} ?{}", first + values.len() - 1);
    };
    if let Some(max) = page.max_id {
        bound(&mut sql, "<", max);
    }
    let ascending = match (page.min_id, page.since_id) {
        (Some(min), _) => {
            bound(&mut sql, ">", min);
            true
        }
        (None, Some(since)) => {
            bound(&mut sql, ">", since);
            false
        }
        (None, None) => false,
    };
    values.push(page.limit as i64);
    let order = if ascending { "ASC" } else { "DESC" };
    sql += &format!(
        " ORDER BY {cursor_col} {order} LIMIT ?{}",
        first + values.len() - 1
    );
    PageBounds {
        sql,
        values,
        ascending,
    }
}

/// Runs `select` (which yields `cursor, item`) as one page: newest first,
/// or with `min_id` the page just above it, still returned newest first.
pub async fn paged(
    c: &dyn Conn,
    select: &str,
    cursor_col: &str,
    args: &[Arg<'_>],
    page: Page,
) -> StoreResult<Vec<Paged<Id>>> {
    paged_rows(c, select, cursor_col, args, page, |r| r.get(1)).await
}

/// `paged`, for a `select` whose first column is the cursor and whose
/// whole row `item` reads.
pub async fn paged_rows<T>(
    c: &dyn Conn,
    select: &str,
    cursor_col: &str,
    args: &[Arg<'_>],
    page: Page,
    item: impl Fn(&Row) -> StoreResult<T>,
) -> StoreResult<Vec<Paged<T>>> {
    let bounds = page_clause(cursor_col, page, args.len() + 1);
    let mut all = args.to_vec();
    all.extend(bounds.values.iter().map(|v| Arg::Int(*v)));
    let rows = c.query(&format!("{select}{}", bounds.sql), &all).await?;
    let mut out = rows
        .iter()
        .map(|r| {
            Ok(Paged {
                cursor: r.get(0)?,
                item: item(r)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    if bounds.ascending {
        out.reverse();
    }
    Ok(out)
}

/// The accounts named by rows of `table` whose `matching` column is `id`
/// (followers, followed, who favourited or reblogged), paged by the row's
/// id and leaving out suspended accounts. Table and column names are the
/// caller's constants, never input.
pub async fn accounts_of(
    c: &dyn Conn,
    table: &str,
    matching: &str,
    account: &str,
    id: Id,
    page: Page,
) -> StoreResult<Vec<Paged<Id>>> {
    let select = format!(
        "SELECT x.id, x.{account} FROM {table} x JOIN accounts a ON a.id = x.{account} \
         WHERE x.{matching} = ?1 AND NOT a.suspended"
    );
    paged(c, &select, "x.id", &[Arg::Int(id)], page).await
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` prefix match.
pub fn like_prefix(prefix: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + 1);
    for ch in prefix.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(ch);
    }
    s.push('%');
    s
}

/// The counts are kept in the row by triggers (migration 0012), not counted here.
pub fn account_columns() -> String {
    "a.id, a.username, a.display_name, a.note, a.locked, a.bot, a.discoverable, a.created_at, \
     a.suspended, a.approved, a.followers_count, a.following_count, a.statuses_count, a.last_status_at, \
     a.default_visibility, a.default_sensitive, a.default_language, a.avatar_key, a.header_key, a.role, a.version"
        .to_owned()
}

/// How many columns [`account_columns`] selects: a query's own columns come after them.
// fact: the length of the column list above, not a tunable.
pub const ACCOUNT_COLUMNS_N: usize = 21;

pub fn account_row(r: &Row) -> StoreResult<AccountRow> {
    Ok(AccountRow {
        id: r.get(0)?,
        username: r.get(1)?,
        display_name: r.get(2)?,
        note: r.get(3)?,
        locked: r.get(4)?,
        bot: r.get(5)?,
        discoverable: r.get(6)?,
        created_at_ms: r.get(7)?,
        suspended: r.get(8)?,
        approved: r.get(9)?,
        followers_count: r.get(10)?,
        following_count: r.get(11)?,
        statuses_count: r.get(12)?,
        last_status_at_ms: r.get(13)?,
        default_visibility: Visibility::from_i64(r.get(14)?),
        default_sensitive: r.get(15)?,
        default_language: r.get(16)?,
        avatar_key: r.get(17)?,
        header_key: r.get(18)?,
        role: Role::from_i64(r.get(19)?),
        version: r.get(20)?,
    })
}

/// The status columns [`status_row`] reads, in its order, written once:
/// `$s` the statuses table's prefix, then the app's name and website (a join
/// for a read, subqueries for an INSERT's RETURNING, which sees only the new row).
macro_rules! status_columns {
    ($s:literal, $app_name:literal, $app_website:literal) => {
        $crate::core::sql::status_columns!(
            $s, $app_name, $app_website;
            id account_id text content spoiler_text sensitive visibility language
            in_reply_to_id in_reply_to_account_id reblog_of_id;
            replies_count reblogs_count favourites_count created_at edited_at version
        )
    };
    // The list: the status' own columns, the app's two, the status' again.
    ($s:literal, $app_name:literal, $app_website:literal; $($a:ident)*; $($b:ident)*) => {
        concat!(
            $($s, stringify!($a), ", ",)*
            $app_name, ", ", $app_website
            $(, ", ", $s, stringify!($b))*
        )
    };
}
pub(crate) use status_columns;

pub const STATUS_COLUMNS: &str = status_columns!("s.", "ap.name", "ap.website");

pub const STATUS_FROM: &str = "statuses s LEFT JOIN apps ap ON ap.id = s.app_id";

pub fn status_row(r: &Row) -> StoreResult<StatusRow> {
    Ok(StatusRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        text: r.get(2)?,
        content: r.get(3)?,
        spoiler_text: r.get(4)?,
        sensitive: r.get(5)?,
        visibility: Visibility::from_i64(r.get(6)?),
        language: r.get(7)?,
        in_reply_to_id: r.get(8)?,
        in_reply_to_account_id: r.get(9)?,
        reblog_of_id: r.get(10)?,
        app_name: r.get(11)?,
        app_website: r.get(12)?,
        replies_count: r.get(13)?,
        reblogs_count: r.get(14)?,
        favourites_count: r.get(15)?,
        created_at_ms: r.get(16)?,
        edited_at_ms: r.get(17)?,
        version: r.get(18)?,
    })
}

pub const MEDIA_COLUMNS: &str =
    "m.id, m.account_id, m.status_id, m.kind, m.description, m.focus_x, m.focus_y, \
    m.meta, m.blurhash, m.file_key, m.preview_key, m.created_at";

pub fn media_row(r: &Row) -> StoreResult<MediaRow> {
    let fx: Option<f64> = r.get(5)?;
    let fy: Option<f64> = r.get(6)?;
    Ok(MediaRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        status_id: r.get(2)?,
        kind: r.get(3)?,
        description: r.get(4)?,
        focus: fx.zip(fy),
        meta: r.get(7)?,
        blurhash: r.get(8)?,
        file_key: r.get(9)?,
        preview_key: r.get(10)?,
        created_at_ms: r.get(11)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_clause_binds_bounds_and_orders_min_id_ascending() {
        let p = Page {
            max_id: Some(10),
            since_id: Some(1),
            min_id: None,
            limit: 5,
        };
        let b = page_clause("x", p, 2);
        assert_eq!(b.sql, " AND x < ?2 AND x > ?3 ORDER BY x DESC LIMIT ?4");
        assert_eq!(b.values, vec![10, 1, 5]);
        assert!(!b.ascending);
        let p = Page {
            max_id: None,
            since_id: Some(1),
            min_id: Some(3),
            limit: 2,
        };
        let b = page_clause("x", p, 1);
        assert_eq!(b.sql, " AND x > ?1 ORDER BY x ASC LIMIT ?2");
        assert_eq!(b.values, vec![3, 2]);
        assert!(b.ascending);
    }

    #[test]
    fn like_prefix_escapes_wildcards() {
        assert_eq!(like_prefix("a_b%c\\"), "a\\_b\\%c\\\\%");
    }

    #[test]
    fn visibility_rule_takes_its_values_from_the_enum() {
        let rule = visible("s");
        assert!(rule.contains("s.visibility IN (0, 1)"));
        assert!(rule.contains("s.visibility = 2 AND"));
    }
}
