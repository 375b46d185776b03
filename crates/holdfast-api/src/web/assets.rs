//! The web UI's only static files, built into the binary: one stylesheet and
//! one script. Their URLs carry a hash of their content, so they can be cached
//! for a year and a new build is fetched at once.

use std::sync::LazyLock;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::layout::WebError;
use crate::AppState;

const STYLE: &str = include_str!("style.css");
const SCRIPT: &str = include_str!("enhance.js");

pub static STYLE_URL: LazyLock<String> =
    LazyLock::new(|| format!("/assets/style-{:016x}.css", content_hash(STYLE.as_bytes())));
pub static SCRIPT_URL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "/assets/enhance-{:016x}.js",
        content_hash(SCRIPT.as_bytes())
    )
});

/// FNV-1a, 64 bits: enough to tell builds apart, not a security measure.
const fn content_hash(bytes: &[u8]) -> u64 {
    // fact: the FNV-1a 64-bit offset basis and prime
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// `GET /assets/{file}`: only the current names answer; an old hash is 404,
/// so a stale page never gets a mismatched file under a year-long cache.
pub async fn serve(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let path = format!("/assets/{file}");
    let (body, content_type) = if path == *STYLE_URL {
        (STYLE, "text/css; charset=utf-8")
    } else if path == *SCRIPT_URL {
        (SCRIPT, "text/javascript; charset=utf-8")
    } else {
        return WebError::not_found().into_response();
    };
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let cache = format!(
        "public, max-age={}, immutable",
        state.service.limits().web_assets_max_age_s
    );
    if let Ok(v) = HeaderValue::from_str(&cache) {
        h.insert(header::CACHE_CONTROL, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_change_with_the_content() {
        assert_ne!(content_hash(b"a{}"), content_hash(b"b{}"));
        assert!(STYLE_URL.starts_with("/assets/style-") && STYLE_URL.ends_with(".css"));
        assert!(SCRIPT_URL.ends_with(".js"));
    }
}
