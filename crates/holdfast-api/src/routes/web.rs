//! The web pages a person with only a browser sees. For now: the front page
//! with the public timeline; the full web UI grows here.

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use holdfast_service::lists::Timeline;
use holdfast_service::text::escape;
use holdfast_service::PageRequest;

use super::helpers::STYLE;
use crate::entities::iso8601;
use crate::error::ApiResult;
use crate::AppState;

pub async fn home(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    let svc = &state.service;
    let page = svc
        .timeline(
            None,
            Timeline::Public { only_media: false },
            PageRequest {
                limit: Some(svc.limits().web_statuses_page),
                ..Default::default()
            },
        )
        .await?;
    let mut posts_html = String::new();
    for b in &page.items {
        let s = &b.status;
        let name = if b.account.display_name.is_empty() {
            &b.account.username
        } else {
            &b.account.display_name
        };
        // Rendered from escaped segments when it was posted (text::render_html).
        let content_html = &s.content;
        let body_html = if s.spoiler_text.is_empty() {
            content_html.clone()
        } else {
            format!(
                "<details><summary>{}</summary>{content_html}</details>",
                escape(&s.spoiler_text),
            )
        };
        // Pictures: the preview, linking to the full size, with the author's description as alt text.
        let mut pictures_html = String::new();
        for m in &b.media {
            pictures_html += &format!(
                "<a href=\"{}\"><img src=\"{}\" alt=\"{}\" loading=\"lazy\"></a>",
                escape(&svc.media_url(&m.file_key)),
                escape(&svc.media_url(&m.preview_key)),
                escape(m.description.as_deref().unwrap_or("")),
            );
        }
        if !pictures_html.is_empty() {
            pictures_html = format!("<div class=\"media\">{pictures_html}</div>");
        }
        posts_html += &format!(
            "<article><div class=\"meta\"><strong>{}</strong> @{} · <time datetime=\"{t}\">{t}</time></div>{body_html}{pictures_html}</article>",
            escape(name),
            escape(&b.account.username),
            t = escape(&iso8601(s.created_at_ms)),
        );
    }
    if posts_html.is_empty() {
        posts_html = "<p>Nothing posted yet.</p>".into();
    }
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{domain} · holdfast</title><style>{STYLE}</style></head><body><main><h1>{domain}</h1>\
         <p>A holdfast server. Sign in with any Mastodon app (Tusky, Elk, toot, …) using this server's address.</p>\
         <h2>Public timeline</h2>{posts_html}</main></body></html>",
        domain = escape(&svc.config.domain),
    );
    Ok(Html(html))
}

pub async fn missing_image(State(state): State<AppState>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/png".to_owned()),
            (
                header::CACHE_CONTROL,
                format!(
                    "public, max-age={}",
                    state.service.limits().web_static_max_age_s
                ),
            ),
        ],
        include_bytes!("missing.png").as_slice(),
    )
}
