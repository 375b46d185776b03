//! What a request is, as far as the guard cares: its priority class and
//! which extra budget (sign-up, log-in, search, delete) it spends. Decided
//! from the method, path and query alone, before any handler runs.

use axum::http::{Method, Uri};

use crate::admission::Class;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    Signup,
    Login,
    Search,
    Delete,
}

/// Operator endpoints are never shed (they are how you see a flood); only
/// the ones that cost something have a budget (see `is_free_ops`).
pub fn is_ops(path: &str) -> bool {
    matches!(
        path,
        "/healthz" | "/readyz" | "/metrics" | "/status" | "/status.json"
    )
}

/// `/healthz` answers from memory: no budget, so a load balancer polling it
/// from one address never locks itself out.
pub fn is_free_ops(path: &str) -> bool {
    path == "/healthz"
}

/// The streaming API (and the web UI's live home, the same stream): long-lived
/// responses that must not hold an admission slot (or be cached); they are
/// rate-limited like any request and counted by the event hub's own
/// connection caps instead.
pub fn is_streaming(path: &str) -> bool {
    path == "/api/v1/streaming"
        || path == "/home/live"
        || path
            .strip_prefix("/api/v1/streaming")
            .is_some_and(|rest| rest.starts_with('/'))
}

pub fn special(method: &Method, path: &str) -> Option<Special> {
    match (method, path) {
        (&Method::POST, "/api/v1/accounts") => Some(Special::Signup),
        (&Method::POST, "/oauth/token")
        | (&Method::POST, "/oauth/authorize")
        | (&Method::POST, "/oauth/authorize/") => Some(Special::Login),
        (_, "/api/v2/search") | (_, "/api/v1/accounts/search") => Some(Special::Search),
        // The web UI's forms spend the same budgets as the API's (web, issue 13).
        (&Method::POST, "/auth/sign_up") => Some(Special::Signup),
        (&Method::POST, "/auth/sign_in") => Some(Special::Login),
        (&Method::GET, "/search") => Some(Special::Search),
        (&Method::DELETE, p) if p.starts_with("/api/v1/statuses/") => Some(Special::Delete),
        _ => None,
    }
}

pub fn class(method: &Method, uri: &Uri, has_token: bool, deep_page_floor_id: i64) -> Class {
    if matches!(
        special(method, uri.path()),
        Some(Special::Signup | Special::Login | Special::Search)
    ) {
        return Class::Expensive;
    }
    if is_deep_page(uri, deep_page_floor_id) {
        return Class::Expensive;
    }
    if has_token {
        Class::Interactive
    } else {
        Class::Anonymous
    }
}

/// An upload: decoding it is expensive work, and it spends the per-principal
/// upload budget (Mastodon: 30 per 30 minutes). Media uploads always; profile
/// updates only when they carry files (multipart).
pub fn is_upload(method: &Method, path: &str, content_type: Option<&str>) -> bool {
    match (method, path) {
        (&Method::POST, "/api/v1/media") | (&Method::POST, "/api/v2/media") => true,
        (&Method::PATCH, "/api/v1/accounts/update_credentials") => is_multipart(content_type),
        // A new thumbnail for an upload.
        (&Method::PUT, p) if p.starts_with("/api/v1/media/") => is_multipart(content_type),
        _ => false,
    }
}

/// A media file (`/system/media/<key>`): served without an API rate budget.
pub fn is_media_file(path: &str) -> bool {
    path.starts_with("/system/media/")
}

fn is_multipart(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|c| {
        c.trim_start()
            .to_ascii_lowercase()
            .starts_with("multipart/")
    })
}

/// Paging back past `floor_id` (an id older than the deep-page age) reads cold data.
fn is_deep_page(uri: &Uri, floor_id: i64) -> bool {
    uri.query().is_some_and(|q| {
        q.split('&').any(|pair| {
            pair.strip_prefix("max_id=")
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|id| id < floor_id)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let uri = |s: &str| s.parse::<Uri>().unwrap();
        assert_eq!(
            class(&Method::GET, &uri("/api/v1/timelines/home"), true, 0),
            Class::Interactive
        );
        assert_eq!(
            class(&Method::GET, &uri("/api/v1/timelines/public"), false, 0),
            Class::Anonymous
        );
        assert_eq!(
            class(&Method::GET, &uri("/api/v2/search?q=x"), true, 0),
            Class::Expensive
        );
        assert_eq!(
            class(&Method::POST, &uri("/oauth/token"), false, 0),
            Class::Expensive
        );
        assert_eq!(
            class(
                &Method::GET,
                &uri("/api/v1/timelines/home?max_id=5"),
                true,
                100
            ),
            Class::Expensive
        );
        assert_eq!(
            class(
                &Method::GET,
                &uri("/api/v1/timelines/home?max_id=500"),
                true,
                100
            ),
            Class::Interactive
        );
        assert_eq!(
            special(&Method::DELETE, "/api/v1/statuses/1"),
            Some(Special::Delete)
        );
        assert_eq!(
            class(&Method::POST, &uri("/auth/sign_in"), false, 0),
            Class::Expensive
        );
        assert_eq!(
            special(&Method::POST, "/auth/sign_up"),
            Some(Special::Signup)
        );
        assert!(is_ops("/metrics"));
        assert!(is_streaming("/api/v1/streaming"));
        assert!(is_streaming("/api/v1/streaming/user"));
        assert!(is_streaming("/home/live"));
        assert!(!is_streaming("/api/v1/streamingx"));
        assert!(is_upload(&Method::POST, "/api/v2/media", None));
        assert!(is_media_file("/system/media/ab-small.jpg"));
        assert!(!is_media_file("/api/v1/media/1"));
        assert!(!is_upload(&Method::GET, "/api/v1/media/5", None));
        assert!(is_upload(
            &Method::PUT,
            "/api/v1/media/5",
            Some("multipart/form-data; boundary=x")
        ));
        assert!(!is_upload(
            &Method::PUT,
            "/api/v1/media/5",
            Some("application/json")
        ));
        assert!(is_upload(
            &Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some("multipart/form-data; boundary=x")
        ));
        assert!(!is_upload(
            &Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some("application/json")
        ));
    }
}
