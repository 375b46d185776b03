//! Notification group keys, the way Mastodon makes them (its
//! `Notification::Groups#set_group_key!`): favourites and reblogs of one
//! status, and follows, made within a span of hours share one key. The key is
//! decided once, when the notification is written, so it never changes under
//! a client that has already seen it. Backend-neutral: each backend only
//! supplies the latest key with the same prefix.

use crate::model::{Id, NotificationType};

/// A group never spans more than this many hour buckets (Mastodon's
/// `MAXIMUM_GROUP_SPAN_HOURS`).
// fact: Mastodon's grouping rule, which clients rely on; not a tunable bound
pub const GROUP_SPAN_HOURS: i64 = 12;

// fact: an hour in milliseconds
const HOUR_MS: i64 = 3_600_000;

/// The types Mastodon groups (`GROUPABLE_NOTIFICATION_TYPES`).
pub const GROUPABLE: [NotificationType; 3] = [
    NotificationType::Favourite,
    NotificationType::Reblog,
    NotificationType::Follow,
];

/// `favourite-<status>`, `reblog-<status>`, `follow`; None for types that are never grouped.
pub fn prefix(kind: NotificationType, status: Option<Id>) -> Option<String> {
    match (kind, status) {
        (NotificationType::Favourite | NotificationType::Reblog, Some(s)) => {
            Some(format!("{}-{s}", kind.as_str()))
        }
        (NotificationType::Follow, _) => Some("follow".to_owned()),
        _ => None,
    }
}

/// The key for a new notification at `now_ms`: the previous group's key when
/// that group started less than `GROUP_SPAN_HOURS` ago, else a new bucket.
pub fn key(prefix: &str, now_ms: i64, previous: Option<&str>) -> String {
    let bucket = now_ms.div_euclid(HOUR_MS);
    let previous_bucket = previous.and_then(|k| {
        k.strip_prefix(prefix)?
            .strip_prefix('-')?
            .parse::<i64>()
            .ok()
    });
    let bucket = match previous_bucket {
        Some(p) if bucket < p + GROUP_SPAN_HOURS => p,
        _ => bucket,
    };
    format!("{prefix}-{bucket}")
}

/// The range of keys that start with `prefix-`: `[low, high)` in byte order
/// (`.` follows `-` in ASCII), so an index on the key finds them.
pub fn range(prefix: &str) -> (String, String) {
    (format!("{prefix}-"), format!("{prefix}."))
}

/// `ungrouped-<id>` names one notification; None for any other key.
pub fn ungrouped_id(key: &str) -> Option<Id> {
    let digits = key.strip_prefix("ungrouped-")?;
    // fact: an i64 has at most 19 decimal digits
    if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_reuse_a_recent_bucket_and_start_a_new_one_later() {
        let p = prefix(NotificationType::Favourite, Some(42)).unwrap();
        assert_eq!(p, "favourite-42");
        let first = key(&p, 10 * HOUR_MS + 5, None);
        assert_eq!(first, "favourite-42-10");
        assert_eq!(key(&p, 21 * HOUR_MS, Some(&first)), first);
        assert_eq!(key(&p, 22 * HOUR_MS, Some(&first)), "favourite-42-22");
        // A key of another prefix is never taken for ours.
        assert_eq!(
            key("follow", 5 * HOUR_MS, Some("favourite-1-5")),
            "follow-5"
        );
        assert!(prefix(NotificationType::Mention, Some(1)).is_none());
        assert!(prefix(NotificationType::FollowRequest, None).is_none());
    }

    #[test]
    fn ungrouped_keys() {
        assert_eq!(ungrouped_id("ungrouped-12"), Some(12));
        assert_eq!(ungrouped_id("ungrouped-"), None);
        assert_eq!(ungrouped_id("ungrouped--1"), None);
        assert_eq!(ungrouped_id("follow-12"), None);
    }
}
