//! Finding people, from the local follow graph: the directory, follow
//! suggestions, and which of the accounts one follows also follow another
//! (familiar followers). Only approved, unsuspended accounts are found.

use super::sql::account_columns;
use super::{args, sql, Arg, Conn};
use crate::model::*;
use crate::StoreResult;

/// Accounts that chose to be found (`discoverable`), most recently posting
/// first (`active`) or newest first.
pub async fn directory(
    c: &dyn Conn,
    order: DirectoryOrder,
    limit: u32,
    offset: u32,
) -> StoreResult<Vec<AccountRow>> {
    let order_by = match order {
        DirectoryOrder::Active => "a.last_status_at IS NULL, a.last_status_at DESC, a.id DESC",
        DirectoryOrder::New => "a.id DESC",
    };
    c.query(
        &format!(
            "SELECT {} FROM accounts a WHERE a.discoverable AND NOT a.suspended AND a.approved \
             ORDER BY {order_by} LIMIT ?1 OFFSET ?2",
            account_columns()
        ),
        &args![limit, offset],
    )
    .await?
    .iter()
    .map(sql::account_row)
    .collect()
}

/// Who `me` might follow: accounts that the accounts `me` follows follow
/// (most such followers first), then the most followed discoverable
/// accounts; never `me`, an account `me` follows or asked to follow, blocks
/// (either way), mutes or dismissed.
pub async fn suggestions(c: &dyn Conn, me: Id, limit: u32) -> StoreResult<Vec<Suggestion>> {
    let eligible = "a.id <> ?1 AND NOT a.suspended AND a.approved \
        AND NOT EXISTS (SELECT 1 FROM follows x WHERE x.account_id = ?1 AND x.target_id = a.id) \
        AND NOT EXISTS (SELECT 1 FROM follow_requests x WHERE x.account_id = ?1 AND x.target_id = a.id) \
        AND NOT EXISTS (SELECT 1 FROM blocks x WHERE (x.account_id = ?1 AND x.target_id = a.id) \
                                                  OR (x.account_id = a.id AND x.target_id = ?1)) \
        AND NOT EXISTS (SELECT 1 FROM mutes x WHERE x.account_id = ?1 AND x.target_id = a.id) \
        AND NOT EXISTS (SELECT 1 FROM suggestion_dismissals x WHERE x.account_id = ?1 AND x.target_id = a.id)";
    let mut out: Vec<Suggestion> = c
        .query(
            &format!(
                "SELECT a.id FROM follows mine JOIN follows theirs ON theirs.account_id = mine.target_id \
                 JOIN accounts a ON a.id = theirs.target_id \
                 WHERE mine.account_id = ?1 AND {eligible} \
                 GROUP BY a.id ORDER BY COUNT(*) DESC, a.id DESC LIMIT ?2"
            ),
            &args![me, limit],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Suggestion {
                account_id: r.get(0)?,
                source: SuggestionSource::FriendsOfFriends,
            })
        })
        .collect::<StoreResult<_>>()?;
    let room = limit.saturating_sub(out.len() as u32);
    if room > 0 {
        let taken: Vec<Id> = out.iter().map(|s| s.account_id).collect();
        let popular = c
            .query(
                &format!(
                    "SELECT a.id FROM accounts a WHERE a.discoverable AND {eligible} AND NOT {} \
                     ORDER BY a.followers_count DESC, a.id DESC LIMIT ?3",
                    c.dialect().in_ids("a.id", 2)
                ),
                &[Arg::Int(me), Arg::Ids(&taken), Arg::Int(room as i64)],
            )
            .await?;
        for r in &popular {
            out.push(Suggestion {
                account_id: r.get(0)?,
                source: SuggestionSource::MostFollowed,
            });
        }
    }
    Ok(out)
}

/// For each of `targets`: at most `each_max` accounts `me` follows that follow it.
pub async fn familiar_followers(
    c: &dyn Conn,
    me: Id,
    targets: &[Id],
    each_max: u32,
) -> StoreResult<Vec<(Id, Vec<Id>)>> {
    let mut out = Vec::with_capacity(targets.len());
    for &target in targets {
        let ids = c
            .query(
                "SELECT f.account_id FROM follows mine JOIN follows f ON f.account_id = mine.target_id \
                 JOIN accounts a ON a.id = f.account_id \
                 WHERE mine.account_id = ?1 AND f.target_id = ?2 AND NOT a.suspended \
                 ORDER BY f.id DESC LIMIT ?3",
                &args![me, target, each_max],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect::<StoreResult<Vec<Id>>>()?;
        out.push((target, ids));
    }
    Ok(out)
}

/// `target` is not suggested to `me` again (dismissing twice is no error).
pub async fn dismiss(c: &dyn Conn, me: Id, target: Id) -> StoreResult<()> {
    c.execute(
        "INSERT INTO suggestion_dismissals (account_id, target_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        &args![me, target],
    )
    .await?;
    Ok(())
}
