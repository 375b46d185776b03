//! The instance's blocks, by domain and by address: one table per kind, one
//! code path for both. What differs per kind is said once, in [`table`] (its
//! name, key and columns, and which of its blocks are in force), [`row`]
//! (reading one) and the two statements that write its columns ([`insert`],
//! [`write`]).
//!
//! Every change writes its audit entry in the same transaction (see
//! `moderation::record`).

use super::moderation::{record, record_change};
use super::sql;
use super::{args, Arg, Conn, Row};
use crate::ids::now_ms;
use crate::model::*;
use crate::{StoreError, StoreResult};

/// What a kind of block is stored as. Every name here is a constant, never input.
struct Table {
    name: &'static str,
    /// The unique column a block is keyed by; a second block of the same key
    /// is a conflict named after it.
    key: &'static str,
    /// The columns [`row`] reads, qualified by the alias `b`.
    columns: &'static str,
    /// For a kind whose blocks can end: true of a block in force. An ended
    /// block is gone for every reader but the answer to the write that made it.
    ends: Option<&'static str>,
    too_many: &'static str,
}

impl Table {
    /// True of a block in force.
    fn live(&self) -> &'static str {
        self.ends.unwrap_or("TRUE")
    }
}

fn table(kind: BlockKind) -> Table {
    match kind {
        BlockKind::Domain => Table {
            name: "instance_domain_blocks",
            key: "domain",
            columns: "b.id, b.domain, b.severity, b.reject_media, b.reject_reports, \
                      b.private_comment, b.public_comment, b.obfuscate, b.created_at",
            ends: None,
            too_many: "too many domain blocks",
        },
        BlockKind::Ip => Table {
            name: "ip_blocks",
            key: "ip",
            columns: "b.id, b.ip, b.severity, b.comment, b.created_at, b.expires_at",
            ends: Some("(b.expires_at IS NULL OR b.expires_at > holdfast_now_ms())"),
            too_many: "too many IP blocks",
        },
    }
}

fn row(kind: BlockKind, r: &Row) -> StoreResult<BlockRow> {
    Ok(match kind {
        BlockKind::Domain => BlockRow::Domain(DomainBlockRow {
            id: r.get(0)?,
            domain: r.get(1)?,
            severity: r.get(2)?,
            reject_media: r.get(3)?,
            reject_reports: r.get(4)?,
            private_comment: r.get(5)?,
            public_comment: r.get(6)?,
            obfuscate: r.get(7)?,
            created_at_ms: r.get(8)?,
        }),
        BlockKind::Ip => BlockRow::Ip(IpBlockRow {
            id: r.get(0)?,
            ip: r.get(1)?,
            severity: r.get(2)?,
            comment: r.get(3)?,
            created_at_ms: r.get(4)?,
            expires_at_ms: r.get(5)?,
        }),
    })
}

/// Inserts the block unless its key is blocked already: its new id, or None.
async fn insert(c: &dyn Conn, b: &BlockInput) -> StoreResult<Option<Id>> {
    let row = match b {
        BlockInput::Domain(b) => {
            c.query_opt(
                "INSERT INTO instance_domain_blocks (id, domain, severity, reject_media, \
                 reject_reports, private_comment, public_comment, obfuscate, created_at) \
                 VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT (domain) DO NOTHING RETURNING id",
                &args![
                    &b.domain,
                    &b.severity,
                    b.reject_media,
                    b.reject_reports,
                    b.private_comment.as_deref(),
                    b.public_comment.as_deref(),
                    b.obfuscate,
                    now_ms()
                ],
            )
            .await?
        }
        BlockInput::Ip(b) => {
            c.query_opt(
                "INSERT INTO ip_blocks (id, ip, severity, comment, created_at, expires_at) \
                 VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (ip) DO NOTHING RETURNING id",
                &args![&b.ip, &b.severity, &b.comment, now_ms(), b.expires_at_ms],
            )
            .await?
        }
    };
    row.map(|r| r.get(0)).transpose()
}

/// Writes the block's columns over block `id`: how many rows changed. A
/// domain block keeps its domain; an address block may move.
async fn write(c: &dyn Conn, id: Id, b: &BlockInput) -> StoreResult<u64> {
    match b {
        BlockInput::Domain(b) => {
            c.execute(
                "UPDATE instance_domain_blocks SET severity = ?2, reject_media = ?3, \
                 reject_reports = ?4, private_comment = ?5, public_comment = ?6, obfuscate = ?7 \
                 WHERE id = ?1",
                &args![
                    id,
                    &b.severity,
                    b.reject_media,
                    b.reject_reports,
                    b.private_comment.as_deref(),
                    b.public_comment.as_deref(),
                    b.obfuscate
                ],
            )
            .await
        }
        BlockInput::Ip(b) => {
            c.execute(
                "UPDATE ip_blocks SET ip = ?2, severity = ?3, comment = ?4, expires_at = ?5 \
                 WHERE id = ?1",
                &args![id, &b.ip, &b.severity, &b.comment, b.expires_at_ms],
            )
            .await
        }
    }
}

/// Conflict if the key is blocked already; Rejected past `max` blocks in force.
pub async fn create(
    c: &dyn Conn,
    b: &BlockInput,
    max: u32,
    audit: &NewAudit,
) -> StoreResult<BlockRow> {
    let kind = b.kind();
    let t = table(kind);
    if let Some(live) = t.ends {
        // Ended blocks go first, so they do not count against the bound.
        c.execute(
            &format!(
                "DELETE FROM {name} WHERE id IN (SELECT b.id FROM {name} b WHERE NOT {live})",
                name = t.name
            ),
            &[],
        )
        .await?;
    }
    let count: i64 = c
        .query_one(&format!("SELECT COUNT(*) FROM {}", t.name), &[])
        .await?
        .get(0)?;
    if count >= max as i64 {
        return Err(StoreError::Rejected(t.too_many));
    }
    let id = insert(c, b).await?.ok_or(StoreError::Conflict(t.key))?;
    record(
        c,
        &NewAudit {
            target_id: Some(id),
            ..audit.clone()
        },
    )
    .await?;
    as_written(c, kind, id).await
}

/// A block in force; an ended one is NotFound.
pub async fn get(c: &dyn Conn, kind: BlockKind, id: Id) -> StoreResult<BlockRow> {
    let t = table(kind);
    let r = c
        .query_one(
            &format!(
                "SELECT {} FROM {} b WHERE b.id = ?1 AND {}",
                t.columns,
                t.name,
                t.live()
            ),
            &args![id],
        )
        .await?;
    row(kind, &r)
}

/// The block as written, ended or not (the answer to a create or update).
async fn as_written(c: &dyn Conn, kind: BlockKind, id: Id) -> StoreResult<BlockRow> {
    let t = table(kind);
    let r = c
        .query_one(
            &format!("SELECT {} FROM {} b WHERE b.id = ?1", t.columns, t.name),
            &args![id],
        )
        .await?;
    row(kind, &r)
}

/// The blocks in force, paged by id.
pub async fn page(c: &dyn Conn, kind: BlockKind, page: Page) -> StoreResult<Vec<Paged<BlockRow>>> {
    let t = table(kind);
    sql::paged_rows(
        c,
        &format!(
            "SELECT b.id, {} FROM {} b WHERE {}",
            t.columns,
            t.name,
            t.live()
        ),
        "b.id",
        &[],
        page,
        |r| row(kind, &Row(r.0[1..].to_vec())),
    )
    .await
}

/// Every block in force (at most `limit`), oldest first, for the service to
/// match against.
pub async fn live(c: &dyn Conn, kind: BlockKind, limit: u32) -> StoreResult<Vec<BlockRow>> {
    let t = table(kind);
    c.query(
        &format!(
            "SELECT {} FROM {} b WHERE {} ORDER BY b.id LIMIT ?1",
            t.columns,
            t.name,
            t.live()
        ),
        &args![limit],
    )
    .await?
    .iter()
    .map(|r| row(kind, r))
    .collect()
}

pub async fn update(
    c: &dyn Conn,
    id: Id,
    b: &BlockInput,
    audit: &NewAudit,
) -> StoreResult<BlockRow> {
    let changed = write(c, id, b).await?;
    record_change(c, changed, audit).await?;
    as_written(c, b.kind(), id).await
}

/// Removes a block in force; the audit entry names what it blocked.
pub async fn delete(c: &dyn Conn, kind: BlockKind, id: Id, audit: &NewAudit) -> StoreResult<()> {
    let b = get(c, kind, id).await?;
    c.execute(
        &format!("DELETE FROM {} WHERE id = ?1", table(kind).name),
        &args![id],
    )
    .await?;
    record(
        c,
        &NewAudit {
            target_name: b.key().to_owned(),
            ..audit.clone()
        },
    )
    .await
}

/// Whether `domain` or a domain it is under is blocked (at any severity).
pub async fn domain_blocked(c: &dyn Conn, domain: &str) -> StoreResult<bool> {
    let domain = domain.to_lowercase();
    let mut candidates: Vec<String> = Vec::new();
    let mut rest = domain.as_str();
    loop {
        candidates.push(rest.to_owned());
        match rest.split_once('.') {
            Some((_, parent)) if parent.contains('.') => rest = parent,
            _ => break,
        }
    }
    Ok(c.query_opt(
        &format!(
            "SELECT 1 FROM instance_domain_blocks WHERE {}",
            c.dialect().in_texts("domain", 1)
        ),
        &[Arg::Texts(&candidates)],
    )
    .await?
    .is_some())
}
