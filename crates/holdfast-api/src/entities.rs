//! Mastodon's JSON entities (content/en/entities in the Mastodon docs),
//! built from store rows. Only this module decides how things look on the wire.

use holdfast_service::lists::{NotificationView, SearchResults};
use holdfast_service::notification_groups::GroupedNotifications;
use holdfast_service::Service;
use holdfast_store::{
    AccountRow, Marker, MediaRow, PushSubscriptionRow, Relationship, StatusBundle, TagRow,
};
use serde_json::{json, Value};

pub use holdfast_config::time::{date_only, iso8601};

pub fn avatar_url(svc: &Service) -> String {
    format!("{}/avatars/original/missing.png", svc.base_url)
}

pub fn header_url(svc: &Service) -> String {
    format!("{}/headers/original/missing.png", svc.base_url)
}

pub fn account(svc: &Service, a: &AccountRow) -> Value {
    let url = svc.account_url(&a.username);
    let avatar = match &a.avatar_key {
        Some(key) => svc.media_url(key),
        None => avatar_url(svc),
    };
    let header = match &a.header_key {
        Some(key) => svc.media_url(key),
        None => header_url(svc),
    };
    json!({
        "id": a.id.to_string(),
        "username": a.username,
        "acct": a.username,
        "display_name": a.display_name,
        "locked": a.locked,
        "bot": a.bot,
        "discoverable": a.discoverable,
        "indexable": a.discoverable,
        "group": false,
        "noindex": false,
        "hide_collections": false,
        "created_at": iso8601(a.created_at_ms - a.created_at_ms.rem_euclid(86_400_000)),
        "note": svc.note_html(&a.note),
        "url": url,
        "uri": url,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": a.followers_count,
        "following_count": a.following_count,
        "statuses_count": a.statuses_count,
        "last_status_at": a.last_status_at_ms.map(date_only),
        "emojis": [],
        "fields": [],
        "roles": [],
    })
}

/// The caller's own account, with `source` (what they typed) for editing.
pub fn credential_account(svc: &Service, a: &AccountRow) -> Value {
    let mut v = account(svc, a);
    v["source"] = json!({
        "privacy": a.default_visibility.as_str(),
        "sensitive": a.default_sensitive,
        "language": a.default_language,
        "note": a.note,
        "fields": [],
        "follow_requests_count": 0,
        "hide_collections": false,
        "discoverable": a.discoverable,
        "indexable": a.discoverable,
    });
    v["role"] =
        json!({"id": "-99", "name": "", "permissions": "0", "color": "", "highlighted": false});
    v
}

pub fn status(svc: &Service, b: &StatusBundle) -> Value {
    let s = &b.status;
    let url = svc.status_url(&b.account.username, s.id);
    json!({
        "id": s.id.to_string(),
        "created_at": iso8601(s.created_at_ms),
        "edited_at": null,
        "in_reply_to_id": s.in_reply_to_id.map(|i| i.to_string()),
        "in_reply_to_account_id": s.in_reply_to_account_id.map(|i| i.to_string()),
        "sensitive": s.sensitive,
        "spoiler_text": s.spoiler_text,
        "visibility": s.visibility.as_str(),
        "language": s.language,
        "uri": url,
        "url": url,
        "replies_count": s.replies_count,
        "reblogs_count": s.reblogs_count,
        "favourites_count": s.favourites_count,
        "favourited": b.favourited,
        "reblogged": b.reblogged,
        "muted": b.muted,
        "bookmarked": b.bookmarked,
        "pinned": false,
        "content": s.content,
        "filtered": [],
        "reblog": b.reblog.as_deref().map(|r| status(svc, r)),
        "application": s.app_name.as_ref().map(|name| json!({"name": name, "website": s.app_website})),
        "account": account(svc, &b.account),
        "media_attachments": b.media.iter().map(|m| media_attachment(svc, m)).collect::<Vec<_>>(),
        "mentions": b.mentions.iter().map(|m| json!({
            "id": m.id.to_string(),
            "username": m.username,
            "url": svc.account_url(&m.username),
            "acct": m.username,
        })).collect::<Vec<_>>(),
        "tags": b.tags.iter().map(|t| json!({"id": t.id.to_string(), "name": t.name, "url": format!("{}/tags/{}", svc.base_url, t.name)})).collect::<Vec<_>>(),
        "emojis": [],
        "card": null,
        "poll": null,
    })
}

/// Mastodon's MediaAttachment. `meta` is what processing measured, plus `focus`.
pub fn media_attachment(svc: &Service, m: &MediaRow) -> Value {
    let mut meta: Value = serde_json::from_str(&m.meta).unwrap_or_else(|_| json!({}));
    if let (Some((x, y)), Value::Object(o)) = (m.focus, &mut meta) {
        o.insert("focus".into(), json!({"x": x, "y": y}));
    }
    json!({
        "id": m.id.to_string(),
        "type": m.kind,
        "url": svc.media_url(&m.file_key),
        "preview_url": svc.media_url(&m.preview_key),
        "remote_url": null,
        "preview_remote_url": null,
        "text_url": null,
        "meta": meta,
        "description": m.description,
        "blurhash": m.blurhash,
    })
}

/// A deleted status, with its source text so a client can offer "delete and redraft".
pub fn deleted_status(svc: &Service, b: &StatusBundle) -> Value {
    let mut v = status(svc, b);
    v["text"] = json!(b.status.text);
    v
}

pub fn relationship(r: &Relationship) -> Value {
    json!({
        "id": r.id.to_string(),
        "following": r.following,
        "showing_reblogs": r.showing_reblogs,
        "notifying": r.notifying,
        "languages": null,
        "followed_by": r.followed_by,
        "blocking": r.blocking,
        "blocked_by": r.blocked_by,
        "muting": r.muting,
        "muting_notifications": r.muting_notifications,
        "requested": r.requested,
        "requested_by": r.requested_by,
        "domain_blocking": false,
        "endorsed": r.endorsed,
        "note": r.note,
    })
}

pub fn notification(svc: &Service, n: &NotificationView) -> Value {
    let mut v = json!({
        "id": n.row.id.to_string(),
        "type": n.row.kind.as_str(),
        "created_at": iso8601(n.row.created_at_ms),
        "group_key": n.row.group_key.clone().unwrap_or_else(|| format!("ungrouped-{}", n.row.id)),
        "account": account(svc, &n.account),
    });
    if let Some(s) = &n.status {
        v["status"] = status(svc, s);
    }
    v
}

pub fn tag(svc: &Service, t: &TagRow) -> Value {
    json!({
        // A name nobody has used yet has no id; Mastodon renders it as "".
        "id": t.id.map(|i| i.to_string()).unwrap_or_default(),
        "name": t.name,
        "url": format!("{}/tags/{}", svc.base_url, t.name),
        "history": [],
        "following": false,
    })
}

pub fn search(svc: &Service, r: &SearchResults) -> Value {
    json!({
        "accounts": r.accounts.iter().map(|a| account(svc, a)).collect::<Vec<_>>(),
        "statuses": r.statuses.iter().map(|s| status(svc, s)).collect::<Vec<_>>(),
        "hashtags": r.hashtags.iter().map(|t| tag(svc, t)).collect::<Vec<_>>(),
    })
}

pub fn markers(list: &[Marker]) -> Value {
    let mut out = serde_json::Map::new();
    for m in list {
        out.insert(
            m.timeline.clone(),
            json!({"last_read_id": m.last_read_id.to_string(), "version": m.version, "updated_at": iso8601(m.updated_at_ms)}),
        );
    }
    Value::Object(out)
}

/// Mastodon's `PartialAccountWithAvatar`: enough to draw an avatar.
pub fn partial_account(svc: &Service, a: &AccountRow) -> Value {
    let avatar = avatar_url(svc);
    json!({
        "id": a.id.to_string(),
        "acct": a.username,
        "locked": a.locked,
        "bot": a.bot,
        "url": svc.account_url(&a.username),
        "avatar": avatar,
        "avatar_static": avatar,
    })
}

/// Mastodon's `GroupedNotificationsResults`. Ids are strings, as the entity
/// documents (`most_recent_notification_id` too: our ids exceed 2^53).
pub fn grouped_notifications(svc: &Service, g: &GroupedNotifications, partial: bool) -> Value {
    let groups: Vec<Value> = g
        .groups
        .iter()
        .map(|n| {
            let mut v = json!({
                "group_key": n.group_key,
                "notifications_count": n.count,
                "type": n.kind.as_str(),
                "most_recent_notification_id": n.most_recent_id.to_string(),
                "sample_account_ids": n.sample_account_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>(),
            });
            if let Some(p) = &n.page {
                v["page_min_id"] = json!(p.min_id.to_string());
                v["page_max_id"] = json!(p.max_id.to_string());
                v["latest_page_notification_at"] = json!(iso8601(p.latest_at_ms));
            }
            if let Some(s) = n.status_id {
                v["status_id"] = json!(s.to_string());
            }
            v
        })
        .collect();
    let mut out = json!({
        "accounts": g.accounts.iter().map(|a| account(svc, a)).collect::<Vec<_>>(),
        "statuses": g.statuses.iter().map(|s| status(svc, s)).collect::<Vec<_>>(),
        "notification_groups": groups,
    });
    if partial {
        out["partial_accounts"] = Value::Array(
            g.partial_accounts
                .iter()
                .map(|a| partial_account(svc, a))
                .collect(),
        );
    }
    out
}

/// Mastodon's WebPushSubscription. `standard` is true: holdfast sends RFC
/// 8291 (`aes128gcm`) messages only, never the legacy `aesgcm` draft.
pub fn web_push_subscription(row: &PushSubscriptionRow, server_key: &str) -> Value {
    let alerts: serde_json::Map<String, Value> = holdfast_service::push::ALERT_TYPES
        .iter()
        .map(|t| {
            (
                (*t).to_owned(),
                Value::Bool(holdfast_service::push::alert_on(row, t)),
            )
        })
        .collect();
    json!({
        "id": row.id.to_string(),
        "endpoint": row.endpoint,
        "standard": true,
        "alerts": alerts,
        "policy": row.alerts.policy,
        "server_key": server_key,
    })
}
