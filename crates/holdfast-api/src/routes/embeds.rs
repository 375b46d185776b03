//! `GET /api/oembed`: what other sites need to embed a status, found by
//! its URL on this server (public and unlisted statuses only; 404 otherwise).

use axum::extract::State;
use axum::Json;
use holdfast_store::Id;

use crate::entities::{OEmbed, Urls};
use crate::error::{ApiError, ApiResult};
use crate::params::{parse_id, Params};
use crate::AppState;

/// A status URL of this server, as `Urls` writes them (`/@name/id`), or
/// the ActivityPub-style `/users/name/statuses/id`: the username and id.
fn status_in_url(urls: &Urls, url: &str) -> Option<(String, Id)> {
    let path = url.strip_prefix(urls.base())?;
    let path = path.split(['?', '#']).next().unwrap_or("");
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let (name, id) = match parts.as_slice() {
        ["", at_name, id] => (at_name.strip_prefix('@')?, *id),
        ["", "users", name, "statuses", id] => (*name, *id),
        _ => return None,
    };
    Some((name.to_owned(), parse_id(id)?))
}

pub async fn show(State(state): State<AppState>, params: Params) -> ApiResult<Json<OEmbed>> {
    let url = params.str("url")?.unwrap_or_default();
    let width = params.u32("maxwidth")?;
    let height = params.u32("maxheight")?;
    let (username, id) = status_in_url(&state.urls, &url).ok_or_else(ApiError::not_found)?;
    let bundle = state.service.embeddable_status(&username, id).await?;
    let limits = state.service.limits();
    let html = crate::web::embed::status_html(&state.urls, &bundle);
    Ok(Json(OEmbed::new(
        &state.urls,
        &bundle,
        html,
        width.unwrap_or(limits.oembed_width_default),
        height,
        limits.oembed_cache_age_s,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_local_status_urls_only() {
        let urls = Urls::new(
            "https://example.test",
            std::sync::Arc::new(holdfast_service::rendered::RenderedNotes::new(1)),
        );
        assert_eq!(
            status_in_url(&urls, "https://example.test/@ann/123"),
            Some(("ann".into(), 123))
        );
        assert_eq!(
            status_in_url(&urls, "https://example.test/users/ann/statuses/123/"),
            Some(("ann".into(), 123))
        );
        assert_eq!(
            status_in_url(&urls, "https://elsewhere.test/@ann/123"),
            None
        );
        assert_eq!(status_in_url(&urls, "https://example.test/@ann/x1"), None);
        assert_eq!(status_in_url(&urls, "https://example.test/tags/ann"), None);
    }
}
