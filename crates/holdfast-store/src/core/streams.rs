//! What a live stream asks once per event instead of once per subscriber.

use super::{args, sql, Conn};
use crate::model::*;
use crate::StoreResult;

/// The accounts from whose public and hashtag timelines `author`'s public
/// posts are left out although anyone else sees them: the viewer blocks the
/// author, the author blocks the viewer (`sql::visible`), or the viewer mutes
/// the author and the mute is in force (`sql::not_filtered`). At most `max`
/// of them; `None` when there are more (the caller then asks per viewer).
pub async fn hiders(c: &dyn Conn, author: Id, max: usize) -> StoreResult<Option<Vec<Id>>> {
    let rows = c
        .query(
            &format!(
                "SELECT b.account_id FROM blocks b WHERE b.target_id = ?1 \
                 UNION SELECT b.target_id FROM blocks b WHERE b.account_id = ?1 \
                 UNION SELECT m.account_id FROM mutes m WHERE m.target_id = ?1 AND {} \
                 LIMIT ?2",
                sql::mute_in_force("m")
            ),
            &args![
                author,
                i64::try_from(max).unwrap_or(i64::MAX).saturating_add(1)
            ],
        )
        .await?;
    if rows.len() > max {
        return Ok(None);
    }
    rows.iter()
        .map(|r| r.get(0))
        .collect::<StoreResult<Vec<Id>>>()
        .map(Some)
}
